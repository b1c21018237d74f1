package gitlab

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/jsonx"
)

// The X-Gitlab-Event values GitLab sends: the hook's name, singularized and
// titleized. The payloads are documented at
// https://docs.gitlab.com/user/project/integrations/webhook_events/ and, for
// system hooks, https://docs.gitlab.com/administration/system_hooks/.
const (
	EventPush                = "Push Hook"
	EventTagPush             = "Tag Push Hook"
	EventIssue               = "Issue Hook"
	EventConfidentialIssue   = "Confidential Issue Hook"
	EventNote                = "Note Hook"
	EventConfidentialNote    = "Confidential Note Hook"
	EventMergeRequest        = "Merge Request Hook"
	EventWikiPage            = "Wiki Page Hook"
	EventPipeline            = "Pipeline Hook"
	EventJob                 = "Job Hook"
	EventDeployment          = "Deployment Hook"
	EventFeatureFlag         = "Feature Flag Hook"
	EventRelease             = "Release Hook"
	EventMilestone           = "Milestone Hook"
	EventEmoji               = "Emoji Hook"
	EventResourceAccessToken = "Resource Access Token Hook"
	EventVulnerability       = "Vulnerability Hook"
	EventMember              = "Member Hook"
	EventProject             = "Project Hook"
	EventSubgroup            = "Subgroup Hook"
	EventSystem              = "System Hook"
	// EventBuild is the job hook's name before GitLab 9.3 renamed builds
	// to jobs; older instances still send it.
	EventBuild = "Build Hook"
)

// shape is the payload layout a delivery has, which decides how it is read.
type shape int

const (
	shapeOther shape = iota
	shapePush
	shapeMergeRequest
	shapeNote
	shapeIssue
	shapeRelease
	shapePipeline
	shapeJob
	shapeDeployment
	shapeRepositoryUpdate
)

// hookShape maps X-Gitlab-Event to the payload layout. Wiki page, feature
// flag, milestone, emoji, access token, vulnerability, member, project and
// subgroup hooks have no canonical kind and are read as shapeOther, as is
// a hook this package does not know.
func hookShape(name string) shape {
	switch name {
	case EventPush, EventTagPush:
		return shapePush
	case EventMergeRequest:
		return shapeMergeRequest
	case EventNote, EventConfidentialNote:
		return shapeNote
	case EventIssue, EventConfidentialIssue:
		return shapeIssue
	case EventRelease:
		return shapeRelease
	case EventPipeline:
		return shapePipeline
	case EventJob, EventBuild:
		return shapeJob
	case EventDeployment:
		return shapeDeployment
	}
	return shapeOther
}

// systemShape maps a system hook's object_kind (newer events) or event_name
// (older ones) to the payload layout. A system hook sends the project-hook
// payloads for the push, tag push and merge request triggers it has
// enabled, and repository_update once per push.
func systemShape(key string) shape {
	switch key {
	case "push", "tag_push":
		return shapePush
	case "merge_request":
		return shapeMergeRequest
	case "note":
		return shapeNote
	case "issue", "work_item":
		return shapeIssue
	case "release":
		return shapeRelease
	case "pipeline":
		return shapePipeline
	case "build":
		return shapeJob
	case "deployment":
		return shapeDeployment
	case "repository_update":
		return shapeRepositoryUpdate
	}
	return shapeOther
}

// verb returns the canonical lower_snake past tense of a GitLab action
// verb, or the action itself in lower_snake case.
func verb(action string) string {
	switch action {
	case "open":
		return "opened"
	case "reopen":
		return "reopened"
	case "close":
		return "closed"
	case "update":
		return "updated"
	case "create":
		return "created"
	case "delete":
		return "deleted"
	case "merge":
		return "merged"
	case "approve", "approval", "approved":
		return "approved"
	case "unapproval", "unapproved":
		return "unapproved"
	case "award":
		return "awarded"
	case "revoke":
		return "revoked"
	case "deny":
		return "denied"
	}
	return forge.LowerSnake(action)
}

// redactedEmail is what GitLab sends in place of an email address the user
// has not made public.
const redactedEmail = "[REDACTED]"

