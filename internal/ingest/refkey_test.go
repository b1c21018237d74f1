package ingest

import (
	"testing"

	"github.com/forgehook/forgehook/internal/event"
)

// TestIngestRefKeyPushEvents: the push events of every polled forge get a
// ref key; other events, Gitea's create twin, deletions and zero heads do
// not.
func TestIngestRefKeyPushEvents(t *testing.T) {
	push := event.Fields{Kind: event.KindPush, Ref: "refs/heads/main", After: "abc1", Repository: event.Repository{FullName: "acme/app"}}
	for _, ev := range []string{"push", "Push Hook", "Tag Push Hook", "push_hooks", "tag_push_hooks", "repo:push", "repo:refs_changed"} {
		if got := RefKey(ev, &push); got != "ref:acme/app:refs/heads/main:abc1" {
			t.Errorf("%q: key %q", ev, got)
		}
	}
	for _, ev := range []string{"create", "Merge Request Hook", "pullrequest:created", "pr:opened", ""} {
		if got := RefKey(ev, &push); got != "" {
			t.Errorf("%q: key %q, want none", ev, got)
		}
	}
	del := push
	del.Deleted = true
	zero := push
	zero.After = "0000000000000000000000000000000000000000"
	for _, f := range []event.Fields{del, zero} {
		if got := RefKey("repo:push", &f); got != "" {
			t.Errorf("%+v: key %q, want none", f, got)
		}
	}
}
