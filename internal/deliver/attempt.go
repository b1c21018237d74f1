package deliver

import (
	"context"
	"log/slog"
	"time"

	"github.com/forgehook/forgehook/internal/action"
	"github.com/forgehook/forgehook/internal/store"
)

// run delivers j: it runs the action until an attempt succeeds, the event
// is dead-lettered, or, for an event without a serialize key, its retry is
// left to JetStream (a delayed negative acknowledgement). An event with a
// key retries here, keeping its key so that no later event of the key runs
// before it; it gives its concurrency slot up while it waits. s may be nil
// (no concurrency limit).
func (tr *runner) run(j *job, s *slot) {
	ctx := tr.r.ctx
	j.wip.start(j.m, AckWait/3)
	for attempt := tr.firstAttempt(j); ; attempt++ {
		if !s.take(ctx) {
			j.wip.stop()
			_ = j.m.Nak()
			return
		}
		// The action reads the record's views it needs; each is decoded
		// once for all attempts.
		in := action.Input{Record: &j.rec, Trigger: tr.t.Name, Attempt: attempt, Key: j.key}
		start := time.Now()
		res, doErr := tr.t.Action.Do(ctx, in)
		if ctx.Err() != nil {
			// Shutting down: the event is redelivered after the restart.
			j.wip.stop()
			_ = j.m.Nak()
			return
		}
		delay, again := tr.settle(j, in, res, doErr, start)
		if !again {
			return
		}
		s.give()
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			j.wip.stop()
			_ = j.m.Nak()
			return
		}
	}
}

// firstAttempt returns the number of j's next attempt: the message's
// delivery count, or for a redelivered event with a serialize key, whose
// earlier retries happened in a process that JetStream did not count
// (they waited in place), one more than the last attempt recorded for
// this message (since it was stored, on this trigger).
func (tr *runner) firstAttempt(j *job) int {
	n := int(j.md.NumDelivered)
	if j.key == "" || n <= 1 {
		return n
	}
	ctx, cancel := context.WithTimeout(tr.r.ctx, 10*time.Second)
	defer cancel()
	atts, err := tr.r.st.Attempts(ctx, tr.t.Name, j.head().ID)
	if err != nil {
		tr.log.Warn("deliver: attempts of a redelivered event not readable, counting from its deliveries", "event", j.head().ID, "err", err)
		return n
	}
	for _, a := range atts {
		if a.Replay == j.replay && !a.Time.Before(j.md.Timestamp) {
			n = max(n, a.Attempt+1)
		}
	}
	return n
}

// settle records the outcome of one attempt and acknowledges the message
// accordingly. again reports that the attempt is to be retried in this
// process after delay (an event with a serialize key).
func (tr *runner) settle(j *job, in action.Input, res action.Result, doErr error, start time.Time) (delay time.Duration, again bool) {
	ctx, m, head := tr.r.ctx, j.m, j.head()
	a := store.Attempt{
		Trigger: tr.t.Name, EventID: head.ID, Attempt: in.Attempt, Time: start, Duration: time.Since(start),
		Status: res.Status, Output: res.Output, Replay: j.replay,
	}
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer rcancel()
	defer func() { tr.observe(a, head.Time) }()
	switch {
	case doErr == nil:
		a.Outcome = store.OutcomeDelivered
		if res.Superseded {
			a.Outcome = store.OutcomeSuperseded
		}
		tr.record(rctx, a)
		j.wip.stop()
		// A plain ack, not a confirmed one: if it is lost, JetStream
		// redelivers after AckWait and the receiver sees the event again
		// (delivery is at least once, and the event id lets it
		// deduplicate); a confirmed ack cost a round trip per delivery.
		if err := m.Ack(); err != nil {
			tr.log.Warn("deliver: ack", "event", head.ID, "err", err)
		}
		// Typed attributes: no boxing of each value. A log action's
		// delivery is its own line already: its attempt is debug.
		level := slog.LevelInfo
		if tr.t.Kind == "log" && a.Outcome == store.OutcomeDelivered {
			level = slog.LevelDebug
		}
		tr.log.LogAttrs(ctx, level, "delivery", slog.String("event", head.ID), slog.Int("attempt", a.Attempt),
			slog.String("outcome", a.Outcome), slog.Int("status", a.Status),
			slog.Duration("duration", a.Duration.Round(time.Microsecond)), slog.Bool("replay", a.Replay))
		tr.forget(head.ID)
		return 0, false
	case res.Retry && in.Attempt < tr.t.Retry.MaxAttempts && !tr.tooOld(head.Time):
		delay = Backoff(tr.t.Retry, in.Attempt, res.RetryAfter)
		a.Outcome, a.Error, a.NextAttempt = store.OutcomeFailed, doErr.Error(), time.Now().Add(delay)
		tr.record(rctx, a)
		tr.logFailure(head.ID, in.Attempt, doErr, delay)
		if j.key != "" {
			return delay, true
		}
		j.wip.stop()
		_ = m.NakWithDelay(delay)
		return 0, false
	default:
		a.Outcome, a.Error = store.OutcomeDead, doErr.Error()
		tr.dead(rctx, j, a, doErr)
		return 0, false
	}
}

func (tr *runner) tooOld(eventTime time.Time) bool {
	return tr.t.Retry.MaxAge > 0 && time.Since(eventTime) > tr.t.Retry.MaxAge
}

// logFailure logs a failed attempt, at warn level like every failed
// attempt; repeat=true marks an error the same as the event's previous
// attempt's, so a long outage can be filtered down to its changes.
func (tr *runner) logFailure(id string, attempt int, err error, delay time.Duration) {
	tr.mu.Lock()
	prev, seen := tr.lastErr[id]
	if len(tr.lastErr) > 4096 {
		clear(tr.lastErr)
	}
	tr.lastErr[id] = err.Error()
	tr.mu.Unlock()
	// One line per attempt, bounded by the backoff.
	tr.log.LogAttrs(tr.r.ctx, slog.LevelWarn, "delivery", slog.String("event", id), slog.Int("attempt", attempt),
		slog.String("outcome", store.OutcomeFailed), slog.Duration("retry_in", delay.Round(time.Millisecond)), slog.Any("err", err),
		slog.Bool("repeat", seen && prev == err.Error()))
}

func (tr *runner) forget(id string) {
	tr.mu.Lock()
	delete(tr.lastErr, id)
	tr.mu.Unlock()
}
