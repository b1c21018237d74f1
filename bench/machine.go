package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
)

// machine describes where a benchmark ran.
type machine struct {
	CPU        string
	Cores      int
	GOMAXPROCS int
	MemTotal   string
	Kernel     string
	GoVersion  string
	Disk       string // filesystem of the data directories
	Commit     string // forgehook's git commit, "-dirty" when modified
}

func describeMachine(ctx context.Context, root, dataDir string) machine {
	m := machine{
		CPU:        "unknown",
		Cores:      runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		GoVersion:  runtime.Version(),
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "MemTotal:"); ok {
				var kib int64
				fmt.Sscan(strings.TrimSpace(v), &kib)
				m.MemTotal = fmt.Sprintf("%.1f GiB", float64(kib)/(1<<20))
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	m.Disk = filesystem(dataDir)
	if out, err := exec.CommandContext(ctx, "git", "-C", root, "describe", "--always", "--dirty", "--abbrev=12").Output(); err == nil {
		m.Commit = strings.TrimSpace(string(out))
	}
	return m
}

// filesystem names the mount that holds dir: device, type and whether it
// is rotational, from /proc/mounts and sysfs.
func filesystem(dir string) string {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "unknown"
	}
	b, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return "unknown"
	}
	best, dev, typ := "", "", ""
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 3 {
			continue
		}
		mp := f[1]
		if (dir == mp || strings.HasPrefix(dir, strings.TrimSuffix(mp, "/")+"/")) && len(mp) > len(best) {
			best, dev, typ = mp, f[0], f[2]
		}
	}
	if best == "" {
		return "unknown"
	}
	s := fmt.Sprintf("%s %s on %s", typ, dev, best)
	var st syscall.Statfs_t
	if syscall.Statfs(dir, &st) == nil {
		s += fmt.Sprintf(", %.0f GiB free", float64(st.Bavail)*float64(st.Bsize)/(1<<30))
	}
	if name := filepath.Base(dev); strings.HasPrefix(dev, "/dev/") {
		if r, err := os.ReadFile("/sys/class/block/" + name + "/queue/rotational"); err == nil {
			if strings.TrimSpace(string(r)) == "1" {
				s += ", rotational"
			} else {
				s += ", non-rotational"
			}
		}
	}
	return s
}