// Normalize maps a GitLab payload to the canonical fields, by the hook name
// in m.Event (X-Gitlab-Event) and, for a system hook, by the payload's
// object_kind or event_name:
//
//   - Push Hook and Tag Push Hook: kind push or tag by the ref (refs/tags/),
//     deleted for an all-zero after, action "created" for an all-zero
//     before and "deleted" for an all-zero after, up to 20 commits, the
//     pusher (user_username) as actor.
//   - Merge Request Hook: kind pull_request, number from
//     object_attributes.iid (not id), action from object_attributes.action
//     (open and reopen: opened; update: updated when oldrev shows new
//     commits, else edited; merge: merged; close: closed; approval and
//     approved: approved; unapproval and unapproved: unapproved; an update
//     without new commits whose changes list labels: labeled). The merge
//     request carries its draft flag, last commit (head_sha), source
//     project and labels, and its author when the action is open (the
//     payload names the author by id only); GitLab sends no base sha.
//   - Note Hook and Confidential Note Hook: kind comment, action "created"
//     (no action, or create) or "edited" (update), with the comment; a
//     comment on a merge request (noteable_type MergeRequest) carries the
//     merge request, one on an issue the issue.
//   - Issue Hook and Confidential Issue Hook: kind issue, with the issue
//     (its author only when the action is open); an update of the labels
//     is "labeled".
//   - Release Hook: kind release, with the tag and the release.
//   - Pipeline, Job (and its pre-9.3 name Build Hook) and Deployment Hook:
//     kind pipeline, action the status, with the pipeline: name (the
//     pipeline's name, job's name or environment), id, status, ref, sha and
//     URL (a job's is built from the project URL; a deployment's sha from
//     its commit URL, and its ref is taken as a branch).
//   - A system hook's repository_update: kind other, because the same push
//     also arrives as push or tag push events; its ref, before and after
//     are set when it lists one change.
//   - Every other hook, and an unknown one: kind other, with the repository
//     and actor when the payload has them and the action from
//     object_attributes.action, action or event_name.
//
// The repository is the project: full_name is its path_with_namespace (or
// the path of its URL, or of a job's repository homepage, when the payload
// has no path_with_namespace), and owner and name are that path's namespace
// and last segment. The forge's
// own action (object_attributes.action, action, the pipeline, job or
// deployment status, or event_name) is kept in ForgeAction; Action is its
// canonical lower_snake form. GitLab's "[REDACTED]" placeholder for a
// private email address is normalized to "".
//
// The error wraps forge.ErrBadPayload and is returned only when payload is
// not a JSON object; a field of an unexpected type is left out.
func (p *Provider) Normalize(m forge.Meta, payload []byte) (event.Fields, error) {
	return NormalizeAs(Name, m.Event, payload)
}

