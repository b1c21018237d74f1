package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/verify"
)

// receiver is a real HTTP server that records every request and answers
// with what fail says.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	hits []hit
	fail atomic.Int64 // answer 503 to this many more requests
	down atomic.Bool  // answer 500 to everything
	code atomic.Int64 // when set, answer this status to everything
}

type hit struct {
	at      time.Time
	eventID string
	status  int
	body    []byte
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		status := 200
		switch {
		case rc.code.Load() != 0:
			status = int(rc.code.Load())
		case rc.down.Load():
			status = 500
		case rc.fail.Load() > 0:
			rc.fail.Add(-1)
			status = 503
		}
		rc.mu.Lock()
		rc.hits = append(rc.hits, hit{time.Now(), r.Header.Get("X-Forgehook-Event-Id"), status, body})
		rc.mu.Unlock()
		w.WriteHeader(status)
		fmt.Fprintf(w, "receiver says %d", status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) hitsFor(id string) []hit {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []hit
	for _, h := range rc.hits {
		if h.eventID == id {
			out = append(out, h)
		}
	}
	return out
}

func waitFor(t *testing.T, d time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// sendPush sends a signed GitHub push with delivery id id and returns the
// stored event's id.
func sendPush(t *testing.T, ingest, endpoint, secret, id string) string {
	t.Helper()
	body := []byte(fmt.Sprintf(`{"ref":"refs/heads/main","before":"%040d","after":"%040d","repository":{"full_name":"acme/app","html_url":"https://github.com/acme/app"},"commits":[],"sender":{"login":"octocat"}}`, 1, 2))
	h := hdr("Content-Type", "application/json", "X-GitHub-Event", "push", "X-GitHub-Delivery", id,
		"X-Hub-Signature-256", verify.Sign(verify.SHA256, verify.Hex, "sha256=", []byte(secret), body))
	status, ans, err := post(context.Background(), ingest+"/hooks/"+endpoint, h, body)
	if err != nil || status != 200 {
		t.Fatalf("send %s: %d %+v %v", id, status, ans, err)
	}
	return ans.ID
}

type eventDetail struct {
	Triggers []struct {
		Trigger  string `json:"trigger"`
		State    string `json:"state"`
		Attempts []struct {
			Attempt     int       `json:"attempt"`
			Outcome     string    `json:"outcome"`
			Status      int       `json:"status"`
			Error       string    `json:"error"`
			Time        time.Time `json:"time"`
			NextAttempt time.Time `json:"next_attempt"`
			Replay      bool      `json:"replay"`
		} `json:"attempts"`
	} `json:"triggers"`
}

func getDetail(t *testing.T, admin, id string) (eventDetail, []byte) {
	t.Helper()
	resp, err := http.Get(admin + "/api/v1/events/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var d eventDetail
	if err := json.Unmarshal(b, &d); err != nil || resp.StatusCode != 200 {
		t.Fatalf("event detail %s: %d %v %s", id, resp.StatusCode, err, b)
	}
	return d, b
}

func TestE2EDeliveryRetriesWithBackoffThenSucceeds(t *testing.T) {
	rc := newReceiver(t)
	rc.fail.Store(3)
	dir := t.TempDir()
	cfg, ingest, admin := writeConfig(t, dir, fmt.Sprintf(`endpoints:
  - name: gh
    provider: github
    secrets: ["s"]
triggers:
  - name: deploy
    when: 'event.kind == "push" && event.branch == "main"'
    http: {url: %q}
    retry: {max_attempts: 10, initial: 200ms, max: 5s}
  - name: only-tags
    when: 'event.kind == "tag"'
    log: {}
`, rc.URL))
	srv := start(t, cfg, ingest, admin)
	id := sendPush(t, ingest, "gh", "s", "retry-1")
	waitFor(t, 20*time.Second, "delivery after 3 failures", func() bool {
		h := rc.hitsFor(id)
		return len(h) == 4 && h[3].status == 200
	})
	h := rc.hitsFor(id)
	// Backoff before attempt n+1 lies in [0, d] for d = 200ms * 2^(n-1):
	// full jitter under a growing ceiling.
	var waits []time.Duration
	for i := 1; i < len(h); i++ {
		waits = append(waits, h[i].at.Sub(h[i-1].at))
	}
	exact := 0
	for i, w := range waits {
		d := 200 * time.Millisecond << i
		if w > d+400*time.Millisecond {
			t.Errorf("wait before attempt %d: %s, want at most %s", i+2, w, d)
		}
		if (w - d).Abs() < 2*time.Millisecond {
			exact++
		}
	}
	if exact == len(waits) {
		t.Errorf("waits %v are exactly the doubling: no jitter", waits)
	}
	t.Logf("backoff waits: %v", waits)
	holdFor(t, 300*time.Millisecond, "4 requests (3 failures, 1 success, no more)", func() bool {
		return len(rc.hitsFor(id)) == 4
	})
	d, _ := getDetail(t, admin, id)
	states := map[string]string{}
	for _, tr := range d.Triggers {
		states[tr.Trigger] = tr.State
		if tr.Trigger == "deploy" {
			if len(tr.Attempts) != 4 || tr.Attempts[0].Outcome != "failed" || tr.Attempts[0].Status != 503 || tr.Attempts[3].Outcome != "delivered" {
				t.Errorf("deploy attempts: %+v", tr.Attempts)
			}
		}
	}
	if states["deploy"] != "delivered" || states["only-tags"] != "not_matched" {
		t.Errorf("trigger states %v", states)
	}
	srv.stop()
}

func TestE2EDeadLetterAndReplay(t *testing.T) {
	rc := newReceiver(t)
	rc.down.Store(true)
	dir := t.TempDir()
	cfg, ingest, admin := writeConfig(t, dir, fmt.Sprintf(`endpoints:
  - name: gh
    provider: github
    secrets: ["s"]
triggers:
  - name: deploy
    http: {url: %q}
    retry: {max_attempts: 100, initial: 100ms, max: 300ms, max_age: 1s}
  - name: strict
    http: {url: "%s/strict"}
    retry: {max_attempts: 2, initial: 100ms, max: 200ms}
`, rc.URL, rc.URL))
	srv := start(t, cfg, ingest, admin)
	jid := sendPush(t, ingest, "gh", "s", "journey-1")
	var dead struct {
		Dead []struct {
			Seq      uint64 `json:"seq"`
			Trigger  string `json:"trigger"`
			EventID  string `json:"event_id"`
			Attempts int    `json:"attempts"`
			Error    string `json:"error"`
		} `json:"dead"`
	}
	waitFor(t, 20*time.Second, "the event in DEAD for both triggers", func() bool {
		resp, err := http.Get(admin + "/api/v1/dead")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		_ = json.NewDecoder(resp.Body).Decode(&dead)
		return len(dead.Dead) == 2
	})
	byTrigger := map[string]int{}
	var deploySeq uint64
	for _, d := range dead.Dead {
		byTrigger[d.Trigger] = d.Attempts
		if d.Trigger == "deploy" {
			deploySeq = d.Seq
		}
		if d.EventID != jid || !strings.Contains(d.Error, "500") {
			t.Errorf("dead letter %+v", d)
		}
	}
	// The 500s are retried until max_age (deploy) or max_attempts
	// (strict); both end in DEAD.
	if byTrigger["deploy"] < 2 || byTrigger["strict"] != 2 {
		t.Errorf("attempts before DEAD: %v; want deploy retried until max_age, strict after 2", byTrigger)
	}
	// A 4xx is not retried: it goes to DEAD at once.
	rc.down.Store(false)
	rc.code.Store(422)
	bid := sendPush(t, ingest, "gh", "s", "bad-request-1")
	waitFor(t, 10*time.Second, "a 422 dead-lettered after one attempt", func() bool {
		d, _ := getDetail(t, admin, bid)
		for _, tr := range d.Triggers {
			if tr.Trigger == "deploy" && tr.State == "dead" && len(tr.Attempts) == 1 {
				return true
			}
		}
		return false
	})
	rc.code.Store(0)

	// Dry run first: nothing is sent.
	before := len(rc.hitsFor(jid))
	resp, err := http.Post(fmt.Sprintf("%s/api/v1/dead/%d/replay", admin, deploySeq), "application/json", strings.NewReader(`{"dry_run":true}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("dry-run replay: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	holdFor(t, 300*time.Millisecond, "no request after a dry run", func() bool {
		return len(rc.hitsFor(jid)) == before
	})
	// The receiver is back: replaying the dead letter delivers it.
	resp, err = http.Post(fmt.Sprintf("%s/api/v1/dead/%d/replay", admin, deploySeq), "application/json", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("replay: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	waitFor(t, 10*time.Second, "the replayed event delivered", func() bool {
		h := rc.hitsFor(jid)
		return len(h) > 0 && h[len(h)-1].status == 200
	})
	var journey []byte
	waitFor(t, 5*time.Second, "state delivered", func() bool {
		d, b := getDetail(t, admin, jid)
		journey = b
		for _, tr := range d.Triggers {
			if tr.Trigger == "deploy" {
				last := tr.Attempts[len(tr.Attempts)-1]
				return tr.State == "delivered" && last.Replay
			}
		}
		return false
	})
	// The dead letter is gone once replayed.
	resp, _ = http.Get(fmt.Sprintf("%s/api/v1/dead/%d", admin, deploySeq))
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("replayed dead letter still there: %d", resp.StatusCode)
	}
	// Replay of a stored event through one trigger, from the CLI.
	out, err := runCLI("events", "replay", "--admin", admin, "--trigger", "strict", jid)
	if err != nil || !strings.Contains(out, "replayed "+jid+" to strict") {
		t.Fatalf("forgehook events replay: %v\n%s", err, out)
	}
	waitFor(t, 10*time.Second, "CLI replay delivered", func() bool {
		for _, h := range rc.hitsFor(jid) {
			if h.status == 200 && strings.Contains(string(h.body), "journey-1") && len(rc.hitsFor(jid)) > 1 {
				return true
			}
		}
		return false
	})
	t.Logf("journey of event journey-1 as the API reports it:\n%s", journey)
	srv.stop()
}

// TestCrashKill9DuringDeliveries kills forgehook while deliveries are in
// flight to a slow receiver; after a restart every accepted event reaches
// the receiver at least once.
func TestCrashKill9DuringDeliveries(t *testing.T) {
	var mu sync.Mutex
	got := map[string]int{}
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond) // slow on purpose: deliveries are in flight at the kill
		mu.Lock()
		got[r.Header.Get("X-Forgehook-Event-Id")]++
		mu.Unlock()
	}))
	defer slow.Close()
	dir := t.TempDir()
	cfg, ingest, admin := writeConfig(t, dir, fmt.Sprintf(`endpoints:
  - name: gh
    provider: github
    secrets: ["s"]
triggers:
  - name: forward
    http: {url: %q}
    concurrency: 4
    retry: {initial: 100ms, max: 1s}
`, slow.URL))
	srv := start(t, cfg, ingest, admin)
	const n = 300
	for i := range n {
		sendPush(t, ingest, "gh", "s", fmt.Sprintf("inflight-%d", i))
	}
	// Some are delivered, many are queued or in flight.
	waitFor(t, 10*time.Second, "first deliveries", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) > 10
	})
	srv.kill()
	mu.Lock()
	atKill := len(got)
	mu.Unlock()
	srv2 := start(t, cfg, ingest, admin)
	waitFor(t, 60*time.Second, "every event delivered after the restart", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == n
	})
	mu.Lock()
	dups := 0
	for _, c := range got {
		if c > 1 {
			dups++
		}
	}
	mu.Unlock()
	t.Logf("kill -9 during deliveries: %d of %d delivered before the kill, all %d after the restart, %d delivered more than once", atKill, n, n, dups)
	srv2.stop()
}
