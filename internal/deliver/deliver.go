// Package deliver runs the triggers: one durable JetStream consumer per
// trigger on EVENTS (and one on its replay subject), a CEL filter, the
// action with retries under exponential backoff with jitter, dead letters
// when retries run out, and a record of every attempt. Delivery is at
// least once: an event is acknowledged only after its action succeeded or
// it was dead-lettered, so a crash redelivers it.
package deliver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/forgehook/forgehook/internal/action"
	"github.com/forgehook/forgehook/internal/jsonx"
	"github.com/forgehook/forgehook/internal/route"
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

	mu         sync.Mutex
	lastErr    map[string]string        // event id -> last error logged, bounded
	lastQueued map[string]chan struct{} // serialize key -> queued signal of its latest event
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
		tr := &runner{t: t, r: r, log: log.With("trigger", t.Name), sem: make(chan struct{}, t.Concurrency), lastErr: map[string]string{}, lastQueued: map[string]chan struct{}{}}
		r.triggers[t.Name] = tr
		r.order = append(r.order, t.Name)
	}
	for _, name := range r.order {
		// A trigger whose consumer cannot start (its state file is
		// damaged, say) is reported and left out; ingest and the other
		// triggers go on.
		if err := r.triggers[name].start(ctx); err != nil {
			r.triggers[name].broken = err
			log.Error("deliver: trigger not started: its events wait in the log until it is repaired (see docs/operations.md)", "trigger", name, "err", err)
		}
	}
	return r, nil
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

// Stop stops consuming, cancels running actions (their events are
// redelivered later) and waits for every goroutine.
func (r *Runner) Stop() {
	for _, tr := range r.triggers {
		for _, cc := range tr.ccs {
			cc.Stop()
		}
	}
	r.cancel()
	r.wg.Wait()
}

func (tr *runner) start(ctx context.Context) error {
	js := tr.r.st.JetStream()
	events, err := js.Stream(ctx, store.EventsStream)
	if err != nil {
		return fmt.Errorf("trigger %s: %w", tr.t.Name, err)
	}
	replays, err := js.Stream(ctx, store.ReplayStream)
	if err != nil {
		return fmt.Errorf("trigger %s: %w", tr.t.Name, err)
	}
	maxPending := max(4, 2*tr.t.Concurrency)
	// A new trigger starts with the events that arrive from now on; an
	// existing one resumes where it stopped.
	cons, err := durable(ctx, events, jetstream.ConsumerConfig{
		Durable:       ConsumerName(tr.t.Name),
		Description:   "forgehook trigger " + tr.t.Name,
		FilterSubject: store.EventsSubject + ".>",
		DeliverPolicy: jetstream.DeliverNewPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       AckWait,
		MaxDeliver:    -1,
		MaxAckPending: maxPending,
	})
	if err != nil {
		return fmt.Errorf("trigger %s: consumer: %w", tr.t.Name, err)
	}
	tr.cons = cons
	rcons, err := durable(ctx, replays, jetstream.ConsumerConfig{
		Durable:       ReplayConsumerName(tr.t.Name),
		Description:   "forgehook replays for trigger " + tr.t.Name,
		FilterSubject: store.ReplaySubject + "." + tr.t.Name,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       AckWait,
		MaxDeliver:    -1,
		MaxAckPending: maxPending,
	})
	if err != nil {
		return fmt.Errorf("trigger %s: replay consumer: %w", tr.t.Name, err)
	}
	for _, c := range []struct {
		cons   jetstream.Consumer
		replay bool
	}{{cons, false}, {rcons, true}} {
		replay := c.replay
		cc, err := c.cons.Consume(func(m jetstream.Msg) { tr.dispatch(m, replay) },
			jetstream.PullMaxMessages(maxPending),
			jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
				if !errors.Is(err, jetstream.ErrNoHeartbeat) {
					tr.log.Debug("deliver: consume", "err", err)
				}
			}))
		if err != nil {
			return fmt.Errorf("trigger %s: consume: %w", tr.t.Name, err)
		}
		tr.ccs = append(tr.ccs, cc)
	}
	return nil
}