// NormalizeAs maps a GitLab-shaped payload to the canonical fields exactly
// as [Provider.Normalize] does, by the hook name in hook (an X-Gitlab-Event
// value such as [EventPush]), but reports forgeName as the forge, both in
// Fields.Forge and in the error's prefix. It is for the providers of forges
// that send GitLab's payloads under other headers (AtomGit and GitCode), so
// that they share this mapping instead of copying it. It keeps no reference
// to payload. The error wraps [forge.ErrBadPayload] and is returned only when
// payload is not a JSON object.
func NormalizeAs(forgeName, hook string, payload []byte) (event.Fields, error) {
	var pl hookPayload
	if err := decode(payload, &pl); err != nil {
		return event.Fields{}, fmt.Errorf("%s: %s: %w: %v", forgeName, hook, forge.ErrBadPayload, err)
	}
	f := event.Fields{Kind: event.KindOther, Forge: forgeName, Repository: pl.repository()}
	sh := hookShape(hook)
	if hook == EventSystem {
		sh = systemShape(cmp.Or(pl.ObjectKind, pl.EventName))
	}
	oa := pl.ObjectAttributes
	if oa == nil {
		oa = &attributes{}
	}
	switch sh {
	case shapePush:
		setRef(&f, pl.Ref)
		f.Kind = event.KindPush
		if strings.HasPrefix(pl.Ref, "refs/tags/") {
			f.Kind = event.KindTag
		}
		f.Before, f.After = pl.Before, pl.After
		f.Deleted = event.IsZeroSHA(pl.After)
		switch {
		case f.Deleted:
			f.Action = "deleted"
		case event.IsZeroSHA(pl.Before):
			f.Action = "created"
		}
		f.Commits = commits(pl.Commits)
		f.Actor = event.Person{Login: pl.UserUsername, Name: pl.UserName, Email: email(pl.UserEmail)}
	case shapeMergeRequest:
		f.Kind = event.KindPullRequest
		f.ForgeAction = oa.Action
		f.Action = mergeRequestAction(oa.Action, oa.OldRev)
		if oa.Action == "update" && oa.OldRev == "" && pl.changed("labels") {
			f.Action = "labeled"
		}
		f.PullRequest = event.PullRequest{
			Number:           oa.IID,
			Title:            oa.Title,
			State:            oa.State,
			SourceBranch:     oa.SourceBranch,
			TargetBranch:     oa.TargetBranch,
			URL:              oa.URL,
			Merged:           oa.State == "merged",
			Draft:            oa.Draft || oa.WorkInProgress,
			SourceRepository: oa.Source.repository(),
			Labels:           labels(cmp.Or(len(oa.Labels), len(pl.Labels)) > 0, oa.Labels, pl.Labels),
		}
		f.Before = oa.OldRev
		if oa.LastCommit != nil {
			f.After = oa.LastCommit.ID
			f.PullRequest.HeadSHA = oa.LastCommit.ID
		}
		f.Actor = pl.User.person()
		if oa.Action == "open" {
			// The payload names the author by id only; who opened it is
			// the author.
			f.PullRequest.Author = f.Actor
		}
	case shapeNote:
		f.Kind = event.KindComment
		f.ForgeAction = oa.Action
		f.Action = noteAction(oa.Action)
		f.Comment = event.Comment{ID: forge.ID(oa.ID), Body: forge.CommentBody(oa.Note), URL: oa.URL}
		switch oa.NoteableType {
		case "MergeRequest":
			f.Comment.On = event.CommentOnPullRequest
			if pl.MergeRequest != nil {
				f.PullRequest = pl.MergeRequest.pullRequest()
				f.Comment.Number = f.PullRequest.Number
			}
		case "Issue":
			f.Comment.On = event.CommentOnIssue
			if pl.Issue != nil {
				f.Issue = pl.Issue.issue()
				if f.Issue.URL == "" {
					// The note's URL is the issue's with a #note_ anchor.
					f.Issue.URL, _, _ = strings.Cut(oa.URL, "#")
				}
				f.Comment.Number = f.Issue.Number
			}
		case "Commit":
			f.Comment.On = event.CommentOnCommit
			if pl.Commit != nil {
				f.After = pl.Commit.ID
			}
		}
		f.Actor = pl.User.person()
	case shapeIssue:
		f.Kind = event.KindIssue
		f.ForgeAction = oa.Action
		f.Action = verb(oa.Action)
		if oa.Action == "update" && pl.changed("labels") {
			f.Action = "labeled"
		}
		f.Issue = event.Issue{
			Number: oa.IID,
			Title:  oa.Title,
			State:  oa.State,
			URL:    oa.URL,
			Labels: labels(true, oa.Labels, pl.Labels),
		}
		f.Actor = pl.User.person()
		if oa.Action == "open" {
			f.Issue.Author = f.Actor
		}
	case shapeRelease:
		f.Kind = event.KindRelease
		f.ForgeAction = pl.Action
		f.Action = verb(pl.Action)
		if tag, ok := rawString(pl.Tag); ok && tag != "" {
			f.Tag = tag
			f.Ref = "refs/tags/" + tag
		}
		if pl.Commit != nil {
			f.After = pl.Commit.ID
		}
		f.Release = event.Release{Tag: f.Tag, Name: pl.Name, URL: pl.URL}
		f.Actor = pl.User.person()
	case shapePipeline:
		f.Kind = event.KindPipeline
		f.ForgeAction = oa.Status
		f.Action = forge.LowerSnake(oa.Status)
		setRef(&f, qualifyRef(oa.Ref, oa.Tag))
		f.Before, f.After = oa.BeforeSHA, oa.SHA
		if pl.MergeRequest != nil {
			f.PullRequest = pl.MergeRequest.pullRequest()
		}
		f.Pipeline = event.Pipeline{Name: oa.Name, ID: forge.ID(oa.ID), Status: forge.PipelineStatus(oa.Status), SHA: oa.SHA, URL: oa.URL}
		forge.PipelineRef(&f.Pipeline, f.Ref, false)
		f.Actor = pl.User.person()
	case shapeJob:
		f.Kind = event.KindPipeline
		f.ForgeAction = pl.BuildStatus
		f.Action = forge.LowerSnake(pl.BuildStatus)
		setRef(&f, qualifyRef(pl.Ref, rawTrue(pl.Tag)))
		f.Before, f.After = pl.BeforeSHA, pl.SHA
		f.Pipeline = event.Pipeline{Name: pl.BuildName, ID: forge.ID(pl.BuildID), Status: forge.PipelineStatus(pl.BuildStatus), SHA: pl.SHA}
		forge.PipelineRef(&f.Pipeline, f.Ref, false)
		if f.Repository.URL != "" && pl.BuildID != 0 {
			f.Pipeline.URL = f.Repository.URL + "/-/jobs/" + forge.ID(pl.BuildID)
		}
		f.Actor = pl.User.person()
	case shapeDeployment:
		f.Kind = event.KindPipeline
		f.ForgeAction = pl.Status
		f.Action = forge.LowerSnake(pl.Status)
		f.Pipeline = event.Pipeline{Name: pl.Environment, ID: forge.ID(pl.DeploymentID), Status: forge.PipelineStatus(pl.Status), URL: pl.DeployableURL}
		// The payload has the short sha and the commit's URL, which ends
		// with the full one.
		if _, sha, ok := strings.Cut(pl.CommitURL, "/commit/"); ok && !strings.Contains(sha, "/") {
			f.Pipeline.SHA = sha
		}
		// The ref deployed is a branch or a tag, which the payload does
		// not tell apart: it is kept as a branch.
		forge.PipelineRef(&f.Pipeline, pl.Ref, false)
		setRef(&f, f.Pipeline.Ref)
		f.After = f.Pipeline.SHA
		f.Actor = pl.User.person()
	case shapeRepositoryUpdate:
		// One system hook per push, listing every ref it changed. It is kept
		// as "other" so that a system hook with push events enabled does not
		// fire push triggers twice; a single change is still described.
		f.ForgeAction = pl.EventName
		f.Action = forge.LowerSnake(pl.EventName)
		if ch := pl.refChanges(); len(ch) == 1 {
			setRef(&f, ch[0].Ref)
			f.Before, f.After = ch[0].Before, ch[0].After
		}
		f.Actor = event.Person{Login: pl.UserUsername, Name: pl.UserName, Email: email(pl.UserEmail)}
	default:
		f.ForgeAction = cmp.Or(oa.Action, pl.Action, pl.EventName)
		f.Action = verb(f.ForgeAction)
		f.Actor = pl.User.person()
	}
	return f, nil
}

