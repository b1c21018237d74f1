package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/verify"
)

// faultSecret signs the deliveries of the store fault tests.
const faultSecret = "fault-secret"

// writeConfigAt is writeConfig with the data directory given.
func writeConfigAt(t *testing.T, dir, dataDir, body string) (cfgPath, ingest, admin string) {
	t.Helper()
	ports := freePorts(t, 2)
	ip, ap := ports[0], ports[1]
	cfg := fmt.Sprintf("listen: 127.0.0.1:%d\nadmin:\n  listen: 127.0.0.1:%d\ndata_dir: %s\n%s", ip, ap, dataDir, body)
	cfgPath = filepath.Join(dir, "forgehook.yaml")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgPath, fmt.Sprintf("http://127.0.0.1:%d", ip), fmt.Sprintf("http://127.0.0.1:%d", ap)
}

const faultEndpoint = `endpoints:
  - name: gh
    provider: github
    secrets: ["` + faultSecret + `"]
`

// paddedPushBody is a GitHub push delivery of about pad bytes.
func paddedPushBody(id string, pad int) []byte {
	return []byte(fmt.Sprintf(`{"ref":"refs/heads/main","after":"%040d","repository":{"full_name":"acme/app"},"id":%q,"pad":%q}`, 1, id, strings.Repeat("x", pad)))
}

// faultPush delivers one signed push to ingest and returns the status and
// the answer (status 0 and err on a transport error).
func faultPush(ctx context.Context, ingest, id string, pad int) (int, ingestAnswer, error) {
	body := paddedPushBody(id, pad)
	h := hdr("Content-Type", "application/json", "X-GitHub-Event", "push", "X-GitHub-Delivery", id,
		"X-Hub-Signature-256", verify.Sign(verify.SHA256, verify.Hex, "sha256=", []byte(faultSecret), body))
	return post(ctx, ingest+"/hooks/gh", h, body)
}

// sendMany delivers n pushes with 8 senders and returns the ids answered
// 200; any other answer fails the test.
func sendMany(t *testing.T, ingest, prefix string, n, pad int) []string {
	t.Helper()
	var mu sync.Mutex
	var ok []string
	var wg sync.WaitGroup
	ch := make(chan int)
	errc := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ch {
				id := fmt.Sprintf("%s-%05d", prefix, i)
				status, ans, err := faultPush(context.Background(), ingest, id, pad)
				if err != nil || status != 200 {
					select {
					case errc <- fmt.Errorf("%s: %d %+v %v", id, status, ans, err):
					default:
					}
					continue
				}
				mu.Lock()
				ok = append(ok, ans.ID)
				mu.Unlock()
			}
		}()
	}
	for i := range n {
		ch <- i
	}
	close(ch)
	wg.Wait()
	select {
	case err := <-errc:
		t.Fatalf("delivery not stored: %v", err)
	default:
	}
	return ok
}

// readyz returns /readyz's status and decoded answer.
func readyz(t *testing.T, ingest string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(ingest + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &ans); err != nil {
		t.Fatalf("/readyz: %v: %s", err, b)
	}
	return resp.StatusCode, ans
}

// metricValue scrapes one unlabelled sample.
func metricValue(t *testing.T, admin, family string) float64 {
	t.Helper()
	return value(scrape(t, admin, ""), family, nil)
}

// logLines returns the JSON log lines of p whose msg contains substr.
func logLines(p *proc, substr string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(p.Output(), "\n") {
		if !strings.Contains(line, substr) {
			continue
		}
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// startUnready runs forgehook serve with cfgPath and waits until its
// ingest listener answers /readyz, ready or not.
func startUnready(t *testing.T, cfgPath, ingest, admin string) *proc {
	t.Helper()
	s := &proc{t: t, ingest: ingest, admin: admin, cfgPath: cfgPath, exited: make(chan struct{})}
	s.cmd = exec.Command(binary, "serve", "--config", cfgPath, "--log-format", "json")
	s.cmd.Stdout, s.cmd.Stderr = lockedWriter{s}, lockedWriter{s}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() { s.kill() })
	waitFor(t, 30*time.Second, "the ingest listener", func() bool {
		select {
		case <-s.exited:
			t.Fatalf("forgehook exited:\n%s", s.Output())
		default:
		}
		resp, err := http.Get(ingest + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})
	return s
}

// noRace fails the test when p, a binary built with GOFLAGS=-race, reported
// a data race.
func noRace(t *testing.T, p *proc) {
	t.Helper()
	if strings.Contains(p.Output(), "DATA RACE") {
		t.Errorf("data race in forgehook:\n%s", p.Output())
	}
}

// mountTmpfs mounts a tmpfs of size at dir, or skips the test when the
// machine cannot (not root, no mount).
func mountTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: mounting a size-limited tmpfs needs root")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("skipped: cannot mount a tmpfs at %s: %v: %s", dir, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Logf("umount %s: %v: %s", dir, err, out)
		}
	})
}

