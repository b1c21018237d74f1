package api

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// Admin views that read whole stored events (the event list, one event,
// its body, dead letters, range replays) hold the event in memory, a few
// times over, while they answer: up to a few times max_body each. A Gate
// lets only so many of them run at once, so that no burst of admin
// requests can take the memory that ingest needs.
const (
	// ViewSlots is how many such views run at once.
	ViewSlots = 4
	// ViewWait is how long a view waits for a slot before it is answered
	// 503 with Retry-After.
	ViewWait = 10 * time.Second
)

// Gate bounds how many heavy admin views run at once. Share one between
// the API and the UI. A nil *Gate lets everything through.
type Gate struct {
	slots chan struct{}
	wait  time.Duration
}

// NewGate returns a Gate of n slots; a request waits at most wait for one.
func NewGate(n int, wait time.Duration) *Gate {
	return &Gate{slots: make(chan struct{}, max(1, n)), wait: wait}
}

// Enter waits for a slot, at most g's wait and while ctx lasts. It
// returns the function that frees the slot, or false when none came.
func (g *Gate) Enter(ctx context.Context) (leave func(), ok bool) {
	if g == nil {
		return func() {}, true
	}
	select {
	case g.slots <- struct{}{}:
		return func() { <-g.slots }, true
	default:
	}
	t := time.NewTimer(g.wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return func() { <-g.slots }, true
	case <-t.C:
		return nil, false
	case <-ctx.Done():
		return nil, false
	}
}

// Wrap runs next inside a slot; without one it calls busy (nil: a JSON
// 503 with Retry-After).
func (g *Gate) Wrap(next http.Handler, busy http.HandlerFunc) http.Handler {
	if g == nil {
		return next
	}
	if busy == nil {
		busy = func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", strconv.Itoa(int(g.wait/time.Second)+1))
			writeError(w, http.StatusServiceUnavailable, "too many admin requests that read stored events are running: retry shortly")
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leave, ok := g.Enter(r.Context())
		if !ok {
			busy(w, r)
			return
		}
		defer leave()
		next.ServeHTTP(w, r)
	})
}
