package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/store"
	"github.com/forgehook/forgehook/internal/throttle"
)

func newTestServer(t *testing.T, token config.Secret) (*httptest.Server, *store.Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := &Server{Events: st, Dead: st, Token: token, Endpoints: func() []EndpointInfo {
		return []EndpointInfo{{Name: "gh", Provider: "github", Path: "/hooks/gh", Secrets: []string{"abcd1234"}}}
	}}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	for i := range 3 {
		id := fmt.Sprintf("ev-%d", i)
		rec := fmt.Sprintf(`{"specversion":"1.0","id":%q,"time":"2026-11-23T10:00:0%dZ","endpoint":"gh","forge":"github","forgeevent":"push","data":{"header":{},"body":{},"normalized":{"kind":"push","repository":{"full_name":"acme/app"},"ref":"refs/heads/main"}}}`, id, i)
		if _, err := st.Append(ctx, "gh", store.Subject("gh", "github", "push"), id, id, []byte(rec)); err != nil {
			t.Fatal(err)
		}
	}
	return srv, st
}

func call(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestAPIEndpointsAuthAndErrors calls every endpoint without the token
// (401), with it, and with bad input (its error status).
func TestAPIEndpointsAuthAndErrors(t *testing.T) {
	srv, _ := newTestServer(t, "api-token")
	const tok = "api-token"
	cases := []struct {
		method, path, token, body string
		want                      int
		contains                  string
	}{
		{"GET", "/api/v1/events", "", "", 401, "bearer token"},
		{"GET", "/api/v1/events", "wrong", "", 401, "bearer token"},
		{"GET", "/api/v1/events", tok, "", 200, `"id": "ev-2"`},
		{"GET", "/api/v1/events?kind=push&repository=acme/app&limit=2", tok, "", 200, `"next"`},
		{"GET", "/api/v1/events?limit=0", tok, "", 400, "limit"},
		{"GET", "/api/v1/events?before=x", tok, "", 400, "cursor"},
		{"GET", "/api/v1/events?forge=git.*", tok, "", 400, "filters"},
		{"GET", "/api/v1/events/ev-1", tok, "", 200, `"triggers": []`},
		{"GET", "/api/v1/events/ev-1", "", "", 401, ""},
		{"GET", "/api/v1/events/nope", tok, "", 404, "event not found"},
		{"GET", "/api/v1/endpoints", tok, "", 200, `"secret_fingerprints"`},
		{"GET", "/api/v1/endpoints", "", "", 401, ""},
		{"GET", "/api/v1/triggers", tok, "", 200, `"triggers": []`},
		{"GET", "/api/v1/dead", tok, "", 200, `"dead": []`},
		{"GET", "/api/v1/dead", "", "", 401, ""},
		{"GET", "/api/v1/dead/x", tok, "", 400, "sequence"},
		{"GET", "/api/v1/dead/99", tok, "", 404, "not found"},
		{"POST", "/api/v1/events/ev-1/replay", "", "", 401, ""},
		{"POST", "/api/v1/events/ev-1/replay", tok, `{"nope":1}`, 400, "bad replay request"},
		{"POST", "/api/v1/events/ev-1/replay", tok, `{"dry_run":true}`, 409, "no triggers"},
		{"POST", "/api/v1/dead/1/replay", tok, "{}", 409, "no triggers"},
		{"POST", "/api/v1/replay", tok, `{"since":"2026-01-01T00:00:00Z"}`, 409, "no triggers"},
		{"GET", "/api/v1/nothing", tok, "", 404, "no such API endpoint"},
		{"DELETE", "/api/v1/events", tok, "", 404, ""},
	}
	for _, c := range cases {
		got, body := call(t, c.method, srv.URL+c.path, c.token, c.body)
		if got != c.want || !strings.Contains(body, c.contains) {
			t.Errorf("%s %s (token %q): %d %s, want %d containing %q", c.method, c.path, c.token, got, strings.TrimSpace(body), c.want, c.contains)
		}
		if got >= 400 {
			var e Error
			if json.Unmarshal([]byte(body), &e) != nil || e.Error == "" {
				t.Errorf("%s %s: error answer is not {\"error\": ...}: %s", c.method, c.path, body)
			}
		}
	}
}

func TestAPIClientPagesThroughEvents(t *testing.T) {
	srv, _ := newTestServer(t, "")
	c := &Client{BaseURL: srv.URL}
	var ids []string
	before := ""
	for range 5 {
		page, err := c.ListEvents(context.Background(), ListQuery{Limit: 2, Before: before})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			ids = append(ids, e.ID)
		}
		if page.Next == "" {
			break
		}
		before = page.Next
	}
	if strings.Join(ids, ",") != "ev-2,ev-1,ev-0" {
		t.Fatalf("paged ids %v, want newest first ev-2,ev-1,ev-0", ids)
	}
	d, err := c.GetEvent(context.Background(), "ev-0")
	if err != nil || d.Seq == 0 {
		t.Fatalf("GetEvent: %+v %v", d, err)
	}
	_, err = c.GetEvent(context.Background(), "missing")
	if se, ok := err.(*StatusError); !ok || se.Status != 404 {
		t.Fatalf("GetEvent(missing) = %v, want a 404 StatusError", err)
	}
}

func TestRequireTokenThrottlesBadTokens(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	h := RequireToken(config.Secret("s3cret-admin-token"), throttle.New(FailedTokenLimit, FailedTokenWindow), ok)
	call := func(token, addr string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/events", nil)
		r.RemoteAddr = addr
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	for i := range FailedTokenLimit {
		if w := call(fmt.Sprint("guess-", i), "192.0.2.9:1000"); w.Code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d, want 401", i+1, w.Code)
		}
	}
	if w := call("s3cret-admin-token", "192.0.2.9:1001"); w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Fatalf("after %d bad tokens: %d, Retry-After %q; want 429", FailedTokenLimit, w.Code, w.Header().Get("Retry-After"))
	}
	if w := call("s3cret-admin-token", "192.0.2.10:1000"); w.Code != http.StatusNoContent {
		t.Fatalf("another address: %d, want 204", w.Code)
	}
}
