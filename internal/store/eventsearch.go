package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/forgehook/forgehook/internal/jsonx"
	"github.com/forgehook/forgehook/internal/store/eventindex"
	"github.com/forgehook/forgehook/internal/store/seqindex"
)

// OutcomeHeader carries an attempt's outcome on its ATTEMPTS message, so
// that the event index reads it from the headers.
const OutcomeHeader = "Forgehook-Outcome"

// Event index files in data_dir/index.
const (
	eventIndexFile    = "events.eix"
	deliveryIndexFile = "delivery.idx"
)

// eventIndexEvery is how often the event index is trimmed to the stream's
// first sequence; it is saved (when it changed) at the first of these
// ticks and then every eventIndexSaveEvery: each save writes the whole
// index (11 bytes per event), so that a store of 4 million events writes
// 0.7 MB/s, and a restart after a kill -9 reads at most a minute of the
// stream again.
const (
	eventIndexEvery     = 10 * time.Second
	eventIndexSaveEvery = time.Minute
)

// maxTailScan bounds how many events newer than the index a list reads
// one by one. Past it (the index is being rebuilt), a list falls back to
// scanning the stream page by page, as it did before the index.
const maxTailScan = 5000

// evixState is the event index's part of the Store.
type evixState struct {
	ix         atomic.Pointer[eventindex.Index]
	deliveries *seqindex.Index // the forge's delivery id -> EVENTS sequences
	path       string
	started    atomic.Bool
	// caught up with the streams' last sequences read at the start
	eventsCaught, attemptsCaught atomic.Bool
}

// openEventIndex loads the event index from data_dir/index, or starts an
// empty one (rebuilt from the stream) when the file is missing, damaged
// or of another version.
func (s *Store) openEventIndex() error {
	dir := filepath.Join(s.opts.DataDir, "index")
	s.evix.path = filepath.Join(dir, eventIndexFile)
	ix, err := eventindex.Load(s.evix.path)
	switch {
	case err == nil:
	case errors.Is(err, os.ErrNotExist):
		ix = eventindex.New()
	default:
		s.log.Warn("store: event index unreadable, rebuilding it from the stream", "err", err)
		ix = eventindex.New()
	}
	s.evix.ix.Store(ix)
	d, err := seqindex.Open(filepath.Join(dir, deliveryIndexFile), s.opts.Retention, s.log)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	s.evix.deliveries = d
	return nil
}

// closeEventIndex saves the event index and closes the delivery table.
func (s *Store) closeEventIndex() {
	if ix := s.evix.ix.Load(); ix != nil {
		if _, err := ix.Save(s.evix.path); err != nil {
			s.log.Warn("store: event index", "err", err)
		}
	}
	if s.evix.deliveries != nil {
		_ = s.evix.deliveries.Close()
	}
}

// EventIndexCaughtUp reports whether the event index holds every event
// and attempt the streams held when the store started (or reconnected its
// feed): until then, lists read the events it lacks one by one, or fall
// back to scanning pages of the stream. Readiness may wait for it.
func (s *Store) EventIndexCaughtUp() bool {
	return s.evix.eventsCaught.Load() && s.evix.attemptsCaught.Load()
}

// EventIndexStats returns the event index's size: events, terms, and its
// memory in bytes (an estimate from its lists' sizes).
func (s *Store) EventIndexStats() eventindex.Stats {
	return s.evix.ix.Load().Stats()
}

