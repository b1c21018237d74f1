package deliver

import (
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/trigger"
)

// TestDeliverBackoffFullJitter checks the distribution of Backoff: every
// wait lies in [0, d] for d = min(max, initial * 2^(attempt-1)); the waits
// fill the whole window (full jitter, not the upper half of equal jitter:
// a quarter of them fall below d/4) with a mean near d/2; Retry-After is a
// floor.
func TestDeliverBackoffFullJitter(t *testing.T) {
	r := trigger.Retry{Initial: time.Second, Max: 30 * time.Second}
	const n = 20000
	for attempt, d := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 5: 16 * time.Second, 6: 30 * time.Second, 40: 30 * time.Second} {
		var sum time.Duration
		low, high := 0, 0
		for range n {
			w := Backoff(r, attempt, 0)
			if w < 0 || w > d {
				t.Fatalf("attempt %d: wait %s outside [0, %s]", attempt, w, d)
			}
			sum += w
			if w < d/4 {
				low++
			}
			if w > d/2 {
				high++
			}
		}
		// Binomial(n, 1/4) and (n, 1/2): 6 standard deviations are under 400.
		if low < n/4-400 || low > n/4+400 {
			t.Errorf("attempt %d: %d of %d waits below d/4, want about %d (full jitter)", attempt, low, n, n/4)
		}
		if high < n/2-450 || high > n/2+450 {
			t.Errorf("attempt %d: %d of %d waits above d/2, want about %d", attempt, high, n, n/2)
		}
		if mean := sum / n; mean < d/2-d/20 || mean > d/2+d/20 {
			t.Errorf("attempt %d: mean wait %s, want about %s", attempt, mean, d/2)
		}
	}
	for range 1000 {
		if w := Backoff(r, 1, 5*time.Second); w != 5*time.Second {
			t.Fatalf("Retry-After 5s over a window of 1s: wait %s, want 5s", w)
		}
		if w := Backoff(r, 3, 2*time.Second); w < 2*time.Second || w > 4*time.Second {
			t.Fatalf("Retry-After 2s in a window of 4s: wait %s, want in [2s, 4s]", w)
		}
	}
}
