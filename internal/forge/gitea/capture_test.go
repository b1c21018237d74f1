package gitea_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestGiteaCapture drives a real headless Gitea (script/gitea.sh builds it;
// $FORGEHOOK_GITEA or the script's cache path) with a webhook pointed at a
// raw capturing HTTP server, and writes every delivery byte for byte (headers
// in the order received, the exact body) to testdata/deliveries/ as
// capture-NN-*.txtar. It runs only with FORGEHOOK_CAPTURE_GITEA=1; the
// steps are described in testdata/SOURCES.md.
func TestGiteaCapture(t *testing.T) {
	if os.Getenv("FORGEHOOK_CAPTURE_GITEA") != "1" {
		t.Skip("set FORGEHOOK_CAPTURE_GITEA=1 (and build Gitea with script/gitea.sh) to capture deliveries")
	}
	bin := os.Getenv("FORGEHOOK_GITEA")
	if bin == "" {
		home, _ := os.UserHomeDir()
		bin = filepath.Join(home, ".cache", "forgehook", "gitea-1.26.0", "gitea")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("no Gitea: %v", err)
	}
	capSrv := newRawCapture(t)
	g := startCaptureGitea(t, bin)

	if st := g.api("POST", "/user/repos", map[string]any{"name": "demo", "auto_init": true, "default_branch": "main"}, nil); st != 201 {
		t.Fatalf("create repo: %d", st)
	}
	events := []string{"status", "release", "issues", "issue_comment", "pull_request", "pull_request_label", "workflow_run", "workflow_job"}
	if st := g.api("POST", "/repos/fh/demo/hooks", map[string]any{
		"type": "gitea", "active": true, "events": events, "branch_filter": "*",
		"config": map[string]string{"url": capSrv.url + "/hook", "content_type": "json", "secret": captureSecret},
	}, nil); st != 201 {
		t.Fatalf("create hook: %d", st)
	}
	var br struct {
		Commit struct {
			ID string `json:"id"`
		} `json:"commit"`
	}
	if st := g.api("GET", "/repos/fh/demo/branches/main", nil, &br); st != 200 {
		t.Fatalf("branch main: %d", st)
	}
	sha := br.Commit.ID

	step := func(what string, want int, do func()) {
		before := capSrv.count()
		do()
		capSrv.wait(t, what, before+want)
	}
	for _, st := range []string{"pending", "success", "failure"} {
		step("status "+st, 1, func() {
			if c := g.api("POST", "/repos/fh/demo/statuses/"+sha, map[string]any{
				"state": st, "context": "ci/build", "description": "build " + st,
				"target_url": g.url + "/ci/build/1",
			}, nil); c != 201 {
				t.Fatalf("status %s: %d", st, c)
			}
		})
	}
	step("release", 1, func() {
		if c := g.api("POST", "/repos/fh/demo/releases", map[string]any{
			"tag_name": "v1.0.0", "name": "First release", "body": "notes", "target_commitish": "main",
		}, nil); c != 201 {
			t.Fatalf("release: %d", c)
		}
	})
	step("issue opened", 1, func() {
		if c := g.api("POST", "/repos/fh/demo/issues", map[string]any{"title": "Crash on start", "body": "It crashes."}, nil); c != 201 {
			t.Fatalf("issue: %d", c)
		}
	})
	step("issue comment", 1, func() {
		if c := g.api("POST", "/repos/fh/demo/issues/1/comments", map[string]any{"body": "Seen here too."}, nil); c != 201 {
			t.Fatalf("comment: %d", c)
		}
	})
	// A branch for the pull request (no hook event is subscribed for pushes).
	g.api("POST", "/repos/fh/demo/contents/feature.txt", map[string]any{
		"content": base64.StdEncoding.EncodeToString([]byte("feature\n")), "message": "add feature",
		"branch": "main", "new_branch": "feature",
	}, nil)
	step("pull request opened", 1, func() {
		if c := g.api("POST", "/repos/fh/demo/pulls", map[string]any{"head": "feature", "base": "main", "title": "Add feature", "body": "Adds it."}, nil); c != 201 {
			t.Fatalf("pull: %d", c)
		}
	})
	var label struct {
		ID int64 `json:"id"`
	}
	if c := g.api("POST", "/repos/fh/demo/labels", map[string]any{"name": "bug", "color": "#ee0701"}, &label); c != 201 {
		t.Fatalf("label: %d", c)
	}
	step("pull request labeled", 1, func() {
		if c := g.api("POST", "/repos/fh/demo/issues/2/labels", map[string]any{"labels": []int64{label.ID}}, nil); c != 200 {
			t.Fatalf("add label: %d", c)
		}
	})
	// Actions: a workflow file on main creates a run and a job; with no
	// runner they stay queued, so only the creation events can come.
	wf := "name: CI\non: [push]\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n"
	before := capSrv.count()
	g.api("POST", "/repos/fh/demo/contents/.gitea/workflows/ci.yml", map[string]any{
		"content": base64.StdEncoding.EncodeToString([]byte(wf)), "message": "add ci", "branch": "main",
	}, nil)
	capSrv.waitSoft(before+3, 20*time.Second)
	// A tag on main: Actions runs the workflow for the tag's push.
	before = capSrv.count()
	if c := g.api("POST", "/repos/fh/demo/tags", map[string]any{"tag_name": "v2.0.0", "target": "main"}, nil); c != 201 {
		t.Fatalf("tag: %d", c)
	}
	capSrv.waitSoft(before+3, 20*time.Second)
	// A package: package events go to the owner's (user-level) hooks.
	if st := g.api("POST", "/user/hooks", map[string]any{
		"type": "gitea", "active": true, "events": []string{"package"},
		"config": map[string]string{"url": capSrv.url + "/user-hook", "content_type": "json", "secret": captureSecret},
	}, nil); st != 201 {
		t.Fatalf("create user hook: %d", st)
	}
	before = capSrv.count()
	req, _ := http.NewRequest("PUT", g.url+"/api/packages/fh/generic/tool/1.0.0/tool.txt", strings.NewReader("tool\n"))
	req.Header.Set("Authorization", "token "+g.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("package upload: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("package upload: %d", resp.StatusCode)
	}
	capSrv.waitSoft(before+1, 20*time.Second)
	time.Sleep(2 * time.Second) // stragglers (bounded, once)

	dir := filepath.Join("testdata", "deliveries")
	for i, d := range capSrv.all() {
		name := fmt.Sprintf("capture-%02d-%s.txtar", 10+i, d.slug())
		var b bytes.Buffer
		fmt.Fprintf(&b, "source: sent by Gitea 1.26.0 on loopback, 2026-12-07 (internal/forge/gitea/capture_test.go, delivery %d)\n", i+1)
		fmt.Fprintf(&b, "secret: %s\n", captureSecret)
		fmt.Fprintf(&b, "note: hook type gitea, content type json; %s\n", d.slug())
		b.WriteString("-- headers --\n")
		for _, l := range d.header {
			b.WriteString(l + "\n")
		}
		b.WriteString("-- body --\n")
		b.Write(d.body)
		b.WriteString("\n")
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", name)
	}
}

// rawDelivery is one captured request: header lines as sent, exact body.
type rawDelivery struct {
	header []string
	body   []byte
}

func (d rawDelivery) slug() string {
	ev := ""
	for _, l := range d.header {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, "X-Gitea-Event-Type") {
			ev = strings.TrimSpace(v)
		}
	}
	var p struct {
		Action string `json:"action"`
		State  string `json:"state"`
	}
	_ = json.Unmarshal(d.body, &p)
	s := strings.ReplaceAll(ev, "_", "-")
	for _, x := range []string{p.Action, p.State} {
		if x != "" {
			s += "-" + strings.ReplaceAll(x, "_", "-")
		}
	}
	return s
}

// rawCapture is an HTTP/1.1 server on a raw listener, so that header order
// and spelling survive.
type rawCapture struct {
	url  string
	mu   sync.Mutex
	got  []rawDelivery
	cond chan struct{}
}

func newRawCapture(t *testing.T) *rawCapture {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &rawCapture{url: "http://" + ln.Addr().String(), cond: make(chan struct{}, 1)}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); c.serve(conn) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return c
}

