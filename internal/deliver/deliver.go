// Package deliver runs the triggers: one durable JetStream consumer per
// trigger on EVENTS (and one on its replay subject), a CEL filter, the
// action with retries under exponential backoff with jitter, dead letters
// when retries run out, and a record of every attempt. Delivery is at
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

	coalesce bool // waiting events of a key are superseded by a newer one

	// mu guards the fields below. Lock order: mu, then a waiting job's
	// wip.mu (enqueue and drain start and stop keep-alives under mu).
	mu      sync.Mutex
	lastErr map[string]string    // event id -> last error logged, bounded
	keys    map[string]*keyQueue // serialize keys in use
	stopped bool                 // Stop has drained keys: no event may wait any more
}

// keyQueue is one serialize key in use. The key's head (the event that
// holds it) is not in the queue: it runs, and retries, on a worker.
// waiting are the events that arrived after it, oldest first; with
// coalesce there is at most one. A key is in use exactly while it is in
// runner.keys.
type keyQueue struct {
	waiting []*job
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
		if err := r.triggers[name].start(ctx); err != nil {
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
	// wip keeps the message ours while it waits for its key, while the
	// action runs and while a retry waits for its backoff.
	wip keepAlive
}

// dispatch is called by the consumer for each message, one at a time, in
// stream order. It filters and decodes the event, then runs the action on a
// worker once one of the trigger's concurrency slots is free. An event
// whose serialize key is held by an earlier one waits behind it, without a
// slot; the worker of the key runs it next.
func (tr *runner) dispatch(m jetstream.Msg, replay bool) {
	j, ok := tr.prepare(m, replay)
	if !ok {
		return
	}
	if j.key != "" && !tr.enqueue(j) {
		return
	}
	select {
	case tr.sem <- struct{}{}:
	case <-tr.r.ctx.Done():
		_ = m.Nak()
		return
	}
	tr.r.wg.Add(1)
	go func() {
		defer tr.r.wg.Done()
		s := &slot{sem: tr.sem, held: true}
		defer s.give()
		// The events of one key follow each other on this worker.
		for j != nil {
			tr.run(j, s)
			j = tr.next(j.key)
		}
	}()
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
		Trigger: tr.t.Name, EventID: j.env.ID, Attempt: int(j.md.NumDelivered), Time: time.Now(),
		Outcome: store.OutcomeSuperseded, Output: "superseded by event " + by.env.ID, Replay: j.replay,
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(tr.r.ctx), 10*time.Second)
	defer cancel()
	tr.record(ctx, a)
	tr.observe(a, j.env.Time)
	_ = j.m.Ack()
	tr.log.LogAttrs(ctx, slog.LevelInfo, "delivery", slog.String("event", j.env.ID), slog.Int("attempt", a.Attempt),
		slog.String("outcome", a.Outcome), slog.String("by", by.env.ID), slog.Bool("replay", a.Replay))
	tr.forget(j.env.ID)
}

// slot is a worker's hold on one of its trigger's concurrency slots. A nil
// *slot imposes no limit.
type slot struct {
	sem  chan struct{}
	held bool
}

// take waits for a slot unless one is held; false when ctx ended first.
func (s *slot) take(ctx context.Context) bool {
	if s == nil || s.held {
		return true
	}
	select {
	case s.sem <- struct{}{}:
		s.held = true
		return true
	case <-ctx.Done():
		return false
	}
}

