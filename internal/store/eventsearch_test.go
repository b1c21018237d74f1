package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// searchEvent is an encoded event with the fields the event index reads.
func searchEvent(id, endpoint, kind, action, repo, branch, actor, delivery string) []byte {
	return fmt.Appendf(nil, `{"specversion":"1.0","id":%q,"source":"x","type":"dev.forgehook.%s","time":"2026-12-07T10:00:00Z",`+
		`"forge":"github","forgeevent":%q,"forgeaction":%q,"endpoint":%q,"forgedelivery":%q,"data":{"header":{},`+
		`"body":{"padding":%q},"normalized":{"kind":%q,"action":%q,"forge":"github","repository":{"full_name":%q},`+
		`"ref":"refs/heads/%s","branch":%q,"actor":{"login":%q}}}}`,
		id, kind, kind, action, endpoint, delivery, strings.Repeat("p", 300), kind, action, repo, branch, branch, actor)
}

// stored is what the test remembers of one appended event.
type stored struct {
	seq                                                      uint64
	id, endpoint, kind, action, repo, branch, actor, deliver string
	outcome                                                  string
	at                                                       time.Time
}

// TestStoreEventIndexFindsEveryMatchInOrder fills a store with 20 000
// events (4000 under the race detector), and checks that filtered lists (alone and combined: a rare
// repository, a common kind, a delivery id, an actor, a time range, an
// outcome) find every matching event newest first, each page full but the
// last and never an empty page with a cursor; then again after a restart
// that reloads the index's file, and after a restart with the index
// files deleted, which rebuilds them from the stream.
func TestStoreEventIndexFindsEveryMatchInOrder(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	dir := t.TempDir()
	s := openEmbedded(t, dir)
	n := 20000
	if raceEnabled {
		n = 4000 // the race detector slows the embedded server tenfold
	}
	var evs []stored
	repos := []string{"acme/app", "acme/lib", "Acme/Web", "other/tool"}
	kinds := []string{"push", "push", "push", "pull_request", "tag", "issue"}
	t0 := time.Now()
	for i := range n {
		e := stored{
			id: fmt.Sprintf("ev-%05d", i), endpoint: []string{"gh", "gl"}[i%2], kind: kinds[i%len(kinds)],
			action: []string{"", "opened"}[i%3%2], repo: repos[i%len(repos)], branch: []string{"main", "dev"}[i%5%2],
			actor: []string{"ann", "bob", "cy"}[i%3], deliver: fmt.Sprintf("d-%05d", i),
		}
		if i%(n/5+1) == 17 {
			e.repo = "rare/one"
		}
		data := searchEvent(e.id, e.endpoint, e.kind, e.action, e.repo, e.branch, e.actor, e.deliver)
		res, err := s.Append(ctx, e.endpoint, Subject(e.endpoint, "github", e.kind), e.id, e.deliver, data)
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		e.seq = res.Seq
		if i%10 == 3 {
			e.outcome = []string{OutcomeDelivered, OutcomeFailed, OutcomeDead}[i%3]
			if err := s.RecordAttempt(ctx, Attempt{Trigger: "t", EventID: e.id, Attempt: 1, Time: time.Now(), Outcome: e.outcome}); err != nil {
				t.Fatal(err)
			}
		}
		evs = append(evs, e)
	}
	t.Logf("appended %d events in %s", n, time.Since(t0).Round(time.Millisecond))
	waitIndexed(t, s, evs[len(evs)-1].seq)

	// The stored times, for the time range: read back through the list.
	all := listAll(t, ctx, s, Filter{})
	if len(all) != n {
		t.Fatalf("an unfiltered list found %d events, want %d", len(all), n)
	}
	at := map[uint64]time.Time{}
	for _, r := range all {
		at[r.Seq] = r.Stored
	}
	for i := range evs {
		evs[i].at = at[evs[i].seq]
	}
	since, until := evs[n/4].at, evs[n/4+n/20].at

	cases := []struct {
		name string
		f    Filter
		want func(e stored) bool
	}{
		{"rare repository", Filter{Repository: "RARE/one"}, func(e stored) bool { return e.repo == "rare/one" }},
		{"common kind", Filter{Kind: "push"}, func(e stored) bool { return e.kind == "push" }},
		{"delivery id", Filter{Delivery: evs[n/3].deliver}, func(e stored) bool { return e.deliver == evs[n/3].deliver }},
		{"combined", Filter{Kind: "tag", Repository: "acme/web", Actor: "Bob", Branch: "main", Endpoint: "gh"}, func(e stored) bool {
			return e.kind == "tag" && strings.EqualFold(e.repo, "acme/web") && e.actor == "bob" && e.branch == "main" && e.endpoint == "gh"
		}},
		{"time range", Filter{Since: since, Until: until, Action: "opened"}, func(e stored) bool {
			return !e.at.Before(since) && e.at.Before(until) && e.action == "opened"
		}},
		{"outcome dead", Filter{Outcome: OutcomeDead, Kind: "issue"}, func(e stored) bool { return e.outcome == OutcomeDead && e.kind == "issue" }},
		{"outcome failed", Filter{Outcome: OutcomeFailed}, func(e stored) bool { return e.outcome == OutcomeFailed }},
		{"not matched", Filter{Outcome: "not_matched", Settled: evs[100].seq, Repository: "acme/app"}, func(e stored) bool {
			return e.outcome == "" && e.seq <= evs[100].seq && e.repo == "acme/app"
		}},
		{"nothing", Filter{Repository: "no/such"}, func(stored) bool { return false }},
	}
	check := func(stage string) {
		t.Helper()
		for _, c := range cases {
			var want []uint64
			for i := len(evs) - 1; i >= 0; i-- {
				if c.want(evs[i]) {
					want = append(want, evs[i].seq)
				}
			}
			t0 := time.Now()
			got := listAll(t, ctx, s, c.f)
			var seqs []uint64
			for _, r := range got {
				seqs = append(seqs, r.Seq)
			}
			if len(want) == 0 && c.name != "nothing" {
				t.Fatalf("%s: the test's data holds no match", c.name)
			}
			if !slices.Equal(seqs, want) {
				t.Fatalf("%s: %s: found %d events, want %d (first %v, want %v)", stage, c.name, len(seqs), len(want), seqs[:min(5, len(seqs))], want[:min(5, len(want))])
			}
			t.Logf("%s: %s: %d events in %s", stage, c.name, len(seqs), time.Since(t0).Round(time.Microsecond))
		}
	}
	check("indexed")

	// A restart loads the saved index.
	s.Close()
	s = openEmbedded(t, dir)
	waitIndexed(t, s, evs[len(evs)-1].seq)
	check("reloaded")

	// A restart with the index files deleted rebuilds them from the stream.
	s.Close()
	for _, f := range []string{eventIndexFile, deliveryIndexFile} {
		if err := os.Remove(filepath.Join(dir, "index", f)); err != nil {
			t.Fatal(err)
		}
	}
	s = openEmbedded(t, dir)
	defer s.Close()
	waitIndexed(t, s, evs[len(evs)-1].seq)
	check("rebuilt")
}

