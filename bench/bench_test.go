package main

import (
	"context"
	"io"
	"math"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/github"
)

// TestBenchSmoke runs every section of the benchmark for a moment and
// checks that it measures something: no timing is asserted.
func TestBenchSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs forgehook: not in -short")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the benchmark reads /proc")
	}
	o := quickOptions()
	o.Duration = 300 * time.Millisecond
	o.Sustained = time.Second
	o.Sample = 250 * time.Millisecond
	o.FsyncTime = 200 * time.Millisecond
	o.Warmup = 100 * time.Millisecond
	o.Progress = testWriter{t}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	rep, err := run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	checkRun := func(what string, r runStats) {
		t.Helper()
		if r.OK == 0 || r.RPS <= 0 || r.P50 <= 0 || r.P99 < r.P50 || r.P999 < r.P99 || r.PeakRSS <= 0 {
			t.Errorf("%s: implausible run %+v", what, r)
		}
		if r.Failed != 0 || r.Dups != 0 {
			t.Errorf("%s: %d failed, %d duplicates", what, r.Failed, r.Dups)
		}
	}
	for _, c := range []*compareResult{rep.Ingest, rep.Sync, rep.Large} {
		if c == nil || len(c.Levels) != len(o.Conc) {
			t.Fatalf("section missing or incomplete: %+v", c)
		}
		for _, l := range c.Levels {
			if len(l.Bare) != o.Rounds || len(l.FH) != o.Rounds {
				t.Fatalf("%s c=%d: %d bare and %d forgehook runs", c.Name, l.Conc, len(l.Bare), len(l.FH))
			}
			checkRun(c.Name+" bare", l.Bare[0])
			checkRun(c.Name+" forgehook", l.FH[0])
			if math.IsNaN(l.Bare[0].AllocsPerReq) || l.Bare[0].AllocsPerReq <= 0 {
				t.Errorf("%s: the baseline's allocations were not read", c.Name)
			}
		}
	}
	if len(rep.Sync.FsyncRates) != o.Rounds || rep.Sync.FsyncRates[0] <= 0 || rep.Sync.FsyncRatesRecord[0] <= 0 {
		t.Errorf("fsync rates %v, %v", rep.Sync.FsyncRates, rep.Sync.FsyncRatesRecord)
	}
	if len(rep.E2E) == 0 || len(rep.E2E[0].Levels) == 0 || len(rep.E2E[0].Levels[0].FH) == 0 {
		t.Fatalf("e2e section missing: %+v", rep.E2E)
	}
	e := rep.E2E[0].Levels[0].FH[0]
	checkRun("e2e forgehook", e.Ingest)
	if e.Delivered == 0 || e.Rate <= 0 || e.P50 <= 0 {
		t.Errorf("e2e: nothing delivered: %+v", e)
	}
	s := rep.Sustained
	if s == nil || len(s.FHSamples) == 0 || s.FHSamples[0].RSS <= 0 {
		t.Fatalf("sustained section missing or without samples: %+v", s)
	}
	checkRun("sustained forgehook", s.FH)
	md := rep.Markdown()
	for _, want := range []string{"| 16 | forgehook |", "**forgehook ÷ bare**", "fsync rate", "delivered/s", "### Targets", "not measured"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	t.Logf("\n%s", md)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func TestBenchPayloadSizeAndSignature(t *testing.T) {
	root, err := moduleRoot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	fx, err := loadPushFixture(root)
	if err != nil {
		t.Fatal(err)
	}
	p, err := github.New(&config.Endpoint{Name: "gh", Provider: "github"})
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{8 << 10, 8<<10 + 1, 30 << 10, 30<<10 + 1, len(fx) + 700} {
		pl, err := makePayload(fx, size)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if len(pl.Body) != size {
			t.Fatalf("size %d: got %d bytes", size, len(pl.Body))
		}
		h := http.Header{}
		h.Set("X-GitHub-Event", "push")
		h.Set("X-GitHub-Delivery", "00000000-0000-0000-0000-000000000001")
		h.Set("X-Hub-Signature-256", pl.Signature)
		req := &forge.Request{Header: h, Body: pl.Body, Payload: pl.Body, Received: time.Now()}
		if err := p.Verify(req, []config.Secret{benchSecret}); err != nil {
			t.Fatalf("size %d: Verify: %v", size, err)
		}
		m, err := p.Inspect(h)
		if err != nil {
			t.Fatal(err)
		}
		f, err := p.Normalize(m, pl.Body)
		if err != nil || f.Kind != "push" || len(f.Commits) == 0 {
			t.Fatalf("size %d: Normalize = %+v, %v", size, f, err)
		}
	}
	if _, err := makePayload(fx, 100); err == nil {
		t.Error("a payload smaller than the smallest push was built")
	}
}

func TestBenchHistQuantiles(t *testing.T) {
	var h hist
	if h.Quantile(0.5) != 0 {
		t.Fatal("empty histogram")
	}
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Microsecond}, {0.99, 990 * time.Microsecond}, {0.999, 999 * time.Microsecond}, {1, 1000 * time.Microsecond}} {
		got := h.Quantile(c.q)
		if d := math.Abs(float64(got-c.want)) / float64(c.want); d > 0.01 {
			t.Errorf("Quantile(%v) = %v, want %v within 1%%", c.q, got, c.want)
		}
	}
	var o hist
	o.Record(time.Hour)
	h.Merge(&o)
	if h.Count() != 1001 || h.Quantile(1) != time.Hour {
		t.Errorf("after Merge: count %d, max %v", h.Count(), h.Quantile(1))
	}
	for _, v := range []uint64{0, 1, 255, 256, 257, 1 << 20, 1<<63 + 12345, math.MaxUint64} {
		i := histIndex(v)
		if i < 0 || i >= histBuckets {
			t.Fatalf("histIndex(%d) = %d out of range", v, i)
		}
		if got := histValue(i); v > 0 && math.Abs(float64(got)-float64(v))/float64(v) > 0.008 {
			t.Errorf("histValue(histIndex(%d)) = %d: more than 0.8%% off", v, got)
		}
	}
}

