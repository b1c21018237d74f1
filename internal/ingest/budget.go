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
// follows what arrives, never what Content-Length announces.
//
// Requests that each hold part of the budget and wait for more could wait
// for each other until they all time out (several large deliveries at
// once). So one request at a time, the overdraft holder, may go past the
// limit: it never waits, and the bytes in flight stay under the limit plus
// that one request's (at most about three times max_body). And large
// requests (past smallRequest) share only three quarters of the limit, so
// that large bodies, an attacker's or not, never starve the usual small
// deliveries: the last quarter is theirs. It is safe for concurrent use.
type budget struct {
	limit int64 // <= 0: no limit

	mu        sync.Mutex
	used      int64
	overdraft *reservation // the one request allowed past the limit, or nil
	// freed is closed, and replaced, whenever bytes are released: the
	// waiters then try again.
	freed chan struct{}
	// shed, when set, is called by a request about to wait for room, and
	// again every shedRetry while it waits: it may cut another request so
	// that its bytes come back (see reads.shed).
	shed func(now time.Time) bool
}

// smallRequest is the most a request may hold and still count as small:
// it may then use the quarter of the budget kept from large ones.
const smallRequest = 1 << 20

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

// grow reserves n more bytes. When the budget has no room and another
// request holds the overdraft, it waits for releases until the request's
// total wait reaches r.wait or ctx ends, and then returns errBusy (or ctx's
// error). So one delivery of max_body always goes through, even a budget
// smaller than it.
func (r *reservation) grow(ctx context.Context, n int64) error {
	b := r.b
	if n <= 0 {
		return nil
	}
	for {
		b.mu.Lock()
		// The bytes of others, the overdraft holder's aside.
		others := b.used
		if b.overdraft != nil {
			others -= b.overdraft.held
		}
		small := r.held+n <= smallRequest
		fits := b.limit <= 0 || b.overdraft == r ||
			small && others+n <= b.limit || others+n <= b.limit-b.limit/4
		if !fits && !small && b.overdraft == nil {
			b.overdraft, fits = r, true
		}
		if fits {
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
		if b.shed != nil {
			b.shed(time.Now())
			// Look again for one to shed before long, freed or not.
			d = min(d, shedRetry)
		}
		t := time.NewTimer(d)
		select {
		case <-freed:
			t.Stop()
		case <-t.C:
			if b.shed == nil {
				return errBusy
			}
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
	if r.held == 0 && b.overdraft == r {
		b.overdraft = nil
	}
	close(b.freed)
	b.freed = make(chan struct{})
	b.mu.Unlock()
}

// release gives back every byte r holds.
func (r *reservation) release() { r.shrink(r.held) }
