package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// giteaBinary returns the Gitea built by script/gitea.sh: $FORGEHOOK_GITEA,
// or the script's default cache path. Without it the test skips, except in
// CI (CI=true), where it fails.
func giteaBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("FORGEHOOK_GITEA")
	if bin == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			home, _ := os.UserHomeDir()
			cache = filepath.Join(home, ".cache")
		}
		bin = filepath.Join(cache, "forgehook", "gitea-1.26.0", "gitea")
	}
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no Gitea at %s (script/gitea.sh builds it; script/test.sh runs it first): %v", bin, err)
		}
		t.Skipf("no Gitea at %s: run script/gitea.sh (about 4 minutes once) to run this test", bin)
	}
	return bin
}

// gitea is a headless Gitea 1.26 with an admin user and a token.
type gitea struct {
	t       *testing.T
	bin     string
	dir     string
	ini     string
	url     string // http://127.0.0.1:port
	token   string // the admin's, every scope
	cmd     *exec.Cmd
	exited  chan struct{}
	outMu   sync.Mutex
	out     bytes.Buffer
	workEnv []string
}

func (g *gitea) Write(p []byte) (int, error) {
	g.outMu.Lock()
	defer g.outMu.Unlock()
	return g.out.Write(p)
}

// run runs a gitea subcommand against the instance's app.ini.
func (g *gitea) run(args ...string) string {
	g.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, g.bin, append([]string{"--config", g.ini, "--work-path", g.dir}, args...)...)
	cmd.Env = g.workEnv
	out, err := cmd.CombinedOutput()
	if err != nil {
		g.t.Fatalf("gitea %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func startGitea(t *testing.T) *gitea {
	t.Helper()
	g := &gitea{t: t, bin: giteaBinary(t), dir: t.TempDir(), exited: make(chan struct{})}
	port := freePort(t)
	g.url = fmt.Sprintf("http://127.0.0.1:%d", port)
	g.ini = filepath.Join(g.dir, "app.ini")
	g.workEnv = append(os.Environ(), "GITEA_WORK_DIR="+g.dir, "HOME="+g.dir)
	ini := fmt.Sprintf(`APP_NAME = forgehook-e2e
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
SECRET_KEY = forgehook-e2e-secret-key-0123456789

[service]
DISABLE_REGISTRATION = true

[webhook]
ALLOWED_HOST_LIST = loopback
DELIVER_TIMEOUT = 5

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
`, g.dir, port, g.url)
	if err := os.WriteFile(g.ini, []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}
	g.run("migrate")
	g.run("admin", "user", "create", "--username", "fh", "--password", "forgehook-e2e-pw-1", "--email", "fh@example.com", "--admin", "--must-change-password=false")
	g.token = lastLine(g.run("admin", "user", "generate-access-token", "--username", "fh", "--token-name", "manage", "--scopes", "all", "--raw"))

	g.cmd = exec.Command(g.bin, "--config", g.ini, "--work-path", g.dir, "web")
	g.cmd.Env = g.workEnv
	g.cmd.Stdout, g.cmd.Stderr = g, g
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = g.cmd.Wait(); close(g.exited) }()
	t.Cleanup(func() {
		_ = g.cmd.Process.Signal(syscall.SIGKILL)
		<-g.exited
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-g.exited:
			t.Fatalf("gitea exited:\n%s", g.output())
		default:
		}
		if resp, err := http.Get(g.url + "/api/v1/version"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("gitea not up after 60s:\n%s", g.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return g
}

// lastLine returns the last non-empty line of s: the token that
// generate-access-token --raw prints after any warnings.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func (g *gitea) output() string {
	g.outMu.Lock()
	defer g.outMu.Unlock()
	return g.out.String()
}

// api calls Gitea's API with token and decodes the answer into out (when
// not nil); it returns the status.
func (g *gitea) api(token, method, path string, in, out any) int {
	g.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, g.url+"/api/v1"+path, body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "token "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatalf("gitea %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(b, out); err != nil {
			g.t.Fatalf("gitea %s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

// giteaHook is a hook as Gitea lists it.
type giteaHook struct {
	ID     int64             `json:"id"`
	Config map[string]string `json:"config"`
	Events []string          `json:"events"`
	Active bool              `json:"active"`
}

func (g *gitea) hooks() []giteaHook {
	g.t.Helper()
	var hs []giteaHook
	if st := g.api(g.token, "GET", "/repos/fh/app/hooks?limit=50", nil, &hs); st != 200 {
		g.t.Fatalf("list hooks: %d", st)
	}
	return hs
}

// push commits a new file through the contents API and returns the commit.
func (g *gitea) push(name string) string {
	g.t.Helper()
	var out struct {
		Commit struct {
			SHA string `json:"sha"`
		} `json:"commit"`
	}
	in := map[string]any{"content": base64.StdEncoding.EncodeToString([]byte("hello " + name + "\n")), "message": "add " + name, "branch": "main"}
	if st := g.api(g.token, "POST", "/repos/fh/app/contents/"+name, in, &out); st != 201 {
		g.t.Fatalf("push %s: %d", name, st)
	}
	return out.Commit.SHA
}

// hookCounter fronts Gitea and counts the requests to its hook API.
type hookCounter struct {
	all, writes atomic.Int64
}

func (c *hookCounter) proxy(t *testing.T, target string) *httptest.Server {
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/hooks") {
			c.all.Add(1)
			if r.Method != http.MethodGet {
				c.writes.Add(1)
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// hooksCLI runs forgehook hooks ... against admin and returns its output
// and exit status.
func hooksCLI(t *testing.T, admin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"hooks", args[0], "--admin", admin}, args[1:]...)...)
	cmd.Stdin = nil
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	}
	t.Fatalf("forgehook hooks %v: %v", args, err)
	return "", -1
}

// reload rewrites forgehook's configuration and waits until the server
// applied it.
func reload(t *testing.T, fh *proc, base, body string) {
	t.Helper()
	before := strings.Count(fh.Output(), "reload: configuration applied")
	if err := os.WriteFile(fh.cfgPath, []byte(base+body), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = fh.cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(fh.Output(), "reload: configuration applied") == before {
		if time.Now().After(deadline) {
			t.Fatalf("configuration not reloaded:\n%s", fh.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitPush waits for a push event on endpoint gt whose delivery carries
// commit sha, stored (so verified) by forgehook.
func waitPush(t *testing.T, admin, sha string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(admin + "/api/v1/events?endpoint=gt&kind=push&limit=20")
		if err == nil {
			var list struct {
				Events []struct {
					ID string `json:"id"`
				} `json:"events"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&list)
			resp.Body.Close()
			for _, e := range list.Events {
				r, err := http.Get(admin + "/api/v1/events/" + e.ID)
				if err != nil {
					continue
				}
				b, _ := io.ReadAll(r.Body)
				r.Body.Close()
				if bytes.Contains(b, []byte(sha)) {
					return
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the push of %s did not arrive verified on endpoint gt", sha)
}

// TestHooksGitea runs hook management against a real Gitea 1.26.
func TestHooksGitea(t *testing.T) {
	g := startGitea(t)
	var repo struct {
		ID int64 `json:"id"`
	}
	if st := g.api(g.token, "POST", "/user/repos", map[string]any{"name": "app", "auto_init": true, "default_branch": "main"}, &repo); st != 201 {
		t.Fatalf("create repo: %d", st)
	}
	// A reader: a collaborator with read access, whose token has the
	// repository scope but who is no administrator of the repository.
	g.run("admin", "user", "create", "--username", "reader", "--password", "forgehook-e2e-pw-2", "--email", "reader@example.com", "--must-change-password=false")
	readerToken := lastLine(g.run("admin", "user", "generate-access-token", "--username", "reader", "--token-name", "ro", "--scopes", "write:repository,read:user", "--raw"))
	if st := g.api(g.token, "PUT", "/repos/fh/app/collaborators/reader", map[string]any{"permission": "read"}, nil); st != 204 {
		t.Fatalf("add collaborator: %d", st)
	}

	counter := &hookCounter{}
	front := counter.proxy(t, g.url)

	dir := t.TempDir()
	cfgPath, ingest, admin := writeConfig(t, dir, "")
	head, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	base := string(head) + "public_url: " + ingest + "\n"

	// A hand-made hook on the same host (another tool's), which forgehook
	// must never touch.
	var handMade giteaHook
	if st := g.api(g.token, "POST", "/repos/fh/app/hooks", map[string]any{
		"type": "gitea", "active": false, "events": []string{"push"},
		"config": map[string]string{"url": ingest + "/hooks/other-tool", "content_type": "json"},
	}, &handMade); st != 201 {
		t.Fatalf("hand-made hook: %d", st)
	}

	// 1. Listen-only: no hook API call, at start or reload.
	listen := `endpoints:
  - name: gt
    provider: gitea
    secrets: [first-secret-0123456789]
`
	if err := os.WriteFile(cfgPath, []byte(base+listen), 0o600); err != nil {
		t.Fatal(err)
	}
	fh := start(t, cfgPath, ingest, admin)
	manage := func(secrets, events string) string {
		return fmt.Sprintf(`endpoints:
  - name: gt
    provider: gitea
    secrets: %s
    manage:
      api_url: %s/api/v1
      token: %q
      targets: [{repo: fh/app}]
      events: %s
  - name: ro
    provider: gitea
    secrets: [reader-secret-0123456789]
    manage:
      api_url: %s/api/v1
      token: %q
      targets: [{repo: fh/app}]
`, secrets, front.URL, g.token, events, front.URL, readerToken)
	}
	reload(t, fh, base, manage("[first-secret-0123456789]", "[push]"))
	if n := counter.all.Load(); n != 0 {
		t.Fatalf("%d hook API calls without an operator's command", n)
	}
	if hs := g.hooks(); len(hs) != 1 {
		t.Fatalf("gitea has %d hooks before plan", len(hs))
	}

	// 2. plan shows a create, exit 2, and changes nothing.
	out, code := hooksCLI(t, admin, "plan", "--endpoint", "gt")
	if code != 2 || !strings.Contains(out, "+ gt") || !strings.Contains(out, "create "+ingest+"/hooks/gt") {
		t.Fatalf("plan: exit %d\n%s", code, out)
	}
	if counter.writes.Load() != 0 || counter.all.Load() == 0 {
		t.Fatalf("plan: %d writes, %d calls", counter.writes.Load(), counter.all.Load())
	}

	// 3. apply creates exactly one hook, and the forge's test delivery arrives.
	out, code = hooksCLI(t, admin, "apply", "--endpoint", "gt", "--yes", "--wait", "20s")
	if code != 0 || !strings.Contains(out, "created") || !strings.Contains(out, "test delivery arrived") {
		t.Fatalf("apply: exit %d\n%s\nforgehook:\n%s", code, out, fh.Output())
	}
	hs := g.hooks()
	var ours giteaHook
	for _, h := range hs {
		if h.Config["url"] == ingest+"/hooks/gt" {
			ours = h
		}
	}
	if len(hs) != 2 || ours.ID == 0 || !ours.Active {
		t.Fatalf("after apply gitea has %+v", hs)
	}
	pinged := fh.Output()
	t.Logf("the test delivery arrived as: ping=%v", strings.Contains(pinged, `"ping":true`) || eventCount(t, admin, "gt", "ping") > 0)

	// 4. In sync: plan exits 0 and a second apply changes nothing.
	if out, code = hooksCLI(t, admin, "plan", "--endpoint", "gt"); code != 0 || !strings.Contains(out, "= gt") {
		t.Fatalf("plan after apply: exit %d\n%s", code, out)
	}
	w := counter.writes.Load()
	if out, code = hooksCLI(t, admin, "apply", "--endpoint", "gt", "--yes"); code != 0 || !strings.Contains(out, "unchanged") || counter.writes.Load() != w {
		t.Fatalf("second apply: exit %d, %d writes\n%s", code, counter.writes.Load()-w, out)
	}

	// 5. A real push arrives, verified with the registered secret.
	waitPush(t, admin, g.push("one.txt"))

	// 6. A change of events is applied in place.
	reload(t, fh, base, manage("[first-secret-0123456789]", "[push, tag]"))
	if out, code = hooksCLI(t, admin, "plan", "--endpoint", "gt"); code != 2 || !strings.Contains(out, "update (events)") {
		t.Fatalf("plan after events change: exit %d\n%s", code, out)
	}
	if out, code = hooksCLI(t, admin, "apply", "--endpoint", "gt", "--yes", "--wait", "20s"); code != 0 || !strings.Contains(out, "updated") {
		t.Fatalf("apply events: exit %d\n%s", code, out)
	}
	hs = g.hooks()
	if len(hs) != 2 || !containsHook(hs, ours.ID, "create") {
		t.Fatalf("after events change (hook %d): %+v", ours.ID, hs)
	}

	// 7. Rotation: the new secret first, the old kept; rotate pushes it;
	// with the old one dropped, a push signed with the new one is accepted.
	reload(t, fh, base, manage("[second-secret-0123456789, first-secret-0123456789]", "[push, tag]"))
	if out, code = hooksCLI(t, admin, "rotate", "--endpoint", "gt", "--grace", "1h"); code != 0 || !strings.Contains(out, "rotated") {
		t.Fatalf("rotate: exit %d\n%s", code, out)
	}
	if out, code = hooksCLI(t, admin, "plan", "--endpoint", "gt"); code != 0 || !strings.Contains(out, "keep secrets[1]") {
		t.Fatalf("plan in the grace: exit %d\n%s", code, out)
	}
	reload(t, fh, base, manage("[second-secret-0123456789]", "[push, tag]"))
	waitPush(t, admin, g.push("two.txt"))
	// Gitea's API cannot change a secret in place: the hook was replaced
	// (the new one created first), so one hook still has our URL.
	hs = g.hooks()
	n := 0
	for _, h := range hs {
		if h.Config["url"] == ingest+"/hooks/gt" {
			n++
			ours = h
		}
	}
	if len(hs) != 2 || n != 1 || !containsHook(hs, ours.ID, "create") {
		t.Fatalf("after rotation: %+v", hs)
	}

	// 8. A reader's token: refused with the permission named, nothing changed.
	out, code = hooksCLI(t, admin, "apply", "--endpoint", "ro", "--yes")
	if code != 1 || !strings.Contains(out, "403") || !strings.Contains(out, "administrator of the repository") {
		t.Fatalf("reader apply: exit %d\n%s", code, out)
	}
	if hs = g.hooks(); len(hs) != 2 {
		t.Fatalf("the reader's apply changed the hooks: %+v", hs)
	}

	// 9. prune deletes only ours, keeping the hand-made hook on the same host.
	reload(t, fh, base, listen)
	if out, code = hooksCLI(t, admin, "plan"); code != 2 || !strings.Contains(out, "- gt") {
		t.Fatalf("plan before prune: exit %d\n%s", code, out)
	}
	// A hook whose endpoint left management is pruned with the manage
	// token of another endpoint of the same forge and API URL: keep one.
	reload(t, fh, base, listen+fmt.Sprintf(`  - name: keeper
    provider: gitea
    secrets: [keeper-secret-0123456789]
    manage:
      api_url: %s/api/v1
      token: %q
      targets: [{repo: fh/other}]
`, front.URL, g.token))
	if out, code = hooksCLI(t, admin, "prune"); code != 0 || !strings.Contains(out, "deleted") {
		t.Fatalf("prune: exit %d\n%s", code, out)
	}
	hs = g.hooks()
	if len(hs) != 1 || hs[0].ID != handMade.ID {
		t.Fatalf("after prune: %+v (hand-made %d)", hs, handMade.ID)
	}
	if out, code = hooksCLI(t, admin, "list"); code != 0 || !strings.Contains(out, "no hooks owned") {
		t.Fatalf("list after prune: exit %d\n%s", code, out)
	}
}

// containsHook reports whether hook id is among hs and has event ev.
func containsHook(hs []giteaHook, id int64, ev string) bool {
	for _, h := range hs {
		if h.ID == id {
			for _, e := range h.Events {
				if e == ev {
					return true
				}
			}
		}
	}
	return false
}

// eventCount counts the stored events of a kind on an endpoint.
func eventCount(t *testing.T, admin, endpoint, kind string) int {
	t.Helper()
	resp, err := http.Get(admin + "/api/v1/events?endpoint=" + endpoint + "&kind=" + kind + "&limit=100")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var list struct {
		Events []json.RawMessage `json:"events"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&list)
	return len(list.Events)
}
