package deliver

import (
	"math/rand/v2"
	"time"

	"github.com/forgehook/forgehook/internal/trigger"
)

// Backoff returns the wait before the attempt after attempt (counted from
// 1): exponential backoff with full jitter, a uniformly random wait in
// [0, d] with d = min(Max, Initial * 2^(attempt-1)). The ceiling grows with
// each attempt, and senders that failed together are spread over the whole
// window rather than its upper half (equal jitter), so they are not hit
// together again. A target's Retry-After is a floor: the wait is never
// shorter than it asks.
func Backoff(r trigger.Retry, attempt int, retryAfter time.Duration) time.Duration {
	d := r.Initial
	for i := 1; i < attempt && d < r.Max; i++ {
		d *= 2
	}
	d = min(d, r.Max)
	wait := time.Duration(rand.Int64N(int64(d) + 1))
	return max(wait, retryAfter)
}
