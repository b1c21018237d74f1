// Package hooktest is a fake forge for the tests of the hook clients: an
// httptest server with Go ServeMux routes that records every request, and
// checks every client must pass (error answers mapped to the hooks
// sentinels with the permission named, rate-limit waits honoured and
// bounded by the context).
package hooktest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/hooks"
	"github.com/forgehook/forgehook/internal/hooks/hookhttp"
)

// Request is a request the fake forge received.
type Request struct {
	Method string
	// Path is the escaped path ("/projects/g%2Fp/hooks").
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

// Server is a fake forge. Routes are ServeMux patterns ("GET /repos/{o}/{r}/hooks").
type Server struct {
	*httptest.Server
	t   testing.TB
	mux *http.ServeMux

	mu   sync.Mutex
	reqs []Request
	// Auth, when set, answers 401 to requests it refuses.
	auth func(*http.Request) bool
}

// New starts a fake forge closed at the end of the test.
func New(t testing.TB) *Server {
	s := &Server{t: t, mux: http.NewServeMux()}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	s.mu.Lock()
	s.reqs = append(s.reqs, Request{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query(), Header: r.Header.Clone(), Body: body})
	auth := s.auth
	s.mu.Unlock()
	if auth != nil && !auth(r) {
		JSON(w, http.StatusUnauthorized, map[string]string{"message": "Unauthorized"})
		return
	}
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	s.mux.ServeHTTP(w, r)
}

// Handle adds a route.
func (s *Server) Handle(pattern string, h http.HandlerFunc) { s.mux.HandleFunc(pattern, h) }

// RequireAuth makes every request without a passing check answer 401.
func (s *Server) RequireAuth(ok func(*http.Request) bool) {
	s.mu.Lock()
	s.auth = ok
	s.mu.Unlock()
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Reset forgets the requests received so far.
func (s *Server) Reset() {
	s.mu.Lock()
	s.reqs = nil
	s.mu.Unlock()
}

// Last returns the last request received (fails the test when none).
func (s *Server) Last() Request {
	s.t.Helper()
	r := s.Requests()
	if len(r) == 0 {
		s.t.Fatal("no request received")
	}
	return r[len(r)-1]
}

// JSON writes v as a JSON answer.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Body decodes a recorded request body into a map (fails the test on bad JSON).
func Body(t testing.TB, r Request) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("%s %s: body %q: %v", r.Method, r.Path, r.Body, err)
	}
	return m
}

// Errors describes the error checks of one client call.
type Errors struct {
	// Server is the fake forge; Pattern the route the call hits.
	Server  *Server
	Pattern string
	// OK writes a successful answer of the call.
	OK func(w http.ResponseWriter)
	// Call makes the call.
	Call func(ctx context.Context) error
	// Exhausted sets the forge's headers saying "no request left, reset in
	// one second" on a successful answer (nil: the forge has none).
	Exhausted func(h http.Header, now time.Time)
	// ErrorBody writes the forge's error body for a status (nil: {"message": ...}).
	ErrorBody func(w http.ResponseWriter, status int)
}

