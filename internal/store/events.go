package store

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/forgehook/forgehook/internal/store/seqindex"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Result is the outcome of Append.
type Result struct {
	// ID is the stored event's id: the new one, or the original's for a
	// duplicate.
	ID string
	// Seq is the event's sequence in the EVENTS stream (0 for a duplicate
	// found in the index).
	Seq uint64
	// Duplicate reports that the delivery was already stored.
	Duplicate bool
}

// Subject returns the subject an event is stored under.
func Subject(endpoint, forge, kind string) string {
	return EventsSubject + "." + endpoint + "." + forge + "." + kind
}

// hashKey maps any string to a short token valid in subjects and KV keys.
func hashKey(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:18])
}

func dedupKey(endpoint, key string) string { return endpoint + "." + hashKey(key) }

// Append stores one encoded event (data, with id id) under subject and waits
// for the store's acknowledgement. When key is not empty it is the
// delivery's dedup key: a delivery whose key was stored within the dedup
// window is not stored again, and Append returns the original event's id
// with Duplicate set. A nil error means the event is durably in the log.
// ctx bounds the whole call; on its expiry the event may or may not have
// been stored, and the caller must not claim it was.
//
// data is not retained once Append returns nil: the NATS client copies it
// into its write buffer before the acknowledgement that Append waits for,
// so the caller may reuse it. After an error it must not: the client's
// asynchronous publish may still hold it, to send it again.
func (s *Store) Append(ctx context.Context, endpoint, subject, id, key string, data []byte) (Result, error) {
	h, err := s.handles()
	if err != nil {
		return Result{}, err
	}
	if err := s.failFast(); err != nil {
		return Result{}, err
	}
	t0 := time.Now()
	msgID := id
	if key != "" {
		if err := s.CaughtUp(); err != nil {
			return Result{}, err // the dedup index would miss a redelivery
		}
		msgID = dedupKey(endpoint, key)
		orig, found, err := s.find(ctx, h, s.dedup, msgID, jetstream.MsgIDHeader)
		if err != nil {
			return Result{}, fmt.Errorf("store: dedup lookup: %w", err)
		}
		if found {
			return Result{ID: orig.Header.Get(EventIDHeader), Seq: orig.Sequence, Duplicate: true}, nil
		}
	}
	msg := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{}}
	msg.Header.Set(jetstream.MsgIDHeader, msgID)
	msg.Header.Set(EventIDHeader, id)
	if s.tooLarge(data) {
		name := hashKey(msgID)
		stub, err := s.offload(ctx, name, data)
		if err != nil {
			return Result{}, err
		}
		msg.Data = stub
		msg.Header.Set(ObjectHeader, name)
	}
	ack, err := s.publishRetry(ctx, msg, func(ack *jetstream.PubAck) {
		if !ack.Duplicate {
			s.indexEvent(msgID, id, ack.Sequence, time.Now())
		}
	})
	if err != nil {
		s.appendFailed(t0, err)
		return Result{}, fmt.Errorf("store: publish %s: %w", subject, err)
	}
	s.noteWriteOK(t0)
	if ack.Duplicate {
		// A concurrent or retried copy was stored within JetStream's own
		// short window: report the original.
		orig, err := h.events.GetMsg(ctx, ack.Sequence)
		if err != nil {
			return Result{}, fmt.Errorf("store: read original of duplicate: %w", err)
		}
		if orig.Header.Get(EventIDHeader) == id {
			// An earlier attempt of this very call was stored (a
			// retry after a lost acknowledgement): not a redelivery.
			s.indexEvent(msgID, id, ack.Sequence, time.Now())
			return Result{ID: id, Seq: ack.Sequence}, nil
		}
		return Result{ID: orig.Header.Get(EventIDHeader), Seq: ack.Sequence, Duplicate: true}, nil
	}
	// The event is durable now. A failure to index it loses nothing: the
	// tail of the stream indexes it again.
	s.indexEvent(msgID, id, ack.Sequence, time.Now())
	return Result{ID: id, Seq: ack.Sequence}, nil
}

