package actiontest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/action"
)

// Options tunes Run.
type Options struct {
	// Secret, when not empty, is a secret of the action under test (its
	// signing key, a token in its headers): no error, Output or log line
	// of any case may contain it (AssertNoSecret).
	Secret string
	// Logs, when set, returns the action's log output so far; Run checks
	// it for Secret after the cases.
	Logs func() string
	// Input returns the input every case sends; nil means Event(t).
	Input func(t *testing.T) action.Input
	// IDHeader, when set, names a request header that must carry the
	// event's id on every request (X-Forgehook-Event-Id).
	IDHeader string
}

// Bound is how long a case waits for Do before it fails the test as hung,
// and how long Do may take to return once its context is cancelled.
const Bound = 5 * time.Second

// Run is the conformance suite of HTTP-like actions. newAction must return
// a new action that delivers to target, a URL of an HTTP server that Run
// starts for each case (with a path of "/hook" and no query). The cases
// are subtests:
//
//   - 2xx: 200, 201, 202 and 204 succeed, with Result.Status set;
//   - 5xx: 500, 502, 503 and 504 fail with Retry set;
//   - 4xx: 400, 401, 403, 404, 410 and 422 fail without Retry;
//   - 408 and 429 fail with Retry; Retry-After in seconds or as an HTTP
//     date sets Result.RetryAfter;
//   - an unreachable target fails with Retry;
//   - a cancelled context ends a hung request within Bound, with an error
//     that wraps context.Canceled.
func Run(t *testing.T, newAction func(t *testing.T, target string) action.Action, opts Options) {
	t.Helper()
	input := opts.Input
	if input == nil {
		input = func(t *testing.T) action.Input { return Event(t) }
	}
	check := func(t *testing.T, res action.Result, err error) {
		t.Helper()
		if opts.Secret != "" {
			AssertNoSecret(t, opts.Secret, err, res)
		}
	}
	// do runs one attempt against a server answering status with extra
	// headers, and checks what reached the server.
	do := func(t *testing.T, status int, header http.Header) (action.Result, error) {
		t.Helper()
		in := input(t)
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			_, _ = io.Copy(io.Discard, r.Body)
			if opts.IDHeader != "" && r.Header.Get(opts.IDHeader) != in.Record.ID() {
				t.Errorf("request header %s = %q, want the event id %q", opts.IDHeader, r.Header.Get(opts.IDHeader), in.Record.ID())
			}
			for k, v := range header {
				w.Header()[k] = v
			}
			w.WriteHeader(status)
			fmt.Fprintf(w, "answer %d", status)
		}))
		t.Cleanup(srv.Close)
		a := newAction(t, srv.URL+"/hook")
		t.Cleanup(func() { closeAction(t, a) })
		res, err := doBounded(t, context.Background(), a, in)
		check(t, res, err)
		if n := hits.Load(); n != 1 {
			t.Errorf("the target got %d requests, want 1 (an action makes one attempt per Do)", n)
		}
		if res.Status != status {
			t.Errorf("Result.Status = %d, want %d", res.Status, status)
		}
		return res, err
	}

	for _, code := range []int{200, 201, 202, 204} {
		t.Run("2xx/"+strconv.Itoa(code), func(t *testing.T) {
			if _, err := do(t, code, nil); err != nil {
				t.Errorf("status %d: error %v, want success", code, err)
			}
		})
	}
	for _, code := range []int{500, 502, 503, 504, 408, 429} {
		t.Run("retry/"+strconv.Itoa(code), func(t *testing.T) {
			res, err := do(t, code, nil)
			if err == nil {
				t.Fatalf("status %d: no error, want a failure", code)
			}
			if !res.Retry {
				t.Errorf("status %d: Retry false, want true (error %v)", code, err)
			}
			if res.RetryAfter != 0 {
				t.Errorf("status %d without Retry-After: RetryAfter = %v, want 0", code, res.RetryAfter)
			}
		})
	}
	for _, code := range []int{400, 401, 403, 404, 410, 422} {
		t.Run("stop/"+strconv.Itoa(code), func(t *testing.T) {
			res, err := do(t, code, nil)
			if err == nil {
				t.Fatalf("status %d: no error, want a failure", code)
			}
			if res.Retry {
				t.Errorf("status %d: Retry true, want false (error %v)", code, err)
			}
		})
	}
	t.Run("retry-after/seconds", func(t *testing.T) {
		res, err := do(t, http.StatusTooManyRequests, http.Header{"Retry-After": {"7"}})
		if err == nil || !res.Retry {
			t.Fatalf("429: Retry %v, error %v; want a retried failure", res.Retry, err)
		}
		if res.RetryAfter != 7*time.Second {
			t.Errorf("Retry-After: 7: RetryAfter = %v, want 7s", res.RetryAfter)
		}
	})
	t.Run("retry-after/date", func(t *testing.T) {
		at := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
		res, err := do(t, http.StatusServiceUnavailable, http.Header{"Retry-After": {at}})
		if err == nil || !res.Retry {
			t.Fatalf("503: Retry %v, error %v; want a retried failure", res.Retry, err)
		}
		if res.RetryAfter < 80*time.Second || res.RetryAfter > 91*time.Second {
			t.Errorf("Retry-After: %s (90s ahead): RetryAfter = %v, want about 90s", at, res.RetryAfter)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		target := srv.URL + "/hook"
		srv.Close()
		a := newAction(t, target)
		t.Cleanup(func() { closeAction(t, a) })
		res, err := doBounded(t, context.Background(), a, input(t))
		check(t, res, err)
		if err == nil {
			t.Fatal("unreachable target: no error")
		}
		if !res.Retry {
			t.Errorf("unreachable target: Retry false, want true (error %v)", err)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		arrived := make(chan struct{}, 1)
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			arrived <- struct{}{}
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		t.Cleanup(srv.Close)
		t.Cleanup(func() { close(release) })
		a := newAction(t, srv.URL+"/hook")
		t.Cleanup(func() { closeAction(t, a) })
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-arrived:
			case <-time.After(Bound):
			}
			cancel()
		}()
		start := time.Now()
		res, err := doBounded(t, ctx, a, input(t))
		check(t, res, err)
		if err == nil {
			t.Fatal("cancelled context: no error")
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled context: error %v does not wrap context.Canceled", err)
		}
		if d := time.Since(start); d >= Bound {
			t.Errorf("cancelled context: Do took %v", d)
		}
	})
	t.Run("cancelled-before", func(t *testing.T) {
		a := newAction(t, "http://127.0.0.1:9/hook")
		t.Cleanup(func() { closeAction(t, a) })
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		res, err := doBounded(t, ctx, a, input(t))
		check(t, res, err)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Do with a cancelled context: error %v, want one wrapping context.Canceled", err)
		}
	})
	if opts.Secret != "" && opts.Logs != nil {
		AssertNoSecret(t, opts.Secret, opts.Logs())
	}
}

// doBounded calls a.Do and fails the test if it does not return within
// Bound.
func doBounded(t *testing.T, ctx context.Context, a action.Action, in action.Input) (action.Result, error) {
	t.Helper()
	type out struct {
		res action.Result
		err error
	}
	done := make(chan out, 1)
	go func() {
		res, err := a.Do(ctx, in)
		done <- out{res, err}
	}()
	select {
	case o := <-done:
		return o.res, o.err
	case <-time.After(Bound):
		t.Fatalf("Do did not return within %v", Bound)
		return action.Result{}, nil
	}
}

// closeAction closes a when it holds resources.
func closeAction(t *testing.T, a action.Action) {
	if c, ok := a.(action.Closer); ok {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
}