// fill writes a file at path until the file system is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for i := 0; i < 1<<14; i++ {
		if _, err := f.Write(buf); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				// Fill the last partial page too.
				for k := 0; k < 4096; k++ {
					if _, err := f.Write(buf[:512]); err != nil {
						return
					}
				}
				return
			}
			t.Fatal(err)
		}
	}
	t.Fatal("the file system never filled")
}

// TestStoreDiskFull fills the data directory's (small) file system while
// forgehook runs: no delivery is answered 2xx while it is full, /readyz
// and the metrics say so, and once space is freed ingest recovers within
// seconds without a restart, and after one.
func TestStoreDiskFull(t *testing.T) {
	dir := t.TempDir()
	mnt := filepath.Join(dir, "mnt")
	mountTmpfs(t, mnt, "64m")
	rc := newReceiver(t)
	cfg, ingest, admin := writeConfigAt(t, dir, filepath.Join(mnt, "data"), `store:
  ack_timeout: 2s
  max_bytes: 16MiB
`+faultEndpoint+fmt.Sprintf(`triggers:
  - name: forward
    http: {url: %q}
`, rc.URL))
	srv := start(t, cfg, ingest, admin)
	ctx := context.Background()
	stored := map[string]bool{}
	for _, id := range sendMany(t, ingest, "before", 50, 2000) {
		stored[id] = true
	}

	fill(t, filepath.Join(mnt, "filler"))
	// Every delivery while the disk is full: never a 2xx for an event the
	// store did not take. (A few may still fit into blocks JetStream had
	// already allocated: those are stored, and must be listed later.)
	failing := false
	for i := range 40 {
		id := fmt.Sprintf("full-%03d", i)
		status, ans, err := faultPush(ctx, ingest, id, 20000)
		if err != nil {
			t.Fatal(err)
		}
		switch status {
		case 200:
			if failing {
				t.Fatalf("delivery %s answered 200 after the store reported writes failing: %+v", id, ans)
			}
			stored[ans.ID] = true
		case 503:
			failing = true
		default:
			t.Fatalf("delivery %s: status %d %+v, want 200 (stored) or 503", id, status, ans)
		}
		if failing && i > 5 {
			break
		}
	}
	if !failing {
		t.Fatalf("no delivery was refused on a full disk")
	}
	code, ans := readyz(t, ingest)
	if code != 503 || !strings.Contains(fmt.Sprint(ans["reason"]), "writes failing") {
		t.Fatalf("/readyz on a full disk: %d %v, want 503 writes failing", code, ans)
	}
	if v := metricValue(t, admin, "forgehook_store_write_failing"); v != 1 {
		t.Errorf("forgehook_store_write_failing = %v on a full disk, want 1", v)
	}
	if v := metricValue(t, admin, "forgehook_store_up"); v != 0 {
		t.Errorf("forgehook_store_up = %v on a full disk, want 0", v)
	}
	t0 := time.Now()
	// 503 comes at once, not at the ack timeout.
	if status, _, _ := faultPush(ctx, ingest, "full-fast", 100); status != 503 || time.Since(t0) > time.Second {
		t.Errorf("delivery on a full disk: %d after %s, want 503 at once", status, time.Since(t0))
	}

	if err := os.Remove(filepath.Join(mnt, "filler")); err != nil {
		t.Fatal(err)
	}
	freed := time.Now()
	var recovered time.Duration
	for i := 0; ; i++ {
		id := fmt.Sprintf("after-%04d", i)
		status, ans, err := faultPush(ctx, ingest, id, 2000)
		if err != nil {
			t.Fatal(err)
		}
		if status == 200 {
			recovered = time.Since(freed)
			stored[ans.ID] = true
			break
		}
		if time.Since(freed) > 20*time.Second {
			t.Fatalf("ingest still answers %d 20 s after space was freed:\n%s", status, srv.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("disk full: ingest recovered %s after space was freed, without a restart", recovered)
	for _, l := range logLines(srv, "store: ") {
		if l["level"] != "DEBUG" && l["level"] != "INFO" || strings.Contains(fmt.Sprint(l["msg"]), "writes recovered") {
			t.Logf("log: %s %s %v", l["level"], l["msg"], l["reason"])
		}
	}
	if recovered > 5*time.Second {
		t.Errorf("recovery took %s, want under 5 s", recovered)
	}
	if code, ans := readyz(t, ingest); code != 200 {
		t.Errorf("/readyz after recovery: %d %v", code, ans)
	}
	if v := metricValue(t, admin, "forgehook_store_write_failing"); v != 0 {
		t.Errorf("forgehook_store_write_failing = %v after recovery, want 0", v)
	}
	recoveredIDs := sendMany(t, ingest, "recovered", 50, 2000)
	for _, id := range recoveredIDs {
		stored[id] = true
	}
	// The triggers deliver what was stored after the recovery, too.
	tw := time.Now()
	waitFor(t, 30*time.Second, "an event stored after the recovery is delivered", func() bool {
		return len(rc.hitsFor(recoveredIDs[len(recoveredIDs)-1])) > 0
	})
	t.Logf("delivered after %s", time.Since(tw))
	if len(logLines(srv, "store: writes failing")) == 0 || len(logLines(srv, "store: writes recovered")) == 0 {
		t.Errorf("want the log lines of the failure and the recovery:\n%s", srv.Output())
	}

	noRace(t, srv)
	srv.stop()
	srv = start(t, cfg, ingest, admin)
	for _, id := range sendMany(t, ingest, "restarted", 20, 2000) {
		stored[id] = true
	}
	listed := eventIDs(t, admin)
	for id := range stored {
		if !listed[id] {
			t.Errorf("event %s was answered 200 but is not stored", id)
		}
	}
	if lines := logLines(srv, "acknowledged events are missing"); len(lines) != 0 {
		t.Errorf("the restart after a full disk reports a loss: %v", lines)
	}

	// A start on a full disk: the process serves, not ready, and
	// recovers once space is back.
	srv.stop()
	fill(t, filepath.Join(mnt, "filler"))
	srv = startUnready(t, cfg, ingest, admin)
	if code, ans := readyz(t, ingest); code != 503 {
		t.Errorf("/readyz after a start on a full disk: %d %v, want 503", code, ans)
	}
	if status, ans, _ := faultPush(ctx, ingest, "full-at-start", 100); status != 503 {
		t.Errorf("delivery after a start on a full disk: %d %+v, want 503", status, ans)
	}
	if err := os.Remove(filepath.Join(mnt, "filler")); err != nil {
		t.Fatal(err)
	}
	freed = time.Now()
	srv.waitReady(20 * time.Second)
	t.Logf("start on a full disk: ready %s after space was freed", time.Since(freed))
	last := sendMany(t, ingest, "full-start-recovered", 10, 100)
	waitFor(t, 20*time.Second, "the triggers deliver after a start on a full disk", func() bool {
		return len(rc.hitsFor(last[len(last)-1])) > 0
	})
	for _, id := range last {
		stored[id] = true
	}
	t.Logf("%d events answered 200 across the full disk and the restart, all stored", len(stored))
	noRace(t, srv)
}

// TestStoreMaxBytesDropsOldest fills EVENTS past store.max_bytes: the
// oldest events make room (logged and counted) and ingest never refuses.
func TestStoreMaxBytesDropsOldest(t *testing.T) {
	dir := t.TempDir()
	cfg, ingest, admin := writeConfig(t, dir, `store:
  max_bytes: 4MiB
`+faultEndpoint)
	srv := start(t, cfg, ingest, admin)
	first := sendMany(t, ingest, "old", 20, 20000)
	sendMany(t, ingest, "new", 400, 20000)
	waitFor(t, 10*time.Second, "the drop log line and metric", func() bool {
		return len(logLines(srv, "oldest events dropped to stay under store.max_bytes")) > 0 &&
			metricValue(t, admin, "forgehook_store_events_dropped_total") > 0
	})
	dropped := metricValue(t, admin, "forgehook_store_events_dropped_total")
	if v := metricValue(t, admin, "forgehook_store_max_bytes"); v != 4<<20 {
		t.Errorf("forgehook_store_max_bytes = %v, want %d", v, 4<<20)
	}
	listed := eventIDs(t, admin)
	for _, id := range first {
		if listed[id] {
			t.Errorf("oldest event %s still stored past max_bytes", id)
		}
	}
	if len(listed) == 0 || len(listed) >= 420 {
		t.Errorf("%d events listed, want some, fewer than the 420 sent", len(listed))
	}
	t.Logf("max_bytes 4MiB: %d of 420 events kept, %v counted dropped; log: %v", len(listed), dropped,
		logLines(srv, "oldest events dropped")[0])
}

// blocks returns the EVENTS stream's message block files, in order.
func blocks(t *testing.T, dataDir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dataDir, "jetstream", "jetstream", "$G", "streams", "EVENTS", "msgs", "*.blk"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(files, func(i, j int) bool {
		a, _ := strconv.Atoi(strings.TrimSuffix(filepath.Base(files[i]), ".blk"))
		b, _ := strconv.Atoi(strings.TrimSuffix(filepath.Base(files[j]), ".blk"))
		return a < b
	})
	return files
}

// TestStoreCorruptBlocksAreLoud damages EVENTS's block files between two
// runs (truncated, garbage-filled, removed): the start logs the loss with
// its counts, the metric and /readyz show it, and ingest keeps working.
func TestStoreCorruptBlocksAreLoud(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, blk string)
	}{
		{"truncated", func(t *testing.T, blk string) {
			st, err := os.Stat(blk)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(blk, st.Size()/3); err != nil {
				t.Fatal(err)
			}
		}},
		{"garbage", func(t *testing.T, blk string) {
			f, err := os.OpenFile(blk, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			st, _ := f.Stat()
			junk := make([]byte, st.Size()/2)
			for i := range junk {
				junk[i] = byte(i*7 + 13)
			}
			if _, err := f.WriteAt(junk, st.Size()/4); err != nil {
				t.Fatal(err)
			}
		}},
		{"removed", func(t *testing.T, blk string) {
			if err := os.Remove(blk); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			dataDir := filepath.Join(dir, "data")
			cfg, ingest, admin := writeConfigAt(t, dir, dataDir, `store:
  max_bytes: 64MiB
`+faultEndpoint)
			srv := start(t, cfg, ingest, admin)
			sendMany(t, ingest, "ev", 2500, 3000)
			srv.stop()
			if out, err := runCLI("store", "check", "--data-dir", dataDir); err != nil || !strings.Contains(out, "ok: every indexed event is in EVENTS") {
				t.Fatalf("store check of an intact directory: %v\n%s", err, out)
			}
			blks := blocks(t, dataDir)
			if len(blks) < 2 {
				t.Fatalf("want several block files, have %v", blks)
			}
			// The first block: its events are not the newest, so only
			// the comparison with the index can see them gone.
			tc.damage(t, blks[0])
			out, err := runCLI("store", "check", "--data-dir", dataDir)
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(out, "LOSS: ") {
				t.Fatalf("store check of a damaged directory: %v, want exit 1 and LOSS:\n%s", err, out)
			}
			t.Logf("store check, %s block:\n%s", tc.name, out)

			srv = start(t, cfg, ingest, admin)
			// The start compares the index with the stream's state, then
			// reads EVENTS through in the background: a block that is
			// damaged inside is found when it is read.
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("log:\n%s", srv.Output())
				}
			})
			waitFor(t, 20*time.Second, "the start's reading of EVENTS", func() bool {
				return len(logLines(srv, "store: EVENTS read through")) > 0
			})
			lines := logLines(srv, "acknowledged events are missing from the log")
			if len(lines) == 0 {
				t.Fatalf("no loss line:\n%s", srv.Output())
			}
			last := lines[len(lines)-1]
			lost, _ := last["lost"].(float64)
			if lost <= 0 || last["level"] != "ERROR" {
				t.Fatalf("loss line without a count or not an error: %v", last)
			}
			for _, l := range lines {
				t.Logf("%s block: %v", tc.name, l)
			}
			for _, l := range logLines(srv, `"component":"nats"`) {
				if l["level"] == "WARN" || l["level"] == "ERROR" {
					t.Logf("%s block, nats says: %v", tc.name, l["msg"])
				}
			}
			if v := metricValue(t, admin, "forgehook_store_events_lost"); v != lost {
				t.Errorf("forgehook_store_events_lost = %v, want %v", v, lost)
			}
			code, ans := readyz(t, ingest)
			if d, _ := ans["details"].(map[string]any); code != 200 || d["events_lost"] != lost {
				t.Errorf("/readyz: %d %v, want 200 with events_lost %v", code, ans, lost)
			}
			sendMany(t, ingest, "after", 20, 100)
		})
	}
}

