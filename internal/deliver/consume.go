package deliver

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/forgehook/forgehook/internal/action"
	"github.com/forgehook/forgehook/internal/route"
	"github.com/forgehook/forgehook/internal/store"
)

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
	maxPending := tr.maxAckPending()
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
	if tr.idle {
		return nil // an owned trigger's: its owner's runner consumes (own.go)
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
	m  jetstream.Msg
	md *jetstream.MsgMetadata
	// rec is the record, each of its views decoded at most once for the
	// whole delivery: prepare decodes its head, and the action, the
	// attempt records and the dead letter read this one.
	rec    action.Record
	key    string
	replay bool
	// wip keeps the message ours while it waits for its key, while the
	// action runs and while a retry waits for its backoff.
	wip keepAlive
}

// head returns the id and time of j's record, which prepare decoded.
func (j *job) head() action.Head {
	h, _ := j.rec.Head()
	return h
}

// dispatch is called by the consumer for each message, one at a time, in
// stream order. It filters and decodes the event, then runs the action on a
// worker once one of the trigger's concurrency slots is free. An event
// whose serialize key is held by an earlier one waits behind it, without a
// slot; the worker of the key runs it next.
func (tr *runner) dispatch(m jetstream.Msg, replay bool) {
	if tr.hold(m) {
		return // an owner handing its trigger over (own.go)
	}
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
	j := &job{m: m, md: md, replay: replay}
	j.rec.Init(raw)
	var act *route.Activation
	if tr.t.When != nil || tr.t.Serialize != nil {
		// The CEL variables (maps of CEL values, a form of their own) are
		// decoded only for triggers that read them.
		if act, err = route.NewActivation(raw); err != nil {
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
	// The head (id and time) decodes exactly when the whole record does
	// (see action.Record.Head); the rest is decoded only if the action
	// reads it.
	if _, err = j.rec.Head(); err != nil {
		// The dead letter names the decoding error itself, without the
		// view's "decode record" wording.
		tr.undecodable(m, md, raw, replay, cmp.Or(errors.Unwrap(err), err))
		return nil, false
	}
	if tr.t.Serialize != nil {
		k, err := tr.t.Serialize.Key(act)
		if err != nil {
			tr.log.Warn("deliver: serialize key failed, running without a key", "event", j.head().ID, "err", err)
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
