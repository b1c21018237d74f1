package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestCLIRecover: plan exits 0 when nothing is missing, 2 when something
// is, 1 on an error; run posts the flags as JSON and exits 1 when a
// delivery was not recovered.
func TestCLIRecover(t *testing.T) {
	var mu sync.Mutex
	answer, lastPath, lastBody := "", "", ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		lastPath, lastBody = r.URL.String(), string(b)
		a := answer
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(a))
	}))
	defer srv.Close()
	for _, tc := range []struct {
		args   []string
		answer string
		code   int
		has    []string
		path   string
	}{
		{[]string{"plan"}, `{"items":[],"hooks":[]}`, 0, []string{"nothing missing"}, "/api/v1/recover/plan"},
		{[]string{"plan", "--endpoint", "gh", "--since", "24h"},
			`{"items":[{"endpoint":"gh","forge":"github","target":"repo:acme/app","mode":"redeliver","id":"6","key":"guid-a","event":"push","status":"missing"}],"hooks":[{"endpoint":"gh","target":"repo:acme/app","hook_id":"77","state":"failing"}],"missing":1}`,
			2, []string{"missing gh  repo:acme/app  redeliver 6  guid-a  push", "hook gh  repo:acme/app  77  failing", "1 missing, 1 would be recovered"}, "/api/v1/recover/plan?endpoint=gh&since=24h0m0s"},
		{[]string{"plan"}, `{"items":[],"hooks":[],"errors":["endpoint \"gh\": HTTP 403 (needs Webhooks read)"]}`, 1, []string{"error: endpoint \"gh\": HTTP 403"}, "/api/v1/recover/plan"},
		{[]string{"run", "--endpoint", "gl", "--reenable"},
			`{"run":true,"items":[{"endpoint":"gl","mode":"resend","id":"101","key":"k1","status":"failed","error":"HTTP 500"}],"hooks":[{"endpoint":"gl","target":"project:acme/app","hook_id":"9","state":"disabled","alert_status":"disabled","reenabled":true}],"missing":1}`,
			1, []string{"failed gl", "HTTP 500", "test request sent to re-enable", "1 missing, 0 recovered"}, "/api/v1/recover/run"},
	} {
		mu.Lock()
		answer = tc.answer
		mu.Unlock()
		code, out, errs := runMain(t, append(append([]string{"recover"}, tc.args...), "--admin", srv.URL)...)
		mu.Lock()
		p, body := lastPath, lastBody
		mu.Unlock()
		if code != tc.code || p != tc.path {
			t.Errorf("%v: exit %d path %s, want %d %s\n%s%s", tc.args, code, p, tc.code, tc.path, out, errs)
		}
		for _, h := range tc.has {
			if !strings.Contains(out, h) {
				t.Errorf("%v: output lacks %q:\n%s", tc.args, h, out)
			}
		}
		if tc.args[0] == "run" {
			var req map[string]any
			if err := json.Unmarshal([]byte(body), &req); err != nil || req["endpoint"] != "gl" || req["reenable"] != true {
				t.Errorf("run body %s: %v", body, err)
			}
		}
	}
	if code, _, errs := runMain(t, "recover", "frobnicate"); code != 2 || !strings.Contains(errs, "plan|run") {
		t.Errorf("unknown subcommand: exit %d %s", code, errs)
	}
}
