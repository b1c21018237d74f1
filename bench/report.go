package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// report is a whole run's results.
type report struct {
	Started   time.Time
	Elapsed   time.Duration
	Opts      options
	Machine   machine
	Ingest    *compareResult
	Sync      *compareResult
	Large     *compareResult
	E2E       []*e2eResult // one per trigger concurrency
	Sustained *sustainedResult
}

// spread is the median, minimum and maximum of one figure over rounds.
type spread struct{ Med, Min, Max float64 }

func spreadOf(xs []float64) spread {
	var v []float64
	for _, x := range xs {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return spread{math.NaN(), math.NaN(), math.NaN()}
	}
	slices.Sort(v)
	med := v[len(v)/2]
	if len(v)%2 == 0 {
		med = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return spread{med, v[0], v[len(v)-1]}
}

func over[T any](xs []T, f func(T) float64) spread {
	v := make([]float64, len(xs))
	for i, x := range xs {
		v[i] = f(x)
	}
	return spreadOf(v)
}

// summary is the medians (with min and max) of a server's runs.
type summary struct {
	RPS, P50, P99, P999, RSS, CPU, Allocs, Client spread
	Failed, Dups                                  uint64
}

func summarize(runs []runStats) summary {
	s := summary{
		RPS:    over(runs, func(r runStats) float64 { return r.RPS }),
		P50:    over(runs, func(r runStats) float64 { return float64(r.P50) }),
		P99:    over(runs, func(r runStats) float64 { return float64(r.P99) }),
		P999:   over(runs, func(r runStats) float64 { return float64(r.P999) }),
		RSS:    over(runs, func(r runStats) float64 { return float64(r.PeakRSS) }),
		CPU:    over(runs, func(r runStats) float64 { return float64(r.CPUPerReq) }),
		Allocs: over(runs, func(r runStats) float64 { return r.AllocsPerReq }),
		Client: over(runs, func(r runStats) float64 { return float64(r.ClientCPU) }),
	}
	for _, r := range runs {
		s.Failed += r.Failed
		s.Dups += r.Dups
	}
	return s
}

// Formatting. Cells show the median and, over several rounds, (min–max).

func fmtDur(d time.Duration) string {
	us := float64(d) / 1e3
	switch {
	case us < 1000:
		return fmt.Sprintf("%.0fµs", us)
	case us < 10_000:
		return fmt.Sprintf("%.2fms", us/1e3)
	case us < 100_000:
		return fmt.Sprintf("%.1fms", us/1e3)
	default:
		return fmt.Sprintf("%.0fms", us/1e3)
	}
}

func cell(s spread, f func(float64) string) string {
	if math.IsNaN(s.Med) {
		return "n/a"
	}
	if s.Min == s.Max {
		return f(s.Med)
	}
	return fmt.Sprintf("%s (%s–%s)", f(s.Med), f(s.Min), f(s.Max))
}

func fRate(x float64) string  { return fmt.Sprintf("%.0f", x) }
func fDur(x float64) string   { return fmtDur(time.Duration(x)) }
func fMiB(x float64) string   { return fmt.Sprintf("%.1f", x/(1<<20)) }
func fMicro(x float64) string { return fmt.Sprintf("%.0f", x/1e3) }
func fCount(x float64) string { return fmt.Sprintf("%.0f", x) }

func ratio(a, b float64) float64 {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return math.NaN()
	}
	return a / b
}

func fRatio(x float64) string {
	if math.IsNaN(x) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", x)
}

func fSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	default:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
}

