package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/verify"
)

// The attacks of issue 10 on the public ingest listener, each against the
// real binary: what a 2xx promises must hold while strangers push.

const attackSecret = "attack-secret"

// attackerClient is an HTTP client whose connections come from 127.0.0.2:
// another source address than the forge's 127.0.0.1, as an attacker's is.
func attackerClient() *http.Client { return clientFrom(net.IPv4(127, 0, 0, 2)) }

// clientFrom is an HTTP client whose connections come from the loopback
// address ip.
func clientFrom(ip net.IP) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 16}, Timeout: 30 * time.Second}
}

// signedPush returns the headers and body of a GitHub push signed with
// attackSecret, with delivery id id.
func signedPush(id string, body []byte) http.Header {
	return hdr("Content-Type", "application/json", "X-GitHub-Event", "push", "X-GitHub-Delivery", id,
		"X-Hub-Signature-256", verify.Sign(verify.SHA256, verify.Hex, "sha256=", []byte(attackSecret), body))
}

func pushBody(n int) []byte {
	return fmt.Appendf(nil, `{"ref":"refs/heads/main","after":"%040d","repository":{"full_name":"acme/app","html_url":"https://github.com/acme/app"},"commits":[]}`, n)
}

// startInCgroup is start with the process inside the cgroup v1 memory
// group dir from its first instruction (a shell joins it, then execs
// forgehook with the same pid).
func startInCgroup(t *testing.T, dir, cfgPath, ingest, admin string) *proc {
	t.Helper()
	s := &proc{t: t, ingest: ingest, admin: admin, cfgPath: cfgPath, exited: make(chan struct{})}
	s.cmd = exec.Command("/bin/sh", "-c", `echo $$ > "$1/cgroup.procs" && exec "$2" serve --config "$3" --log-format json`,
		"sh", dir, binary, cfgPath)
	s.cmd.Stdout, s.cmd.Stderr = lockedWriter{s}, lockedWriter{s}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() { s.kill() })
	s.waitReady(30 * time.Second)
	return s
}

