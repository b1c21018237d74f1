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
//     a push for the same change as well, so these are marked Twin.
//   - pull_request, pull_request_review, pull_request_review_thread: kind
//     pull_request. Actions: opened, reopened and ready_for_review become
//     "opened", synchronize "updated", closed "merged" or "closed"; a
//     submitted review becomes its state ("approved", "changes_requested",
//     "commented"), an edited or dismissed one "review_edited" or
//     "review_dismissed". The pull request carries its head and base shas,
//     the head repository (a fork's), author, draft flag and labels.
//   - issue_comment (with the pull request when the issue is one),
//     commit_comment, pull_request_review_comment, discussion_comment:
//     comment, with the comment (id, bounded body, URL, what it is on) and,
//     on a plain issue, the issue; a commit comment's commit is in after.
//   - issues: issue, with the issue. release: release, with the tag and
//     the release.
//   - workflow_run, workflow_job, check_run, check_suite, status, deployment,
//     deployment_status: pipeline, with the run, job, check, status or
//     deployment (name, id, status in the record's vocabulary from the
//     conclusion or state, branch, commit, URL); the branch and commit are
//     also the event's branch, ref and after. A status names its branch
//     only when the commit is on exactly one; a deployment's ref is taken
//     as a branch.
//   - package, registry_package: registry, with the package's name, tag
//     (or version) and digest. ping: ping.
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
		f.Action = reviewAction(b.Action, b.Review.State)
	case "pull_request_review_thread":
		f.PullRequest = b.PullRequest.fields(b.Number)
	case "pull_request_review_comment":
		f.PullRequest = b.PullRequest.fields(b.Number)
		f.Comment = b.Comment.fields(event.CommentOnPullRequest, f.PullRequest.Number)
	case "issue_comment":
		f.PullRequest = b.Issue.pullRequest()
		if f.PullRequest.Number != 0 {
			f.Comment = b.Comment.fields(event.CommentOnPullRequest, f.PullRequest.Number)
		} else {
			f.Issue = b.Issue.fields()
			f.Comment = b.Comment.fields(event.CommentOnIssue, f.Issue.Number)
		}
	case "commit_comment":
		f.Comment = b.Comment.fields(event.CommentOnCommit, 0)
		f.After = b.Comment.CommitID
	case "discussion_comment":
		f.Comment = b.Comment.fields("", b.Discussion.Number)
	case "issues":
		f.Issue = b.Issue.fields()
	case "release":
		if b.Release.TagName != "" {
			f.Tag = b.Release.TagName
			f.Ref = "refs/tags/" + b.Release.TagName
		}
		f.Release = event.Release{
			Tag:        b.Release.TagName,
			Name:       b.Release.Name,
			Draft:      b.Release.Draft,
			Prerelease: b.Release.Prerelease,
			URL:        b.Release.HTMLURL,
		}
	case "workflow_run", "workflow_job", "check_run", "check_suite", "status", "deployment", "deployment_status":
		f.Pipeline = pipeline(m.Event, &b)
		f.Ref, f.Branch, f.Tag, f.After = f.Pipeline.Ref, f.Pipeline.Branch, f.Pipeline.Tag, f.Pipeline.SHA
	case "package", "registry_package":
		pk := &b.Package
		if m.Event == "registry_package" {
			pk = &b.RegistryPackage
		}
		f.Registry = pk.fields()
	}
	f.Twin = (m.Event == "create" || m.Event == "delete") && f.Kind != event.KindOther
	return f, nil
}

// reviewAction maps a pull_request_review action: a submitted review
// becomes its state ("approved", "changes_requested", "commented"), an
// edited or dismissed one "review_edited" or "review_dismissed" (not the
// pull request's own "edited").
func reviewAction(action, state string) string {
	switch action {
	case "submitted":
		if state != "" {
			return forge.LowerSnake(state)
		}
	case "edited", "dismissed":
		return "review_" + action
	}
	return forge.LowerSnake(action)
}

