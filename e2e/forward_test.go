package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/verify"
)

// relayDelivery is one request the local target of a relay received.
type relayDelivery struct {
	header http.Header
	body   []byte
	status int
}

// relayTarget is the developer's local webhook receiver: it records every
// request and answers 503 to the first attempt of the deliveries named in
// failOnce.
type relayTarget struct {
	mu       sync.Mutex
	got      []relayDelivery
	failOnce map[string]bool
}

func (rt *relayTarget) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rt.mu.Lock()
	defer rt.mu.Unlock()
	status := http.StatusOK
	if id := r.Header.Get("X-Gitea-Delivery"); rt.failOnce[id] {
		delete(rt.failOnce, id)
		status = http.StatusServiceUnavailable
	}
	rt.got = append(rt.got, relayDelivery{header: r.Header.Clone(), body: b, status: status})
	w.WriteHeader(status)
}

// delivered returns the requests answered 2xx, in order.
func (rt *relayTarget) delivered() []relayDelivery {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	var out []relayDelivery
	for _, d := range rt.got {
		if d.status == http.StatusOK {
			out = append(out, d)
		}
	}
	return out
}

// startForward runs `forgehook forward` with args as a process.
func startForward(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, exited: make(chan struct{})}
	p.cmd = exec.Command(binary, append([]string{"forward"}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = lockedWriter{p}, lockedWriter{p}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(p.kill)
	return p
}

// waitOutput polls p's output until it holds s.
func waitOutput(t *testing.T, p *proc, s string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !strings.Contains(p.Output(), s) {
		select {
		case <-p.exited:
			t.Fatalf("forgehook forward exited; output:\n%s", p.Output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the relay's output after %s:\n%s", s, d, p.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// relayGet sends a GET with a bearer token and returns status and body.
func relayGet(t *testing.T, url, token string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b
}

// TestForwardRelayDeliversOnceInOrderAcrossKill drives the durable
// development relay end to end: a real forgehook, `forgehook forward` as a
// process with a relay token, a local target. Three events are relayed;
// the relay is killed with SIGKILL; three more are stored while it is
// down (and one for another endpoint); the relay restarts and resumes from
// the server's cursor. The target must get the six, each once, in stored
// order, with the forge's headers and exact body and a signature made
// with the local secret; a failing first attempt is retried, not skipped.
// The relay token is refused everywhere but its own endpoint's relay.
func TestForwardRelayDeliversOnceInOrderAcrossKill(t *testing.T) {
	const (
		adminToken = "admin-token-0123456789abcdef"
		relayToken = "relay-token-0123456789abcdef"
		hookSecret = "gitea-hook-secret"
		localSec   = "laptop-secret"
	)
	dir := t.TempDir()
	ports := freePorts(t, 2)
	ingest, admin := fmt.Sprintf("http://127.0.0.1:%d", ports[0]), fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	cfg := fmt.Sprintf(`listen: 127.0.0.1:%d
admin:
  listen: 127.0.0.1:%d
  token: %q
  relay_tokens:
    - {name: laptop, token: %q, endpoint: app}
data_dir: %s
endpoints:
  - {name: app, provider: gitea, secrets: [%q]}
  - {name: other, provider: gitea, secrets: [%q]}
`, ports[0], ports[1], adminToken, relayToken, filepath.Join(dir, "data"), hookSecret, hookSecret)
	cfgPath := filepath.Join(dir, "forgehook.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := start(t, cfgPath, ingest, admin)

	// The scoped token reads nothing else.
	for _, path := range []string{
		"/api/v1/events", "/api/v1/endpoints", "/metrics", "/events",
		"/api/v1/relay/laptop/stream?endpoint=other", "/api/v1/relay/laptop?endpoint=other",
	} {
		if st, b := relayGet(t, admin+path, relayToken); st != http.StatusForbidden {
			t.Errorf("GET %s with the relay token: %d %s, want 403", path, st, b)
		}
	}
	if st, _ := relayGet(t, admin+"/api/v1/events", adminToken); st != http.StatusOK {
		t.Errorf("GET /api/v1/events with the admin token: %d, want 200", st)
	}
	if st, _ := relayGet(t, admin+"/api/v1/events", "not-a-token-of-this-server"); st != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/events with a wrong token: %d, want 401", st)
	}

	target := &relayTarget{failOnce: map[string]bool{"d-5": true}}
	ts := httptest.NewServer(target)
	defer ts.Close()
	args := []string{"--admin", admin, "--token", relayToken, "--endpoint", "app", "--to", ts.URL + "/webhook",
		"--name", "laptop", "--secret", localSec}

	ctx := context.Background()
	var sent [][]byte
	ids := map[string]string{} // delivery -> event id
	send := func(endpoint, delivery string, pretty bool) string {
		t.Helper()
		body := fmt.Sprintf(`{"ref":"refs/heads/main","before":"%s","after":"%s","repository":{"full_name":"acme/app","html_url":"https://gitea.example/acme/app"},"commits":[],"pusher":{"login":"alice"},"note":"<%s> & co"}`,
			strings.Repeat("1", 40), strings.Repeat("2", 40), delivery)
		if pretty {
			var v any
			_ = json.Unmarshal([]byte(body), &v)
			b, _ := json.MarshalIndent(v, "", "  ")
			body = string(b) // as Gitea sends it: indented, no final newline
		}
		h := hdr("Content-Type", "application/json", "X-Gitea-Event", "push", "X-Gitea-Event-Type", "push",
			"X-Gitea-Delivery", delivery, "X-Gitea-Signature", verify.Sign(verify.SHA256, verify.Hex, "", []byte(hookSecret), []byte(body)))
		status, ans, err := post(ctx, ingest+"/hooks/"+endpoint, h, []byte(body))
		if err != nil || status != 200 || ans.ID == "" {
			t.Fatalf("post %s: %d %+v %v", delivery, status, ans, err)
		}
		if endpoint == "app" {
			sent = append(sent, []byte(body))
			ids[delivery] = ans.ID
		}
		return ans.ID
	}
	// seqOf returns an event's stream sequence.
	seqOf := func(id string) uint64 {
		st, b := relayGet(t, admin+"/api/v1/events/"+id, adminToken)
		var d struct {
			Seq uint64 `json:"seq"`
		}
		if st != 200 || json.Unmarshal(b, &d) != nil {
			t.Fatalf("event %s: %d %s", id, st, b)
		}
		return d.Seq
	}
	var relay *proc
	// waitAcked polls the server's cursor until it reaches seq.
	waitAcked := func(seq uint64) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			st, b := relayGet(t, admin+"/api/v1/relay/laptop?endpoint=app", relayToken)
			var c struct {
				Acked uint64 `json:"acked"`
			}
			if st == 200 && json.Unmarshal(b, &c) == nil && c.Acked >= seq {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("cursor did not reach %d: %d %s\nrelay output:\n%s\nserver:\n%s", seq, st, b, relay.Output(), srv.Output())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	relay = startForward(t, args...)
	waitOutput(t, relay, "connected: relaying the events stored after", 20*time.Second)
	send("app", "d-1", false)
	send("app", "d-2", true) // pretty-printed: goes as base64
	send("other", "o-1", false)
	last := send("app", "d-3", false)
	waitAcked(seqOf(last))
	waitOutput(t, relay, "(delivery d-3) -> 200 OK in ", 5*time.Second)

	relay.kill() // SIGKILL: no goodbye to the server
	send("app", "d-4", false)
	send("other", "o-2", false)
	send("app", "d-5", true)
	last = send("app", "d-6", false)

	relay = startForward(t, args...)
	waitAcked(seqOf(last))
	out := relay.Output()
	if !strings.Contains(out, "(delivery d-5) -> 503 Service Unavailable") || !strings.Contains(out, "retrying in") {
		t.Errorf("the failed first attempt of d-5 is not printed with its status and retry:\n%s", out)
	}

	got := target.delivered()
	if len(got) != len(sent) {
		t.Fatalf("target got %d deliveries, want %d", len(got), len(sent))
	}
	for i, d := range got {
		want := fmt.Sprintf("d-%d", i+1)
		if g := d.header.Get("X-Gitea-Delivery"); g != want {
			t.Errorf("delivery %d is %q, want %q (once each, in order)", i, g, want)
		}
		if g := d.header.Get("X-Gitea-Event"); g != "push" {
			t.Errorf("delivery %d: X-Gitea-Event %q", i, g)
		}
		if string(d.body) != string(sent[i]) {
			t.Errorf("delivery %d: body differs from what the forge sent:\n got %q\nwant %q", i, d.body, sent[i])
		}
		if sig := verify.Sign(verify.SHA256, verify.Hex, "", []byte(localSec), d.body); d.header.Get("X-Gitea-Signature") != sig {
			t.Errorf("delivery %d: X-Gitea-Signature %q, want the local secret's %q", i, d.header.Get("X-Gitea-Signature"), sig)
		}
		if g := d.header.Get("X-Forgehook-Event-Id"); g != ids[want] {
			t.Errorf("delivery %d: event id %q, want %q", i, g, ids[want])
		}
	}
	if t.Failed() {
		t.Logf("relay output:\n%s\nserver output:\n%s", relay.Output(), srv.Output())
	}
}
