package e2e

// The admin plane under attack (issue 10, items 2, 3 and 11): hostile
// stored bodies, cross-site requests, foreign Host names and token
// guessing, against the real binary.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/forgehook/forgehook/internal/verify"
)

// maxAdminAnswer bounds any admin answer about one stored event.
const maxAdminAnswer = 2 << 20

// maxAdminRSS bounds the process's peak RSS through the whole attack.
const maxAdminRSS = 300 << 20

// hostileBody returns a GitHub push body of about size bytes whose member
// "x" nests depth arrays around one wide array of numbers: a few bytes
// per element, each of which an unbounded indenter puts on its own line
// behind 2*depth spaces.
func hostileBody(depth, size int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"ref":"refs/heads/main","repository":{"full_name":"acme/app"},"x":`)
	b.WriteString(strings.Repeat("[", depth))
	for b.Len() < size-depth-2 {
		b.WriteString("1,")
	}
	b.WriteString("1")
	b.WriteString(strings.Repeat("]", depth))
	b.WriteString("}")
	return b.Bytes()
}

// sendSignedPush sends one signed GitHub push with body and returns the status
// and the stored event id.
func sendSignedPush(t *testing.T, ingest, secret, delivery string, body []byte) (int, string) {
	t.Helper()
	h := hdr("Content-Type", "application/json", "X-GitHub-Event", "push", "X-GitHub-Delivery", delivery,
		"X-Hub-Signature-256", verify.Sign(verify.SHA256, verify.Hex, "sha256=", []byte(secret), body))
	status, ans, err := post(context.Background(), ingest+"/hooks/gh", h, body)
	if err != nil {
		t.Fatalf("send %s: %v", delivery, err)
	}
	return status, ans.ID
}

// boundedGet GETs url and reads at most limit+1 bytes of the answer (an
// unbounded server answers hundreds of MB).
func boundedGet(t *testing.T, c *http.Client, u string, limit int) (int, []byte, http.Header) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	if err != nil {
		t.Fatalf("GET %s: read: %v", u, err)
	}
	return resp.StatusCode, b, resp.Header
}

// peakRSS returns the process's peak resident set (VmHWM) in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("peak RSS: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/<pid>/status")
	return 0
}

// TestAdminAttackHostileBodiesBounded stores signed bodies of 50 KB and
// 210 KB nested deep with wide arrays (the old API and UI indented them
// into 250 MB and more; the 210 KB one OOM-killed the process) and one
// with invalid UTF-8, then reads each from the API and the UI: every
// answer is bounded and valid, the process's peak RSS stays bounded,
// ingest still answers, and the body download gives the stored bytes.
func TestAdminAttackHostileBodiesBounded(t *testing.T) {
	dir := t.TempDir()
	cfg, ingest, admin := writeConfig(t, dir, "endpoints:\n  - name: gh\n    provider: github\n    secrets: [\"s\"]\n")
	srv := start(t, cfg, ingest, admin)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}

	bodies := []struct {
		name string
		body []byte
	}{
		// Within the 512 levels of the nesting rule: stored whatever
		// ingest's depth limit.
		{"50KB-depth500", hostileBody(500, 50<<10)},
		{"210KB-depth500", hostileBody(500, 210<<10)},
		// The bodies of the report: ingest may refuse them (400) once it
		// limits nesting; if it stores them, the views stay bounded.
		{"50KB-depth5000", hostileBody(5000, 50<<10)},
		{"210KB-depth5000", hostileBody(5000, 210<<10)},
		{"invalid-utf8", []byte("{\"ref\":\"refs/heads/caf\xe9\",\"repository\":{\"full_name\":\"acme/\xff\xfe\"},\"s\":\"\xed\xa0\x80 \xc3\"}")},
	}
	for _, b := range bodies {
		status, id := sendSignedPush(t, ingest, "s", b.name, b.body)
		if status != http.StatusOK {
			if strings.Contains(b.name, "depth5000") && status == http.StatusBadRequest {
				t.Logf("%s: ingest refuses it (400): only the views of the stored ones are checked", b.name)
				continue
			}
			t.Fatalf("%s: ingest answered %d", b.name, status)
		}
		code, ans, _ := boundedGet(t, c, admin+"/api/v1/events/"+id, maxAdminAnswer)
		if code != 200 || len(ans) > maxAdminAnswer {
			t.Fatalf("%s: API answer %d, %d bytes (limit %d)", b.name, code, len(ans), maxAdminAnswer)
		}
		if !json.Valid(ans) || !utf8.Valid(ans) {
			t.Errorf("%s: the API answer is not valid JSON in UTF-8", b.name)
		}
		var d struct {
			Event      json.RawMessage `json:"event"`
			EventError string          `json:"event_error"`
			BodyURL    string          `json:"body_url"`
		}
		if err := json.Unmarshal(ans, &d); err != nil {
			t.Fatalf("%s: %v", b.name, err)
		}
		code, page, _ := boundedGet(t, c, admin+"/events/"+id, maxAdminAnswer)
		if code != 200 || len(page) > maxAdminAnswer || !bytes.Contains(page, []byte(`href="/events/`+id+`/body"`)) {
			t.Fatalf("%s: UI page %d, %d bytes (limit %d), download link: %v", b.name, code, len(page), maxAdminAnswer,
				bytes.Contains(page, []byte("/body\"")))
		}
		for _, u := range []string{admin + d.BodyURL, admin + "/events/" + id + "/body"} {
			code, raw, h := boundedGet(t, c, u, len(b.body))
			if code != 200 || !bytes.Equal(raw, b.body) || !strings.HasPrefix(h.Get("Content-Disposition"), "attachment") {
				t.Errorf("%s: download %s: %d, %d bytes (want the %d stored), %q", b.name, u, code, len(raw), len(b.body), h.Get("Content-Disposition"))
			}
		}
		t.Logf("%s: %d-byte body; API answer %d bytes%s; UI page %d bytes", b.name, len(b.body), len(ans),
			map[bool]string{true: " (event_error: " + d.EventError + ")"}[d.EventError != ""], len(page))
		if status, _ := sendSignedPush(t, ingest, "s", "after-"+b.name, []byte(`{"ref":"refs/heads/main","repository":{"full_name":"acme/app"}}`)); status != 200 {
			t.Fatalf("ingest after reading %s: %d", b.name, status)
		}
	}
	code, list, _ := boundedGet(t, c, admin+"/api/v1/events?limit=500", maxAdminAnswer)
	if code != 200 || !json.Valid(list) || !utf8.Valid(list) {
		t.Errorf("event list: %d, valid JSON and UTF-8: %v", code, json.Valid(list) && utf8.Valid(list))
	}
	rss := peakRSS(t, srv.cmd.Process.Pid)
	t.Logf("peak RSS (VmHWM) after every view: %d MiB", rss>>20)
	if rss > maxAdminRSS {
		t.Errorf("peak RSS %d MiB, want under %d MiB", rss>>20, maxAdminRSS>>20)
	}
	srv.stop()
}

// TestAdminAttackCrossOriginAndHost sends what a foreign page can send: a
// cross-site "simple" POST that used to re-run a deploy, and requests
// under a rebound DNS name. Both are refused and nothing runs; the CLI and
// same-origin requests still work.
func TestAdminAttackCrossOriginAndHost(t *testing.T) {
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs")
	script := filepath.Join(dir, "deploy.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"$FORGEHOOK_EVENT_ID\" >> "+runs+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg, ingest, admin := writeConfig(t, dir, fmt.Sprintf(`endpoints:
  - name: gh
    provider: github
    secrets: ["s"]
triggers:
  - name: deploy
    exec:
      command: [%q]
`, script))
	srv := start(t, cfg, ingest, admin)
	count := func() int {
		b, _ := os.ReadFile(runs)
		return len(strings.Fields(string(b)))
	}
	status, id := sendSignedPush(t, ingest, "s", "deploy-1", []byte(`{"ref":"refs/heads/main","repository":{"full_name":"acme/app"}}`))
	if status != 200 {
		t.Fatalf("ingest: %d", status)
	}
	waitFor(t, 30*time.Second, "the first deploy", func() bool { return count() == 1 })

	u, _ := url.Parse(admin)
	send := func(method, path, ctype, body string, hd ...string) (int, string) {
		req, _ := http.NewRequest(method, admin+path, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		for i := 0; i+1 < len(hd); i += 2 {
			if hd[i] == "Host" {
				req.Host = hd[i+1]
				continue
			}
			req.Header.Set(hd[i], hd[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode, string(b)
	}
	replay := `{"since":"2000-01-01T00:00:00Z"}`
	for _, c := range []struct {
		name, ctype string
		hd          []string
		want        int
	}{
		// What a browser sends for a form-like fetch from another site.
		{"cross-site text/plain", "text/plain", []string{"Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site"}, 403},
		// An older browser: Origin only.
		{"foreign Origin text/plain", "text/plain", []string{"Origin", "http://evil.example"}, 403},
		{"foreign Origin JSON", "application/json", []string{"Origin", "http://evil.example"}, 403},
		// Not from a page, but not JSON either.
		{"text/plain without Origin", "text/plain", nil, 415},
		// A rebound DNS name: the page's own origin, so same-origin.
		{"rebound host", "application/json", []string{"Host", "evil.example:" + u.Port(), "Origin", "http://evil.example:" + u.Port(), "Sec-Fetch-Site", "same-origin"}, 421},
	} {
		got, body := send(http.MethodPost, "/api/v1/replay", c.ctype, replay, c.hd...)
		if got != c.want {
			t.Errorf("%s: %d %.200s, want %d", c.name, got, strings.TrimSpace(body), c.want)
		}
	}
	for _, path := range []string{"/api/v1/events", "/events", "/metrics", "/api/v1/events/" + id + "/body"} {
		got, body := send(http.MethodGet, path, "", "", "Host", "evil.example:"+u.Port())
		if got != http.StatusMisdirectedRequest || !strings.Contains(body, "admin.hosts") {
			t.Errorf("GET %s under a foreign Host: %d %.200q, want 421 naming admin.hosts", path, got, body)
		}
	}
	if got, _ := send(http.MethodGet, "/api/v1/events", "", "", "Host", "localhost:"+u.Port()); got != 200 {
		t.Errorf("GET under Host localhost: %d", got)
	}
	if !strings.Contains(srv.Output(), "cross-origin request refused") || !strings.Contains(srv.Output(), "foreign host refused") {
		t.Errorf("no log line for the refused requests")
	}
	// Same origin (the UI's own script would send this): a dry run.
	got, body := send(http.MethodPost, "/api/v1/events/"+id+"/replay", "application/json", `{"dry_run":true}`,
		"Origin", admin, "Sec-Fetch-Site", "same-origin")
	if got != 200 || !strings.Contains(body, `"deploy"`) {
		t.Errorf("same-origin dry run: %d %s", got, body)
	}
	// The CLI replays: exactly one more run, so none of the refused
	// requests ran.
	if out, err := runCLI("events", "replay", "--admin", admin, id); err != nil {
		t.Fatalf("forgehook events replay: %v\n%s", err, out)
	}
	waitFor(t, 30*time.Second, "the CLI's replay", func() bool { return count() >= 2 })
	if out, err := runCLI("events", "show", "--admin", admin, id); err != nil || !strings.Contains(out, id) {
		t.Errorf("forgehook events show: %v\n%s", err, out)
	}
	srv.stop()
	if n := count(); n != 2 {
		t.Errorf("deploy ran %d times, want 2 (the first delivery and the CLI's replay)", n)
	}
}

// TestAdminAttackThrottleSharedAndBounded guesses the admin token over
// the API, /metrics and the login page from one address: the three share
// one count. Then more than 10,000 loopback addresses guess once each:
// the count stays bounded without forgetting every address at once.
func TestAdminAttackThrottleSharedAndBounded(t *testing.T) {
	const token = "the-admin-token-0123456789"
	dir := t.TempDir()
	cfg, ingest, admin := writeConfigToken(t, dir, token, "endpoints:\n  - name: gh\n    provider: github\n    secrets: [\"s\"]\n")
	srv := start(t, cfg, ingest, admin)
	u, _ := url.Parse(admin)

	// clientFrom returns a client whose connections leave from ip.
	clientFrom := func(ip string) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	guess := func(c *http.Client, where, tok string) int {
		var req *http.Request
		switch where {
		case "login":
			req, _ = http.NewRequest(http.MethodPost, admin+"/login", strings.NewReader(url.Values{"token": {tok}, "next": {"/events"}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		case "metrics":
			req, _ = http.NewRequest(http.MethodGet, admin+"/metrics", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
		default:
			req, _ = http.NewRequest(http.MethodGet, admin+"/api/v1/events", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}

	a := clientFrom("127.0.0.2")
	for i, where := range []string{"api", "metrics", "login", "api", "metrics", "login", "api", "metrics", "login", "api"} {
		if got := guess(a, where, fmt.Sprint("guess-", i)); got != http.StatusUnauthorized {
			t.Fatalf("guess %d on %s: %d, want 401", i+1, where, got)
		}
	}
	for _, where := range []string{"api", "metrics", "login"} {
		if got := guess(a, where, token); got != http.StatusTooManyRequests {
			t.Errorf("the right token on %s after 10 guesses spread over the three: %d, want 429", where, got)
		}
	}
	if got := guess(clientFrom("127.0.0.3"), "api", token); got != http.StatusOK {
		t.Errorf("another address: %d, want 200", got)
	}

	// 10,000 more addresses, one guess each; address b is refused in the
	// middle of them and must stay refused (the old count forgot every
	// address once 10,000 were tracked).
	const many = 10_050
	addr := func(i int) string { return fmt.Sprintf("127.%d.%d.%d", 10+i>>16, (i>>8)&0xff, i&0xff) }
	var failed atomic.Int64
	spray := func(from, to int) {
		var wg sync.WaitGroup
		next := atomic.Int64{}
		next.Store(int64(from))
		for range 8 {
			wg.Go(func() {
				for {
					i := int(next.Add(1) - 1)
					if i >= to {
						return
					}
					if got := guess(clientFrom(addr(i)), "api", "guess"); got != http.StatusUnauthorized {
						failed.Add(1)
					}
				}
			})
		}
		wg.Wait()
	}
	spray(0, 5000)
	b := clientFrom("127.0.0.4")
	for i := range 10 {
		guess(b, "metrics", fmt.Sprint("b-guess-", i))
	}
	spray(5000, many)
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d single guesses were not answered 401", n)
	}
	if got := guess(b, "api", token); got != http.StatusTooManyRequests {
		t.Errorf("after %d more addresses guessed, an address that made 10 guesses: %d, want still 429", many, got)
	}
	if got := guess(clientFrom("127.0.0.5"), "api", token); got != http.StatusOK {
		t.Errorf("a fresh address with the token: %d", got)
	}
	rss := peakRSS(t, srv.cmd.Process.Pid)
	t.Logf("peak RSS after %d guessing addresses: %d MiB (admin port %s)", many+3, rss>>20, u.Port())
	if rss > maxAdminRSS {
		t.Errorf("peak RSS %d MiB", rss>>20)
	}
	srv.stop()
}
