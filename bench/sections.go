package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"syscall"
	"time"
)

// hookPath is the endpoint every request goes to, on both servers.
const hookPath = "/hooks/gh"

// fhConfig is what differs between the forgehook configurations.
type fhConfig struct {
	syncAlways  bool
	triggerURL  string // an http trigger to this URL, if not empty
	triggerConc int
}

// startForgehook writes a configuration in dir (loopback listeners, a fresh
// data directory, one github endpoint with a secret) and starts forgehook
// serve with it.
func (b *bench) startForgehook(ctx context.Context, dir string, c fhConfig) (*server, error) {
	ingest, err := freeAddr()
	if err != nil {
		return nil, err
	}
	admin, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf("listen: %s\nadmin:\n  listen: %s\ndata_dir: %s\n", ingest, admin, filepath.Join(dir, "data"))
	if c.syncAlways {
		cfg += "store:\n  sync: always\n"
	}
	cfg += fmt.Sprintf("endpoints:\n  - name: gh\n    provider: github\n    secrets: [%q]\n", benchSecret)
	if c.triggerURL != "" {
		cfg += fmt.Sprintf("triggers:\n  - name: sink\n    http:\n      url: %q\n", c.triggerURL)
		if c.triggerConc > 0 { // else the default
			cfg += fmt.Sprintf("    concurrency: %d\n", c.triggerConc)
		}
	}
	path := filepath.Join(dir, "forgehook.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	spec := serverSpec{
		name:       "forgehook",
		argv:       []string{b.bin, "serve", "--config", path, "--log-format", "text", "--log-level", b.opts.LogLevel},
		addr:       ingest,
		readyURL:   "http://" + ingest + "/readyz",
		metricsURL: "http://" + admin + "/metrics",
		logPath:    filepath.Join(dir, "forgehook.log"),
		env:        append([]string(nil), b.opts.Env...),
	}
	if b.opts.PprofDir != "" {
		if spec.pprofAddr, err = freeAddr(); err != nil {
			return nil, err
		}
		spec.env = append(spec.env, pprofEnv+"="+spec.pprofAddr)
	}
	return startServer(ctx, spec)
}

// startBare starts the baseline server.
func (b *bench) startBare(ctx context.Context, dir string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	return startServer(ctx, serverSpec{
		name:       "bare",
		argv:       []string{b.bare, "-listen", addr},
		addr:       addr,
		readyURL:   "http://" + addr + "/metrics",
		metricsURL: "http://" + addr + "/metrics",
		logPath:    filepath.Join(dir, "bare.log"),
	})
}

// runStats is what one run measured, for one server.
type runStats struct {
	RPS            float64
	P50, P99, P999 time.Duration
	PeakRSS        int64         // bytes
	CPUPerReq      time.Duration // the server's CPU per answered request
	AllocsPerReq   float64       // NaN when the server exposes no counter
	ClientCPU      time.Duration // the load generator's CPU per request
	OK, Failed     uint64
	Dups           uint64
	Elapsed        time.Duration
}

// measure runs one closed-loop run against srv and meters the process.
func (b *bench) measure(ctx context.Context, srv *server, pl *payload, conc int, d time.Duration, progress *atomic.Uint64) (runStats, error) {
	b.runCount++
	m := srv.startMeter(ctx)
	c0 := selfCPU()
	res, err := runLoad(ctx, loadSpec{
		Addr: srv.addr, Path: hookPath, Payload: pl, Conc: conc, Duration: d,
		Nonce: b.nonce, Run: b.runCount, Progress: progress,
	})
	c1 := selfCPU()
	u := m.stop(ctx)
	if err != nil {
		return runStats{}, fmt.Errorf("%s: %w", srv.name, err)
	}
	if err := srv.alive(); err != nil {
		return runStats{}, err
	}
	if res.OK == 0 {
		return runStats{}, fmt.Errorf("%s answered no request with 200 (first error: %v); its log ends with:\n%s", srv.name, res.FirstErr, srv.logTail())
	}
	st := runStats{
		RPS: res.RPS(), P50: res.Hist.Quantile(0.50), P99: res.Hist.Quantile(0.99), P999: res.Hist.Quantile(0.999),
		PeakRSS:      u.PeakRSS,
		CPUPerReq:    u.CPU / time.Duration(res.OK),
		AllocsPerReq: math.NaN(),
		ClientCPU:    (c1 - c0) / time.Duration(res.OK),
		OK:           res.OK, Failed: res.Failed, Dups: res.Dups, Elapsed: res.Elapsed,
	}
	if u.HaveMallocs {
		st.AllocsPerReq = float64(u.Mallocs) / float64(res.OK)
	}
	if res.Failed > 0 {
		b.progress("%s c=%d: %d failed requests, the first: %v", srv.name, conc, res.Failed, res.FirstErr)
	}
	return st, nil
}

