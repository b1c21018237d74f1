package forge

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/forgehook/forgehook/internal/event"
)

func TestForgePipelineStatusVocabulary(t *testing.T) {
	for in, want := range map[string]string{
		"":                     "",
		"in_progress":          event.StatusRunning,
		"IN_PROGRESS":          event.StatusRunning,
		"inProgress":           event.StatusRunning,
		"SUCCESSFUL":           event.StatusSuccess,
		"succeeded":            event.StatusSuccess,
		"timed_out":            event.StatusFailure,
		"partiallySucceeded":   event.StatusFailure,
		"canceled":             event.StatusCancelled,
		"action_required":      event.StatusWaiting,
		"manual":               event.StatusWaiting,
		"pending":              event.StatusQueued,
		"waiting_for_resource": event.StatusQueued,
		"skipped":              event.StatusSkipped,
		"SUCCEED":              event.StatusSuccess, // coding.net
		"NOT_BUILT":            event.StatusSkipped,
		"neutral":              event.StatusNeutral,
		"completed":            "", // a phase, not a verdict: the conclusion tells
		"bogus":                "",
	} {
		if got := PipelineStatus(in); got != want {
			t.Errorf("PipelineStatus(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestForgePipelineRef(t *testing.T) {
	for _, c := range []struct {
		ref             string
		tag             bool
		wantRef, br, tg string
	}{
		{"refs/heads/main", false, "refs/heads/main", "main", ""},
		{"refs/tags/v1", false, "refs/tags/v1", "", "v1"},
		{"main", false, "refs/heads/main", "main", ""},
		{"v1", true, "refs/tags/v1", "", "v1"},
		{"refs/pull/1/merge", false, "refs/pull/1/merge", "", ""},
		{"", false, "", "", ""},
	} {
		var p event.Pipeline
		PipelineRef(&p, c.ref, c.tag)
		if p.Ref != c.wantRef || p.Branch != c.br || p.Tag != c.tg {
			t.Errorf("PipelineRef(%q, %v) = %+v", c.ref, c.tag, p)
		}
	}
}

func FuzzCommentBody(f *testing.F) {
	f.Add(strings.Repeat("é", event.MaxCommentBody))
	f.Add(strings.Repeat("a", event.MaxCommentBody-1) + "😀")
	f.Add("short")
	f.Add(strings.Repeat("\x80", event.MaxCommentBody+5))
	f.Add(strings.Repeat("\xff", event.MaxCommentBody+5))
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) < event.MaxCommentBody && len(s) > 64 {
			// Make long inputs reach the bound.
			s = strings.Repeat(s, event.MaxCommentBody/len(s)+1)
		}
		got := CommentBody(s)
		if len(got) > event.MaxCommentBody {
			t.Fatalf("CommentBody: %d bytes", len(got))
		}
		if !strings.HasPrefix(s, got) {
			t.Fatal("CommentBody is not a prefix of its input")
		}
		if len(s) <= event.MaxCommentBody && got != s {
			t.Fatal("CommentBody cut a short text")
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatal("CommentBody cut inside a character")
		}
		if len(s) > event.MaxCommentBody && len(got) < event.MaxCommentBody-utf8.UTFMax {
			t.Fatalf("CommentBody kept %d bytes of %d", len(got), len(s))
		}
	})
}
