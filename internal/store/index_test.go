package store

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestStoreIndexInsertLookupGrowExpire(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.idx")
	ix, err := openIndex(path, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	const n = 100_000 // more than minIndexCap*0.7: the table must grow
	for i := uint64(1); i <= n; i++ {
		if err := ix.Insert(keyHash(fmt.Sprint(i, "k")), i, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := ix.flush(); err != nil {
		t.Fatal(err)
	}
	if ix.cap <= minIndexCap {
		t.Fatalf("cap %d: the table did not grow", ix.cap)
	}
	for i := uint64(1); i <= n; i++ {
		seqs, err := ix.Lookup(keyHash(fmt.Sprint(i, "k")), now)
		if err != nil || len(seqs) != 1 || seqs[0] != i {
			t.Fatalf("after growing to %d slots: Lookup(%d) = %v, %v", ix.cap, i, seqs, err)
		}
	}
	if ix.used != n {
		t.Fatalf("used = %d, want %d", ix.used, n)
	}
	// Idempotent insert; a second sequence under the same hash is kept too.
	h := keyHash("dup")
	_ = ix.Insert(h, 5, now)
	_ = ix.Insert(h, 5, now)
	_ = ix.Insert(h, 9, now)
	if seqs, _ := ix.Lookup(h, now); len(seqs) != 2 {
		t.Fatalf("Lookup(dup) = %v, want [5 9]", seqs)
	}
	// Entries older than the window are not found.
	old := keyHash("old")
	_ = ix.Insert(old, 11, now.Add(-2*time.Hour))
	if seqs, _ := ix.Lookup(old, now); len(seqs) != 0 {
		t.Fatalf("expired entry found: %v", seqs)
	}
	if seqs, _ := ix.Lookup(keyHash("never"), now); len(seqs) != 0 {
		t.Fatalf("unknown key found: %v", seqs)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopened, it still knows everything.
	ix, err = openIndex(path, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if seqs, _ := ix.Lookup(keyHash(fmt.Sprint(777, "k")), now); len(seqs) != 1 || seqs[0] != 777 {
		t.Fatalf("after reopen: %v", seqs)
	}
	if ix.Last() < n {
		t.Fatalf("Last() = %d, want >= %d", ix.Last(), n)
	}
}

func TestStoreIndexRebuiltFromStream(t *testing.T) {
	// An index lost with the data directory's index/ folder is rebuilt by
	// the tail of EVENTS: dedup and lookups by id keep working.
	dir := t.TempDir()
	s := openEmbedded(t, dir)
	ctx := t.Context()
	if _, err := s.Append(ctx, "ep", Subject("ep", "github", "push"), "id-1", "key-1", evJSON("id-1")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := removeAll(filepath.Join(dir, "index")); err != nil {
		t.Fatal(err)
	}
	s = openEmbedded(t, dir)
	defer s.Close()
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		_, err := s.Get(ctx, "id-1")
		return err
	})
	r, err := s.Append(ctx, "ep", Subject("ep", "github", "push"), "id-2", "key-1", evJSON("id-2"))
	if err != nil || !r.Duplicate || r.ID != "id-1" {
		t.Fatalf("redelivery after index rebuild = %+v, %v", r, err)
	}
}

func TestStoreIndexGrowDropsExpiredEntries(t *testing.T) {
	ix, err := openIndex(filepath.Join(t.TempDir(), "x.idx"), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	now := time.Now()
	// 40 000 expired entries, then live ones until the table must grow:
	// the grow keeps the live ones only, so the table need not double.
	for i := uint64(1); i <= 40_000; i++ {
		if err := ix.Insert(keyHash(fmt.Sprint("old", i)), i, now.Add(-2*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	for i := uint64(1); i <= 10_000; i++ {
		if err := ix.Insert(keyHash(fmt.Sprint("new", i)), 100_000+i, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := ix.flush(); err != nil {
		t.Fatal(err)
	}
	if ix.cap != minIndexCap {
		t.Fatalf("cap %d: expired entries were kept through a grow", ix.cap)
	}
	for i := uint64(1); i <= 10_000; i++ {
		if seqs, _ := ix.Lookup(keyHash(fmt.Sprint("new", i)), now); len(seqs) != 1 || seqs[0] != 100_000+i {
			t.Fatalf("Lookup(new%d) = %v", i, seqs)
		}
	}
}

// Every insert is found from the moment Insert returns: in the memtable,
// in the frozen one while a merge writes it, and in the file after, through
// merges and grows running concurrently with inserts and lookups.
func TestStoreIndexConcurrentMergesLoseNothing(t *testing.T) {
	ix, err := openIndex(filepath.Join(t.TempDir(), "x.idx"), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	ix.mergeAt.Store(97) // merge often
	now := time.Now()
	const writers, per = 4, 30_000 // 120 000 entries: two grows
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range per {
				seq := uint64(w*per + i + 1)
				h := keyHash(fmt.Sprint("k", seq))
				if err := ix.Insert(h, seq, now); err != nil {
					errs <- err
					return
				}
				// This one, and one inserted earlier.
				for _, s := range []uint64{seq, uint64(w*per + i/2 + 1)} {
					got, err := ix.Lookup(keyHash(fmt.Sprint("k", s)), now)
					if err != nil || len(got) != 1 || got[0] != s {
						errs <- fmt.Errorf("Lookup(k%d) = %v, %v", s, got, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := ix.flush(); err != nil {
		t.Fatal(err)
	}
	if ix.used != writers*per {
		t.Fatalf("used = %d, want %d", ix.used, writers*per)
	}
}

// After a crash the file holds what was merged, and its header the highest
// sequence merged: the store's tail indexes the rest again from there.
func TestStoreIndexCrashKeepsMergedEntries(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.idx")
	ix, err := openIndex(path, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	now := time.Now()
	for i := uint64(1); i <= 100; i++ {
		_ = ix.Insert(keyHash(fmt.Sprint(i)), i, now)
	}
	if err := ix.flush(); err != nil {
		t.Fatal(err)
	}
	for i := uint64(101); i <= 150; i++ {
		_ = ix.Insert(keyHash(fmt.Sprint(i)), i, now)
	}
	// A copy of the file now is what a kill -9 leaves.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	crashed := filepath.Join(dir, "crashed.idx")
	if err := os.WriteFile(crashed, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cx, err := openIndex(crashed, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cx.Close()
	if cx.Last() != 100 {
		t.Fatalf("Last() after a crash = %d, want 100 (the merged entries)", cx.Last())
	}
	if got, _ := cx.Lookup(keyHash("42"), now); len(got) != 1 || got[0] != 42 {
		t.Fatalf("merged entry lost: %v", got)
	}
	// Re-inserting what the tail replays is idempotent.
	for i := uint64(1); i <= 150; i++ {
		_ = cx.Insert(keyHash(fmt.Sprint(i)), i, now)
	}
	if err := cx.flush(); err != nil {
		t.Fatal(err)
	}
	if cx.used != 150 {
		t.Fatalf("used = %d after replay, want 150", cx.used)
	}
}

// Probes that run past the table's end continue at its start, where the
// same merge has already written entries: nothing is overwritten.
func TestStoreIndexMergeWrapsAround(t *testing.T) {
	ix, err := openIndex(filepath.Join(t.TempDir(), "x.idx"), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	now := time.Now()
	last := uint64(minIndexCap - 1)
	var hs []uint64
	for k := uint64(1); k <= 6; k++ {
		hs = append(hs, k<<20|last, k<<20, k<<20|1) // homes: the last slot, the first two
	}
	for round := range 2 { // in one merge, then on top of a merged table
		for i, h := range hs {
			if err := ix.Insert(h, uint64(100*round+i+1), now); err != nil {
				t.Fatal(err)
			}
		}
		if err := ix.flush(); err != nil {
			t.Fatal(err)
		}
	}
	for round := range 2 {
		for i, h := range hs {
			got, err := ix.Lookup(h, now)
			if err != nil || !slices.Contains(got, uint64(100*round+i+1)) {
				t.Fatalf("Lookup(%#x) = %v, %v; want it to hold %d", h, got, err, 100*round+i+1)
			}
		}
	}
	if ix.used != uint64(2*len(hs)) {
		t.Fatalf("used = %d, want %d", ix.used, 2*len(hs))
	}
}

// A merge that cannot write keeps its entries in memory, where lookups
// still find them, and the next merge writes them.
func TestStoreIndexFailedMergeIsRetried(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.idx")
	ix, err := openIndex(path, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	now := time.Now()
	for i := uint64(1); i <= 500; i++ {
		_ = ix.Insert(keyHash(fmt.Sprint(i)), i, now)
	}
	ro, err := os.Open(path) // read-only: every write fails
	if err != nil {
		t.Fatal(err)
	}
	ix.mergeMu.Lock()
	ix.fmu.Lock()
	rw := ix.f
	ix.f = ro
	ix.fmu.Unlock()
	ix.mergeMu.Unlock()
	if err := ix.merge(); err == nil {
		t.Fatal("merge into a read-only file succeeded")
	}
	for i := uint64(501); i <= 600; i++ {
		_ = ix.Insert(keyHash(fmt.Sprint(i)), i, now)
	}
	for _, i := range []uint64{1, 250, 500, 501, 600} {
		if got, err := ix.Lookup(keyHash(fmt.Sprint(i)), now); err != nil || len(got) != 1 || got[0] != i {
			t.Fatalf("after a failed merge: Lookup(%d) = %v, %v", i, got, err)
		}
	}
	ix.mergeMu.Lock()
	ix.fmu.Lock()
	ix.f = rw
	ix.fmu.Unlock()
	ix.mergeMu.Unlock()
	ro.Close()
	if err := ix.flush(); err != nil {
		t.Fatal(err)
	}
	if ix.used != 600 {
		t.Fatalf("used = %d after the retried merge, want 600", ix.used)
	}
	ix.mu.Lock()
	pending := len(ix.mem.entries)
	ix.mu.Unlock()
	if pending != 0 || ix.frozen != nil {
		t.Fatalf("%d entries still in memory after flush", pending)
	}
	for _, i := range []uint64{1, 250, 500, 501, 600} {
		if got, _ := ix.Lookup(keyHash(fmt.Sprint(i)), now); len(got) != 1 || got[0] != i {
			t.Fatalf("after the retried merge: Lookup(%d) = %v", i, got)
		}
	}
}