func (c *rawCapture) serve(conn net.Conn) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	for {
		_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, err := r.ReadString('\n'); err != nil { // request line
			return
		}
		var d rawDelivery
		n := 0
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			l = strings.TrimRight(l, "\r\n")
			if l == "" {
				break
			}
			d.header = append(d.header, l)
			if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, "Content-Length") {
				n, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		d.body = make([]byte, n)
		if _, err := io.ReadFull(r, d.body); err != nil {
			return
		}
		c.mu.Lock()
		c.got = append(c.got, d)
		c.mu.Unlock()
		select {
		case c.cond <- struct{}{}:
		default:
		}
		if _, err := conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")); err != nil {
			return
		}
	}
}

func (c *rawCapture) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.got)
}

func (c *rawCapture) all() []rawDelivery {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]rawDelivery(nil), c.got...)
}

func (c *rawCapture) waitSoft(n int, d time.Duration) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for c.count() < n {
		select {
		case <-c.cond:
		case <-deadline.C:
			return false
		}
	}
	return true
}

func (c *rawCapture) wait(t *testing.T, what string, n int) {
	t.Helper()
	if !c.waitSoft(n, 20*time.Second) {
		t.Fatalf("%s: %d deliveries, want %d", what, c.count(), n)
	}
}

// captureGitea is a headless Gitea with an admin user fh and its token.
type captureGitea struct {
	t     *testing.T
	url   string
	token string
}

