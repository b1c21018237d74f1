package github

import (
	"fmt"
	"strings"

	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
)

// Normalize maps a GitHub payload to the canonical fields. m.Event is the
// X-GitHub-Event name; payload is the JSON document (for a form-encoded
// delivery, the decoded payload= field). Normalize keeps no reference to
// payload.
//
// Events map to kinds as in forges.md section 15 (the payloads are described
// at https://docs.github.com/en/webhooks/webhook-events-and-payloads):
//
//   - push: kind push, or tag for a refs/tags/ ref; deleted when the body
//     says so or "after" is all zeros. Action is "created" or "deleted" for
//     a ref that appears or goes away, else "".
//   - create, delete: kind push (ref_type branch) or tag (ref_type tag), with
//     the short ref made full; action "created" or "deleted". GitHub sends
//     a push for the same change as well.
//   - pull_request, pull_request_review, pull_request_review_thread: kind
//     pull_request. Actions: opened, reopened and ready_for_review become
//     "opened", synchronize "updated", closed "merged" or "closed"; a
//     submitted review becomes its state ("approved", "changes_requested",
//     "commented").
//   - issue_comment (with the pull request when the issue is one),
//     commit_comment, pull_request_review_comment, discussion_comment: comment.
//   - issues: issue. release: release, with the tag.
//   - workflow_run, workflow_job, check_run, check_suite, status, deployment,
//     deployment_status: pipeline.
//   - package, registry_package: registry. ping: ping.
//   - any other event: other, never an error.
//
// Other actions are GitHub's own, in lower_snake case; ForgeAction is the
// body's "action" as sent. The error, which wraps forge.ErrBadPayload, is for
// a payload that is not a JSON object; a field of an unexpected type is
// ignored.
func (p *Provider) Normalize(m forge.Meta, payload []byte) (event.Fields, error) {
	var b body
	if err := forge.DecodeObject(payload, &b); err != nil {
		return event.Fields{}, fmt.Errorf("github: %q payload: %w: %v", m.Event, forge.ErrBadPayload, err)
	}
	f := event.Fields{
		Kind:        kindOf(m.Event),
		Action:      forge.LowerSnake(b.Action),
		Forge:       Name,
		Repository:  b.Repository.fields(),
		Actor:       event.Person{Login: b.Sender.Login},
		ForgeAction: b.Action,
	}
	switch m.Event {
	case "push":
		normalizePush(&f, &b)
	case "create", "delete":
		normalizeRefEvent(&f, &b, m.Event == "delete")
	case "pull_request":
		f.PullRequest = b.PullRequest.fields(b.Number)
		f.Action = pullRequestAction(b.Action, f.PullRequest.Merged)
		if b.Action == "synchronize" {
			f.Before, f.After = b.Before, b.After
		}
	case "pull_request_review":
		f.PullRequest = b.PullRequest.fields(b.Number)
		if b.Action == "submitted" && b.Review.State != "" {
			f.Action = forge.LowerSnake(b.Review.State)
		}
	case "pull_request_review_thread", "pull_request_review_comment":
		f.PullRequest = b.PullRequest.fields(b.Number)
	case "issue_comment":
		f.PullRequest = b.Issue.pullRequest()
	case "release":
		if b.Release.TagName != "" {
			f.Tag = b.Release.TagName
			f.Ref = "refs/tags/" + b.Release.TagName
		}
	}
	return f, nil
}

// kindOf maps an X-GitHub-Event name to its canonical kind before the
// payload is looked at (push, create and delete are refined by their ref).
func kindOf(name string) event.Kind {
	switch name {
	case "push", "create", "delete":
		return event.KindPush
	case "pull_request", "pull_request_review", "pull_request_review_thread":
		return event.KindPullRequest
	case "issue_comment", "commit_comment", "pull_request_review_comment", "discussion_comment":
		return event.KindComment
	case "issues":
		return event.KindIssue
	case "release":
		return event.KindRelease
	case "workflow_run", "workflow_job", "check_run", "check_suite", "status", "deployment", "deployment_status":
		return event.KindPipeline
	case "package", "registry_package":
		return event.KindRegistry
	case "ping":
		return event.KindPing
	}
	return event.KindOther
}

// normalizePush fills a push event: the full ref, before and after, the
// commits and the pusher.
func normalizePush(f *event.Fields, b *body) {
	f.Ref = b.Ref
	f.Kind, f.Branch, f.Tag = classifyRef(b.Ref)
	f.Before, f.After = b.Before, b.After
	f.Deleted = b.Deleted || event.IsZeroSHA(b.After)
	switch {
	case f.Deleted:
		f.Action = "deleted"
	case b.Created || event.IsZeroSHA(b.Before):
		f.Action = "created"
	}
	f.Actor.Name, f.Actor.Email = b.Pusher.Name, b.Pusher.Email
	f.Commits = make([]event.Commit, 0, len(b.Commits))
	for _, c := range b.Commits {
		f.Commits = append(f.Commits, event.Commit{
			ID:        c.ID,
			Message:   c.Message,
			URL:       c.URL,
			Author:    event.Person{Login: c.Author.Username, Name: c.Author.Name, Email: c.Author.Email},
			Timestamp: c.Timestamp,
		})
	}
}

