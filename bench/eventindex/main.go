// Command eventindex measures the store's event index at the size of a
// week of traffic: it fills a store (in process, through store.Append and
// store.RecordAttempt) with n events of a realistic mix (a few endpoints,
// thousands of repositories and actors with a skewed popularity, one
// rare repository, a delivery id each, one attempt for one event in ten),
// then reports the p50 and p99 of filtered first pages and deep pages
// (rare repository, common kind, delivery id, time range, combined,
// outcome), the index's memory (the heap that loading its file costs)
// and disk, how long loading it takes, and how long rebuilding it from
// the stream takes. Usage:
//
//	go run ./bench/eventindex -n 1000000 -dir /var/tmp/evix
//
// docs/benchmarks.md, "Event index", has a run's figures.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/forgehook/forgehook/internal/store"
	"github.com/forgehook/forgehook/internal/store/eventindex"
)

type options struct {
	n, conc, runs, body int
	dir                 string
	keep, reuse         bool
}

func main() {
	var o options
	flag.IntVar(&o.n, "n", 1_000_000, "events to store")
	flag.IntVar(&o.conc, "conc", 32, "concurrent appends")
	flag.IntVar(&o.runs, "runs", 200, "runs of each query")
	flag.IntVar(&o.body, "body", 1500, "bytes of padding in each event's body")
	flag.StringVar(&o.dir, "dir", "", "data directory (default: a new temporary one, removed at the end)")
	flag.BoolVar(&o.keep, "keep", false, "keep the data directory")
	flag.BoolVar(&o.reuse, "reuse", false, "query the store in -dir as a previous -keep run left it, without filling it")
	flag.Parse()
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "eventindex:", err)
		os.Exit(1)
	}
}

// corpus draws the events' fields.
type corpus struct {
	repos, actors, branches []string
	endpoints               []string
	kinds                   []string
}

func newCorpus() *corpus {
	c := &corpus{endpoints: []string{"acme-github", "acme-gitlab", "ops-gitea", "oss-github", "registry"}}
	for i := range 3000 {
		c.repos = append(c.repos, fmt.Sprintf("org%d/repo-%d", i%40, i))
	}
	for i := range 800 {
		c.actors = append(c.actors, fmt.Sprintf("user%d", i))
	}
	c.branches = []string{"main", "develop", "release"}
	for i := range 200 {
		c.branches = append(c.branches, fmt.Sprintf("feature/f-%d", i))
	}
	// push 50%, pull_request 25%, pipeline 12%, issue 5%, comment 4%, tag 2%, release 1%, registry 1%
	for k, w := range map[string]int{"push": 50, "pull_request": 25, "pipeline": 12, "issue": 5, "comment": 4, "tag": 2, "release": 1, "registry": 1} {
		for range w {
			c.kinds = append(c.kinds, k)
		}
	}
	slices.Sort(c.kinds)
	return c
}

// zipf picks from xs with a skewed popularity (the first ones most often).
func zipf(r *rand.Rand, xs []string) string {
	f := r.Float64()
	return xs[int(f*f*f*float64(len(xs)))]
}

type ev struct {
	id, endpoint, forge, kind, action, repo, branch, actor, delivery string
}

func (c *corpus) draw(r *rand.Rand, i int) ev {
	e := ev{
		id: fmt.Sprintf("0193a5e2-%04x-7000-8000-%012x", i>>32&0xffff, i), endpoint: zipf(r, c.endpoints),
		kind: c.kinds[r.IntN(len(c.kinds))], repo: zipf(r, c.repos), branch: zipf(r, c.branches), actor: zipf(r, c.actors),
		delivery: fmt.Sprintf("%08x-%04x-11ef-8000-%012x", r.Uint32(), r.Uint32()&0xffff, i),
	}
	e.forge = map[string]string{"acme-github": "github", "oss-github": "github", "acme-gitlab": "gitlab", "ops-gitea": "gitea", "registry": "harbor"}[e.endpoint]
	if e.kind == "pull_request" || e.kind == "issue" {
		e.action = []string{"opened", "updated", "closed", "merged", "edited"}[r.IntN(5)]
	}
	return e
}

func (e ev) encode(pad string) []byte {
	return fmt.Appendf(nil, `{"specversion":"1.0","id":%q,"source":"https://example.com/%s","type":"dev.forgehook.%s","subject":"refs/heads/%s",`+
		`"time":%q,"datacontenttype":"application/json","forge":%q,"forgeevent":%q,"forgeaction":%q,"endpoint":%q,"forgedelivery":%q,`+
		`"data":{"header":{"User-Agent":["GitHub-Hookshot/abc"]},"body":{"ref":"refs/heads/%s","padding":%q},"normalized":{"kind":%q,"action":%q,`+
		`"forge":%q,"repository":{"full_name":%q,"name":"x","owner":"y","url":"","clone_url":"","default_branch":"main"},"ref":"refs/heads/%s",`+
		`"branch":%q,"actor":{"login":%q,"name":"","email":""}}}}`,
		e.id, e.repo, e.kind, e.branch, time.Now().UTC().Format(time.RFC3339Nano), e.forge, e.kind, e.action, e.endpoint, e.delivery,
		e.branch, pad, e.kind, e.action, e.forge, e.repo, e.branch, e.branch, e.actor)
}