// durable returns the named consumer, creating it when it does not exist.
// An existing consumer keeps its position (its deliver policy cannot change).
func durable(ctx context.Context, st jetstream.Stream, cfg jetstream.ConsumerConfig) (jetstream.Consumer, error) {
	c, err := st.Consumer(ctx, cfg.Durable)
	if err == nil {
		info := c.CachedInfo().Config
		cfg.DeliverPolicy, cfg.OptStartSeq, cfg.OptStartTime = info.DeliverPolicy, info.OptStartSeq, info.OptStartTime
		return st.UpdateConsumer(ctx, cfg)
	}
	if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, err
	}
	return st.CreateConsumer(ctx, cfg)
}

// job is one matching event on its way to the action.
type job struct {
	m      jetstream.Msg
	md     *jetstream.MsgMetadata
	raw    []byte
	env    envelope
	key    string
	replay bool
	// prev is closed when the previous event of the same serialize key has
	// its place in the action's queue; queued is this event's.
	prev, queued chan struct{}
	// wip keeps the message ours while the action runs.
	wip keepAlive
}

// dispatch is called by the consumer for each message, one at a time, in
// stream order. It filters and decodes the event, then runs the action on a
// worker once one of the trigger's concurrency slots is free. Events of one
// serialize key are handed to the action in stream order.
func (tr *runner) dispatch(m jetstream.Msg, replay bool) {
	j, ok := tr.prepare(m, replay)
	if !ok {
		return
	}
	select {
	case tr.sem <- struct{}{}:
	case <-tr.r.ctx.Done():
		return
	}
	if tr.t.Serialize != nil && j.key != "" {
		tr.mu.Lock()
		j.prev = tr.lastQueued[j.key]
		j.queued = make(chan struct{})
		tr.lastQueued[j.key] = j.queued
		tr.mu.Unlock()
	}
	tr.r.wg.Add(1)
	go func() {
		defer tr.r.wg.Done()
		defer func() { <-tr.sem }()
		tr.run(j)
	}()
}

// envelope is what the delivery loop reads of a record: the actions get
// the stored bytes and decode what they need themselves (action.Input).
// Decoding only these two members scans the rest of the record, the body
// included, without copying it. A record decodes into envelope exactly
// when it decodes into an event.Event: both need well-formed JSON, and time
// is the only member whose decoding can fail on well-formed JSON.
type envelope struct {
	ID   string    `json:"id"`
	Time time.Time `json:"time"`
}

// prepare decodes a message and applies the trigger's filter; it
// acknowledges (or terminates) the messages that go no further.
func (tr *runner) prepare(m jetstream.Msg, replay bool) (*job, bool) {
	md, err := m.Metadata()
	if err != nil {
		_ = m.Term()
		return nil, false
	}
	raw, err := tr.r.st.Resolve(tr.r.ctx, m.Headers(), m.Data())
	if err != nil {
		// The large event's object is not readable now: try again later.
		tr.log.Error("deliver: large event not readable", "seq", md.Sequence.Stream, "err", err)
		_ = m.NakWithDelay(tr.t.Retry.Initial)
		return nil, false
	}
	j := &job{m: m, md: md, raw: raw, replay: replay}
	var act *route.Activation
	if (!replay && tr.t.When != nil) || tr.t.Serialize != nil {
		// The CEL variables are decoded only for triggers that read them.
		if act, err = route.NewActivation(j.raw); err != nil {
			tr.log.Error("deliver: undecodable event, skipped", "seq", md.Sequence.Stream, "err", err)
			_ = m.Term()
			return nil, false
		}
	}
	if !replay && tr.t.When != nil {
		ok, err := tr.t.When.Match(act)
		if err != nil {
			tr.log.Debug("deliver: when failed on this event: no match", "seq", md.Sequence.Stream, "err", err)
		}
		if !ok {
			_ = m.Ack()
			return nil, false
		}
	}
	if err := jsonx.Unmarshal(j.raw, &j.env); err != nil {
		tr.log.Error("deliver: undecodable event, skipped", "seq", md.Sequence.Stream, "err", err)
		_ = m.Term()
		return nil, false
	}
	if tr.t.Serialize != nil {
		k, err := tr.t.Serialize.Key(act)
		if err != nil {
			tr.log.Warn("deliver: serialize key failed, running without a key", "event", j.env.ID, "err", err)
		}
		j.key = k
	}
	return j, true
}