// pipeline returns the run, job, check, status or deployment of a pipeline
// event named ev.
func pipeline(ev string, b *body) event.Pipeline {
	var p event.Pipeline
	switch ev {
	case "workflow_run", "workflow_job", "check_run", "check_suite":
		r := &b.WorkflowRun
		switch ev {
		case "workflow_job":
			r = &b.WorkflowJob
		case "check_run":
			r = &b.CheckRun
			if r.HeadBranch == "" {
				r.HeadBranch = r.CheckSuite.HeadBranch
			}
		case "check_suite":
			r = &b.CheckSuite
			if r.Name == "" {
				r.Name = r.App.Name
			}
		}
		p.Name, p.ID, p.SHA, p.URL = r.Name, forge.ID(r.ID), r.HeadSHA, r.HTMLURL
		if p.Name == "" && ev == "workflow_run" {
			p.Name = b.Workflow.Name
		}
		p.Status = forge.PipelineStatus(r.Status)
		if r.Status == "waiting" {
			// Waiting for a deployment protection rule: a person.
			p.Status = event.StatusWaiting
		}
		if r.Conclusion != "" {
			p.Status = forge.PipelineStatus(r.Conclusion)
		}
		forge.PipelineRef(&p, r.HeadBranch, false)
	case "status":
		p.Name, p.ID, p.SHA, p.URL = b.Context, forge.ID(b.ID), b.SHA, b.TargetURL
		p.Status = forge.PipelineStatus(b.State)
		// The branches that contain the commit: one names the branch built.
		if len(b.Branches) == 1 {
			forge.PipelineRef(&p, b.Branches[0].Name, false)
		}
	case "deployment", "deployment_status":
		d := &b.Deployment
		p.Name, p.ID, p.SHA = d.Environment, forge.ID(d.ID), d.SHA
		p.Status = event.StatusQueued
		if ev == "deployment_status" {
			s := &b.DeploymentStatus
			p.ID, p.Status, p.URL = forge.ID(s.ID), forge.PipelineStatus(s.State), s.TargetURL
			if p.URL == "" {
				p.URL = s.LogURL
			}
			if p.URL == "" {
				p.URL = s.EnvironmentURL
			}
		}
		// The ref deployed is a branch, a tag or a commit: only a ref
		// that is not the commit is kept, as a branch.
		if d.Ref != d.SHA {
			forge.PipelineRef(&p, d.Ref, false)
		}
	}
	return p
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
	Issue      issue   `json:"issue"`
	Comment    comment `json:"comment"`
	Discussion struct {
		Number int64 `json:"number"`
	} `json:"discussion"`
	Release struct {
		TagName    string `json:"tag_name"`
		Name       string `json:"name"`
		Draft      bool   `json:"draft"`
		Prerelease bool   `json:"prerelease"`
		HTMLURL    string `json:"html_url"`
	} `json:"release"`
	Workflow struct {
		Name string `json:"name"`
	} `json:"workflow"`
	WorkflowRun run `json:"workflow_run"`
	WorkflowJob run `json:"workflow_job"`
	CheckRun    run `json:"check_run"`
	CheckSuite  run `json:"check_suite"`
	// ID, SHA, State, Context, TargetURL and Branches are a status
	// event's.
	ID        int64  `json:"id"`
	SHA       string `json:"sha"`
	State     string `json:"state"`
	Context   string `json:"context"`
	TargetURL string `json:"target_url"`
	Branches  []struct {
		Name string `json:"name"`
	} `json:"branches"`
	Deployment struct {
		ID          int64  `json:"id"`
		SHA         string `json:"sha"`
		Ref         string `json:"ref"`
		Environment string `json:"environment"`
	} `json:"deployment"`
	DeploymentStatus struct {
		ID             int64  `json:"id"`
		State          string `json:"state"`
		TargetURL      string `json:"target_url"`
		LogURL         string `json:"log_url"`
		EnvironmentURL string `json:"environment_url"`
	} `json:"deployment_status"`
	Package         pkg `json:"package"`
	RegistryPackage pkg `json:"registry_package"`
}

// run is a workflow run or job, a check run or a check suite.
type run struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	Status     string `json:"status"`
	Conclusion string `json:"conclusion"`
	HeadSHA    string `json:"head_sha"`
	HeadBranch string `json:"head_branch"`
	HTMLURL    string `json:"html_url"`
	CheckSuite struct {
		HeadBranch string `json:"head_branch"`
	} `json:"check_suite"`
	App struct {
		Name string `json:"name"`
	} `json:"app"`
}

