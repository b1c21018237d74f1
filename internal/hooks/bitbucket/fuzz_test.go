package bitbucket

import (
	"encoding/json"
	"slices"
	"testing"
)

// FuzzBitbucketPage decodes arbitrary list pages: every value becomes a
// Hook with its uuid as id and sorted events.
func FuzzBitbucketPage(f *testing.F) {
	f.Add([]byte(`{"values":[{"uuid":"{a}","url":"u","events":["repo:push","issue:created"]}],"next":"https://api.bitbucket.org/2.0/x?page=2"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var pg page
		if json.Unmarshal(b, &pg) != nil {
			return
		}
		for _, v := range pg.Values {
			h := v.toHook()
			if h.ID != v.UUID || !slices.IsSorted(h.Events) || len(h.Events) != len(v.Events) {
				t.Fatalf("%+v -> %+v", v, h)
			}
		}
	})
}
