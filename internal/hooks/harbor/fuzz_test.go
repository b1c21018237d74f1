package harbor

import (
	"encoding/json"
	"slices"
	"testing"
)

// FuzzHarborPolicy decodes arbitrary answers as a policy: the URL is the
// first http target's address, events are sorted.
func FuzzHarborPolicy(f *testing.F) {
	f.Add([]byte(`{"id":4,"name":"n","enabled":true,"event_types":["PUSH_ARTIFACT","DELETE_ARTIFACT"],"targets":[{"type":"slack","address":"s"},{"type":"http","address":"h"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p policy
		if json.Unmarshal(b, &p) != nil {
			return
		}
		h := p.toHook()
		want := ""
		for _, tg := range p.Targets {
			if tg.Type == "http" {
				want = tg.Address
				break
			}
		}
		if h.URL != want || !slices.IsSorted(h.Events) || h.Active != p.Enabled || h.Description != p.Name {
			t.Fatalf("policy %+v -> hook %+v", p, h)
		}
	})
}
