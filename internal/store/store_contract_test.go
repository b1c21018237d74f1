package store_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/store"
)

// documented returns the streams, KV buckets and object stores that the
// table under "## Streams, buckets and subjects" in docs/events.md names,
// as "kind name" ("stream EVENTS", "kv forgehook_endpoints", "object
// forgehook_bodies").
func documented(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../docs/events.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Streams, buckets and subjects\n")
	if !ok {
		t.Fatal("docs/events.md has no section \"Streams, buckets and subjects\"")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var out []string
	for line := range strings.Lines(section) {
		cells := strings.Split(strings.TrimSpace(line), "|")
		if len(cells) < 4 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue // not a table row, or the header or rule
		}
		name := strings.Trim(strings.TrimSpace(cells[1]), "`")
		kind := strings.TrimSpace(cells[2])
		switch {
		case strings.HasPrefix(kind, "stream"):
			out = append(out, "stream "+name)
		case kind == "KV bucket":
			out = append(out, "kv "+name)
		case kind == "object store":
			out = append(out, "object "+name)
		default:
			t.Errorf("docs/events.md: %s has kind %q, want stream, KV bucket or object store", name, kind)
		}
	}
	if len(out) == 0 {
		t.Fatal("docs/events.md: no row in the streams and buckets table")
	}
	slices.Sort(out)
	return out
}

// TestStoreContractMatchesDocs opens an embedded store, stores an event
// too large for one message (so that the object store exists too), and
// compares the streams, KV buckets and object stores JetStream then holds
// with the table of docs/events.md, the public contract: one that either
// side has and the other lacks fails the test.
func TestStoreContractMatchesDocs(t *testing.T) {
	want := documented(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// A 64 KiB message limit makes a 100 KiB event go to the object store.
	s, err := store.Open(ctx, store.Options{DataDir: t.TempDir(), MaxPayload: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	big := fmt.Sprintf(`{"id":"big-1","specversion":"1.0","data":{"header":{},"body":{"blob":%q},"normalized":{"kind":"push"}}}`, strings.Repeat("x", 100<<10))
	if _, err := s.Append(ctx, "ep", store.Subject("ep", "github", "push"), "big-1", "big-1", []byte(big)); err != nil {
		t.Fatalf("append a 100 KiB event: %v", err)
	}

	js := s.JetStream()
	var got []string
	streams := js.StreamNames(ctx)
	for name := range streams.Name() {
		// KV buckets and object stores are streams named KV_<bucket>
		// and OBJ_<bucket>: they are listed by their own kind below.
		if !strings.HasPrefix(name, "KV_") && !strings.HasPrefix(name, "OBJ_") {
			got = append(got, "stream "+name)
		}
	}
	if err := streams.Err(); err != nil {
		t.Fatalf("stream names: %v", err)
	}
	kvs := js.KeyValueStoreNames(ctx)
	for name := range kvs.Name() {
		got = append(got, "kv "+name)
	}
	if err := kvs.Error(); err != nil {
		t.Fatalf("KV bucket names: %v", err)
	}
	objs := js.ObjectStoreNames(ctx)
	for name := range objs.Name() {
		got = append(got, "object "+name)
	}
	if err := objs.Error(); err != nil {
		t.Fatalf("object store names: %v", err)
	}
	slices.Sort(got)

	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("docs/events.md documents %s, which the store does not create", w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			t.Errorf("the store creates %s, which docs/events.md does not document", g)
		}
	}
	t.Logf("documented and created: %v", got)
}
