package deliver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// lagEvery is how long a trigger's lag, once read from its consumer, is
// reused: scrapes and page views together cost at most one consumer info
// and one message read per trigger per lagEvery. (Pending, which tests
// and the API poll for an exact count, reads the consumer every time.)
const lagEvery = 2 * time.Second

// Lag is how far one trigger is behind the log.
type Lag struct {
	// Backlog counts the stored events the trigger has not settled:
	// not yet handed to it (the consumer's pending) plus handed and not
	// acknowledged (running, waiting for their key or for a retry).
	Backlog uint64
	// Oldest is the time the oldest of them was stored; zero when the
	// backlog is empty.
	Oldest time.Time
	// LastAttempt is when the trigger last finished an attempt, or when
	// it started if it has made none.
	LastAttempt time.Time
	// Sampled is when Backlog and Oldest were read.
	Sampled time.Time
}

// lagCache is a trigger's last Lag reading and the time of its last attempt.
type lagCache struct {
	last   atomic.Int64     // unix nanoseconds of the last attempt's end, or of the start
	events jetstream.Stream // EVENTS, set by start

	mu  sync.Mutex // guards lag; held while reading it from the consumer
	lag Lag
}

// attempted records the end of an attempt.
func (c *lagCache) attempted(t time.Time) { c.last.Store(t.UnixNano()) }

// Lag returns how far trigger name is behind. Backlog and Oldest are read
// from its consumer (and the oldest event's stored time from the log) at
// most every 2 s; in between the last reading is returned, with the time
// it was made.
func (r *Runner) Lag(ctx context.Context, name string) (Lag, error) {
	tr, ok := r.triggers[name]
	if !ok {
		return Lag{}, fmt.Errorf("no trigger %q", name)
	}
	if tr.cons == nil {
		return Lag{}, fmt.Errorf("trigger %q not started: %w", name, tr.broken)
	}
	c := &tr.lag
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.lag.Sampled) >= lagEvery {
		l, err := tr.readLag(ctx)
		if err != nil {
			return Lag{}, err
		}
		c.lag = l
	}
	l := c.lag
	l.LastAttempt = time.Unix(0, c.last.Load())
	return l, nil
}

// TriggerLag returns the age of trigger name's oldest waiting event (0 when
// none waits) and when it last finished an attempt (or started); see Lag.
func (r *Runner) TriggerLag(ctx context.Context, name string) (oldest time.Duration, lastAttempt time.Time, err error) {
	l, err := r.Lag(ctx, name)
	if err != nil {
		return 0, time.Time{}, err
	}
	if !l.Oldest.IsZero() {
		oldest = max(0, l.Sampled.Sub(l.Oldest))
	}
	return oldest, l.LastAttempt, nil
}

func (tr *runner) readLag(ctx context.Context) (Lag, error) {
	info, err := tr.cons.Info(ctx)
	if err != nil {
		return Lag{}, fmt.Errorf("trigger %s: consumer info: %w", tr.t.Name, err)
	}
	l := Lag{Backlog: info.NumPending + uint64(info.NumAckPending), Sampled: time.Now()}
	if l.Backlog == 0 {
		return l, nil
	}
	// The oldest event not settled is the first one after the ack floor
	// (the events before it are all settled).
	m, err := tr.lag.events.GetMsg(ctx, info.AckFloor.Stream+1, jetstream.WithGetMsgSubject(info.Config.FilterSubject))
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound):
		// Settled or removed since the consumer info was read.
	case err != nil:
		return Lag{}, fmt.Errorf("trigger %s: oldest waiting event: %w", tr.t.Name, err)
	default:
		l.Oldest = m.Time
	}
	return l, nil
}
