package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeGitHubHooks is a GitHub API that holds one repository's hooks and,
// for hook 77, one failed delivery and one delivered (the shapes of
// internal/recovery/testdata/SOURCES.md).
type fakeGitHubHooks struct {
	mu      sync.Mutex
	created bool
	calls   []string
}

func (f *fakeGitHubHooks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	if r.Header.Get("Authorization") != "Bearer manage-token" && r.Header.Get("Authorization") != "Bearer recover-token" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	hook := `{"id":77,"name":"web","active":true,"events":["push"],"config":{"url":"https://hooks.example.com/hooks/gh","content_type":"json"}}`
	at := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	switch {
	case r.Method == "GET" && r.URL.Path == "/repos/acme/app/hooks":
		if f.created {
			fmt.Fprint(w, "["+hook+"]")
		} else {
			fmt.Fprint(w, "[]")
		}
	case r.Method == "POST" && r.URL.Path == "/repos/acme/app/hooks":
		f.created = true
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, hook)
	case r.Method == "GET" && r.URL.Path == "/repos/acme/app/hooks/77":
		fmt.Fprint(w, hook)
	case r.Method == "POST" && r.URL.Path == "/repos/acme/app/hooks/77/pings":
		w.WriteHeader(http.StatusNoContent)
	case r.Method == "GET" && r.URL.Path == "/repos/acme/app/hooks/77/deliveries":
		fmt.Fprintf(w, `[{"id":502,"guid":"fine-1","delivered_at":%q,"redelivery":false,"status":"OK","status_code":200,"event":"push","action":null},
{"id":501,"guid":"lost-1","delivered_at":%q,"redelivery":false,"status":"Invalid HTTP Response: 503","status_code":503,"event":"push","action":null}]`, at, at)
	case r.Method == "GET" && r.URL.Path == "/repos/acme/app/hooks/77/deliveries/501":
		fmt.Fprint(w, `{"id":501,"guid":"lost-1","event":"push","request":{"headers":{"X-GitHub-Delivery":"lost-1","X-GitHub-Event":"push","X-Hub-Signature-256":"sha256=0000","Content-Type":"application/json"},"payload":{"ref":"refs/heads/main","before":"1111111111111111111111111111111111111111","after":"2222222222222222222222222222222222222222","repository":{"full_name":"acme/app","name":"app","owner":{"login":"acme"}},"commits":[]}},"response":{"headers":{},"payload":"unavailable"}}`)
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"Not Found"}`)
	}
}

func (f *fakeGitHubHooks) count(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

// cliCode runs the binary and returns its output and exit status.
func cliCode(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, err := exec.Command(binary, args...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// TestRecoverGitHubFetchEndToEnd: the real binary with a github endpoint
// with manage: and recover: blocks against a fake GitHub. Nothing is asked
// of the forge's deliveries until an operator runs recover; plan lists
// the failed delivery (exit 2), run fetches it and ingests it once, marked
// recovered, and the next plan finds nothing missing.
func TestRecoverGitHubFetchEndToEnd(t *testing.T) {
	f := &fakeGitHubHooks{}
	gh := httptest.NewServer(f)
	defer gh.Close()
	dir := t.TempDir()
	cfg, ingest, admin := writeConfig(t, dir, fmt.Sprintf(`public_url: https://hooks.example.com
endpoints:
  - name: gh
    provider: github
    secrets: ["e2e-recover-secret"]
    manage: {api_url: %q, token: "manage-token", targets: [{repo: acme/app}]}
    recover: {mode: fetch, token: "recover-token", every: 1h}
`, gh.URL))
	s := start(t, cfg, ingest, admin)
	defer s.stop()

	if out, code := cliCode(t, "recover", "plan", "--admin", admin); code != 0 || !strings.Contains(out, "nothing missing") {
		t.Fatalf("plan before apply: exit %d\n%s", code, out)
	}
	if out, code := cliCode(t, "hooks", "apply", "--admin", admin, "--yes", "--wait", "0"); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, out)
	}
	if n := f.count("GET /repos/acme/app/hooks/77/deliveries"); n != 0 {
		t.Fatalf("the server read deliveries %d times by itself", n)
	}
	out, code := cliCode(t, "recover", "plan", "--admin", admin, "--json")
	if code != 2 {
		t.Fatalf("plan: exit %d\n%s", code, out)
	}
	var plan struct {
		Items []struct{ Key, Status, ID string } `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil || len(plan.Items) != 1 || plan.Items[0].Key != "lost-1" || plan.Items[0].ID != "501" {
		t.Fatalf("plan = %s (%v)", out, err)
	}
	if out, code := cliCode(t, "recover", "run", "--admin", admin); code != 0 || !strings.Contains(out, "1 missing, 1 recovered") {
		t.Fatalf("run: exit %d\n%s", code, out)
	}
	// Stored once, with the forge's payload and the mark.
	resp, err := http.Get(admin + "/api/v1/events?limit=10")
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Events []json.RawMessage `json:"events"`
	}
	err = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if err != nil || len(page.Events) != 1 {
		t.Fatalf("events: %d, %v", len(page.Events), err)
	}
	var ev struct {
		ID       string `json:"id"`
		Delivery string `json:"delivery"`
	}
	_ = json.Unmarshal(page.Events[0], &ev)
	if ev.Delivery != "lost-1" {
		t.Fatalf("stored %s", page.Events[0])
	}
	resp, err = http.Get(admin + "/api/v1/events/" + ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	var full struct {
		Event struct {
			Data struct {
				Header map[string][]string `json:"header"`
			} `json:"data"`
		} `json:"event"`
	}
	err = json.NewDecoder(resp.Body).Decode(&full)
	resp.Body.Close()
	if h := full.Event.Data.Header; err != nil || strings.Join(h["X-Forgehook-Recovered"], ",") != "github-fetch" {
		t.Fatalf("stored headers %v, %v", h, err)
	}
	if out, code := cliCode(t, "recover", "plan", "--admin", admin); code != 0 || !strings.Contains(out, "nothing missing") {
		t.Fatalf("plan after run: exit %d\n%s", code, out)
	}
	if strings.Contains(s.Output(), "recover-token") || strings.Contains(s.Output(), "manage-token") {
		t.Error("a token is in the server's log")
	}
}
