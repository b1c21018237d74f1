package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStoreLockOneOpenPerDataDir(t *testing.T) {
	dir := t.TempDir()
	s := openEmbedded(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Open(ctx, Options{DataDir: dir})
	var le *LockedError
	if !errors.As(err, &le) {
		s.Close()
		t.Fatalf("second Open on a data directory in use: %v, want a *LockedError", err)
	}
	if le.PID != os.Getpid() || le.Dir != dir || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Errorf("LockedError %+v (%v): want dir %s and pid %d", le, err, dir, os.Getpid())
	}
	if held, pid, err := HolderOf(dir); err != nil || !held || pid != os.Getpid() {
		t.Errorf("HolderOf while open: %v %d %v", held, pid, err)
	}
	if _, err := Check(ctx, Options{DataDir: dir}); !errors.As(err, &le) {
		t.Errorf("Check of a directory in use: %v, want a *LockedError", err)
	}
	s.Close()
	if held, _, err := HolderOf(dir); err != nil || held {
		t.Errorf("HolderOf after Close: %v %v", held, err)
	}
	s = openEmbedded(t, dir)
	s.Close()
}

func TestStoreStorageErrorsClassified(t *testing.T) {
	for text, want := range map[string]bool{
		"write /d/1.blk: no space left on device":                                     true,
		"nats: API error: code=503 err_code=10023 description=insufficient resources": true,
		"insufficient storage resources available":                                    true,
		"Filestore [EVENTS] Critical write error: disk quota exceeded":                true,
		"nats: timeout":             false,
		"context deadline exceeded": false,
		"nats: connection closed":   false,
	} {
		if got := isStorageError(text); got != want {
			t.Errorf("isStorageError(%q) = %v, want %v", text, got, want)
		}
	}
}

// TestStoreNatsLogMarksWritesFailing feeds the embedded server's write
// error line to the logger: the store fails its writes at once and is not
// ready until the recovery clears it.
func TestStoreNatsLogMarksWritesFailing(t *testing.T) {
	ctx := context.Background()
	s := openEmbedded(t, t.TempDir())
	defer s.Close()
	if err := s.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	l := natsLogger{log: s.log, s: s}
	l.Warnf("Filestore [%s] %s", "EVENTS", "some notice that is not a write error")
	if s.WriteStatus().Failing {
		t.Fatal("a warning that is no write error marked writes failing")
	}
	// The recovery waits for more free space than any disk has.
	s.health.minFree.Store(1 << 62)
	l.Errorf("Filestore [%s] Critical write error: %s", "EVENTS", "write x/1.blk: no space left on device")
	if ws := s.WriteStatus(); !ws.Failing || ws.Failures != 1 || !strings.Contains(ws.Reason, "no space left") {
		t.Fatalf("after the server's write error line: %+v, want failing, counted once", ws)
	}
	if err := s.Ready(ctx); !errors.Is(err, ErrWriteFailing) || !errors.Is(err, ErrNotReady) {
		t.Errorf("Ready while writes fail: %v, want ErrWriteFailing", err)
	}
	if _, err := s.Append(ctx, "ep", Subject("ep", "github", "push"), "id-1", "k-1", evJSON("id-1")); !errors.Is(err, ErrWriteFailing) {
		t.Errorf("Append while writes fail: %v, want ErrWriteFailing at once", err)
	}
	// The disk has room: the health loop restarts JetStream and clears it.
	s.health.minFree.Store(1)
	checkFor(t, 10*time.Second, 50*time.Millisecond, func() error {
		if ws := s.WriteStatus(); ws.Failing {
			return fmt.Errorf("still failing: %s", ws.Reason)
		}
		return nil
	})
	if err := s.Ready(ctx); err != nil {
		t.Fatalf("Ready after the recovery: %v", err)
	}
	if _, err := s.Append(ctx, "ep", Subject("ep", "github", "push"), "id-2", "k-2", evJSON("id-2")); err != nil {
		t.Fatalf("Append after the recovery: %v", err)
	}
	select {
	case <-s.Restarted():
	default:
		t.Error("no restart signalled after a sticky write error")
	}
}

// TestStoreLossFoundAtOpen removes EVENTS's files under an index that
// knows its events: the next Open reports every one of them lost.
func TestStoreLossFoundAtOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openEmbedded(t, dir)
	for i := range 50 {
		id := fmt.Sprintf("id-%d", i)
		if _, err := s.Append(ctx, "ep", Subject("ep", "github", "push"), id, "k"+id, evJSON(id)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = openEmbedded(t, dir)
	if l := s.Loss(); !l.Checked || l.Events != 0 || l.Indexed != 50 {
		t.Fatalf("intact store: %+v, want 50 indexed, none lost", l)
	}
	s.Close()
	if err := os.RemoveAll(filepath.Join(dir, "jetstream", "jetstream", "$G", "streams", EventsStream)); err != nil {
		t.Fatal(err)
	}
	s = openEmbedded(t, dir)
	defer s.Close()
	if l := s.Loss(); l.Events != 50 || l.Tail != 50 {
		t.Fatalf("EVENTS removed: %+v, want all 50 lost past the last sequence", l)
	}
}