// memoryCgroup makes a cgroup v1 memory group limited to limit bytes, or
// skips the test where the machine has none.
func memoryCgroup(t *testing.T, limit int64) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for a memory cgroup")
	}
	root := "/sys/fs/cgroup/memory"
	if _, err := os.Stat(filepath.Join(root, "memory.limit_in_bytes")); err != nil {
		t.Skip("no cgroup v1 memory controller at " + root)
	}
	dir := filepath.Join(root, fmt.Sprintf("forgehook-e2e-%d-%d", os.Getpid(), time.Now().UnixNano()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("cannot make a memory cgroup: %v", err)
	}
	t.Cleanup(func() {
		for range 100 { // the killed process leaves the group a moment later
			if os.Remove(dir) == nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Errorf("could not remove cgroup %s", dir)
	})
	if err := os.WriteFile(filepath.Join(dir, "memory.limit_in_bytes"), []byte(strconv.FormatInt(limit, 10)), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// statusKB reads a "Name:   123 kB" line of /proc/pid/status, in bytes.
func statusKB(t *testing.T, pid int, name string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", name, pid)
	return 0
}

func readInt(t *testing.T, path string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n
}

// statusCounts counts statuses, safely from many goroutines.
type statusCounts struct {
	mu sync.Mutex
	m  map[int]int
}

func (c *statusCounts) add(s int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[int]int{}
	}
	c.m[s]++
}

func (c *statusCounts) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprint(c.m)
}

// TestIngestAttackMemoryFollowsBytesReceived runs forgehook in a memory
// cgroup of 1 GiB under 200 connections that announce max_body (25 MiB)
// and trickle (from 25 addresses, 8 each: server.max_concurrent_per_source
// lets them all in), plus 10 unsigned form posts of 20 MiB (from 10 more
// addresses), while a forge sends
// signed deliveries: memory must follow the bytes received and the body
// budget (peak RSS under 300 MiB), and every signed delivery gets 200,
// during and after.
func TestIngestAttackMemoryFollowsBytesReceived(t *testing.T) {
	cg := memoryCgroup(t, 1<<30)
	dir := t.TempDir()
	cfg, ingest, admin := writeConfig(t, dir, `endpoints:
  - name: gh
    provider: github
    secrets: ["`+attackSecret+`"]
  - name: tea
    provider: gitea
    secrets: ["`+attackSecret+`"]
`)
	srv := startInCgroup(t, cg, cfg, ingest, admin)
	pid := srv.cmd.Process.Pid
	baseline := statusKB(t, pid, "VmRSS")
	addr := strings.TrimPrefix(ingest, "http://")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// The forge: signed deliveries every 50 ms from 127.0.0.1 until the
	// attack is over.
	var forge statusCounts
	var sent atomic.Int64
	forgeDone := make(chan struct{})
	go func() {
		defer close(forgeDone)
		for i := 0; ctx.Err() == nil; i++ {
			body := pushBody(i)
			status, ans, err := post(context.Background(), ingest+"/hooks/gh", signedPush(fmt.Sprintf("during-%d", i), body), body)
			if err != nil {
				t.Errorf("signed delivery %d during the attack: %v", i, err)
				status = -1
			} else if status != 200 {
				t.Errorf("signed delivery %d during the attack: %d %s", i, status, ans.Error)
			}
			forge.add(status)
			sent.Add(1)
			time.Sleep(50 * time.Millisecond) // the forge's pace during the attack: 20 deliveries a second
		}
	}()

	// 200 slow connections from 127.0.0.100-124 announce max_body and send
	// 1 KiB every 250 ms.
	var slow sync.WaitGroup
	var opened atomic.Int64
	chunk := bytes.Repeat([]byte(" "), 1024)
	for i := range 200 {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(100+i%25))}}
		slow.Go(func() {
			c, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				t.Errorf("slow connection: %v", err)
				return
			}
			defer c.Close()
			_, err = fmt.Fprintf(c, "POST /hooks/gh HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-GitHub-Event: push\r\nX-Hub-Signature-256: sha256=00\r\nContent-Length: %d\r\n\r\n{\"pad\":\"", 25<<20)
			if err != nil {
				t.Errorf("slow connection: %v", err)
				return
			}
			opened.Add(1)
			tick := time.NewTicker(250 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					if _, err := c.Write(chunk); err != nil {
						return
					}
				}
			}
		})
	}
	waitFor(t, 10*time.Second, "200 slow connections", func() bool { return opened.Load() == 200 })

	// 10 unsigned form posts of 20 MiB at once, to the endpoint whose
	// scheme signs the form's payload field (Gitea): each is read and its
	// field decoded within the budget, then refused.
	form := make([]byte, 0, 20<<20+64)
	form = append(form, "payload="...)
	form = append(form, url.QueryEscape(`{"pad":"`)...)
	form = append(form, bytes.Repeat([]byte("%41"), (20<<20-len(form)-32)/3)...)
	form = append(form, url.QueryEscape(`"}`)...)
	var big statusCounts
	var posts sync.WaitGroup
	for i := range 10 {
		attacker := clientFrom(net.IPv4(127, 0, 0, byte(200+i)))
		posts.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, "POST", ingest+"/hooks/tea", bytes.NewReader(form))
			req.Header = hdr("Content-Type", "application/x-www-form-urlencoded", "X-Gitea-Event", "push", "X-Gitea-Delivery", fmt.Sprint("big-", i))
			resp, err := attacker.Do(req)
			if err != nil {
				// A server that refuses (503, busy) before the whole
				// body is read closes the connection under the sender:
				// a refusal too, counted as status 0.
				if errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) {
					big.add(0)
					return
				}
				t.Errorf("unsigned form post: %v", err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			big.add(resp.StatusCode)
			if resp.StatusCode == 200 {
				t.Errorf("an unsigned form post was accepted")
			}
		})
	}
	posts.Wait()
	// Let the trickle go on a little longer with the forge still sending.
	during := sent.Load()
	waitFor(t, 10*time.Second, "signed deliveries after the big posts", func() bool { return sent.Load() >= during+20 })
	peak := statusKB(t, pid, "VmHWM")
	cgPeak := readInt(t, filepath.Join(cg, "memory.max_usage_in_bytes"))
	cancel()
	slow.Wait()
	<-forgeDone

	// After: the forge is still served.
	for i := range 10 {
		body := pushBody(1000 + i)
		status, ans, err := post(context.Background(), ingest+"/hooks/gh", signedPush(fmt.Sprintf("after-%d", i), body), body)
		if err != nil || status != 200 {
			t.Errorf("signed delivery %d after the attack: %d %s %v", i, status, ans.Error, err)
		}
	}
	t.Logf("RSS: %d MiB before, peak %d MiB (cgroup peak %d MiB, page cache included); unsigned 20 MiB form posts: %s; signed deliveries during the attack: %s",
		baseline>>20, peak>>20, cgPeak>>20, big.String(), forge.String())
	if peak >= 300<<20 {
		t.Errorf("peak RSS %d MiB under the attack, want < 300 MiB", peak>>20)
	}
	if forge.m[200] < 20 {
		t.Errorf("only %d signed deliveries during the attack", forge.m[200])
	}
	srv.stop()
}

