package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// CheckReport is what Check found in a data directory.
type CheckReport struct {
	// DataDir is the directory checked.
	DataDir string `json:"data_dir"`
	// Streams are the streams the embedded server holds, by name.
	Streams []StreamReport `json:"streams"`
	// Loss compares the id index with EVENTS.
	Loss Loss `json:"loss"`
	// Problems are the warnings and errors the embedded server logged
	// while it read its files (damaged blocks, state files).
	Problems []string `json:"problems,omitempty"`
}

// StreamReport is one stream's state.
type StreamReport struct {
	Name      string `json:"name"`
	Messages  uint64 `json:"messages"`
	Bytes     uint64 `json:"bytes"`
	FirstSeq  uint64 `json:"first_seq"`
	LastSeq   uint64 `json:"last_seq"`
	Gaps      int    `json:"gaps"` // deleted sequences inside the range
	Consumers int    `json:"consumers"`
}

// Check examines the embedded store of a data directory that no process
// uses: it takes the directory's lock (a *LockedError when a process holds
// it), starts the embedded server on its files without creating or
// changing any stream, lists the streams, compares the id index with
// EVENTS, and collects what the server logged about damaged files. It
// changes nothing but what the embedded server itself writes when it
// loads its files. opts.URL must be empty.
func Check(ctx context.Context, opts Options) (CheckReport, error) {
	if opts.URL != "" {
		return CheckReport{}, errors.New("store: check examines the embedded store of a data directory; an external server has its own tools (nats stream report)")
	}
	if opts.Retention <= 0 {
		opts.Retention = 7 * 24 * time.Hour
	}
	if opts.DedupWindow <= 0 {
		opts.DedupWindow = 72 * time.Hour
	}
	if opts.MaxPayload <= 0 {
		opts.MaxPayload = 32 << 20
	}
	rep := CheckReport{DataDir: opts.DataDir}
	if _, err := os.Stat(filepath.Join(opts.DataDir, "jetstream")); err != nil {
		return rep, fmt.Errorf("store: %s holds no embedded store: %w", opts.DataDir, err)
	}
	col := &collector{}
	opts.Logger = slog.New(col)
	s := &Store{opts: opts, log: opts.Logger, done: make(chan struct{})}
	s.health.kick = make(chan struct{}, 1)
	s.health.restarted = make(chan struct{}, 1)
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	l, err := lockDir(opts.DataDir)
	if err != nil {
		return rep, err
	}
	s.lock = l
	defer s.Close()
	if err := s.openIndexes(); err != nil {
		return rep, err
	}
	s.opts.MaxBytes = s.eventsMaxBytes()
	if err := s.startEmbedded(ctx); err != nil {
		return rep, err
	}
	s.legitFirst = s.loadFirst()
	if err := s.readAll(ctx); err != nil {
		return rep, fmt.Errorf("store: read EVENTS through: %w", err)
	}
	loss, err := s.compare(ctx)
	if err != nil {
		return rep, fmt.Errorf("store: compare the index with the stream: %w", err)
	}
	rep.Loss = loss
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	names := s.js.StreamNames(lctx)
	for name := range names.Name() {
		st, err := s.js.Stream(lctx, name)
		if err != nil {
			return rep, fmt.Errorf("store: stream %s: %w", name, err)
		}
		info := st.CachedInfo()
		rep.Streams = append(rep.Streams, StreamReport{
			Name: name, Messages: info.State.Msgs, Bytes: info.State.Bytes,
			FirstSeq: info.State.FirstSeq, LastSeq: info.State.LastSeq,
			Gaps: info.State.NumDeleted, Consumers: info.State.Consumers,
		})
	}
	if err := names.Err(); err != nil {
		return rep, fmt.Errorf("store: list streams: %w", err)
	}
	sort.Slice(rep.Streams, func(i, j int) bool { return rep.Streams[i].Name < rep.Streams[j].Name })
	rep.Problems = col.lines()
	return rep, nil
}

// collector is a slog handler that keeps the warnings and errors.
type collector struct {
	mu  sync.Mutex
	got []string
}

func (c *collector) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (c *collector) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, r.Level.String()+" "+r.Message)
	return nil
}

func (c *collector) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *collector) WithGroup(string) slog.Handler      { return c }

func (c *collector) lines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.got...)
}
