package coding

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
)

// Normalize maps a coding.net payload to the canonical fields. m.Event is
// the Service Hook event code or the WebHook event name; payload is the JSON
// document (for a form-encoded delivery, the decoded payload= field).
// Normalize keeps no reference to payload.
//
// Events map to kinds as in forges.md section 15:
//
//   - GIT_PUSHED and push: kind push, or tag for a refs/tags/ ref; deleted
//     when the body says so or "after" is all zeros; action "created" or
//     "deleted" for a ref that appears or goes away. A short ref ("master")
//     is taken for a branch. A push without a ref is kind other.
//   - GIT_MR_CREATED, GIT_MR_UPDATED, GIT_MR_MERGED, GIT_MR_CLOSED: kind
//     pull_request, action opened, updated, merged, closed. The WebHook
//     "merge request" (also "merge_request", and V1's "pull_request") events
//     map their body's action: create opened, synchronize updated, merge
//     merged, refuse and cancel closed. The pull request carries its head
//     and base shas, head repository and author (CODING has no draft flag
//     and sends no labels).
//   - GIT_MR_NOTE, ISSUE_COMMENT_CREATED: comment, action "created"; an
//     issue comment carries its text, URL and the issue (CODING sends no
//     comment id), a merge request note the merge request.
//   - ISSUE_*: issue, with the issue (code as number, title, status as
//     state, URL, creator, labels); ISSUE_CREATED's action is "opened", the
//     others' the rest of the code in lower case ("status_updated").
//   - CI_JOB_*: pipeline, action "created", "started", "finished", ...; the
//     pipeline is the job's name, the build's id, status, branch and
//     commit; the branch fills ref and branch, the commit after.
//   - ARTIFACTS_VERSION_CREATED, _UPDATED, _DELETED and _RELEASED: registry,
//     action "created", "updated", "deleted", "released", tag the artifact
//     version, registry the package and version (no digest or URL). A release here promotes an artifact version, not a git tag,
//     so it stays with the artifact's other changes rather than kind release.
//   - ping: ping.
//   - anything else (ITERATION_*, WIKI_*, FILE_*, MEMBER_*, the other
//     ARTIFACTS_* codes, V1's member, task, topic, ...): other, never an
//     error; for a known code group the action is the rest of the code.
//
// The repository is the payload's repository (full_name, else derived from
// the clone URL path, e.coding.net/<team>/<project>/<repo>.git); events
// without one (issues, iterations, artifacts ...) get their project:
// full_name team/project. The actor is the sender (V1: user), login from
// login or global_key.
//
// CODING documents some members as strings where a GitHub-like payload has
// numbers or booleans ("number": "", "merged": "", a commit timestamp in
// epoch milliseconds), so every scalar is read leniently: a value of an
// unexpected type is converted when it can be and ignored when it cannot.
// The error, which wraps [forge.ErrBadPayload], is for a payload that is not a
// JSON object.
func (p *Provider) Normalize(m forge.Meta, payload []byte) (event.Fields, error) {
	var b body
	if err := forge.DecodeObject(payload, &b); err != nil {
		return event.Fields{}, fmt.Errorf("coding: %q payload: %w: %v", m.Event, forge.ErrBadPayload, err)
	}
	name := m.Event
	if c := classify(name); c.kind == event.KindOther && !isCode(name) && isCode(string(b.Event)) {
		// A WebHook event this provider does not know whose body names a
		// Service Hook code.
		name = string(b.Event)
	}
	c := classify(name)
	f := event.Fields{
		Kind:        c.kind,
		Action:      c.action,
		Forge:       Name,
		Repository:  b.repository(),
		Actor:       b.actor(),
		ForgeAction: string(b.Action),
	}
	switch c.shape {
	case shapePush:
		normalizePush(&f, &b)
	case shapeMR:
		mr := b.mergeRequest()
		f.PullRequest = mr.fields(int64(b.Number))
		if f.ForgeAction == "" {
			f.ForgeAction = string(mr.Action)
		}
		if c.action == "" {
			f.Action = mergeRequestAction(f.ForgeAction, f.PullRequest.Merged)
		}
		if f.Action == "merged" {
			f.PullRequest.Merged = true
		}
	case shapeComment:
		if mr := b.mergeRequest(); !mr.empty() {
			f.PullRequest = mr.fields(int64(b.Number))
			f.Comment = event.Comment{On: event.CommentOnPullRequest, Number: f.PullRequest.Number}
		}
		if ic := &b.IssueComment; ic.Content != "" || ic.HTMLURL != "" || !ic.Issue.empty() {
			f.Issue = ic.Issue.fields()
			f.Comment = event.Comment{Body: forge.CommentBody(string(ic.Content)), URL: string(ic.HTMLURL),
				On: event.CommentOnIssue, Number: f.Issue.Number}
		}
	case shapeCI:
		setRef(&f, string(b.CI.Build.Branch))
		bd := &b.CI.Build
		f.Pipeline = event.Pipeline{Name: string(b.CI.Name), ID: string(bd.ID), Status: forge.PipelineStatus(string(bd.Status)),
			Ref: f.Ref, Branch: f.Branch, Tag: f.Tag, SHA: string(bd.CommitID)}
		f.After = f.Pipeline.SHA
	case shapeArtifact:
		f.Tag = string(b.Artifact.VersionName)
		f.Registry = event.Registry{Image: string(b.Artifact.PkgName), Tag: string(b.Artifact.VersionName)}
	}
	if f.Kind == event.KindIssue && !b.Issue.empty() {
		f.Issue = b.Issue.fields()
	}
	if f.Kind == event.KindOther && c.action == "" && !isCode(name) {
		f.Action = forge.LowerSnake(string(b.Action))
	}
	return f, nil
}

