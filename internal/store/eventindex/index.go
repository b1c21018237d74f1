// Package eventindex is the store's index of events for filtered lists:
// for each term (a field and its value: endpoint, forge, kind, action,
// repository, ref, branch, actor) the ascending list of the EVENTS stream
// sequences that carry it, for each delivery outcome (delivered, failed,
// dead, superseded) the sequences of the events that had an attempt with
// it, and a coarse table from time to sequence (the first sequence of
// every second). A query intersects the lists of its terms newest first,
// leapfrogging from one list to the next, so its cost follows the
// results, not the events skipped: a rare repository among millions of
// events is as fast as a common kind.
//
// The index is fed from the stream in order (Add, AddOutcome), held in
// memory, and written to a file by Save: the whole index, as of its Last
// sequence, replacing the previous file atomically (a temporary file,
// fsync, rename), so that the file never claims a sequence whose event it
// does not hold. After a crash the store loads the file and feeds the
// events after its Last again; a file that is missing, damaged or not an
// index is rebuilt from the stream. Trim drops what retention removed.
//
// The forge's delivery id, which is unique per event, is not held here: a
// term per event would cost a dictionary entry each. The store keeps it in
// an on-disk hash table (package seqindex) and passes its candidates to a
// query (Query.Only).
//
// # Measured trade-offs
//
// Sequences are held as uvarint deltas in blocks of 128, each block
// starting with its absolute first sequence (48 bytes of header per
// block). A term that occurs in every other event costs about one byte an
// occurrence, a rare one three to four; an event carries about nine
// entries (eight terms and the list of all events). Figures from a 2-core
// machine shared with other work (go run ./bench/eventindex;
// docs/benchmarks.md, "Event index", has the whole run):
//
//   - Memory: 14 MiB of heap per million events (15 bytes an event,
//     measured by loading the file of a million), plus about 150 bytes per
//     distinct term (4229 terms there). Trim gives it back with retention.
//   - Disk: 11 bytes an event (events.eix); the store's delivery id table
//     (seqindex) another 50 to 100.
//   - Add: 2.1 µs an event (BenchmarkEventIndexAdd), no allocation;
//     decoding the record's fields costs the store 3.7 µs more.
//   - Search: a few microseconds for the index's share of a page; a page
//     of 50 is dominated by reading its 50 records from the stream.
//   - Save: the whole index, 11 MB for a million events, in a few hundred
//     milliseconds; Load: 0.36 s for a million.
package eventindex

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fields a term can name. Repository and actor are matched without
// regard to case (they are indexed lower-cased); the others exactly.
const (
	FieldEndpoint   = "endpoint"
	FieldForge      = "forge"
	FieldKind       = "kind"
	FieldAction     = "action"
	FieldRepository = "repository"
	FieldRef        = "ref"
	FieldBranch     = "branch"
	FieldActor      = "actor"
)

// Fields lists the fields of Doc that the index holds terms for, in the
// order of Doc.Terms.
func Fields() []string {
	return []string{FieldEndpoint, FieldForge, FieldKind, FieldAction, FieldRepository, FieldRef, FieldBranch, FieldActor}
}

// Outcomes of delivery attempts the index holds (store.Outcome*), and the
// derived one of events without any attempt.
const (
	OutcomeDelivered  = "delivered"
	OutcomeFailed     = "failed"
	OutcomeDead       = "dead"
	OutcomeSuperseded = "superseded"
	OutcomeNotMatched = "not_matched"
)

// Outcomes lists the outcomes a query may ask for.
func Outcomes() []string {
	return []string{OutcomeDelivered, OutcomeFailed, OutcomeDead, OutcomeSuperseded, OutcomeNotMatched}
}

func outcomeIndex(o string) int {
	switch o {
	case OutcomeDelivered:
		return 0
	case OutcomeFailed:
		return 1
	case OutcomeDead:
		return 2
	case OutcomeSuperseded:
		return 3
	}
	return -1
}

const nOutcomes = 4

// maxTerm bounds a term's value: longer values are cut (and a query's
// value cut the same way), so a hostile payload cannot make a term large.
const maxTerm = 256

// Doc is the indexed part of one event.
type Doc struct {
	Endpoint, Forge, Kind, Action, Repository, Ref, Branch, Actor string
	// Delivery is the forge's delivery id. It is not a term (see the
	// package comment): the index only remembers the last sequence that
	// had one (LastDelivery), so that the store knows from where to feed
	// its delivery table again.
	Delivery string
}

