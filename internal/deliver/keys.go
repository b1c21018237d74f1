package deliver

import (
	"context"
	"log/slog"
	"time"

	"github.com/forgehook/forgehook/internal/store"
)

// keyQueue is one serialize key in use. The key's head (the event that
// holds it) is not in the queue: it runs, and retries, on a worker.
// waiting are the events that arrived after it, oldest first; with
// coalesce there is at most one. A key is in use exactly while it is in
// runner.keys.
type keyQueue struct {
	waiting []*job
}

// drain gives back the events still waiting for their key and refuses
// later ones.
func (tr *runner) drain() {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.stopped = true
	for _, q := range tr.keys {
		for _, j := range q.waiting {
			j.wip.stop()
			_ = j.m.Nak()
		}
	}
	clear(tr.keys)
}

// enqueue reports whether j holds its key now: true when the key was free.
// Otherwise j waits behind the key's head and, when the action coalesces,
// supersedes the events of the key that were already waiting.
func (tr *runner) enqueue(j *job) bool {
	tr.mu.Lock()
	if tr.stopped {
		tr.mu.Unlock()
		_ = j.m.Nak()
		return false
	}
	q, busy := tr.keys[j.key]
	if !busy {
		tr.keys[j.key] = &keyQueue{}
		tr.mu.Unlock()
		return true
	}
	var older []*job
	if tr.coalesce {
		older = q.waiting
		q.waiting = nil
	}
	q.waiting = append(q.waiting, j)
	j.wip.start(j.m, AckWait/3)
	tr.mu.Unlock()
	for _, o := range older {
		tr.supersede(o, j)
	}
	return false
}

// next passes key on from the event that held it to the oldest one
// waiting, and returns that one; nil when none waits (the key is then
// free) or the runner is stopping (Stop gives the waiting ones back).
func (tr *runner) next(key string) *job {
	if key == "" {
		return nil
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	q := tr.keys[key]
	if q == nil || tr.r.ctx.Err() != nil {
		return nil
	}
	if len(q.waiting) == 0 {
		delete(tr.keys, key)
		return nil
	}
	j := q.waiting[0]
	q.waiting[0] = nil
	q.waiting = q.waiting[1:]
	return j
}

// supersede acknowledges j without running it: by, a newer event of the
// same key, replaced it. The attempt is recorded as superseded.
func (tr *runner) supersede(j, by *job) {
	j.wip.stop()
	a := store.Attempt{
		Trigger: tr.t.Name, EventID: j.head().ID, Attempt: int(j.md.NumDelivered), Time: time.Now(),
		Outcome: store.OutcomeSuperseded, Output: "superseded by event " + by.head().ID, Replay: j.replay,
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(tr.r.ctx), 10*time.Second)
	defer cancel()
	tr.record(ctx, a)
	tr.observe(a, j.head().Time)
	_ = j.m.Ack()
	tr.log.LogAttrs(ctx, slog.LevelInfo, "delivery", slog.String("event", j.head().ID), slog.Int("attempt", a.Attempt),
		slog.String("outcome", a.Outcome), slog.String("by", by.head().ID), slog.Bool("replay", a.Replay))
	tr.forget(j.head().ID)
}