// startEventIndex feeds the event index from EVENTS (whole messages: the
// terms are in the record) and ATTEMPTS, from just past what it holds,
// and keeps following both, in every mode: the index is fed from the
// stream, so every replica indexes what the others store. A goroutine
// trims and saves it every eventIndexEvery.
func (s *Store) startEventIndex(events, attempts jetstream.Stream) error {
	if s.evix.started.Load() {
		return nil
	}
	ix := s.evix.ix.Load()
	info, err := events.Info(s.ctx)
	if err != nil {
		return fmt.Errorf("store: event index: %w", err)
	}
	if ix.Last() > info.State.LastSeq {
		// The index knows events the stream never held (a stream
		// created anew): start again.
		s.log.Warn("store: event index is ahead of the stream, rebuilding it", "index", ix.Last(), "stream", info.State.LastSeq)
		ix = eventindex.New()
		s.evix.ix.Store(ix)
	}
	if first := info.State.FirstSeq; first > 1 {
		ix.Trim(first)
		ix.Skip(first - 1)
	}
	// The delivery table's file holds what its merges wrote: when it
	// lacks deliveries the index has, feed again from its last.
	from := ix.Last() + 1
	if d := s.evix.deliveries.Last(); d < ix.LastDelivery() {
		from = d + 1
	}
	if err := s.follow(events, from, info.State.LastSeq, &s.evix.eventsCaught, func(m jetstream.Msg, seq uint64, t time.Time) {
		d := docOf(m.Subject(), m.Data())
		ix.Add(seq, t, d)
		if d.Delivery != "" {
			if err := s.evix.deliveries.Insert(seqindex.Hash(d.Delivery), seq, t); err != nil {
				s.log.Warn("store: delivery index", "seq", seq, "err", err)
			}
		}
	}); err != nil {
		return err
	}
	ainfo, err := attempts.Info(s.ctx)
	if err != nil {
		return fmt.Errorf("store: event index: %w", err)
	}
	if err := s.follow(attempts, ix.AttemptsLast()+1, ainfo.State.LastSeq, &s.evix.attemptsCaught, func(m jetstream.Msg, seq uint64, _ time.Time) {
		h := m.Headers()
		outcome := h.Get(OutcomeHeader)
		if outcome == "" {
			var a struct {
				Outcome string `json:"outcome"`
			}
			_ = jsonx.Unmarshal(m.Data(), &a)
			outcome = a.Outcome
		}
		ev, _ := strconv.ParseUint(h.Get(EventSeqHeader), 10, 64)
		if ev == 0 {
			ev = s.eventSeqOf(s.ctx, h.Get(EventIDHeader))
		}
		ix.AddOutcome(seq, ev, outcome)
	}); err != nil {
		return err
	}
	s.evix.started.Store(true)
	s.wg.Add(1)
	go s.eventIndexLoop(events)
	return nil
}

// follow consumes st from sequence from on, whole messages, in order,
// until the store closes; caught is set once it has passed until (at
// once when the stream holds nothing from from on).
func (s *Store) follow(st jetstream.Stream, from, until uint64, caught *atomic.Bool, f func(m jetstream.Msg, seq uint64, t time.Time)) error {
	if until < from {
		caught.Store(true)
	}
	cons, err := st.OrderedConsumer(s.ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   from,
	})
	if err != nil {
		return fmt.Errorf("store: event index feed: %w", err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		md, err := m.Metadata()
		if err != nil {
			return
		}
		f(m, md.Sequence.Stream, md.Timestamp)
		if md.Sequence.Stream >= until {
			caught.Store(true)
		}
	}, append(livePull(), jetstream.PullMaxMessages(512))...)
	if err != nil {
		return fmt.Errorf("store: event index feed: %w", err)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		<-s.done
		cc.Stop()
	}()
	return nil
}

// eventIndexLoop trims the index to the stream's first sequence and saves
// it, every eventIndexEvery, until the store closes.
func (s *Store) eventIndexLoop(events jetstream.Stream) {
	defer s.wg.Done()
	t := time.NewTicker(eventIndexEvery)
	defer t.Stop()
	lastErr := ""
	var saved time.Time // zero: save at the first tick
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		ix := s.evix.ix.Load()
		ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
		info, err := events.Info(ctx)
		cancel()
		if err == nil {
			ix.Trim(info.State.FirstSeq)
		}
		if time.Since(saved) < eventIndexSaveEvery {
			continue
		}
		_, err = ix.Save(s.evix.path)
		if err == nil {
			saved = time.Now()
		}
		switch {
		case err != nil && err.Error() != lastErr:
			s.log.Warn("store: event index save failed, retrying", "err", err)
			lastErr = err.Error()
		case err == nil && lastErr != "":
			s.log.Info("store: event index saves again")
			lastErr = ""
		}
	}
}

