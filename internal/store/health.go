package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// ErrWriteFailing means the store refuses writes: its disk is full, or
// its file store reported a write error. Ingest answers 503, /readyz
// answers 503 with the reason, and the store recovers by itself once
// space is back (see docs/operations.md, "The disk is full").
var ErrWriteFailing = fmt.Errorf("%w: writes failing", ErrNotReady)

// writeHealth is what the store knows about its ability to write.
type writeHealth struct {
	mu        sync.Mutex
	reason    string    // "" when writes work
	since     time.Time // when they started to fail
	sticky    bool      // the embedded file store kept a write error: JetStream must restart
	recovered time.Time // when writes last recovered
	failures  uint64    // times writes started to fail, since the start
	kick      chan struct{}
	restarted chan struct{} // signalled after a restart of the embedded JetStream
	// minFree, when not 0, replaces the free space the recovery waits
	// for (tests).
	minFree atomic.Uint64
}

// Restarted is signalled (and then holds one signal until read) after the
// store restarted the embedded JetStream to recover from a write error, or
// when its streams became ready after Open returned without them: the
// consumers of the old JetStream are gone (or were never created), and
// whoever consumes must start its consumers now.
func (s *Store) Restarted() <-chan struct{} { return s.health.restarted }

// WriteStatus is the store's write health, for readiness and metrics.
type WriteStatus struct {
	// Failing reports that writes fail now; Reason says why, Since when.
	Failing bool
	Reason  string
	Since   time.Time
	// Failures counts the times writes started to fail since the start.
	Failures uint64
}

// WriteStatus reports whether the store's writes fail now.
func (s *Store) WriteStatus() WriteStatus {
	h := &s.health
	h.mu.Lock()
	defer h.mu.Unlock()
	return WriteStatus{Failing: h.reason != "", Reason: h.reason, Since: h.since, Failures: h.failures}
}

// storageReasons are the texts of the errors that mean the log cannot
// write: the kernel's, the file store's, and JetStream's limits.
var storageReasons = []string{
	"no space left",
	"insufficient resources",
	"insufficient storage",
	"resource limits exceeded",
	"resources exceeded",
	"maximum bytes exceeded",
	"critical write error",
	"failed to store a msg",
	"disk quota exceeded",
	"read-only file system",
}

// isStorageError reports whether err (or text) says the store cannot write.
func isStorageError(text string) bool {
	t := strings.ToLower(text)
	for _, r := range storageReasons {
		if strings.Contains(t, r) {
			return true
		}
	}
	return false
}

