package web

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/api"
	"github.com/forgehook/forgehook/internal/recovery"
	"github.com/forgehook/forgehook/internal/store"
)

func TestWebHooksPage(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	now := time.Now()
	last := map[string]recovery.Report{}
	ui := New(Options{Events: f.st, Dead: f.st, Logger: slog.New(slog.DiscardHandler),
		Endpoints:   func() []api.EndpointInfo { return nil },
		HookRecords: f.st, Recovery: func() map[string]recovery.Report { return last }})
	c := newClient(t, ui)

	// Listen-only: nothing managed, and the page says so.
	a := c.get("/hooks")
	mustContain(t, "hooks empty", a.body, "No managed hooks", "listens only", `href="/hooks" aria-current="page"`)

	for _, r := range []store.HookRecord{
		{Endpoint: "gl", Forge: "gitlab", APIURL: "https://gitlab.example/api/v4", TargetKind: "project", TargetName: "acme/app", HookID: "9", URL: "https://hooks.example/hooks/gl"},
		{Endpoint: "gh", Forge: "github", APIURL: "https://api.github.com", TargetKind: "repo", TargetName: "acme/web", HookID: "77", URL: "https://hooks.example/hooks/<key>", Adopted: true},
	} {
		if err := f.st.PutHookRecord(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	last["gl"] = recovery.Report{Run: true, Finished: now.Add(-2 * time.Minute), Missing: 3, Recovered: 2,
		Hooks:  []recovery.HookState{{Endpoint: "gl", Forge: "gitlab", Target: "project:acme/app", HookID: "9", State: "disabled", AlertStatus: "disabled"}},
		Errors: []string{`endpoint "gl": hook 9: HTTP 403 (needs a token with scope api)`}}
	a = c.get("/hooks")
	if a.code != 200 {
		t.Fatalf("hooks page: %d", a.code)
	}
	mustContain(t, "hooks", a.body,
		`data-hook="gl/project:acme/app"`, `data-state="disabled"`, "https://hooks.example/hooks/gl",
		`data-hook="gh/repo:acme/web"`, `data-state="unknown"`, "adopted", "/hooks/&lt;key&gt;",
		`data-recovery="gl"`, "<td>3</td><td>2</td>", "2 min ago", "needs a token with scope api")
	if strings.Contains(a.body, "No managed hooks") {
		t.Error("the page says nothing is managed")
	}
}

// TestWebEventMarksRecovered: an event recovery fetched, or polling made,
// says so on its page; one received over the network cannot.
func TestWebEventMarksRecovered(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	c := newClient(t, f.ui)
	body := []byte(`{"ref":"refs/heads/main","after":"` + strings.Repeat("3", 40) + `","repository":{"full_name":"acme/app"}}`)
	for id, mark := range map[string][2]string{"fetched-1": {recovery.HeaderRecovered, "github-fetch"}, "polled-1": {recovery.HeaderSynthetic, "poll"}} {
		h := http.Header{"Content-Type": {"application/json"}, "X-Github-Event": {"push"}, "X-Github-Delivery": {id}}
		h.Set(mark[0], mark[1])
		if _, err := f.ingest.Inject(context.Background(), "gh", h, body, true); err != nil {
			t.Fatal(err)
		}
	}
	mustContain(t, "fetched", c.get("/events/fetched-1").body, "data-recovered", "recovered (github-fetch)")
	mustContain(t, "polled", c.get("/events/polled-1").body, "data-synthetic", "synthetic (poll)")
	f.push("plain-1", "hello")
	if b := c.get("/events/plain-1").body; strings.Contains(b, "data-recovered") || strings.Contains(b, "data-synthetic") {
		t.Error("a received event is marked")
	}
}