// TestIngestAttackUnsignedFloodDoesNotStarveSigned floods an endpoint that
// has a rate limit with unsigned deliveries from one address while the
// forge sends signed ones from another: the endpoint's tokens go only to
// authenticated deliveries, so every signed one is stored, and the flood
// runs into its own per-address limit (429 with Retry-After).
func TestIngestAttackUnsignedFloodDoesNotStarveSigned(t *testing.T) {
	dir := t.TempDir()
	cfg, ingest, admin := writeConfig(t, dir, `endpoints:
  - name: gh
    provider: github
    secrets: ["`+attackSecret+`"]
    rate_limit: {per_second: 2, burst: 10}
`)
	srv := start(t, cfg, ingest, admin)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var flood statusCounts
	var retryAfter atomic.Bool
	var wg sync.WaitGroup
	attacker := attackerClient()
	body := pushBody(0)
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "POST", ingest+"/hooks/gh", bytes.NewReader(body))
				req.Header = hdr("Content-Type", "application/json", "X-GitHub-Event", "push", "X-Hub-Signature-256", "sha256=00")
				resp, err := attacker.Do(req)
				if err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				flood.add(resp.StatusCode)
				if resp.StatusCode == 429 && resp.Header.Get("Retry-After") != "" {
					retryAfter.Store(true)
				}
			}
		})
	}
	var signed statusCounts
	for i := range 10 {
		b := pushBody(i)
		status, ans, err := post(context.Background(), ingest+"/hooks/gh", signedPush(fmt.Sprintf("flood-%d", i), b), b)
		if err != nil || status != 200 {
			t.Errorf("signed delivery %d during the flood: %d %s %v", i, status, ans.Error, err)
		}
		signed.add(status)
		time.Sleep(100 * time.Millisecond) // spread the signed deliveries over the flood
	}
	cancel()
	wg.Wait()
	t.Logf("signed: %s; unsigned flood: %s", signed.String(), flood.String())
	if flood.m[401] == 0 || flood.m[429] == 0 || !retryAfter.Load() {
		t.Errorf("flood statuses %s: want 401s, then 429s with Retry-After", flood.String())
	}
	if flood.m[401] > 40 {
		t.Errorf("%d unsigned requests were read and refused: the per-address limit (burst 20, 1/s) did not hold", flood.m[401])
	}
	srv.stop()
}

// nested returns a push body whose "deep" member nests depth levels of
// arrays (the body itself is one more level).
func nested(depth int) []byte {
	return []byte(`{"ref":"refs/heads/main","deep":` + strings.Repeat("[", depth-1) + strings.Repeat("]", depth-1) + `}`)
}