// markQueued signals that j has its place in the action's key queue.
func (tr *runner) markQueued(j *job) {
	if j.queued == nil {
		return
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	select {
	case <-j.queued:
		return
	default:
	}
	close(j.queued)
	if tr.lastQueued[j.key] == j.queued {
		delete(tr.lastQueued, j.key)
	}
}

func (tr *runner) run(j *job) {
	ctx := tr.r.ctx
	m, md, env, raw, replay := j.m, j.md, &j.env, j.raw, j.replay
	// The action decodes the record itself if it needs more than the
	// stored bytes and the id (action.Input).
	in := action.Input{Raw: raw, ID: env.ID, Trigger: tr.t.Name, Attempt: int(md.NumDelivered), Key: j.key}
	if j.queued != nil {
		defer tr.markQueued(j)
		in.Queued = func() { tr.markQueued(j) }
		if j.prev != nil {
			select {
			case <-j.prev:
			case <-ctx.Done():
				_ = m.Nak()
				return
			}
		}
	}

	j.wip.start(m, AckWait/3)
	start := time.Now()
	res, doErr := tr.t.Action.Do(ctx, in)
	j.wip.stop()
	tr.markQueued(j)
	if ctx.Err() != nil {
		// Shutting down: the event is redelivered after the restart.
		_ = m.Nak()
		return
	}
	a := store.Attempt{
		Trigger: tr.t.Name, EventID: env.ID, Attempt: in.Attempt, Time: start, Duration: time.Since(start),
		Status: res.Status, Output: res.Output, Replay: replay,
	}
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer rcancel()
	if tr.r.observe != nil {
		defer func() { tr.r.observe(a, env.Time) }()
	}
	switch {
	case doErr == nil:
		a.Outcome = store.OutcomeDelivered
		if res.Superseded {
			a.Outcome = store.OutcomeSuperseded
		}
		tr.record(rctx, a)
		// A plain ack, not a confirmed one: if it is lost, JetStream
		// redelivers after AckWait and the receiver sees the event again
		// (delivery is at least once, and the event id lets it
		// deduplicate); a confirmed ack cost a round trip per delivery.
		if err := m.Ack(); err != nil {
			tr.log.Warn("deliver: ack", "event", env.ID, "err", err)
		}
		// Typed attributes: no boxing of each value.
		tr.log.LogAttrs(ctx, slog.LevelInfo, "delivery", slog.String("event", env.ID), slog.Int("attempt", a.Attempt),
			slog.String("outcome", a.Outcome), slog.Int("status", a.Status),
			slog.Duration("duration", a.Duration.Round(time.Microsecond)), slog.Bool("replay", a.Replay))
		tr.forget(env.ID)
	case res.Retry && in.Attempt < tr.t.Retry.MaxAttempts && !tr.tooOld(env.Time):
		delay := Backoff(tr.t.Retry, in.Attempt, res.RetryAfter)
		a.Outcome, a.Error, a.NextAttempt = store.OutcomeFailed, doErr.Error(), time.Now().Add(delay)
		tr.record(rctx, a)
		tr.logFailure(env.ID, in.Attempt, doErr, delay)
		_ = m.NakWithDelay(delay)
	default:
		a.Outcome, a.Error = store.OutcomeDead, doErr.Error()
		tr.record(rctx, a)
		seq := md.Sequence.Stream
		if replay {
			seq = 0
		}
		if err := tr.r.st.Dead(rctx, tr.t.Name, env.ID, seq, in.Attempt, doErr.Error(), raw); err != nil {
			// Not dead-lettered: keep it for a later attempt rather than lose it.
			tr.log.Error("deliver: dead letter failed, retrying later", "event", env.ID, "err", err)
			_ = m.NakWithDelay(tr.t.Retry.Max)
			return
		}
		tr.log.LogAttrs(ctx, slog.LevelError, "delivery", slog.String("event", env.ID), slog.Int("attempt", in.Attempt),
			slog.String("outcome", store.OutcomeDead), slog.Int("status", a.Status), slog.Any("err", doErr))
		_ = m.Ack()
		tr.forget(env.ID)
	}
}

// keepAlive tells JetStream that a message is still being worked on
// (InProgress, which restarts its AckWait) every AckWait/3 while its
// action runs. It is a timer re-armed after each signal: most actions end
// well before the first one, and a timer costs less than a goroutine with
// a ticker per delivery.
type keepAlive struct {
	mu      sync.Mutex // guards the fields, held while signalling
	m       jetstream.Msg
	period  time.Duration
	t       *time.Timer
	stopped bool
}

// start starts signalling that m is in progress every period until stop.
// A keepAlive is started once.
func (k *keepAlive) start(m jetstream.Msg, period time.Duration) {
	k.mu.Lock()
	k.m, k.period = m, period
	k.t = time.AfterFunc(period, k.signal)
	k.mu.Unlock()
}

func (k *keepAlive) signal() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.stopped {
		return
	}
	_ = k.m.InProgress()
	k.t.Reset(k.period)
}

