package ingest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/jsonx"
)

func TestIngestBudgetWaitsThenRefuses(t *testing.T) {
	const mib = 1 << 20
	b := newBudget(8 * mib) // large requests share 6 MiB
	ctx := context.Background()
	a := reservation{b: b, wait: time.Second}
	if err := a.grow(ctx, 5*mib); err != nil {
		t.Fatal(err)
	}
	// Past the large share: c takes the overdraft, and never waits.
	c := reservation{b: b, wait: time.Second}
	if err := c.grow(ctx, 4*mib); err != nil {
		t.Fatalf("the overdraft: %v", err)
	}
	if err := c.grow(ctx, 20*mib); err != nil {
		t.Fatalf("the overdraft holder waited: %v", err)
	}
	// Another large request waits, then gets errBusy.
	d := reservation{b: b, wait: 50 * time.Millisecond}
	start := time.Now()
	if err := d.grow(ctx, 2*mib); !errors.Is(err, errBusy) {
		t.Fatalf("over the budget: %v, want errBusy", err)
	}
	if waited := time.Since(start); waited < 50*time.Millisecond {
		t.Fatalf("refused after %s, before its wait", waited)
	}
	// Its wait is over: a second try is refused at once.
	if err := d.grow(ctx, 2*mib); !errors.Is(err, errBusy) {
		t.Fatalf("second try: %v", err)
	}
	// A small request still has the quarter kept for small ones.
	s := reservation{b: b, wait: 50 * time.Millisecond}
	if err := s.grow(ctx, mib/2); err != nil {
		t.Fatalf("a small request behind large ones: %v", err)
	}
	if err := s.grow(ctx, mib); !errors.Is(err, errBusy) {
		t.Fatalf("a request past smallRequest is large: %v", err)
	}
	// A release wakes a waiter.
	e := reservation{b: b, wait: 5 * time.Second}
	done := make(chan error, 1)
	go func() { done <- e.grow(ctx, 2*mib) }()
	time.Sleep(20 * time.Millisecond)
	c.release()
	if err := <-done; err != nil {
		t.Fatalf("waiter after a release: %v", err)
	}
	if got := b.inUse(); got != 7*mib+mib/2 {
		t.Fatalf("in use %d, want 7.5 MiB", got)
	}
	for _, r := range []*reservation{&a, &d, &s, &e} {
		r.release()
	}
	if got := b.inUse(); got != 0 || b.overdraft != nil {
		t.Fatalf("in use %d, overdraft %v after every release", got, b.overdraft)
	}
}

func TestIngestSourceLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newSourceLimiter(1, 3, 4)
	a := netip.MustParseAddr("198.51.100.7")
	for range 3 {
		if ok, _, _ := l.allowed(a, now); !ok {
			t.Fatal("refused within the burst")
		}
		l.fail(a, now)
	}
	ok, wait, logIt := l.allowed(a, now)
	if ok || wait <= 0 || wait > time.Second || !logIt {
		t.Fatalf("after 3 failures: allowed %v, wait %s, log %v; want refused for up to 1s, logged", ok, wait, logIt)
	}
	if _, _, logIt := l.allowed(a, now.Add(time.Millisecond)); logIt {
		t.Fatal("a second refusal within a second is logged")
	}
	if ok, _, _ := l.allowed(netip.MustParseAddr("198.51.100.8"), now); !ok {
		t.Fatal("another address is refused")
	}
	if ok, _, _ := l.allowed(a, now.Add(1100*time.Millisecond)); !ok {
		t.Fatal("no token back after a second")
	}
	// IPv6 sources count by /64.
	l.fail(netip.MustParseAddr("2001:db8::1"), now)
	l.fail(netip.MustParseAddr("2001:db8::2"), now)
	l.fail(netip.MustParseAddr("2001:db8::3"), now)
	if ok, _, _ := l.allowed(netip.MustParseAddr("2001:db8::ffff"), now); ok {
		t.Fatal("an IPv6 /64 is not one source")
	}
	// The table is bounded: new sources push out the least recently
	// failed, never the whole table.
	for i := range 100 {
		l.fail(netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}), now)
		if n := l.len(); n > 4 {
			t.Fatalf("%d sources remembered, want at most 4", n)
		}
	}
	l.fail(netip.AddrFrom4([4]byte{203, 0, 113, 99}), now)
	l.fail(netip.AddrFrom4([4]byte{203, 0, 113, 99}), now)
	l.fail(netip.AddrFrom4([4]byte{203, 0, 113, 99}), now)
	for i := range 3 {
		l.fail(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), now)
	}
	if ok, _, _ := l.allowed(netip.AddrFrom4([4]byte{203, 0, 113, 99}), now); ok {
		t.Fatal("a recent offender was forgotten while the table had older ones")
	}
}

// countingReader counts what is read and serves n bytes of a JSON string.
type countingReader struct {
	n, read int
}

