package cli

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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