// stop ends the signals: none is sent once stop has returned.
func (k *keepAlive) stop() {
	k.mu.Lock()
	k.stopped = true
	k.t.Stop()
	k.mu.Unlock()
}

func (tr *runner) tooOld(eventTime time.Time) bool {
	return tr.t.Retry.MaxAge > 0 && time.Since(eventTime) > tr.t.Retry.MaxAge
}

func (tr *runner) record(ctx context.Context, a store.Attempt) {
	if err := tr.r.st.RecordAttempt(ctx, a); err != nil {
		tr.log.Warn("deliver: could not record attempt", "event", a.EventID, "err", err)
	}
}

// logFailure logs a failed attempt when its error differs from the
// previous one of the same event.
func (tr *runner) logFailure(id string, attempt int, err error, delay time.Duration) {
	tr.mu.Lock()
	prev, seen := tr.lastErr[id]
	if len(tr.lastErr) > 4096 {
		clear(tr.lastErr)
	}
	tr.lastErr[id] = err.Error()
	tr.mu.Unlock()
	// One line per attempt; a warning only when the error changes, so a
	// long outage does not flood the log with the same warning.
	level := slog.LevelWarn
	if seen && prev == err.Error() {
		level = slog.LevelInfo
	}
	tr.log.LogAttrs(tr.r.ctx, level, "delivery", slog.String("event", id), slog.Int("attempt", attempt),
		slog.String("outcome", store.OutcomeFailed), slog.Duration("retry_in", delay.Round(time.Millisecond)), slog.Any("err", err))
}

func (tr *runner) forget(id string) {
	tr.mu.Lock()
	delete(tr.lastErr, id)
	tr.mu.Unlock()
}