func heap() uint64 {
	for range 3 {
		runtime.GC()
	}
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func size(path string) int64 {
	var n int64
	_ = filepath.Walk(path, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

func open(ctx context.Context, dir string) (*store.Store, error) {
	return store.Open(ctx, store.Options{DataDir: dir, MaxBytes: 40 << 30})
}

func waitCaughtUp(s *store.Store, d time.Duration) error {
	deadline := time.Now().Add(d)
	for !s.EventIndexCaughtUp() {
		if time.Now().After(deadline) {
			return fmt.Errorf("event index not caught up after %s", d)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

func run(ctx context.Context, o options) error {
	dir := o.dir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "evix-bench"); err != nil {
			return err
		}
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	}
	s, err := open(ctx, dir)
	if err != nil {
		return err
	}
	if o.reuse {
		return reuse(ctx, s, o)
	}
	c := newCorpus()
	pad := strings.Repeat("x", o.body)
	var deliveries []string
	var dmu sync.Mutex
	var next atomic.Int64
	var attempts atomic.Int64
	var rare []int
	for i := range 3 {
		rare = append(rare, o.n/7*(2*i+1))
	}
	t0 := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, o.conc)
	for w := range o.conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for {
				i := int(next.Add(1)) - 1
				if i >= o.n {
					return
				}
				e := c.draw(r, i)
				if slices.Contains(rare, i) {
					e.repo = "rare/one"
				}
				data := e.encode(pad)
				if _, err := s.Append(ctx, e.endpoint, store.Subject(e.endpoint, e.forge, e.kind), e.id, e.delivery, data); err != nil {
					errs <- fmt.Errorf("append %d: %w", i, err)
					return
				}
				if i%10 == 0 {
					out := []string{store.OutcomeDelivered, store.OutcomeDelivered, store.OutcomeDelivered, store.OutcomeFailed, store.OutcomeDead}[r.IntN(5)]
					if err := s.RecordAttempt(ctx, store.Attempt{Trigger: "deploy", EventID: e.id, Attempt: 1, Time: time.Now(), Outcome: out}); err != nil {
						errs <- err
						return
					}
					attempts.Add(1)
				}
				if i%997 == 0 {
					dmu.Lock()
					deliveries = append(deliveries, e.delivery)
					dmu.Unlock()
				}
				if i > 0 && i%200000 == 0 {
					fmt.Fprintf(os.Stderr, "%d events in %s\n", i, time.Since(t0).Round(time.Second))
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	fill := time.Since(t0)
	if err := waitCaughtUp(s, 10*time.Minute); err != nil {
		return err
	}
	for s.EventIndexStats().Events < uint64(o.n) {
		time.Sleep(50 * time.Millisecond)
	}
	lag := time.Since(t0) - fill
	st := s.EventIndexStats()
	fmt.Printf("filled %d events (%d attempts) of %d bytes of body in %s (%.0f events/s); index caught up %s later\n",
		o.n, attempts.Load(), o.body, fill.Round(time.Millisecond), float64(o.n)/fill.Seconds(), lag.Round(time.Millisecond))
	fmt.Printf("stream on disk: %.1f MiB (%.0f bytes/event)\n", float64(size(filepath.Join(dir, "jetstream")))/(1<<20), float64(size(filepath.Join(dir, "jetstream")))/float64(o.n))
	fmt.Printf("index: %d terms, estimated %.1f MiB in memory\n", st.Terms, float64(st.Bytes)/(1<<20))

	queries(ctx, s, o, deliveries)

	if err := s.Close(); err != nil {
		return err
	}
	eix := filepath.Join(dir, "index", "events.eix")
	del := filepath.Join(dir, "index", "delivery.idx")
	fmt.Printf("disk: events.eix %.1f MiB (%.1f bytes/event), delivery.idx %.1f MiB (%.1f bytes/event)\n",
		float64(size(eix))/(1<<20), float64(size(eix))/float64(o.n), float64(size(del))/(1<<20), float64(size(del))/float64(o.n))
	h0 := heap()
	tl := time.Now()
	ix, err := eventindex.Load(eix)
	if err != nil {
		return err
	}
	load := time.Since(tl)
	h1 := heap()
	fmt.Printf("memory: loading the index costs %.1f MiB of heap (%.1f bytes/event, %.1f MiB per million); load took %s\n",
		float64(h1-h0)/(1<<20), float64(h1-h0)/float64(o.n), float64(h1-h0)/(1<<20)*1e6/float64(o.n), load.Round(time.Millisecond))
	runtime.KeepAlive(ix)

	// Rebuild: the index files deleted, the store opened again.
	os.Remove(eix)
	os.Remove(del)
	tr := time.Now()
	s, err = open(ctx, dir)
	if err != nil {
		return err
	}
	if err := waitCaughtUp(s, 20*time.Minute); err != nil {
		return err
	}
	rb := time.Since(tr)
	fmt.Printf("rebuild from the stream: %s (%.0f events/s)\n", rb.Round(time.Millisecond), float64(o.n)/rb.Seconds())
	return s.Close()
}

// reuse queries a store filled by an earlier run: its delivery ids are
// sampled from the stream.
func reuse(ctx context.Context, s *store.Store, o options) error {
	defer s.Close()
	t0 := time.Now()
	if err := waitCaughtUp(s, 20*time.Minute); err != nil {
		return err
	}
	st := s.EventIndexStats()
	fmt.Printf("reopened: index caught up in %s; %d events, %d terms, estimated %.1f MiB in memory\n",
		time.Since(t0).Round(time.Millisecond), st.Events, st.Terms, float64(st.Bytes)/(1<<20))
	recs, _, err := s.List(ctx, store.Filter{Limit: 1})
	if err != nil || len(recs) == 0 {
		return fmt.Errorf("an empty store: %v", err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	var deliveries []string
	for range 500 {
		rec, err := s.GetSeq(ctx, 1+uint64(r.Int64N(int64(recs[0].Seq))))
		if err != nil {
			continue
		}
		var f struct {
			Delivery string `json:"forgedelivery"`
		}
		if json.Unmarshal(rec.Data, &f) == nil && f.Delivery != "" {
			deliveries = append(deliveries, f.Delivery)
		}
	}
	queries(ctx, s, o, deliveries)
	return nil
}

// queries times first pages and deep pages of each filter.
func queries(ctx context.Context, s *store.Store, o options, deliveries []string) {
	r := rand.New(rand.NewPCG(42, 42))
	// The stored times, for time ranges: read a few events at random.
	last := uint64(0)
	if recs, _, err := s.List(ctx, store.Filter{Limit: 1}); err == nil && len(recs) == 1 {
		last = recs[0].Seq
	}
	timeAt := func(seq uint64) time.Time {
		rec, err := s.GetSeq(ctx, seq)
		if err != nil {
			return time.Time{}
		}
		return rec.Stored
	}
	type qcase struct {
		name string
		f    func() store.Filter
		deep bool // start at a random cursor
	}
	cases := []qcase{
		{"rare repository (3 events)", func() store.Filter { return store.Filter{Repository: "rare/one"} }, false},
		{"common kind (push, 50%), first page", func() store.Filter { return store.Filter{Kind: "push"} }, false},
		{"common kind (push), a page deep in the log", func() store.Filter { return store.Filter{Kind: "push"} }, true},
		{"delivery id", func() store.Filter { return store.Filter{Delivery: deliveries[r.IntN(len(deliveries))]} }, false},
		{"time range (a random 1 s window)", func() store.Filter {
			t := timeAt(1 + uint64(r.Int64N(int64(last))))
			return store.Filter{Since: t, Until: t.Add(time.Second)}
		}, false},
		{"kind + repository (a popular one) + branch", func() store.Filter {
			return store.Filter{Kind: "push", Repository: "org0/repo-0", Branch: "main"}
		}, false},
		{"outcome dead", func() store.Filter { return store.Filter{Outcome: store.OutcomeDead} }, false},
		{"outcome dead, a page deep", func() store.Filter { return store.Filter{Outcome: store.OutcomeDead} }, true},
	}
	fmt.Printf("\n| query (limit 50) | p50 | p99 | max | events on the page |\n|---|---|---|---|---|\n")
	for _, c := range cases {
		var ds []time.Duration
		got := 0
		for range o.runs {
			f := c.f()
			f.Limit = 50
			if c.deep {
				f.Before = 1 + uint64(r.Int64N(int64(last)))
			}
			t0 := time.Now()
			recs, next, err := s.List(ctx, f)
			ds = append(ds, time.Since(t0))
			if err != nil {
				fmt.Fprintln(os.Stderr, c.name, err)
				return
			}
			if next != 0 && len(recs) < f.Limit {
				fmt.Fprintf(os.Stderr, "%s: a page of %d with a cursor\n", c.name, len(recs))
			}
			got += len(recs)
		}
		slices.Sort(ds)
		fmt.Printf("| %s | %s | %s | %s | %.1f |\n", c.name, ds[len(ds)/2].Round(10*time.Microsecond), ds[len(ds)*99/100].Round(10*time.Microsecond),
			ds[len(ds)-1].Round(10*time.Microsecond), float64(got)/float64(o.runs))
	}
	// The facets of the events page: the last hour's and day's counts.
	var ds []time.Duration
	for range o.runs / 4 {
		t0 := time.Now()
		for _, w := range []time.Duration{time.Hour, 24 * time.Hour} {
			s.EventFacets(time.Now(), w, 10, ^uint64(0)-1)
		}
		ds = append(ds, time.Since(t0))
	}
	slices.Sort(ds)
	fmt.Printf("| facets (hour and day, every event in the day) | %s | %s | %s | |\n\n", ds[len(ds)/2].Round(10*time.Microsecond),
		ds[len(ds)*99/100].Round(10*time.Microsecond), ds[len(ds)-1].Round(10*time.Microsecond))
}
