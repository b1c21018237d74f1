package gitea

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
)

// The commit messages of the family's test deliveries, sent from the hook's
// "Test delivery" button: Gitea (routers/web/repo/setting/webhook.go
// TestWebhook) and Forgejo send a push of a fake commit whose id, like
// before and after, is all zeros; Gogs (internal/route/repo/webhook.go
// TestWebhook) and older Gitea releases do so only for an empty repository,
// with the shorter message.
const (
	testCommitMessage       = "This is a fake commit for webhook push test"
	legacyTestCommitMessage = "This is a fake commit"
)

// Normalize maps a payload of the family to the canonical fields. m.Event is
// the event name Inspect read (the fine-grained X-Gitea-Event-Type when
// sent); payload is the JSON document (for a form hook, the decoded payload=
// field). Normalize keeps no reference to payload.
//
// Events map to kinds as in forges.md sections 3 to 5 and 15 (payload
// structs: Gitea and Forgejo modules/structs/hook.go, Gogs
// internal/route/api/v1/types/webhook.go):
//
//   - push: kind push, or tag for a refs/tags/ ref; deleted when "after" is
//     all zeros, with action "deleted", and action "created" when "before"
//     is. The test delivery (a push whose before and after are all zeros,
//     with the fake commit message) is kind ping. Gitea's API hook test
//     (POST /repos/{owner}/{repo}/hooks/{id}/tests) and Gogs' test of a
//     non-empty repository push the latest commit with before == after; they
//     carry no marker and are kept as pushes.
//   - create, delete: kind push (ref_type branch) or tag (ref_type tag), the
//     short ref made full (Gitea, and Forgejo's "gitea" hook type, send
//     "main"; Forgejo's "forgejo" type sends "refs/heads/main"); action
//     "created" or "deleted", and delete sets deleted.
//   - issues, issue_assign, issue_label, issue_milestone: kind issue.
//   - pull_request, pull_request_assign, pull_request_label,
//     pull_request_milestone, pull_request_review_request, pull_request_sync:
//     kind pull_request. Actions: opened and reopened become "opened",
//     synchronized (and any pull_request_sync) "updated", closed "merged"
//     when pull_request.merged is true, else "closed".
//   - pull_request_review_approved, _rejected, _comment (coarse names
//     pull_request_approved, pull_request_rejected, pull_request_comment):
//     kind pull_request, action "approved", "changes_requested" or
//     "commented".
//   - issue_comment, pull_request_comment: kind comment, with the pull
//     request's number, title, state and URL when the issue is a pull
//     request (is_pull, or issue.pull_request set).
//   - release: kind release, with the tag. status, workflow_run,
//     workflow_job and Forgejo's action_run_failure, action_run_recover,
//     action_run_success: kind pipeline, with the commit in "after".
//     package: kind registry.
//   - fork, repository, wiki and any other event: kind other, never an
//     error. For a fork the repository is the one forked ("forkee", whose
//     hooks fire), not the new fork.
//
// Other actions are the body's own in lower_snake case; ForgeAction is the
// body's "action" as sent. The actor is the sender (for a Forgejo action run,
// its trigger_user). The error, which wraps forge.ErrBadPayload, is for a
// payload that is not a JSON object; a field of an unexpected type is
// ignored.
func (p *Provider) Normalize(m forge.Meta, payload []byte) (event.Fields, error) {
	var b body
	if err := forge.DecodeObject(payload, &b); err != nil {
		return event.Fields{}, fmt.Errorf("%s: %q payload: %w: %v", p.fam.Name, m.Event, forge.ErrBadPayload, err)
	}
	f := event.Fields{
		Kind:        event.KindOther,
		Action:      forge.LowerSnake(b.Action),
		Forge:       p.fam.Name,
		Repository:  p.repository(b.Repository),
		Actor:       p.person(b.Sender),
		ForgeAction: b.Action,
	}
	if b.Sender == nil && b.Pusher != nil {
		f.Actor = p.person(b.Pusher)
	}
	switch ev := m.Event; ev {
	case "push":
		p.push(&f, &b)
	case "create", "delete":
		refEvent(&f, &b, ev == "delete")
	case "issues", "issue_assign", "issue_label", "issue_milestone":
		f.Kind = event.KindIssue
	case "pull_request", "pull_request_assign", "pull_request_label", "pull_request_milestone",
		"pull_request_review_request", "pull_request_sync":
		f.Kind = event.KindPullRequest
		f.PullRequest = b.pullRequest()
		f.Action = pullRequestAction(b.Action, f.PullRequest.Merged)
		if ev == "pull_request_sync" {
			f.Action = "updated"
		}
	case "pull_request_review_approved", "pull_request_approved",
		"pull_request_review_rejected", "pull_request_rejected",
		"pull_request_review_comment", "pull_request_review":
		review(&f, &b, ev)
	case "pull_request_comment":
		// The fine-grained name of a comment on a pull request's
		// conversation (an issue_comment payload), and the coarse name of
		// a review comment (a pull_request payload): the payload tells.
		if b.hasComment() {
			comment(&f, &b)
		} else {
			review(&f, &b, "pull_request_review_comment")
		}
	case "issue_comment":
		comment(&f, &b)
	case "release":
		f.Kind = event.KindRelease
		if b.Release != nil && b.Release.TagName != "" {
			f.Tag = b.Release.TagName
			f.Ref = "refs/tags/" + b.Release.TagName
		}
	case "status":
		f.Kind = event.KindPipeline
		f.After = b.SHA
	case "workflow_run", "workflow_job":
		f.Kind = event.KindPipeline
		if w := b.WorkflowRun; ev == "workflow_run" && w != nil {
			f.After = w.HeadSHA
		}
		if w := b.WorkflowJob; ev == "workflow_job" && w != nil {
			f.After = w.HeadSHA
		}
	case "action_run_failure", "action_run_recover", "action_run_success":
		f.Kind = event.KindPipeline
		if r := b.Run; r != nil {
			f.After = r.CommitSHA
			if b.Repository == nil {
				f.Repository = p.repository(r.Repository)
			}
			if b.Sender == nil && r.TriggerUser != nil {
				f.Actor = p.person(r.TriggerUser)
			}
		}
	case "fork":
		// The hooks of the forked repository fire, and Gitea and Gogs name
		// it "forkee" (the new fork is "repository"), the other way round
		// from GitHub.
		if b.Forkee != nil {
			f.Repository = p.repository(b.Forkee)
		}
	case "package":
		f.Kind = event.KindRegistry
		if b.Repository == nil && b.Package != nil {
			f.Repository = p.repository(b.Package.Repository)
		}
	}
	return f, nil
}