func (r *countingReader) Read(p []byte) (int, error) {
	if r.read >= r.n {
		return 0, io.EOF
	}
	k := min(len(p), r.n-r.read)
	for i := range k {
		p[i] = ' '
	}
	r.read += k
	return k, nil
}

// TestIngestMemoryFollowsBytesReceived announces max_body and sends a few
// bytes: the buffer stays small. A body that does come whole grows its
// buffer within the budget, which is empty again after the request.
func TestIngestMemoryFollowsBytesReceived(t *testing.T) {
	h, _ := newTestHandler(t, config.Endpoint{Name: "gh", Provider: "github", Secrets: []config.Secret{secret}, MaxBody: 25 << 20})
	var rs reservation
	rs.b, rs.wait = h.budget, time.Second
	bp := h.bufs.get(initialBody)
	if err := h.readBody(context.Background(), &countingReader{n: 10}, bp, &rs, 25<<20, 25<<20, nil); err != nil {
		t.Fatal(err)
	}
	if cap(*bp) > initialBody || rs.held > initialBody {
		t.Fatalf("10 bytes of an announced 25 MiB took a buffer of %d, reserved %d", cap(*bp), rs.held)
	}
	rs.release()
	bp = h.bufs.get(initialBody)
	if err := h.readBody(context.Background(), &countingReader{n: 3 << 20}, bp, &rs, -1, 25<<20, nil); err != nil {
		t.Fatal(err)
	}
	if len(*bp) != 3<<20 || cap(*bp) > 2*(3<<20) || rs.held != int64(cap(*bp)) {
		t.Fatalf("3 MiB read into len %d cap %d with %d reserved", len(*bp), cap(*bp), rs.held)
	}
	rs.release()

	body := []byte(`{"ref":"refs/heads/main","pad":"` + strings.Repeat("x", 1<<20) + `"}`)
	if r := do(h, "POST", "/hooks/gh", ghHeaders("push", "big", body), string(body), ""); r.status != 200 {
		t.Fatalf("1 MiB push: %d %v", r.status, r.body)
	}
	if n := h.budget.inUse(); n != 0 {
		t.Fatalf("%d bytes still reserved after the request", n)
	}
}

// TestIngestBusyAnswers503 fills the budget with another request's bytes:
// a delivery waits, then gets 503 with Retry-After.
func TestIngestBusyAnswers503(t *testing.T) {
	h, _ := newTestHandler(t, config.Endpoint{Name: "gh", Provider: "github", Secrets: []config.Secret{secret}})
	h.budget = newBudget(1 << 20)
	h.opts.BusyWait = 50 * time.Millisecond
	other := reservation{b: h.budget, wait: time.Second}
	if err := other.grow(context.Background(), 1<<20); err != nil { // all of it
		t.Fatal(err)
	}
	push := []byte(`{"ref":"refs/heads/main"}`)
	r := do(h, "POST", "/hooks/gh", ghHeaders("push", "busy", push), string(push), "")
	if r.status != 503 || r.header.Get("Retry-After") == "" || r.body["error"] != "server busy, try again" {
		t.Fatalf("over the budget: %d %v %v, want 503 with Retry-After", r.status, r.body, r.header)
	}
	other.release()
	if r := do(h, "POST", "/hooks/gh", ghHeaders("push", "busy", push), string(push), ""); r.status != 200 {
		t.Fatalf("after the release: %d %v", r.status, r.body)
	}
}

// TestIngestRateLimitCountsOnlyAuthenticated floods an endpoint with
// unsigned deliveries: they take none of its tokens, run into their
// source's limit (429 before their body is read), and a signed delivery
// from another address is stored.
func TestIngestRateLimitCountsOnlyAuthenticated(t *testing.T) {
	h, _ := newTestHandler(t, config.Endpoint{Name: "gh", Provider: "github", Secrets: []config.Secret{secret}, RateLimit: config.RateLimit{PerSecond: 0.001, Burst: 2}})
	h.sources = newSourceLimiter(0.001, 5, 0)
	push := []byte(`{"ref":"refs/heads/main"}`)
	bad := ghHeaders("push", "x", push)
	bad.Set("X-Hub-Signature-256", "sha256=00")
	var statuses []int
	for range 10 {
		statuses = append(statuses, do(h, "POST", "/hooks/gh", bad.Clone(), string(push), "198.51.100.1:1000").status)
	}
	want := []int{401, 401, 401, 401, 401, 429, 429, 429, 429, 429}
	for i := range want {
		if statuses[i] != want[i] {
			t.Fatalf("unsigned flood statuses %v, want %v", statuses, want)
		}
	}
	// Refused at the door: the body is not read.
	cr := &countingReader{n: 1 << 20}
	req := httptest.NewRequest("POST", "/hooks/gh", cr)
	req.Header = bad.Clone()
	req.RemoteAddr = "198.51.100.1:1001"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 429 || w.Header().Get("Retry-After") == "" || cr.read != 0 {
		t.Fatalf("limited source: %d, Retry-After %q, %d bytes read; want 429 before reading", w.Code, w.Header().Get("Retry-After"), cr.read)
	}
	// Guessing endpoint keys is failing authentication too.
	for i, want := range []int{404, 404, 404, 404, 404, 429} {
		if r := do(h, "POST", "/hooks/guess", bad.Clone(), string(push), "198.51.100.9:1000"); r.status != want {
			t.Fatalf("key guess %d: %d, want %d", i, r.status, want)
		}
	}
	for i, want := range []int{200, 200, 429} {
		r := do(h, "POST", "/hooks/gh", ghHeaders("push", "ok-"+string(rune('a'+i)), push), string(push), "192.0.2.1:1000")
		if r.status != want {
			t.Fatalf("signed delivery %d: %d %v, want %d: the endpoint's burst of 2 is for authenticated deliveries", i, r.status, r.body, want)
		}
	}
}

