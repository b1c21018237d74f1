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
//     with the fake commit message) is kind ping, and so are Gitea's API
//     hook test (POST /repos/{owner}/{repo}/hooks/{id}/tests) and Gogs' test
//     of a non-empty repository, which push the latest commit with before
//     equal to after and no marker: a real push always moves its ref.
//   - create, delete: kind push (ref_type branch) or tag (ref_type tag), the
//     short ref made full (Gitea, and Forgejo's "gitea" hook type, send
//     "main"; Forgejo's "forgejo" type sends "refs/heads/main"); action
//     "created" or "deleted", and delete sets deleted. A create is marked
//     Twin: the forge sends a push of the new ref beside it. A delete is
//     not: the forge sends no push for a deleted ref.
//   - issues, issue_assign, issue_label, issue_milestone: kind issue, with
//     the issue. A label change (label_updated, label_cleared) is "labeled"
//     or "unlabeled", on issues and pull requests alike.
//   - pull_request, pull_request_assign, pull_request_label,
//     pull_request_milestone, pull_request_review_request, pull_request_sync:
//     kind pull_request. Actions: opened and reopened become "opened",
//     synchronized (and any pull_request_sync) "updated", closed "merged"
//     when pull_request.merged is true, else "closed".
//   - pull_request_review_approved, _rejected, _comment (coarse names
//     pull_request_approved, pull_request_rejected, pull_request_comment):
//     kind pull_request, action "approved", "changes_requested" or
//     "commented".
//   - issue_comment, pull_request_comment: kind comment, with the comment
//     and the pull request's number, title, state and URL when the issue is
//     a pull request (is_pull, or issue.pull_request set), else the issue.
//   - release: kind release, with the tag and the release. status,
//     workflow_run, workflow_job and Forgejo's action_run_failure,
//     action_run_recover, action_run_success: kind pipeline, with the
//     pipeline (status from the state or conclusion, or the event name),
//     its commit in "after" and its ref in ref, branch and tag (a run's
//     from workflow_run.path when it names a ref, as a tag run's must: its
//     head_branch is empty; a status's only when it lists exactly one
//     branch, which Gitea 1.26 does not send). package: kind
//     registry, with the package name and version.
//   - fork, repository, wiki and any other event: kind other, never an
//     error. For a fork the repository is the one forked, whose hooks fire,
//     not the new fork ("forkee" on Gitea and Forgejo, "repository" on
//     Gogs: Family.ForkeeIsTheFork).
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
		if b.Issue != nil {
			f.Issue = p.issue(b.Issue)
		}
		f.Action = labelAction(b.Action, f.Action)
	case "pull_request", "pull_request_assign", "pull_request_label", "pull_request_milestone",
		"pull_request_review_request", "pull_request_sync":
		f.Kind = event.KindPullRequest
		f.PullRequest = p.pullRequest(&b)
		f.Action = labelAction(b.Action, pullRequestAction(b.Action, f.PullRequest.Merged))
		if ev == "pull_request_sync" {
			f.Action = "updated"
		}
	case "pull_request_review_approved", "pull_request_approved",
		"pull_request_review_rejected", "pull_request_rejected",
		"pull_request_review_comment", "pull_request_review":
		p.review(&f, &b, ev)
	case "pull_request_comment":
		// The fine-grained name of a comment on a pull request's
		// conversation (an issue_comment payload), and the coarse name of
		// a review comment (a pull_request payload): the payload tells.
		if b.hasComment() {
			p.comment(&f, &b)
		} else {
			p.review(&f, &b, "pull_request_review_comment")
		}
	case "issue_comment":
		p.comment(&f, &b)
	case "release":
		f.Kind = event.KindRelease
		if r := b.Release; r != nil {
			if r.TagName != "" {
				f.Tag = r.TagName
				f.Ref = "refs/tags/" + r.TagName
			}
			f.Release = event.Release{Tag: r.TagName, Name: r.Name, Draft: r.Draft, Prerelease: r.Prerelease, URL: r.HTMLURL}
		}
	case "status":
		f.Kind = event.KindPipeline
		f.Pipeline = event.Pipeline{Name: b.Context, ID: forge.ID(b.ID), Status: forge.PipelineStatus(b.State), SHA: b.SHA, URL: b.TargetURL}
		// The branches that contain the commit: one names the branch.
		if len(b.Branches) == 1 {
			forge.PipelineRef(&f.Pipeline, b.Branches[0].Name, false)
		}
	case "workflow_run", "workflow_job":
		f.Kind = event.KindPipeline
		w := b.WorkflowRun
		if ev == "workflow_job" {
			w = b.WorkflowJob
		}
		if w != nil {
			// A run names no workflow of its own (Gitea 1.26 sends no
			// workflow_run.name): the workflow's name comes first, the
			// run's display title (the commit's subject) last.
			wfName := ""
			if b.Workflow != nil {
				wfName = b.Workflow.Name
			}
			f.Pipeline = w.fields(wfName)
		}
	case "action_run_failure", "action_run_recover", "action_run_success":
		f.Kind = event.KindPipeline
		if r := b.Run; r != nil {
			f.Pipeline = r.fields(ev)
			if b.Repository == nil {
				f.Repository = p.repository(r.Repository)
			}
			if b.Sender == nil && r.TriggerUser != nil {
				f.Actor = p.person(r.TriggerUser)
			}
		}
	case "fork":
		// The hooks of the forked repository fire. Gitea and Forgejo
		// name it "forkee" (the new fork is "repository"), the other way
		// round from GitHub and Gogs.
		if b.Forkee != nil && !p.fam.ForkeeIsTheFork {
			f.Repository = p.repository(b.Forkee)
		}
	case "package":
		f.Kind = event.KindRegistry
		if pk := b.Package; pk != nil {
			if b.Repository == nil {
				f.Repository = p.repository(pk.Repository)
			}
			f.Registry = event.Registry{Image: pk.Name, Tag: pk.Version, URL: pk.HTMLURL}
			if strings.HasPrefix(pk.Version, "sha256:") {
				f.Registry.Tag, f.Registry.Digest = "", pk.Version
			}
		}
	}
	if f.Kind == event.KindPipeline {
		f.Ref, f.Branch, f.Tag, f.After = f.Pipeline.Ref, f.Pipeline.Branch, f.Pipeline.Tag, f.Pipeline.SHA
	}
	// A new ref comes as create and as push; a deleted one as delete only
	// (services/repository/push.go: a deletion notifies DeleteRef, no push;
	// capture-07-delete-branch), so only create is a twin.
	f.Twin = f.Kind != event.KindOther && m.Event == "create"
	return f, nil
}