// push fills a push event. A push without a ref stays kind other.
func (p *Provider) push(f *event.Fields, b *body) {
	if b.Ref == "" {
		return
	}
	f.Ref = b.Ref
	f.Kind, f.Branch, f.Tag = classifyRef(b.Ref)
	f.Before, f.After = b.Before, b.After
	f.Commits = make([]event.Commit, 0, len(b.Commits))
	for _, c := range b.Commits {
		f.Commits = append(f.Commits, c.fields())
	}
	switch {
	case b.isTestPush():
		f.Kind = event.KindPing
	case event.IsZeroSHA(b.After):
		f.Deleted = true
		f.Action = "deleted"
	case event.IsZeroSHA(b.Before):
		f.Action = "created"
	}
}

// refEvent fills a create or delete event: a short ref typed by ref_type,
// or a full ref. An unknown ref_type with a short ref, or no ref, leaves
// kind other.
func refEvent(f *event.Fields, b *body, deleted bool) {
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
		return
	}
	f.Ref = ref
	f.Kind, f.Branch, f.Tag = classifyRef(ref)
	f.Commits = []event.Commit{}
	if deleted {
		f.Deleted = true
		f.Action = "deleted"
		return
	}
	f.Action = "created"
	f.After = b.SHA
}

// review fills a pull request review event; name is the event name, or the
// review type of a "pull_request_review" payload.
func review(f *event.Fields, b *body, name string) {
	f.Kind = event.KindPullRequest
	f.PullRequest = b.pullRequest()
	if name == "pull_request_review" && b.Review != nil {
		name = b.Review.Type
	}
	switch name {
	case "pull_request_review_approved", "pull_request_approved":
		f.Action = "approved"
	case "pull_request_review_rejected", "pull_request_rejected":
		f.Action = "changes_requested"
	case "pull_request_review_comment", "pull_request_comment":
		f.Action = "commented"
	}
}

