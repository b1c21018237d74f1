package store

import (
	"bytes"
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/store/seqindex"
)

// benchEvent is an encoded event of about the size of a stored GitHub push
// (an 8 KB body plus headers and the normalized view).
func benchEvent() []byte {
	var b bytes.Buffer
	b.WriteString(`{"specversion":"1.0","id":"x","type":"dev.forgehook.push","data":{"body":{"pad":"`)
	b.Write(bytes.Repeat([]byte("x"), 9<<10))
	b.WriteString(`"}}}`)
	return b.Bytes()
}

func benchStore(b *testing.B, opts Options) *Store {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts.DataDir = b.TempDir()
	s, err := Open(ctx, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func benchAppend(b *testing.B, opts Options) {
	s := benchStore(b, opts)
	data := benchEvent()
	subj := Subject("gh", "github", "push")
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	i := 0
	for b.Loop() {
		i++
		id := "bench-" + strconv.Itoa(i)
		r, err := s.Append(ctx, "gh", subj, id, id, data)
		if err != nil || r.Duplicate {
			b.Fatalf("Append = %+v, %v", r, err)
		}
	}
}

// BenchmarkStoreAppend is one Append of a new delivery on the embedded
// store with the default durability: dedup lookup, publish, wait for the
// ack, index.
func BenchmarkStoreAppend(b *testing.B) { benchAppend(b, Options{}) }

// BenchmarkStoreAppendSyncAlways is BenchmarkStoreAppend with an fsync per
// message (store.sync: always): it measures the disk.
func BenchmarkStoreAppendSyncAlways(b *testing.B) { benchAppend(b, Options{SyncAlways: true}) }

// BenchmarkStoreAppendParallel is BenchmarkStoreAppend from
// 8×GOMAXPROCS goroutines at once.
func BenchmarkStoreAppendParallel(b *testing.B) {
	s := benchStore(b, Options{})
	data := benchEvent()
	subj := Subject("gh", "github", "push")
	ctx := context.Background()
	var n atomic.Uint64
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := "bench-" + strconv.FormatUint(n.Add(1), 10)
			if r, err := s.Append(ctx, "gh", subj, id, id, data); err != nil || r.Duplicate {
				b.Errorf("Append = %+v, %v", r, err)
				return
			}
		}
	})
}

// BenchmarkStoreAppendDuplicate is an Append of a delivery already stored:
// the dedup index finds it and the stream confirms it.
func BenchmarkStoreAppendDuplicate(b *testing.B) {
	s := benchStore(b, Options{})
	data := benchEvent()
	subj := Subject("gh", "github", "push")
	ctx := context.Background()
	if _, err := s.Append(ctx, "gh", subj, "orig", "key", data); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if r, err := s.Append(ctx, "gh", subj, "again", "key", data); err != nil || !r.Duplicate {
			b.Fatalf("Append = %+v, %v", r, err)
		}
	}
}

// BenchmarkStoreKeyHash is the hash of a delivery key (dedupKey and
// keyHash, as Append computes them).
func BenchmarkStoreKeyHash(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = seqindex.Hash(dedupKey("gh", "8c8ea0ad-1d21-5f7e-b29b-6eb5b43a3c0f"))
	}
}