// Check runs the error checks: 401 and 403 are ErrPermission with the
// permission named in the message, 404 ErrNotFound, 409 and 422
// ErrConflict; a 429 with Retry-After: 1 is retried after a second; a
// Retry-After longer than the context allows fails at once with
// ErrRateLimited; and, when the forge has Exhausted headers, the next call
// waits for the reset.
func (e Errors) Check(t *testing.T) {
	t.Helper()
	var mu sync.Mutex
	var script []func(w http.ResponseWriter)
	e.Server.Handle(e.Pattern, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		var f func(http.ResponseWriter)
		if len(script) > 0 {
			f, script = script[0], script[1:]
		}
		mu.Unlock()
		if f == nil {
			e.OK(w)
			return
		}
		f(w)
	})
	set := func(fs ...func(w http.ResponseWriter)) {
		mu.Lock()
		script = fs
		mu.Unlock()
		e.Server.Reset()
	}
	fail := func(status int) func(w http.ResponseWriter) {
		return func(w http.ResponseWriter) {
			if e.ErrorBody != nil {
				e.ErrorBody(w, status)
				return
			}
			JSON(w, status, map[string]string{"message": "refused " + strconv.Itoa(status)})
		}
	}
	for _, c := range []struct {
		status int
		want   error
	}{{401, hooks.ErrPermission}, {403, hooks.ErrPermission}, {404, hooks.ErrNotFound}, {409, hooks.ErrConflict}, {422, hooks.ErrConflict}} {
		set(fail(c.status))
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		err := e.Call(ctx)
		cancel()
		if !errors.Is(err, c.want) {
			t.Errorf("HTTP %d: err = %v, want %v", c.status, err, c.want)
			continue
		}
		var ae *hooks.APIError
		if !errors.As(err, &ae) || ae.Status != c.status {
			t.Errorf("HTTP %d: err = %#v, want an APIError with that status", c.status, err)
			continue
		}
		if c.want == hooks.ErrPermission && (ae.Permission == "" || !strings.Contains(err.Error(), "needs "+ae.Permission)) {
			t.Errorf("HTTP %d: %q does not name the permission needed", c.status, err)
		}
		if len(e.Server.Requests()) != 1 {
			t.Errorf("HTTP %d: %d requests, want 1 (no retry)", c.status, len(e.Server.Requests()))
		}
	}

	// 429 with Retry-After: 1 is waited out and retried.
	set(func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", "1")
		fail(http.StatusTooManyRequests)(w)
	})
	start := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	err := e.Call(ctx)
	cancel()
	if err != nil {
		t.Errorf("429 then OK: %v", err)
	} else if el := time.Since(start); el < 900*time.Millisecond {
		t.Errorf("429 with Retry-After: 1 retried after %s, want >= 1s", el)
	}
	if n := len(e.Server.Requests()); n < 2 {
		t.Errorf("429 then OK: %d requests, want >= 2", n)
	}

	// A wait longer than the context allows fails at once.
	set(func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", "120")
		fail(http.StatusTooManyRequests)(w)
	})
	start = time.Now()
	ctx, cancel = context.WithTimeout(t.Context(), 5*time.Second)
	err = e.Call(ctx)
	cancel()
	if !errors.Is(err, hookhttp.ErrRateLimited) {
		t.Errorf("429 with Retry-After: 120 under a 5 s context: err = %v, want ErrRateLimited", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("429 with Retry-After: 120 under a 5 s context took %s, want an immediate error", el)
	}

	if e.Exhausted == nil {
		return
	}
	set(func(w http.ResponseWriter) {
		e.Exhausted(w.Header(), time.Now())
		e.OK(w)
	})
	if err := e.Call(t.Context()); err != nil {
		t.Fatalf("exhausting call: %v", err)
	}
	start = time.Now()
	if err := e.Call(t.Context()); err != nil {
		t.Fatalf("call after exhaustion: %v", err)
	}
	if el := time.Since(start); el < 500*time.Millisecond {
		t.Errorf("call after remaining 0 did not wait for the reset (%s)", el)
	}
}

// Fixture reads testdata/name and decodes it as JSON (fails the test on error).
func Fixture(t testing.TB, name string) any {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("testdata/%s: %v", name, err)
	}
	return v
}

// Object is Fixture for a JSON object, as a fresh map the test may change.
func Object(t testing.TB, name string) map[string]any {
	t.Helper()
	m, ok := Fixture(t, name).(map[string]any)
	if !ok {
		t.Fatalf("testdata/%s: not a JSON object", name)
	}
	return m
}

// Raw writes the bytes of testdata/name with a status.
func Raw(t testing.TB, w http.ResponseWriter, status int, name string) {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Error(err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
