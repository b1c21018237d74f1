package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

func openEmbedded(t *testing.T, dir string) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func evJSON(id string) []byte {
	b, _ := json.Marshal(map[string]any{"id": id, "specversion": "1.0"})
	return b
}

func TestStoreAppendDedupGetList(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openEmbedded(t, dir)
	defer s.Close()
	if err := s.Ready(ctx); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	subj := Subject("ep1", "github", "push")
	r1, err := s.Append(ctx, "ep1", subj, "d-1", "d-1", evJSON("d-1"))
	if err != nil || r1.Duplicate || r1.ID != "d-1" || r1.Seq == 0 {
		t.Fatalf("first append = %+v, %v", r1, err)
	}
	r2, err := s.Append(ctx, "ep1", subj, "d-1-again", "d-1", evJSON("d-1-again"))
	if err != nil || !r2.Duplicate || r2.ID != "d-1" {
		t.Fatalf("redelivery = %+v, %v; want duplicate of d-1", r2, err)
	}
	// The same key on another endpoint is another delivery.
	r3, err := s.Append(ctx, "ep2", Subject("ep2", "gitlab", "tag"), "d-2", "d-1", evJSON("d-2"))
	if err != nil || r3.Duplicate {
		t.Fatalf("other endpoint = %+v, %v", r3, err)
	}
	rec, err := s.Get(ctx, "d-1")
	if err != nil || rec.Seq != r1.Seq || rec.Subject != subj {
		t.Fatalf("Get = %+v, %v", rec, err)
	}
	if _, err := s.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(unknown) = %v, want ErrNotFound", err)
	}
	all, next, err := s.List(ctx, Filter{})
	if err != nil || len(all) != 2 || next != 0 || all[0].Seq <= all[1].Seq {
		t.Fatalf("List = %d records (next %d), %v; want 2 newest first", len(all), next, err)
	}
	only, _, err := s.List(ctx, Filter{Forge: "gitlab"})
	if err != nil || len(only) != 1 || only[0].Subject != Subject("ep2", "gitlab", "tag") {
		t.Fatalf("List(forge=gitlab) = %+v, %v", only, err)
	}
	s.Close()

	// Everything survives a restart, dedup index included.
	s = openEmbedded(t, dir)
	defer s.Close()
	r4, err := s.Append(ctx, "ep1", subj, "d-1-third", "d-1", evJSON("d-1-third"))
	if err != nil || !r4.Duplicate || r4.ID != "d-1" {
		t.Fatalf("redelivery after restart = %+v, %v", r4, err)
	}
	if _, err := s.Get(ctx, "d-2"); err != nil {
		t.Fatalf("Get after restart: %v", err)
	}
}

func TestStoreListPaging(t *testing.T) {
	ctx := context.Background()
	s := openEmbedded(t, t.TempDir())
	defer s.Close()
	for i := range 25 {
		id := fmt.Sprintf("e%02d", i)
		if _, err := s.Append(ctx, "ep", Subject("ep", "github", "push"), id, id, evJSON(id)); err != nil {
			t.Fatal(err)
		}
	}
	var seen []uint64
	var before uint64
	for page := 0; ; page++ {
		recs, next, err := s.List(ctx, Filter{Limit: 10, Before: before})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			seen = append(seen, r.Seq)
		}
		if next == 0 {
			break
		}
		before = next
		if page > 5 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 25 {
		t.Fatalf("paged through %d events, want 25", len(seen))
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] >= seen[i-1] {
			t.Fatalf("not newest first: %v", seen)
		}
	}
}

func TestStoreConcurrentRedeliveriesStoredOnce(t *testing.T) {
	ctx := context.Background()
	s := openEmbedded(t, t.TempDir())
	defer s.Close()
	var wg sync.WaitGroup
	ids := make(chan Result, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := s.Append(ctx, "ep", Subject("ep", "github", "push"), fmt.Sprintf("copy-%d", i), "same-delivery", evJSON("x"))
			if err != nil {
				t.Error(err)
				return
			}
			ids <- r
		}()
	}
	wg.Wait()
	close(ids)
	fresh := 0
	for r := range ids {
		if !r.Duplicate {
			fresh++
		}
	}
	recs, _, _ := s.List(ctx, Filter{})
	if fresh != 1 || len(recs) != 1 {
		t.Fatalf("%d answered as new and %d stored, want 1 and 1", fresh, len(recs))
	}
}

func TestStoreClusterSurvivesNodeLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	c := newCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// Open returns at once and keeps trying in the background while the
	// cluster elects its leaders.
	s, err := Open(ctx, Options{URL: c.url(), Replicas: 3, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkFor(t, 30*time.Second, 200*time.Millisecond, func() error { return s.Ready(ctx) })
	subj := Subject("ep", "github", "push")
	for i := range 20 {
		id := fmt.Sprintf("before-%d", i)
		if _, err := s.Append(ctx, "ep", subj, id, id, evJSON(id)); err != nil {
			t.Fatalf("append before node loss: %v", err)
		}
	}
	c.stop(2)
	// With one node of three gone, the replicated streams keep a quorum:
	// appends succeed (after a possible leader election) and nothing acked
	// is lost.
	for i := range 20 {
		id := fmt.Sprintf("after-%d", i)
		checkFor(t, 20*time.Second, 100*time.Millisecond, func() error {
			actx, acancel := context.WithTimeout(ctx, 2*time.Second)
			defer acancel()
			_, err := s.Append(actx, "ep", subj, id, id, evJSON(id))
			return err
		})
	}
	for i := range 20 {
		for _, p := range []string{"before", "after"} {
			id := fmt.Sprintf("%s-%d", p, i)
			checkFor(t, 10*time.Second, 100*time.Millisecond, func() error {
				_, err := s.Get(ctx, id)
				return err
			})
		}
	}
	recs, _, err := s.List(ctx, Filter{Limit: 100})
	if err != nil || len(recs) != 40 {
		t.Fatalf("List = %d, %v; want 40 events", len(recs), err)
	}
}

// TestStoreLargeEventsGoToTheObjectStore runs against a server whose
// message limit is 64 KiB: a larger event is kept whole in the object
// store, and every reader sees it whole.
func TestStoreLargeEventsGoToTheObjectStore(t *testing.T) {
	port := freePort(t)
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true, MaxPayload: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	defer ns.Shutdown()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats did not start")
	}
	ctx := context.Background()
	s, err := Open(ctx, Options{URL: fmt.Sprintf("nats://127.0.0.1:%d", port), DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkFor(t, 10*time.Second, 50*time.Millisecond, func() error { return s.Ready(ctx) })
	big := fmt.Sprintf(`{"id":"big-1","specversion":"1.0","data":{"header":{},"body":{"blob":%q},"normalized":{"kind":"push"}}}`, strings.Repeat("x", 200<<10))
	r, err := s.Append(ctx, "ep", Subject("ep", "github", "push"), "big-1", "big-1", []byte(big))
	if err != nil {
		t.Fatalf("append 200 KiB event: %v", err)
	}
	rec, err := s.Get(ctx, "big-1")
	if err != nil || string(rec.Data) != big {
		t.Fatalf("Get: %d bytes, %v; want the whole %d", len(rec.Data), err, len(big))
	}
	// A list holds its stub, never the object.
	recs, _, err := s.List(ctx, Filter{})
	if err != nil || len(recs) != 1 || recs[0].Object == "" || len(recs[0].Data) > 1024 {
		t.Fatalf("List: %d records, %v; want the stub of big-1", len(recs), err)
	}
	if whole, err := s.GetSeq(ctx, recs[0].Seq); err != nil || string(whole.Data) != big || whole.Object != "" {
		t.Fatalf("GetSeq of a listed stub: %d bytes, %v; want the whole %d", len(whole.Data), err, len(big))
	}
	// The message in EVENTS is a stub that names the object.
	m, err := s.JetStream().Stream(ctx, EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := m.GetMsg(ctx, r.Seq)
	if err != nil || raw.Header.Get(ObjectHeader) == "" || len(raw.Data) > 1024 || !strings.Contains(string(raw.Data), `"bodyref":"forgehook_bodies/`) {
		t.Fatalf("stub: %d bytes, header %q, %v", len(raw.Data), raw.Header.Get(ObjectHeader), err)
	}
	// Dead letters and replays of it carry it whole too.
	if err := s.Dead(ctx, "t", "big-1", r.Seq, 3, "boom", []byte(big)); err != nil {
		t.Fatalf("dead: %v", err)
	}
	dl, _, err := s.ListDead(ctx, "", 0, 10)
	if err != nil || len(dl) != 1 {
		t.Fatalf("ListDead: %v %v", dl, err)
	}
	d, err := s.GetDead(ctx, dl[0].Seq)
	if err != nil || string(d.Event) != big {
		t.Fatalf("GetDead: %d bytes, %v", len(d.Event), err)
	}
}

// TestStoreEventStoredAfterTheCallerGaveUpIsIndexed: when ingest stops
// waiting (503) but the store takes the event anyway, the event is still
// indexed, so it is found by id and its redelivery is recognized.
func TestStoreEventStoredAfterTheCallerGaveUpIsIndexed(t *testing.T) {
	s := openEmbedded(t, t.TempDir())
	defer s.Close()
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Append(gone, "ep", Subject("ep", "github", "push"), "late-1", "late-1", evJSON("late-1"))
	if err == nil {
		t.Log("the store answered before the cancelled context was noticed")
	}
	ctx := context.Background()
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		_, err := s.Get(ctx, "late-1")
		return err
	})
	r, err := s.Append(ctx, "ep", Subject("ep", "github", "push"), "late-1-again", "late-1", evJSON("late-1-again"))
	if err != nil || !r.Duplicate || r.ID != "late-1" {
		t.Fatalf("redelivery = %+v, %v; want a duplicate of late-1", r, err)
	}
}
