package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/deliver"
	"github.com/forgehook/forgehook/internal/store"
	"github.com/forgehook/forgehook/internal/trigger"
)

// statusRecorder is a Delivery that records the size of each record it
// is asked the status of.
type statusRecorder struct {
	mu  sync.Mutex
	got map[string]int
}

func (d *statusRecorder) EventStatus(_ context.Context, rec store.Record, id string) ([]deliver.Status, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.got[id] = len(rec.Data)
	return []deliver.Status{{Trigger: "t", State: "pending", Matches: true, Attempts: []store.Attempt{}}}, nil
}

func (d *statusRecorder) ReplayEvent(context.Context, []byte, string, string, bool) ([]string, []deliver.Skip, error) {
	return nil, nil, nil
}

func (d *statusRecorder) ReplayDead(context.Context, uint64, bool) (store.DeadLetter, error) {
	return store.DeadLetter{}, store.ErrNotFound
}
func (d *statusRecorder) Triggers() []string                              { return []string{"t"} }
func (d *statusRecorder) Trigger(string) (*trigger.Trigger, bool)         { return nil, false }
func (d *statusRecorder) Pending(context.Context, string) (uint64, error) { return 0, nil }

// TestWebEventsListShowsLargeEvents: the events list shows the events too
// large for one message (listed from their stubs) with their summary, and
// their state on the triggers is computed on the whole event, which the
// triggers' when may read.
func TestWebEventsListShowsLargeEvents(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := store.Open(ctx, store.Options{DataDir: t.TempDir(), MaxPayload: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rec := &statusRecorder{got: map[string]int{}}
	ui := New(Options{Events: st, Dead: st, Delivery: rec, Logger: slog.New(slog.DiscardHandler)})
	sizes := map[string]int{}
	for i := range 3 {
		id := fmt.Sprintf("big-%d", i)
		ev := fmt.Sprintf(`{"specversion":"1.0","id":%q,"time":"2026-11-23T10:00:00Z","endpoint":"gh","forge":"github","forgeevent":"push",`+
			`"data":{"header":{},"body":{"pad":%q},"normalized":{"kind":"push","repository":{"full_name":"acme/app-%d"},"ref":"refs/heads/main"}}}`,
			id, strings.Repeat("x", 2<<20), i)
		if _, err := st.Append(ctx, "gh", store.Subject("gh", "github", "push"), id, id, []byte(ev)); err != nil {
			t.Fatal(err)
		}
		sizes[id] = len(ev)
	}
	w := httptest.NewRecorder()
	ui.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/events", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("GET /events: %d %s", w.Code, w.Body)
	}
	page := w.Body.String()
	for i := range 3 {
		if !strings.Contains(page, fmt.Sprintf("big-%d", i)) || !strings.Contains(page, fmt.Sprintf("acme/app-%d", i)) {
			t.Fatalf("the events list lacks big-%d or its repository", i)
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for id, want := range sizes {
		if rec.got[id] != want {
			t.Fatalf("the status of %s was computed on %d bytes, want the whole %d", id, rec.got[id], want)
		}
	}
}
