package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Totals are counts kept by the store itself, so that they survive
// restarts: what its streams hold now, per endpoint and per trigger, and
// since when each stream holds it (its oldest message; retention and
// store.max_bytes drop older ones).
type Totals struct {
	// Events counts the stored events per endpoint; EventsSince is the
	// time of the oldest event kept (zero when none).
	Events      map[string]uint64
	EventsSince time.Time
	// Attempts counts the recorded delivery attempts per trigger;
	// AttemptsSince is the time of the oldest kept.
	Attempts      map[string]uint64
	AttemptsSince time.Time
	// Dead counts the dead letters held per trigger (not replayed nor
	// removed); DeadSince is the time of the oldest held.
	Dead      map[string]uint64
	DeadSince time.Time
}

// Totals reads the per-subject counts of EVENTS, ATTEMPTS and DEAD: one
// stream-info request each, answered by the server from its subject state
// (no message is read), whatever the number of events.
func (s *Store) Totals(ctx context.Context) (Totals, error) {
	var t Totals
	var err error
	if t.Events, t.EventsSince, err = s.subjectCounts(ctx, EventsStream, EventsSubject); err != nil {
		return t, err
	}
	if t.Attempts, t.AttemptsSince, err = s.subjectCounts(ctx, AttemptsStream, AttemptsSubject); err != nil {
		return t, err
	}
	if t.Dead, t.DeadSince, err = s.subjectCounts(ctx, DeadStream, DeadSubject); err != nil {
		return t, err
	}
	return t, nil
}

// subjectCounts sums a stream's message counts by the subject token after
// prefix (the endpoint of an event, the trigger of an attempt or dead
// letter), and returns the time of its oldest message.
func (s *Store) subjectCounts(ctx context.Context, stream, prefix string) (map[string]uint64, time.Time, error) {
	st, err := s.stream(ctx, stream)
	if err != nil {
		return nil, time.Time{}, err
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(prefix+".>"))
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("store: stream %s: counts: %w", stream, err)
	}
	out := map[string]uint64{}
	for subj, n := range info.State.Subjects {
		rest, ok := strings.CutPrefix(subj, prefix+".")
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(rest, ".")
		out[name] += n
	}
	var since time.Time
	if info.State.Msgs > 0 {
		since = info.State.FirstTime
	}
	return out, since, nil
}
