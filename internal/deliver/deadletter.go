package deliver

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/forgehook/forgehook/internal/store"
)

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

// dead dead-letters j after its last attempt a failed with doErr, records
// a and acknowledges the message. Should the dead letter fail, the message
// is kept (negatively acknowledged with the longest backoff) for a later
// attempt rather than lost.
func (tr *runner) dead(ctx context.Context, j *job, a store.Attempt, doErr error) {
	id := j.head().ID
	seq := j.md.Sequence.Stream
	if j.replay {
		seq = 0
	}
	tr.record(ctx, a)
	j.wip.stop()
	if err := tr.r.st.Dead(ctx, tr.t.Name, id, seq, a.Attempt, doErr.Error(), j.rec.Raw()); err != nil {
		tr.log.Error("deliver: dead letter failed, retrying later", "event", id, "err", err)
		_ = j.m.NakWithDelay(tr.t.Retry.Max)
		return
	}
	tr.log.LogAttrs(tr.r.ctx, slog.LevelError, "delivery", slog.String("event", id), slog.Int("attempt", a.Attempt),
		slog.String("outcome", store.OutcomeDead), slog.Int("status", a.Status), slog.Any("err", doErr))
	_ = j.m.Ack()
	tr.forget(id)
}
