package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/forgehook/forgehook/internal/store/seqindex"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultMaxBytes is the EVENTS stream's size limit when none is set and
// the data directory's file system is larger than twice it.
const DefaultMaxBytes = 10 << 30

// otherRoom is the room the embedded JetStream keeps, beyond EVENTS's
// limit, for the other streams and buckets (attempts, dead letters,
// replays, large bodies, endpoint status).
func otherRoom(maxBytes int64) int64 { return max(1<<30, maxBytes/2) }

func (s *Store) jsDir() string { return filepath.Join(s.opts.DataDir, "jetstream") }

// eventsMaxBytes returns the EVENTS size limit: the configured one, else
// the smaller of DefaultMaxBytes and half of the data directory's file
// system.
func (s *Store) eventsMaxBytes() int64 {
	if s.opts.URL != "" {
		if s.opts.MaxBytes > 0 {
			return s.opts.MaxBytes
		}
		return DefaultMaxBytes
	}
	_, size, err := diskFree(s.opts.DataDir)
	if s.opts.MaxBytes > 0 {
		if err == nil && uint64(s.opts.MaxBytes) > size {
			s.log.Warn("store: store.max_bytes is larger than the data directory's file system: the disk fills before old events make room",
				"max_bytes", s.opts.MaxBytes, "filesystem_bytes", size)
		}
		return s.opts.MaxBytes
	}
	if err != nil || size == 0 {
		return DefaultMaxBytes
	}
	return min(DefaultMaxBytes, int64(size/2))
}

// maxStore is the embedded JetStream's reservation: EVENTS's limit and
// room for the rest.
func (s *Store) maxStore() int64 { return s.opts.MaxBytes + otherRoom(s.opts.MaxBytes) }

// MaxBytes returns the EVENTS stream's size limit in force.
func (s *Store) MaxBytes() int64 { return s.opts.MaxBytes }

// dropCounter follows EVENTS's first sequence to count the events the
// size limit dropped.
type dropCounter struct {
	mu      sync.Mutex
	first   uint64 // EVENTS's first sequence at the last look
	dropped uint64 // events dropped by MaxBytes since the start
}

// DroppedEvents returns how many events the EVENTS size limit
// (store.max_bytes) dropped since the process started.
func (s *Store) DroppedEvents() uint64 {
	s.drops.mu.Lock()
	defer s.drops.mu.Unlock()
	return s.drops.dropped
}

// dropEvery is how often dropLoop looks at EVENTS.
const dropEvery = 2 * time.Second

// dropLoop looks at EVENTS every dropEvery: when its first sequence moved
// while the stream is at its size limit, the events before it were
// dropped to make room (not aged out), and it logs and counts them. It
// also records the first sequence, so that the next start tells events
// dropped by the limits from events lost to damage.
func (s *Store) dropLoop() {
	defer s.wg.Done()
	t := time.NewTicker(dropEvery)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		h, err := s.handles()
		if err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(s.ctx, 2*time.Second)
		info, err := h.events.Info(ctx)
		cancel()
		if err != nil {
			continue
		}
		s.observeFirst(info.State)
	}
}

// observeFirst counts what moved EVENTS's first sequence since the last
// look.
func (s *Store) observeFirst(st jetstream.StreamState) {
	d := &s.drops
	d.mu.Lock()
	prev := d.first
	d.first = st.FirstSeq
	n := uint64(0)
	slack := uint64(max(1<<20, s.opts.MaxBytes/50))
	atLimit := s.opts.MaxBytes > 0 && st.Bytes+slack >= uint64(s.opts.MaxBytes)
	if prev != 0 && st.FirstSeq > prev && atLimit && (s.ns != nil || s.dropsMine.Load()) {
		n = st.FirstSeq - prev
		d.dropped += n
	}
	d.mu.Unlock()
	if n > 0 {
		s.log.Warn("store: oldest events dropped to stay under store.max_bytes",
			"dropped", n, "first_seq", st.FirstSeq, "bytes", st.Bytes, "max_bytes", s.opts.MaxBytes)
	}
	if st.FirstSeq != prev {
		s.saveFirst(st.FirstSeq)
	}
}

