package e2e

import (
	"testing"
	"time"
)

// holdFor checks that f stays true for d, polling it: the test fails as
// soon as f turns false. It checks that something does NOT happen (no
// further request, no delivery of a dry run), where no event marks the
// moment it would have happened by.
func holdFor(t *testing.T, d time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if !f() {
			t.Fatalf("%s did not hold for %s", what, d)
		}
		if time.Now().After(deadline) {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
}