// Terms returns the doc's values in the order of Fields, normalized as
// the index holds them.
func (d Doc) Terms() [8]string {
	return [8]string{Norm(FieldEndpoint, d.Endpoint), Norm(FieldForge, d.Forge), Norm(FieldKind, d.Kind), Norm(FieldAction, d.Action),
		Norm(FieldRepository, d.Repository), Norm(FieldRef, d.Ref), Norm(FieldBranch, d.Branch), Norm(FieldActor, d.Actor)}
}

// Norm returns value as the index holds it for field: lower-cased for
// repository and actor, cut to maxTerm bytes.
func Norm(field, value string) string {
	if field == FieldRepository || field == FieldActor {
		value = strings.ToLower(value)
	}
	if len(value) > maxTerm {
		value = value[:maxTerm]
	}
	return value
}

func termKey(field, value string) string { return field + "\x00" + value }

// mark is the first sequence indexed in one second, and how many events
// were indexed before it.
type mark struct {
	unix  int64
	seq   uint64
	count uint64
}

// Index is the event index (see the package comment). Its methods are
// safe for concurrent use: adds take a write lock, queries a read lock.
type Index struct {
	mu       sync.RWMutex
	terms    map[string]*postings
	outcomes [nOutcomes]postings
	all      postings // every event added: a query without terms walks it
	tried    postings // every event with an attempt, whatever its outcome
	marks    []mark
	last     uint64 // highest event sequence added
	lastDel  uint64 // highest event sequence added with a Delivery
	attLast  uint64 // highest ATTEMPTS sequence added
	first    uint64 // sequences below it were trimmed
	count    uint64 // events added
	changed  bool   // since the last Save
}

// New returns an empty index.
func New() *Index { return &Index{terms: map[string]*postings{}} }

// Last returns the highest event sequence added: every event up to it
// that the stream held when it was fed is in the index.
func (ix *Index) Last() uint64 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.last
}

// LastDelivery returns the highest event sequence added whose Doc had a
// Delivery.
func (ix *Index) LastDelivery() uint64 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.lastDel
}

// AttemptsLast returns the highest ATTEMPTS sequence fed to AddOutcome.
func (ix *Index) AttemptsLast() uint64 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.attLast
}

// Add indexes the event at seq, stored at t. Sequences must come in
// ascending order; one at or below Last is ignored (a feed that starts
// again a little early is harmless).
func (ix *Index) Add(seq uint64, t time.Time, d Doc) {
	terms := d.Terms()
	var kb [2*maxTerm + 16]byte
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if seq <= ix.last {
		return
	}
	for i, f := range Fields() {
		if terms[i] == "" {
			continue
		}
		k := append(append(append(kb[:0], f...), 0), terms[i]...)
		p := ix.terms[string(k)] // no allocation for a lookup
		if p == nil {
			p = &postings{}
			ix.terms[string(k)] = p
		}
		p.add(seq)
	}
	ix.all.add(seq)
	if d.Delivery != "" {
		ix.lastDel = seq
	}
	if u := t.Unix(); len(ix.marks) == 0 || u > ix.marks[len(ix.marks)-1].unix {
		ix.marks = append(ix.marks, mark{unix: u, seq: seq, count: ix.count})
	}
	ix.count++
	ix.last = seq
	ix.changed = true
}

// Skip records that the stream holds nothing to index up to seq (a gap,
// or a message that is not an event), so that Last moves on.
func (ix *Index) Skip(seq uint64) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if seq > ix.last {
		ix.last = seq
		ix.changed = true
	}
}

// AddOutcome records that the event at eventSeq had an attempt with
// outcome (one of the Outcome constants but not_matched), read from the
// ATTEMPTS stream at attemptSeq. Unknown outcomes and repeats are
// ignored.
func (ix *Index) AddOutcome(attemptSeq, eventSeq uint64, outcome string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.attLast = max(ix.attLast, attemptSeq)
	ix.changed = true
	if i := outcomeIndex(outcome); i >= 0 && eventSeq >= ix.first && eventSeq > 0 {
		ix.outcomes[i].insert(eventSeq)
		ix.tried.insert(eventSeq)
	}
}

