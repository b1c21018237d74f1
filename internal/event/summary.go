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
		switch f.Action {
		case "deleted", "edited":
			s = who + " " + f.Action + " a comment"
		default:
			s = who + " commented"
		}
		on, num, title := f.Comment.On, f.Comment.Number, ""
		switch {
		case on == CommentOnPullRequest || (on == "" && f.PullRequest.Number != 0):
			on, title = "PR", f.PullRequest.Title
			if num == 0 {
				num = f.PullRequest.Number
			}
		case on == CommentOnIssue || (on == "" && f.Issue.Number != 0):
			on, title = "issue", f.Issue.Title
			if num == 0 {
				num = f.Issue.Number
			}
		case on == CommentOnCommit:
			on = "commit"
		case on == CommentOnChange:
			on = "change"
		}
		if on != "" {
			s += " on " + on
			if num != 0 {
				s += " #" + strconv.FormatInt(num, 10)
			}
			if title != "" {
				s += ": " + title
			}
		}
	case KindIssue:
		s = "issue"
		if f.Issue.Number != 0 {
			s += " #" + strconv.FormatInt(f.Issue.Number, 10)
		}
		s += " " + verb(f.Action)
		if f.Issue.Title != "" {
			s += ": " + f.Issue.Title
		} else {
			s += " by " + who
		}
	case KindRelease:
		s = "release"
		tag := f.Release.Tag
		if tag == "" {
			tag = f.Tag
		}
		if tag != "" {
			s += " " + tag
		}
		s += " " + verb(f.Action)
		if f.Release.Name != "" && f.Release.Name != tag {
			s += ": " + f.Release.Name
		}
	case KindPipeline:
		p := f.Pipeline
		s = "pipeline"
		if p.Name != "" {
			s += " " + p.Name
		}
		status := p.Status
		if status == "" {
			status = verb(f.Action)
		}
		s += " " + pipelineWord(status)
		branch, tag := p.Branch, p.Tag
		if branch == "" && tag == "" {
			branch, tag = f.Branch, f.Tag
		}
		switch {
		case branch != "":
			s += " on " + branch
		case tag != "":
			s += " on tag " + tag
		}
		sha := p.SHA
		if sha == "" {
			sha = f.After
		}
		if sha != "" && !IsZeroSHA(sha) {
			s += " (" + short(sha) + ")"
		}
	case KindRegistry:
		s = "image"
		if r := f.Registry; r.Image != "" {
			s += " " + r.Image
			if r.Tag != "" {
				s += ":" + r.Tag
			}
		}
		s += " " + verb(f.Action)
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

// pipelineWord says a pipeline status as the verb of a sentence.
func pipelineWord(status string) string {
	switch status {
	case StatusSuccess:
		return "succeeded"
	case StatusFailure:
		return "failed"
	case StatusRunning:
		return "running"
	case StatusQueued:
		return "queued"
	case StatusWaiting:
		return "waiting"
	}
	return verb(status)
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
