package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestStoreAppendRidesOutLeaderLoss appends without pause from four
// writers, each bounded by a 5 s ack timeout, while the node that leads
// EVENTS is stopped: every Append succeeds (retried with the same
// Nats-Msg-Id through the election), none is reported a duplicate, and
// every acknowledged event is readable afterwards.
func TestStoreAppendRidesOutLeaderLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	c := newCluster(t, 3)
	waitMetaLeader(t, c.url())
	ctx := context.Background()
	const ackTimeout = 5 * time.Second
	s, err := Open(ctx, Options{URL: c.url(), Replicas: 3, DataDir: t.TempDir(), AckTimeout: ackTimeout})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkFor(t, 30*time.Second, 100*time.Millisecond, func() error { return s.Ready(ctx) })
	checkFor(t, 10*time.Second, 50*time.Millisecond, s.CaughtUp)
	subj := Subject("ep", "github", "push")
	var (
		mu      sync.Mutex
		acked   []string
		failed  []string
		lastOK  atomic.Int64
		longest time.Duration
		stop    atomic.Bool
		n       atomic.Int64
		wg      sync.WaitGroup
	)
	lastOK.Store(time.Now().UnixNano())
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				id := fmt.Sprintf("w%d-%d", w, n.Add(1))
				actx, cancel := context.WithTimeout(ctx, ackTimeout)
				res, err := s.Append(actx, "ep", subj, id, id, evJSON(id))
				cancel()
				now := time.Now()
				mu.Lock()
				if err != nil || res.Duplicate {
					failed = append(failed, fmt.Sprintf("%s: %+v %v", id, res, err))
				} else {
					acked = append(acked, id)
					if gap := now.Sub(time.Unix(0, lastOK.Swap(now.UnixNano()))); gap > longest {
						longest = gap
					}
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(time.Second)
	st, err := s.js.Stream(ctx, EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	// The worst case: the leader is the node this client is connected
	// to, so that its stop is both an election and a reconnect.
	conn := s.nc.ConnectedServerName()
	var info *jetstream.StreamInfo
	checkFor(t, 20*time.Second, 200*time.Millisecond, func() error {
		info, err = st.Info(ctx)
		if err != nil || info.Cluster == nil {
			return fmt.Errorf("stream info: %v", err)
		}
		if info.Cluster.Leader == conn {
			return nil
		}
		req := fmt.Sprintf(`{"placement":{"preferred":%q}}`, conn)
		_, _ = s.nc.Request("$JS.API.STREAM.LEADER.STEPDOWN."+EventsStream, []byte(req), 2*time.Second)
		return fmt.Errorf("leader %s, connected to %s", info.Cluster.Leader, conn)
	})
	leader := -1
	for i, o := range c.opts {
		if o.ServerName == info.Cluster.Leader {
			leader = i
		}
	}
	if leader < 0 {
		t.Fatalf("no node named %q", info.Cluster.Leader)
	}
	killed := time.Now()
	c.stop(leader)
	time.Sleep(8 * time.Second)
	stop.Store(true)
	wg.Wait()
	t.Logf("leader %s stopped: %d appends acknowledged, %d failed, longest gap without an ack %v (%v after the stop)",
		info.Cluster.Leader, len(acked), len(failed), longest.Round(time.Millisecond), time.Since(killed).Round(time.Second))
	if len(failed) > 0 {
		t.Fatalf("%d appends failed during the election, first: %s", len(failed), failed[0])
	}
	for _, id := range acked[len(acked)-50:] {
		checkFor(t, 10*time.Second, 50*time.Millisecond, func() error {
			_, err := s.Get(ctx, id)
			return err
		})
	}
	got, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.State.Msgs != uint64(len(acked)) {
		t.Fatalf("EVENTS holds %d messages, %d appends were acknowledged (a retry stored twice, or one was lost)", got.State.Msgs, len(acked))
	}
}

// waitMetaLeader waits until the cluster at url has elected its JetStream
// meta leader: before, a stream lookup waits out its whole timeout.
func waitMetaLeader(t *testing.T, url string) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	checkFor(t, 30*time.Second, 100*time.Millisecond, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := js.AccountInfo(ctx)
		return err
	})
}
