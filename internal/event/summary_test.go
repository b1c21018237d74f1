package event

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEventSummarySentences(t *testing.T) {
	alice := Person{Login: "alice"}
	for _, c := range []struct {
		f    Fields
		want string
	}{
		{Fields{Kind: KindPush, Actor: alice, Branch: "main", After: "bbb", Commits: []Commit{{ID: "aaa", Message: "first"}, {ID: "bbb", Message: "fix the build\n\nlong text"}, {ID: "ccc", Message: "other"}}},
			"alice pushed 3 commits to main: fix the build"},
		{Fields{Kind: KindPush, Actor: alice, Ref: "refs/heads/dev", Commits: []Commit{{ID: "x", Message: "one"}}}, "alice pushed 1 commit to dev: one"},
		{Fields{Kind: KindPush, Actor: alice, Branch: "gone", Deleted: true}, "alice deleted branch gone"},
		{Fields{Kind: KindPush, Actor: alice, Branch: "new", Before: ZeroSHA1}, "alice created branch new"},
		{Fields{Kind: KindPush, Branch: "main", After: "0123456789abcdef"}, "someone pushed to main (0123456)"},
		{Fields{Kind: KindTag, Actor: Person{Name: "Bob"}, Tag: "v1.2.0", Action: "created"}, "Bob created tag v1.2.0"},
		{Fields{Kind: KindPullRequest, Action: "opened", PullRequest: PullRequest{Number: 12, Title: "Add a cache", TargetBranch: "main"}}, "PR #12 opened: Add a cache (into main)"},
		{Fields{Kind: KindPullRequest, Action: "closed", PullRequest: PullRequest{Number: 3, Title: "T", Merged: true}}, "PR #3 merged: T"},
		{Fields{Kind: KindPullRequest, Action: "synchronize", PullRequest: PullRequest{Number: 3}}, "PR #3 updated"},
		{Fields{Kind: KindPing, Forge: "gitea"}, "ping from gitea"},
		{Fields{Kind: KindOther, Forge: "github", ForgeAction: "starred"}, "github other starred"},
	} {
		if got := Summary(&c.f); got != c.want {
			t.Errorf("Summary(%s) = %q, want %q", c.f.Kind, got, c.want)
		}
	}
}

func TestEventSummaryIsOneBoundedLine(t *testing.T) {
	f := Fields{Kind: KindPullRequest, Action: "opened", PullRequest: PullRequest{Number: 1, Title: strings.Repeat("é", 300) + "\u2028x\x00"}}
	got := Summary(&f)
	if len(got) > MaxSummary || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
		t.Errorf("Summary of a long title: %d bytes, valid %v: %q", len(got), utf8.ValidString(got), got)
	}
}

// FuzzEventSummary: whatever the fields, the summary is one line of valid
// UTF-8 within MaxSummary bytes.
func FuzzEventSummary(f *testing.F) {
	f.Add("push", "alice", "main", "msg\nmore", "", int64(0))
	f.Add("pull_request", "\xff\xfe", "", "", "title\u2029", int64(7))
	f.Fuzz(func(t *testing.T, kind, actor, branch, msg, title string, num int64) {
		fl := Fields{Kind: Kind(kind), Actor: Person{Login: actor}, Branch: branch, Tag: branch, Forge: actor,
			Commits: []Commit{{Message: msg}}, PullRequest: PullRequest{Number: num, Title: title}}
		s := Summary(&fl)
		if len(s) > MaxSummary || !utf8.ValidString(s) || strings.ContainsAny(s, "\r\n\u2028\u2029") {
			t.Fatalf("Summary = %q", s)
		}
	})
}
