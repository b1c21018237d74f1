package all

import (
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
			t.Errorf("New(%q) = %v, %v", p, c, err)
		}
	}
	for _, p := range []string{"generic", "auto", "gerrit", "nope", ""} {
		if _, err := New(p, hooks.Options{APIURL: "https://forge.example/api"}); err == nil {
			t.Errorf("New(%q) accepted", p)
		}
	}
}
