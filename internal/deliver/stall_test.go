package deliver

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/action"
	"github.com/forgehook/forgehook/internal/store"
	"github.com/forgehook/forgehook/internal/trigger"
)

// gateAction holds every run until open is closed, then records the time
// of each run and succeeds.
type gateAction struct {
	open chan struct{}

	mu    sync.Mutex
	times []time.Time
}

func (a *gateAction) Do(ctx context.Context, _ action.Input) (action.Result, error) {
	select {
	case <-a.open:
	case <-ctx.Done():
		return action.Result{Retry: true}, ctx.Err()
	}
	a.mu.Lock()
	a.times = append(a.times, time.Now())
	a.mu.Unlock()
	return action.Result{}, nil
}

func (a *gateAction) runs() []time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.times)
}

// TestDeliverNoIdleWithBacklog is issue 16: with the default trigger
// (concurrency 1, so the smallest MaxAckPending), a backlog of thousands of
// events is delivered without a pause: no second passes between two
// attempts while events wait. Most events do not match the trigger's when:
// they pass through in microseconds, many messages per pull request, which
// is when the JetStream client's Consume lost count of its pull requests
// and stopped for 30 s (until a heartbeat was missed).
func TestDeliverNoIdleWithBacklog(t *testing.T) {
	const (
		events = 12000
		every  = 8 // one event in every is a match
	)
	// No second without an attempt; under the race detector, which
	// slows everything several times over on a loaded machine, three.
	// The stall this guards against lasted 30 s.
	maxGap := time.Second
	if raceEnabled {
		maxGap = 3 * time.Second
	}
	st := faultStore(t)
	act := &gateAction{open: make(chan struct{})}
	tr := &trigger.Trigger{
		Name: "sink", Kind: "http", Action: act, Concurrency: 1,
		When:  compile(t, `event.repository.full_name == "acme/hit"`, false),
		Retry: trigger.Retry{MaxAttempts: 3, Initial: 20 * time.Millisecond, Max: 80 * time.Millisecond},
	}
	startRunner(t, st, []*trigger.Trigger{tr}, nil)

	// The backlog: the first match holds the action until every event is
	// stored, so that events wait from the first attempt to the last.
	hit, miss := faultRecord(t, "hit", "gh", "acme/hit"), faultRecord(t, "miss", "gh", "acme/miss")
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > events || t.Failed() {
					return
				}
				raw := miss
				if i%every == 1 {
					raw = hit
				}
				if _, err := st.Append(t.Context(), "gh", store.EventsSubject+".gh.github.push", fmt.Sprint("e", i), "", raw); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	start := time.Now()
	close(act.open)
	want := (events + every - 1) / every
	checkFor(t, 50*time.Second, func() error {
		if n := len(act.runs()); n < want {
			return fmt.Errorf("%d of %d matching events delivered in %s", n, want, time.Since(start).Round(time.Millisecond))
		}
		return nil
	})
	runs := act.runs()
	prev, worst, at := start, time.Duration(0), 0
	for i, r := range runs {
		if g := r.Sub(prev); g > worst {
			worst, at = g, i
		}
		prev = r
	}
	t.Logf("%d deliveries in %s, longest pause %s before delivery %d", len(runs), prev.Sub(start).Round(time.Millisecond), worst.Round(time.Millisecond), at)
	if worst > maxGap {
		t.Errorf("delivery paused for %s (before delivery %d of %d) while events waited", worst.Round(time.Millisecond), at, len(runs))
	}
}

// TestDeliverLag: while a trigger is held, its lag counts the waiting
// events and dates the oldest; once they are delivered, nothing waits and
// the last attempt is recent.
func TestDeliverLag(t *testing.T) {
	st := faultStore(t)
	act := &gateAction{open: make(chan struct{})}
	tr := &trigger.Trigger{Name: "sink", Kind: "http", Action: act, Concurrency: 1,
		Retry: trigger.Retry{MaxAttempts: 3, Initial: 20 * time.Millisecond, Max: 80 * time.Millisecond}}
	started := time.Now()
	r := startRunner(t, st, []*trigger.Trigger{tr}, nil)
	before := time.Now()
	for i := range 5 {
		id := fmt.Sprint("lag-", i)
		appendEvent(t, st, "gh", id, faultRecord(t, id, "gh", "acme/app"))
	}
	l, err := r.Lag(t.Context(), "sink")
	if err != nil {
		t.Fatal(err)
	}
	if l.Backlog != 5 || l.Oldest.Before(before.Add(-time.Second)) || l.Oldest.After(time.Now()) {
		t.Errorf("lag while held %+v, want a backlog of 5, the oldest stored after %s", l, before.Format(time.RFC3339Nano))
	}
	if l.LastAttempt.Before(started) || l.LastAttempt.After(before) {
		t.Errorf("last attempt %s, want the start (%s), none was made", l.LastAttempt, started)
	}
	oldest, _, err := r.TriggerLag(t.Context(), "sink")
	if err != nil || oldest < 0 || oldest > 10*time.Second {
		t.Errorf("oldest waiting %s, %v", oldest, err)
	}
	close(act.open)
	checkFor(t, 20*time.Second, func() error {
		l, err := r.Lag(t.Context(), "sink")
		if err != nil {
			return err
		}
		if l.Backlog != 0 || !l.Oldest.IsZero() || !l.LastAttempt.After(before) {
			return fmt.Errorf("lag after delivery %+v, want nothing waiting and a recent attempt", l)
		}
		return nil
	})
	if _, err := r.Lag(t.Context(), "nope"); err == nil {
		t.Error("lag of an unknown trigger: no error")
	}
}