// give gives the slot back, if one is held.
func (s *slot) give() {
	if s != nil && s.held {
		<-s.sem
		s.held = false
	}
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

// prepare decodes a message and applies the trigger's filter, for
// deliveries and replays alike; it acknowledges the messages that go no
// further and dead-letters those that do not decode.
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
	if tr.t.When != nil || tr.t.Serialize != nil {
		// The CEL variables are decoded only for triggers that read them.
		if act, err = route.NewActivation(j.raw); err != nil {
			tr.undecodable(m, md, raw, replay, err)
			return nil, false
		}
	}
	if ok, why := tr.match(act); !ok {
		if replay {
			// The API checked when before it queued the replay; a reload
			// may have changed it since.
			tr.log.Info("deliver: replay skipped", "event", m.Headers().Get(store.EventIDHeader), "reason", why)
		} else if why != reasonNoMatch {
			tr.log.Debug("deliver: no match", "seq", md.Sequence.Stream, "reason", why)
		}
		_ = m.Ack()
		return nil, false
	}
	if err := jsonx.Unmarshal(j.raw, &j.env); err != nil {
		tr.undecodable(m, md, raw, replay, err)
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

// reasonNoMatch is why a trigger does not take an event whose when is false.
const reasonNoMatch = "when does not match"

// match reports whether the trigger takes the event of act (nil when the
// trigger has no when), and if not, why.
func (tr *runner) match(act *route.Activation) (bool, string) {
	if tr.t.When == nil {
		return true, ""
	}
	ok, err := tr.t.When.Match(act)
	switch {
	case err != nil:
		return false, "when failed on this event: " + err.Error()
	case !ok:
		return false, reasonNoMatch
	}
	return true, ""
}

// undecodable dead-letters a record that does not decode as an event. It
// can never be delivered, and an event that ingest acknowledged is never
// dropped in silence: the dead letter and the attempt record carry the
// decoding error, and the attempt is counted as dead like any other.
func (tr *runner) undecodable(m jetstream.Msg, md *jetstream.MsgMetadata, raw []byte, replay bool, decodeErr error) {
	id := m.Headers().Get(store.EventIDHeader)
	if id == "" {
		id = fmt.Sprintf("seq-%d", md.Sequence.Stream)
	}
	msg := "undecodable event: " + decodeErr.Error()
	a := store.Attempt{
		Trigger: tr.t.Name, EventID: id, Attempt: int(md.NumDelivered), Time: time.Now(),
		Outcome: store.OutcomeDead, Error: msg, Replay: replay,
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(tr.r.ctx), 10*time.Second)
	defer cancel()
	seq := md.Sequence.Stream
	if replay {
		seq = 0
	}
	if err := tr.r.st.Dead(ctx, tr.t.Name, id, seq, a.Attempt, msg, raw); err != nil {
		// Not dead-lettered: keep it for a later attempt rather than lose it.
		tr.log.Error("deliver: dead letter of an undecodable event failed, retrying later", "event", id, "err", err)
		_ = m.NakWithDelay(tr.t.Retry.Max)
		return
	}
	tr.record(ctx, a)
	tr.observe(a, md.Timestamp)
	tr.log.LogAttrs(ctx, slog.LevelError, "delivery", slog.String("event", id), slog.Uint64("seq", md.Sequence.Stream),
		slog.Int("attempt", a.Attempt), slog.String("outcome", store.OutcomeDead), slog.String("err", msg))
	_ = m.Ack()
}

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
		// The action decodes the record itself if it needs more than the
		// stored bytes and the id (action.Input).
		in := action.Input{Raw: j.raw, ID: j.env.ID, Trigger: tr.t.Name, Attempt: attempt, Key: j.key}
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
	atts, err := tr.r.st.Attempts(ctx, tr.t.Name, j.env.ID)
	if err != nil {
		tr.log.Warn("deliver: attempts of a redelivered event not readable, counting from its deliveries", "event", j.env.ID, "err", err)
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
	ctx, m, env := tr.r.ctx, j.m, &j.env
	a := store.Attempt{
		Trigger: tr.t.Name, EventID: env.ID, Attempt: in.Attempt, Time: start, Duration: time.Since(start),
		Status: res.Status, Output: res.Output, Replay: j.replay,
	}
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer rcancel()
	defer func() { tr.observe(a, env.Time) }()
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
			tr.log.Warn("deliver: ack", "event", env.ID, "err", err)
		}
		// Typed attributes: no boxing of each value.
		tr.log.LogAttrs(ctx, slog.LevelInfo, "delivery", slog.String("event", env.ID), slog.Int("attempt", a.Attempt),
			slog.String("outcome", a.Outcome), slog.Int("status", a.Status),
			slog.Duration("duration", a.Duration.Round(time.Microsecond)), slog.Bool("replay", a.Replay))
		tr.forget(env.ID)
		return 0, false
	case res.Retry && in.Attempt < tr.t.Retry.MaxAttempts && !tr.tooOld(env.Time):
		delay = Backoff(tr.t.Retry, in.Attempt, res.RetryAfter)
		a.Outcome, a.Error, a.NextAttempt = store.OutcomeFailed, doErr.Error(), time.Now().Add(delay)
		tr.record(rctx, a)
		tr.logFailure(env.ID, in.Attempt, doErr, delay)
		if j.key != "" {
			return delay, true
		}
		j.wip.stop()
		_ = m.NakWithDelay(delay)
		return 0, false
	default:
		a.Outcome, a.Error = store.OutcomeDead, doErr.Error()
		tr.record(rctx, a)
		seq := j.md.Sequence.Stream
		if j.replay {
			seq = 0
		}
		j.wip.stop()
		if err := tr.r.st.Dead(rctx, tr.t.Name, env.ID, seq, in.Attempt, doErr.Error(), j.raw); err != nil {
			// Not dead-lettered: keep it for a later attempt rather than lose it.
			tr.log.Error("deliver: dead letter failed, retrying later", "event", env.ID, "err", err)
			_ = m.NakWithDelay(tr.t.Retry.Max)
			return 0, false
		}
		tr.log.LogAttrs(ctx, slog.LevelError, "delivery", slog.String("event", env.ID), slog.Int("attempt", in.Attempt),
			slog.String("outcome", store.OutcomeDead), slog.Int("status", a.Status), slog.Any("err", doErr))
		_ = m.Ack()
		tr.forget(env.ID)
		return 0, false
	}
}