// Backoff returns the wait before the attempt after attempt (counted from
// 1): exponential, d = min(Max, Initial * 2^(attempt-1)), with jitter: a
// uniformly random wait between d/2 and d, so that waits grow and senders
// retrying together spread out. A target's Retry-After is honoured when
// it asks for longer.
func Backoff(r trigger.Retry, attempt int, retryAfter time.Duration) time.Duration {
	d := r.Initial
	for i := 1; i < attempt && d < r.Max; i++ {
		d *= 2
	}
	d = min(d, r.Max)
	half := d / 2
	wait := half + time.Duration(rand.Int64N(int64(d-half)+1))
	return max(wait, retryAfter)
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

// Pending returns how many events trigger has yet to process (consumer lag
// plus events being retried).
func (r *Runner) Pending(ctx context.Context, name string) (uint64, error) {
	tr, ok := r.triggers[name]
	if !ok {
		return 0, fmt.Errorf("no trigger %q", name)
	}
	if tr.cons == nil {
		return 0, fmt.Errorf("trigger %q not started: %w", name, tr.broken)
	}
	info, err := tr.cons.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.NumPending + uint64(info.NumAckPending), nil
}

// Processed reports whether trigger's consumer has acknowledged every event
// up to and including seq.
func (r *Runner) processed(ctx context.Context, name string, seq uint64) (bool, error) {
	tr := r.triggers[name]
	if tr.cons == nil {
		return false, fmt.Errorf("trigger %q not started: %w", name, tr.broken)
	}
	info, err := tr.cons.Info(ctx)
	if err != nil {
		return false, err
	}
	return info.AckFloor.Stream >= seq, nil
}

// Status is the state of one event on one trigger.
type Status struct {
	Trigger string `json:"trigger"`
	// State is delivered, retrying, dead, superseded, pending (not yet
	// processed) or not_matched.
	State    string          `json:"state"`
	Matches  bool            `json:"matches"`
	Attempts []store.Attempt `json:"attempts"`
}

// EventStatus returns the state of a stored event on every trigger.
func (r *Runner) EventStatus(ctx context.Context, rec store.Record, eventID string) ([]Status, error) {
	act, err := route.NewActivation(rec.Data)
	if err != nil {
		return nil, err
	}
	var out []Status
	for _, name := range r.order {
		tr := r.triggers[name]
		s := Status{Trigger: name, Matches: tr.t.When == nil}
		if tr.t.When != nil {
			s.Matches, _ = tr.t.When.Match(act)
		}
		atts, err := r.st.Attempts(ctx, name, eventID)
		if err != nil {
			return nil, err
		}
		s.Attempts = atts
		switch {
		case len(atts) > 0:
			switch last := atts[len(atts)-1]; last.Outcome {
			case store.OutcomeFailed:
				s.State = "retrying"
			default:
				s.State = last.Outcome
			}
		case !s.Matches:
			s.State = "not_matched"
		default:
			s.State = "pending"
			if done, err := r.processed(ctx, name, rec.Seq); err == nil && done {
				// Stored before the trigger existed.
				s.State = "not_delivered"
			}
		}
		if s.Attempts == nil {
			s.Attempts = []store.Attempt{}
		}
		out = append(out, s)
	}
	return out, nil
}

// ErrUnknownTrigger means a replay named a trigger that is not configured.
var ErrUnknownTrigger = errors.New("unknown trigger")

// ReplayEvent re-drives a stored event through trigger (when not empty) or
// through every trigger whose `when` matches it. With dryRun it only
// returns the triggers that would receive it.
func (r *Runner) ReplayEvent(ctx context.Context, raw []byte, eventID, trigger string, dryRun bool) ([]string, error) {
	var targets []string
	if trigger != "" {
		if _, ok := r.triggers[trigger]; !ok {
			return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownTrigger, trigger, strings.Join(r.order, ", "))
		}
		targets = []string{trigger}
	} else {
		act, err := route.NewActivation(raw)
		if err != nil {
			return nil, err
		}
		for _, name := range r.order {
			w := r.triggers[name].t.When
			if w == nil {
				targets = append(targets, name)
				continue
			}
			if ok, _ := w.Match(act); ok {
				targets = append(targets, name)
			}
		}
	}
	if dryRun {
		return targets, nil
	}
	for _, name := range targets {
		if err := r.st.Replay(ctx, name, eventID, raw); err != nil {
			return nil, err
		}
	}
	return targets, nil
}

// ReplayDead re-drives a dead letter through its trigger and removes it.
func (r *Runner) ReplayDead(ctx context.Context, seq uint64, dryRun bool) (store.DeadLetter, error) {
	d, err := r.st.GetDead(ctx, seq)
	if err != nil {
		return store.DeadLetter{}, err
	}
	if _, ok := r.triggers[d.Trigger]; !ok {
		return d, fmt.Errorf("%w %q: the dead letter's trigger is no longer configured", ErrUnknownTrigger, d.Trigger)
	}
	if dryRun {
		return d, nil
	}
	if err := r.st.Replay(ctx, d.Trigger, d.EventID, d.Event); err != nil {
		return d, err
	}
	return d, r.st.RemoveDead(ctx, seq)
}
