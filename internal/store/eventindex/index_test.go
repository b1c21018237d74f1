package eventindex

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// model is the brute-force answer a query must equal.
type model struct {
	seqs     []uint64
	docs     map[uint64]Doc
	times    map[uint64]time.Time
	outcomes map[uint64]map[string]bool
}

func (m *model) match(seq uint64, q Query) bool {
	d := m.docs[seq]
	terms := d.Terms()
	for _, t := range q.Terms {
		i := slices.Index(Fields(), t.Field)
		if terms[i] != Norm(t.Field, t.Value) {
			return false
		}
	}
	if q.OnlySet && !slices.Contains(q.Only, seq) {
		return false
	}
	ts := m.times[seq].Unix()
	if !q.Since.IsZero() && ts < q.Since.Unix() {
		return false
	}
	if !q.Until.IsZero() && ts > q.Until.Unix() {
		return false
	}
	switch q.Outcome {
	case "":
	case OutcomeNotMatched:
		return seq <= q.NotMatchedBelow && len(m.outcomes[seq]) == 0
	default:
		return m.outcomes[seq][q.Outcome]
	}
	return true
}

func fill(t testing.TB, n int, r *rand.Rand) (*Index, *model) {
	t.Helper()
	ix := New()
	m := &model{docs: map[uint64]Doc{}, times: map[uint64]time.Time{}, outcomes: map[uint64]map[string]bool{}}
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	seq := uint64(0)
	att := uint64(0)
	for i := range n {
		seq += 1 + uint64(r.IntN(3)) // gaps: messages that are not events
		d := Doc{
			Endpoint: []string{"gh", "gl"}[r.IntN(2)], Forge: []string{"github", "gitlab"}[r.IntN(2)],
			Kind: []string{"push", "push", "pull_request", "tag"}[r.IntN(4)], Action: []string{"", "opened"}[r.IntN(2)],
			Repository: []string{"Acme/App", "acme/lib", "o/r"}[r.IntN(3)], Ref: "refs/heads/main", Branch: "main",
			Actor: []string{"ann", "Bob"}[r.IntN(2)],
		}
		if i%997 == 0 {
			d.Repository = "rare/one"
		}
		at := t0.Add(time.Duration(i) * 300 * time.Millisecond)
		ix.Add(seq, at, d)
		m.seqs = append(m.seqs, seq)
		m.docs[seq], m.times[seq] = d, at
		if r.IntN(3) == 0 {
			// An attempt, sometimes for an older event (out of order).
			ev := m.seqs[max(0, len(m.seqs)-1-r.IntN(40))]
			o := Outcomes()[r.IntN(nOutcomes)]
			att++
			ix.AddOutcome(att, ev, o)
			if m.outcomes[ev] == nil {
				m.outcomes[ev] = map[string]bool{}
			}
			m.outcomes[ev][o] = true
		}
	}
	return ix, m
}

func queries(m *model) []Query {
	t0 := m.times[m.seqs[0]]
	mid := m.seqs[len(m.seqs)/2]
	return []Query{
		{},
		{Terms: []Term{{FieldRepository, "RARE/one"}}},
		{Terms: []Term{{FieldKind, "push"}}},
		{Terms: []Term{{FieldKind, "push"}, {FieldRepository, "acme/app"}, {FieldActor, "bob"}}},
		{Terms: []Term{{FieldKind, "nothing"}}},
		{Terms: []Term{{FieldEndpoint, "gl"}}, Since: t0.Add(100 * time.Second), Until: t0.Add(200 * time.Second)},
		{Outcome: OutcomeDead},
		{Outcome: OutcomeFailed, Terms: []Term{{FieldForge, "gitlab"}}},
		{Outcome: OutcomeNotMatched, NotMatchedBelow: mid},
		{OnlySet: true, Only: []uint64{m.seqs[5], m.seqs[50], 999999}},
		{OnlySet: true},
	}
}

