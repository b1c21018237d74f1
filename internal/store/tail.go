package store

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/forgehook/forgehook/internal/store/seqindex"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func (s *Store) openIndexes() error {
	dir := filepath.Join(s.opts.DataDir, "index")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("store: index dir: %w", err)
	}
	var err error
	if s.dedup, err = seqindex.Open(filepath.Join(dir, "dedup.idx"), s.opts.DedupWindow, s.log); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if s.ids, err = seqindex.Open(filepath.Join(dir, "ids.idx"), s.opts.Retention, s.log); err != nil {
		s.dedup.Close()
		return fmt.Errorf("store: %w", err)
	}
	if s.attempts, err = seqindex.Open(filepath.Join(dir, "attempts.idx"), s.opts.Retention, s.log); err != nil {
		s.dedup.Close()
		s.ids.Close()
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// startTail indexes what EVENTS and ATTEMPTS hold beyond what the indexes
// know: the messages stored just before a crash (an index's file records
// the highest sequence merged into it, its inserts of the last seconds
// live in memory until the next merge, and concurrent appends finish out
// of order, so it starts a few thousand before that sequence). With an external store it
// then keeps following both streams (headers only), so that events other
// forgehook replicas store are found too. The embedded store has one
// writer, this process, which indexes its own appends: it stops once it
// has caught up, because a reader right behind the writer keeps JetStream's
// block buffers in memory (about ten seconds of writes).
func (s *Store) startTail(events, attempts jetstream.Stream) error {
	follow := s.ns == nil
	if err := s.tail(events, catchUpFrom(min(s.dedup.Last(), s.ids.Last())), follow, func(h nats.Header, seq uint64, t time.Time) {
		s.indexEvent(h.Get(jetstream.MsgIDHeader), h.Get(EventIDHeader), seq, t)
	}); err != nil {
		return err
	}
	return s.tail(attempts, catchUpFrom(s.attempts.Last()), follow, func(h nats.Header, seq uint64, t time.Time) {
		if err := s.attempts.Insert(seqindex.Hash(attemptKey(h.Get(TriggerHeader), h.Get(EventIDHeader))), seq, t); err != nil {
			s.log.Warn("store: attempt index", "err", err)
		}
	})
}

func catchUpFrom(last uint64) uint64 {
	const margin = 4096
	if last <= margin {
		return 1
	}
	return last - margin
}

func (s *Store) tail(st jetstream.Stream, from uint64, follow bool, f func(h nats.Header, seq uint64, t time.Time)) error {
	name := st.CachedInfo().Config.Name
	info, err := st.Info(s.ctx)
	if err != nil {
		return fmt.Errorf("store: index catch-up: %w", err)
	}
	// Until the tail has read what the stream held at its start, the
	// indexes miss those events: /readyz is not ready and deliveries with
	// a dedup key are refused (catchup.go).
	until := info.State.LastSeq
	done := s.CatchingUp(fmt.Sprintf("the index of %s, from sequence %d to %d", name, from, until))
	if until < from || info.State.Msgs == 0 {
		done()
		if !follow {
			return nil
		}
	}
	cons, err := st.OrderedConsumer(s.ctx, jetstream.OrderedConsumerConfig{
		HeadersOnly:   true,
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   from,
	})
	if err != nil {
		done()
		return fmt.Errorf("store: index tail: %w", err)
	}
	caughtUp := make(chan struct{})
	var once sync.Once
	cc, err := cons.Consume(func(m jetstream.Msg) {
		md, err := m.Metadata()
		if err != nil {
			return
		}
		f(m.Headers(), md.Sequence.Stream, md.Timestamp)
		if md.Sequence.Stream >= until || md.NumPending == 0 {
			once.Do(func() {
				done()
				close(caughtUp)
			})
		}
	}, livePull()...)
	if err != nil {
		done()
		return fmt.Errorf("store: index tail: %w", err)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer done()
		select {
		case <-s.done:
		case <-caughtUp:
			s.log.Debug("store: indexes caught up", "stream", name, "until", until)
			if follow {
				<-s.done
			}
		}
		cc.Stop()
	}()
	return nil
}

// The liveness of the store's own pull loops (index tails, the event index
// feed, the start-up loss check, relay streams). The JetStream client's
// Consume keeps its own count of what its pull requests still owe and can
// lose track of one, and then waits for two missed heartbeats before it
// asks again: 30 s at the default expiry (issue 16, found in the delivery
// loop, which now has a pull loop of its own). With a 1 s heartbeat such a
// pause lasts about 2 s, and a request expires after 5 s.
const (
	pullExpiry    = 5 * time.Second
	pullHeartbeat = time.Second
)

// livePull returns the Consume options that bound such a pause.
func livePull() []jetstream.PullConsumeOpt {
	return []jetstream.PullConsumeOpt{jetstream.PullExpiry(pullExpiry), jetstream.PullHeartbeat(pullHeartbeat)}
}
