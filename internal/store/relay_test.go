package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// follow collects n records of endpoint after cursor c.
func follow(t *testing.T, s *Store, endpoint string, c RelayCursor, n int) ([]Record, uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []Record
	var gap uint64
	stop := errors.New("enough")
	err := s.FollowRelay(ctx, endpoint, c, FollowOptions{Gap: func(first uint64) { gap = first }}, func(r Record) error {
		out = append(out, r)
		if len(out) == n {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("follow %s after %+v: %v (got %d records)", endpoint, c, err, len(out))
	}
	return out, gap
}

// TestStoreRelayCursorAndFollow: a relay's cursor is created once, moves
// forward only, survives a restart of the store, and following it yields
// the endpoint's events after it, in order, large ones whole.
func TestStoreRelayCursorAndFollow(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(ctx, Options{DataDir: dir, MaxPayload: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	add := func(ep string, i int, big bool) {
		t.Helper()
		id := fmt.Sprintf("%s-%d", ep, i)
		body := `{}`
		if big {
			body = fmt.Sprintf(`{"blob":%q}`, strings.Repeat("x", 100<<10))
		}
		rec := fmt.Sprintf(`{"id":%q,"endpoint":%q,"data":{"header":{},"body":%s}}`, id, ep, body)
		if _, err := s.Append(ctx, ep, Subject(ep, "github", "push"), id, id, []byte(rec)); err != nil {
			t.Fatal(err)
		}
	}
	add("a", 1, false) // seq 1
	add("b", 1, false) // 2
	add("a", 2, true)  // 3, in the object store
	add("a", 3, false) // 4

	if _, err := s.Relay(ctx, "a", "dev"); !errors.Is(err, ErrRelayNotFound) {
		t.Errorf("unknown relay: %v, want ErrRelayNotFound", err)
	}
	if _, err := s.AckRelay(ctx, "a", "dev", 1); !errors.Is(err, ErrRelayNotFound) {
		t.Errorf("ack of an unknown relay: %v, want ErrRelayNotFound", err)
	}
	c, created, err := s.OpenRelay(ctx, "a", "dev", RelayStart{Since: time.Now().Add(-time.Hour)})
	if err != nil || !created || c.Acked != 0 || c.Since.IsZero() {
		t.Fatalf("open with since: %+v %v %v", c, created, err)
	}
	recs, gap := follow(t, s, "a", c, 3)
	if gap != 0 || recs[0].Seq != 1 || recs[1].Seq != 3 || recs[2].Seq != 4 {
		t.Fatalf("followed %v (gap %d), want seqs 1 3 4", seqsOf(recs), gap)
	}
	if !strings.Contains(string(recs[1].Data), strings.Repeat("x", 1000)) {
		t.Errorf("the large event is followed as its stub, not whole")
	}
	// The same name on another endpoint is another relay.
	if c2, created, err := s.OpenRelay(ctx, "b", "dev", RelayStart{}); err != nil || !created || c2.Acked != 4 {
		t.Errorf("relay dev of b: %+v %v %v, want a new one after seq 4", c2, created, err)
	}
	if c, err = s.AckRelay(ctx, "a", "dev", 3); err != nil || c.Acked != 3 || !c.Since.IsZero() {
		t.Fatalf("ack 3: %+v %v", c, err)
	}
	if c, err = s.AckRelay(ctx, "a", "dev", 1); err != nil || c.Acked != 3 {
		t.Errorf("ack 1 after 3: %+v %v, want the cursor to stay at 3", c, err)
	}
	if _, err = s.AckRelay(ctx, "a", "dev", 5); !errors.Is(err, ErrRelayAhead) {
		t.Errorf("ack 5 (beyond the last event): %v, want ErrRelayAhead", err)
	}
	// Opening again keeps the cursor, whatever start says.
	if c, created, err = s.OpenRelay(ctx, "a", "dev", RelayStart{After: 1}); err != nil || created || c.Acked != 3 {
		t.Errorf("reopen: %+v %v %v, want the existing cursor at 3", c, created, err)
	}
	s.Close()

	s, err = Open(ctx, Options{DataDir: dir, MaxPayload: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err = s.Relay(ctx, "a", "dev")
	if err != nil || c.Acked != 3 {
		t.Fatalf("after a restart: %+v %v, want acked 3", c, err)
	}
	if recs, _ := follow(t, s, "a", c, 1); recs[0].Seq != 4 {
		t.Errorf("after a restart the relay resumes at %d, want 4", recs[0].Seq)
	}
}

// TestStoreRelayConcurrentAcks: acknowledgements racing on one cursor
// leave it at the highest.
func TestStoreRelayConcurrentAcks(t *testing.T) {
	s := openEmbedded(t, t.TempDir())
	defer s.Close()
	ctx := context.Background()
	for i := 1; i <= 8; i++ {
		id := fmt.Sprint("e", i)
		if _, err := s.Append(ctx, "a", Subject("a", "github", "push"), id, id, evJSON(id)); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.OpenRelay(ctx, "a", "r", RelayStart{After: 0, Since: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 1; i <= 8; i++ {
		wg.Go(func() {
			if _, err := s.AckRelay(ctx, "a", "r", uint64(i)); err != nil {
				t.Errorf("ack %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if c, err := s.Relay(ctx, "a", "r"); err != nil || c.Acked != 8 {
		t.Errorf("after concurrent acks: %+v %v, want 8", c, err)
	}
}

func seqsOf(rs []Record) []uint64 {
	var out []uint64
	for _, r := range rs {
		out = append(out, r.Seq)
	}
	return out
}