// selfCPU returns the benchmark process's own CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// warm sends load to srv for the warm-up time and checks it answers.
func (b *bench) warm(ctx context.Context, srv *server, pl *payload) error {
	b.progress("warming up %s", srv.name)
	_, err := b.measure(ctx, srv, pl, 16, b.opts.Warmup, nil)
	return err
}

func (b *bench) pause(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-time.After(b.opts.Pause):
	}
}

// sectionDir makes the section's directory.
func (b *bench) sectionDir(name string) (string, error) {
	dir := filepath.Join(b.work, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return dir, nil
}

// dropData removes a section's data directory once its servers stopped,
// unless -keep: a full run stores gigabytes.
func (b *bench) dropData(dir string) {
	if !b.opts.Keep {
		os.RemoveAll(filepath.Join(dir, "data"))
	}
}

// level is the results at one concurrency: one entry per round.
type level struct {
	Conc int
	Bare []runStats
	FH   []runStats
}

// compareResult is an ingest, sync or large section.
type compareResult struct {
	Name        string
	PayloadSize int
	SyncAlways  bool
	// FsyncRates are the disk's serial write+fsync rates of 4 KiB records
	// per second, one per round (sync only).
	FsyncRates []float64
	// FsyncRatesRecord are the same with records of RecordSize bytes, the
	// size of a stored event (the payload and about 2.5 KiB of envelope,
	// headers and normalized fields).
	FsyncRatesRecord []float64
	RecordSize       int
	FsyncTime        time.Duration // of each measurement
	Levels           []level
	DataBytes        int64 // forgehook's data directory at the end
}

// compare runs the baseline and forgehook in interleaved rounds at every
// concurrency.
func (b *bench) compare(ctx context.Context, name string, c fhConfig, size int, concs []int) (*compareResult, error) {
	dir, err := b.sectionDir(name)
	if err != nil {
		return nil, err
	}
	pl, err := makePayload(b.fixture, size)
	if err != nil {
		return nil, err
	}
	res := &compareResult{Name: name, PayloadSize: size, SyncAlways: c.syncAlways, RecordSize: size + 2560, FsyncTime: b.opts.FsyncTime}
	bare, err := b.startBare(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer bare.stop()
	fh, err := b.startForgehook(ctx, dir, c)
	if err != nil {
		return nil, err
	}
	defer func() {
		fh.stop()
		res.DataBytes = dirSize(filepath.Join(dir, "data"))
		b.dropData(dir)
	}()
	for _, s := range []*server{bare, fh} {
		if err := b.warm(ctx, s, pl); err != nil {
			return nil, err
		}
	}
	for _, cc := range concs {
		res.Levels = append(res.Levels, level{Conc: cc})
	}
	for r := range b.opts.Rounds {
		if c.syncAlways {
			// The disk's rate varies: measure it in every round, while
			// both servers are idle.
			if err := b.measureFsync(ctx, dir, res); err != nil {
				return nil, err
			}
		}
		for i, cc := range concs {
			order := []*server{bare, fh}
			if r%2 == 1 {
				order = []*server{fh, bare}
			}
			for _, s := range order {
				st, err := b.measure(ctx, s, pl, cc, b.opts.Duration, nil)
				if err != nil {
					return nil, err
				}
				b.progress("%s round %d/%d c=%d %s: %.0f req/s p99 %s", name, r+1, b.opts.Rounds, cc, s.name, st.RPS, fmtDur(st.P99))
				if s == bare {
					res.Levels[i].Bare = append(res.Levels[i].Bare, st)
				} else {
					res.Levels[i].FH = append(res.Levels[i].FH, st)
				}
				b.pause(ctx)
			}
		}
	}
	if err := b.profile(ctx, name, fh, pl, slices.Max(concs)); err != nil {
		return nil, err
	}
	return res, nil
}

// measureFsync adds one measurement of the disk's serial fsync rate with
// 4 KiB records and one with records of res.RecordSize, in an order that
// alternates from one round to the next.
func (b *bench) measureFsync(ctx context.Context, dir string, res *compareResult) error {
	sizes := []int{4096, res.RecordSize}
	if len(res.FsyncRates)%2 == 1 {
		sizes[0], sizes[1] = sizes[1], sizes[0]
	}
	rates := map[int]float64{}
	for _, size := range sizes {
		r, err := fsyncRate(ctx, dir, size, b.opts.FsyncTime)
		if err != nil {
			return fmt.Errorf("fsync rate: %w", err)
		}
		rates[size] = r
	}
	r4, rr := rates[4096], rates[res.RecordSize]
	res.FsyncRates = append(res.FsyncRates, r4)
	res.FsyncRatesRecord = append(res.FsyncRatesRecord, rr)
	b.progress("%s: disk: %.0f fsyncs/s of 4 KiB, %.0f/s of %d bytes", res.Name, r4, rr, res.RecordSize)
	return nil
}

// e2eRun is one end-to-end run of forgehook.
type e2eRun struct {
	Ingest runStats
	// Delivered counts the run's events the receiver got.
	Delivered uint64
	// Rate is Delivered over the time from the run's start to the last
	// delivery: the pipeline's throughput.
	Rate float64
	// Backlog is how many accepted events were not yet delivered when the
	// load stopped; Drain how long they took after it.
	Backlog uint64
	Drain   time.Duration
	// Drained is false when the receiver did not get every event in time.
	Drained        bool
	P50, P99, P999 time.Duration // ingest to delivery
	// Conns counts the connections the receiver accepted in the run.
	Conns uint64
}

// e2eLevel is the end-to-end results at one concurrency.
type e2eLevel struct {
	Conc int
	Bare []runStats
	FH   []e2eRun
}

// e2eResult is the e2e section.
type e2eResult struct {
	PayloadSize int
	TriggerConc int
	Levels      []e2eLevel
}

// e2e runs forgehook with an http trigger of concurrency triggerConc (0:
// the default) to a receiver in this process, against the baseline's
// ingest.
func (b *bench) e2e(ctx context.Context, triggerConc int) (*e2eResult, error) {
	dir, err := b.sectionDir(secE2E)
	if err != nil {
		return nil, err
	}
	pl, err := makePayload(b.fixture, b.opts.Size)
	if err != nil {
		return nil, err
	}
	sk, err := startSink()
	if err != nil {
		return nil, err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = sk.close(sctx)
	}()
	bare, err := b.startBare(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer bare.stop()
	fh, err := b.startForgehook(ctx, dir, fhConfig{triggerURL: sk.URL(), triggerConc: triggerConc})
	if err != nil {
		return nil, err
	}
	defer func() {
		fh.stop()
		b.dropData(dir)
	}()
	res := &e2eResult{PayloadSize: b.opts.Size, TriggerConc: triggerConc}
	if err := b.warm(ctx, bare, pl); err != nil {
		return nil, err
	}
	d0 := sk.snapshot().Delivered
	b.progress("warming up forgehook and its trigger")
	w, err := b.measure(ctx, fh, pl, 16, b.opts.Warmup, nil)
	if err != nil {
		return nil, err
	}
	if !b.waitDelivered(ctx, sk, d0+w.OK) {
		return nil, fmt.Errorf("the trigger delivered %d of %d warm-up events; forgehook's log ends with:\n%s", sk.snapshot().Delivered-d0, w.OK, fh.logTail())
	}
	for _, cc := range b.opts.E2EConc {
		res.Levels = append(res.Levels, e2eLevel{Conc: cc})
	}
	for r := range b.opts.Rounds {
		for i, cc := range b.opts.E2EConc {
			st, err := b.measure(ctx, bare, pl, cc, b.opts.Duration, nil)
			if err != nil {
				return nil, err
			}
			res.Levels[i].Bare = append(res.Levels[i].Bare, st)
			b.pause(ctx)
			run, err := b.e2eRound(ctx, fh, sk, pl, cc)
			if err != nil {
				return nil, err
			}
			res.Levels[i].FH = append(res.Levels[i].FH, run)
			b.progress("e2e trigger concurrency %s, round %d/%d c=%d: bare %.0f req/s, forgehook %.0f req/s, delivered %.0f/s, delivery p99 %s", fTriggerConc(triggerConc), r+1, b.opts.Rounds, cc, st.RPS, run.Ingest.RPS, run.Rate, fmtDur(run.P99))
			b.pause(ctx)
		}
	}
	if err := b.profile(ctx, secE2E, fh, pl, slices.Max(b.opts.E2EConc)); err != nil {
		return nil, err
	}
	return res, nil
}

func (b *bench) e2eRound(ctx context.Context, fh *server, sk *sink, pl *payload, conc int) (e2eRun, error) {
	sk.takeHist() // drop latencies of earlier events that arrived late
	s0 := sk.snapshot()
	start := time.Now()
	st, err := b.measure(ctx, fh, pl, conc, b.opts.Duration, nil)
	if err != nil {
		return e2eRun{}, err
	}
	loadEnd := time.Now()
	s1 := sk.snapshot()
	run := e2eRun{Ingest: st}
	if got := s1.Delivered - s0.Delivered; got < st.OK {
		run.Backlog = st.OK - got
	}
	run.Drained = b.waitDelivered(ctx, sk, s0.Delivered+st.OK)
	s2 := sk.snapshot()
	run.Delivered = s2.Delivered - s0.Delivered
	run.Conns = s2.Conns - s0.Conns
	if s2.Last.After(loadEnd) {
		run.Drain = s2.Last.Sub(loadEnd)
	}
	if s2.Last.After(start) {
		run.Rate = float64(run.Delivered) / s2.Last.Sub(start).Seconds()
	}
	h := sk.takeHist()
	run.P50, run.P99, run.P999 = h.Quantile(0.50), h.Quantile(0.99), h.Quantile(0.999)
	if s2.Bad > s0.Bad {
		return run, fmt.Errorf("the receiver got %d deliveries without a CloudEvent time", s2.Bad-s0.Bad)
	}
	return run, nil
}

// waitDelivered waits until the receiver has counted want deliveries, for
// at most twice the run duration plus 10 s.
func (b *bench) waitDelivered(ctx context.Context, sk *sink, want uint64) bool {
	deadline := time.Now().Add(2*b.opts.Duration + 10*time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if sk.snapshot().Delivered >= want {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return sk.snapshot().Delivered >= want
}

// sample is one point of the sustained run.
type sample struct {
	At  time.Duration // since the start
	RPS float64       // in the interval that ends at At
	RSS int64         // bytes, VmRSS at At
}

// sustainedResult is the sustained section.
type sustainedResult struct {
	Conc        int
	Duration    time.Duration
	Bare, FH    runStats
	BareSamples []sample
	FHSamples   []sample
	DataBytes   int64 // forgehook's data directory at the end
	IndexBytes  int64 // of which the dedup and id indexes
}

// sustained runs the baseline, then forgehook, for the sustained duration
// each, sampling throughput and RSS.
func (b *bench) sustained(ctx context.Context) (*sustainedResult, error) {
	dir, err := b.sectionDir(secSustained)
	if err != nil {
		return nil, err
	}
	pl, err := makePayload(b.fixture, b.opts.Size)
	if err != nil {
		return nil, err
	}
	bare, err := b.startBare(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer bare.stop()
	fh, err := b.startForgehook(ctx, dir, fhConfig{})
	if err != nil {
		return nil, err
	}
	res := &sustainedResult{Conc: b.opts.SustainConc, Duration: b.opts.Sustained}
	defer func() {
		res.DataBytes = dirSize(filepath.Join(dir, "data"))
		res.IndexBytes = dirSize(filepath.Join(dir, "data", "index"))
		fh.stop()
		b.dropData(dir)
	}()
	for _, s := range []*server{bare, fh} {
		if err := b.warm(ctx, s, pl); err != nil {
			return nil, err
		}
	}
	b.progress("sustained: bare for %s at c=%d", b.opts.Sustained, res.Conc)
	if res.Bare, res.BareSamples, err = b.measureSampled(ctx, bare, pl); err != nil {
		return nil, err
	}
	b.pause(ctx)
	b.progress("sustained: forgehook for %s at c=%d", b.opts.Sustained, res.Conc)
	if res.FH, res.FHSamples, err = b.measureSampled(ctx, fh, pl); err != nil {
		return nil, err
	}
	if err := b.heapProfile(ctx, secSustained, fh); err != nil {
		return nil, err
	}
	return res, nil
}

// measureSampled is measure over the sustained duration, with the answer
// rate and the RSS sampled every sampling interval.
func (b *bench) measureSampled(ctx context.Context, srv *server, pl *payload) (runStats, []sample, error) {
	var progress atomic.Uint64
	var samples []sample
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		start := time.Now()
		t := time.NewTicker(b.opts.Sample)
		defer t.Stop()
		var last uint64
		lastAt := start
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case now := <-t.C:
				n := progress.Load()
				rss, _, _ := procMem(srv.pid())
				samples = append(samples, sample{At: now.Sub(start).Round(10 * time.Millisecond), RPS: float64(n-last) / now.Sub(lastAt).Seconds(), RSS: rss << 10})
				last, lastAt = n, now
				b.progress("sustained %s t=%s: %.0f req/s, RSS %.1f MiB", srv.name, now.Sub(start).Round(time.Second), samples[len(samples)-1].RPS, float64(rss)/1024)
			}
		}
	}()
	st, err := b.measure(ctx, srv, pl, b.opts.SustainConc, b.opts.Sustained, &progress)
	close(done)
	<-stopped
	return st, samples, err
}
