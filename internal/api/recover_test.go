package api

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/forgehook/forgehook/internal/recovery"
)

// fakeRecover records the requests it gets.
type fakeRecover struct {
	mu   sync.Mutex
	reqs []string
}

func (f *fakeRecover) note(op string, req recovery.Request) (recovery.Report, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, fmt.Sprintf("%s %s %s %v", op, req.Endpoint, req.Since, req.Reenable))
	if req.Endpoint == "nope" {
		return recovery.Report{}, fmt.Errorf("x: %w", recovery.ErrUnknownEndpoint)
	}
	return recovery.Report{Run: op == "run", Items: []recovery.Item{{Endpoint: "gh", Mode: "redeliver", ID: "6", Key: "guid-a", Status: recovery.StatusMissing}}, Missing: 1}, nil
}

func (f *fakeRecover) Plan(_ context.Context, r recovery.Request) (recovery.Report, error) {
	return f.note("plan", r)
}

func (f *fakeRecover) Run(_ context.Context, r recovery.Request) (recovery.Report, error) {
	return f.note("run", r)
}

// TestAdminRecoverRoutes: plan and run need the token, run takes JSON
// only and refuses unknown fields, a bad since is 400, an unknown
// endpoint 404, and without a recoverer the routes answer 409.
func TestAdminRecoverRoutes(t *testing.T) {
	f := &fakeRecover{}
	srv := httptest.NewServer((&Server{Token: "tok", Recover: f}).Handler())
	defer srv.Close()
	u := srv.URL + "/api/v1/recover"
	for _, tc := range []struct {
		method, path, token, body string
		want                      int
		has                       string
	}{
		{"GET", "/plan", "", "", 401, "bearer token"},
		{"POST", "/run", "", `{}`, 401, "bearer token"},
		{"GET", "/plan?endpoint=gh&since=24h", "tok", "", 200, `"key": "guid-a"`},
		{"GET", "/plan?since=yesterday", "tok", "", 400, "bad since"},
		{"GET", "/plan?since=-1h", "tok", "", 400, "bad since"},
		{"GET", "/plan?endpoint=nope", "tok", "", 404, "recover: block"},
		{"POST", "/run", "tok", `{"endpoint":"gh","since":"2h","reenable":true}`, 200, `"run": true`},
		{"POST", "/run", "tok", `{"bogus":1}`, 400, "unknown field"},
		{"GET", "/run", "tok", "", 404, ""},
	} {
		code, body := call(t, tc.method, u+tc.path, tc.token, tc.body)
		if code != tc.want || !strings.Contains(body, tc.has) {
			t.Errorf("%s %s: %d %s, want %d with %q", tc.method, tc.path, code, body, tc.want, tc.has)
		}
	}
	f.mu.Lock()
	want := []string{"plan gh 24h false", "plan nope 0s false", "run gh 2h true"}
	if strings.Join(f.reqs, "|") != strings.Join(want, "|") {
		t.Errorf("calls = %q, want %q", f.reqs, want)
	}
	f.mu.Unlock()

	none := httptest.NewServer((&Server{}).Handler())
	defer none.Close()
	if code, body := call(t, "GET", none.URL+"/api/v1/recover/plan", "", ""); code != 409 || !strings.Contains(body, "not available") {
		t.Errorf("plan without a recoverer: %d %s", code, body)
	}
}
