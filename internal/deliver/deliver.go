// Package deliver runs the triggers: one durable JetStream consumer per
// trigger on EVENTS (and one on its replay subject), a CEL filter, the
// action with retries under exponential backoff with full jitter, dead
// letters when retries run out, and a record of every attempt. Delivery is at
// least once: an event is acknowledged only after its action succeeded, it
// was superseded or skipped, or it was dead-lettered, so a crash
// redelivers it. A record that cannot be decoded is dead-lettered with the
// decoding error, never dropped.
//
// A trigger with a serialize key runs the events of one key one at a time,
// in the order they reach it: the oldest event of a key holds the key from
// its first attempt to its last, retries included (they wait in this
// process rather than go back to JetStream), and the events that arrive
// meanwhile wait behind it. With an action that coalesces
// (action.Coalescer), a newly arrived event supersedes the ones still
// waiting: they are recorded as superseded and acknowledged without
// running.
//
// The record travels as one action.Record per delivery: prepare decodes
// its head (id and time), and the action, the attempt records and the dead
// letter read that same Record, whose other views are decoded at most once,
// if at all. The CEL variables are route's own form of the record, decoded
// only for triggers with when or serialize.
//
// The files hold one concern each: deliver.go the Runner and its
// triggers, consume.go the consumers and what happens to a message before
// its action runs (decode, filter, concurrency), keys.go the serialize
// keys (their queues, coalescing), attempt.go the attempts of one event
// and their outcome, backoff.go the waits between attempts, keepalive.go
// the in-progress signals, deadletter.go the dead letters, status.go what
// the API asks of an event, replay.go the replays.
package deliver

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/forgehook/forgehook/internal/action"
	"github.com/forgehook/forgehook/internal/store"
	"github.com/forgehook/forgehook/internal/trigger"
)

// AckWait is how long JetStream waits for an acknowledgement before it
// redelivers; a running action extends it every AckWait/3. It bounds how
// long events that were in flight when a process died wait before another
// process (or the restarted one) delivers them.
const AckWait = 15 * time.Second

// ConsumerName is the durable consumer of trigger on EVENTS.
func ConsumerName(trigger string) string { return "trigger-" + trigger }

// ReplayConsumerName is the durable consumer of trigger's replay requests.
func ReplayConsumerName(trigger string) string { return "replay-" + trigger }

// Options configures Start.
type Options struct {
	// Logger receives the delivery log lines.
	Logger *slog.Logger
	// Observe, when set, is called after every attempt with the time the
	// event arrived (for metrics).
	Observe func(a store.Attempt, eventTime time.Time)
}

// Runner runs every trigger until Stop.
type Runner struct {
	st       *store.Store
	log      *slog.Logger
	observe  func(store.Attempt, time.Time)
	triggers map[string]*runner
	order    []string

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type runner struct {
	t    *trigger.Trigger
	r    *Runner
	log  *slog.Logger
	sem  chan struct{}
	ccs  []jetstream.ConsumeContext
	cons jetstream.Consumer
	// broken is why the trigger did not start (nil: it runs).
	broken error
	// idle: start creates the consumers but does not consume them (an
	// owned trigger's, whose owner consumes: own.go).
	idle bool
	// handover holds the messages an owner receives while it hands the
	// trigger over (own.go).
	handover handover

	coalesce bool // waiting events of a key are superseded by a newer one

	// mu guards the fields below. Lock order: mu, then a waiting job's
	// wip.mu (enqueue and drain start and stop keep-alives under mu).
	mu      sync.Mutex
	lastErr map[string]string    // event id -> last error logged, bounded
	keys    map[string]*keyQueue // serialize keys in use
	stopped bool                 // Stop has drained keys: no event may wait any more
}

// Start creates or resumes the consumers and starts consuming. ctx is the
// application's: when it is done, Stop must still be called to wait.
func Start(ctx context.Context, st *store.Store, triggers []*trigger.Trigger, opts Options) (*Runner, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Runner{st: st, log: log, observe: opts.Observe, triggers: map[string]*runner{}}
	r.ctx, r.cancel = context.WithCancel(ctx)
	for _, t := range triggers {
		tr := newRunner(r, t, log)
		r.triggers[t.Name] = tr
		r.order = append(r.order, t.Name)
	}
	for _, name := range r.order {
		// A trigger whose consumer cannot start (its state file is
		// damaged, say) is reported and left out; ingest and the other
		// triggers go on.
		start := r.triggers[name].start
		if r.triggers[name].owned() {
			start = r.triggers[name].startOwned
		}
		if err := start(ctx); err != nil {
			r.triggers[name].broken = err
			log.Error("deliver: trigger not started: its events wait in the log until it is repaired (see docs/operations.md)", "trigger", name, "err", err)
		}
	}
	return r, nil
}

func newRunner(r *Runner, t *trigger.Trigger, log *slog.Logger) *runner {
	tr := &runner{t: t, r: r, log: log.With("trigger", t.Name), sem: make(chan struct{}, t.Concurrency),
		lastErr: map[string]string{}, keys: map[string]*keyQueue{}}
	if c, ok := t.Action.(action.Coalescer); ok && t.Serialize != nil {
		tr.coalesce = c.Coalesce()
	}
	return tr
}

// Broken returns the triggers that could not start, with the reason.
func (r *Runner) Broken() map[string]string {
	out := map[string]string{}
	for name, tr := range r.triggers {
		if tr.broken != nil {
			out[name] = tr.broken.Error()
		}
	}
	return out
}

// Stop stops consuming, cancels running actions and waits for every
// goroutine. Events that were running or waiting for their key are
// negatively acknowledged: they are redelivered later.
func (r *Runner) Stop() {
	for _, tr := range r.triggers {
		for _, cc := range tr.ccs {
			cc.Stop()
		}
	}
	r.cancel()
	r.wg.Wait()
	for _, tr := range r.triggers {
		tr.drain()
	}
}

func (tr *runner) observe(a store.Attempt, eventTime time.Time) {
	if tr.r.observe != nil {
		tr.r.observe(a, eventTime)
	}
}

func (tr *runner) record(ctx context.Context, a store.Attempt) {
	if err := tr.r.st.RecordAttempt(ctx, a); err != nil {
		tr.log.Warn("deliver: could not record attempt", "event", a.EventID, "err", err)
	}
}

// Triggers returns the trigger names in configuration order.
func (r *Runner) Triggers() []string { return append([]string(nil), r.order...) }

// Trigger returns a configured trigger.
func (r *Runner) Trigger(name string) (*trigger.Trigger, bool) {
	tr, ok := r.triggers[name]
	if !ok {
		return nil, false
	}
	return tr.t, true
}
