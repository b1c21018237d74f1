package store

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

func TestStoreIndexInsertLookupGrowExpire(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.idx")
	ix, err := openIndex(path, time.Hour)
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
	ix, err = openIndex(path, time.Hour)
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
	ix, err := openIndex(filepath.Join(t.TempDir(), "x.idx"), time.Hour)
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
	if ix.cap != minIndexCap {
		t.Fatalf("cap %d: expired entries were kept through a grow", ix.cap)
	}
	for i := uint64(1); i <= 10_000; i++ {
		if seqs, _ := ix.Lookup(keyHash(fmt.Sprint("new", i)), now); len(seqs) != 1 || seqs[0] != 100_000+i {
			t.Fatalf("Lookup(new%d) = %v", i, seqs)
		}
	}
}
