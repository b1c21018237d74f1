// Command bench measures forgehook against a bare net/http server in the
// same run, on loopback, and prints the results as markdown tables. Every
// figure that matters is a ratio to the baseline measured minutes apart on
// the same machine, because shared machines are too noisy for absolute
// times.
//
// In one run it builds forgehook and the baseline (bench/bare), starts
// both as processes, and drives them with the same closed-loop load
// generator: a signed GitHub push with a unique X-GitHub-Delivery per
// request, one keep-alive connection per worker. Sections:
//
//   - ingest: the default durability, an 8 KiB push, concurrency 1, 16, 64;
//   - sync: the same with store.sync: always, and the disk's serial fsync
//     rate measured in the data directory;
//   - large: the default durability with a 30 KiB push;
//   - e2e: forgehook with an http trigger to a receiver in this process:
//     delivered events per second and ingest-to-delivery latency;
//   - sustained: a long run at c=64 with RSS sampled over time.
//
// Rounds alternate the baseline and forgehook and are repeated; tables give
// the median with the minimum and maximum. See docs/benchmarks.md.
//
// Usage:
//
//	go run ./bench                      # everything, about 9 minutes
//	go run ./bench -quick               # a smoke run of a few seconds per section
//	go run ./bench -sections ingest,sync -duration 10s -rounds 5 -o out.md
package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The sections, in the order they run.
const (
	secIngest    = "ingest"
	secSync      = "sync"
	secLarge     = "large"
	secE2E       = "e2e"
	secSustained = "sustained"
)

// sectionNames returns every section, in the order they run.
func sectionNames() []string {
	return []string{secIngest, secSync, secLarge, secE2E, secSustained}
}

// options are the benchmark's settings.
type options struct {
	Sections    []string
	Duration    time.Duration // per run
	Rounds      int
	Conc        []int
	E2EConc     []int
	Size        int // bytes of the push payload
	LargeSize   int
	Sustained   time.Duration
	Sample      time.Duration // RSS sampling interval of the sustained run
	SustainConc int
	FsyncTime   time.Duration
	Warmup      time.Duration
	Pause       time.Duration // between runs
	TriggerConc []int         // concurrency of the e2e http trigger, one e2e run each (0: the key left out, the default)
	LogLevel    string        // forgehook's --log-level
	Forgehook   string        // a prebuilt forgehook binary ("" builds one)
	WorkDir     string        // "" for a temporary directory
	Keep        bool          // keep the work directory
	Out         string        // also write the markdown here
	PprofDir    string        // write forgehook's CPU and heap profiles here ("": none)
	Env         []string      // extra KEY=VALUE environment of forgehook only
	Progress    io.Writer     // progress lines (nil: none)
}

// defaultOptions are the settings of a full run.
func defaultOptions() options {
	return options{
		Sections:    sectionNames(),
		Duration:    5 * time.Second,
		Rounds:      3,
		Conc:        []int{1, 16, 64},
		E2EConc:     []int{16, 64},
		Size:        8 << 10,
		LargeSize:   30 << 10,
		Sustained:   60 * time.Second,
		Sample:      5 * time.Second,
		SustainConc: 64,
		FsyncTime:   2 * time.Second,
		Warmup:      time.Second,
		Pause:       250 * time.Millisecond,
		TriggerConc: []int{0, 64},
		LogLevel:    "info",
	}
}

// quickOptions are the settings of -quick: every section, briefly.
func quickOptions() options {
	o := defaultOptions()
	o.Duration = 500 * time.Millisecond
	o.Rounds = 1
	o.Conc = []int{1, 16}
	o.E2EConc = []int{16}
	o.Sustained = 2 * time.Second
	o.Sample = 500 * time.Millisecond
	o.SustainConc = 16
	o.FsyncTime = 300 * time.Millisecond
	o.Warmup = 200 * time.Millisecond
	o.Pause = 50 * time.Millisecond
	o.TriggerConc = []int{0}
	return o
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := 0
	if err := mainErr(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "bench:", err)
		}
		code = 1
	}
	stop()
	os.Exit(code)
}