// publish sends msg and waits for the stream's acknowledgement. It uses an
// asynchronous publish and waits on its future: the acknowledgements of
// concurrent requests come back on one shared subscription instead of a
// request/reply exchange each. When ctx ends first, late (if not nil) is
// called with the acknowledgement should it still come, within a minute.
func (s *Store) publish(ctx context.Context, msg *nats.Msg, late func(*jetstream.PubAck)) (*jetstream.PubAck, error) {
	f, err := s.js.PublishMsgAsync(msg)
	if err != nil {
		return nil, err
	}
	select {
	case ack := <-f.Ok():
		return ack, nil
	case err := <-f.Err():
		return nil, err
	case <-ctx.Done():
		// The caller gives up (ingest answers 503), but the store may
		// still take the message: late indexes it if it does, so that an
		// event can be found by id and its redelivery is recognized.
		if late == nil {
			return nil, context.Cause(ctx)
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			select {
			case ack := <-f.Ok():
				late(ack)
			case <-f.Err():
			case <-s.done:
			case <-time.After(time.Minute):
			}
		}()
		return nil, context.Cause(ctx)
	}
}

// indexEvent records a stored event in the dedup and id indexes.
func (s *Store) indexEvent(msgID, id string, seq uint64, t time.Time) {
	if msgID != "" {
		if err := s.dedup.Insert(seqindex.Hash(msgID), seq, t); err != nil {
			s.log.Warn("store: dedup index", "seq", seq, "err", err)
		}
	}
	if id != "" {
		if err := s.ids.Insert(seqindex.Hash(id), seq, t); err != nil {
			s.log.Warn("store: id index", "seq", seq, "err", err)
		}
	}
}

// find returns the stored message whose header hdr equals key, looking the
// candidates up in ix and confirming each against the stream.
func (s *Store) find(ctx context.Context, h handles, ix *seqindex.Index, key, hdr string) (*jetstream.RawStreamMsg, bool, error) {
	seqs, err := ix.Lookup(seqindex.Hash(key), time.Now())
	if err != nil {
		return nil, false, err
	}
	for i := len(seqs) - 1; i >= 0; i-- {
		m, err := h.events.GetMsg(ctx, seqs[i])
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return nil, false, err
		}
		if m.Header.Get(hdr) == key {
			return m, true, nil
		}
	}
	return nil, false, nil
}

// Record is one stored event.
type Record struct {
	// Seq is the event's sequence in the EVENTS stream.
	Seq uint64 `json:"seq"`
	// Subject is the subject it is stored under.
	Subject string `json:"subject"`
	// Stored is when the store accepted it.
	Stored time.Time `json:"stored"`
	// Data is the CloudEvent JSON.
	Data json.RawMessage `json:"event"`
	// Object, when not empty, says that Data is the stub of an event too
	// large for one message: the record as stored in EVENTS, whole but
	// for data.body, which is null, and a data.bodyref naming Object in
	// the object store. Only List returns stubs; GetSeq (or Get) returns
	// the whole record.
	Object string `json:"object,omitempty"`
}

// Get returns the event with the given id.
func (s *Store) Get(ctx context.Context, id string) (Record, error) {
	h, err := s.handles()
	if err != nil {
		return Record{}, err
	}
	m, found, err := s.find(ctx, h, s.ids, id, EventIDHeader)
	if err != nil {
		return Record{}, fmt.Errorf("store: id lookup: %w", err)
	}
	if !found {
		return Record{}, ErrNotFound
	}
	return s.record(ctx, m)
}

// GetSeq returns the event stored at sequence seq.
func (s *Store) GetSeq(ctx context.Context, seq uint64) (Record, error) {
	h, err := s.handles()
	if err != nil {
		return Record{}, err
	}
	m, err := h.events.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return Record{}, ErrNotFound
	}
	if err != nil {
		return Record{}, fmt.Errorf("store: get %d: %w", seq, err)
	}
	return s.record(ctx, m)
}

// Filter selects events in List. Empty fields match everything.
type Filter struct {
	Endpoint, Forge, Kind string
	// Match, when set, is applied to each record after the subject filter.
	// The record may be a stub (see Record.Object).
	Match func(Record) bool
	// Before lists events with a sequence lower than Before (0: from the newest).
	Before uint64
	// Limit caps the number of events returned (default 50).
	Limit int
	// ScanLimit caps how many stored events one call examines (default 5000).
	ScanLimit int
	// MaxBytes caps the bytes of the records one call returns (default
	// ListMaxBytes): a page ends before the record that would pass it,
	// and its cursor lists that record next. A page always holds at least
	// one record, so that paging ends.
	MaxBytes int
}

// ListMaxBytes is the default bound of List's answer, in bytes of records.
// With the stubs of large events (Record.Object) in place of the events,
// it bounds a page to ListMaxBytes plus one message: an event stored in
// one message is at most the server's max payload, a stub a few KiB.
const ListMaxBytes = 8 << 20