// TestIngestAttackDeepBodyRefusedAtTheDoor sends signed bodies nested
// 10,000 and 500 levels deep: the first could be stored but never listed,
// read or delivered, so it is refused (400); the second is stored, listed
// and read back.
func TestIngestAttackDeepBodyRefusedAtTheDoor(t *testing.T) {
	dir := t.TempDir()
	cfg, ingest, admin := writeConfig(t, dir, `endpoints:
  - name: gh
    provider: github
    secrets: ["`+attackSecret+`"]
`)
	srv := start(t, cfg, ingest, admin)
	ctx := context.Background()
	for _, depth := range []int{10000, 9999, 513} {
		b := nested(depth)
		status, ans, err := post(ctx, ingest+"/hooks/gh", signedPush(fmt.Sprint("deep-", depth), b), b)
		if err != nil || status != 400 || !strings.Contains(ans.Error, "nests deeper than 512") {
			t.Errorf("body %d levels deep: %d %q %v, want 400 naming the limit", depth, status, ans.Error, err)
		}
	}
	b := nested(500)
	status, ans, err := post(ctx, ingest+"/hooks/gh", signedPush("deep-500", b), b)
	if err != nil || status != 200 {
		t.Fatalf("body 500 levels deep: %d %q %v, want 200", status, ans.Error, err)
	}
	if !eventIDs(t, admin)[ans.ID] {
		t.Errorf("the 500-deep event %s is not listed", ans.ID)
	}
	resp, err := http.Get(admin + "/api/v1/events/" + ans.ID)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Event struct {
			Data struct {
				Body struct {
					Deep json.RawMessage `json:"deep"`
				} `json:"body"`
			} `json:"data"`
		} `json:"event"`
	}
	err = json.NewDecoder(resp.Body).Decode(&d)
	resp.Body.Close()
	if resp.StatusCode != 200 || err != nil || strings.Count(string(d.Event.Data.Body.Deep), "[") != 499 {
		t.Errorf("GET the 500-deep event: %d %v, body.deep of %d bytes", resp.StatusCode, err, len(d.Event.Data.Body.Deep))
	}
	srv.stop()
}

// TestIngestAttackEventIDsAreForgehooks sends the same delivery id to two
// endpoints: two events with two ids of forgehook's own, each keeping the
// forge's id as forgedelivery; the same endpoint's redelivery is a
// duplicate of its original.
func TestIngestAttackEventIDsAreForgehooks(t *testing.T) {
	dir := t.TempDir()
	cfg, ingest, admin := writeConfig(t, dir, `endpoints:
  - name: one
    provider: github
    secrets: ["`+attackSecret+`"]
  - name: two
    provider: github
    secrets: ["`+attackSecret+`"]
`)
	srv := start(t, cfg, ingest, admin)
	ctx := context.Background()
	const delivery = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
	b := pushBody(7)
	var ids []string
	for _, ep := range []string{"one", "two"} {
		status, ans, err := post(ctx, ingest+"/hooks/"+ep, signedPush(delivery, b), b)
		if err != nil || status != 200 || ans.Duplicate {
			t.Fatalf("%s: %d %+v %v", ep, status, ans, err)
		}
		if ans.ID == delivery || len(ans.ID) != 36 || ans.ID[14] != '7' {
			t.Errorf("%s: event id %q, want a UUIDv7 of forgehook's", ep, ans.ID)
		}
		ids = append(ids, ans.ID)
	}
	if ids[0] == ids[1] {
		t.Fatalf("two endpoints' events share the id %s", ids[0])
	}
	status, again, err := post(ctx, ingest+"/hooks/one", signedPush(delivery, b), b)
	if err != nil || status != 200 || !again.Duplicate || again.ID != ids[0] {
		t.Fatalf("redelivery to one: %d %+v %v, want a duplicate of %s", status, again, err, ids[0])
	}
	for i, id := range ids {
		resp, err := http.Get(admin + "/api/v1/events/" + id)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			Event struct {
				ID       string `json:"id"`
				Delivery string `json:"forgedelivery"`
				Endpoint string `json:"endpoint"`
			} `json:"event"`
		}
		err = json.NewDecoder(resp.Body).Decode(&d)
		resp.Body.Close()
		if err != nil || d.Event.ID != id || d.Event.Delivery != delivery || d.Event.Endpoint != []string{"one", "two"}[i] {
			t.Errorf("event %s: %+v %v", id, d.Event, err)
		}
	}
	srv.stop()
}