func TestIngestRefusesWhatItCouldNotServe(t *testing.T) {
	h, _ := newTestHandler(t, config.Endpoint{Name: "gh", Provider: "github", Secrets: []config.Secret{secret}})
	deep := []byte(`{"a":` + strings.Repeat("[", jsonx.MaxDepth) + strings.Repeat("]", jsonx.MaxDepth) + `}`)
	r := do(h, "POST", "/hooks/gh", ghHeaders("push", "deep", deep), string(deep), "")
	if r.status != 400 || r.body["error"] != "payload nests deeper than 512 levels" {
		t.Fatalf("%d levels deep: %d %v, want 400", jsonx.MaxDepth+1, r.status, r.body)
	}
	ok := []byte(`{"a":` + strings.Repeat("[", jsonx.MaxDepth-1) + strings.Repeat("]", jsonx.MaxDepth-1) + `}`)
	if r := do(h, "POST", "/hooks/gh", ghHeaders("push", "deep-ok", ok), string(ok), ""); r.status != 200 {
		t.Fatalf("%d levels deep: %d %v, want 200", jsonx.MaxDepth, r.status, r.body)
	}
	push := []byte(`{"ref":"refs/heads/main"}`)
	long := strings.Repeat("d", MaxDeliveryID+1)
	if r := do(h, "POST", "/hooks/gh", ghHeaders("push", long, push), string(push), ""); r.status != 400 || r.body["error"] != "delivery id too long" {
		t.Fatalf("delivery id of %d bytes: %d %v, want 400", len(long), r.status, r.body)
	}
	if r := do(h, "POST", "/hooks/gh", ghHeaders("push", long[:MaxDeliveryID], push), string(push), ""); r.status != 200 {
		t.Fatalf("delivery id of %d bytes: %d %v, want 200", MaxDeliveryID, r.status, r.body)
	}
}

// TestIngestFormAuthenticatedBeforeDecoding: an unsigned form body is
// refused 401 whatever its JSON; a signed one is checked after.
func TestIngestFormAuthenticatedBeforeDecoding(t *testing.T) {
	h, _ := newTestHandler(t, config.Endpoint{Name: "gh", Provider: "github", Secrets: []config.Secret{secret}})
	form := "payload=" + url.QueryEscape(`{not json`)
	hdr := ghHeaders("push", "f", []byte(form))
	hdr.Set("Content-Type", "application/x-www-form-urlencoded")
	if r := do(h, "POST", "/hooks/gh", hdr.Clone(), form, ""); r.status != 400 || r.body["error"] != "payload is not valid JSON" {
		t.Fatalf("signed form, bad JSON: %d %v", r.status, r.body)
	}
	hdr.Set("X-Hub-Signature-256", "sha256=00")
	if r := do(h, "POST", "/hooks/gh", hdr, form, ""); r.status != 401 {
		t.Fatalf("unsigned form, bad JSON: %d %v, want 401 before the JSON is looked at", r.status, r.body)
	}
}

// TestIngestChunkedClosesConnection: a chunked request (how one with both
// Content-Length and Transfer-Encoding reaches the handler) is answered
// with Connection: close.
func TestIngestChunkedClosesConnection(t *testing.T) {
	h, _ := newTestHandler(t, config.Endpoint{Name: "gh", Provider: "github", Secrets: []config.Secret{secret}})
	push := []byte(`{"ref":"refs/heads/main"}`)
	req := httptest.NewRequest("POST", "/hooks/gh", strings.NewReader(string(push)))
	req.Header = ghHeaders("push", "c", push)
	req.TransferEncoding = []string{"chunked"}
	req.ContentLength = -1
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 200 || w.Header().Get("Connection") != "close" {
		t.Fatalf("chunked: %d, Connection %q", w.Code, w.Header().Get("Connection"))
	}
	w = httptest.NewRecorder()
	req = httptest.NewRequest("POST", "/hooks/gh", strings.NewReader(string(push)))
	req.Header = ghHeaders("push", "c2", push)
	h.ServeHTTP(w, req)
	if w.Header().Get("Connection") != "" {
		t.Fatalf("a request with only Content-Length closes its connection")
	}
	_ = http.StatusOK
}