// labelAction returns the canonical action of a label change: Gitea's
// label_updated (labels set, added or removed) becomes "labeled" and
// label_cleared "unlabeled", as GitHub names them; any other action is
// canonical, returned as is.
func labelAction(action, canonical string) string {
	switch action {
	case "label_updated":
		return "labeled"
	case "label_cleared":
		return "unlabeled"
	}
	return canonical
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
	case b.isTestPush(), b.isAPITestPush():
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
func (p *Provider) review(f *event.Fields, b *body, name string) {
	f.Kind = event.KindPullRequest
	f.PullRequest = p.pullRequest(b)
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

// comment fills a comment event: the comment, and the pull request when
// the issue commented on is one, else the issue.
func (p *Provider) comment(f *event.Fields, b *body) {
	f.Kind = event.KindComment
	var c commentBody
	if b.hasComment() {
		_ = forge.DecodeObject(b.Comment, &c)
	}
	f.Comment = event.Comment{ID: forge.ID(c.ID), Body: forge.CommentBody(c.Body), URL: c.HTMLURL}
	defer func() {
		switch {
		case f.PullRequest.Number != 0:
			f.Comment.On, f.Comment.Number = event.CommentOnPullRequest, f.PullRequest.Number
		case f.Issue.Number != 0:
			f.Comment.On, f.Comment.Number = event.CommentOnIssue, f.Issue.Number
		}
	}()
	if b.PullRequest != nil {
		f.PullRequest = p.pullRequest(b)
		return
	}
	is := b.Issue
	if is == nil {
		return
	}
	if !b.IsPull && is.PullRequest == nil {
		f.Issue = p.issue(is)
		return
	}
	i := p.issue(is)
	f.PullRequest = event.PullRequest{
		Number: i.Number,
		Title:  i.Title,
		State:  i.State,
		URL:    i.URL,
		Author: i.Author,
		Labels: i.Labels,
	}
	if is.PullRequest != nil {
		f.PullRequest.Merged = is.PullRequest.Merged
		f.PullRequest.Draft = is.PullRequest.Draft
	}
}

// issue maps a payload issue.
func (p *Provider) issue(is *issue) event.Issue {
	return event.Issue{
		Number: is.Number,
		Title:  is.Title,
		State:  is.State,
		URL:    is.HTMLURL,
		Author: p.person(is.User),
		Labels: forge.Labels(is.Labels, labelName),
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
	Workflow    *struct {
		Name string `json:"name"`
	} `json:"workflow"`
	// ID, State, Context, TargetURL and Branches are a status event's
	// (SHA too).
	ID        int64  `json:"id"`
	State     string `json:"state"`
	Context   string `json:"context"`
	TargetURL string `json:"target_url"`
	Branches  []struct {
		Name string `json:"name"`
	} `json:"branches"`
}

// isAPITestPush reports whether b is the push of a hook test sent through
// the API (Gitea's POST /repos/{owner}/{repo}/hooks/{id}/tests) or Gogs'
// test of a non-empty repository: the latest commit pushed again, with
// before equal to after. A real push always moves its ref, and a deletion
// has an all-zero after.
func (b *body) isAPITestPush() bool {
	return b.Before != "" && b.Before == b.After && !event.IsZeroSHA(b.After)
}

// commentBody is the comment object of a comment event.
type commentBody struct {
	ID      int64  `json:"id"`
	Body    string `json:"body"`
	HTMLURL string `json:"html_url"`
}

type label struct {
	Name string `json:"name"`
}

func labelName(l *label) string { return l.Name }

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
func (p *Provider) pullRequest(b *body) event.PullRequest {
	out := event.PullRequest{Number: b.Number}
	pr := b.PullRequest
	if pr == nil {
		return out
	}
	if out.Number == 0 {
		out.Number = pr.Number
	}
	out.Title, out.State, out.URL, out.Merged, out.Draft = pr.Title, pr.State, pr.HTMLURL, pr.Merged, pr.Draft
	out.SourceBranch, out.TargetBranch = pr.HeadBranch, pr.BaseBranch
	out.Author = p.person(pr.User)
	out.Labels = forge.Labels(pr.Labels, labelName)
	// Gogs names the head repository head_repo; Gitea head.repo.
	out.SourceRepository = p.repository(pr.HeadRepo)
	if h := pr.Head; h != nil {
		if h.Ref != "" {
			out.SourceBranch = h.Ref
		}
		out.HeadSHA = h.SHA
		if h.Repo != nil {
			out.SourceRepository = p.repository(h.Repo)
		}
	}
	if pr.Base != nil {
		if pr.Base.Ref != "" {
			out.TargetBranch = pr.Base.Ref
		}
		out.BaseSHA = pr.Base.SHA
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
	Number   int64       `json:"number"`
	Title    string      `json:"title"`
	State    string      `json:"state"`
	HTMLURL  string      `json:"html_url"`
	Merged   bool        `json:"merged"`
	Draft    bool        `json:"draft"`
	User     *user       `json:"user"`
	Labels   []label     `json:"labels"`
	Head     *branchRef  `json:"head"`
	Base     *branchRef  `json:"base"`
	HeadRepo *repository `json:"head_repo"`
	// HeadBranch and BaseBranch are Gogs' names for head.ref and base.ref.
	HeadBranch string `json:"head_branch"`
	BaseBranch string `json:"base_branch"`
}

type branchRef struct {
	Ref  string      `json:"ref"`
	SHA  string      `json:"sha"`
	Repo *repository `json:"repo"`
}

type issue struct {
	Number  int64   `json:"number"`
	Title   string  `json:"title"`
	State   string  `json:"state"`
	HTMLURL string  `json:"html_url"`
	User    *user   `json:"user"`
	Labels  []label `json:"labels"`
	// PullRequest is set (non-null) when the issue is a pull request.
	PullRequest *struct {
		Merged bool `json:"merged"`
		Draft  bool `json:"draft"`
	} `json:"pull_request"`
}

type reviewBody struct {
	Type string `json:"type"`
}

type release struct {
	TagName    string `json:"tag_name"`
	Name       string `json:"name"`
	Draft      bool   `json:"draft"`
	Prerelease bool   `json:"prerelease"`
	HTMLURL    string `json:"html_url"`
}

// workflow is a workflow run or job (Gitea modules/structs/repo_actions.go).
type workflow struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	DisplayTitle string `json:"display_title"`
	Status       string `json:"status"`
	Conclusion   string `json:"conclusion"`
	HeadSHA      string `json:"head_sha"`
	HeadBranch   string `json:"head_branch"`
	HTMLURL      string `json:"html_url"`
	// Path is a run's workflow file and full ref, "ci.yml@refs/tags/v1":
	// the only place a tag run names its ref (its head_branch is empty,
	// seen on Gitea 1.26).
	Path string `json:"path"`
}

// fields returns the run or job as a pipeline; workflowName, the event's
// workflow.name, names a run that has no name of its own.
func (w *workflow) fields(workflowName string) event.Pipeline {
	p := event.Pipeline{Name: w.Name, ID: forge.ID(w.ID), SHA: w.HeadSHA, URL: w.HTMLURL, Status: forge.PipelineStatus(w.Status)}
	if w.Conclusion != "" {
		p.Status = forge.PipelineStatus(w.Conclusion)
	}
	if p.Name == "" {
		p.Name = workflowName
	}
	if p.Name == "" {
		p.Name = w.DisplayTitle
	}
	if _, ref, ok := strings.Cut(w.Path, "@"); ok && strings.HasPrefix(ref, "refs/") {
		forge.PipelineRef(&p, ref, false)
	} else {
		forge.PipelineRef(&p, w.HeadBranch, false)
	}
	return p
}

// actionRun is Forgejo's ActionRun of an action_run_* event
// (services/webhook/notifier.go, modules/structs/action.go).
type actionRun struct {
	ID          int64       `json:"id"`
	Title       string      `json:"title"`
	WorkflowID  string      `json:"workflow_id"`
	Ref         string      `json:"prettyref"`
	FullRef     string      `json:"ref"`
	CommitSHA   string      `json:"commit_sha"`
	HTMLURL     string      `json:"html_url"`
	Repository  *repository `json:"repository"`
	TriggerUser *user       `json:"trigger_user"`
}

// fields returns the run; its status comes from the event's name
// (action_run_recover is a success after a failure).
func (r *actionRun) fields(ev string) event.Pipeline {
	p := event.Pipeline{Name: r.WorkflowID, ID: forge.ID(r.ID), SHA: r.CommitSHA, URL: r.HTMLURL, Status: event.StatusSuccess}
	if ev == "action_run_failure" {
		p.Status = event.StatusFailure
	}
	if p.Name == "" {
		p.Name = r.Title
	}
	ref := r.FullRef
	if ref == "" {
		ref = r.Ref
	}
	forge.PipelineRef(&p, ref, false)
	return p
}

type pkg struct {
	Name       string      `json:"name"`
	Version    string      `json:"version"`
	HTMLURL    string      `json:"html_url"`
	Repository *repository `json:"repository"`
}