// TestIngestAttackDeliveryIDAndSmuggling checks two permanent errors: a
// delivery id of 500 KB is a 400 (not a 503 that invites a retry), and a
// request with both Content-Length and Transfer-Encoding is answered with
// Connection: close and the connection closed, so that what a proxy might
// read as a second request is never served.
func TestIngestAttackDeliveryIDAndSmuggling(t *testing.T) {
	dir := t.TempDir()
	cfg, ingest, admin := writeConfig(t, dir, `endpoints:
  - name: gh
    provider: github
    secrets: ["`+attackSecret+`"]
`)
	srv := start(t, cfg, ingest, admin)
	b := pushBody(1)
	status, ans, err := post(context.Background(), ingest+"/hooks/gh", signedPush(strings.Repeat("d", 500<<10), b), b)
	if err != nil || status != 400 || ans.Error != "delivery id too long" {
		t.Errorf("500 KB delivery id: %d %q %v, want 400 delivery id too long", status, ans.Error, err)
	}

	c, err := net.Dial("tcp", strings.TrimPrefix(ingest, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	h := signedPush("smuggle-1", b)
	var req bytes.Buffer
	fmt.Fprintf(&req, "POST /hooks/gh HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n")
	for k, v := range h {
		fmt.Fprintf(&req, "%s: %s\r\n", k, v[0])
	}
	fmt.Fprintf(&req, "\r\n%x\r\n%s\r\n0\r\n\r\n", len(b), b)
	// What follows would be a second request to a server that kept the
	// connection.
	fmt.Fprintf(&req, "GET /hooks/gh HTTP/1.1\r\nHost: x\r\n\r\n")
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(req.Bytes()); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	// resp.Close is the answer's Connection: close (ReadResponse takes
	// the header out).
	if !resp.Close {
		t.Errorf("CL+TE request answered %d without Connection: close (%v)", resp.StatusCode, resp.Header)
	}
	if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
		t.Errorf("after the CL+TE answer the connection gave %q, %v; want it closed", rest, err)
	}
	srv.stop()
}

// slowSender is one attacker connection of
// TestIngestAttackSlowBodiesDoNotStarveSigned, from source address from: it
// announces 4 MiB, sends 100 KiB at once (so that the server's buffer for
// it grows to 128 KiB), then 4 bytes every 500 ms, until the server
// answers or closes, or ctx ends. It returns the status of the answer, or
// -1 when the connection ended without one.
func slowSender(ctx context.Context, addr string, from net.IP) int {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: from}, Timeout: 5 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return -1
	}
	defer c.Close()
	answered := make(chan int, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			answered <- -1
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	// The reader goroutine ends when c is closed (deferred above), so the
	// caller's wait covers it.
	var head bytes.Buffer
	fmt.Fprintf(&head, "POST /hooks/gh HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-GitHub-Event: push\r\nX-Hub-Signature-256: sha256=00\r\nContent-Length: %d\r\n\r\n{\"pad\":\"", 4<<20)
	head.Write(bytes.Repeat([]byte("x"), 100<<10))
	if _, err := c.Write(head.Bytes()); err != nil {
		return <-answered
	}
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			c.Close()
			<-answered
			return 0
		case s := <-answered:
			return s
		case <-tick.C:
			if _, err := c.Write([]byte("xxxx")); err != nil {
				c.Close()
				return <-answered
			}
		}
	}
}