// hookPayload is the union of the GitLab payload fields Normalize reads.
// Fields that different hooks send with different JSON types are kept raw.
type hookPayload struct {
	ObjectKind string `json:"object_kind"`
	EventName  string `json:"event_name"`
	// Action is the action of release and milestone hooks and of the
	// newer system hook events.
	Action string `json:"action"`

	// Push, tag push and job hooks.
	Ref          string   `json:"ref"`
	Before       string   `json:"before"`
	After        string   `json:"after"`
	UserUsername string   `json:"user_username"`
	UserName     string   `json:"user_name"`
	UserEmail    string   `json:"user_email"`
	Commits      []commit `json:"commits"`

	// Tag is a boolean in job hooks and the tag name in release hooks.
	Tag         json.RawMessage `json:"tag"`
	SHA         string          `json:"sha"`
	BeforeSHA   string          `json:"before_sha"`
	BuildStatus string          `json:"build_status"`
	// Status is a deployment's status.
	Status        string `json:"status"`
	Environment   string `json:"environment"`
	DeploymentID  int64  `json:"deployment_id"`
	DeployableURL string `json:"deployable_url"`
	CommitURL     string `json:"commit_url"`
	// BuildID and BuildName are a job's.
	BuildID   int64  `json:"build_id"`
	BuildName string `json:"build_name"`
	// Name and URL are a release's.
	Name string `json:"name"`
	URL  string `json:"url"`
	// ProjectName is a job's project path ("group/project").
	ProjectName string  `json:"project_name"`
	Issue       *issue  `json:"issue"`
	Labels      []label `json:"labels"`
	// Commit is a release's tagged commit (a job hook's commit, whose id is
	// the pipeline's number, is not read).
	Commit *commit `json:"commit"`

	User             *user         `json:"user"`
	Project          *project      `json:"project"`
	Repository       *legacyRepo   `json:"repository"`
	ObjectAttributes *attributes   `json:"object_attributes"`
	MergeRequest     *mergeRequest `json:"merge_request"`

	// PathWithNamespace is the project of group project hooks and of system
	// hook project events; ProjectPathWithNamespace that of system hook
	// team and access request events.
	PathWithNamespace        string `json:"path_with_namespace"`
	ProjectPathWithNamespace string `json:"project_path_with_namespace"`

	// Changes is an object in merge request and issue hooks and the list of
	// changed refs in a system hook's repository_update.
	Changes json.RawMessage `json:"changes"`
}