// eventSeqOf returns the EVENTS sequence of the event with id id, or 0
// when the id index does not know it. One candidate is taken as it is; of
// several, the one whose message carries the id.
func (s *Store) eventSeqOf(ctx context.Context, id string) uint64 {
	if id == "" {
		return 0
	}
	seqs, err := s.ids.Lookup(seqindex.Hash(id), time.Now())
	if err != nil || len(seqs) == 0 {
		return 0
	}
	if len(seqs) == 1 {
		return seqs[0]
	}
	h, err := s.handles()
	if err != nil {
		return 0
	}
	if m, found, err := s.find(ctx, h, s.ids, id, EventIDHeader); err == nil && found {
		return m.Sequence
	}
	return 0
}

// docFields is the part of a stored record the event index reads.
type docFields struct {
	Endpoint string `json:"endpoint"`
	Forge    string `json:"forge"`
	Delivery string `json:"forgedelivery"`
	Data     struct {
		Normalized struct {
			Kind       string `json:"kind"`
			Action     string `json:"action"`
			Ref        string `json:"ref"`
			Branch     string `json:"branch"`
			Repository struct {
				FullName string `json:"full_name"`
			} `json:"repository"`
			Actor struct {
				Login string `json:"login"`
				Name  string `json:"name"`
			} `json:"actor"`
		} `json:"normalized"`
	} `json:"data"`
}

// docOf returns the indexed fields of a record stored under subject, and
// its delivery id (Doc.Delivery). Endpoint, forge and kind come from the subject when the
// record lacks them (a record that is not JSON is indexed by its subject).
func docOf(subject string, data []byte) eventindex.Doc {
	var f docFields
	_ = jsonx.Unmarshal(data, &f)
	n := f.Data.Normalized
	d := eventindex.Doc{
		Endpoint: f.Endpoint, Forge: f.Forge, Kind: n.Kind, Action: n.Action,
		Repository: n.Repository.FullName, Ref: n.Ref, Branch: n.Branch, Actor: n.Actor.Login, Delivery: f.Delivery,
	}
	if d.Actor == "" {
		d.Actor = n.Actor.Name
	}
	if toks := strings.Split(subject, "."); len(toks) == 5 {
		if d.Endpoint == "" {
			d.Endpoint = toks[2]
		}
		if d.Forge == "" {
			d.Forge = toks[3]
		}
		if d.Kind == "" {
			d.Kind = toks[4]
		}
	}
	return d
}

// terms returns f's conditions on indexed fields.
func (f Filter) terms() []eventindex.Term {
	var ts []eventindex.Term
	for _, t := range []eventindex.Term{
		{Field: eventindex.FieldEndpoint, Value: f.Endpoint}, {Field: eventindex.FieldForge, Value: f.Forge},
		{Field: eventindex.FieldKind, Value: f.Kind}, {Field: eventindex.FieldAction, Value: f.Action},
		{Field: eventindex.FieldRepository, Value: f.Repository}, {Field: eventindex.FieldRef, Value: f.Ref},
		{Field: eventindex.FieldBranch, Value: f.Branch}, {Field: eventindex.FieldActor, Value: f.Actor},
	} {
		if t.Value != "" {
			ts = append(ts, t)
		}
	}
	return ts
}

// CheckFilter returns an error naming what is wrong with f's values (an
// unknown outcome, an until not after since), for a 400.
func CheckFilter(f Filter) error {
	if f.Outcome != "" && !validOutcome(f.Outcome) {
		return fmt.Errorf("outcome must be one of %s", strings.Join(eventindex.Outcomes(), ", "))
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return errors.New("until must be after since")
	}
	return nil
}

func validOutcome(o string) bool {
	for _, v := range eventindex.Outcomes() {
		if v == o {
			return true
		}
	}
	return false
}

