package gitea

import (
	"slices"
	"strings"
	"testing"
)

// FuzzGiteaFold checks that folding is idempotent, sorted, and keeps every
// event not implied by another.
func FuzzGiteaFold(f *testing.F) {
	f.Add("push,pull_request,pull_request_sync,issues,issue_comment,create")
	f.Add("issue_comment,pull_request_comment")
	f.Fuzz(func(t *testing.T, s string) {
		ev := strings.Split(s, ",")
		got := Fold(ev)
		if !slices.IsSorted(got) || !slices.Equal(Fold(got), got) {
			t.Fatalf("Fold(%v) = %v, not a sorted fixed point", ev, got)
		}
		for _, e := range ev {
			implied := (slices.Contains(ev, "pull_request") && strings.HasPrefix(e, "pull_request_")) ||
				(slices.Contains(ev, "issues") && strings.HasPrefix(e, "issue_"))
			if !implied && !slices.Contains(got, e) {
				t.Fatalf("Fold(%v) lost %q", ev, e)
			}
		}
	})
}
