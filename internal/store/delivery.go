package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/forgehook/forgehook/internal/store/seqindex"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Streams of the delivery side. Their names are part of the public contract.
const (
	// DeadStream holds dead letters on forgehook.dead.<trigger>.
	DeadStream  = "DEAD"
	DeadSubject = "forgehook.dead"
	// ReplayStream holds replay requests on forgehook.replay.<trigger>,
	// consumed (and removed) by that trigger.
	ReplayStream  = "REPLAY"
	ReplaySubject = "forgehook.replay"
	// AttemptsStream records every delivery attempt on
	// forgehook.attempt.<trigger>.
	AttemptsStream  = "ATTEMPTS"
	AttemptsSubject = "forgehook.attempt"

	// Headers on dead letters, replays and attempts.
	TriggerHeader  = "Forgehook-Trigger"
	ErrorHeader    = "Forgehook-Error"
	AttemptsHeader = "Forgehook-Attempts"
	EventSeqHeader = "Forgehook-Event-Seq"

	// DeadRetention is how long a dead letter is kept when nobody replays it.
	DeadRetention = 30 * 24 * time.Hour
)

func (s *Store) ensureDelivery(ctx context.Context) (jetstream.Stream, error) {
	for _, cfg := range []jetstream.StreamConfig{
		{Name: DeadStream, Description: "forgehook dead letters", Subjects: []string{DeadSubject + ".>"}, MaxAge: DeadRetention},
		{Name: ReplayStream, Description: "forgehook replay requests", Subjects: []string{ReplaySubject + ".>"}, Retention: jetstream.WorkQueuePolicy, MaxAge: s.opts.Retention},
		// Attempts are history: past half the room kept beside EVENTS,
		// the oldest go, so that they never fill the store's reservation
		// and stop ingest.
		{Name: AttemptsStream, Description: "forgehook delivery attempts", Subjects: []string{AttemptsSubject + ".>"}, MaxAge: s.opts.Retention, MaxBytes: otherRoom(s.opts.MaxBytes) / 2},
	} {
		cfg.Storage = jetstream.FileStorage
		cfg.Replicas = s.opts.Replicas
		st, err := s.js.CreateOrUpdateStream(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("store: stream %s: %w", cfg.Name, err)
		}
		if cfg.Name == AttemptsStream {
			return st, nil
		}
	}
	return nil, errors.New("unreachable")
}