type user struct {
	Username string `json:"username"`
	Name     string `json:"name"`
	Email    string `json:"email"`
}

type project struct {
	Name              string `json:"name"`
	Namespace         string `json:"namespace"`
	PathWithNamespace string `json:"path_with_namespace"`
	WebURL            string `json:"web_url"`
	GitHTTPURL        string `json:"git_http_url"`
	HTTPURL           string `json:"http_url"`
	DefaultBranch     string `json:"default_branch"`
}

// legacyRepo is the repository key that GitLab 8.5 deprecated in favour of
// project; it is read only when project is absent.
type legacyRepo struct {
	Name       string `json:"name"`
	Homepage   string `json:"homepage"`
	GitHTTPURL string `json:"git_http_url"`
}

type commit struct {
	ID        string `json:"id"`
	Message   string `json:"message"`
	Timestamp string `json:"timestamp"`
	URL       string `json:"url"`
	Author    struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	} `json:"author"`
}

type attributes struct {
	ID    int64  `json:"id"`
	IID   int64  `json:"iid"`
	Name  string `json:"name"`
	Note  string `json:"note"`
	Draft bool   `json:"draft"`
	// WorkInProgress is draft's name before GitLab 13.
	WorkInProgress bool     `json:"work_in_progress"`
	Source         *project `json:"source"`
	Labels         []label  `json:"labels"`
	Title          string   `json:"title"`
	State          string   `json:"state"`
	Action         string   `json:"action"`
	URL            string   `json:"url"`
	SourceBranch   string   `json:"source_branch"`
	TargetBranch   string   `json:"target_branch"`
	OldRev         string   `json:"oldrev"`
	LastCommit     *commit  `json:"last_commit"`
	NoteableType   string   `json:"noteable_type"`
	// Pipeline hooks.
	Status    string `json:"status"`
	Ref       string `json:"ref"`
	Tag       bool   `json:"tag"`
	SHA       string `json:"sha"`
	BeforeSHA string `json:"before_sha"`
}

type mergeRequest struct {
	IID            int64    `json:"iid"`
	Title          string   `json:"title"`
	State          string   `json:"state"`
	SourceBranch   string   `json:"source_branch"`
	TargetBranch   string   `json:"target_branch"`
	URL            string   `json:"url"`
	Draft          bool     `json:"draft"`
	WorkInProgress bool     `json:"work_in_progress"`
	LastCommit     *commit  `json:"last_commit"`
	Source         *project `json:"source"`
	Labels         []label  `json:"labels"`
}