func (tr *runner) observe(a store.Attempt, eventTime time.Time) {
	if tr.r.observe != nil {
		tr.r.observe(a, eventTime)
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
// Starting a keepAlive that is already signalling does nothing; one that
// was stopped stays stopped.
func (k *keepAlive) start(m jetstream.Msg, period time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.t != nil {
		return
	}
	k.m, k.period = m, period
	k.t = time.AfterFunc(period, k.signal)
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

// stop ends the signals: none is sent once stop has returned. It may be
// called more than once, and on a keepAlive never started.
func (k *keepAlive) stop() {
	k.mu.Lock()
	k.stopped = true
	if k.t != nil {
		k.t.Stop()
	}
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

// EventStatus returns the state of a stored event on every trigger. A
// record that does not decode matches no trigger; its attempts (the dead
// letters of the triggers that met it) are reported all the same.
func (r *Runner) EventStatus(ctx context.Context, rec store.Record, eventID string) ([]Status, error) {
	act, decodeErr := route.NewActivation(rec.Data)
	var out []Status
	for _, name := range r.order {
		tr := r.triggers[name]
		s := Status{Trigger: name}
		if decodeErr == nil {
			s.Matches, _ = tr.match(act)
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

// ErrNoMatch means a replay asked for a trigger whose when does not match
// the event. Every replay evaluates when as a delivery does, so that a
// replay never hands a trigger an event it would not have taken.
var ErrNoMatch = errors.New("the trigger's when does not match the event")

// ErrUndecodable means a replay asked for an event whose record does not
// decode (such an event is dead-lettered, never delivered).
var ErrUndecodable = errors.New("the event's record does not decode")

// Skip is a trigger a replay leaves out, and why.
type Skip struct {
	Trigger string `json:"trigger"`
	// Reason is "when does not match", or "when failed on this event: ..."
	// when the expression could not be evaluated on it.
	Reason string `json:"reason"`
}

// ReplayEvent re-drives a stored event through trigger (when not empty) or
// through every trigger, in both cases only to the triggers whose when
// matches it: it returns those (targets) and the others with the reason
// (skipped). A named trigger that does not match is an error wrapping
// ErrNoMatch, with skipped saying why. The trigger evaluates when again
// when it delivers the replay (a reload may have changed it). With dryRun
// nothing is sent.
func (r *Runner) ReplayEvent(ctx context.Context, raw []byte, eventID, trigger string, dryRun bool) (targets []string, skipped []Skip, err error) {
	names := r.order
	if trigger != "" {
		if _, ok := r.triggers[trigger]; !ok {
			return nil, nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownTrigger, trigger, strings.Join(r.order, ", "))
		}
		names = []string{trigger}
	}
	act, err := route.NewActivation(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("replay event %s: %w: %w", eventID, ErrUndecodable, err)
	}
	for _, name := range names {
		if ok, why := r.triggers[name].match(act); ok {
			targets = append(targets, name)
		} else {
			skipped = append(skipped, Skip{Trigger: name, Reason: why})
		}
	}
	if trigger != "" && len(targets) == 0 {
		return nil, skipped, fmt.Errorf("replay event %s to trigger %q: %w (%s)", eventID, trigger, ErrNoMatch, skipped[0].Reason)
	}
	if dryRun {
		return targets, skipped, nil
	}
	for _, name := range targets {
		if err := r.st.Replay(ctx, name, eventID, raw); err != nil {
			return nil, nil, err
		}
	}
	return targets, skipped, nil
}

// ReplayDead re-drives a dead letter through its trigger and removes it.
// A dead letter whose trigger's when no longer matches its event is
// refused with an error wrapping ErrNoMatch (one whose record does not
// decode, with ErrUndecodable) and kept.
func (r *Runner) ReplayDead(ctx context.Context, seq uint64, dryRun bool) (store.DeadLetter, error) {
	d, err := r.st.GetDead(ctx, seq)
	if err != nil {
		return store.DeadLetter{}, err
	}
	tr, ok := r.triggers[d.Trigger]
	if !ok {
		return d, fmt.Errorf("%w %q: the dead letter's trigger is no longer configured", ErrUnknownTrigger, d.Trigger)
	}
	act, err := route.NewActivation(d.Event)
	if err != nil {
		return d, fmt.Errorf("replay dead letter %d: %w: %w", seq, ErrUndecodable, err)
	}
	if ok, why := tr.match(act); !ok {
		return d, fmt.Errorf("replay dead letter %d of event %s to trigger %q: %w (%s)", seq, d.EventID, d.Trigger, ErrNoMatch, why)
	}
	if dryRun {
		return d, nil
	}
	if err := r.st.Replay(ctx, d.Trigger, d.EventID, d.Event); err != nil {
		return d, err
	}
	return d, r.st.RemoveDead(ctx, seq)
}
