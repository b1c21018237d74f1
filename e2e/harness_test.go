// Package e2e drives the real forgehook binary over real HTTP with the real
// embedded (or an external) JetStream: the tests a user's day depends on.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "forgehook-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "forgehook")
	build := exec.Command("go", "build", "-o", binary, "../cmd/forgehook")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build forgehook:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freePort(t testing.TB) int {
	t.Helper()
	return freePorts(t, 1)[0]
}

// freePorts returns n distinct free ports of 127.0.0.1: all are held open
// until every one is chosen, so that the kernel cannot hand the same port
// out twice (one freed at once may come back at the next call, and a
// configuration with listen equal to admin.listen is refused).
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		ports[i] = ln.Addr().(*net.TCPAddr).Port
	}
	return ports
}

// proc is one running forgehook process.
type proc struct {
	t       testing.TB
	cmd     *exec.Cmd
	ingest  string // http://127.0.0.1:port
	admin   string
	cfgPath string
	mu      sync.Mutex
	out     bytes.Buffer
	exited  chan struct{}
}

// lockedWriter lets the test read the process output while it runs.
type lockedWriter struct{ s *proc }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	return w.s.out.Write(p)
}

// Output returns what the process printed so far (stdout and stderr).
func (s *proc) Output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// writeConfig writes a configuration whose listeners are free loopback
// ports; body holds the rest (endpoints, store...).
func writeConfig(t testing.TB, dir, body string) (cfgPath, ingest, admin string) {
	t.Helper()
	return writeConfigToken(t, dir, "", body)
}

// writeConfigToken is writeConfig with an admin token ("" for none).
func writeConfigToken(t testing.TB, dir, token, body string) (cfgPath, ingest, admin string) {
	t.Helper()
	ports := freePorts(t, 2)
	ip, ap := ports[0], ports[1]
	adminToken := ""
	if token != "" {
		adminToken = fmt.Sprintf("  token: %q\n", token)
	}
	cfg := fmt.Sprintf("listen: 127.0.0.1:%d\nadmin:\n  listen: 127.0.0.1:%d\n%sdata_dir: %s\n%s", ip, ap, adminToken, filepath.Join(dir, "data"), body)
	cfgPath = filepath.Join(dir, "forgehook.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgPath, fmt.Sprintf("http://127.0.0.1:%d", ip), fmt.Sprintf("http://127.0.0.1:%d", ap)
}

// start runs forgehook serve with cfgPath and waits until it is ready.
func start(t testing.TB, cfgPath, ingest, admin string, extraEnv ...string) *proc {
	t.Helper()
	s := &proc{t: t, ingest: ingest, admin: admin, cfgPath: cfgPath, exited: make(chan struct{})}
	s.cmd = exec.Command(binary, "serve", "--config", cfgPath, "--log-format", "json")
	s.cmd.Env = append(os.Environ(), extraEnv...)
	s.cmd.Stdout, s.cmd.Stderr = lockedWriter{s}, lockedWriter{s}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() { s.kill() })
	s.waitReady(30 * time.Second)
	return s
}

func (s *proc) waitReady(d time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			s.t.Fatalf("forgehook exited before it was ready:\n%s", s.Output())
		default:
		}
		resp, err := http.Get(s.ingest + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("forgehook not ready after %s:\n%s", d, s.Output())
}

// kill sends SIGKILL: no shutdown code runs.
func (s *proc) kill() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGKILL)
		<-s.exited
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (s *proc) stop() {
	s.t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(20 * time.Second):
		s.t.Fatalf("forgehook did not stop on SIGTERM:\n%s", s.Output())
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		s.t.Fatalf("forgehook exited %d on SIGTERM:\n%s", code, s.Output())
	}
}

// ingestAnswer is the JSON answer of /hooks.
type ingestAnswer struct {
	ID        string `json:"id"`
	Duplicate bool   `json:"duplicate"`
	Ping      bool   `json:"ping"`
	Error     string `json:"error"`
}

// post sends one delivery and returns the status and the decoded answer.
func post(ctx context.Context, url string, h http.Header, body []byte) (int, ingestAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, ingestAnswer{}, err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, ingestAnswer{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var a ingestAnswer
	_ = json.Unmarshal(b, &a)
	return resp.StatusCode, a, nil
}

// eventIDs lists every stored event id through the admin API.
func eventIDs(t testing.TB, admin string) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	before := ""
	for {
		u := admin + "/api/v1/events?limit=500"
		if before != "" {
			u += "&before=" + before
		}
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Events []struct {
				ID string `json:"id"`
			} `json:"events"`
			Next string `json:"next"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("list events: %d %v", resp.StatusCode, err)
		}
		for _, e := range page.Events {
			ids[e.ID] = true
		}
		if page.Next == "" {
			return ids
		}
		before = page.Next
	}
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func httpGet(url string) (*http.Response, error) { return http.Get(url) }

// runCLI runs the forgehook binary with args and returns its output.
func runCLI(args ...string) (string, error) {
	out, err := exec.Command(binary, args...).CombinedOutput()
	return string(out), err
}