// shape says which part of the payload an event carries.
type shape int

const (
	shapeNone shape = iota
	shapePush
	shapeMR
	shapeComment
	shapeCI
	shapeArtifact
)

// class is what an event name says before the payload is read.
type class struct {
	kind   event.Kind
	action string
	shape  shape
}

// codeGroups are the prefixes of the Service Hook event codes
// (https://coding.net/help/docs/project-settings/service-hook/event.html,
// and the codes CODING's OpenAPI CreateServiceHook accepts), longest first
// where one extends another; the rest of a code is its action.
var codeGroups = []string{
	"ITERATION_", "ISSUE_COMMENT_", "ISSUE_", "GIT_MR_", "GIT_",
	"CI_JOB_", "ARTIFACTS_VERSION_", "ARTIFACTS_REPO_", "WIKI_", "FILE_", "MEMBER_",
	"TEST_PLAN_", "TEST_TASK_", "TEST_REPORT_",
	"FLEXIBLE_TESTX_REVIEW_", "FLEXIBLE_TESTX_PLAN_TASK_", "FLEXIBLE_TESTX_PLAN_", "FLEXIBLE_TESTX_REPORT_",
	"CODE_DOG_", "PLAN_COMMENT_", "PLAN_", "RISK_COMMENT_", "RISK_",
}

// classify maps a Service Hook event code or a WebHook event name to its
// kind, canonical action (when the name decides it) and payload shape.
func classify(name string) class {
	switch name {
	case "push", "GIT_PUSHED":
		return class{kind: event.KindPush, shape: shapePush}
	case "merge request", "merge_request", "pull_request":
		return class{kind: event.KindPullRequest, shape: shapeMR}
	case "GIT_MR_CREATED":
		return class{event.KindPullRequest, "opened", shapeMR}
	case "GIT_MR_UPDATED":
		return class{event.KindPullRequest, "updated", shapeMR}
	case "GIT_MR_MERGED":
		return class{event.KindPullRequest, "merged", shapeMR}
	case "GIT_MR_CLOSED":
		return class{event.KindPullRequest, "closed", shapeMR}
	case "GIT_MR_NOTE", "ISSUE_COMMENT_CREATED":
		return class{event.KindComment, "created", shapeComment}
	case "ISSUE_CREATED":
		return class{event.KindIssue, "opened", shapeNone}
	case "ARTIFACTS_VERSION_CREATED", "ARTIFACTS_VERSION_UPDATED", "ARTIFACTS_VERSION_DELETED", "ARTIFACTS_VERSION_RELEASED":
		return class{event.KindRegistry, codeAction(name), shapeArtifact}
	case "ping":
		return class{kind: event.KindPing}
	}
	switch {
	case strings.HasPrefix(name, "ISSUE_"):
		return class{event.KindIssue, codeAction(name), shapeNone}
	case strings.HasPrefix(name, "CI_JOB_"):
		return class{event.KindPipeline, codeAction(name), shapeCI}
	}
	return class{kind: event.KindOther, action: codeAction(name)}
}

