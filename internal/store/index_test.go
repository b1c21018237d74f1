package store

import (
	"path/filepath"
	"testing"
	"time"
)

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