// noteWriteError records a write failure seen at started (an Append's
// start; a log line's time): one that started before the last recovery
// is a leftover of the old failure and is ignored. sticky marks a file
// store write error, which only a restart of the embedded JetStream clears.
func (s *Store) noteWriteError(started time.Time, reason string, sticky bool) {
	h := &s.health
	h.mu.Lock()
	if started.Before(h.recovered) {
		h.mu.Unlock()
		return
	}
	first := h.reason == ""
	if first {
		h.since = time.Now()
		h.failures++
		h.reason = reason
	}
	h.sticky = h.sticky || sticky
	h.mu.Unlock()
	if first {
		s.log.Error("store: writes failing: ingest answers 503 and /readyz is not ready until they recover", "reason", reason)
	}
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

// failFast returns ErrWriteFailing while the embedded store's writes are
// known to fail: ingest answers 503 at once instead of at its ack timeout.
// An external store is always tried: its recovery is seen by a write.
func (s *Store) failFast() error {
	if s.ns == nil {
		return nil
	}
	h := &s.health
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.reason == "" {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrWriteFailing, h.reason)
}

// noteWriteOK clears a failure once a write that started at t0, after the
// failure began, succeeds.
func (s *Store) noteWriteOK(t0 time.Time) {
	h := &s.health
	h.mu.Lock()
	if h.reason == "" || t0.Before(h.since) {
		h.mu.Unlock()
		return
	}
	since := h.since
	h.reason, h.sticky, h.recovered = "", false, time.Now()
	h.mu.Unlock()
	s.log.Info("store: writes recovered", "failing_for", time.Since(since).Round(time.Millisecond).String())
}

// headroom is the free space the embedded store wants on its disk before
// it takes writes again: a few of the largest events.
func (s *Store) headroom() uint64 {
	if n := s.health.minFree.Load(); n != 0 {
		return n
	}
	return uint64(min(int64(s.opts.MaxPayload)*2, 16<<20))
}

// diskFree returns the bytes free (to an unprivileged user) and the size
// of the file system holding dir.
func diskFree(dir string) (free, size uint64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	return st.Bavail * uint64(st.Bsize), st.Blocks * uint64(st.Bsize), nil
}

// healthLoop watches a write failure and ends it once the store can write
// again. For the embedded store that is once its disk has room: it
// reloads the embedded JetStream when a file store kept the error
// (JetStream never retries a failed write by itself: every later write of
// that stream fails until it reloads), and clears the failure so that
// ingest and /readyz come back. For an external one, see
// tryRecoverExternal.
func (s *Store) healthLoop() {
	defer s.wg.Done()
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	var lastWhy string
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		case <-s.health.kick:
		}
		st := s.WriteStatus()
		if !st.Failing {
			lastWhy = ""
			continue
		}
		why := s.tryRecover()
		if why == "" {
			lastWhy = ""
			continue
		}
		// Logged when what it waits for changes, not its figures.
		if kind, _, _ := strings.Cut(why, " ("); kind != lastWhy {
			s.log.Warn("store: writes still failing", "reason", st.Reason, "waiting_for", why)
			lastWhy = kind
		}
	}
}

// tryRecover ends a write failure when it can, and otherwise says what it
// waits for.
func (s *Store) tryRecover() string {
	if s.ns == nil {
		return s.tryRecoverExternal()
	}
	free, _, err := diskFree(s.jsDir())
	if err != nil {
		return err.Error()
	}
	if free < s.headroom() {
		return fmt.Sprintf("free space on the data directory's disk (%d bytes free, %d wanted)", free, s.headroom())
	}
	h := &s.health
	h.mu.Lock()
	sticky := h.sticky
	since := h.since
	h.mu.Unlock()
	restarted := false
	if sticky || !s.ns.JetStreamEnabled() {
		if err := s.restartJetStream(); err != nil {
			return "a restart of the embedded JetStream: " + err.Error()
		}
		restarted = true
	}
	if jsz, err := s.ns.Jsz(nil); err == nil && jsz.Config.MaxStore > 0 && int64(jsz.Store)+int64(s.headroom()) > jsz.Config.MaxStore {
		return fmt.Sprintf("room under the store's size limit (%d of %d bytes used)", jsz.Store, jsz.Config.MaxStore)
	}
	h.mu.Lock()
	h.reason, h.sticky, h.recovered = "", false, time.Now()
	h.mu.Unlock()
	s.log.Info("store: writes recovered", "failing_for", time.Since(since).Round(time.Millisecond).String())
	if restarted {
		select {
		case h.restarted <- struct{}{}:
		default:
		}
	}
	return ""
}

// tryRecoverExternal ends a write failure of an external store once its
// JetStream answers and reports room under the account's limit; a write
// that succeeds ends it too (noteWriteOK).
func (s *Store) tryRecoverExternal() string {
	ctx, cancel := context.WithTimeout(s.ctx, 2*time.Second)
	defer cancel()
	info, err := s.js.AccountInfo(ctx)
	if err != nil {
		return "the external JetStream to answer: " + err.Error()
	}
	if limit := info.Limits.MaxStore; limit > 0 && int64(info.Store)+int64(s.headroom()) > limit {
		return fmt.Sprintf("room under the account's storage limit (%d of %d bytes used)", info.Store, limit)
	}
	h := &s.health
	h.mu.Lock()
	since := h.since
	h.reason, h.sticky, h.recovered = "", false, time.Now()
	h.mu.Unlock()
	s.log.Info("store: writes recovered", "failing_for", time.Since(since).Round(time.Millisecond).String())
	return ""
}

