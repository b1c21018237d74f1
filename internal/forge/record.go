package forge

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/forgehook/forgehook/internal/event"
)

// CommentBody returns a comment's text as the record keeps it: at most
// event.MaxCommentBody bytes, cut on a UTF-8 character boundary (an invalid
// byte counts as one character).
func CommentBody(s string) string {
	if len(s) <= event.MaxCommentBody {
		return s
	}
	n := event.MaxCommentBody
	for i := 0; i < utf8.UTFMax-1 && !utf8.RuneStart(s[n]); i++ {
		n--
	}
	// s[n] starts a character, so s[:n] ends with a whole one (or s is
	// not UTF-8 there, and the cut is at the bound).
	if !utf8.RuneStart(s[n]) {
		n = event.MaxCommentBody
	}
	return s[:n]
}

// PipelineStatus maps a forge's status, state, result or conclusion word to
// the record's vocabulary (event.StatusQueued and the rest), ignoring case
// and separators; "" for an empty or unknown word. The words are those of
// GitHub (status, conclusion, commit state), GitLab (pipeline, job and
// deployment status), Gitea, Bitbucket (commit status state), Azure DevOps
// (build status and result), Harbor (scan and replication status) and
// coding.net (CI job status).
func PipelineStatus(s string) string {
	switch strings.ReplaceAll(LowerSnake(s), "_", "") {
	case "":
		return ""
	case "queued", "pending", "created", "requested", "waiting", "scheduled", "preparing",
		"notstarted", "postponed", "waitingforresource", "new", "initialized", "enqueued":
		return event.StatusQueued
	case "manual", "actionrequired", "blocked", "waitingforapproval":
		return event.StatusWaiting
	case "inprogress", "running", "started", "building", "pendingrunning":
		return event.StatusRunning
	case "success", "succeeded", "succeed", "successful", "passed", "ok", "deployed":
		return event.StatusSuccess
	case "failure", "failed", "fail", "error", "errored", "timedout", "partiallysucceeded", "startupfailure":
		return event.StatusFailure
	case "cancelled", "canceled", "aborted", "stopped", "cancelling", "stopping", "killed":
		return event.StatusCancelled
	case "skipped", "notbuilt":
		return event.StatusSkipped
	case "neutral", "stale", "inactive":
		return event.StatusNeutral
	}
	return ""
}

// ID returns a numeric id as the record's decimal string ("" for 0).
func ID(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

// SplitRef returns the short branch or tag name of a full ref
// (refs/heads/... or refs/tags/...), "" for the other.
func SplitRef(ref string) (branch, tag string) {
	if t, ok := strings.CutPrefix(ref, "refs/tags/"); ok {
		return "", t
	}
	if b, ok := strings.CutPrefix(ref, "refs/heads/"); ok {
		return b, ""
	}
	return "", ""
}

// PipelineRef fills p's Ref, Branch and Tag from ref: a full ref, or a
// short name that is a tag when tag is true, else a branch.
func PipelineRef(p *event.Pipeline, ref string, tag bool) {
	switch {
	case ref == "":
		return
	case strings.HasPrefix(ref, "refs/"):
		p.Ref = ref
		p.Branch, p.Tag = SplitRef(ref)
	case tag:
		p.Ref, p.Tag = "refs/tags/"+ref, ref
	default:
		p.Ref, p.Branch = "refs/heads/"+ref, ref
	}
}

// Labels returns the names of labels decoded as objects by name, or nil for
// none.
func Labels[L any](ls []L, name func(*L) string) []string {
	if len(ls) == 0 {
		return nil
	}
	out := make([]string, 0, len(ls))
	for i := range ls {
		if n := name(&ls[i]); n != "" {
			out = append(out, n)
		}
	}
	return out
}