// matches reports whether a stored record meets f's field, delivery and
// time conditions (f.Match aside): the check of every candidate the index
// answers, and the filter of a scan.
func (f Filter) matches(subject string, data []byte, stored time.Time) bool {
	if !f.Since.IsZero() && stored.Before(f.Since) {
		return false
	}
	if !f.Until.IsZero() && !stored.Before(f.Until) {
		return false
	}
	ts := f.terms()
	if len(ts) == 0 && f.Delivery == "" {
		return true
	}
	d := docOf(subject, data)
	if f.Delivery != "" && d.Delivery != f.Delivery {
		return false
	}
	vals := d.Terms()
	for _, t := range ts {
		for i, name := range eventindex.Fields() {
			if name == t.Field && vals[i] != eventindex.Norm(t.Field, t.Value) {
				return false
			}
		}
	}
	return true
}

// needsRecord reports whether the scan path must read records (not only
// subjects) to apply f.
func (f Filter) needsRecord() bool {
	return f.Action != "" || f.Repository != "" || f.Ref != "" || f.Branch != "" || f.Actor != "" ||
		f.Delivery != "" || !f.Since.IsZero() || !f.Until.IsZero()
}

// listIndexed is List through the event index. ok is false when the index
// is too far behind the stream (being rebuilt): the caller scans instead.
// The events newer than the index are read one by one and checked; then
// the index's candidates, each checked against its record (a delivery
// id's candidates are hash matches; the time bounds are by the second).
// A page ends full, at its byte budget, or at the true end: the last
// record of a full page is followed by a look for one more match, so that
// a cursor always leads to at least one more event.
func (s *Store) listIndexed(ctx context.Context, h handles, f Filter, first, last uint64) (out []Record, next uint64, ok bool, err error) {
	ix := s.evix.ix.Load()
	if f.Outcome != "" && !validOutcome(f.Outcome) {
		return nil, 0, true, CheckFilter(f)
	}
	ixLast := ix.Last()
	hi := last
	if f.Before != 0 && f.Before-1 < hi {
		hi = f.Before - 1
	}
	if hi > ixLast && hi-ixLast > maxTailScan {
		return nil, 0, false, nil
	}
	size, scanned := 0, 0
	// take adds a checked record; it reports false when the page is
	// complete (next set), or its scan budget is spent.
	full := false
	take := func(m *jetstream.RawStreamMsg) bool {
		r := Record{Seq: m.Sequence, Subject: m.Subject, Stored: m.Time, Data: m.Data, Object: m.Header.Get(ObjectHeader)}
		if f.Match != nil {
			scanned++
			if !f.Match(r) {
				if scanned >= f.ScanLimit {
					next = m.Sequence
					return false
				}
				return true
			}
		}
		if full {
			// One more match exists: the page's cursor leads to it.
			next = out[len(out)-1].Seq
			return false
		}
		n := recordSize(r)
		if len(out) > 0 && size+n > f.MaxBytes {
			next = m.Sequence + 1
			return false
		}
		size += n
		out = append(out, r)
		full = len(out) == f.Limit
		return true
	}
	get := func(seq uint64) (*jetstream.RawStreamMsg, error) {
		m, err := h.events.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("store: get %d: %w", seq, err)
		}
		if !f.matches(m.Subject, m.Data, m.Time) || f.Outcome != "" && !s.outcomeOf(ix, m.Sequence, f) {
			return nil, nil
		}
		return m, nil
	}
	for seq := hi; seq > ixLast && seq >= first; seq-- {
		m, err := get(seq)
		if err != nil {
			return nil, 0, true, err
		}
		if m != nil && !take(m) {
			return out, next, true, nil
		}
	}
	q := eventindex.Query{Terms: f.terms(), Outcome: f.Outcome, NotMatchedBelow: f.Settled, Since: f.Since, Until: f.Until}
	if !f.Since.IsZero() {
		if q.MinSeq, err = s.firstStoredAt(ctx, h, ix, f.Since); err != nil {
			return nil, 0, true, err
		}
	}
	if !f.Until.IsZero() {
		// The events stored before Until: those before the first at or
		// after it.
		u, err := s.firstStoredAt(ctx, h, ix, f.Until)
		if err != nil {
			return nil, 0, true, err
		}
		if u <= 1 {
			return out, 0, true, nil
		}
		q.MaxSeq = u - 1
	}
	if f.Delivery != "" {
		q.OnlySet = true
		if q.Only, err = s.evix.deliveries.Lookup(seqindex.Hash(f.Delivery), time.Now()); err != nil {
			return nil, 0, true, fmt.Errorf("store: delivery index: %w", err)
		}
	}
	before := min(hi, ixLast) + 1
	batch := max(f.Limit+1, 64)
	for {
		seqs, more, err := ix.Search(q, before, batch)
		if err != nil {
			return nil, 0, true, err
		}
		for _, seq := range seqs {
			if seq < first {
				return out, 0, true, nil
			}
			m, err := get(seq)
			if err != nil {
				return nil, 0, true, err
			}
			if m != nil && !take(m) {
				return out, next, true, nil
			}
		}
		if !more || len(seqs) == 0 {
			return out, 0, true, nil
		}
		before = seqs[len(seqs)-1]
	}
}