// restartJetStream reloads the embedded JetStream's streams from their
// files, which drops the write errors their file stores keep, and waits
// for the streams. It reloads the account's JetStream, not the server's:
// the server's restart replaces its API queues under requests in flight
// (a data race in nats-server). Only when the server turned JetStream off
// (it does on some disk errors) does it start the server's again.
func (s *Store) restartJetStream() error {
	if !s.ns.JetStreamEnabled() {
		c := s.jsConfig // EnableJetStream adds "jetstream" to StoreDir itself
		s.log.Warn("store: starting the embedded JetStream again, which turned itself off")
		if err := s.ns.EnableJetStream(&c); err != nil {
			return fmt.Errorf("enable: %w", err)
		}
	} else {
		s.log.Warn("store: reloading the embedded JetStream's streams to clear their write error")
		if err := s.unreserve(); err != nil {
			return fmt.Errorf("reload: %w", err)
		}
		acc := s.ns.GlobalAccount()
		if err := acc.DisableJetStream(); err != nil {
			return fmt.Errorf("reload: %w", err)
		}
		if err := acc.EnableJetStream(nil, nil); err != nil {
			return fmt.Errorf("reload: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	for {
		if err := s.ensure(ctx); err == nil {
			return nil
		} else if ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// unreserve drops the size limits of the streams that have one before the
// account's JetStream reloads: a reload keeps the old streams' reservations
// and makes the reloaded streams reserve again, which the reservation
// (JetStreamMaxStore) has no room for. ensure sets the limits again.
func (s *Store) unreserve() error {
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	defer cancel()
	for _, name := range []string{EventsStream, AttemptsStream} {
		st, err := s.js.Stream(ctx, name)
		if err != nil {
			return fmt.Errorf("stream %s: %w", name, err)
		}
		cfg := st.CachedInfo().Config
		if cfg.MaxBytes <= 0 {
			continue
		}
		cfg.MaxBytes = -1
		if _, err := s.js.UpdateStream(ctx, cfg); err != nil {
			return fmt.Errorf("stream %s: %w", name, err)
		}
	}
	return nil
}

// natsLogger sends the embedded server's log lines to slog: errors and
// warnings as they are (a damaged file, a write error), notices at debug.
// It also watches them for the write errors that make the store refuse
// writes.
type natsLogger struct {
	log *slog.Logger
	s   *Store
}

var _ server.Logger = natsLogger{}

func (l natsLogger) Noticef(format string, v ...any) {
	l.log.Debug(fmt.Sprintf(format, v...))
}

func (l natsLogger) Warnf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	if strings.HasPrefix(msg, "Maximum payloads over") {
		// forgehook chose its payload limit (large bodies go to the
		// object store): not news at every start.
		l.log.Debug(msg)
		return
	}
	l.log.Warn(msg)
	l.watch(msg)
}

func (l natsLogger) Errorf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.log.Error(msg)
	l.watch(msg)
}

// Fatalf logs at error: the embedded server does not end forgehook.
func (l natsLogger) Fatalf(format string, v ...any) {
	l.log.Error("fatal: " + fmt.Sprintf(format, v...))
}

func (l natsLogger) Debugf(format string, v ...any) {}

func (l natsLogger) Tracef(format string, v ...any) {}

func (l natsLogger) watch(msg string) {
	if !isStorageError(msg) {
		return
	}
	t := strings.ToLower(msg)
	sticky := strings.Contains(t, "critical write error") || strings.Contains(t, "failed to store a msg") ||
		strings.Contains(t, "no space left") || strings.Contains(t, "will be disabled")
	l.s.noteWriteError(time.Now(), msg, sticky)
}

// appendFailed classifies an Append error that started at t0.
func (s *Store) appendFailed(t0 time.Time, err error) {
	if err == nil || errors.Is(err, ErrNotReady) {
		return
	}
	if isStorageError(err.Error()) {
		s.noteWriteError(t0, err.Error(), false)
	}
}
