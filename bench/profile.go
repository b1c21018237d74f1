package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// pprofEnv names the environment variable that makes a profiling build of
// forgehook serve net/http/pprof on the address it holds.
const pprofEnv = "FORGEHOOK_BENCH_PPROF"

// pprofSource is added to package main of cmd/forgehook, through a build
// overlay, in the profiling build that -pprof makes: forgehook's own code
// is unchanged, and the pprof listener exists only in that build and only
// when the variable is set. net/http/pprof registers on
// http.DefaultServeMux, which forgehook's listeners do not use.
const pprofSource = `package main

import (
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	if addr := os.Getenv("` + pprofEnv + `"); addr != "" {
		go func() { _ = http.ListenAndServe(addr, nil) }()
	}
}
`

// buildProfiling builds forgehook with the pprof listener added.
func (b *bench) buildProfiling(ctx context.Context, out string) error {
	src := filepath.Join(b.work, "bench_pprof.go")
	if err := os.WriteFile(src, []byte(pprofSource), 0o644); err != nil {
		return err
	}
	overlay, err := json.Marshal(map[string]map[string]string{
		"Replace": {filepath.Join(b.root, "cmd", "forgehook", "zz_bench_pprof.go"): src},
	})
	if err != nil {
		return err
	}
	ov := filepath.Join(b.work, "overlay.json")
	if err := os.WriteFile(ov, overlay, 0o644); err != nil {
		return err
	}
	return b.goBuild(ctx, out, "-overlay", ov, "./cmd/forgehook")
}

// profile runs one extra, unmeasured load at conc for the run duration
// while it records forgehook's CPU profile, then takes a heap profile (in
// use and allocated), into the -pprof directory as <name>-cpu.pprof and
// <name>-heap.pprof.
func (b *bench) profile(ctx context.Context, name string, fh *server, pl *payload, conc int) error {
	if b.opts.PprofDir == "" || fh.pprofAddr == "" {
		return nil
	}
	secs := max(1, int(b.opts.Duration.Round(time.Second)/time.Second))
	b.progress("%s: profiling forgehook for %ds at c=%d", name, secs, conc)
	errc := make(chan error, 1)
	go func() {
		errc <- fetchTo(ctx, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", fh.pprofAddr, secs),
			filepath.Join(b.opts.PprofDir, name+"-cpu.pprof"))
	}()
	if _, err := b.measure(ctx, fh, pl, conc, time.Duration(secs)*time.Second+500*time.Millisecond, nil); err != nil {
		return err
	}
	if err := <-errc; err != nil {
		return err
	}
	return b.heapProfile(ctx, name, fh)
}

// heapProfile writes forgehook's heap profile as <name>-heap.pprof.
func (b *bench) heapProfile(ctx context.Context, name string, fh *server) error {
	if b.opts.PprofDir == "" || fh.pprofAddr == "" {
		return nil
	}
	return fetchTo(ctx, "http://"+fh.pprofAddr+"/debug/pprof/heap", filepath.Join(b.opts.PprofDir, name+"-heap.pprof"))
}

func fetchTo(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("pprof: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("pprof: %s: %s", resp.Status, b)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