// firstStoredAt returns the first sequence stored at or after t, by a
// binary search of the stream over the sequences the index dates to t's
// second (the index's table is by the second). A sequence whose message
// is gone counts as stored after t.
func (s *Store) firstStoredAt(ctx context.Context, h handles, ix *eventindex.Index, t time.Time) (uint64, error) {
	lo, hi := ix.SecondOf(t)
	if lo > hi {
		return lo, nil
	}
	// The answer is in [lo, hi+1].
	end := hi + 1
	for lo < end {
		mid := lo + (end-lo)/2
		m, err := h.events.GetMsg(ctx, mid)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			end = mid
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("store: get %d: %w", mid, err)
		}
		if m.Time.Before(t) {
			lo = mid + 1
		} else {
			end = mid
		}
	}
	return lo, nil
}

// outcomeOf checks an event newer than the index against f.Outcome: such
// an event was stored moments ago, has no attempt the index knows, and is
// not yet settled; only the index answers outcomes.
func (s *Store) outcomeOf(ix *eventindex.Index, seq uint64, f Filter) bool {
	if seq > ix.Last() {
		return f.Outcome == eventindex.OutcomeNotMatched && seq <= f.Settled
	}
	return true
}

// Facet is the number of events of one value.
type Facet struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// Facets is what the events stored over a window hold: the most frequent
// repositories, kinds and endpoints, and the outcomes of their attempts.
type Facets struct {
	// Window is the span counted, ending now.
	Window time.Duration `json:"window_ns"`
	// Events is how many events were stored in it.
	Events       int     `json:"events"`
	Repositories []Facet `json:"repositories"`
	Kinds        []Facet `json:"kinds"`
	Endpoints    []Facet `json:"endpoints"`
	// Outcomes counts the events that had an attempt with each outcome
	// (an event may count in several), and not_matched those without any
	// attempt among the ones settled (at or below settled).
	Outcomes []Facet `json:"outcomes"`
}

// EventFacets counts what the events stored in the window before now hold,
// from the event index: the top values of repository, kind and endpoint
// (at most top each) and the outcomes. settled is as Filter.Settled. The
// events the index does not hold yet are not counted.
func (s *Store) EventFacets(now time.Time, window time.Duration, top int, settled uint64) Facets {
	ix := s.evix.ix.Load()
	fs, outs, total := ix.Facets(now.Add(-window), []string{eventindex.FieldRepository, eventindex.FieldKind, eventindex.FieldEndpoint}, top, settled)
	conv := func(cs []eventindex.Count) []Facet {
		out := make([]Facet, 0, len(cs))
		for _, c := range cs {
			out = append(out, Facet{Value: c.Value, Count: c.Count})
		}
		return out
	}
	return Facets{
		Window: window, Events: total,
		Repositories: conv(fs[eventindex.FieldRepository]), Kinds: conv(fs[eventindex.FieldKind]),
		Endpoints: conv(fs[eventindex.FieldEndpoint]), Outcomes: conv(outs),
	}
}
