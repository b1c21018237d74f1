package manual

import (
	"errors"
	"strings"
	"testing"

	"github.com/forgehook/forgehook/internal/hooks"
)

func TestHooksManualSteps(t *testing.T) {
	for _, p := range []string{DockerHub, Coding} {
		c, err := New(p)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := c.Events([]string{"registry"})
		if err != nil || len(ev) == 0 {
			t.Fatalf("%s events: %v, %v", p, ev, err)
		}
		tg := hooks.Target{Kind: hooks.TargetRepo, Name: "acme/app"}
		s := hooks.Spec{URL: "https://hooks.example.com/hooks/x", Events: ev, Active: true, Secret: "TOPSECRET", Description: "managed by forgehook: x"}
		steps := strings.Join(c.Steps(tg, s), "\n")
		if strings.Contains(steps, "TOPSECRET") {
			t.Errorf("%s: the secret is printed: %s", p, steps)
		}
		if !strings.Contains(steps, s.URL) || !strings.Contains(steps, "acme/app") {
			t.Errorf("%s: steps lack the URL or target: %s", p, steps)
		}
		if _, err := c.List(t.Context(), tg); !errors.Is(err, hooks.ErrUnsupported) {
			t.Errorf("%s list: %v", p, err)
		}
		if _, err := c.Create(t.Context(), tg, s); !errors.Is(err, hooks.ErrUnsupported) {
			t.Errorf("%s create: %v", p, err)
		}
	}
	d, _ := New(DockerHub)
	if steps := strings.Join(d.Steps(hooks.Target{Kind: "repo", Name: "a/b"}, hooks.Spec{URL: "https://h/x", Secret: "s"}), "\n"); !strings.Contains(steps, "https://h/x?token=<") {
		t.Errorf("docker hub steps lack the token parameter: %s", steps)
	}
	if _, err := d.Events([]string{"pull_request"}); !errors.Is(err, hooks.ErrUnsupported) {
		t.Errorf("docker hub pull_request: %v", err)
	}
	if _, err := New("github"); err == nil {
		t.Error("github accepted")
	}
}
