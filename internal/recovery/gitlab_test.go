package recovery

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/hooks"
	"github.com/forgehook/forgehook/internal/ingest"
	"github.com/forgehook/forgehook/internal/store"
)

// fakeGitLab serves one project hook's failed events as GitLab documents
// them (testdata/SOURCES.md): two a page with X-Next-Page, resends
// answered 201 (the first one 429 with Retry-After), the test call 201.
type fakeGitLab struct {
	t        *testing.T
	e        *env
	c        *calls
	alert    string
	server   []string // Idempotency-Keys of server_failure events, newest first
	client   []string
	mu       sync.Mutex
	limited  bool
	onTest   func()
	head     string
	hookPath string
}

func (f *fakeGitLab) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.EscapedPath()
	f.c.add(r.Method+" "+p, f.e.clock())
	if r.Header.Get("Private-Token") != "gl-token" {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"message":"401 Unauthorized"}`)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && p == f.hookPath:
		du := "null"
		if f.alert == "temporarily_disabled" {
			du = strconv.Quote(f.e.clock().Add(10 * time.Minute).Format(time.RFC3339))
		}
		fmt.Fprintf(w, `{"id":9,"url":"https://hooks.example/hooks/gl","alert_status":%q,"disabled_until":%s,"push_events":true}`, f.alert, du)
	case r.Method == http.MethodGet && p == f.hookPath+"/events":
		var keys []string
		switch r.URL.Query().Get("status") {
		case "server_failure":
			keys = f.server
		case "client_failure":
			keys = f.client
		default:
			f.t.Errorf("events without a failure status: %s", r.URL.RawQuery)
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		page = max(page, 1)
		start, end := (page-1)*2, min(page*2, len(keys))
		var out []map[string]any
		for i := start; i < end; i++ {
			id := 100 + i
			if r.URL.Query().Get("status") == "client_failure" {
				id = 200 + i
			}
			out = append(out, map[string]any{"id": id, "url": "https://hooks.example/hooks/gl", "trigger": "push_hooks",
				"request_headers": map[string]string{"Content-Type": "application/json", "X-Gitlab-Event": "Push Hook", "Idempotency-Key": keys[i], "X-Gitlab-Token": "[REDACTED]"},
				"request_data":    map[string]any{"object_kind": "push"}, "response_status": "502", "execution_duration": 0.1,
				"created_at": f.e.clock().Add(-time.Duration(i+1) * time.Hour).Format(time.RFC3339)})
		}
		if end < len(keys) {
			w.Header().Set("X-Next-Page", strconv.Itoa(page+1))
		} else {
			w.Header().Set("X-Next-Page", "")
		}
		_ = json.NewEncoder(w).Encode(out)
	case r.Method == http.MethodPost && strings.HasPrefix(p, f.hookPath+"/events/") && strings.HasSuffix(p, "/resend"):
		f.mu.Lock()
		first := !f.limited
		f.limited = true
		f.mu.Unlock()
		if first {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"message":"This endpoint has been requested too many times. Try again later."}`)
			return
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"response_status":"200"}`)
	case r.Method == http.MethodGet && p == "/projects/acme%2Fapp":
		fmt.Fprint(w, `{"id":5,"path_with_namespace":"acme/app","default_branch":"main"}`)
	case r.Method == http.MethodGet && p == "/projects/acme%2Fapp/repository/branches/main":
		fmt.Fprintf(w, `{"name":"main","commit":{"id":%q}}`, f.head)
	case r.Method == http.MethodPost && p == f.hookPath+"/test/push_events":
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"message":"201 Created"}`)
		if f.onTest != nil {
			f.onTest()
		}
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"404 Not found"}`)
	}
}

func glSetup(t *testing.T, f *fakeGitLab) (*env, *Recoverer) {
	t.Helper()
	e := newEnv(t, "gl", "gitlab", func(ep *ingest.Endpoint) { ep.ExpectTests = true })
	f.t, f.e, f.c, f.hookPath = t, e, &calls{}, "/projects/acme%2Fapp/hooks/9"
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	e.record(t, store.HookRecord{Endpoint: "gl", Forge: "gitlab", APIURL: srv.URL, TargetKind: "project", TargetName: "acme/app", HookID: "9"})
	e.eps = []Endpoint{{Name: "gl", Provider: "gitlab", APIURL: srv.URL, Mode: ModeRedeliver, Token: "gl-token"}}
	return e, e.recoverer(t, e.eps...)
}

func glPushHeader(key string) http.Header {
	return http.Header{"Content-Type": {"application/json"}, "X-Gitlab-Event": {"Push Hook"}, "X-Gitlab-Token": {testSecret}, "Idempotency-Key": {key}}
}

func glPush(ref, after string) string {
	return fmt.Sprintf(`{"object_kind":"push","event_name":"push","before":"1111111111111111111111111111111111111111","after":%q,"ref":%q,"project":{"path_with_namespace":"acme/app","web_url":"https://gitlab.example/acme/app","default_branch":"main"},"commits":[],"total_commits_count":0}`, after, ref)
}

func TestRecoverGitLabResendLimitAndDedup(t *testing.T) {
	f := &fakeGitLab{alert: "temporarily_disabled",
		server: []string{"k1", "k2", "k3", "k1", "k4", "k5", "k6", "k7", "k8"}, // k1 failed twice
		client: []string{"k9", "stored"}}
	e, r := glSetup(t, f)
	// "stored" reached forgehook though GitLab saw a failure.
	e.post(t, glPushHeader("stored"), glPush("refs/heads/dev", "3333333333333333333333333333333333333333"))
	ctx := context.Background()
	plan, err := r.Plan(ctx, Request{})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Items) != 9 {
		t.Fatalf("plan has %d items, want 9 (k1..k9 once each, not the stored one): %+v", len(plan.Items), plan.Items)
	}
	if h := plan.Hooks[0]; h.State != hooks.HealthFailing || h.AlertStatus != "temporarily_disabled" || h.DisabledUntil.IsZero() {
		t.Fatalf("hook = %+v, want failing with disabled_until", h)
	}
	if posts, _ := f.c.with("POST"); len(posts) != 0 {
		t.Fatalf("plan made changes: %v", posts)
	}
	rep, err := r.Run(ctx, Request{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Recovered != 9 {
		t.Fatalf("recovered %d of %d: %+v", rep.Recovered, rep.Missing, rep.Items)
	}
	posts, at := f.c.with("POST")
	if len(posts) != 10 { // 9 resends and the one answered 429
		t.Fatalf("posts = %v", posts)
	}
	// Never more than 5 accepted resends in any minute (at[0] is the one
	// answered 429).
	at = at[1:]
	for i := range at {
		n := 0
		for j := i; j < len(at) && at[j].Sub(at[i]) < time.Minute; j++ {
			n++
		}
		if n > 5 {
			t.Fatalf("%d resends within a minute from %s: %v", n, at[i].Format(time.TimeOnly), at)
		}
	}
	// The 429 was waited out (Retry-After 2 s) and the call sent again.
	if _, all := f.c.with("POST"); all[1].Sub(all[0]) < 2*time.Second {
		t.Fatalf("retry after 429 at +%s, want ≥ 2s", all[1].Sub(all[0]))
	}
}

func TestRecoverGitLabReenableTestIsNotAnEvent(t *testing.T) {
	head := "4444444444444444444444444444444444444444"
	f := &fakeGitLab{alert: "disabled", head: head}
	e, r := glSetup(t, f)
	// GitLab's test request is its sample push of the default branch.
	f.onTest = func() {
		res := e.post(t, glPushHeader("test-key"), glPush("refs/heads/main", head))
		if res["ping"] != true {
			t.Errorf("test push answered %v, want ping", res)
		}
	}
	ctx := context.Background()
	rep, err := r.Run(ctx, Request{})
	if err != nil {
		t.Fatal(err)
	}
	if posts, _ := f.c.with("POST " + f.hookPath + "/test"); len(posts) != 0 {
		t.Fatalf("re-enabled without --reenable: %v", posts)
	}
	if rep.Hooks[0].State != hooks.HealthDisabled {
		t.Fatalf("hook = %+v", rep.Hooks[0])
	}
	rep, err = r.Run(ctx, Request{Reenable: true})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Hooks[0].Reenabled || len(rep.Errors) != 0 {
		t.Fatalf("report = %+v", rep)
	}
	if e.known(t, "gl", "test-key") {
		t.Fatal("the test push was stored")
	}
	// The expectation is spent: the same push again is an event.
	res := e.post(t, glPushHeader("real-key"), glPush("refs/heads/main", head))
	if res["ping"] == true || res["id"] == nil {
		t.Fatalf("second push answered %v, want stored", res)
	}
}

func TestRecoverGitLabExpectationMatches(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	x := Expectation{Ref: "refs/heads/main", After: "abc", Until: now.Add(time.Minute)}
	for _, c := range []struct {
		ref, after string
		at         time.Time
		want       bool
	}{
		{"refs/heads/main", "abc", now, true},
		{"refs/heads/dev", "abc", now, false},
		{"refs/heads/main", "abd", now, false},
		{"refs/heads/main", "abc", now.Add(time.Minute), false},
	} {
		if got := x.Matches(c.ref, c.after, c.at); got != c.want {
			t.Errorf("Matches(%q, %q, %s) = %v", c.ref, c.after, c.at, got)
		}
	}
	if (Expectation{}).Matches("", "", now) {
		t.Error("the empty expectation matches")
	}
}

// TestRecoverStatusReadableDuringARun: a run that waits for the resend
// budget (minutes for many events) does not hold up Last and Endpoints,
// which the UI and the server's loop read.
func TestRecoverStatusReadableDuringARun(t *testing.T) {
	f := &fakeGitLab{alert: "executable", server: []string{"a", "b"}}
	e, _ := glSetup(t, f)
	waiting := make(chan struct{}, 1)
	release := make(chan struct{})
	r := New(Options{Records: e.st, Known: e.st, Ingest: injector{e.h}, State: e.st.RecoverState(), Now: e.clock,
		Sleep: func(ctx context.Context, d time.Duration) error {
			select {
			case waiting <- struct{}{}:
			default:
			}
			select {
			case <-release:
				return e.sleep(ctx, d)
			case <-ctx.Done():
				return ctx.Err()
			}
		}}, e.recovererEndpoints())
	done := make(chan error, 1)
	go func() {
		_, err := r.Run(context.Background(), Request{})
		done <- err
	}()
	select {
	case <-waiting:
	case <-time.After(10 * time.Second):
		t.Fatal("the run never waited")
	}
	got := make(chan int, 1)
	go func() { _ = r.Last(); got <- len(r.Endpoints()) }()
	select {
	case n := <-got:
		if n != 1 {
			t.Fatalf("endpoints = %d", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Last or Endpoints blocked behind a run")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if rep := r.Last()["gl"]; rep.Recovered != 2 {
		t.Fatalf("last = %+v", rep)
	}
}
