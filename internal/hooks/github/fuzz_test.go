package github

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/forgehook/forgehook/internal/hooks"
)

// FuzzGitHubHook decodes arbitrary answers as a hook: the health follows
// last_response.code (2xx ok, other codes failing, none unknown).
func FuzzGitHubHook(f *testing.F) {
	f.Add([]byte(`{"id":1,"config":{"url":"u"},"last_response":{"code":200,"status":"active","message":"OK"}}`))
	f.Add([]byte(`{"id":1,"last_response":{"code":null,"status":"unused"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var h hook
		if json.Unmarshal(b, &h) != nil {
			return
		}
		out := h.toHook()
		if out.Events == nil {
			t.Fatal("nil events")
		}
		switch {
		case h.LastResponse == nil || h.LastResponse.Code == nil:
			if out.Health.State != hooks.HealthUnknown {
				t.Fatalf("no code, state %s", out.Health.State)
			}
		case *h.LastResponse.Code >= 200 && *h.LastResponse.Code < 300:
			if out.Health.State != hooks.HealthOK || out.Health.LastError != "" {
				t.Fatalf("2xx: %+v", out.Health)
			}
		default:
			if out.Health.State != hooks.HealthFailing || out.Health.LastStatus != *h.LastResponse.Code {
				t.Fatalf("non-2xx: %+v", out.Health)
			}
		}
		if !slices.IsSorted(out.Events) || len(out.Events) != len(h.Events) {
			t.Fatalf("events %v from %v", out.Events, h.Events)
		}
	})
}
