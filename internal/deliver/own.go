package deliver

import (
	"context"
	"time"

	"github.com/forgehook/forgehook/internal/store"
)

// A trigger with a serialize key (and so every trigger that coalesces) is
// owned: one replica at a time consumes it, the one that holds its lease
// in the store (store.RunLeased, lease OwnerLease(name)). Its per-key
// order and its coalescing live in that replica's memory (keys.go), so
// they hold cluster-wide: no other replica pulls its events or its
// replays. When the owner stops, it gives back what it held (running and
// waiting events are negatively acknowledged, in order) and releases the
// lease: another replica takes over within a second. When the owner dies,
// its lease expires after OwnerTTL and the next owner waits AckWait more
// before it pulls, so that the events the dead owner had in flight come
// back before newer ones: the order holds across the failure, which costs
// up to OwnerTTL + AckWait + 1 s of delivery (about 21 s).
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
// runner stops), with a runner of its own, whose Stop gives back what it
// held before the lease is released.
func (tr *runner) own(ctx context.Context) {
	term := &Runner{st: tr.r.st, log: tr.r.log, observe: tr.r.observe, triggers: map[string]*runner{}}
	term.ctx, term.cancel = context.WithCancel(ctx)
	ttr := newRunner(term, tr.t, tr.r.log)
	term.triggers[tr.t.Name], term.order = ttr, []string{tr.t.Name}
	if err := ttr.start(ctx); err != nil {
		tr.log.Error("deliver: owned trigger did not start; the lease goes back", "err", err)
	} else {
		<-ctx.Done()
	}
	term.Stop()
}