// normalizeRefEvent fills a create or delete event, whose ref is short and
// typed by ref_type. An unknown ref_type or an empty ref leaves kind other.
func normalizeRefEvent(f *event.Fields, b *body, deleted bool) {
	ref := b.Ref
	if !strings.HasPrefix(ref, "refs/") {
		switch b.RefType {
		case "branch":
			ref = "refs/heads/" + ref
		case "tag":
			ref = "refs/tags/" + ref
		default:
			ref = ""
		}
	}
	if b.Ref == "" || ref == "" {
		f.Kind = event.KindOther
		return
	}
	f.Ref = ref
	f.Kind, f.Branch, f.Tag = classifyRef(ref)
	f.Deleted = deleted
	f.Action = "created"
	if deleted {
		f.Action = "deleted"
	}
	f.Commits = []event.Commit{}
}

// classifyRef returns tag and the tag name for refs/tags/..., else push and
// the branch name for refs/heads/... (no name for other refs).
func classifyRef(ref string) (kind event.Kind, branch, tag string) {
	if t, ok := strings.CutPrefix(ref, "refs/tags/"); ok {
		return event.KindTag, "", t
	}
	if br, ok := strings.CutPrefix(ref, "refs/heads/"); ok {
		return event.KindPush, br, ""
	}
	return event.KindPush, "", ""
}

// pullRequestAction maps a pull_request action to the canonical one
// (forges.md section 15, action table).
func pullRequestAction(action string, merged bool) string {
	switch action {
	case "opened", "reopened", "ready_for_review":
		return "opened"
	case "synchronize":
		return "updated"
	case "closed":
		if merged {
			return "merged"
		}
		return "closed"
	}
	return forge.LowerSnake(action)
}

// body holds the parts of a GitHub payload that Normalize reads, for every
// event at once; a key absent from an event stays zero.
type body struct {
	Action      string      `json:"action"`
	Ref         string      `json:"ref"`
	RefType     string      `json:"ref_type"`
	Before      string      `json:"before"`
	After       string      `json:"after"`
	Created     bool        `json:"created"`
	Deleted     bool        `json:"deleted"`
	Commits     []commit    `json:"commits"`
	Pusher      gitPerson   `json:"pusher"`
	Sender      account     `json:"sender"`
	Repository  repository  `json:"repository"`
	Number      int64       `json:"number"`
	PullRequest pullRequest `json:"pull_request"`
	Review      struct {
		State string `json:"state"`
	} `json:"review"`
	Issue   issue `json:"issue"`
	Release struct {
		TagName string `json:"tag_name"`
	} `json:"release"`
}

// account is a GitHub user or organization.
type account struct {
	Login string `json:"login"`
	Name  string `json:"name"`
}

// gitPerson is a git identity: a commit author or the pusher.
type gitPerson struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Username string `json:"username"`
}

type commit struct {
	ID        string    `json:"id"`
	Message   string    `json:"message"`
	URL       string    `json:"url"`
	Timestamp string    `json:"timestamp"`
	Author    gitPerson `json:"author"`
}

type repository struct {
	FullName      string  `json:"full_name"`
	Name          string  `json:"name"`
	Owner         account `json:"owner"`
	HTMLURL       string  `json:"html_url"`
	CloneURL      string  `json:"clone_url"`
	DefaultBranch string  `json:"default_branch"`
}

func (r *repository) fields() event.Repository {
	owner := r.Owner.Login
	if owner == "" {
		owner = r.Owner.Name
	}
	return event.Repository{
		FullName:      r.FullName,
		Name:          r.Name,
		Owner:         owner,
		URL:           r.HTMLURL,
		CloneURL:      r.CloneURL,
		DefaultBranch: r.DefaultBranch,
	}
}

type pullRequest struct {
	Number   int64  `json:"number"`
	Title    string `json:"title"`
	State    string `json:"state"`
	HTMLURL  string `json:"html_url"`
	Merged   bool   `json:"merged"`
	MergedAt string `json:"merged_at"`
	Head     struct {
		Ref string `json:"ref"`
	} `json:"head"`
	Base struct {
		Ref string `json:"ref"`
	} `json:"base"`
}

// fields returns the normalized pull request; number is the payload's
// top-level "number", used when the object lacks one. The review payloads'
// pull request has no "merged", so merged_at counts too.
func (pr *pullRequest) fields(number int64) event.PullRequest {
	n := pr.Number
	if n == 0 {
		n = number
	}
	return event.PullRequest{
		Number:       n,
		Title:        pr.Title,
		State:        pr.State,
		SourceBranch: pr.Head.Ref,
		TargetBranch: pr.Base.Ref,
		URL:          pr.HTMLURL,
		Merged:       pr.Merged || pr.MergedAt != "",
	}
}

type issue struct {
	Number      int64  `json:"number"`
	Title       string `json:"title"`
	State       string `json:"state"`
	HTMLURL     string `json:"html_url"`
	PullRequest *struct {
		HTMLURL  string `json:"html_url"`
		MergedAt string `json:"merged_at"`
	} `json:"pull_request"`
}

// pullRequest returns the pull request an issue_comment is on: GitHub
// treats every pull request as an issue and marks it with
// issue.pull_request. It returns the zero value for a plain issue. The
// branches are not in the payload.
func (is *issue) pullRequest() event.PullRequest {
	if is.PullRequest == nil {
		return event.PullRequest{}
	}
	url := is.PullRequest.HTMLURL
	if url == "" {
		url = is.HTMLURL
	}
	return event.PullRequest{
		Number: is.Number,
		Title:  is.Title,
		State:  is.State,
		URL:    url,
		Merged: is.PullRequest.MergedAt != "",
	}
}