// issue is the issue a note is on.
type issue struct {
	IID    int64   `json:"iid"`
	Title  string  `json:"title"`
	State  string  `json:"state"`
	URL    string  `json:"url"`
	Labels []label `json:"labels"`
}

func (is *issue) issue() event.Issue {
	return event.Issue{Number: is.IID, Title: is.Title, State: is.State, URL: is.URL, Labels: forge.Labels(is.Labels, labelTitle)}
}

// label is a label object; GitLab names it by its title.
type label struct {
	Title string `json:"title"`
}

func labelTitle(l *label) string { return l.Title }

// labels returns the titles of the object's labels, else of the payload's
// top-level labels (when fallback), or nil.
func labels(fallback bool, own, top []label) []string {
	if len(own) > 0 || !fallback {
		return forge.Labels(own, labelTitle)
	}
	return forge.Labels(top, labelTitle)
}

// changed reports whether the payload's changes object has the key: what an
// update changed.
func (pl *hookPayload) changed(key string) bool {
	var ch map[string]json.RawMessage
	if len(pl.Changes) == 0 || pl.Changes[0] != '{' || json.Unmarshal(pl.Changes, &ch) != nil {
		return false
	}
	_, ok := ch[key]
	return ok
}

// repository returns the project as a repository (a merge request's source
// project), or the zero value for nil.
func (pr *project) repository() event.Repository {
	if pr == nil {
		return event.Repository{}
	}
	r := event.Repository{
		FullName:      cmp.Or(pr.PathWithNamespace, urlPath(pr.WebURL)),
		URL:           pr.WebURL,
		CloneURL:      cmp.Or(pr.GitHTTPURL, pr.HTTPURL),
		DefaultBranch: pr.DefaultBranch,
	}
	r.Owner, r.Name = splitPath(r.FullName)
	return r
}

// noteAction maps a note's object_attributes.action: older GitLab sends
// none for a new note, "create" and "update" in newer releases.
func noteAction(action string) string {
	switch action {
	case "", "create":
		return "created"
	case "update":
		return "edited"
	}
	return verb(action)
}

// urlPath returns the path of a project URL without its leading slash
// ("group/project" of "https://host/group/project"), or "".
func urlPath(u string) string {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		return ""
	}
	_, path, ok := strings.Cut(rest, "/")
	if !ok {
		return ""
	}
	return strings.TrimSuffix(strings.TrimSuffix(path, "/"), ".git")
}

type refChange struct {
	Before string `json:"before"`
	After  string `json:"after"`
	Ref    string `json:"ref"`
}

// decode reads a JSON object into pl. A value of an unexpected type is
// skipped (jsonx goes on past it, as encoding/json does, without an error),
// so that a payload GitLab changes in some field still maps; only a body
// that is not a JSON object is an error.
func decode(payload []byte, pl *hookPayload) error {
	b := bytes.TrimLeft(payload, " \t\r\n")
	if len(b) == 0 || b[0] != '{' {
		return errors.New("not a JSON object")
	}
	return jsonx.Unmarshal(payload, pl)
}

// repository maps the project the event belongs to. full_name is the
// project's path with namespace ("group/subgroup/project"); owner and name
// are its namespace path and last segment, so that owner/name is full_name.
func (pl *hookPayload) repository() event.Repository {
	var r event.Repository
	switch {
	case pl.Project != nil:
		pr := pl.Project
		r = event.Repository{
			FullName:      pr.PathWithNamespace,
			URL:           pr.WebURL,
			CloneURL:      cmp.Or(pr.GitHTTPURL, pr.HTTPURL),
			DefaultBranch: pr.DefaultBranch,
		}
		if r.FullName == "" {
			r.FullName = cmp.Or(urlPath(pr.WebURL), pl.projectPath())
		}
		r.Owner, r.Name = splitPath(r.FullName)
		if r.Name == "" {
			r.Owner, r.Name = pr.Namespace, pr.Name
		}
	case pl.Repository != nil:
		// A job hook without project, or GitLab before 8.5: the path is
		// the homepage's, or the job's project_name.
		r = event.Repository{Name: pl.Repository.Name, URL: pl.Repository.Homepage, CloneURL: pl.Repository.GitHTTPURL}
		if full := cmp.Or(urlPath(pl.Repository.Homepage), pl.projectPath()); full != "" {
			r.FullName = full
			r.Owner, r.Name = splitPath(full)
		}
	default:
		r.FullName = cmp.Or(pl.PathWithNamespace, pl.ProjectPathWithNamespace)
		r.Owner, r.Name = splitPath(r.FullName)
	}
	return r
}