// comment is an issue, commit, review or discussion comment.
type comment struct {
	ID      int64  `json:"id"`
	Body    string `json:"body"`
	HTMLURL string `json:"html_url"`
	// CommitID is a commit comment's commit.
	CommitID string `json:"commit_id"`
}

func (c *comment) fields(on string, number int64) event.Comment {
	return event.Comment{ID: forge.ID(c.ID), Body: forge.CommentBody(c.Body), URL: c.HTMLURL, On: on, Number: number}
}

// pkg is a package or registry_package: the package and the version
// published.
type pkg struct {
	Name           string `json:"name"`
	HTMLURL        string `json:"html_url"`
	PackageVersion struct {
		Version           string `json:"version"`
		HTMLURL           string `json:"html_url"`
		ContainerMetadata struct {
			Tag struct {
				Name   string `json:"name"`
				Digest string `json:"digest"`
			} `json:"tag"`
		} `json:"container_metadata"`
	} `json:"package_version"`
}

// fields returns the normalized package: a container's tag and digest, or
// the version as the tag (a container version is its digest).
func (pk *pkg) fields() event.Registry {
	v := &pk.PackageVersion
	r := event.Registry{Image: pk.Name, Tag: v.ContainerMetadata.Tag.Name, Digest: v.ContainerMetadata.Tag.Digest, URL: v.HTMLURL}
	if r.URL == "" {
		r.URL = pk.HTMLURL
	}
	switch {
	case strings.HasPrefix(v.Version, "sha256:"):
		if r.Digest == "" {
			r.Digest = v.Version
		}
	case r.Tag == "":
		r.Tag = v.Version
	}
	return r
}

// label is a label object; only its name is kept.
type label struct {
	Name string `json:"name"`
}

func labelName(l *label) string { return l.Name }

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
	full := r.FullName
	if full == "" && owner != "" && r.Name != "" {
		full = owner + "/" + r.Name
	}
	return event.Repository{
		FullName:      full,
		Name:          r.Name,
		Owner:         owner,
		URL:           r.HTMLURL,
		CloneURL:      r.CloneURL,
		DefaultBranch: r.DefaultBranch,
	}
}

type pullRequest struct {
	Number   int64   `json:"number"`
	Title    string  `json:"title"`
	State    string  `json:"state"`
	HTMLURL  string  `json:"html_url"`
	Merged   bool    `json:"merged"`
	MergedAt string  `json:"merged_at"`
	Draft    bool    `json:"draft"`
	User     account `json:"user"`
	Labels   []label `json:"labels"`
	Head     struct {
		Ref  string      `json:"ref"`
		SHA  string      `json:"sha"`
		Repo *repository `json:"repo"`
	} `json:"head"`
	Base struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
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
		Draft:        pr.Draft,
		HeadSHA:      pr.Head.SHA,
		BaseSHA:      pr.Base.SHA,
		// A deleted fork's head.repo is null.
		SourceRepository: sourceRepository(pr.Head.Repo),
		Author:           event.Person{Login: pr.User.Login},
		Labels:           forge.Labels(pr.Labels, labelName),
	}
}

func sourceRepository(r *repository) event.Repository {
	if r == nil {
		return event.Repository{}
	}
	return r.fields()
}

type issue struct {
	Number      int64   `json:"number"`
	Title       string  `json:"title"`
	State       string  `json:"state"`
	HTMLURL     string  `json:"html_url"`
	User        account `json:"user"`
	Labels      []label `json:"labels"`
	Draft       bool    `json:"draft"`
	PullRequest *struct {
		HTMLURL  string `json:"html_url"`
		MergedAt string `json:"merged_at"`
	} `json:"pull_request"`
}

// fields returns the normalized issue.
func (is *issue) fields() event.Issue {
	return event.Issue{
		Number: is.Number,
		Title:  is.Title,
		State:  is.State,
		URL:    is.HTMLURL,
		Author: event.Person{Login: is.User.Login},
		Labels: forge.Labels(is.Labels, labelName),
	}
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
		Draft:  is.Draft,
		Author: event.Person{Login: is.User.Login},
		Labels: forge.Labels(is.Labels, labelName),
	}
}
