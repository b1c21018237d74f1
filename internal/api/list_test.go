package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/deliver"
	"github.com/forgehook/forgehook/internal/store"
	"github.com/forgehook/forgehook/internal/trigger"
)

// replayRecorder is a Delivery that records the events a replay hands it.
type replayRecorder struct {
	mu  sync.Mutex
	got map[string][]byte
}

func (d *replayRecorder) EventStatus(context.Context, store.Record, string) ([]deliver.Status, error) {
	return []deliver.Status{}, nil
}

func (d *replayRecorder) ReplayEvent(_ context.Context, raw []byte, id, _ string, _ bool) ([]string, []deliver.Skip, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.got[id] = raw
	return []string{"t"}, nil, nil
}

func (d *replayRecorder) ReplayDead(context.Context, uint64, bool) (store.DeadLetter, error) {
	return store.DeadLetter{}, store.ErrNotFound
}
func (d *replayRecorder) Triggers() []string                              { return []string{"t"} }
func (d *replayRecorder) Trigger(string) (*trigger.Trigger, bool)         { return nil, false }
func (d *replayRecorder) Pending(context.Context, string) (uint64, error) { return 0, nil }

// TestAPIListOfLargeEventsShowsTheirStubs: events too large for one
// message are listed from their stubs, with every summary field, in a
// small answer; a range replay still hands the triggers each whole.
func TestAPIListOfLargeEventsShowsTheirStubs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := store.Open(ctx, store.Options{DataDir: t.TempDir(), MaxPayload: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rec := &replayRecorder{got: map[string][]byte{}}
	srv := httptest.NewServer((&Server{Events: st, Dead: st, Delivery: rec}).Handler())
	t.Cleanup(srv.Close)
	const n, size = 6, 3 << 20
	sizes := map[string]int{}
	for i := range n {
		id := fmt.Sprintf("big-%d", i)
		ev := fmt.Sprintf(`{"specversion":"1.0","id":%q,"time":"2026-11-23T10:00:00Z","endpoint":"gh","forge":"github","forgeevent":"push",`+
			`"data":{"header":{},"body":{"pad":%q},"normalized":{"kind":"push","repository":{"full_name":"acme/app-%d"},"ref":"refs/heads/main"}}}`,
			id, strings.Repeat("x", size), i)
		if _, err := st.Append(ctx, "gh", store.Subject("gh", "github", "push"), id, id, []byte(ev)); err != nil {
			t.Fatal(err)
		}
		sizes[id] = len(ev)
	}

	code, body := call(t, "GET", srv.URL+"/api/v1/events?limit=500", "", "")
	var list EventList
	if err := json.Unmarshal([]byte(body), &list); code != 200 || err != nil {
		t.Fatalf("list: %d %v", code, err)
	}
	if len(list.Events) != n || len(body) > 16<<10 {
		t.Fatalf("list of %d events of %d MiB: %d summaries in %d bytes", n, size>>20, len(list.Events), len(body))
	}
	for i, s := range list.Events {
		want := fmt.Sprintf("acme/app-%d", n-1-i)
		if s.ID != fmt.Sprintf("big-%d", n-1-i) || s.Kind != "push" || s.Repository != want || s.Endpoint != "gh" ||
			s.Forge != "github" || s.ForgeEvent != "push" || s.Ref != "refs/heads/main" || s.Time.IsZero() {
			t.Fatalf("summary %d of a large event: %+v", i, s)
		}
	}
	t.Logf("GET /api/v1/events?limit=500 over %d events of %d MiB: %d bytes", n, size>>20, len(body))
	// The repository filter reads the stubs too.
	if code, body := call(t, "GET", srv.URL+"/api/v1/events?repository=acme/app-2", "", ""); code != 200 || !strings.Contains(body, `"big-2"`) || strings.Contains(body, `"big-3"`) {
		t.Fatalf("list by repository: %d %s", code, body)
	}

	code, body = call(t, "POST", srv.URL+"/api/v1/replay", "", `{"since":"2000-01-01T00:00:00Z"}`)
	if code != 200 {
		t.Fatalf("replay: %d %s", code, body)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for id, want := range sizes {
		if got := rec.got[id]; len(got) != want || strings.Contains(string(got), `"bodyref"`) {
			t.Fatalf("replay of %s handed %d bytes to the triggers, want the whole %d", id, len(got), want)
		}
	}
}