// comment fills a comment event, with the pull request when the issue
// commented on is one.
func comment(f *event.Fields, b *body) {
	f.Kind = event.KindComment
	if b.PullRequest != nil {
		f.PullRequest = b.pullRequest()
		return
	}
	if is := b.Issue; is != nil && (b.IsPull || is.PullRequest != nil) {
		f.PullRequest = event.PullRequest{
			Number: is.Number,
			Title:  is.Title,
			State:  is.State,
			URL:    is.HTMLURL,
		}
		if is.PullRequest != nil {
			f.PullRequest.Merged = is.PullRequest.Merged
		}
	}
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

// pullRequestAction maps a pull request action to the canonical one
// (forges.md section 15, action table).
func pullRequestAction(action string, merged bool) string {
	switch action {
	case "opened", "reopened":
		return "opened"
	case "synchronized":
		return "updated"
	case "closed":
		if merged {
			return "merged"
		}
		return "closed"
	}
	return forge.LowerSnake(action)
}

// repository maps a payload repository.
func (p *Provider) repository(r *repository) event.Repository {
	if r == nil {
		return event.Repository{}
	}
	out := event.Repository{
		FullName:      r.FullName,
		Name:          r.Name,
		URL:           r.HTMLURL,
		CloneURL:      r.CloneURL,
		DefaultBranch: r.DefaultBranch,
	}
	if r.Owner != nil {
		out.Owner = p.login(r.Owner)
	}
	if out.FullName == "" && out.Owner != "" && out.Name != "" {
		out.FullName = out.Owner + "/" + out.Name
	}
	return out
}

// person maps a payload user: the login, the full name and the e-mail.
func (p *Provider) person(u *user) event.Person {
	if u == nil {
		return event.Person{}
	}
	return event.Person{Login: p.login(u), Name: u.FullName, Email: u.Email}
}

// login returns the user's login: "login" before "username", or the other
// way round for Gogs (Family.PreferUsername).
func (p *Provider) login(u *user) string {
	a, b := u.Login, u.Username
	if p.fam.PreferUsername {
		a, b = b, a
	}
	if a != "" {
		return a
	}
	return b
}

// body holds the parts of a payload of the family that Normalize reads, for
// every event at once; a key absent from an event stays zero.
type body struct {
	Action      string       `json:"action"`
	Number      int64        `json:"number"`
	Ref         string       `json:"ref"`
	RefType     string       `json:"ref_type"`
	Before      string       `json:"before"`
	After       string       `json:"after"`
	SHA         string       `json:"sha"`
	Commits     []commit     `json:"commits"`
	HeadCommit  *commit      `json:"head_commit"`
	Repository  *repository  `json:"repository"`
	Forkee      *repository  `json:"forkee"`
	Sender      *user        `json:"sender"`
	Pusher      *user        `json:"pusher"`
	PullRequest *pullRequest `json:"pull_request"`
	Issue       *issue       `json:"issue"`
	// Comment is an object in comment events and a string (the edit
	// message) in wiki events.
	Comment     json.RawMessage `json:"comment"`
	IsPull      bool            `json:"is_pull"`
	Review      *reviewBody     `json:"review"`
	Release     *release        `json:"release"`
	WorkflowRun *workflow       `json:"workflow_run"`
	WorkflowJob *workflow       `json:"workflow_job"`
	Run         *actionRun      `json:"run"`
	Package     *pkg            `json:"package"`
}

// isTestPush reports whether b is the push of a "Test delivery": before and
// after all zeros and the fake commit's message.
func (b *body) isTestPush() bool {
	if b.Before != b.After || !event.IsZeroSHA(b.After) {
		return false
	}
	c := b.HeadCommit
	if c == nil && len(b.Commits) > 0 {
		c = &b.Commits[0]
	}
	if c == nil {
		return false
	}
	msg := strings.TrimSpace(c.Message)
	return msg == testCommitMessage || msg == legacyTestCommitMessage
}

// hasComment reports whether the payload carries a comment object.
func (b *body) hasComment() bool {
	c := bytes.TrimLeft(b.Comment, " \t\r\n")
	return len(c) > 0 && c[0] == '{'
}

// pullRequest maps the payload's pull request, numbered by the top-level
// "number" when sent.
func (b *body) pullRequest() event.PullRequest {
	out := event.PullRequest{Number: b.Number}
	pr := b.PullRequest
	if pr == nil {
		return out
	}
	if out.Number == 0 {
		out.Number = pr.Number
	}
	out.Title, out.State, out.URL, out.Merged = pr.Title, pr.State, pr.HTMLURL, pr.Merged
	out.SourceBranch, out.TargetBranch = pr.HeadBranch, pr.BaseBranch
	if pr.Head != nil && pr.Head.Ref != "" {
		out.SourceBranch = pr.Head.Ref
	}
	if pr.Base != nil && pr.Base.Ref != "" {
		out.TargetBranch = pr.Base.Ref
	}
	return out
}

type commit struct {
	ID        string `json:"id"`
	Message   string `json:"message"`
	URL       string `json:"url"`
	Author    *user  `json:"author"`
	Timestamp string `json:"timestamp"`
}

func (c *commit) fields() event.Commit {
	out := event.Commit{ID: c.ID, Message: c.Message, URL: c.URL, Timestamp: c.Timestamp}
	if a := c.Author; a != nil {
		// A commit author is a git signature ({name, email, username}),
		// not an account: its login is the matched account's username.
		out.Author = event.Person{Login: a.Username, Name: a.Name, Email: a.Email}
	}
	return out
}

// user is an account (login, username, full_name, email) or a commit's
// git signature (name, email, username).
type user struct {
	Login    string `json:"login"`
	Username string `json:"username"`
	FullName string `json:"full_name"`
	Name     string `json:"name"`
	Email    string `json:"email"`
}

type repository struct {
	FullName      string `json:"full_name"`
	Name          string `json:"name"`
	Owner         *user  `json:"owner"`
	HTMLURL       string `json:"html_url"`
	CloneURL      string `json:"clone_url"`
	DefaultBranch string `json:"default_branch"`
}

type pullRequest struct {
	Number  int64      `json:"number"`
	Title   string     `json:"title"`
	State   string     `json:"state"`
	HTMLURL string     `json:"html_url"`
	Merged  bool       `json:"merged"`
	Head    *branchRef `json:"head"`
	Base    *branchRef `json:"base"`
	// HeadBranch and BaseBranch are Gogs' names for head.ref and base.ref.
	HeadBranch string `json:"head_branch"`
	BaseBranch string `json:"base_branch"`
}

type branchRef struct {
	Ref string `json:"ref"`
}

type issue struct {
	Number  int64  `json:"number"`
	Title   string `json:"title"`
	State   string `json:"state"`
	HTMLURL string `json:"html_url"`
	// PullRequest is set (non-null) when the issue is a pull request.
	PullRequest *struct {
		Merged bool `json:"merged"`
	} `json:"pull_request"`
}

type reviewBody struct {
	Type string `json:"type"`
}

type release struct {
	TagName string `json:"tag_name"`
}

type workflow struct {
	HeadSHA string `json:"head_sha"`
}

// actionRun is Forgejo's ActionRun of an action_run_* event.
type actionRun struct {
	CommitSHA   string      `json:"commit_sha"`
	Repository  *repository `json:"repository"`
	TriggerUser *user       `json:"trigger_user"`
}

type pkg struct {
	Repository *repository `json:"repository"`
}