func mainErr(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	opts.Progress = stderr
	rep, err := run(ctx, opts)
	if err != nil {
		return err
	}
	md := rep.Markdown()
	if _, err := io.WriteString(stdout, md); err != nil {
		return err
	}
	if opts.Out != "" {
		return os.WriteFile(opts.Out, []byte(md), 0o644)
	}
	return nil
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quick := fs.Bool("quick", false, "a smoke run of every section in a few seconds each (other flags still apply after it)")
	sections := fs.String("sections", strings.Join(sectionNames(), ","), "sections to run, comma-separated: "+strings.Join(sectionNames(), ", "))
	duration := fs.Duration("duration", 0, "duration of one run (default 5s; 500ms with -quick)")
	rounds := fs.Int("rounds", 0, "interleaved rounds of baseline and forgehook (default 3; 1 with -quick)")
	conc := fs.String("conc", "", "concurrency levels of the ingest, sync and large sections (default 1,16,64; 1,16 with -quick)")
	e2eConc := fs.String("e2e-conc", "", "concurrency levels of the e2e section (default 16,64; 16 with -quick)")
	sustained := fs.Duration("sustained", 0, "duration of the sustained run, for each server (default 60s)")
	sample := fs.Duration("sample", 0, "RSS sampling interval of the sustained run (default 5s)")
	fsyncTime := fs.Duration("fsync", 0, "duration of the disk's fsync measurement (default 2s)")
	size := fs.Int("size", 0, "bytes of the push payload (default 8192)")
	large := fs.Int("large-size", 0, "bytes of the large section's payload (default 30720)")
	triggerConc := fs.String("trigger-concurrency", "", "concurrency levels of the e2e http trigger, one e2e run each; 0 leaves the key out (the default concurrency) (default 0,64; 0 with -quick)")
	logLevel := fs.String("log-level", "", "forgehook's --log-level (default info, as in production: one line per request)")
	bin := fs.String("forgehook", "", "use this forgehook binary instead of building one")
	workDir := fs.String("workdir", "", "work directory for binaries, data and logs (default a new temporary one)")
	keep := fs.Bool("keep", false, "keep the work directory (data directories and server logs)")
	out := fs.String("o", "", "also write the markdown to this file")
	var env envFlag
	fs.Var(&env, "env", "KEY=VALUE added to forgehook's environment only (repeatable), e.g. -env GOGC=200 for an experiment")
	pprofDir := fs.String("pprof", "", "build forgehook with a pprof listener and write CPU and heap profiles of an extra, unmeasured run per section to this directory")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o := defaultOptions()
	if *quick {
		o = quickOptions()
	}
	var errs []error
	o.Sections = nil
	for _, s := range strings.Split(*sections, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !slices.Contains(sectionNames(), s) {
			errs = append(errs, fmt.Errorf("-sections: unknown section %q", s))
			continue
		}
		o.Sections = append(o.Sections, s)
	}
	setDur := func(dst *time.Duration, v time.Duration, name string) {
		switch {
		case v < 0:
			errs = append(errs, fmt.Errorf("-%s: must be positive", name))
		case v > 0:
			*dst = v
		}
	}
	for _, kv := range env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			errs = append(errs, fmt.Errorf("-env: %q is not KEY=VALUE", kv))
		}
	}
	o.Env = env
	setDur(&o.Duration, *duration, "duration")
	setDur(&o.Sustained, *sustained, "sustained")
	setDur(&o.Sample, *sample, "sample")
	setDur(&o.FsyncTime, *fsyncTime, "fsync")
	setInt := func(dst *int, v int, name string) {
		switch {
		case v < 0:
			errs = append(errs, fmt.Errorf("-%s: must be positive", name))
		case v > 0:
			*dst = v
		}
	}
	setInt(&o.Rounds, *rounds, "rounds")
	setInt(&o.Size, *size, "size")
	setInt(&o.LargeSize, *large, "large-size")
	for _, l := range []struct {
		dst  *[]int
		v    string
		name string
	}{{&o.Conc, *conc, "conc"}, {&o.E2EConc, *e2eConc, "e2e-conc"}} {
		if l.v == "" {
			continue
		}
		cs, err := parseInts(l.v)
		if err != nil {
			errs = append(errs, fmt.Errorf("-%s: %w", l.name, err))
			continue
		}
		*l.dst = cs
	}
	if *triggerConc != "" {
		o.TriggerConc = nil
		for _, f := range strings.Split(*triggerConc, ",") {
			// 0 is the trigger's default concurrency (the key left out).
			n := 0
			if strings.TrimSpace(f) != "0" {
				cs, err := parseInts(f)
				if err != nil {
					errs = append(errs, fmt.Errorf("-trigger-concurrency: %w", err))
					continue
				}
				n = cs[0]
			}
			o.TriggerConc = append(o.TriggerConc, n)
		}
	}
	if *logLevel != "" {
		o.LogLevel = *logLevel
	}
	o.Forgehook, o.WorkDir, o.Keep, o.Out, o.PprofDir = *bin, *workDir, *keep, *out, *pprofDir
	return o, errors.Join(errs...)
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 4096 {
			return nil, fmt.Errorf("%q is not a concurrency between 1 and 4096", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// budget is a bound on the whole run: several times what its settings
// should take, so that nothing can hang the benchmark.
func (o options) budget() time.Duration {
	per := time.Duration(0)
	runs := func(conc []int) time.Duration {
		return time.Duration(o.Rounds*len(conc)*2) * (o.Duration + o.Pause)
	}
	for _, s := range o.Sections {
		switch s {
		case secIngest, secLarge:
			per += runs(o.Conc)
		case secSync:
			per += runs(o.Conc) + o.FsyncTime
		case secE2E:
			per += runs(o.E2EConc) * 3 * time.Duration(len(o.TriggerConc))
		case secSustained:
			per += 2 * o.Sustained
		}
		per += 2*o.Warmup + 30*time.Second
	}
	return 3*per + 5*time.Minute
}

// bench is one benchmark run in progress.
type bench struct {
	opts     options
	root     string // the module root
	work     string // the work directory
	bin      string // forgehook
	bare     string // the baseline
	fixture  []byte
	nonce    uint32
	runCount uint16
}

// run builds the binaries and runs the selected sections.
func run(ctx context.Context, opts options) (*report, error) {
	if len(opts.Sections) == 0 {
		return nil, errors.New("no section selected")
	}
	ctx, cancel := context.WithTimeout(ctx, opts.budget())
	defer cancel()
	root, err := moduleRoot(ctx)
	if err != nil {
		return nil, err
	}
	b := &bench{opts: opts, root: root, work: opts.WorkDir}
	if b.work == "" {
		if b.work, err = os.MkdirTemp("", "forgehook-bench-"); err != nil {
			return nil, err
		}
		if !opts.Keep {
			defer os.RemoveAll(b.work)
		}
	} else if err := os.MkdirAll(b.work, 0o755); err != nil {
		return nil, err
	}
	var nb [4]byte
	_, _ = rand.Read(nb[:])
	b.nonce = binary.BigEndian.Uint32(nb[:])
	if b.fixture, err = loadPushFixture(root); err != nil {
		return nil, err
	}
	b.bin = opts.Forgehook
	switch {
	case opts.PprofDir != "":
		if b.bin != "" {
			return nil, errors.New("-pprof builds its own forgehook: drop -forgehook")
		}
		if err := os.MkdirAll(opts.PprofDir, 0o755); err != nil {
			return nil, err
		}
		b.bin = filepath.Join(b.work, "forgehook")
		b.progress("building forgehook with a pprof listener")
		if err := b.buildProfiling(ctx, b.bin); err != nil {
			return nil, err
		}
	case b.bin == "":
		b.bin = filepath.Join(b.work, "forgehook")
		b.progress("building forgehook")
		if err := b.goBuild(ctx, b.bin, "./cmd/forgehook"); err != nil {
			return nil, err
		}
	}
	b.bare = filepath.Join(b.work, "bare")
	if err := b.goBuild(ctx, b.bare, "./bench/bare"); err != nil {
		return nil, err
	}
	rep := &report{
		Started: time.Now(),
		Opts:    opts,
		Machine: describeMachine(ctx, root, b.work),
	}
	for _, s := range opts.Sections {
		var err error
		switch s {
		case secIngest:
			rep.Ingest, err = b.compare(ctx, s, fhConfig{}, opts.Size, opts.Conc)
		case secSync:
			rep.Sync, err = b.compare(ctx, s, fhConfig{syncAlways: true}, opts.Size, opts.Conc)
		case secLarge:
			rep.Large, err = b.compare(ctx, s, fhConfig{}, opts.LargeSize, opts.Conc)
		case secE2E:
			for _, tc := range opts.TriggerConc {
				var e *e2eResult
				if e, err = b.e2e(ctx, tc); err != nil {
					break
				}
				rep.E2E = append(rep.E2E, e)
			}
		case secSustained:
			rep.Sustained, err = b.sustained(ctx)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s, err)
		}
	}
	rep.Elapsed = time.Since(rep.Started)
	return rep, nil
}

func (b *bench) progress(format string, args ...any) {
	if b.opts.Progress != nil {
		fmt.Fprintf(b.opts.Progress, "bench: "+format+"\n", args...)
	}
}

// goBuild runs go build -o out args... in the module root.
func (b *bench) goBuild(ctx context.Context, out string, args ...string) error {
	cmd := exec.CommandContext(ctx, "go", append([]string{"build", "-o", out}, args...)...)
	cmd.Dir = b.root
	if o, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", strings.Join(args, " "), err, o)
	}
	return nil
}

// moduleRoot returns the directory of forgehook's go.mod.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run the benchmark inside the forgehook module (go run ./bench)")
	}
	return filepath.Dir(mod), nil
}

// envFlag collects repeated -env flags.
type envFlag []string

func (e *envFlag) String() string { return strings.Join(*e, " ") }

// Set implements flag.Value.
func (e *envFlag) Set(v string) error {
	*e = append(*e, v)
	return nil
}
