package store

import (
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
		if err := ix.Insert(keyHash(string(rune(i))+"k"), i, now); err != nil {
			t.Fatal(err)
		}
	}
	if ix.cap <= minIndexCap {
		t.Fatalf("cap %d: the table did not grow", ix.cap)
	}
	for _, i := range []uint64{1, 777, n} {
		seqs, err := ix.Lookup(keyHash(string(rune(i))+"k"), now)
		if err != nil || len(seqs) != 1 || seqs[0] != i {
			t.Fatalf("Lookup(%d) = %v, %v", i, seqs, err)
		}
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
	if seqs, _ := ix.Lookup(keyHash(string(rune(777))+"k"), now); len(seqs) != 1 || seqs[0] != 777 {
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
