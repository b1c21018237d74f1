package main

import (
	"context"
	"os"
	"path/filepath"
	"time"
)

// fsyncRate measures the disk's serial fsync rate in dir: it appends
// records of size bytes to a file and fsyncs after each, for d, and returns
// the records per second. That is the most a store can acknowledge when it
// fsyncs every message one after the other, as JetStream does with
// sync: always.
func fsyncRate(ctx context.Context, dir string, size int, d time.Duration) (float64, error) {
	f, err := os.CreateTemp(dir, "fsync-*.dat")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	rec := make([]byte, size)
	for i := range rec {
		rec[i] = byte(i)
	}
	n := 0
	start := time.Now()
	for time.Since(start) < d && ctx.Err() == nil {
		if _, err := f.Write(rec); err != nil {
			return 0, err
		}
		if err := f.Sync(); err != nil {
			return 0, err
		}
		n++
	}
	return float64(n) / time.Since(start).Seconds(), ctx.Err()
}

// dirSize returns the total size of the regular files under dir.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