// TestStoreEventIndexMatchesModel: every query, paged, answers exactly the
// events a scan would, newest first, each page full but the last.
func TestStoreEventIndexMatchesModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ix, m := fill(t, 20000, r)
	check := func(ix *Index) {
		for qi, q := range queries(m) {
			var want []uint64
			for i := len(m.seqs) - 1; i >= 0; i-- {
				if m.match(m.seqs[i], q) {
					want = append(want, m.seqs[i])
				}
			}
			var got []uint64
			before := uint64(0)
			for page := 0; ; page++ {
				seqs, more, err := ix.Search(q, before, 50)
				if err != nil {
					t.Fatal(err)
				}
				if more && len(seqs) != 50 {
					t.Fatalf("query %d page %d: %d results and more: a short page with a cursor", qi, page, len(seqs))
				}
				got = append(got, seqs...)
				if !more {
					break
				}
				before = seqs[len(seqs)-1]
			}
			if !slices.Equal(got, want) {
				t.Fatalf("query %d (%+v): %d results, want %d (first %v want %v)", qi, q, len(got), len(want), head(got), head(want))
			}
		}
	}
	check(ix)

	path := filepath.Join(t.TempDir(), "events.eix")
	if changed, err := ix.Save(path); err != nil || !changed {
		t.Fatalf("save: %v %v", changed, err)
	}
	ix2, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if ix2.Last() != ix.Last() || ix2.AttemptsLast() != ix.AttemptsLast() {
		t.Fatalf("loaded last %d/%d, want %d/%d", ix2.Last(), ix2.AttemptsLast(), ix.Last(), ix.AttemptsLast())
	}
	check(ix2)
}

func head(s []uint64) []uint64 { return s[:min(len(s), 5)] }

// TestStoreEventIndexTrim: after Trim nothing below first is answered,
// and lists that held only trimmed events are gone.
func TestStoreEventIndexTrim(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ix, m := fill(t, 5000, r)
	before := ix.Stats()
	first := m.seqs[4000]
	ix.Trim(first)
	seqs, more, _ := ix.Search(Query{}, 0, 100000)
	if more || len(seqs) != 1000 || seqs[len(seqs)-1] != first {
		t.Fatalf("after trim: %d results (more %v), last %d, want 1000 ending at %d", len(seqs), more, seqs[len(seqs)-1], first)
	}
	if got, _, _ := ix.Search(Query{Outcome: OutcomeDead}, 0, 100000); len(got) > 0 && got[len(got)-1] < first {
		t.Fatalf("an outcome below first survived the trim: %d", got[len(got)-1])
	}
	if after := ix.Stats(); after.Bytes >= before.Bytes {
		t.Fatalf("trim freed nothing: %d bytes, before %d", after.Bytes, before.Bytes)
	}
}

// TestStoreEventIndexDamagedFile: a cut, flipped or foreign file is
// ErrDamaged, never a wrong index.
func TestStoreEventIndexDamagedFile(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	ix, _ := fill(t, 3000, r)
	dir := t.TempDir()
	path := filepath.Join(dir, "events.eix")
	if _, err := ix.Save(path); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	for name, b := range map[string][]byte{
		"cut":     raw[:len(raw)/2],
		"flipped": flip(raw, len(raw)/3),
		"foreign": []byte("not an index at all"),
		"empty":   nil,
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o600)
		if _, err := Load(p); !errors.Is(err, ErrDamaged) {
			t.Errorf("%s: %v, want ErrDamaged", name, err)
		}
	}
	if _, err := Load(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v, want ErrNotExist", err)
	}
}

func flip(b []byte, i int) []byte {
	c := slices.Clone(b)
	c[i] ^= 0x40
	return c
}

// TestStoreEventIndexFacets: counts per value over a window equal a count
// of the model's events in it.
func TestStoreEventIndexFacets(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	ix, m := fill(t, 4000, r)
	since := m.times[m.seqs[3000]]
	facets, outs, total := ix.Facets(since, []string{FieldKind, FieldRepository}, 10, ix.Last())
	want := map[string]int{}
	wantTotal := 0
	wantOut := map[string]int{}
	for _, s := range m.seqs {
		if m.times[s].Unix() < since.Unix() {
			continue
		}
		wantTotal++
		want[m.docs[s].Kind]++
		for o := range m.outcomes[s] {
			wantOut[o]++
		}
		if len(m.outcomes[s]) == 0 {
			wantOut[OutcomeNotMatched]++
		}
	}
	if total != wantTotal {
		t.Fatalf("total %d, want %d", total, wantTotal)
	}
	for _, c := range facets[FieldKind] {
		if want[c.Value] != c.Count {
			t.Errorf("kind %s: %d, want %d", c.Value, c.Count, want[c.Value])
		}
	}
	for _, c := range outs {
		if wantOut[c.Value] != c.Count {
			t.Errorf("outcome %s: %d, want %d", c.Value, c.Count, wantOut[c.Value])
		}
	}
	if len(facets[FieldRepository]) == 0 || strings.ToLower(facets[FieldRepository][0].Value) != facets[FieldRepository][0].Value {
		t.Errorf("repositories: %v", facets[FieldRepository])
	}
}
