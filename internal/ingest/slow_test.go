package ingest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/config"
)

// lockedBuffer is a log sink safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestIngestReadersPerSource(t *testing.T) {
	l := newReaders(2)
	now := time.Unix(1000, 0)
	later := now.Add(slowReadAfter)
	a := netip.MustParseAddr("198.51.100.7")
	for range 2 {
		if ok, _ := l.acquire(a, now); !ok {
			t.Fatal("refused under the cap")
		}
	}
	// Fast reads are never capped: a forge (or a proxy) sends many at once.
	for range 10 {
		if ok, _ := l.acquire(a, now); !ok {
			t.Fatal("a young read counted against the cap")
		}
		l.release(a, now)
	}
	ok, logIt := l.acquire(a, later)
	if ok || !logIt {
		t.Fatalf("a read while two have lasted %s: allowed %v, logged %v; want refused, logged", slowReadAfter, ok, logIt)
	}
	if _, logIt := l.acquire(a, later.Add(time.Millisecond)); logIt {
		t.Fatal("a second refusal within a second is logged")
	}
	if ok, _ := l.acquire(netip.MustParseAddr("198.51.100.8"), later); !ok {
		t.Fatal("another address is refused")
	}
	l.release(a, now)
	if ok, _ := l.acquire(a, later); !ok {
		t.Fatal("refused after a release")
	}
	// IPv6 sources count by /64.
	b1, b2 := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")
	l.acquire(b1, now)
	l.acquire(b2, now)
	if ok, _ := l.acquire(netip.MustParseAddr("2001:db8::ffff"), later); ok {
		t.Fatal("an IPv6 /64 is not one source")
	}
	// A source leaves the table with its last read: the table holds only
	// what it counts.
	l.release(a, now)
	l.release(a, later)
	l.release(netip.MustParseAddr("198.51.100.8"), later)
	l.release(b1, now)
	l.release(b2, now)
	if n := l.len(); n != 0 {
		t.Fatalf("%d sources left after every read ended", n)
	}
	var off *readers // MaxConcurrentPerSource < 0
	if ok, _ := off.acquire(a, now); !ok {
		t.Fatal("no cap refused")
	}
}

// TestIngestConcurrentBodiesPerSource holds two bodies of one source open:
// a third request from it is answered 429 with Retry-After before a byte
// of its body is read; another source is served; once the two are done,
// the source is served again and forgotten.
func TestIngestConcurrentBodiesPerSource(t *testing.T) {
	h, _ := newTestHandler(t, config.Endpoint{Name: "gh", Provider: "github", Secrets: []config.Secret{secret}})
	h.readers = newReaders(2)
	h.readers.slowAfter = 0 // the two held bodies count at once
	push := []byte(`{"ref":"refs/heads/main"}`)
	var pipes []*io.PipeWriter
	var wg sync.WaitGroup
	codes := make(chan int, 2)
	for i := range 2 {
		pr, pw := io.Pipe()
		pipes = append(pipes, pw)
		req := httptest.NewRequest("POST", "/hooks/gh", pr)
		req.Header = ghHeaders("push", fmt.Sprint("held-", i), push)
		req.ContentLength = int64(len(push))
		req.RemoteAddr = "198.51.100.1:1000"
		wg.Go(func() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			codes <- w.Code
		})
	}
	for i := 0; h.reads.len() < 2; i++ {
		if i > 500 {
			t.Fatal("the two bodies are not being read")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cr := &countingReader{n: len(push)}
	req := httptest.NewRequest("POST", "/hooks/gh", cr)
	req.Header = ghHeaders("push", "third", push)
	req.RemoteAddr = "198.51.100.1:1002"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 429 || w.Header().Get("Retry-After") == "" || cr.read != 0 || !strings.Contains(w.Body.String(), "too many concurrent requests") {
		t.Fatalf("third body at once: %d %q, Retry-After %q, %d bytes read; want 429 before reading", w.Code, w.Body, w.Header().Get("Retry-After"), cr.read)
	}
	if r := do(h, "POST", "/hooks/gh", ghHeaders("push", "other", push), string(push), "198.51.100.2:1000"); r.status != 200 {
		t.Fatalf("another source: %d %v", r.status, r.body)
	}
	for _, pw := range pipes {
		_, _ = pw.Write(push)
		_ = pw.Close()
	}
	wg.Wait()
	for range 2 {
		if c := <-codes; c != 200 {
			t.Fatalf("a held body, once whole: %d", c)
		}
	}
	if r := do(h, "POST", "/hooks/gh", ghHeaders("push", "again", push), string(push), "198.51.100.1:1003"); r.status != 200 {
		t.Fatalf("the source after its bodies ended: %d %v", r.status, r.body)
	}
	if n := h.readers.len(); n != 0 {
		t.Fatalf("%d sources still counted", n)
	}
}

// rawPost opens a connection to srv, sends a request's head announcing
// length bytes and then first, and returns the connection.
func rawPost(t *testing.T, srv *httptest.Server, hdr http.Header, length int, first []byte) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST /hooks/gh HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n", length)
	for k, v := range hdr {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v[0])
	}
	b.WriteString("\r\n")
	b.Write(first)
	if _, err := c.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	return c
}

// answerOf reads the answer on c, and reports whether it closes the
// connection (Connection: close, and the connection then ends).
func answerOf(t *testing.T, c net.Conn, within time.Duration) (*http.Response, bool) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(within))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer within %s: %v", within, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if !resp.Close {
		return resp, false
	}
	_, err = br.ReadByte()
	return resp, err == io.EOF
}