// Attempt is one delivery attempt of one event to one trigger's action.
type Attempt struct {
	Trigger  string        `json:"trigger"`
	EventID  string        `json:"event_id"`
	Attempt  int           `json:"attempt"`
	Time     time.Time     `json:"time"`
	Duration time.Duration `json:"duration_ns"`
	// Outcome is delivered, failed (will be retried), dead, superseded.
	Outcome string `json:"outcome"`
	// Status is the HTTP status or exit code (0 when none).
	Status int    `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
	Output string `json:"output,omitempty"`
	// NextAttempt is when a failed attempt will be retried.
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	// Replay reports an attempt driven by a replay request.
	Replay bool `json:"replay,omitempty"`
}

// The outcomes of an attempt.
const (
	OutcomeDelivered  = "delivered"
	OutcomeFailed     = "failed"
	OutcomeDead       = "dead"
	OutcomeSuperseded = "superseded"
)

func attemptKey(trigger, eventID string) string { return trigger + "\x00" + eventID }

// RecordAttempt appends an attempt to ATTEMPTS and indexes it.
func (s *Store) RecordAttempt(ctx context.Context, a Attempt) error {
	b, err := a.appendJSON(make([]byte, 0, 192+len(a.Error)+len(a.Output)))
	if err != nil {
		return err
	}
	m := nats.NewMsg(AttemptsSubject + "." + a.Trigger)
	m.Data = b
	m.Header.Set(EventIDHeader, a.EventID)
	m.Header.Set(TriggerHeader, a.Trigger)
	// The event index reads the outcome and the event's sequence here.
	m.Header.Set(OutcomeHeader, a.Outcome)
	if seq := s.eventSeqOf(ctx, a.EventID); seq != 0 {
		m.Header.Set(EventSeqHeader, strconv.FormatUint(seq, 10))
	}
	index := func(ack *jetstream.PubAck) {
		if err := s.attempts.Insert(seqindex.Hash(attemptKey(a.Trigger, a.EventID)), ack.Sequence, time.Now()); err != nil {
			s.log.Warn("store: attempt index", "err", err)
		}
	}
	ack, err := s.publish(ctx, m, index)
	if err != nil {
		return fmt.Errorf("store: record attempt: %w", err)
	}
	index(ack)
	return nil
}

// Attempts returns the recorded attempts of one event on one trigger,
// oldest first.
func (s *Store) Attempts(ctx context.Context, trigger, eventID string) ([]Attempt, error) {
	st, err := s.stream(ctx, AttemptsStream)
	if err != nil {
		return nil, err
	}
	seqs, err := s.attempts.Lookup(seqindex.Hash(attemptKey(trigger, eventID)), time.Now())
	if err != nil {
		return nil, fmt.Errorf("store: attempt index: %w", err)
	}
	var out []Attempt
	for _, seq := range seqs {
		m, err := st.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("store: get attempt: %w", err)
		}
		if m.Header.Get(EventIDHeader) != eventID || m.Header.Get(TriggerHeader) != trigger {
			continue
		}
		var a Attempt
		if err := json.Unmarshal(m.Data, &a); err == nil {
			out = append(out, a)
		}
	}
	sortAttempts(out)
	return out, nil
}

func sortAttempts(a []Attempt) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j].Time.Before(a[j-1].Time); j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

func (s *Store) stream(ctx context.Context, name string) (jetstream.Stream, error) {
	if _, err := s.handles(); err != nil {
		return nil, err
	}
	st, err := s.js.Stream(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("store: stream %s: %w", name, err)
	}
	return st, nil
}

// DeadLetter is an event whose delivery to a trigger was given up.
type DeadLetter struct {
	// Seq identifies the dead letter (its sequence in DEAD).
	Seq      uint64    `json:"seq"`
	Trigger  string    `json:"trigger"`
	EventID  string    `json:"event_id"`
	EventSeq uint64    `json:"event_seq,omitempty"`
	Attempts int       `json:"attempts"`
	Error    string    `json:"error"`
	Time     time.Time `json:"time"`
	// Event is the stored record (CloudEvents JSON).
	Event json.RawMessage `json:"event,omitempty"`
}

// Dead stores a dead letter for trigger.
func (s *Store) Dead(ctx context.Context, trigger, eventID string, eventSeq uint64, attempts int, lastErr string, raw []byte) error {
	m := nats.NewMsg(DeadSubject + "." + trigger)
	if err := s.fit(ctx, m, "dead."+trigger+"."+eventID, raw); err != nil {
		return err
	}
	m.Header.Set(EventIDHeader, eventID)
	m.Header.Set(TriggerHeader, trigger)
	m.Header.Set(AttemptsHeader, strconv.Itoa(attempts))
	m.Header.Set(ErrorHeader, truncate(lastErr, 2048))
	if eventSeq != 0 {
		m.Header.Set(EventSeqHeader, strconv.FormatUint(eventSeq, 10))
	}
	if _, err := s.js.PublishMsg(ctx, m); err != nil {
		return fmt.Errorf("store: dead letter: %w", err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// fit sets raw as m's data, offloading it to the object store when it is
// too large for one message.
func (s *Store) fit(ctx context.Context, m *nats.Msg, key string, raw []byte) error {
	m.Data = raw
	if !s.tooLarge(raw) {
		return nil
	}
	name := hashKey(key)
	stub, err := s.offload(ctx, name, raw)
	if err != nil {
		return err
	}
	m.Data = stub
	m.Header.Set(ObjectHeader, name)
	return nil
}

func deadFrom(m *jetstream.RawStreamMsg, withEvent bool) DeadLetter {
	d := DeadLetter{
		Seq:     m.Sequence,
		Trigger: m.Header.Get(TriggerHeader),
		EventID: m.Header.Get(EventIDHeader),
		Error:   m.Header.Get(ErrorHeader),
		Time:    m.Time,
	}
	d.Attempts, _ = strconv.Atoi(m.Header.Get(AttemptsHeader))
	d.EventSeq, _ = strconv.ParseUint(m.Header.Get(EventSeqHeader), 10, 64)
	if withEvent {
		d.Event = m.Data
	}
	return d
}

// ListDead returns dead letters newest first (of one trigger when trigger
// is not empty), and the cursor for the next page.
func (s *Store) ListDead(ctx context.Context, trigger string, before uint64, limit int) ([]DeadLetter, uint64, error) {
	st, err := s.stream(ctx, DeadStream)
	if err != nil {
		return nil, 0, err
	}
	if limit <= 0 {
		limit = 50
	}
	info, err := st.Info(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("store: dead info: %w", err)
	}
	seq := info.State.LastSeq
	if before != 0 && before-1 < seq {
		seq = before - 1
	}
	var out []DeadLetter
	for scanned := 0; seq >= info.State.FirstSeq && seq > 0 && scanned < 10000; seq-- {
		if len(out) == limit {
			return out, seq + 1, nil
		}
		scanned++
		m, err := st.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return nil, 0, fmt.Errorf("store: get dead %d: %w", seq, err)
		}
		d := deadFrom(m, false)
		if trigger != "" && d.Trigger != trigger {
			continue
		}
		out = append(out, d)
	}
	return out, 0, nil
}

// GetDead returns one dead letter with its event.
func (s *Store) GetDead(ctx context.Context, seq uint64) (DeadLetter, error) {
	st, err := s.stream(ctx, DeadStream)
	if err != nil {
		return DeadLetter{}, err
	}
	m, err := st.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return DeadLetter{}, ErrNotFound
	}
	if err != nil {
		return DeadLetter{}, fmt.Errorf("store: get dead %d: %w", seq, err)
	}
	d := deadFrom(m, true)
	if d.Event, err = s.Resolve(ctx, m.Header, m.Data); err != nil {
		return DeadLetter{}, err
	}
	return d, nil
}

// RemoveDead deletes a dead letter (after it was replayed).
func (s *Store) RemoveDead(ctx context.Context, seq uint64) error {
	st, err := s.stream(ctx, DeadStream)
	if err != nil {
		return err
	}
	if err := st.DeleteMsg(ctx, seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
		return fmt.Errorf("store: remove dead %d: %w", seq, err)
	}
	return nil
}

// Replay asks trigger to deliver the event again: the request is stored on
// forgehook.replay.<trigger> and consumed by that trigger.
func (s *Store) Replay(ctx context.Context, trigger, eventID string, raw []byte) error {
	m := nats.NewMsg(ReplaySubject + "." + trigger)
	if err := s.fit(ctx, m, "replay."+trigger+"."+eventID, raw); err != nil {
		return err
	}
	m.Header.Set(EventIDHeader, eventID)
	m.Header.Set(TriggerHeader, trigger)
	if _, err := s.js.PublishMsg(ctx, m); err != nil {
		return fmt.Errorf("store: replay: %w", err)
	}
	return nil
}
