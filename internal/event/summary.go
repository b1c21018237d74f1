package event

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxSummary bounds the bytes of a Summary.
const MaxSummary = 200

// Summary returns one line that says what happened, in the same words on
// every forge: "alice pushed 3 commits to main: fix the build", "PR #12
// opened: Add a cache", "alice created tag v1.2.0". It reads only the
// normalized fields; an event it has no sentence for is "<forge> <kind>".
// The line has no line breaks, is valid UTF-8 and is at most MaxSummary
// bytes.
func Summary(f *Fields) string {
	who := f.Actor.Login
	if who == "" {
		who = f.Actor.Name
	}
	if who == "" {
		who = "someone"
	}
	var s string
	switch f.Kind {
	case KindPush:
		s = pushSummary(f, who)
	case KindTag:
		tag := f.Tag
		if tag == "" {
			tag = strings.TrimPrefix(f.Ref, "refs/tags/")
		}
		switch {
		case f.Deleted || f.Action == "deleted":
			s = who + " deleted tag " + tag
		default:
			s = who + " created tag " + tag
		}
	case KindPullRequest:
		action := f.Action
		if f.PullRequest.Merged && (action == "closed" || action == "") {
			action = "merged"
		}
		s = "PR"
		if f.PullRequest.Number != 0 {
			s += " #" + strconv.FormatInt(f.PullRequest.Number, 10)
		}
		s += " " + verb(action)
		if f.PullRequest.Title != "" {
			s += ": " + f.PullRequest.Title
		}
		if f.PullRequest.TargetBranch != "" && f.Action == "opened" {
			s += " (into " + f.PullRequest.TargetBranch + ")"
		}
	case KindComment:
		s = who + " commented"
		if f.PullRequest.Number != 0 {
			s += " on PR #" + strconv.FormatInt(f.PullRequest.Number, 10)
			if f.PullRequest.Title != "" {
				s += ": " + f.PullRequest.Title
			}
		}
	case KindIssue:
		s = "issue " + verb(f.Action) + " by " + who
	case KindRelease:
		s = "release " + verb(f.Action)
		if f.Tag != "" {
			s += ": " + f.Tag
		}
	case KindPipeline:
		s = "pipeline " + verb(f.Action)
		if f.Branch != "" {
			s += " on " + f.Branch
		}
		if f.After != "" {
			s += " (" + short(f.After) + ")"
		}
	case KindRegistry:
		s = "image " + verb(f.Action)
	case KindPing:
		s = "ping from " + f.Forge
	default:
		s = f.Forge + " " + string(f.Kind)
		if f.ForgeAction != "" {
			s += " " + f.ForgeAction
		}
	}
	return clip(s)
}

func pushSummary(f *Fields, who string) string {
	branch := f.Branch
	if branch == "" {
		branch = strings.TrimPrefix(f.Ref, "refs/heads/")
	}
	switch {
	case f.Deleted || f.Action == "deleted":
		return who + " deleted branch " + branch
	case len(f.Commits) == 0 && IsZeroSHA(f.Before):
		return who + " created branch " + branch
	case len(f.Commits) == 0:
		s := who + " pushed to " + branch
		if f.After != "" {
			s += " (" + short(f.After) + ")"
		}
		return s
	}
	n := len(f.Commits)
	s := who + " pushed " + strconv.Itoa(n) + " commit"
	if n != 1 {
		s += "s"
	}
	s += " to " + branch
	// The head commit's message: the one whose id is the new head (forges
	// differ in the order they list commits), else the last listed.
	head := f.Commits[n-1]
	for _, c := range f.Commits {
		if c.ID != "" && c.ID == f.After {
			head = c
		}
	}
	if msg := firstLine(head.Message); msg != "" {
		s += ": " + msg
	}
	return s
}

// verb is an action as a word of the sentence; "" says "updated".
func verb(action string) string {
	switch action {
	case "":
		return "updated"
	case "synchronize", "synchronized":
		return "updated"
	}
	return strings.ReplaceAll(action, "_", " ")
}

// short returns the first 7 characters of a commit id.
func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// clip makes s one line of valid UTF-8 of at most MaxSummary bytes,
// ending in "…" when cut.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	if len(s) <= MaxSummary {
		return s
	}
	const ell = "…"
	cut := MaxSummary - len(ell)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ell
}
