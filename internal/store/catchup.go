package store

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// catchUps are the indexes that are catching up with what the store
// holds: rebuilding from the streams after a start with an empty, lost or
// old data directory, or reading what other replicas stored meanwhile.
type catchUps struct {
	mu      sync.Mutex
	pending map[*catchUp]struct{}
}

type catchUp struct {
	what  string
	since time.Time
}

// CatchingUp registers an index (named by what, for /readyz's reason)
// that is catching up with the store: until done is called, CaughtUp
// reports it, /readyz answers 503 and Append refuses deliveries with a
// dedup key (ErrNotReady, so ingest answers 503 and the forge retries).
// Every index fed from a stream joins this way; the tail of the streams
// (tail.go) registers its own. done may be called more than once.
func (s *Store) CatchingUp(what string) (done func()) {
	c := &catchUp{what: what, since: time.Now()}
	s.catchUps.mu.Lock()
	if s.catchUps.pending == nil {
		s.catchUps.pending = map[*catchUp]struct{}{}
	}
	s.catchUps.pending[c] = struct{}{}
	s.catchUps.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.catchUps.mu.Lock()
			delete(s.catchUps.pending, c)
			s.catchUps.mu.Unlock()
			s.log.Info("store: index caught up", "index", what, "took", time.Since(c.since).Round(time.Millisecond).String())
		})
	}
}

// CaughtUp returns nil when every index has caught up with the store,
// else an error wrapping ErrNotReady that names one still catching up.
func (s *Store) CaughtUp() error {
	s.catchUps.mu.Lock()
	defer s.catchUps.mu.Unlock()
	for c := range s.catchUps.pending {
		return fmt.Errorf("%w: %s (for %s)", ErrNotReady, c.what, time.Since(c.since).Round(time.Second))
	}
	return nil
}

// awaitCaughtUp waits, at most limit or until ctx ends, for the indexes to
// catch up: the embedded store's start, whose catch-up usually takes
// milliseconds, is then ready when Open returns.
func (s *Store) awaitCaughtUp(ctx context.Context, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for s.CaughtUp() != nil && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
}
