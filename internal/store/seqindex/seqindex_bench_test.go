package seqindex

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func benchIndex(b *testing.B, prefill int) (*Index, time.Time) {
	b.Helper()
	ix, err := Open(filepath.Join(b.TempDir(), "bench.idx"), time.Hour, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ix.Close() })
	now := time.Now()
	for i := range prefill {
		if err := ix.Insert(Hash("k"+strconv.Itoa(i)), uint64(i+1), now); err != nil {
			b.Fatal(err)
		}
	}
	return ix, now
}

// BenchmarkStoreIndexInsert inserts new keys into a dedup index: the
// memtable insert, with the merges and grows it starts running in the
// background.
func BenchmarkStoreIndexInsert(b *testing.B) {
	ix, now := benchIndex(b, 0)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if err := ix.Insert(Hash("k"+strconv.Itoa(i)), uint64(i), now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStoreIndexLookupHit looks up present keys in an index of 100 000.
func BenchmarkStoreIndexLookupHit(b *testing.B) {
	const n = 100_000
	ix, now := benchIndex(b, n)
	hashes := make([]uint64, n)
	for i := range hashes {
		hashes[i] = Hash("k" + strconv.Itoa(i))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		seqs, err := ix.Lookup(hashes[i%n], now)
		if err != nil || len(seqs) != 1 {
			b.Fatalf("Lookup = %v, %v", seqs, err)
		}
		i++
	}
}

// BenchmarkStoreIndexLookupMiss looks up absent keys (every new delivery)
// in an index of 100 000.
func BenchmarkStoreIndexLookupMiss(b *testing.B) {
	const n = 100_000
	ix, now := benchIndex(b, n)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		seqs, err := ix.Lookup(Hash("absent"+strconv.Itoa(i)), now)
		if err != nil || len(seqs) != 0 {
			b.Fatalf("Lookup = %v, %v", seqs, err)
		}
	}
}
