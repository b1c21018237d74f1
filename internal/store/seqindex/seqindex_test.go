package seqindex

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
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
	ix, err := Open(path, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	const n = 100_000 // more than minIndexCap*0.7: the table must grow
	for i := uint64(1); i <= n; i++ {
		if err := ix.Insert(Hash(fmt.Sprint(i, "k")), i, now); err != nil {
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
		seqs, err := ix.Lookup(Hash(fmt.Sprint(i, "k")), now)
		if err != nil || len(seqs) != 1 || seqs[0] != i {
			t.Fatalf("after growing to %d slots: Lookup(%d) = %v, %v", ix.cap, i, seqs, err)
		}
	}
	if ix.used != n {
		t.Fatalf("used = %d, want %d", ix.used, n)
	}
	// Idempotent insert; a second sequence under the same hash is kept too.
	h := Hash("dup")
	_ = ix.Insert(h, 5, now)
	_ = ix.Insert(h, 5, now)
	_ = ix.Insert(h, 9, now)
	if seqs, _ := ix.Lookup(h, now); len(seqs) != 2 {
		t.Fatalf("Lookup(dup) = %v, want [5 9]", seqs)
	}
	// Entries older than the window are not found.
	old := Hash("old")
	_ = ix.Insert(old, 11, now.Add(-2*time.Hour))
	if seqs, _ := ix.Lookup(old, now); len(seqs) != 0 {
		t.Fatalf("expired entry found: %v", seqs)
	}
	if seqs, _ := ix.Lookup(Hash("never"), now); len(seqs) != 0 {
		t.Fatalf("unknown key found: %v", seqs)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopened, it still knows everything.
	ix, err = Open(path, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if seqs, _ := ix.Lookup(Hash(fmt.Sprint(777, "k")), now); len(seqs) != 1 || seqs[0] != 777 {
		t.Fatalf("after reopen: %v", seqs)
	}
	if ix.Last() < n {
		t.Fatalf("Last() = %d, want >= %d", ix.Last(), n)
	}
}

func TestStoreIndexGrowDropsExpiredEntries(t *testing.T) {
	ix, err := Open(filepath.Join(t.TempDir(), "x.idx"), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	now := time.Now()
	// 40 000 expired entries, then live ones until the table must grow:
	// the grow keeps the live ones only, so the table need not double.
	for i := uint64(1); i <= 40_000; i++ {
		if err := ix.Insert(Hash(fmt.Sprint("old", i)), i, now.Add(-2*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	for i := uint64(1); i <= 10_000; i++ {
		if err := ix.Insert(Hash(fmt.Sprint("new", i)), 100_000+i, now); err != nil {
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
		if seqs, _ := ix.Lookup(Hash(fmt.Sprint("new", i)), now); len(seqs) != 1 || seqs[0] != 100_000+i {
			t.Fatalf("Lookup(new%d) = %v", i, seqs)
		}
	}
}

// Every insert is found from the moment Insert returns: in the memtable,
// in the frozen one while a merge writes it, and in the file after, through
// merges and grows running concurrently with inserts and lookups.
func TestStoreIndexConcurrentMergesLoseNothing(t *testing.T) {
	ix, err := Open(filepath.Join(t.TempDir(), "x.idx"), time.Hour, nil)
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
				h := Hash(fmt.Sprint("k", seq))
				if err := ix.Insert(h, seq, now); err != nil {
					errs <- err
					return
				}
				// This one, and one inserted earlier.
				for _, s := range []uint64{seq, uint64(w*per + i/2 + 1)} {
					got, err := ix.Lookup(Hash(fmt.Sprint("k", s)), now)
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
	ix, err := Open(path, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	now := time.Now()
	for i := uint64(1); i <= 100; i++ {
		_ = ix.Insert(Hash(fmt.Sprint(i)), i, now)
	}
	if err := ix.flush(); err != nil {
		t.Fatal(err)
	}
	for i := uint64(101); i <= 150; i++ {
		_ = ix.Insert(Hash(fmt.Sprint(i)), i, now)
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
	cx, err := Open(crashed, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cx.Close()
	if cx.Last() != 100 {
		t.Fatalf("Last() after a crash = %d, want 100 (the merged entries)", cx.Last())
	}
	if got, _ := cx.Lookup(Hash("42"), now); len(got) != 1 || got[0] != 42 {
		t.Fatalf("merged entry lost: %v", got)
	}
	// Re-inserting what the tail replays is idempotent.
	for i := uint64(1); i <= 150; i++ {
		_ = cx.Insert(Hash(fmt.Sprint(i)), i, now)
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
	ix, err := Open(filepath.Join(t.TempDir(), "x.idx"), time.Hour, nil)
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
	ix, err := Open(path, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	now := time.Now()
	for i := uint64(1); i <= 500; i++ {
		_ = ix.Insert(Hash(fmt.Sprint(i)), i, now)
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
		_ = ix.Insert(Hash(fmt.Sprint(i)), i, now)
	}
	for _, i := range []uint64{1, 250, 500, 501, 600} {
		if got, err := ix.Lookup(Hash(fmt.Sprint(i)), now); err != nil || len(got) != 1 || got[0] != i {
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
		if got, _ := ix.Lookup(Hash(fmt.Sprint(i)), now); len(got) != 1 || got[0] != i {
			t.Fatalf("after the retried merge: Lookup(%d) = %v", i, got)
		}
	}
}

// Scan reports the live entries merged into the file, each once, and
// stops at its callback's error.
func TestStoreIndexScanReportsLiveMergedEntries(t *testing.T) {
	ix, err := Open(filepath.Join(t.TempDir(), "x.idx"), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	now := time.Now()
	for i := uint64(1); i <= 300; i++ {
		ts := now
		if i%3 == 0 {
			ts = now.Add(-2 * time.Hour) // expired
		}
		if err := ix.Insert(Hash(fmt.Sprint(i)), i, ts); err != nil {
			t.Fatal(err)
		}
	}
	if err := ix.flush(); err != nil {
		t.Fatal(err)
	}
	_ = ix.Insert(Hash("unmerged"), 1000, now)
	seen := map[uint64]bool{}
	err = ix.Scan(now, func(e Entry) error {
		if seen[e.Seq] || e.Hash != Hash(fmt.Sprint(e.Seq)) || e.Unix != now.Unix() {
			return fmt.Errorf("entry %+v: repeated, or not as inserted", e)
		}
		seen[e.Seq] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 200 || seen[3] || seen[1000] {
		t.Fatalf("Scan saw %d entries (want the 200 live merged ones; 3 expired: %v, unmerged: %v)", len(seen), seen[3], seen[1000])
	}
	stop := errors.New("stop")
	n := 0
	if err := ix.Scan(now, func(Entry) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("Scan after its callback's error: %v, %d calls", err, n)
	}
}

// The file format is fixed: a table laid out by hand, as an index of an
// earlier version wrote it, opens and answers; and what this version
// writes is laid out the same way.
func TestStoreIndexFileFormatIsStable(t *testing.T) {
	const slots = 1 << 16
	path := filepath.Join(t.TempDir(), "old.idx")
	now := time.Now()
	h := Hash("delivery-1")
	if h != binary.LittleEndian.Uint64(sha256Of("delivery-1")) {
		t.Fatalf("Hash changed: it is the file's key")
	}
	b := make([]byte, 64+slots*24)
	copy(b, "FHIDX001")
	binary.LittleEndian.PutUint64(b[8:], slots)
	binary.LittleEndian.PutUint64(b[16:], 1)  // used
	binary.LittleEndian.PutUint64(b[24:], 42) // highest sequence merged
	s := b[64+(h&(slots-1))*24:]
	binary.LittleEndian.PutUint64(s, h)
	binary.LittleEndian.PutUint64(s[8:], 42)
	binary.LittleEndian.PutUint64(s[16:], uint64(now.Unix()))
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	ix, err := Open(path, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ix.Lookup(h, now); err != nil || len(got) != 1 || got[0] != 42 || ix.Last() != 42 {
		t.Fatalf("hand-made table: Lookup = %v, %v; Last = %d", got, err, ix.Last())
	}
	h2 := Hash("delivery-2")
	if err := ix.Insert(h2, 43, now); err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	b, err = os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b[:8]) != "FHIDX001" || binary.LittleEndian.Uint64(b[8:]) != slots ||
		binary.LittleEndian.Uint64(b[16:]) != 2 || binary.LittleEndian.Uint64(b[24:]) != 43 {
		t.Fatalf("header written: % x", b[:32])
	}
	pos := h2 & (slots - 1)
	if pos == h&(slots-1) {
		pos = (pos + 1) & (slots - 1)
	}
	s = b[64+pos*24:]
	if binary.LittleEndian.Uint64(s) != h2 || binary.LittleEndian.Uint64(s[8:]) != 43 || int64(binary.LittleEndian.Uint64(s[16:])) != now.Unix() {
		t.Fatalf("slot written at %d: % x", pos, s[:24])
	}
}

func sha256Of(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:8]
}