func waitIndexed(t *testing.T, s *Store, last uint64) {
	t.Helper()
	checkFor(t, 60*time.Second, 20*time.Millisecond, func() error {
		if !s.EventIndexCaughtUp() || s.evix.ix.Load().Last() < last {
			return fmt.Errorf("event index at %d, want %d", s.evix.ix.Load().Last(), last)
		}
		return nil
	})
}

// listAll pages through List with f, checking that every page but the
// last is full and that a cursor never comes with an empty page.
func listAll(t *testing.T, ctx context.Context, s *Store, f Filter) []Record {
	t.Helper()
	var out []Record
	f.Limit = 50
	for page := 0; page < 10000; page++ {
		recs, next, err := s.List(ctx, f)
		if err != nil {
			t.Fatalf("list %+v: %v", f, err)
		}
		if next != 0 && len(recs) < f.Limit {
			t.Fatalf("list %+v: page %d holds %d events and a cursor: pages must be full or the end", f, page, len(recs))
		}
		out = append(out, recs...)
		if next == 0 {
			return out
		}
		f.Before = next
	}
	t.Fatal("too many pages")
	return nil
}

// BenchmarkStoreEventIndexDoc is the decoding share of feeding one event
// to the index: the indexed fields of a record with a 300-byte body.
func BenchmarkStoreEventIndexDoc(b *testing.B) {
	data := searchEvent("ev-1", "gh", "push", "", "acme/app", "main", "ann", "d-1")
	subj := Subject("gh", "github", "push")
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if d := docOf(subj, data); d.Repository != "acme/app" {
			b.Fatal(d)
		}
	}
}
