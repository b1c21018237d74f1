package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/app"
	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge/all"
	"github.com/forgehook/forgehook/internal/trigger"
	"github.com/forgehook/forgehook/internal/verify"
)

// goroutines returns the stacks of every goroutine but the caller's, by
// goroutine id ("goroutine 12").
func goroutines() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := map[string]string{}
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 { // the caller's own goroutine comes first
			continue
		}
		id, _, _ := strings.Cut(g, " [")
		out[id] = g
	}
	return out
}

// background lists the functions of goroutines that the runtime and the
// standard library start once and keep for the life of the process: they
// are no leak of the code under test.
var background = []string{
	"os/signal.signal_recv", // signal.Notify's receiver, started once
	"os/signal.loop",        // the same
	"runtime.ensureSigM",    // signal mask handler
	"testing.(*T).Run",      // the test runner
	"testing.tRunner",       // other tests
	"testing.runTests",      // the main test goroutine
}

// checkNoLeak fails t if goroutines that were not in before are still
// running after a grace period: whatever stopped must have waited for them.
func checkNoLeak(t *testing.T, before map[string]string) {
	t.Helper()
	var leaked []string
	deadline := time.Now().Add(5 * time.Second)
	for {
		leaked = leaked[:0]
	next:
		for id, stack := range goroutines() {
			if _, ok := before[id]; ok {
				continue
			}
			for _, b := range background {
				if strings.Contains(stack, b) {
					continue next
				}
			}
			leaked = append(leaked, stack)
		}
		if len(leaked) == 0 {
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	slices.Sort(leaked)
	t.Errorf("%d goroutines still running 5 s after the app stopped:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
}

// logBuffer collects the app's log for the test to wait on.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls f every 20 ms until it is true, failing t after d.
func waitFor(t *testing.T, d time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAppRunStopsEveryGoroutine starts the app on an embedded store and
// port-0 listeners, takes a signed delivery and an unauthenticated one,
// delivers both to an HTTP receiver, reloads its configuration on SIGHUP
// (which replaces the triggers' runner) and delivers a third event,
// replays it through the admin API, answers admin API requests, stops
// (ctx cancelled, Run returns) and checks that no goroutine it started
// is left running.
func TestAppRunStopsEveryGoroutine(t *testing.T) {
	var got atomic.Int64
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		got.Add(1)
	}))
	client := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}

	before := goroutines()

	dir := t.TempDir()
	file := filepath.Join(dir, "forgehook.yaml")
	yaml := fmt.Sprintf(`data_dir: %s
endpoints:
  - name: gh
    provider: github
    secrets: ["s"]
  - name: open
    provider: generic
    insecure: true
triggers:
  - name: forward
    http: {url: %q}
`, filepath.Join(dir, "data"), rc.URL)
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	reg := all.Registry()
	cfg, err := config.Load(file, config.Options{Providers: reg.Has, Check: trigger.Check})
	if err != nil {
		t.Fatal(err)
	}
	// Port 0 for both (the check rejects two equal addresses, as the
	// serve command's flags may set them).
	cfg.Listen, cfg.Admin.Listen = "127.0.0.1:0", "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &logBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := app.New(ctx, cfg, app.Options{Logger: logger, Registry: reg, Presets: verify.PresetPrefixes})
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() { ran <- a.Run(ctx) }()
	ingest, admin := "http://"+a.IngestAddr(), "http://"+a.AdminAddr()

	// Run watches SIGHUP from this line on: before it, the signal would
	// end the test process.
	waitFor(t, 10*time.Second, "Run to start", func() bool { return strings.Contains(logs.String(), "forgehook serving") })

	post := func(url string, h http.Header, body []byte) []byte {
		t.Helper()
		req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
		req.Header = h
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("POST %s: %v", url, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("POST %s: %d %s", url, resp.StatusCode, b)
		}
		return b
	}
	signed := func(id string) []byte {
		t.Helper()
		body := []byte(`{"ref":"refs/heads/main","after":"` + strings.Repeat("2", 40) + `","repository":{"full_name":"acme/app"}}`)
		return post(ingest+"/hooks/gh", http.Header{
			"Content-Type":        {"application/json"},
			"X-Github-Event":      {"push"},
			"X-Github-Delivery":   {id},
			"X-Hub-Signature-256": {verify.Sign(verify.SHA256, verify.Hex, "sha256=", []byte("s"), body)},
		}, body)
	}
	signed("leak-1")
	post(ingest+"/hooks/open", http.Header{"Content-Type": {"application/json"}}, []byte(`{"ref":"refs/heads/main"}`))
	waitFor(t, 20*time.Second, "2 events delivered", func() bool { return got.Load() == 2 })

	// A reload starts a new runner and stops the old one.
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the reload", func() bool { return strings.Contains(logs.String(), "reload: configuration applied") })
	ans := signed("leak-2")
	waitFor(t, 20*time.Second, "the event after the reload delivered", func() bool { return got.Load() == 3 })
	// A replay through the admin API goes through the REPLAY stream.
	var stored struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(ans, &stored); err != nil || stored.ID == "" {
		t.Fatalf("ingest answer %s: %v", ans, err)
	}
	post(admin+"/api/v1/events/"+stored.ID+"/replay", http.Header{"Content-Type": {"application/json"}}, []byte(`{"trigger":"forward"}`))
	waitFor(t, 20*time.Second, "the replay delivered", func() bool { return got.Load() == 4 })
	// A webhook sent to the admin listener by mistake: a JSON 404 that
	// names the ingest listener, not the UI's HTML page.
	if resp, err := client.Post(admin+"/hooks/gh", "application/json", strings.NewReader(`{}`)); err != nil {
		t.Fatalf("POST admin /hooks/gh: %v", err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/json" || !strings.Contains(string(b), "ingest listener") {
			t.Errorf("POST admin /hooks/gh: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
	}
	for _, path := range []string{"/api/v1/events", "/api/v1/endpoints", "/metrics", "/readyz"} {
		resp, err := client.Get(admin + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
		}
	}

	t.Logf("%d goroutines more than before the app started while it serves", len(goroutines())-len(before))
	cancel()
	select {
	case err := <-ran:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return 30 s after its ctx was cancelled")
	}
	client.CloseIdleConnections()
	// The receiver is still up: a connection the app's triggers left open
	// would keep a goroutine on both sides.
	checkNoLeak(t, before)
	rc.Close()
}
