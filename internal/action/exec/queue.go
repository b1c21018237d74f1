package execaction

import (
	"context"
	"fmt"
	"slices"
)

// keyQueue is the state of one serialize key: a run holds it (busy) and
// others wait for it, oldest first. It exists only while the key is busy,
// so the map of keys is as small as the number of keys in use.
type keyQueue struct {
	busy    bool
	waiting []*waiter // non-empty only when busy; at most one with coalesce
}

// waiter is one run waiting for its key. granted and superseded are set
// under Exec.mu before ready is closed.
type waiter struct {
	ready      chan struct{}
	granted    bool
	superseded bool
}

// acquire waits until the caller holds key: at once when no run holds it,
// else after the runs that arrived before it (FIFO). With coalesce, a new
// arrival supersedes the runs already waiting: acquire returns superseded
// for them, at once, and they must not run. A caller that gets neither an
// error nor superseded holds the key and must call release.
//
// queued, when not nil, is called once the caller has its place in the
// key's queue (see action.Input.Queued).
func (e *Exec) acquire(ctx context.Context, key string, queued func()) (superseded bool, err error) {
	if queued == nil {
		queued = func() {}
	}
	e.mu.Lock()
	q := e.keys[key]
	if q == nil {
		q = &keyQueue{}
		e.keys[key] = q
	}
	if !q.busy {
		q.busy = true
		e.mu.Unlock()
		queued()
		return false, nil
	}
	if e.s.coalesce {
		for i, w := range q.waiting {
			w.superseded = true
			close(w.ready)
			q.waiting[i] = nil
		}
		q.waiting = q.waiting[:0]
	}
	w := &waiter{ready: make(chan struct{})}
	q.waiting = append(q.waiting, w)
	e.mu.Unlock()
	queued()

	select {
	case <-w.ready:
		return w.superseded, nil
	case <-ctx.Done():
	}
	e.mu.Lock()
	switch {
	case w.superseded:
		e.mu.Unlock()
		return true, nil
	case w.granted:
		e.mu.Unlock()
		e.release(key) // pass the key on to the next in line
	default:
		q.waiting = slices.DeleteFunc(q.waiting, func(x *waiter) bool { return x == w })
		e.mu.Unlock()
	}
	return false, fmt.Errorf("stopped while waiting for an earlier run of the same key: %w", context.Cause(ctx))
}

// release hands key to the oldest waiting run, or forgets the key when
// none waits.
func (e *Exec) release(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	q := e.keys[key]
	if len(q.waiting) == 0 {
		delete(e.keys, key)
		return
	}
	w := q.waiting[0]
	q.waiting[0] = nil
	q.waiting = q.waiting[1:]
	w.granted = true
	close(w.ready)
}