// isCode reports whether name has the form of a Service Hook event code:
// upper-case ASCII letters and digits in words joined by '_'.
func isCode(name string) bool {
	if name == "" || name[0] == '_' || name[len(name)-1] == '_' {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// codeAction returns the action of a Service Hook code: the rest of the code
// after its group, in lower case ("ISSUE_STATUS_UPDATED": "status_updated").
// It returns "" for a name of no known group.
func codeAction(name string) string {
	for _, g := range codeGroups {
		if rest, ok := strings.CutPrefix(name, g); ok && rest != "" && isCode(rest) {
			return strings.ToLower(rest)
		}
	}
	return ""
}

// normalizePush fills a push: the full ref, before and after, the commits
// and the pusher.
func normalizePush(f *event.Fields, b *body) {
	if !setRef(f, string(b.Ref)) {
		f.Kind = event.KindOther
		return
	}
	f.Before, f.After = string(b.Before), string(b.After)
	f.Deleted = bool(b.Deleted) || event.IsZeroSHA(f.After)
	switch {
	case f.Deleted:
		f.Action = "deleted"
	case bool(b.Created) || event.IsZeroSHA(f.Before):
		f.Action = "created"
	}
	f.Commits = make([]event.Commit, 0, len(b.Commits))
	for i := range b.Commits {
		f.Commits = append(f.Commits, b.Commits[i].fields())
	}
}

// setRef sets ref, kind push or tag, branch and tag from a ref that may be
// short: "refs/..." is kept, "heads/x" and "tags/x" get "refs/", any other
// name is taken for a branch. It reports whether there was a ref.
func setRef(f *event.Fields, ref string) bool {
	ref = strings.TrimSpace(ref)
	switch {
	case ref == "":
		return false
	case strings.HasPrefix(ref, "refs/"):
	case strings.HasPrefix(ref, "heads/"), strings.HasPrefix(ref, "tags/"):
		ref = "refs/" + ref
	default:
		ref = "refs/heads/" + ref
	}
	f.Ref = ref
	if t, ok := strings.CutPrefix(ref, "refs/tags/"); ok {
		if f.Kind == event.KindPush {
			f.Kind = event.KindTag
		}
		f.Tag = t
		return true
	}
	f.Branch, _ = strings.CutPrefix(ref, "refs/heads/")
	if f.Branch == ref {
		f.Branch = ""
	}
	return true
}

// mergeRequestAction maps a WebHook merge request action to the canonical
// one. CODING's Jenkins plugin lists create, merge, refuse, cancel and
// synchronize (jenkinsci/coding-webhook-plugin, help-mrpr-action.html); the
// GitHub-like spellings are accepted too.
func mergeRequestAction(action string, merged bool) string {
	switch strings.ToLower(action) {
	case "create", "created", "open", "opened", "reopen", "reopened":
		return "opened"
	case "synchronize", "synchronized", "update", "updated":
		return "updated"
	case "merge", "merged":
		return "merged"
	case "refuse", "refused", "reject", "rejected", "cancel", "canceled", "cancelled", "close", "closed":
		if merged {
			return "merged"
		}
		return "closed"
	case "":
		if merged {
			return "merged"
		}
		return ""
	}
	return forge.LowerSnake(action)
}

// body holds the parts of a coding.net payload that Normalize reads, for
// every generation and event at once; a key absent from an event stays zero.
type body struct {
	Event      text       `json:"event"`
	Action     text       `json:"action"`
	Ref        text       `json:"ref"`
	Before     text       `json:"before"`
	After      text       `json:"after"`
	Created    truth      `json:"created"`
	Deleted    truth      `json:"deleted"`
	Commits    []commit   `json:"commits"`
	Pusher     gitPerson  `json:"pusher"`
	Sender     account    `json:"sender"`
	User       account    `json:"user"`
	Repository repository `json:"repository"`
	Project    struct {
		Name text `json:"name"`
		URL  text `json:"url"`
	} `json:"project"`
	Team struct {
		Domain text `json:"domain"`
		Name   text `json:"name"`
	} `json:"team"`
	Number            number       `json:"number"`
	MergeRequest      mergeRequest `json:"mergeRequest"`
	MergeRequestSnake mergeRequest `json:"merge_request"`
	PullRequest       mergeRequest `json:"pull_request"`
	CI                struct {
		Name  text `json:"name"`
		Build struct {
			ID       text `json:"id"`
			Branch   text `json:"branch"`
			CommitID text `json:"commit_id"`
			Status   text `json:"status"`
		} `json:"build"`
	} `json:"ci"`
	Artifact struct {
		PkgName     text `json:"artifactPkgName"`
		VersionName text `json:"artifactVersionName"`
	} `json:"artifact"`
	Issue        issue `json:"issue"`
	IssueComment struct {
		Content text  `json:"content"`
		HTMLURL text  `json:"html_url"`
		Issue   issue `json:"issue"`
	} `json:"issueComment"`
}

// issue is a CODING issue (Service Hook ISSUE_*): its number is "code".
type issue struct {
	Code    number  `json:"code"`
	Title   text    `json:"title"`
	Status  text    `json:"status"`
	HTMLURL text    `json:"html_url"`
	Creator account `json:"creator"`
	Labels  []struct {
		Name text `json:"name"`
	} `json:"labels"`
}

func (is *issue) empty() bool { return is.Code == 0 && is.Title == "" && is.HTMLURL == "" }

func (is *issue) fields() event.Issue {
	out := event.Issue{
		Number: int64(is.Code),
		Title:  string(is.Title),
		State:  string(is.Status),
		URL:    string(is.HTMLURL),
		Author: event.Person{Login: cmp.Or(string(is.Creator.Login), string(is.Creator.GlobalKey)), Name: string(is.Creator.Name)},
	}
	for _, l := range is.Labels {
		if l.Name != "" {
			out.Labels = append(out.Labels, string(l.Name))
		}
	}
	return out
}

// mergeRequest returns the merge request: Service Hook and V2 send
// mergeRequest, V1 merge_request or pull_request.
func (b *body) mergeRequest() *mergeRequest {
	for _, mr := range []*mergeRequest{&b.MergeRequest, &b.MergeRequestSnake, &b.PullRequest} {
		if !mr.empty() {
			return mr
		}
	}
	return &b.MergeRequest
}

// repository returns the normalized repository: the payload's repository,
// else the merge request's target repository, else the project.
func (b *body) repository() event.Repository {
	r := b.Repository
	if r.empty() {
		r = b.mergeRequest().Base.Repo
	}
	if !r.empty() {
		return r.fields()
	}
	out := event.Repository{
		Name:  string(b.Project.Name),
		Owner: cmp.Or(string(b.Team.Domain), string(b.Team.Name)),
		URL:   string(b.Project.URL),
	}
	if out.Name != "" && out.Owner != "" {
		out.FullName = out.Owner + "/" + out.Name
	}
	return out
}

// actor returns the sender (V1: user), completed from the pusher.
func (b *body) actor() event.Person {
	a := b.Sender
	if a.empty() {
		a = b.User
	}
	return event.Person{
		Login: cmp.Or(string(a.Login), string(a.GlobalKey), string(b.Pusher.Username)),
		Name:  cmp.Or(string(a.Name), string(b.Pusher.Name)),
		Email: cmp.Or(string(a.Email), string(b.Pusher.Email)),
	}
}

// account is a CODING user: sender, V1 user, owner.
type account struct {
	Login     text `json:"login"`
	GlobalKey text `json:"global_key"`
	Name      text `json:"name"`
	Email     text `json:"email"`
}

func (a *account) empty() bool { return a.Login == "" && a.GlobalKey == "" && a.Name == "" }

// gitPerson is a git identity: a commit's author or committer, the pusher.
type gitPerson struct {
	Name     text `json:"name"`
	Email    text `json:"email"`
	Username text `json:"username"`
}

// commit is one commit of a push: V2 and Service Hook spell it as GitHub
// does (id, message, url, timestamp in epoch milliseconds), V1 as sha,
// short_message, web_url and committer.
type commit struct {
	ID           text      `json:"id"`
	SHA          text      `json:"sha"`
	Message      text      `json:"message"`
	ShortMessage text      `json:"short_message"`
	URL          text      `json:"url"`
	WebURL       text      `json:"web_url"`
	Timestamp    timestamp `json:"timestamp"`
	Author       gitPerson `json:"author"`
	Committer    gitPerson `json:"committer"`
}

func (c *commit) fields() event.Commit {
	a := c.Author
	if a.Name == "" && a.Email == "" && a.Username == "" {
		a = c.Committer
	}
	return event.Commit{
		ID:        cmp.Or(string(c.ID), string(c.SHA)),
		Message:   cmp.Or(string(c.Message), string(c.ShortMessage)),
		URL:       cmp.Or(string(c.URL), string(c.WebURL)),
		Author:    event.Person{Login: string(a.Username), Name: string(a.Name), Email: string(a.Email)},
		Timestamp: string(c.Timestamp),
	}
}

// repository is a CODING repository; V1 names its URLs web_url and
// https_url.
type repository struct {
	FullName      text    `json:"full_name"`
	Name          text    `json:"name"`
	Owner         account `json:"owner"`
	HTMLURL       text    `json:"html_url"`
	WebURL        text    `json:"web_url"`
	CloneURL      text    `json:"clone_url"`
	HTTPSURL      text    `json:"https_url"`
	DefaultBranch text    `json:"default_branch"`
}

func (r *repository) empty() bool {
	return r.FullName == "" && r.Name == "" && r.HTMLURL == "" && r.WebURL == "" && r.CloneURL == "" && r.HTTPSURL == ""
}

func (r *repository) fields() event.Repository {
	clone := cmp.Or(string(r.CloneURL), string(r.HTTPSURL))
	full := string(r.FullName)
	if full == "" {
		full = pathOf(clone)
	}
	name := string(r.Name)
	owner := cmp.Or(string(r.Owner.Login), string(r.Owner.GlobalKey))
	if full != "" {
		if name == "" {
			name = full[strings.LastIndexByte(full, '/')+1:]
		}
		if owner == "" && strings.Contains(full, "/") {
			owner, _, _ = strings.Cut(full, "/")
		}
	}
	if owner == "" {
		owner = string(r.Owner.Name)
	}
	return event.Repository{
		FullName:      full,
		Name:          name,
		Owner:         owner,
		URL:           cmp.Or(string(r.HTMLURL), string(r.WebURL)),
		CloneURL:      clone,
		DefaultBranch: string(r.DefaultBranch),
	}
}

// pathOf returns the path of an http(s) clone URL without its leading
// slash and ".git": https://e.coding.net/team/project/repo.git gives
// team/project/repo. It returns "" for anything else.
func pathOf(clone string) string {
	rest, ok := strings.CutPrefix(clone, "https://")
	if !ok {
		rest, ok = strings.CutPrefix(clone, "http://")
	}
	if !ok {
		return ""
	}
	_, path, ok := strings.Cut(rest, "/")
	if !ok {
		return ""
	}
	path, _, _ = strings.Cut(path, "?")
	path = strings.Trim(strings.TrimSuffix(path, ".git"), "/")
	if !strings.Contains(path, "/") {
		return ""
	}
	return path
}

// mergeRequest is a merge request: the Service Hook's and V2's
// mergeRequest (GitHub-like: head.ref, base.ref, html_url, merged), V1's
// merge_request (status, source_branch, target_branch, web_url).
type mergeRequest struct {
	Number       number    `json:"number"`
	Title        text      `json:"title"`
	State        text      `json:"state"`
	Status       text      `json:"status"`
	Action       text      `json:"action"`
	HTMLURL      text      `json:"html_url"`
	WebURL       text      `json:"web_url"`
	Merged       truth     `json:"merged"`
	SourceBranch text      `json:"source_branch"`
	TargetBranch text      `json:"target_branch"`
	Head         branchRef `json:"head"`
	Base         branchRef `json:"base"`
	User         account   `json:"user"`
}

type branchRef struct {
	Ref  text       `json:"ref"`
	SHA  text       `json:"sha"`
	Repo repository `json:"repo"`
}

func (mr *mergeRequest) empty() bool {
	return mr.Number == 0 && mr.Title == "" && mr.HTMLURL == "" && mr.WebURL == "" && mr.State == "" &&
		mr.Status == "" && mr.Head.Ref == "" && mr.Base.Ref == "" && mr.SourceBranch == ""
}

// fields returns the normalized pull request; number is the payload's
// top-level "number", used when the object lacks one.
func (mr *mergeRequest) fields(number int64) event.PullRequest {
	n := int64(mr.Number)
	if n == 0 {
		n = number
	}
	state := cmp.Or(string(mr.State), string(mr.Status))
	return event.PullRequest{
		Number:       n,
		Title:        string(mr.Title),
		State:        state,
		SourceBranch: branchName(cmp.Or(string(mr.Head.Ref), string(mr.SourceBranch))),
		TargetBranch: branchName(cmp.Or(string(mr.Base.Ref), string(mr.TargetBranch))),
		URL:          cmp.Or(string(mr.HTMLURL), string(mr.WebURL)),
		Merged:       bool(mr.Merged) || strings.EqualFold(state, "merged"),
		HeadSHA:      string(mr.Head.SHA),
		BaseSHA:      string(mr.Base.SHA),
		SourceRepository: func() event.Repository {
			if mr.Head.Repo.empty() {
				return event.Repository{}
			}
			return mr.Head.Repo.fields()
		}(),
		Author: event.Person{Login: cmp.Or(string(mr.User.Login), string(mr.User.GlobalKey)), Name: string(mr.User.Name), Email: string(mr.User.Email)},
	}
}

// branchName returns a branch name from a ref that may be full.
func branchName(ref string) string {
	b, _ := strings.CutPrefix(ref, "refs/heads/")
	return b
}

// text is a JSON scalar read as a string: a string as is, a number or a
// boolean as written; null, objects and arrays give "".
type text string

// UnmarshalJSON implements [json.Unmarshaler]; it never fails.
func (t *text) UnmarshalJSON(data []byte) error {
	switch {
	case len(data) > 0 && data[0] == '"':
		var s string
		if json.Unmarshal(data, &s) == nil {
			*t = text(s)
		}
	case len(data) > 0 && (data[0] == '-' || data[0] >= '0' && data[0] <= '9'), string(data) == "true", string(data) == "false":
		*t = text(data)
	default:
		*t = ""
	}
	return nil
}

// number is a JSON integer that CODING may send as a string ("12") or an
// empty string; anything that is not an integer gives 0.
type number int64

// UnmarshalJSON implements [json.Unmarshaler]; it never fails.
func (n *number) UnmarshalJSON(data []byte) error {
	*n = 0
	s := string(data)
	if len(data) > 0 && data[0] == '"' {
		if json.Unmarshal(data, &s) != nil {
			return nil
		}
		s = strings.TrimSpace(s)
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		*n = number(v)
		return nil
	}
	if v, err := strconv.ParseFloat(s, 64); err == nil && v >= -1<<62 && v <= 1<<62 && v == float64(int64(v)) {
		*n = number(int64(v))
	}
	return nil
}

// truth is a JSON boolean that CODING may send as a string ("true", "") or a
// number (1); anything else gives false.
type truth bool

// UnmarshalJSON implements [json.Unmarshaler]; it never fails.
func (f *truth) UnmarshalJSON(data []byte) error {
	s := string(data)
	if len(data) > 0 && data[0] == '"' {
		if json.Unmarshal(data, &s) != nil {
			s = ""
		}
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1":
		*f = true
	default:
		*f = false
	}
	return nil
}

// timestamp is a commit time: a string is kept as sent, a number is epoch
// milliseconds (seconds when it is below 10^11, before 1973 in
// milliseconds) and becomes RFC 3339 in UTC.
type timestamp string

// UnmarshalJSON implements [json.Unmarshaler]; it never fails.
func (t *timestamp) UnmarshalJSON(data []byte) error {
	*t = ""
	if len(data) > 0 && data[0] == '"' {
		var s string
		if json.Unmarshal(data, &s) == nil {
			*t = timestamp(s)
		}
		return nil
	}
	v, err := strconv.ParseInt(string(data), 10, 64)
	if err != nil || v <= 0 || v > 1<<53 {
		return nil
	}
	tm := time.UnixMilli(v)
	if v < 1e11 {
		tm = time.Unix(v, 0)
	}
	*t = timestamp(tm.UTC().Format(time.RFC3339))
	return nil
}