// TestIngestMinBodyRate sends a body's first bytes, then nothing: past the
// grace it is cut (408, connection closed, budget released, logged,
// counted against its source). A body that keeps the rate, over longer
// than the grace, is served.
func TestIngestMinBodyRate(t *testing.T) {
	h, _ := newTestHandler(t, config.Endpoint{Name: "gh", Provider: "github", Secrets: []config.Secret{secret}})
	var logs lockedBuffer
	h.log = slog.New(slog.NewTextHandler(&logs, nil))
	h.opts.MinBodyRate = 1000
	h.opts.MinBodyRateGrace = 300 * time.Millisecond
	h.sources = newSourceLimiter(0.001, 1, 0) // one failure, then 429
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close) // after rawPost's cleanups: a handler still reading ends first

	push := []byte(`{"ref":"refs/heads/main","pad":"` + strings.Repeat("x", 2000) + `"}`)
	bad := ghHeaders("push", "slow", push)
	start := time.Now()
	c := rawPost(t, srv, bad, 1<<20, push[:100])
	resp, closed := answerOf(t, c, 5*time.Second)
	took := time.Since(start)
	if resp.StatusCode != 408 || !closed {
		t.Fatalf("a body that stopped: %d, closed %v; want 408 and the connection closed", resp.StatusCode, closed)
	}
	// 100 bytes at 1000 B/s last 0.1 s: the grace decides.
	if took < 300*time.Millisecond || took > 2*time.Second {
		t.Fatalf("cut after %s, want soon after the 300ms grace", took)
	}
	if n := h.budget.inUse(); n != 0 {
		t.Fatalf("%d bytes still reserved after the cut", n)
	}
	if !strings.Contains(logs.String(), "body sent too slowly") || !strings.Contains(logs.String(), "under server.min_body_rate") {
		t.Fatalf("no log line for the cut:\n%s", logs.String())
	}
	// It counted against its source: the next request from it is 429.
	c = rawPost(t, srv, ghHeaders("push", "next", push), len(push), push)
	if resp, _ := answerOf(t, c, 5*time.Second); resp.StatusCode != 429 {
		t.Fatalf("after the cut, the source got %d, want 429: the cut counts as a failure", resp.StatusCode)
	}

	// Another source (the limiter forgets), a body at 4000 B/s over 0.6 s.
	h.sources = nil
	c = rawPost(t, srv, ghHeaders("push", "steady", push), len(push), nil)
	for i := 0; i < len(push); i += 200 {
		if _, err := c.Write(push[i:min(i+200, len(push))]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if resp, _ := answerOf(t, c, 5*time.Second); resp.StatusCode != 200 {
		t.Fatalf("a body that keeps the rate: %d, want 200", resp.StatusCode)
	}
}

// TestIngestShedsSlowestForWaiter fills a small body budget with one slow
// body: a delivery that comes whole waits for room, and the slow body is
// cut for it (408), the slowest first.
func TestIngestShedsSlowestForWaiter(t *testing.T) {
	h, _ := newTestHandler(t, config.Endpoint{Name: "gh", Provider: "github", Secrets: []config.Secret{secret}})
	var logs lockedBuffer
	h.log = slog.New(slog.NewTextHandler(&logs, nil))
	h.opts.MinBodyRate = -1 // only shedding
	h.budget = newBudget(64 << 10)
	h.budget.shed = h.reads.shed
	h.opts.BusyWait = 5 * time.Second
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close) // after rawPost's cleanups: a handler still reading ends first

	// The delivery's buffer grows to 8, 16, then 30 KiB: 56 KiB at
	// most, with the 16 KiB one held while the last is taken.
	push := []byte(`{"ref":"refs/heads/main","pad":"` + strings.Repeat("x", 30<<10-40) + `"}`)
	bad := ghHeaders("push", "hog", push)
	bad.Set("X-Hub-Signature-256", "sha256=00")
	// 20 KiB grow the slow body's buffer to 32 KiB, half the budget.
	hog := rawPost(t, srv, bad, 1<<20, bytes.Repeat([]byte(" "), 20<<10))
	for i := 0; h.budget.inUse() < 32<<10; i++ {
		if i > 500 {
			r, _ := answerOf(t, hog, time.Second)
			t.Fatalf("the slow body holds %d bytes; answered %d; log:\n%s", h.budget.inUse(), r.StatusCode, logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(shedAge) // the slow body is old enough to be shed
	start := time.Now()
	req, _ := http.NewRequest("POST", srv.URL+"/hooks/gh", bytes.NewReader(push))
	req.Header = ghHeaders("push", "waiter", push)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || time.Since(start) > 2*time.Second {
		t.Fatalf("delivery behind a slow body: %d after %s, want 200 at once", resp.StatusCode, time.Since(start))
	}
	if r, closed := answerOf(t, hog, 5*time.Second); r.StatusCode != 408 || !closed {
		t.Fatalf("the slow body: %d, closed %v; want 408, closed", r.StatusCode, closed)
	}
	if !strings.Contains(logs.String(), "the slowest body while others waited") {
		t.Fatalf("no log line for the shed body:\n%s", logs.String())
	}
	for i := 0; h.reads.len() != 0 || h.budget.inUse() != 0; i++ {
		if i > 500 {
			t.Fatalf("%d reads, %d bytes left", h.reads.len(), h.budget.inUse())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestIngestLogSamplerOneASecond(t *testing.T) {
	var s logSampler
	t0 := time.Unix(1000, 0)
	if ok, n := s.take(t0); !ok || n != 0 {
		t.Fatalf("first: %v %d", ok, n)
	}
	for i := range 50 {
		if ok, _ := s.take(t0.Add(time.Duration(i) * 10 * time.Millisecond)); ok {
			t.Fatalf("event %d within the second was let through", i)
		}
	}
	if ok, n := s.take(t0.Add(time.Second)); !ok || n != 50 {
		t.Errorf("after a second: %v, %d left out; want true, 50", ok, n)
	}
}