// TestStoreCorruptConsumerState damages one trigger's consumer state file:
// ingest and the other trigger keep working, and /readyz names the broken
// trigger.
func TestStoreCorruptConsumerState(t *testing.T) {
	rcA, rcB := newReceiver(t), newReceiver(t)
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	cfg, ingest, admin := writeConfigAt(t, dir, dataDir, faultEndpoint+fmt.Sprintf(`triggers:
  - name: alpha
    http: {url: %q}
  - name: beta
    http: {url: %q}
`, rcA.URL, rcB.URL))
	srv := start(t, cfg, ingest, admin)
	ids := sendMany(t, ingest, "one", 5, 100)
	waitFor(t, 10*time.Second, "both triggers deliver", func() bool {
		return len(rcA.hitsFor(ids[0])) > 0 && len(rcB.hitsFor(ids[0])) > 0
	})
	srv.stop()
	odat := filepath.Join(dataDir, "jetstream", "jetstream", "$G", "streams", "EVENTS", "obs", "trigger-alpha", "o.dat")
	if _, err := os.Stat(odat); err != nil {
		t.Fatalf("consumer state file: %v", err)
	}
	if err := os.WriteFile(odat, []byte(strings.Repeat("\xde\xad\xbe\xef", 64)), 0o600); err != nil {
		t.Fatal(err)
	}
	srv = start(t, cfg, ingest, admin)
	after := sendMany(t, ingest, "two", 5, 100)
	waitFor(t, 20*time.Second, "trigger beta delivers after the damage", func() bool {
		return len(rcB.hitsFor(after[0])) > 0
	})
	code, ans := readyz(t, ingest)
	d, _ := ans["details"].(map[string]any)
	broken, _ := d["broken_triggers"].(map[string]any)
	if code != 200 || broken["alpha"] == nil || broken["beta"] != nil {
		t.Errorf("/readyz with alpha's consumer damaged: %d %v, want 200 naming alpha (only)", code, ans)
	}
	if lines := logLines(srv, "deliver: trigger not started"); len(lines) != 1 || lines[0]["trigger"] != "alpha" {
		t.Errorf("want one log line naming trigger alpha, have %v", lines)
	}
	if len(logLines(srv, "corrupt state file")) == 0 {
		t.Errorf("want the embedded server's own warning in the log:\n%s", srv.Output())
	}
	if v := value(scrape(t, admin, ""), "forgehook_trigger_pending", map[string]string{"trigger": "beta"}); v < 0 {
		t.Errorf("beta's pending metric is missing")
	}
	// The UI's triggers page marks it (no admin token: loopback, no login).
	resp, err := http.Get(admin + "/triggers")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "data-broken>not started: trigger alpha") {
		t.Errorf("the triggers page does not mark alpha as not started: %d\n%s", resp.StatusCode, page)
	}
	t.Logf("/readyz with a damaged consumer: %d %v", code, ans)
}