// Trim drops the sequences below first (the stream's first sequence, as
// retention or the size limit left it). Lists that hold none are dropped.
func (ix *Index) Trim(first uint64) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if first <= ix.first {
		return
	}
	ix.first = first
	ix.changed = true
	for k, p := range ix.terms {
		if p.last() < first && (len(p.extra) == 0 || p.extra[len(p.extra)-1] < first) {
			delete(ix.terms, k)
			continue
		}
		if len(p.blocks) > 0 && p.blocks[0].last < first {
			p.trim(first)
		}
	}
	for i := range ix.outcomes {
		ix.outcomes[i].trim(first)
	}
	ix.all.trim(first)
	ix.tried.trim(first)
	// Keep the last mark below first: it still dates the events above it.
	i := sort.Search(len(ix.marks), func(i int) bool { return ix.marks[i].seq >= first })
	if i > 1 {
		ix.marks = slices.Clone(ix.marks[i-1:])
	}
}

// First returns the lowest sequence the index may hold (Trim's).
func (ix *Index) First() uint64 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.first
}

// Stats is the size of the index.
type Stats struct {
	// Events is how many events were added (trimmed ones included).
	Events uint64
	// Terms is the number of distinct terms held.
	Terms int
	// Bytes is the memory the postings, the dictionary and the time
	// table hold, estimated from their sizes.
	Bytes int
}

// Stats returns the index's size.
func (ix *Index) Stats() Stats {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	st := Stats{Events: ix.count, Terms: len(ix.terms)}
	for k, p := range ix.terms {
		st.Bytes += len(k) + 16 + 8 + 48 + p.bytes() // key, map slot, pointer, struct
	}
	for i := range ix.outcomes {
		st.Bytes += ix.outcomes[i].bytes()
	}
	st.Bytes += ix.all.bytes() + ix.tried.bytes() + cap(ix.marks)*24
	return st
}

// seqFrom returns the first sequence stored at or after t (by the second),
// or last+1 when every event is older.
func (ix *Index) seqFrom(t time.Time) uint64 {
	u := t.Unix()
	i := sort.Search(len(ix.marks), func(i int) bool { return ix.marks[i].unix >= u })
	if i == len(ix.marks) {
		return ix.last + 1
	}
	return ix.marks[i].seq
}

// seqUntil returns the last sequence stored in t's second or before it
// (0 when none).
func (ix *Index) seqUntil(t time.Time) uint64 {
	u := t.Unix()
	i := sort.Search(len(ix.marks), func(i int) bool { return ix.marks[i].unix > u })
	if i == len(ix.marks) {
		return ix.last
	}
	return ix.marks[i].seq - 1
}

// SecondOf returns the range of sequences indexed in t's second, from
// and to inclusive (from > to when none were).
func (ix *Index) SecondOf(t time.Time) (from, to uint64) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	from = ix.seqFrom(t)
	to = ix.seqUntil(t)
	return from, to
}

// Term is one condition of a query: field equals value.
type Term struct {
	Field, Value string
}

// Query selects events. Empty parts match everything.
type Query struct {
	// Terms must all hold.
	Terms []Term
	// Outcome is one of Outcomes: the events that had an attempt with it,
	// or for not_matched the events without any attempt at or below
	// NotMatchedBelow (the sequence every trigger has processed).
	Outcome         string
	NotMatchedBelow uint64
	// Since and Until bound the time the events were stored, by the
	// second: the answer may hold events of the bounds' own seconds that
	// are just outside, which the caller checks against the stored time.
	Since, Until time.Time
	// MinSeq and MaxSeq, when not 0, bound the sequences answered
	// (inclusive): the exact bounds of a time range, found by the caller
	// within SecondOf's range.
	MinSeq, MaxSeq uint64
	// Only, when not nil, restricts the answer to these sequences (the
	// candidates of a delivery id), in any order.
	Only []uint64
	// OnlySet reports that Only is set (an empty Only matches nothing).
	OnlySet bool
}

// ErrUnknownOutcome is returned for a Query.Outcome not in Outcomes.
type ErrUnknownOutcome string

func (e ErrUnknownOutcome) Error() string { return "unknown outcome " + strconv.Quote(string(e)) }

