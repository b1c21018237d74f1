package cli

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestCLIHooksPlanExitStatus: 0 in sync, 2 with changes pending, 1 on an
// error; apply without --yes and without a terminal refuses.
func TestCLIHooksPlanExitStatus(t *testing.T) {
	answer := ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/api/v1/hooks/apply" {
			t.Errorf("apply called")
		}
		_, _ = w.Write([]byte(answer))
	}))
	defer srv.Close()
	for _, tc := range []struct {
		answer string
		code   int
		has    string
	}{
		{`{"changes":[{"endpoint":"gt","target":{"kind":"repo","name":"a/b"},"action":"in_sync","hook_id":"4"}]}`, 0, "= gt  repo:a/b  in sync"},
		{`{"changes":[{"endpoint":"gt","target":{"kind":"repo","name":"a/b"},"action":"create","url":"https://h/hooks/gt","events":["push"]}],"pending":1}`, 2, "+ gt  repo:a/b  create https://h/hooks/gt (push)"},
		{`{"changes":[{"endpoint":"gt","target":{"kind":"repo","name":"a/b"},"action":"update","fields":["events","secret"]}],"pending":1}`, 2, "update (events, secret)"},
		{`{"changes":[{"endpoint":"gt","target":{"kind":"repo","name":"a/b"},"action":"error","error":"gitea: list: HTTP 403 (needs admin)"}],"errors":1}`, 1, "error: gitea: list: HTTP 403 (needs admin)"},
		{`{"changes":[]}`, 0, "listen-only"},
	} {
		answer = tc.answer
		code, out, errs := runMain(t, "hooks", "plan", "--admin", srv.URL)
		if code != tc.code || !strings.Contains(out, tc.has) {
			t.Errorf("plan %s: exit %d, want %d with %q\n%s%s", tc.answer, code, tc.code, tc.has, out, errs)
		}
	}
	answer = `{"changes":[{"endpoint":"gt","target":{"kind":"repo","name":"a/b"},"action":"create"}],"pending":1}`
	code, out, errs := runMain(t, "hooks", "apply", "--admin", srv.URL)
	if code != 2 || !strings.Contains(errs, "--yes") {
		t.Errorf("apply without a terminal: exit %d\n%s%s", code, out, errs)
	}
	if code, _, errs := runMain(t, "hooks", "frobnicate"); code != 2 || !strings.Contains(errs, "plan|apply") {
		t.Errorf("unknown subcommand: exit %d %s", code, errs)
	}
}

// TestCLIHooksApplyForgeCannotReachUs: when no test delivery arrives
// within --wait, apply says so, with Gitea's ALLOWED_HOST_LIST hint, and
// exits 1; when the ping arrives it exits 0.
func TestCLIHooksApplyForgeCannotReachUs(t *testing.T) {
	verified := ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/hooks/apply":
			_, _ = w.Write([]byte(`{"changes":[{"endpoint":"gt","forge":"gitea","target":{"kind":"repo","name":"a/b"},"action":"create","done":"created","pinged":true}],"since":"2026-12-07T12:00:00Z"}`))
		case "/api/v1/endpoints":
			_, _ = w.Write([]byte(`{"endpoints":[{"name":"gt"` + verified + `}]}`))
		case "/api/v1/events":
			_, _ = w.Write([]byte(`{"events":[{"id":"old","stored":"2026-12-07T11:59:00Z","endpoint":"gt"}]}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	code, out, errs := runMain(t, "hooks", "apply", "--admin", srv.URL, "--yes", "--wait", "1200ms")
	if code != 1 || !strings.Contains(errs, "the forge cannot reach us") || !strings.Contains(errs, "ALLOWED_HOST_LIST") {
		t.Errorf("no ping: exit %d\n%s%s", code, out, errs)
	}
	verified = `,"verified_at":"2026-12-07T12:00:01Z","verified_by":"ping"`
	code, out, errs = runMain(t, "hooks", "apply", "--admin", srv.URL, "--yes", "--wait", "5s")
	if code != 0 || !strings.Contains(errs, "test delivery arrived") {
		t.Errorf("ping: exit %d\n%s%s", code, out, errs)
	}
}

// TestCLIHooksListLastDelivery: hooks list shows each hook's last
// delivery (time, kind, event id), "-" for a hook without one.
func TestCLIHooksListLastDelivery(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"hooks":[` +
			`{"endpoint":"gh","forge":"github","target_kind":"repo","target_name":"a/b","hook_id":"11","events":["push"],"active":true,"configured":true,"url":"https://h/hooks/gh","applied_at":"2026-12-07T09:00:00Z","health":{"state":"ok"},"last_delivery":{"at":"2026-12-07T10:00:03Z","event_id":"ev-3","kind":"push"}},` +
			`{"endpoint":"gh","forge":"github","target_kind":"repo","target_name":"a/c","hook_id":"44","events":["push"],"active":true,"configured":true,"url":"https://h/hooks/gh","applied_at":"2026-12-07T09:00:00Z","health":{"state":"ok"}}]}`))
	}))
	defer srv.Close()
	code, out, errs := runMain(t, "hooks", "list", "--admin", srv.URL)
	if code != 0 || !strings.Contains(out, "LAST DELIVERY") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	lines := strings.Split(out, "\n")
	var b, c string
	for _, l := range lines {
		switch {
		case strings.Contains(l, "repo:a/b"):
			b = l
		case strings.Contains(l, "repo:a/c"):
			c = l
		}
	}
	if !strings.Contains(b, "push ev-3") || !strings.Contains(b, time.Date(2026, 12, 7, 10, 0, 3, 0, time.UTC).Local().Format(time.DateTime)) {
		t.Errorf("hook 11 line %q lacks its last delivery", b)
	}
	if !strings.Contains(c, " - ") || strings.Contains(c, "ev-") {
		t.Errorf("hook 44 line %q should show none", c)
	}
}