// Markdown renders the report.
func (r *report) Markdown() string {
	var b strings.Builder
	o := r.Opts
	m := r.Machine
	fmt.Fprintf(&b, "## forgehook benchmark, %s\n\n", r.Started.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "- Machine: %s, %d cores (GOMAXPROCS %d), %s RAM, %s; the load generator, the baseline and forgehook share these cores.\n", m.CPU, m.Cores, m.GOMAXPROCS, m.MemTotal, m.Kernel)
	fmt.Fprintf(&b, "- Disk: %s.\n", m.Disk)
	fmt.Fprintf(&b, "- Build: forgehook %s, %s.\n", orDash(m.Commit), m.GoVersion)
	if len(o.Env) > 0 {
		fmt.Fprintf(&b, "- forgehook's extra environment: `%s` (an experiment, not the default).\n", strings.Join(o.Env, " "))
	}
	fmt.Fprintf(&b, "- Method: closed loop, one keep-alive connection per worker, a signed GitHub push with a unique `X-GitHub-Delivery` per request; %s per run, %d interleaved round(s) of baseline and forgehook after a %s warm-up; cells are the median (min–max) over rounds; forgehook logs at `%s` to a file. Run time %s.\n",
		o.Duration, o.Rounds, o.Warmup, o.LogLevel, r.Elapsed.Round(time.Second))
	b.WriteString("- Columns: req/s = 200 answers per second; p50/p99/p99.9 = latency of an answered request; RSS = the server's peak resident memory in the run (MiB); CPU = the server's CPU time per request (µs); allocs = heap allocations per request (from the server's `/metrics`; n/a when it has none).\n\n")
	for _, c := range []*compareResult{r.Ingest, r.Sync, r.Large} {
		if c != nil {
			c.markdown(&b)
		}
	}
	for _, e := range r.E2E {
		e.markdown(&b, r.Opts)
	}
	if r.Sustained != nil {
		r.Sustained.markdown(&b)
	}
	r.targets(&b)
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (c *compareResult) title() string {
	switch {
	case c.SyncAlways:
		return fmt.Sprintf("Ingest with `store.sync: always`, %s push", fSize(int64(c.PayloadSize)))
	case c.Name == secLarge:
		return fmt.Sprintf("Ingest of a large push (%s), default durability", fSize(int64(c.PayloadSize)))
	default:
		return fmt.Sprintf("Ingest, default durability (`store.sync: interval`), %s push", fSize(int64(c.PayloadSize)))
	}
}

func (c *compareResult) markdown(b *strings.Builder) {
	fmt.Fprintf(b, "### %s\n\n", c.title())
	b.WriteString("| c | server | req/s | p50 | p99 | p99.9 | RSS | CPU | allocs | failed |\n")
	b.WriteString("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	var client []runStats
	for _, l := range c.Levels {
		bs, fs := summarize(l.Bare), summarize(l.FH)
		for _, row := range []struct {
			name string
			s    summary
		}{{"bare", bs}, {"forgehook", fs}} {
			s := row.s
			fmt.Fprintf(b, "| %d | %s | %s | %s | %s | %s | %s | %s | %s | %d |\n", l.Conc, row.name,
				cell(s.RPS, fRate), cell(s.P50, fDur), cell(s.P99, fDur), cell(s.P999, fDur),
				cell(s.RSS, fMiB), cell(s.CPU, fMicro), cell(s.Allocs, fCount), s.Failed)
		}
		fmt.Fprintf(b, "| %d | **forgehook ÷ bare** | **%s** | %s | **%s** | %s | %s | %s | %s | |\n", l.Conc,
			fRatio(ratio(fs.RPS.Med, bs.RPS.Med)), fRatio(ratio(fs.P50.Med, bs.P50.Med)), fRatio(ratio(fs.P99.Med, bs.P99.Med)),
			fRatio(ratio(fs.P999.Med, bs.P999.Med)), fRatio(ratio(fs.RSS.Med, bs.RSS.Med)), fRatio(ratio(fs.CPU.Med, bs.CPU.Med)),
			fRatio(ratio(fs.Allocs.Med, bs.Allocs.Med)))
		client = append(client, l.Bare...)
		client = append(client, l.FH...)
	}
	b.WriteString("\n")
	if c.SyncAlways {
		f4, fr := spreadOf(c.FsyncRates), spreadOf(c.FsyncRatesRecord)
		fmt.Fprintf(b, "Disk's serial fsync rate (write + fsync in a loop for %s, in the data directory, once per round): **%s** fsyncs/s with 4 KiB records, %s with %s records (a stored event's size). forgehook at `sync: always` as a share of the medians:\n\n",
			c.FsyncTime, cell(f4, fRate), cell(fr, fRate), fSize(int64(c.RecordSize)))
		b.WriteString("| c | forgehook req/s | ÷ 4 KiB fsync rate | ÷ record-size fsync rate |\n|---:|---:|---:|---:|\n")
		for _, l := range c.Levels {
			fs := summarize(l.FH)
			fmt.Fprintf(b, "| %d | %.0f | **%s** | %s |\n", l.Conc, fs.RPS.Med, fRatio(ratio(fs.RPS.Med, f4.Med)), fRatio(ratio(fs.RPS.Med, fr.Med)))
		}
		b.WriteString("\n")
	}
	cs := summarize(client)
	if cs.Dups > 0 {
		fmt.Fprintf(b, "**Warning: %d answers said `duplicate: true`**: deduplication short-circuited those requests.\n\n", cs.Dups)
	}
	fmt.Fprintf(b, "Load generator CPU per request: %s µs (median over all runs). forgehook's data directory at the end: %s.\n\n", fMicro(cs.Client.Med), fSize(c.DataBytes))
}

func (e *e2eResult) markdown(b *strings.Builder, o options) {
	fmt.Fprintf(b, "### End to end: ingest, then an `http` trigger (concurrency %s) to a receiver, %s push\n\n", fTriggerConc(e.TriggerConc), fSize(int64(e.PayloadSize)))
	b.WriteString("| c | bare req/s | forgehook req/s | delivered/s | delivered ÷ bare | ingest p50 | ingest p99 | delivery p50 | delivery p99 | delivery p99 ÷ ingest p99 | backlog at end of load | drain | receiver connections per 1000 events |\n")
	b.WriteString("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, l := range e.Levels {
		bs := summarize(l.Bare)
		var ing []runStats
		for _, r := range l.FH {
			ing = append(ing, r.Ingest)
		}
		is := summarize(ing)
		rate := over(l.FH, func(r e2eRun) float64 { return r.Rate })
		p50 := over(l.FH, func(r e2eRun) float64 { return float64(r.P50) })
		p99 := over(l.FH, func(r e2eRun) float64 { return float64(r.P99) })
		backlog := over(l.FH, func(r e2eRun) float64 { return float64(r.Backlog) })
		drain := over(l.FH, func(r e2eRun) float64 { return float64(r.Drain) })
		conns := over(l.FH, func(r e2eRun) float64 { return 1000 * float64(r.Conns) / max(1, float64(r.Delivered)) })
		undrained := 0
		for _, r := range l.FH {
			if !r.Drained {
				undrained++
			}
		}
		note := ""
		if undrained > 0 {
			note = fmt.Sprintf(" (%d run(s) not drained)", undrained)
		}
		fmt.Fprintf(b, "| %d | %s | %s | %s | **%s** | %s | %s | %s | %s | **%s** | %s | %s%s | %s |\n", l.Conc,
			cell(bs.RPS, fRate), cell(is.RPS, fRate), cell(rate, fRate), fRatio(ratio(rate.Med, bs.RPS.Med)),
			cell(is.P50, fDur), cell(is.P99, fDur), cell(p50, fDur), cell(p99, fDur), fRatio(ratio(p99.Med, is.P99.Med)),
			cell(backlog, fCount), cell(drain, fDur), note, cell(conns, fCount))
	}
	b.WriteString("\ndelivered/s counts a run's events over the time from its first request to its last delivery; delivery latency runs from the moment forgehook received the request (the CloudEvent's `time`) to the receiver reading the delivery.\n\n")
}

func (s *sustainedResult) markdown(b *strings.Builder) {
	fmt.Fprintf(b, "### Sustained: %s at c=%d per server, default durability\n\n", s.Duration, s.Conc)
	bs, fs := summarize([]runStats{s.Bare}), summarize([]runStats{s.FH})
	b.WriteString("| server | req/s | p50 | p99 | p99.9 | peak RSS | CPU | allocs |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, row := range []struct {
		name string
		s    summary
	}{{"bare", bs}, {"forgehook", fs}} {
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", row.name, cell(row.s.RPS, fRate), cell(row.s.P50, fDur),
			cell(row.s.P99, fDur), cell(row.s.P999, fDur), cell(row.s.RSS, fMiB), cell(row.s.CPU, fMicro), cell(row.s.Allocs, fCount))
	}
	fmt.Fprintf(b, "| **forgehook ÷ bare** | **%s** | %s | %s | %s | %s | %s | %s |\n\n", fRatio(ratio(fs.RPS.Med, bs.RPS.Med)),
		fRatio(ratio(fs.P50.Med, bs.P50.Med)), fRatio(ratio(fs.P99.Med, bs.P99.Med)), fRatio(ratio(fs.P999.Med, bs.P999.Med)),
		fRatio(ratio(fs.RSS.Med, bs.RSS.Med)), fRatio(ratio(fs.CPU.Med, bs.CPU.Med)), fRatio(ratio(fs.Allocs.Med, bs.Allocs.Med)))
	b.WriteString("forgehook over time (req/s in each interval, RSS at its end):\n\n| t | req/s | RSS MiB |\n|---:|---:|---:|\n")
	for _, x := range s.FHSamples {
		fmt.Fprintf(b, "| %s | %.0f | %.1f |\n", x.At.Round(100*time.Millisecond), x.RPS, float64(x.RSS)/(1<<20))
	}
	fmt.Fprintf(b, "\nEvents stored: %d (%s of data directory, of which %s of dedup and id indexes, apparent size).\n\n", s.FH.OK, fSize(s.DataBytes), fSize(s.IndexBytes))
}

// target is one of the targets and how this run did.
type target struct {
	What   string
	Figure string
	Met    string // "met", "NOT met", or "not measured"
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**NOT met**"
}

func levelAt(c *compareResult, conc int) (bare, fh summary, ok bool) {
	if c == nil {
		return summary{}, summary{}, false
	}
	for _, l := range c.Levels {
		if l.Conc == conc {
			return summarize(l.Bare), summarize(l.FH), true
		}
	}
	return summary{}, summary{}, false
}

// Targets evaluates the targets on this run's figures.
func (r *report) Targets() []target {
	var ts []target
	na := func(what string) { ts = append(ts, target{What: what, Figure: "-", Met: "not measured"}) }

	what := "ingest, default durability, c=64: ≥ 0.6× bare req/s"
	if bs, fs, ok := levelAt(r.Ingest, 64); ok {
		x := ratio(fs.RPS.Med, bs.RPS.Med)
		ts = append(ts, target{what, fmt.Sprintf("%.2f× (%.0f vs %.0f req/s)", x, fs.RPS.Med, bs.RPS.Med), verdict(x >= 0.6)})
	} else {
		na(what)
	}
	for _, c := range []int{16, 64} {
		what := fmt.Sprintf("ingest, default durability, c=%d: p99 ≤ 1.5× bare p99", c)
		if bs, fs, ok := levelAt(r.Ingest, c); ok {
			x := ratio(fs.P99.Med, bs.P99.Med)
			ts = append(ts, target{what, fmt.Sprintf("%.2f× (%s vs %s)", x, fmtDur(time.Duration(fs.P99.Med)), fmtDur(time.Duration(bs.P99.Med))), verdict(x <= 1.5)})
		} else {
			na(what)
		}
	}
	what = "sustained at c=64: ≥ 0.45× bare req/s"
	what2 := "sustained at c=64: RSS ≤ 150 MiB"
	if s := r.Sustained; s != nil && s.Conc == 64 {
		x := ratio(s.FH.RPS, s.Bare.RPS)
		ts = append(ts, target{fmt.Sprintf("sustained %s at c=64: ≥ 0.45× bare req/s", s.Duration), fmt.Sprintf("%.2f× (%.0f vs %.0f req/s)", x, s.FH.RPS, s.Bare.RPS), verdict(x >= 0.45)})
		peak := s.FH.PeakRSS
		for _, x := range s.FHSamples {
			peak = max(peak, x.RSS)
		}
		ts = append(ts, target{what2, fmt.Sprintf("peak %.1f MiB", float64(peak)/(1<<20)), verdict(peak <= 150<<20)})
	} else {
		na(what)
		na(what2)
	}
	what = "`sync: always`: ≥ 0.75× the disk's serial fsync rate"
	if c := r.Sync; c != nil && len(c.FsyncRates) > 0 && len(c.Levels) > 0 {
		f4, fr := spreadOf(c.FsyncRates).Med, spreadOf(c.FsyncRatesRecord).Med
		best, bestC := 0.0, 0
		for _, l := range c.Levels {
			if x := summarize(l.FH).RPS.Med; x > best {
				best, bestC = x, l.Conc
			}
		}
		x := best / f4
		ts = append(ts, target{what, fmt.Sprintf("%.2f× (%.0f req/s at c=%d vs %.0f fsync/s of 4 KiB; %.2f× of the %.0f/s at the record size)",
			x, best, bestC, f4, ratio(best, fr), fr), verdict(x >= 0.75)})
	} else {
		na(what)
	}
	what = "end to end, c=64: delivered ≥ 0.4× bare req/s"
	what2 = "end to end, c=16: delivery p99 < 2× ingest p99"
	var e64, e16 *e2eLevel
	// The targets are those of the run with the highest trigger
	// concurrency (64 by default), as they were set.
	var e2e *e2eResult
	for _, e := range r.E2E {
		if e2e == nil || e.TriggerConc > e2e.TriggerConc {
			e2e = e
		}
	}
	if e2e != nil {
		for i := range e2e.Levels {
			switch e2e.Levels[i].Conc {
			case 64:
				e64 = &e2e.Levels[i]
			case 16:
				e16 = &e2e.Levels[i]
			}
		}
	}
	if e64 != nil {
		rate := over(e64.FH, func(r e2eRun) float64 { return r.Rate })
		bs := summarize(e64.Bare)
		x := ratio(rate.Med, bs.RPS.Med)
		ts = append(ts, target{what, fmt.Sprintf("%.2f× (%.0f delivered/s vs %.0f req/s)", x, rate.Med, bs.RPS.Med), verdict(x >= 0.4)})
	} else {
		na(what)
	}
	if e16 != nil {
		p99 := over(e16.FH, func(r e2eRun) float64 { return float64(r.P99) })
		var ing []runStats
		for _, r := range e16.FH {
			ing = append(ing, r.Ingest)
		}
		ip99 := summarize(ing).P99
		x := ratio(p99.Med, ip99.Med)
		ts = append(ts, target{what2, fmt.Sprintf("%.2f× (%s vs %s)", x, fmtDur(time.Duration(p99.Med)), fmtDur(time.Duration(ip99.Med))), verdict(x < 2)})
	} else {
		na(what2)
	}
	return ts
}

func (r *report) targets(b *strings.Builder) {
	b.WriteString("### Targets (issue 6)\n\n| target | this run | |\n|---|---|---|\n")
	for _, t := range r.Targets() {
		fmt.Fprintf(b, "| %s | %s | %s |\n", t.What, t.Figure, t.Met)
	}
	b.WriteString("\n")
}

// fTriggerConc names a trigger concurrency of the e2e section: 0 is the
// default (the key left out of the configuration).
func fTriggerConc(c int) string {
	if c == 0 {
		return "default"
	}
	return fmt.Sprint(c)
}
