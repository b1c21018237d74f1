package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/forgehook/forgehook/internal/hooks/reconcile"
)

// fakeHooks records the requests it gets.
type fakeHooks struct {
	mu   sync.Mutex
	reqs []string
}

func (f *fakeHooks) note(op string, req reconcile.Request) (reconcile.Plan, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, fmt.Sprintf("%s %s %s %s", op, req.Endpoint, req.Target, req.Grace))
	if req.Endpoint == "nope" {
		return reconcile.Plan{}, fmt.Errorf("x: %w", reconcile.ErrUnknownEndpoint)
	}
	return reconcile.Plan{Changes: []reconcile.Change{{Endpoint: "gt", Action: reconcile.ActCreate}}, Pending: 1}, nil
}

func (f *fakeHooks) Plan(_ context.Context, r reconcile.Request) (reconcile.Plan, error) {
	return f.note("plan", r)
}
func (f *fakeHooks) Apply(_ context.Context, r reconcile.Request) (reconcile.Plan, error) {
	return f.note("apply", r)
}
func (f *fakeHooks) Prune(_ context.Context, r reconcile.Request) (reconcile.Plan, error) {
	return f.note("prune", r)
}
func (f *fakeHooks) Adopt(_ context.Context, r reconcile.Request) (reconcile.Plan, error) {
	return f.note("adopt", r)
}
func (f *fakeHooks) Rotate(_ context.Context, r reconcile.Request) (reconcile.Plan, error) {
	return f.note("rotate", r)
}
func (f *fakeHooks) List(_ context.Context, r reconcile.Request) ([]reconcile.Listed, error) {
	_, err := f.note("list", r)
	return nil, err
}

// TestAdminHooksRoutes: the hook commands need the token, take JSON only,
// refuse unknown fields and cross-origin browsers, and map an unknown
// endpoint to 404.
func TestAdminHooksRoutes(t *testing.T) {
	f := &fakeHooks{}
	s := &Server{Token: "tok", Hooks: f}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	u := srv.URL + "/api/v1/hooks"
	for _, tc := range []struct {
		method, path, token, body string
		want                      int
		has                       string
	}{
		{"GET", "/plan", "", "", 401, "bearer token"},
		{"POST", "/apply", "", `{}`, 401, "bearer token"},
		{"GET", "/plan?endpoint=gt", "tok", "", 200, `"action": "create"`},
		{"GET", "/plan?endpoint=nope", "tok", "", 404, "manage: block"},
		{"GET", "", "tok", "", 200, `"hooks": []`},
		{"POST", "/apply", "tok", `{"endpoint":"gt"}`, 200, `"pending": 1`},
		{"POST", "/rotate", "tok", `{"endpoint":"gt","grace":"1h"}`, 200, "create"},
		{"POST", "/adopt", "tok", `{"endpoint":"gt","target":"repo:a/b","hook_id":"3"}`, 200, "create"},
		{"POST", "/prune", "tok", `{"bogus":1}`, 400, "unknown field"},
		{"POST", "/prune", "tok", `not json`, 400, "bad hooks request"},
		{"GET", "/apply", "tok", "", 404, ""},
		{"POST", "/nuke", "tok", `{}`, 404, ""},
	} {
		code, body := call(t, tc.method, u+tc.path, tc.token, tc.body)
		if code != tc.want || !strings.Contains(body, tc.has) {
			t.Errorf("%s %s: %d %s, want %d with %q", tc.method, tc.path, code, body, tc.want, tc.has)
		}
	}
	// A POST without a JSON content type is refused before any work.
	req, _ := http.NewRequest("POST", u+"/apply", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer tok")
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain apply: %d", resp.StatusCode)
	}
	// Nor from another origin.
	req, _ = http.NewRequest("POST", u+"/apply", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer tok")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site apply: %d", resp.StatusCode)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	want := []string{"plan gt  ", "plan nope  ", "list   ", "apply gt  ", "rotate gt  1h", "adopt gt repo:a/b "}
	if strings.Join(f.reqs, "|") != strings.Join(want, "|") {
		t.Errorf("calls = %q, want %q", f.reqs, want)
	}
}

// TestAdminHooksUnavailable: without a manager the routes say so.
func TestAdminHooksUnavailable(t *testing.T) {
	srv := httptest.NewServer((&Server{}).Handler())
	defer srv.Close()
	if code, body := call(t, "GET", srv.URL+"/api/v1/hooks/plan", "", ""); code != http.StatusConflict || !strings.Contains(body, "not available") {
		t.Errorf("plan without a manager: %d %s", code, body)
	}
}
