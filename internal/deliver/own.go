package deliver

import (
	"context"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/forgehook/forgehook/internal/store"
)

// A trigger with a serialize key (and so every trigger that coalesces) is
// owned: one replica at a time consumes it, the one that holds its lease
// in the store (store.RunLeased, lease OwnerLease(name)). Its per-key
// order and its coalescing live in that replica's memory (keys.go), so
// they hold cluster-wide: no other replica pulls its events or its
// replays. When the owner stops, it stops pulling, cancels its runs,
// gives back what it held and releases the lease: another replica takes
// over within a second. When the owner dies, its lease expires after
// OwnerTTL and the next owner waits AckWait more before it pulls, so that
// the events the dead owner had in flight are due again first; a
// takeover costs up to OwnerTTL + AckWait + 1 s of delivery (about 21 s).
// Runs of one key never overlap across a handover; the few events given
// back may run out of order with each other (JetStream does not keep the
// order of redeliveries).
//
// A trigger without a key is shared: every replica pulls its consumer and
// the work spreads across them.
//
// concurrency is per cluster in both cases: an owned trigger runs only on
// its owner, under that replica's concurrency slots; a shared trigger on
// an external store gets a consumer whose MaxAckPending is its
// concurrency, so that at most that many of its events are out, across
// all replicas, at any time (its replays, a consumer of their own, add at
// most as many again). With the embedded store (one process) the local
// slots bound it and the consumer keeps a prefetch.

// OwnerTTL is how long an owned trigger's lease outlives its dead owner.
const OwnerTTL = 5 * time.Second

// OwnerLease is the name of the lease whose holder consumes trigger.
func OwnerLease(trigger string) string { return "trigger." + trigger }

// owned reports whether one replica at a time consumes the trigger.
func (tr *runner) owned() bool { return tr.t.Serialize != nil }

// maxAckPending is the trigger's consumers' MaxAckPending: how many of its
// events may be out (delivered, not yet acknowledged) at once, across
// every replica.
func (tr *runner) maxAckPending() int {
	if !tr.owned() && tr.r.st.Clustered() {
		return tr.t.Concurrency
	}
	return max(4, 2*tr.t.Concurrency)
}

// startOwned creates the trigger's consumers without consuming them, and
// starts competing for the trigger's lease: while this replica holds it,
// a runner of its own (own) consumes.
func (tr *runner) startOwned(ctx context.Context) error {
	tr.idle = true
	if err := tr.start(ctx); err != nil {
		return err
	}
	r := tr.r
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.st.RunLeased(r.ctx, OwnerLease(tr.t.Name), store.LeaseOptions{
			TTL:   OwnerTTL,
			Grace: AckWait,
			OnChange: func(held bool) {
				if held {
					tr.log.Info("deliver: this replica owns the trigger now (serialize: one replica at a time)")
				} else {
					tr.log.Info("deliver: this replica no longer owns the trigger")
				}
			},
		}, tr.own)
	}()
	return nil
}

// own consumes the trigger until ctx ends (the lease is lost, or the
// runner stops), with a runner of its own, then hands it over: it gives
// back what it held, in stream order per key, before the lease is
// released, so that the next owner runs them first and in order.
func (tr *runner) own(ctx context.Context) {
	term := &Runner{st: tr.r.st, log: tr.r.log, observe: tr.r.observe, triggers: map[string]*runner{}}
	// The runner's ctx ends only once its consumers have stopped (below):
	// an event given back while they still pull would come straight back
	// to them, and be lost to the next owner until its AckWait.
	term.ctx, term.cancel = context.WithCancel(context.WithoutCancel(ctx))
	ttr := newRunner(term, tr.t, tr.r.log)
	term.triggers[tr.t.Name], term.order = ttr, []string{tr.t.Name}
	if err := ttr.start(ctx); err != nil {
		tr.log.Error("deliver: owned trigger did not start; the lease goes back", "err", err)
		term.Stop()
		return
	}
	<-ctx.Done()
	// First the consumers stop pulling (what the client still buffers is
	// held, not run), so that nothing given back comes straight back to
	// them and waits out its AckWait; then the running actions are
	// cancelled and give their events back (the oldest of each key), then
	// the events waiting for their key, then the held ones. JetStream does
	// not promise to redeliver them in that order (a redelivery that finds
	// no pull waiting goes to the back of its queue): the next owner may
	// run those few out of order, never two of one key at once.
	ttr.handover.start()
	for _, cc := range ttr.ccs {
		cc.Drain()
	}
	for _, cc := range ttr.ccs {
		select {
		case <-cc.Closed():
		case <-time.After(5 * time.Second):
		}
	}
	if err := tr.r.st.Conn().FlushTimeout(time.Second); err != nil {
		tr.log.Debug("deliver: flush before the handover", "err", err)
	}
	term.Stop()
	ttr.handover.giveBack()
}

// handover holds the messages an owner's consumers deliver after it
// started to hand its trigger over.
type handover struct {
	mu   sync.Mutex
	on   bool
	held []jetstream.Msg
}

func (h *handover) start() {
	h.mu.Lock()
	h.on = true
	h.mu.Unlock()
}

// giveBack negatively acknowledges the held messages, in the order they
// came.
func (h *handover) giveBack() {
	h.mu.Lock()
	held := h.held
	h.held = nil
	h.mu.Unlock()
	for _, m := range held {
		_ = m.Nak()
	}
}

// hold keeps m for the handover and reports true when one is under way.
func (tr *runner) hold(m jetstream.Msg) bool {
	h := &tr.handover
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.on {
		return false
	}
	h.held = append(h.held, m)
	return true
}
