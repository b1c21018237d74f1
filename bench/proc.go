package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// serverSpec says how to run and reach a server process.
type serverSpec struct {
	name       string
	argv       []string
	env        []string // added to the benchmark's environment
	addr       string   // the listener under load, host:port
	readyURL   string   // answers 200 once the server is ready
	metricsURL string   // Prometheus text with go_memstats_mallocs_total ("" if none)
	pprofAddr  string   // net/http/pprof's listener ("" if none)
	logPath    string   // receives the process's output
}

// server is one server process under test, the bare baseline or forgehook,
// started by the benchmark and stopped by it.
type server struct {
	serverSpec
	cmd     *exec.Cmd
	logFile *os.File
	exited  chan struct{}
	http    *http.Client
}

// startServer runs spec.argv and waits until its ready URL answers 200.
func startServer(ctx context.Context, spec serverSpec) (*server, error) {
	lf, err := os.Create(spec.logPath)
	if err != nil {
		return nil, err
	}
	s := &server{
		serverSpec: spec,
		logFile:    lf,
		exited:     make(chan struct{}),
		http:       &http.Client{Timeout: 5 * time.Second},
	}
	name, readyURL := spec.name, spec.readyURL
	s.cmd = exec.Command(spec.argv[0], spec.argv[1:]...)
	s.cmd.Env = append(os.Environ(), spec.env...)
	s.cmd.Stdout, s.cmd.Stderr = lf, lf
	s.cmd.SysProcAttr = childAttr()
	if err := s.cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-s.exited:
			s.logFile.Close()
			return nil, fmt.Errorf("%s exited before it was ready:\n%s", name, s.logTail())
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		default:
		}
		resp, err := s.http.Get(readyURL)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("%s not ready after 60s:\n%s", name, s.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pid returns the process id.
func (s *server) pid() int { return s.cmd.Process.Pid }

// stop sends SIGTERM, and SIGKILL if the process has not exited 15 s later.
func (s *server) stop() {
	select {
	case <-s.exited:
	default:
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(15 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
	s.logFile.Close()
}

// alive reports an error if the process has exited.
func (s *server) alive() error {
	select {
	case <-s.exited:
		return fmt.Errorf("%s exited:\n%s", s.name, s.logTail())
	default:
		return nil
	}
}

// logTail returns the end of the process's output.
func (s *server) logTail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return ""
	}
	if len(b) > 4096 {
		b = b[len(b)-4096:]
	}
	return string(b)
}

// usage is what a server process spent during one run.
type usage struct {
	CPU     time.Duration // user + system
	PeakRSS int64         // bytes
	Mallocs uint64        // heap objects allocated
	// HaveMallocs is false when the server exposes no allocation counter.
	HaveMallocs bool
}

// meter measures a server process over one run: CPU time from
// /proc/<pid>/stat, peak RSS from VmHWM (reset at the start through
// clear_refs) or, where that cannot be reset, the highest VmRSS sampled
// every 50 ms, and allocations from the server's metrics.
type meter struct {
	s         *server
	cpu0      time.Duration
	mallocs0  uint64
	haveMal   bool
	hwmReset  bool
	stopc     chan struct{}
	done      chan struct{}
	mu        sync.Mutex // guards sampledKiB
	sampledKB int64
}

func (s *server) startMeter(ctx context.Context) *meter {
	m := &meter{s: s, stopc: make(chan struct{}), done: make(chan struct{})}
	m.mallocs0, m.haveMal = s.mallocs(ctx)
	m.hwmReset = resetPeak(s.pid()) == nil
	m.cpu0, _ = procCPU(s.pid())
	go func() {
		defer close(m.done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if rss, _, err := procMem(s.pid()); err == nil {
				m.mu.Lock()
				m.sampledKB = max(m.sampledKB, rss)
				m.mu.Unlock()
			}
			select {
			case <-m.stopc:
				return
			case <-t.C:
			}
		}
	}()
	return m
}

func (m *meter) stop(ctx context.Context) usage {
	cpu1, _ := procCPU(m.s.pid())
	rss, hwm, _ := procMem(m.s.pid())
	close(m.stopc)
	<-m.done
	m.mu.Lock()
	peak := max(m.sampledKB, rss)
	m.mu.Unlock()
	if m.hwmReset {
		peak = max(peak, hwm)
	}
	u := usage{CPU: cpu1 - m.cpu0, PeakRSS: peak << 10}
	if m.haveMal {
		if n, ok := m.s.mallocs(ctx); ok && n >= m.mallocs0 {
			u.Mallocs, u.HaveMallocs = n-m.mallocs0, true
		}
	}
	return u
}

// mallocs reads go_memstats_mallocs_total from the server's metrics.
func (s *server) mallocs(ctx context.Context) (uint64, bool) {
	if s.metricsURL == "" {
		return 0, false
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.metricsURL, nil)
	if err != nil {
		return 0, false
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, false
	}
	return parseMallocs(resp.Body)
}

// parseMallocs finds the allocation counter in Prometheus text: the Go
// collector's go_memstats_mallocs_total, else the runtime/metrics name
// go_gc_heap_allocs_objects_total.
func parseMallocs(r io.Reader) (uint64, bool) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var alt uint64
	haveAlt := false
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(strings.Fields(value)[0], 64)
		if err != nil {
			continue
		}
		switch name {
		case "go_memstats_mallocs_total":
			return uint64(f), true
		case "go_gc_heap_allocs_objects_total":
			alt, haveAlt = uint64(f), true
		}
	}
	return alt, haveAlt
}

// clockTick is the unit of utime and stime in /proc/<pid>/stat (USER_HZ,
// 100 on every Linux architecture Go supports).
const clockTick = 10 * time.Millisecond

// procCPU returns the process's user and system CPU time.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: count from its end.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("malformed stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("malformed stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(ut+st) * clockTick, nil
}

// procMem returns VmRSS and VmHWM in KiB.
func procMem(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		switch k {
		case "VmRSS":
			rss, _ = strconv.ParseInt(f[0], 10, 64)
		case "VmHWM":
			hwm, _ = strconv.ParseInt(f[0], 10, 64)
		}
	}
	return rss, hwm, nil
}

// resetPeak resets the process's VmHWM to its current RSS.
func resetPeak(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