// TestStoreLockOneProcess starts a second forgehook on a data directory in
// use: it exits at once, naming the directory and the holder's pid; once
// the first is killed (-9), a new one starts.
func TestStoreLockOneProcess(t *testing.T) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	cfg1, ingest1, admin1 := writeConfigAt(t, filepath.Join(dir, "one"), dataDir, faultEndpoint)
	first := start(t, cfg1, ingest1, admin1)
	cfg2, ingest2, admin2 := writeConfigAt(t, filepath.Join(dir, "two"), dataDir, faultEndpoint)
	t0 := time.Now()
	out, err := exec.Command(binary, "serve", "--config", cfg2).CombinedOutput()
	took := time.Since(t0)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 {
		t.Fatalf("second forgehook on the same data directory: %v, want a non-zero exit:\n%s", err, out)
	}
	pid := strconv.Itoa(first.cmd.Process.Pid)
	if !strings.Contains(string(out), dataDir) || !strings.Contains(string(out), "pid "+pid) {
		t.Errorf("second forgehook's message names neither %s nor pid %s:\n%s", dataDir, pid, out)
	}
	if took > 5*time.Second {
		t.Errorf("second forgehook took %s to exit", took)
	}
	t.Logf("second process exited %d after %s: %s", ee.ExitCode(), took.Round(time.Millisecond), strings.TrimSpace(string(out)))
	cout, err := runCLI("store", "check", "--data-dir", dataDir)
	if !errors.As(err, &ee) || ee.ExitCode() == 0 || !strings.Contains(cout, "in use") || !strings.Contains(cout, "pid "+pid) {
		t.Errorf("store check on a directory in use: %v, want a non-zero exit naming pid %s:\n%s", err, pid, cout)
	}
	first.kill()
	second := start(t, cfg2, ingest2, admin2)
	if status, ans, err := faultPush(context.Background(), ingest2, "after-kill", 10); err != nil || status != 200 {
		t.Fatalf("after the holder was killed: %d %+v %v", status, ans, err)
	}
	second.stop()
}