// projectPath returns a job's project_name when it is a path
// ("group/project"), not a display name ("Group / Project").
func (pl *hookPayload) projectPath() string {
	if strings.Contains(pl.ProjectName, "/") && !strings.Contains(pl.ProjectName, " ") {
		return pl.ProjectName
	}
	return ""
}

// refChanges returns a repository_update's changes, or nil when changes is
// not a list of ref changes.
func (pl *hookPayload) refChanges() []refChange {
	var ch []refChange
	if err := json.Unmarshal(pl.Changes, &ch); err != nil {
		return nil
	}
	return ch
}

func (u *user) person() event.Person {
	if u == nil {
		return event.Person{}
	}
	return event.Person{Login: u.Username, Name: u.Name, Email: email(u.Email)}
}

func (mr *mergeRequest) pullRequest() event.PullRequest {
	pr := event.PullRequest{
		Number:           mr.IID,
		Title:            mr.Title,
		State:            mr.State,
		SourceBranch:     mr.SourceBranch,
		TargetBranch:     mr.TargetBranch,
		URL:              mr.URL,
		Merged:           mr.State == "merged",
		Draft:            mr.Draft || mr.WorkInProgress,
		SourceRepository: mr.Source.repository(),
		Labels:           forge.Labels(mr.Labels, labelTitle),
	}
	if mr.LastCommit != nil {
		pr.HeadSHA = mr.LastCommit.ID
	}
	return pr
}

func commits(in []commit) []event.Commit {
	if len(in) == 0 {
		return nil
	}
	out := make([]event.Commit, len(in))
	for i, c := range in {
		out[i] = event.Commit{
			ID:        c.ID,
			Message:   c.Message,
			URL:       c.URL,
			Author:    event.Person{Name: c.Author.Name, Email: email(c.Author.Email)},
			Timestamp: c.Timestamp,
		}
	}
	return out
}

// mergeRequestAction maps object_attributes.action of a merge request hook.
// An update with oldrev brought new commits ("updated"); one without changed
// the title, description, labels or the like ("edited"). A reopened merge
// request is "opened", as a reopened pull request is on other forges.
func mergeRequestAction(action, oldrev string) string {
	switch action {
	case "open", "reopen":
		return "opened"
	case "update":
		if oldrev != "" {
			return "updated"
		}
		return "edited"
	}
	return verb(action)
}

// setRef sets f.Ref and, for branch and tag refs, f.Branch or f.Tag.
func setRef(f *event.Fields, ref string) {
	f.Ref = ref
	if b, ok := strings.CutPrefix(ref, "refs/heads/"); ok {
		f.Branch = b
	} else if t, ok := strings.CutPrefix(ref, "refs/tags/"); ok {
		f.Tag = t
	}
}

// qualifyRef turns the short ref of pipeline and job hooks ("main", with a
// tag flag) into a full one; a ref that is already full is kept.
func qualifyRef(ref string, tag bool) string {
	switch {
	case ref == "" || strings.HasPrefix(ref, "refs/"):
		return ref
	case tag:
		return "refs/tags/" + ref
	}
	return "refs/heads/" + ref
}

// splitPath splits "group/sub/project" into "group/sub" and "project".
func splitPath(full string) (owner, name string) {
	i := strings.LastIndexByte(full, '/')
	if i < 0 {
		return "", full
	}
	return full[:i], full[i+1:]
}

func email(s string) string {
	if s == redactedEmail {
		return ""
	}
	return s
}

func rawString(raw json.RawMessage) (string, bool) {
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

func rawTrue(raw json.RawMessage) bool { return string(raw) == "true" }