func startCaptureGitea(t *testing.T, bin string) *captureGitea {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	g := &captureGitea{t: t, url: fmt.Sprintf("http://127.0.0.1:%d", port)}
	ini := filepath.Join(dir, "app.ini")
	conf := fmt.Sprintf(`APP_NAME = forgehook-capture
RUN_MODE = prod
WORK_PATH = %[1]s
I_AM_BEING_UNSAFE_RUNNING_AS_ROOT = true
[server]
PROTOCOL = http
HTTP_ADDR = 127.0.0.1
HTTP_PORT = %[2]d
ROOT_URL = %[3]s/
DISABLE_SSH = true
START_SSH_SERVER = false
OFFLINE_MODE = true
LFS_START_SERVER = false
APP_DATA_PATH = %[1]s/data
[database]
DB_TYPE = sqlite3
PATH = %[1]s/data/gitea.db
[repository]
ROOT = %[1]s/repos
[security]
INSTALL_LOCK = true
SECRET_KEY = forgehook-capture-secret-key-0123456789
[service]
DISABLE_REGISTRATION = true
[webhook]
ALLOWED_HOST_LIST = loopback
DELIVER_TIMEOUT = 5
[actions]
ENABLED = true
[queue]
TYPE = channel
[indexer]
ISSUE_INDEXER_TYPE = db
REPO_INDEXER_ENABLED = false
[cron]
ENABLED = false
[log]
MODE = console
LEVEL = warn
ROOT_PATH = %[1]s/log
`, dir, port, g.url)
	if err := os.WriteFile(ini, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "GITEA_WORK_DIR="+dir, "HOME="+dir)
	run := func(args ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append([]string{"--config", ini, "--work-path", dir}, args...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("gitea %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	run("migrate")
	run("admin", "user", "create", "--username", "fh", "--password", "forgehook-capture-pw-1", "--email", "fh@example.com", "--admin", "--must-change-password=false")
	lines := strings.Split(strings.TrimSpace(run("admin", "user", "generate-access-token", "--username", "fh", "--token-name", "cap", "--scopes", "all", "--raw")), "\n")
	g.token = strings.TrimSpace(lines[len(lines)-1])

	var out bytes.Buffer
	cmd := exec.Command(bin, "--config", ini, "--work-path", dir, "web")
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGKILL); <-exited })
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := http.Get(g.url + "/api/v1/version"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return g
			}
		}
		select {
		case <-exited:
			t.Fatalf("gitea exited:\n%s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("gitea not up after 60s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (g *captureGitea) api(method, path string, in, out any) int {
	g.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, g.url+"/api/v1"+path, body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "token "+g.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatalf("gitea %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		g.t.Logf("gitea %s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(b, out); err != nil {
			g.t.Fatalf("gitea %s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}