// TestIngestAttackSlowBodiesDoNotStarveSigned keeps 300 connections
// sending bodies slowly: each sends 100 KiB of an announced 4 MiB at once,
// then 8 bytes a second, and opens a new one whenever the server answers.
// Unchecked, about 256 of them hold 128 KiB each of the 32 MiB body budget
// until read_timeout (60 s), and deliveries wait 2 s, then get 503. From 20
// source addresses (127.0.0.10-29, 15 connections each), the per-source
// cap on concurrent body reads (server.max_concurrent_per_source, 8)
// refuses some (429); from 100 (3 each), it does not, and the bodies that
// hold the budget are cut, the slowest first, for the deliveries that wait
// for room, and by the minimum body rate (server.min_body_rate, 16 KiB/s
// after 5 s): 408, and their sources may then run into the failed
// authentication limit (429). Either way every signed delivery from
// 127.0.0.1, one every 100 ms for 15 s, gets 200, and peak RSS stays under
// 300 MiB.
func TestIngestAttackSlowBodiesDoNotStarveSigned(t *testing.T) {
	for _, sources := range []int{20, 100} {
		t.Run(fmt.Sprintf("%d sources", sources), func(t *testing.T) { slowBodies(t, sources) })
	}
}

func slowBodies(t *testing.T, sources int) {
	dir := t.TempDir()
	cfg, ingest, admin := writeConfig(t, dir, `endpoints:
  - name: gh
    provider: github
    secrets: ["`+attackSecret+`"]
`)
	srv := start(t, cfg, ingest, admin)
	pid := srv.cmd.Process.Pid
	addr := strings.TrimPrefix(ingest, "http://")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var slow statusCounts
	var rounds atomic.Int64
	var attackers sync.WaitGroup
	for i := range 300 {
		from := net.IPv4(127, 0, 0, byte(10+i%sources))
		attackers.Go(func() {
			for ctx.Err() == nil {
				s := slowSender(ctx, addr, from)
				if ctx.Err() != nil {
					return
				}
				slow.add(s)
				rounds.Add(1)
				select { // a new connection at once, but not a busy loop
				case <-ctx.Done():
				case <-time.After(50 * time.Millisecond):
				}
			}
		})
	}

	// The forge: a signed delivery every 100 ms for 15 s, past the 5 s
	// grace and the first cuts.
	var forge statusCounts
	deadline := time.Now().Add(15 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		body := pushBody(i)
		status, ans, err := post(context.Background(), ingest+"/hooks/gh", signedPush(fmt.Sprintf("slow-%d", i), body), body)
		if err != nil {
			t.Errorf("signed delivery %d during the attack: %v", i, err)
			status = -1
		} else if status != 200 {
			t.Errorf("signed delivery %d during the attack: %d %s", i, status, ans.Error)
		}
		forge.add(status)
		time.Sleep(100 * time.Millisecond)
	}
	peak := statusKB(t, pid, "VmHWM")
	cancel()
	attackers.Wait()
	t.Logf("peak RSS %d MiB; signed deliveries: %s; slow bodies (%d answered): %s",
		peak>>20, forge.String(), rounds.Load(), slow.String())
	if peak >= 300<<20 {
		t.Errorf("peak RSS %d MiB under the attack, want < 300 MiB", peak>>20)
	}
	slow.mu.Lock()
	cut, refused := slow.m[408], slow.m[429]
	slow.mu.Unlock()
	if cut == 0 {
		t.Errorf("slow bodies answered %s: want some cut (408)", slow.String())
	}
	if sources*8 < 300 && refused == 0 {
		t.Errorf("slow bodies answered %s: want some refused (429) past 8 at once per source", slow.String())
	}
	if !strings.Contains(srv.Output(), "body sent too slowly") {
		t.Errorf("no log line for a cut slow body")
	}
	srv.stop()
}