func (s *Store) firstPath() string { return filepath.Join(s.opts.DataDir, "index", "events.first") }

// saveFirst records EVENTS's first sequence: events before it left by
// the limits.
func (s *Store) saveFirst(seq uint64) {
	tmp := s.firstPath() + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.FormatUint(seq, 10)+"\n"), 0o600); err != nil {
		return
	}
	_ = os.Rename(tmp, s.firstPath())
}

func (s *Store) loadFirst() uint64 {
	b, err := os.ReadFile(s.firstPath())
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return n
}

// Loss is what the start found missing from EVENTS: events the id index
// recorded as stored (and not yet expired by age) that the stream no
// longer holds.
type Loss struct {
	// Events is the number of missing events.
	Events uint64 `json:"events"`
	// Tail counts those past the stream's last sequence, Gaps those
	// inside it, Head those before its first sequence that the limits
	// did not remove.
	Tail, Gaps, Head uint64
	// FirstSeq and LastSeq are the stream's at the check.
	FirstSeq, LastSeq uint64
	// Indexed is how many live events the id index holds.
	Indexed uint64
	// Checked reports that the check ran.
	Checked bool
}

// Loss returns what the start's checks found missing: the comparison at
// Open, then the one after reading EVENTS through.
func (s *Store) Loss() Loss {
	s.lossMu.Lock()
	defer s.lossMu.Unlock()
	return s.loss
}

// checkLoss compares the id index, which records every acknowledged
// event, with what EVENTS holds, and reports every acknowledged event the
// stream lost (a damaged or removed block file) loudly: an error log line
// with the counts, and Loss for the metric and /readyz.
func (s *Store) checkLoss(ctx context.Context) {
	s.legitFirst = s.loadFirst()
	l, err := s.compare(ctx)
	if err != nil {
		s.log.Warn("store: could not compare the index with the stream", "err", err)
		return
	}
	s.lossMu.Lock()
	s.loss = l
	s.lossMu.Unlock()
	s.drops.mu.Lock()
	s.drops.first = max(l.FirstSeq, 1) // a new stream's first is 1
	s.drops.mu.Unlock()
	s.saveFirst(l.FirstSeq)
	if l.Events > 0 {
		s.logLoss(l)
		return
	}
	s.log.Info("store: log checked against the index: nothing missing", "indexed", l.Indexed, "first_seq", l.FirstSeq, "last_seq", l.LastSeq)
}

// logLoss reports a loss at error level, with its counts.
func (s *Store) logLoss(l Loss) {
	s.log.Error("store: acknowledged events are missing from the log (a damaged, truncated or removed file in the data directory): they are lost",
		"lost", l.Events, "past_last", l.Tail, "gaps", l.Gaps, "before_first", l.Head,
		"first_seq", l.FirstSeq, "last_seq", l.LastSeq, "indexed", l.Indexed, "data_dir", s.opts.DataDir)
}