// Search returns up to limit sequences that match q, below before (0: from
// the newest), newest first, and whether more may follow: when more is
// false the answer is the true end. It reads only what the index holds
// (up to Last); the caller covers what is newer.
func (ix *Index) Search(q Query, before uint64, limit int) (seqs []uint64, more bool, err error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	hi := ix.last
	if before != 0 && before-1 < hi {
		hi = before - 1
	}
	lo := max2(ix.first, 1)
	if !q.Since.IsZero() {
		lo = max2(lo, ix.seqFrom(q.Since))
	}
	if !q.Until.IsZero() {
		hi = min(hi, ix.seqUntil(q.Until))
	}
	if q.MinSeq != 0 {
		lo = max2(lo, q.MinSeq)
	}
	if q.MaxSeq != 0 {
		hi = min(hi, q.MaxSeq)
	}
	var its []*iter
	for _, t := range q.Terms {
		its = append(its, newIter(ix.terms[termKey(t.Field, Norm(t.Field, t.Value))]))
	}
	if q.OnlySet {
		only := slices.Clone(q.Only)
		slices.Sort(only)
		p := &postings{}
		for _, s := range slices.Compact(only) {
			p.add(s)
		}
		its = append(its, newIter(p))
	}
	var exclude []*iter
	switch q.Outcome {
	case "":
	case OutcomeNotMatched:
		hi = min(hi, q.NotMatchedBelow)
		exclude = append(exclude, newIter(&ix.tried))
	default:
		i := outcomeIndex(q.Outcome)
		if i < 0 {
			return nil, false, ErrUnknownOutcome(q.Outcome)
		}
		its = append(its, newIter(&ix.outcomes[i]))
	}
	if len(its) == 0 {
		its = append(its, newIter(&ix.all))
	}
	x := hi
	for x >= lo && x > 0 {
		y, ok := intersectLE(its, x)
		if !ok || y < lo {
			return seqs, false, nil
		}
		if excluded(exclude, y) {
			x = y - 1
			continue
		}
		if len(seqs) == limit {
			return seqs, true, nil
		}
		seqs = append(seqs, y)
		x = y - 1
	}
	return seqs, false, nil
}

func max2(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

// intersectLE returns the largest sequence <= x that every iterator holds
// (x itself when there are none: every sequence matches).
func intersectLE(its []*iter, x uint64) (uint64, bool) {
	for {
		agreed := true
		for _, it := range its {
			y, ok := it.seekLE(x)
			if !ok {
				return 0, false
			}
			if y < x {
				x, agreed = y, false
			}
		}
		if agreed {
			return x, true
		}
	}
}

func excluded(its []*iter, y uint64) bool {
	for _, it := range its {
		if v, ok := it.seekLE(y); ok && v == y {
			return true
		}
	}
	return false
}

// Count is one term's or outcome's number of events.
type Count struct {
	Value string
	Count int
}

// Facets counts, over the events stored since since, the events of each
// value of each field in fields (the top values, at most top, most first, ties by
// value), the events of each outcome (not_matched: those without any
// attempt at or below notMatchedBelow), and all events.
func (ix *Index) Facets(since time.Time, fields []string, top int, notMatchedBelow uint64) (map[string][]Count, []Count, int) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	lo := max2(max2(ix.first, 1), ix.seqFrom(since))
	total := 0
	if i := sort.Search(len(ix.marks), func(i int) bool { return ix.marks[i].seq >= lo }); i < len(ix.marks) {
		total = int(ix.count - ix.marks[i].count)
	}
	out := map[string][]Count{}
	want := map[string]bool{}
	for _, f := range fields {
		want[f] = true
		out[f] = []Count{}
	}
	if total > 0 {
		for k, p := range ix.terms {
			f, v, _ := strings.Cut(k, "\x00")
			if !want[f] || p.last() < lo {
				continue
			}
			if n := p.countFrom(lo); n > 0 {
				out[f] = append(out[f], Count{Value: v, Count: n})
			}
		}
	}
	for f, cs := range out {
		slices.SortFunc(cs, func(a, b Count) int {
			if a.Count != b.Count {
				return b.Count - a.Count
			}
			return strings.Compare(a.Value, b.Value)
		})
		if len(cs) > top {
			out[f] = cs[:top]
		}
	}
	var outs []Count
	for i, o := range Outcomes()[:nOutcomes] {
		outs = append(outs, Count{Value: o, Count: ix.outcomes[i].countFrom(lo)})
	}
	// not_matched: the events from lo to notMatchedBelow without any
	// attempt.
	nm := 0
	if hi := min(ix.last, notMatchedBelow); total > 0 && hi >= lo {
		nm = max(ix.all.countRange(lo, hi)-ix.tried.countRange(lo, hi), 0)
	}
	outs = append(outs, Count{Value: OutcomeNotMatched, Count: nm})
	return out, outs, total
}
