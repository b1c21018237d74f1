package all

import (
	"errors"
	"testing"

	forgeall "github.com/forgehook/forgehook/internal/forge/all"
	"github.com/forgehook/forgehook/internal/hooks"
)

// TestHooksAllProviders builds a client for every provider New lists and
// refuses the ids without one.
func TestHooksAllProviders(t *testing.T) {
	known := map[string]bool{}
	for _, d := range forgeall.Forges() {
		known[d.ID] = true
	}
	for _, p := range Providers() {
		if !known[p] {
			t.Errorf("provider %q is not a forge id of internal/forge/all", p)
		}
		c, err := New(p, hooks.Options{APIURL: "https://forge.example/api", Token: "t"})
		if err != nil || c == nil {
			t.Fatalf("New(%q) = %v, %v", p, c, err)
		}
		_, manual := c.(hooks.Manual)
		if manual != (p == "dockerhub" || p == "coding") {
			t.Errorf("%s: implements hooks.Manual = %v", p, manual)
		}
		// Every canonical kind maps to event names or is unsupported, never unknown.
		for _, k := range []string{"push", "tag", "pull_request", "comment", "issue", "release", "pipeline", "registry"} {
			ev, err := c.Events([]string{k})
			if err != nil && !errors.Is(err, hooks.ErrUnsupported) {
				t.Errorf("%s: kind %s: %v", p, k, err)
			}
			if err == nil && len(ev) == 0 {
				t.Errorf("%s: kind %s maps to no event", p, k)
			}
		}
		if _, err := c.Events([]string{"no-such-event"}); err == nil {
			t.Errorf("%s: an unknown event was accepted", p)
		}
	}
	for _, p := range []string{"generic", "auto", "gerrit", "nope", ""} {
		if c, err := New(p, hooks.Options{APIURL: "https://forge.example/api"}); err == nil || c != nil {
			t.Errorf("New(%q) = %v, %v: want nil and an error", p, c, err)
		}
	}
	if c, err := New("gitea", hooks.Options{}); err == nil || c != nil {
		t.Errorf("gitea without api_url: %v, %v: want a nil client and an error", c, err)
	}
}