// compare counts the live entries of the id index whose sequence EVENTS
// does not hold.
func (s *Store) compare(ctx context.Context) (Loss, error) {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, err := s.js.Stream(cctx, EventsStream)
	var state jetstream.StreamState
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
	case err != nil:
		return Loss{}, fmt.Errorf("stream %s: %w", EventsStream, err)
	default:
		info, err := st.Info(cctx, jetstream.WithDeletedDetails(true))
		if err != nil {
			return Loss{}, fmt.Errorf("stream %s: %w", EventsStream, err)
		}
		state = info.State
	}
	deleted := state.Deleted
	slices.Sort(deleted)
	legitFirst := s.legitFirst
	l := Loss{FirstSeq: state.FirstSeq, LastSeq: state.LastSeq, Checked: true}
	now := time.Now()
	// An entry about to expire may name an event the age limit has
	// just removed: the index and the stream time it a moment apart.
	aging := now.Add(-s.opts.Retention + time.Minute).Unix()
	err = s.ids.Scan(now, func(e seqindex.Entry) error {
		l.Indexed++
		switch {
		case state.LastSeq == 0 || e.Seq > state.LastSeq:
			l.Tail++
		case e.Seq < state.FirstSeq:
			if e.Seq >= legitFirst && e.Unix > aging {
				l.Head++
			}
		default:
			if _, found := slices.BinarySearch(deleted, e.Seq); found {
				l.Gaps++
			}
		}
		return nil
	})
	if err != nil {
		return Loss{}, err
	}
	l.Events = l.Tail + l.Gaps + l.Head
	return l, nil
}

// readAll reads every message of EVENTS once, headers only. The embedded
// server checks a block file only when it loads it (at start it trusts its
// state file, and the checksum of the last block), so reading is what
// finds a damaged block: the server then logs it and drops the messages
// it cannot read, which compare sees as gaps. It returns when the read
// reached the stream's end, or found nothing more to read for a while.
func (s *Store) readAll(ctx context.Context) error {
	st, err := s.js.Stream(ctx, EventsStream)
	if err != nil {
		return fmt.Errorf("stream %s: %w", EventsStream, err)
	}
	info, err := st.Info(ctx)
	if err != nil || info.State.Msgs == 0 {
		return err
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{HeadersOnly: true, DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		return fmt.Errorf("read %s: %w", EventsStream, err)
	}
	done := make(chan struct{})
	seen := make(chan struct{}, 1)
	var once sync.Once
	var highest atomic.Uint64
	cc, err := cons.Consume(func(m jetstream.Msg) {
		if md, err := m.Metadata(); err == nil {
			highest.Store(md.Sequence.Stream)
		}
		select {
		case seen <- struct{}{}:
		default:
		}
		if md, err := m.Metadata(); err == nil && (md.NumPending == 0 || md.Sequence.Stream >= info.State.LastSeq) {
			once.Do(func() { close(done) })
		}
	}, livePull()...)
	if err != nil {
		return fmt.Errorf("read %s: %w", EventsStream, err)
	}
	defer cc.Stop()
	idle := time.NewTimer(5 * time.Second)
	defer idle.Stop()
	for {
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-seen:
			idle.Reset(5 * time.Second)
		case <-idle.C:
			// Nothing more came: the messages after the highest read are
			// gone (the comparison counts them), or the read stalled.
			if h := highest.Load(); h < info.State.LastSeq {
				s.log.Debug("store: reading EVENTS through ended early", "read_to", h, "last_seq", info.State.LastSeq)
			}
			return nil
		}
	}
}

// verifyLoop reads EVENTS once after the start (in the background: it
// reads every block) and reports what the reading found lost beyond the
// start's check.
func (s *Store) verifyLoop() {
	defer s.wg.Done()
	t0 := time.Now()
	if err := s.readAll(s.ctx); err != nil {
		if s.ctx.Err() == nil {
			s.log.Warn("store: could not read EVENTS through to check its files", "err", err)
		}
		return
	}
	l, err := s.compare(s.ctx)
	if err != nil {
		if s.ctx.Err() == nil {
			s.log.Warn("store: could not compare the index with the stream", "err", err)
		}
		return
	}
	s.lossMu.Lock()
	prev := s.loss
	if l.Events > prev.Events {
		s.loss = l
	}
	s.lossMu.Unlock()
	if l.Events > prev.Events {
		s.logLoss(l)
	}
	s.log.Info("store: EVENTS read through", "lost", l.Events, "took", time.Since(t0).Round(time.Millisecond).String(), "last_seq", l.LastSeq)
}
