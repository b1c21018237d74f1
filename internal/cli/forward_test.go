package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/api"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/all"
	"github.com/forgehook/forgehook/internal/store"
	"github.com/forgehook/forgehook/internal/verify"
)

func TestForwardFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--admin", "http://a", "--to", "http://b"}, "--endpoint is required"},
		{[]string{"--admin", "http://a", "--endpoint", "e"}, "--to is required"},
		{[]string{"--admin", "ftp://a", "--endpoint", "e", "--to", "http://b"}, `--admin "ftp://a": want an http:// or https:// URL`},
		{[]string{"--admin", "http://a", "--endpoint", "e", "--to", "http://b", "--name", "a.b"}, `--name "a.b"`},
		{[]string{"--admin", "http://a", "--endpoint", "e", "--to", "http://b", "extra"}, `unexpected argument "extra"`},
	} {
		var out, errb bytes.Buffer
		env := &Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
		err := runForward(context.Background(), env, tc.args)
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want a usage error with %q", tc.args, err, tc.want)
		}
	}
}

func TestForwardRelayName(t *testing.T) {
	for in, want := range map[string]string{
		"alice-laptop.local": "alice-laptop", "Büro PC": "B--ro-PC", "": "relay", "-x": "x",
		strings.Repeat("h", 80): strings.Repeat("h", 64),
	} {
		if got := relayName(in); got != want || !validRelayName(got) {
			t.Errorf("relayName(%q) = %q (valid %v), want %q", in, got, validRelayName(got), want)
		}
	}
}

// TestForwardRequestResigns: the relayed request carries the forge's own
// headers (not the redacted credentials) and exact body, signed with the
// local secret in the forge's scheme; a forge that cannot sign is an
// error when a secret is given.
func TestForwardRequestResigns(t *testing.T) {
	f := &forwarder{target: "http://127.0.0.1:1/hook", secret: "local", registry: all.Registry(),
		signers: map[string]forge.Signer{}, now: time.Now}
	body := []byte(`{"zen":"Keep it logically awesome.", "hook_id": 1}`)
	ev := &api.RelayEvent{Seq: 7, ID: "ev-7", Forge: "github", ForgeEvent: "ping", Header: map[string][]string{
		"X-Github-Event": {"ping"}, "X-Github-Delivery": {"d-7"}, "X-Hub-Signature-256": {"[redacted]"},
		"User-Agent": {"GitHub-Hookshot/abc"}, "Cookie": {"session=1"}, "X-Forwarded-For": {"10.0.0.1"},
	}, BodyBase64: body}
	req, err := f.request(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	want := verify.Sign(verify.SHA256, verify.Hex, "sha256=", []byte("local"), body)
	h := req.Header
	if h.Get("X-Hub-Signature-256") != want || h.Get("X-Github-Event") != "ping" || h.Get("X-Github-Delivery") != "d-7" ||
		h.Get("User-Agent") != "GitHub-Hookshot/abc" || h.Get("Cookie") != "" || h.Get("X-Forwarded-For") != "" ||
		h.Get("X-Forgehook-Event-Id") != "ev-7" || h.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", h)
	}
	var b bytes.Buffer
	_, _ = b.ReadFrom(req.Body)
	if b.String() != string(body) {
		t.Errorf("body %q, want %q", b.String(), body)
	}
	ev.Forge = "dockerhub"
	if _, err := f.request(context.Background(), ev); err == nil || !strings.Contains(err.Error(), "cannot sign") {
		t.Errorf("re-signing Docker Hub: %v, want an error", err)
	}
	f.secret = ""
	if _, err := f.request(context.Background(), ev); err != nil {
		t.Errorf("Docker Hub without a secret: %v", err)
	}
}

// TestForwardSkipFailedAcks: with --skip-failed, a target that fails is
// printed and the relay goes on, acknowledging; the cursor advances.
func TestForwardSkipFailedAcks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := store.Open(ctx, store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := 1; i <= 2; i++ {
		id := fmt.Sprint("ev-", i)
		rec := fmt.Sprintf(`{"id":%q,"endpoint":"gh","forge":"github","forgeevent":"push","data":{"header":{"X-Github-Event":["push"]},"body":{"n":%d}}}`, id, i)
		if _, err := st.Append(ctx, "gh", store.Subject("gh", "github", "push"), id, id, []byte(rec)); err != nil {
			t.Fatal(err)
		}
	}
	srv := &api.Server{Events: st, Relays: st, Endpoints: func() []api.EndpointInfo { return []api.EndpointInfo{{Name: "gh"}} }}
	adminSrv := httptest.NewServer(srv.Handler())
	defer adminSrv.Close()
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer target.Close()

	var out syncBuffer
	f := &forwarder{client: &api.Client{BaseURL: adminSrv.URL}, name: "dev", endpoint: "gh", target: target.URL,
		since: time.Hour, skip: true, local: &http.Client{Timeout: 5 * time.Second}, out: &out, now: time.Now,
		registry: all.Registry(), signers: map[string]forge.Signer{}, minWait: time.Millisecond, maxWait: 10 * time.Millisecond}
	rctx, rcancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- f.run(rctx) }()
	c := &api.Client{BaseURL: adminSrv.URL}
	for {
		cur, err := c.Relay(ctx, "dev", "gh")
		if err == nil && cur.Acked == 2 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("cursor did not reach 2: %+v %v\n%s", cur, err, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	rcancel()
	if err := <-done; err != nil {
		t.Errorf("run after cancel: %v", err)
	}
	if n := strings.Count(out.String(), "500 Internal Server Error in"); n != 2 || !strings.Contains(out.String(), "skipped (--skip-failed)") {
		t.Errorf("want two failures printed as skipped:\n%s", out.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
