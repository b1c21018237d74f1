package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestStoreCatchUpGatesKeyedAppends checks the catch-up hook: while an
// index is catching up, CaughtUp names it and a delivery with a dedup key
// is refused with ErrNotReady (one without a key is stored); once done,
// both are stored. A second replica opened with an empty data directory
// catches up with what the first stored and finds its redelivery.
func TestStoreCatchUpGatesKeyedAppends(t *testing.T) {
	ctx := context.Background()
	url := oneServer(t)
	a, err := Open(ctx, Options{URL: url, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error { return a.Ready(ctx) })
	checkFor(t, 10*time.Second, 20*time.Millisecond, a.CaughtUp)
	subj := Subject("ep", "github", "push")
	done := a.CatchingUp("a test index")
	if err := a.CaughtUp(); !errors.Is(err, ErrNotReady) {
		t.Fatalf("CaughtUp while catching up: %v, want ErrNotReady", err)
	}
	if _, err := a.Append(ctx, "ep", subj, "id-keyed", "delivery-1", evJSON("id-keyed")); !errors.Is(err, ErrNotReady) {
		t.Fatalf("keyed Append while catching up: %v, want ErrNotReady", err)
	}
	if _, err := a.Append(ctx, "ep", subj, "id-unkeyed", "", evJSON("id-unkeyed")); err != nil {
		t.Fatalf("unkeyed Append while catching up: %v", err)
	}
	done()
	done()
	if err := a.CaughtUp(); err != nil {
		t.Fatalf("CaughtUp after done: %v", err)
	}
	for i := range 300 {
		if _, err := a.Append(ctx, "ep", subj, fmt.Sprintf("id-%d", i), fmt.Sprintf("delivery-%d", i), evJSON(fmt.Sprintf("id-%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	b, err := Open(ctx, Options{URL: url, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error { return b.Ready(ctx) })
	checkFor(t, 10*time.Second, 20*time.Millisecond, b.CaughtUp)
	res, err := b.Append(ctx, "ep", subj, "id-new", "delivery-7", evJSON("id-new"))
	if err != nil || !res.Duplicate || res.ID != "id-7" {
		t.Fatalf("redelivery on the caught-up replica: %+v %v, want a duplicate of id-7", res, err)
	}
}
