package store

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// bigEvent is an encoded event with a body of size bytes and the fields a
// list's summary shows.
func bigEvent(id string, size int) []byte {
	return []byte(`{"id":"` + id + `","specversion":"1.0","time":"2026-12-07T10:00:00Z","endpoint":"ep","forge":"github",` +
		`"forgeevent":"push","data":{"header":{},"body":{"blob":"` + strings.Repeat("x", size) + `"},"normalized":{"kind":"push",` +
		`"ref":"refs/heads/main","repository":{"full_name":"o/r-` + id + `"}}}}`)
}

// heapInUse is the bytes of the live objects of the process's heap, the
// embedded server's included.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestStoreListIsBoundedInBytes: a list never reads large events from the
// object store (it holds their stubs, with every field a summary shows),
// and a page ends at its byte budget with a cursor that lists the rest:
// paging finds every event once.
func TestStoreListIsBoundedInBytes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := Open(ctx, Options{DataDir: t.TempDir(), MaxPayload: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// 8 events of 2 MiB go to the object store (16 MiB); 12 of 900 KiB
	// are stored whole in EVENTS (10.5 MiB), interleaved with them.
	const offloaded, inStream = 8, 12
	const bigSize, midSize = 2 << 20, 900 << 10
	want := map[string]bool{}
	for i := range offloaded + inStream {
		id, size := fmt.Sprintf("ev-%02d", i), midSize
		if i%5 == 0 || i%5 == 3 {
			size = bigSize
		}
		if _, err := s.Append(ctx, "ep", Subject("ep", "github", "push"), id, id, bigEvent(id, size)); err != nil {
			t.Fatalf("append %s (%d bytes): %v", id, size, err)
		}
		want[id] = size == bigSize
	}

	// held is what the answer holds: the heap in use with it, less the
	// heap in use once it is let go (the embedded server's block caches,
	// filled by the list, stay in both).
	recs, next, err := s.List(ctx, Filter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	with := heapInUse()
	runtime.KeepAlive(recs)
	first := len(recs)
	answer, whole := 0, offloaded*bigSize+inStream*midSize
	for _, r := range recs {
		answer += recordSize(r) + cap(r.Data) - len(r.Data)
	}
	recs = nil
	held := with - min(with, heapInUse())
	t.Logf("first page of %d events (limit 500): %d records, %d bytes of records, the answer holds %d KiB of heap; next %d",
		offloaded+inStream, first, answer, held>>10, next)
	if answer > ListMaxBytes {
		t.Fatalf("a page holds %d bytes of records, over its budget of %d", answer, ListMaxBytes)
	}
	if next == 0 || first == offloaded+inStream {
		t.Fatalf("a page of %d MiB of events ended with %d records and next %d: no budget", whole>>20, first, next)
	}
	// The page holds its budget (the whole events would be 26 MiB). The
	// measure also counts what the embedded server, in this process,
	// frees or keeps meanwhile (its block caches): up to 20 MiB measured.
	if held > 4*ListMaxBytes {
		t.Fatalf("one page holds %d MiB of heap", held>>20)
	}

	// Paging lists every event once, newest first; each page within its
	// budget; a large event as its stub, with its summary's fields.
	got := map[string]bool{}
	var last uint64
	pages := 0
	for before := uint64(0); ; pages++ {
		if pages > offloaded+inStream {
			t.Fatal("paging does not end")
		}
		recs, next, err := s.List(ctx, Filter{Limit: 500, Before: before})
		if err != nil {
			t.Fatal(err)
		}
		size := 0
		for _, r := range recs {
			size += recordSize(r)
			if last != 0 && r.Seq >= last {
				t.Fatalf("record %d after %d: not newest first", r.Seq, last)
			}
			last = r.Seq
			var f struct {
				ID   string `json:"id"`
				Data struct {
					Body       json.RawMessage `json:"body"`
					BodyRef    string          `json:"bodyref"`
					Normalized struct {
						Kind       string `json:"kind"`
						Repository struct {
							FullName string `json:"full_name"`
						} `json:"repository"`
					} `json:"normalized"`
				} `json:"data"`
			}
			if err := json.Unmarshal(r.Data, &f); err != nil {
				t.Fatalf("record %d: %v", r.Seq, err)
			}
			if got[f.ID] {
				t.Fatalf("%s listed twice", f.ID)
			}
			got[f.ID] = true
			if f.Data.Normalized.Kind != "push" || f.Data.Normalized.Repository.FullName != "o/r-"+f.ID {
				t.Fatalf("%s: summary fields lost: %+v", f.ID, f.Data.Normalized)
			}
			isBig, ok := want[f.ID]
			switch {
			case !ok:
				t.Fatalf("unknown event %q", f.ID)
			case isBig && (r.Object == "" || len(r.Data) > 4<<10 || string(f.Data.Body) != "null" || f.Data.BodyRef == ""):
				t.Fatalf("%s (offloaded): listed with %d bytes, object %q: want its stub", f.ID, len(r.Data), r.Object)
			case !isBig && (r.Object != "" || len(r.Data) < midSize):
				t.Fatalf("%s (in EVENTS): listed with %d bytes, object %q: want it whole", f.ID, len(r.Data), r.Object)
			}
		}
		if size > ListMaxBytes && len(recs) > 1 {
			t.Fatalf("page %d holds %d bytes of records", pages, size)
		}
		if next == 0 {
			break
		}
		before = next
	}
	if len(got) != len(want) {
		t.Fatalf("paging found %d of %d events", len(got), len(want))
	}
	t.Logf("%d pages list the %d events", pages+1, len(got))

	// A budget smaller than one record still lists one a page.
	recs, next, err = s.List(ctx, Filter{Limit: 500, MaxBytes: 1})
	if err != nil || len(recs) != 1 || next != recs[0].Seq {
		t.Fatalf("List with a 1-byte budget = %d records, next %d, %v; want one, and the cursor after it", len(recs), next, err)
	}
}