// List returns stored events newest first, and the cursor to pass as
// Before for the next page (0 when there is none). It never reads an
// event from the object store: the record of an event too large for one
// message is its stub (Record.Object), whose fields all but the body are
// the event's. A page ends at f.Limit records, f.ScanLimit events
// examined, or f.MaxBytes of records, whichever comes first.
func (s *Store) List(ctx context.Context, f Filter) ([]Record, uint64, error) {
	h, err := s.handles()
	if err != nil {
		return nil, 0, err
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.ScanLimit <= 0 {
		f.ScanLimit = 5000
	}
	if f.MaxBytes <= 0 {
		f.MaxBytes = ListMaxBytes
	}
	info, err := h.events.Info(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("store: stream info: %w", err)
	}
	first, last := info.State.FirstSeq, info.State.LastSeq
	seq := last
	if f.Before != 0 && f.Before-1 < seq {
		seq = f.Before - 1
	}
	var out []Record
	scanned, size := 0, 0
	for ; seq >= first && seq > 0; seq-- {
		if len(out) == f.Limit {
			return out, seq + 1, nil
		}
		if scanned == f.ScanLimit {
			return out, seq + 1, nil
		}
		scanned++
		m, err := h.events.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return nil, 0, fmt.Errorf("store: get %d: %w", seq, err)
		}
		if !subjectMatches(m.Subject, f) {
			continue
		}
		r := Record{Seq: m.Sequence, Subject: m.Subject, Stored: m.Time, Data: m.Data, Object: m.Header.Get(ObjectHeader)}
		if f.Match != nil && !f.Match(r) {
			continue
		}
		n := recordSize(r)
		if len(out) > 0 && size+n > f.MaxBytes {
			return out, seq + 1, nil
		}
		size += n
		out = append(out, r)
	}
	return out, 0, nil
}

// recordSize is what a listed record holds in memory, in bytes: its
// strings and data.
func recordSize(r Record) int { return len(r.Data) + len(r.Subject) + len(r.Object) }

func subjectMatches(subject string, f Filter) bool {
	if f.Endpoint == "" && f.Forge == "" && f.Kind == "" {
		return true
	}
	// forgehook.event.<endpoint>.<forge>.<kind>
	var toks [5]string
	n := 0
	start := 0
	for i := 0; i <= len(subject) && n < 5; i++ {
		if i == len(subject) || subject[i] == '.' {
			toks[n] = subject[start:i]
			n++
			start = i + 1
		}
	}
	if n != 5 {
		return false
	}
	return (f.Endpoint == "" || toks[2] == f.Endpoint) &&
		(f.Forge == "" || toks[3] == f.Forge) &&
		(f.Kind == "" || toks[4] == f.Kind)
}

// EndpointStatus is what the store remembers about an endpoint.
type EndpointStatus struct {
	// VerifiedAt is when the forge's ping or test delivery last arrived.
	VerifiedAt time.Time `json:"verified_at,omitzero"`
	// VerifiedBy names the ping event ("ping", "diagnostics:ping", ...).
	VerifiedBy string `json:"verified_by,omitempty"`
}

// MarkVerified records that endpoint received an authentic ping at t.
func (s *Store) MarkVerified(ctx context.Context, endpoint, by string, t time.Time) error {
	h, err := s.handles()
	if err != nil {
		return err
	}
	b, _ := json.Marshal(EndpointStatus{VerifiedAt: t.UTC(), VerifiedBy: by})
	if _, err := h.endpoints.Put(ctx, endpoint, b); err != nil {
		return fmt.Errorf("store: endpoint status %s: %w", endpoint, err)
	}
	return nil
}

// Endpoint returns what the store remembers about endpoint (zero if nothing).
func (s *Store) Endpoint(ctx context.Context, endpoint string) (EndpointStatus, error) {
	h, err := s.handles()
	if err != nil {
		return EndpointStatus{}, err
	}
	e, err := h.endpoints.Get(ctx, endpoint)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return EndpointStatus{}, nil
	}
	if err != nil {
		return EndpointStatus{}, fmt.Errorf("store: endpoint status %s: %w", endpoint, err)
	}
	var st EndpointStatus
	if err := json.Unmarshal(e.Value(), &st); err != nil {
		return EndpointStatus{}, fmt.Errorf("store: endpoint status %s: %w", endpoint, err)
	}
	return st, nil
}
