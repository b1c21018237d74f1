package ingest

import (
	"context"
	"errors"
	"sync"
	"time"
)

// errBusy means the bytes in flight stayed at the budget for the whole
// wait. Ingest answers 503 with Retry-After.
var errBusy = errors.New("body bytes in flight at server.max_body_in_flight")

// budget bounds the bytes that requests hold at once: their body buffers,
// a form's unescaped payload and the encoded record. A request reserves
// bytes as its buffers grow with the bytes actually received, so memory
// follows what arrives, never what Content-Length announces. It is safe
// for concurrent use.
type budget struct {
	limit int64 // <= 0: no limit

	mu   sync.Mutex
	used int64
	// freed is closed, and replaced, whenever bytes are released: the
	// waiters then try again.
	freed chan struct{}
}

func newBudget(limit int64) *budget {
	return &budget{limit: limit, freed: make(chan struct{})}
}

// inUse returns the bytes reserved now.
func (b *budget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// reservation is one request's share of the budget.
type reservation struct {
	b    *budget
	held int64
	// deadline ends the request's waiting for room, over all its
	// reservations; zero until it first waits.
	deadline time.Time
	wait     time.Duration
}

// grow reserves n more bytes. When the budget has no room it waits for
// releases until the request's total wait reaches r.wait or ctx ends, and
// then returns errBusy (or ctx's error). A request that holds every
// reserved byte is never refused, so that one delivery of max_body always
// goes through a budget smaller than it.
func (r *reservation) grow(ctx context.Context, n int64) error {
	b := r.b
	if n <= 0 {
		return nil
	}
	for {
		b.mu.Lock()
		if b.limit <= 0 || b.used+n <= b.limit || b.used == r.held {
			b.used += n
			r.held += n
			b.mu.Unlock()
			return nil
		}
		freed := b.freed
		b.mu.Unlock()
		if r.deadline.IsZero() {
			r.deadline = time.Now().Add(r.wait)
		}
		d := time.Until(r.deadline)
		if d <= 0 {
			return errBusy
		}
		t := time.NewTimer(d)
		select {
		case <-freed:
			t.Stop()
		case <-t.C:
			return errBusy
		case <-ctx.Done():
			t.Stop()
			return context.Cause(ctx)
		}
	}
}

// shrink gives back n of the bytes r holds.
func (r *reservation) shrink(n int64) {
	n = min(n, r.held)
	if n <= 0 {
		return
	}
	b := r.b
	b.mu.Lock()
	b.used -= n
	r.held -= n
	close(b.freed)
	b.freed = make(chan struct{})
	b.mu.Unlock()
}

// release gives back every byte r holds.
func (r *reservation) release() { r.shrink(r.held) }