func TestBenchParseMallocs(t *testing.T) {
	for _, c := range []struct {
		text string
		want uint64
		ok   bool
	}{
		{"# HELP x\ngo_memstats_mallocs_total 1.234567e+06\n", 1234567, true},
		{"go_gc_heap_allocs_objects_total 42\n", 42, true},
		{"go_gc_heap_allocs_objects_total 42\ngo_memstats_mallocs_total 7\n", 7, true},
		{"forgehook_ingest_total{status=\"200\"} 5\n", 0, false},
		{"", 0, false},
	} {
		got, ok := parseMallocs(strings.NewReader(c.text))
		if got != c.want || ok != c.ok {
			t.Errorf("parseMallocs(%q) = %d, %v; want %d, %v", c.text, got, ok, c.want, c.ok)
		}
	}
}

func TestBenchFlags(t *testing.T) {
	o, err := parseFlags([]string{"-quick", "-sections", "ingest,e2e", "-conc", "2,4", "-duration", "1s", "-trigger-concurrency", "0,64"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Sections) != 2 || o.Duration != time.Second || o.Rounds != 1 || len(o.Conc) != 2 || o.Conc[1] != 4 || !slices.Equal(o.TriggerConc, []int{0, 64}) {
		t.Errorf("options %+v", o)
	}
	for _, bad := range [][]string{{"-sections", "nope"}, {"-conc", "0"}, {"-trigger-concurrency", "0,x"}, {"-duration", "-1s"}, {"extra"}} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("parseFlags(%q) accepted", bad)
		}
	}
	if d := defaultOptions(); d.budget() < 10*time.Minute || d.Duration != 5*time.Second || d.Rounds != 3 || d.Sustained != time.Minute {
		t.Errorf("defaults %+v, budget %s", d, d.budget())
	}
}
