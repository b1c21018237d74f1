package azuredevops

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"strings"

	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
)

// kindOf maps an Azure DevOps eventType to its canonical kind (forges.md
// section 15), before the payload is looked at: git.push is refined to tag
// by its ref.
func kindOf(ev string) event.Kind {
	switch {
	case ev == "git.push":
		return event.KindPush
	case strings.HasPrefix(ev, "git.pullrequest."):
		return event.KindPullRequest
	case ev == "ms.vss-code.git-pullrequest-comment-event", ev == "workitem.commented":
		return event.KindComment
	case strings.HasPrefix(ev, "workitem."):
		return event.KindIssue
	case ev == "ms.vss-release.release-created-event", ev == "ms.vss-release.release-abandoned-event":
		return event.KindRelease
	case ev == "build.complete", strings.HasPrefix(ev, "ms.vss-pipelines."), strings.HasPrefix(ev, "ms.vss-pipelinechecks-events."),
		strings.HasPrefix(ev, "ms.vss-release.deployment-"):
		return event.KindPipeline
	}
	return event.KindOther
}

// actions holds the action of the events whose name says it all.
var actions = map[string]string{
	"git.pullrequest.created":                            "opened",
	"workitem.created":                                   "created",
	"workitem.updated":                                   "updated",
	"workitem.deleted":                                   "deleted",
	"workitem.restored":                                  "restored",
	"workitem.commented":                                 "created",
	"build.complete":                                     "completed",
	"ms.vss-release.release-created-event":               "created",
	"ms.vss-release.release-abandoned-event":             "abandoned",
	"ms.vss-release.deployment-started-event":            "started",
	"ms.vss-release.deployment-completed-event":          "completed",
	"ms.vss-release.deployment-approval-pending-event":   "approval_pending",
	"ms.vss-release.deployment-approval-completed-event": "approval_completed",
	"ms.vss-pipelinechecks-events.approval-pending":      "approval_pending",
	"ms.vss-pipelinechecks-events.approval-completed":    "approval_completed",
	"git.repo.created":                                   "created",
	"git.repo.deleted":                                   "deleted",
	"git.repo.forked":                                    "forked",
	"git.repo.renamed":                                   "renamed",
	"git.repo.statuschanged":                             "status_changed",
	"tfvc.checkin":                                       "created",
}

// Normalize maps an Azure DevOps payload to the canonical fields. m.Event is
// the eventType; when it is empty the payload's own eventType is used.
// Normalize keeps no reference to payload.
//
// Events map to kinds as in forges.md section 15 (payloads at
// https://learn.microsoft.com/azure/devops/service-hooks/events):
//
//   - git.push: kind push, or tag for a refs/tags/ ref, from the first of
//     resource.refUpdates (a push of several refs is one event); before and
//     after are its oldObjectId and newObjectId, deleted when newObjectId is
//     all zeros; action "created" or "deleted" for a ref that appears or
//     goes away, else ""; the commits with commitId, comment, url, author
//     and author.date; the actor is pushedBy.
//   - git.pullrequest.created ("opened"), .updated and .merged: kind
//     pull_request. An update is "merged" when the status is completed,
//     "closed" when abandoned, "opened" when the message says the pull
//     request was reactivated, "updated" when it says the source branch
//     was updated or when the subscription sends no message, else
//     "edited" (votes, reviewers, title). git.pullrequest.merged is the
//     merge attempt, which Azure DevOps also makes for active pull
//     requests and sends beside the completion's update: its action is
//     "merge_" and the mergeStatus ("merge_succeeded", "merge_conflicts"),
//     so that a completion is "merged" once. The pull request carries
//     lastMergeSourceCommit and lastMergeTargetCommit as head and base
//     shas, createdBy as author, isDraft, labels and the fork it comes from
//     (forkSource, else the repository). Branches are the ref names without
//     refs/heads/; the URL is _links.web.href, else built from the
//     repository's web URL; merged is a completed status; the actor is
//     closedBy, else createdBy.
//   - ms.vss-code.git-pullrequest-comment-event: kind comment with the pull
//     request (resource.pullRequest) and the comment; action "deleted" when
//     the comment isDeleted, "edited" when its content was updated after it
//     was published, else "created" (never read from the message's text);
//     the actor is the comment's author.
//   - workitem.created, .updated, .deleted, .restored: kind issue with that
//     action, with the work item as the issue (System.Title, System.State,
//     System.CreatedBy, System.Tags as labels); workitem.commented: kind
//     comment, action "created", with the work item and System.History as
//     the comment's text (no id). The actor
//     is revisedBy, else System.ChangedBy; repository.owner is the team
//     project (a work item belongs to a project, not a repository).
//   - build.complete ("completed", forgeaction the build status),
//     ms.vss-pipelines.* (the run, stage or job state, forgeaction its
//     result), ms.vss-pipelinechecks-events.approval-* and
//     ms.vss-release.deployment-*: kind pipeline. A build carries its
//     definition, id, result (else status), sourceBranch and sourceVersion
//     (XAML builds: sourceGetVersion), also as the event's ref and after; a
//     pipelines run its pipeline, run id, result or state and, when sent,
//     run.resources.repositories.self; a deployment its environment.
//   - ms.vss-release.release-created-event and -abandoned-event: kind
//     release, action "created" or "abandoned", with the release's name
//     (classic releases have no tag).
//   - tfvc.checkin: kind other with the changeset as the one commit: TFVC
//     has no refs and no branches, so a check-in cannot be a push (forges.md
//     lists it as one; a ref-less push would match no branch filter).
//   - git.repo.*: kind other, action created, deleted, forked, renamed or
//     status_changed. Any other event: kind other, never an error.
//
// Actions are lower_snake. The repository's full_name is the project and
// the repository name ("Fabrikam-Fiber-Git/Fabrikam-Fiber-Git"), owner the
// project, url the web URL (remoteUrl without credentials when webUrl is
// absent), clone_url remoteUrl. The error, which wraps [forge.ErrBadPayload],
// is for a payload that is not a JSON object; a member of an unexpected
// type is ignored.
func (p *Provider) Normalize(m forge.Meta, payload []byte) (event.Fields, error) {
	var b body
	if err := forge.DecodeObject(payload, &b); err != nil {
		return event.Fields{}, fmt.Errorf("azure-devops: %q payload: %w: %v", m.Event, forge.ErrBadPayload, err)
	}
	ev := m.Event
	if ev == "" {
		ev = b.EventType
	}
	r := &b.Resource
	f := event.Fields{
		Kind:   kindOf(ev),
		Action: actions[ev],
		Forge:  Name,
	}
	var text string
	if b.Message != nil {
		text = b.Message.Text
	}
	switch {
	case ev == "git.push":
		normalizePush(&f, r)
	case strings.HasPrefix(ev, "git.pullrequest."):
		f.Repository = r.Repository.fields()
		f.PullRequest = r.pullRequestResource.fields(&r.Repository)
		f.Actor = r.CreatedBy.person()
		if !r.ClosedBy.empty() {
			f.Actor = r.ClosedBy.person()
		}
		f.Action = pullRequestAction(ev, r.Status, r.MergeStatus, text, b.Message != nil)
		if ev == "git.pullrequest.created" || ev == "git.pullrequest.updated" {
			f.After = f.PullRequest.HeadSHA
		}
	case ev == "ms.vss-code.git-pullrequest-comment-event":
		var c prComment
		_ = forge.DecodeObject(r.Comment, &c)
		pr := r.PullRequest
		if pr == nil {
			pr = &pullRequestResource{}
		}
		f.Repository = pr.Repository.fields()
		f.PullRequest = pr.fields(&pr.Repository)
		f.Actor = c.Author.person()
		f.Action = c.action()
		f.Comment = event.Comment{ID: forge.ID(c.ID), Body: forge.CommentBody(c.Content), URL: c.Links.Self.Href,
			On: event.CommentOnPullRequest, Number: f.PullRequest.Number}
		if c.Links.Self.Href == "" {
			f.Comment.URL = f.PullRequest.URL
		}
	case strings.HasPrefix(ev, "workitem."):
		fields := r.Fields
		if ev == "workitem.updated" && r.Revision != nil {
			fields = r.Revision.Fields
		}
		f.Repository.Owner = stringField(fields["System.TeamProject"])
		f.Actor = r.RevisedBy.person()
		if r.RevisedBy.empty() {
			f.Actor = identityField(fields["System.ChangedBy"])
		}
		f.Issue = r.workItem(ev, fields)
		if ev == "workitem.commented" {
			f.Comment = event.Comment{Body: forge.CommentBody(stringField(fields["System.History"])), URL: f.Issue.URL,
				On: event.CommentOnIssue, Number: f.Issue.Number}
		}
	case ev == "build.complete":
		f.ForgeAction = r.Status
		f.Pipeline = r.build()
		setRef(&f, f.Pipeline)
		f.Actor = r.RequestedFor.person()
		for _, rq := range r.Requests {
			if f.Actor == (event.Person{}) {
				f.Actor = rq.RequestedFor.person()
			}
		}
		if f.Actor == (event.Person{}) {
			f.Actor = r.LastChangedBy.person()
		}
	case strings.HasPrefix(ev, "ms.vss-pipelines."):
		st := r.Run
		switch ev {
		case "ms.vss-pipelines.stage-state-changed-event":
			st = r.Stage
		case "ms.vss-pipelines.job-state-changed-event":
			st = r.Job
		}
		f.Action = forge.LowerSnake(st.State)
		f.ForgeAction = st.Result
		f.Pipeline = r.pipelineRun(ev, &st)
		setRef(&f, f.Pipeline)
	case strings.HasPrefix(ev, "ms.vss-pipelinechecks-events."):
		f.ForgeAction = r.Approval.Status
	case strings.HasPrefix(ev, "ms.vss-release."):
		f.Repository.Owner = r.Project.Name
		switch {
		case strings.HasPrefix(ev, "ms.vss-release.deployment-approval-"):
			f.ForgeAction = r.Approval.Status
			f.Actor = r.Approval.ApprovedBy.person()
		case strings.HasPrefix(ev, "ms.vss-release.deployment-"):
			f.ForgeAction = r.Environment.Status
			f.Pipeline = event.Pipeline{Name: r.Environment.Name, ID: forge.ID(r.Environment.ID),
				Status: forge.PipelineStatus(r.Environment.Status), URL: r.Environment.Release.Links.Web.Href}
		default:
			f.ForgeAction = r.Release.Status
			f.Release = event.Release{Name: r.Release.Name, URL: r.Release.Links.Web.Href}
			f.Actor = r.Release.CreatedBy.person()
			if ev == "ms.vss-release.release-abandoned-event" && !r.Release.ModifiedBy.empty() {
				f.Actor = r.Release.ModifiedBy.person()
			}
		}
	case ev == "tfvc.checkin":
		var comment string
		_ = json.Unmarshal(r.Comment, &comment)
		f.Actor = r.CheckedInBy.person()
		if r.ChangesetID != 0 {
			f.Commits = []event.Commit{{
				ID:        strconv.FormatInt(r.ChangesetID, 10),
				Message:   comment,
				URL:       r.URL,
				Author:    r.Author.person(),
				Timestamp: r.CreatedDate,
			}}
		}
	case strings.HasPrefix(ev, "git.repo."):
		f.Repository = r.Repository.fields()
	}
	return f, nil
}

// setRef sets the event's ref, branch, tag and after from its pipeline.
func setRef(f *event.Fields, p event.Pipeline) {
	f.Ref, f.Branch, f.Tag, f.After = p.Ref, p.Branch, p.Tag, p.SHA
}

// build returns the pipeline of a build.complete: sourceBranch and
// sourceVersion, or, in XAML builds, sourceGetVersion
// ("LG:refs/heads/main:<sha>"); the status is the result, or the status of
// older payloads ("succeeded").
func (r *resource) build() event.Pipeline {
	p := event.Pipeline{Name: r.Definition.Name, ID: forge.ID(r.ID), SHA: r.SourceVersion, URL: r.Links.Web.Href}
	p.Status = forge.PipelineStatus(r.Result)
	if p.Status == "" {
		p.Status = forge.PipelineStatus(r.Status)
	}
	ref := r.SourceBranch
	if v, ok := strings.CutPrefix(r.SourceGetVersion, "LG:"); ok && ref == "" {
		if i := strings.LastIndexByte(v, ':'); i > 0 {
			ref, p.SHA = v[:i], v[i+1:]
		}
	}
	forge.PipelineRef(&p, ref, false)
	return p
}

// pipelineRun returns the pipeline of an ms.vss-pipelines.* event: the
// run's pipeline name and id, or the stage's or job's name and the run's
// id; the status is the result once there is one, else the state. The ref
// and commit are the run's self repository's when sent
// (run.resources.repositories.self).
func (r *resource) pipelineRun(ev string, st *runState) event.Pipeline {
	p := event.Pipeline{Name: r.Pipeline.Name, ID: rawID(r.Run.ID), URL: st.Links.Web.Href}
	if p.Name == "" {
		p.Name = r.Run.Pipeline.Name
	}
	if ev != "ms.vss-pipelines.run-state-changed-event" && st.Name != "" && st.Name != "__default" {
		p.Name += "/" + st.Name
	}
	if p.URL == "" {
		p.URL = r.Run.Links.Web.Href
	}
	p.Status = forge.PipelineStatus(st.Result)
	if p.Status == "" {
		p.Status = forge.PipelineStatus(st.State)
	}
	if self := r.Run.Resources.Repositories.Self; self != nil {
		p.SHA = self.Version
		forge.PipelineRef(&p, self.RefName, false)
	}
	return p
}

// workItem returns the issue of a work item event; fields are the work
// item's (the revision's for workitem.updated).
func (r *resource) workItem(ev string, fields map[string]json.RawMessage) event.Issue {
	is := event.Issue{
		Number: r.ID,
		Title:  stringField(fields["System.Title"]),
		State:  stringField(fields["System.State"]),
		URL:    r.Links.HTML.Href,
		Author: identityField(fields["System.CreatedBy"]),
	}
	if ev == "workitem.updated" {
		// The resource is the update; the work item is its revision.
		is.Number = r.WorkItemID
		if is.Number == 0 && r.Revision != nil {
			is.Number = r.Revision.ID
		}
		if r.Revision != nil && r.Revision.Links.HTML.Href != "" {
			is.URL = r.Revision.Links.HTML.Href
		}
	}
	// System.Tags is "tag1; tag2".
	for t := range strings.SplitSeq(stringField(fields["System.Tags"]), ";") {
		if t = strings.TrimSpace(t); t != "" {
			is.Labels = append(is.Labels, t)
		}
	}
	return is
}

// rawID returns a JSON number or string id as a string ("" otherwise).
func rawID(raw json.RawMessage) string {
	if s := stringField(raw); s != "" {
		return s
	}
	var n int64
	if json.Unmarshal(raw, &n) == nil {
		return forge.ID(n)
	}
	return ""
}

// prComment is the comment of a pull request comment event.
type prComment struct {
	ID                     int64    `json:"id"`
	Content                string   `json:"content"`
	Author                 identity `json:"author"`
	IsDeleted              bool     `json:"isDeleted"`
	PublishedDate          string   `json:"publishedDate"`
	LastContentUpdatedDate string   `json:"lastContentUpdatedDate"`
	Links                  struct {
		Self struct {
			Href string `json:"href"`
		} `json:"self"`
	} `json:"_links"`
}

// action returns the comment's action from its state, not from the
// message's English text: "deleted" when isDeleted, "edited" when its
// content changed after it was published, else "created".
func (c *prComment) action() string {
	switch {
	case c.IsDeleted:
		return "deleted"
	case c.LastContentUpdatedDate != "" && c.PublishedDate != "" && c.LastContentUpdatedDate > c.PublishedDate:
		// ISO 8601 UTC times of one format compare as strings.
		return "edited"
	}
	return "created"
}

// normalizePush fills a git.push event from its first ref update.
func normalizePush(f *event.Fields, r *resource) {
	f.Repository = r.Repository.fields()
	f.Actor = r.PushedBy.person()
	if len(r.RefUpdates) == 0 {
		// Without a ref update (resourceDetailsToSend: none) the push
		// names no ref: it cannot be told from a tag.
		f.Kind = event.KindOther
		return
	}
	u := r.RefUpdates[0]
	f.Ref = u.Name
	switch {
	case strings.HasPrefix(u.Name, "refs/tags/"):
		f.Kind, f.Tag = event.KindTag, strings.TrimPrefix(u.Name, "refs/tags/")
	case strings.HasPrefix(u.Name, "refs/heads/"):
		f.Branch = strings.TrimPrefix(u.Name, "refs/heads/")
	}
	if f.Ref == "" {
		f.Kind = event.KindOther
		return
	}
	f.Before, f.After = u.OldObjectID, u.NewObjectID
	f.Deleted = isZero(u.NewObjectID)
	switch {
	case f.Deleted:
		f.Action = "deleted"
	case isZero(u.OldObjectID):
		f.Action = "created"
	}
	f.Commits = make([]event.Commit, 0, len(r.Commits))
	for _, c := range r.Commits {
		f.Commits = append(f.Commits, event.Commit{
			ID:        c.CommitID,
			Message:   c.Comment,
			URL:       c.URL,
			Author:    event.Person{Name: c.Author.Name, Email: c.Author.Email},
			Timestamp: c.Author.Date,
		})
	}
}

// pullRequestAction returns the canonical action of a git.pullrequest.*
// event (forges.md section 15, action table). text is message.text;
// hasMessage reports whether the subscription sends messages at all.
func pullRequestAction(ev, status, mergeStatus, text string, hasMessage bool) string {
	switch ev {
	case "git.pullrequest.created":
		return "opened"
	case "git.pullrequest.merged":
		// "Merge attempted": Azure DevOps computes the merge commit of an
		// active pull request too, and a completion sends it beside
		// git.pullrequest.updated with status completed, which is the
		// "merged" event; this one is the attempt and its outcome.
		if mergeStatus == "" {
			return "merge_attempted"
		}
		return "merge_" + forge.LowerSnake(mergeStatus)
	case "git.pullrequest.updated":
		switch {
		case status == "completed":
			return "merged"
		case status == "abandoned":
			return "closed"
		case strings.Contains(text, "reactivated"):
			return "opened"
		case strings.Contains(text, "updated the source branch"), !hasMessage:
			return "updated"
		}
		return "edited"
	}
	return ""
}

// isZero reports whether s is an all-zero object id.
func isZero(s string) bool {
	return s != "" && strings.Trim(s, "0") == ""
}

// body holds the parts of an Azure DevOps payload that Normalize reads.
type body struct {
	EventType string `json:"eventType"`
	Message   *struct {
		Text string `json:"text"`
	} `json:"message"`
	Resource resource `json:"resource"`
}

// resource holds the members Normalize reads of every event's resource, at
// once; a member absent from an event stays zero. A pull request event's
// resource is the pull request itself.
type resource struct {
	pullRequestResource

	// git.push
	Commits    []commit    `json:"commits"`
	RefUpdates []refUpdate `json:"refUpdates"`
	PushedBy   identity    `json:"pushedBy"`

	// ms.vss-code.git-pullrequest-comment-event: the comment (an object)
	// and the pull request. tfvc.checkin: the comment is a string.
	Comment     json.RawMessage      `json:"comment"`
	PullRequest *pullRequestResource `json:"pullRequest"`

	// workitem.*
	Fields    map[string]json.RawMessage `json:"fields"`
	RevisedBy identity                   `json:"revisedBy"`
	Revision  *struct {
		ID     int64                      `json:"id"`
		Fields map[string]json.RawMessage `json:"fields"`
		Links  links                      `json:"_links"`
	} `json:"revision"`

	// build.complete
	ID               int64  `json:"id"`
	WorkItemID       int64  `json:"workItemId"`
	Result           string `json:"result"`
	SourceBranch     string `json:"sourceBranch"`
	SourceVersion    string `json:"sourceVersion"`
	SourceGetVersion string `json:"sourceGetVersion"`
	Definition       struct {
		Name string `json:"name"`
	} `json:"definition"`
	Pipeline struct {
		Name string `json:"name"`
	} `json:"pipeline"`
	RequestedFor  identity `json:"requestedFor"`
	LastChangedBy identity `json:"lastChangedBy"`
	Requests      []struct {
		RequestedFor identity `json:"requestedFor"`
	} `json:"requests"`

	// ms.vss-pipelines.*
	Run   runState `json:"run"`
	Stage runState `json:"stage"`
	Job   runState `json:"job"`

	// ms.vss-release.*, ms.vss-pipelinechecks-events.*
	Release struct {
		Name       string   `json:"name"`
		Status     string   `json:"status"`
		CreatedBy  identity `json:"createdBy"`
		ModifiedBy identity `json:"modifiedBy"`
		Links      links    `json:"_links"`
	} `json:"release"`
	Environment struct {
		ID      int64  `json:"id"`
		Name    string `json:"name"`
		Status  string `json:"status"`
		Release struct {
			Links links `json:"_links"`
		} `json:"release"`
	} `json:"environment"`
	Approval struct {
		Status     string   `json:"status"`
		ApprovedBy identity `json:"approvedBy"`
	} `json:"approval"`
	Project struct {
		Name string `json:"name"`
	} `json:"project"`

	// tfvc.checkin
	ChangesetID int64    `json:"changesetId"`
	URL         string   `json:"url"`
	Author      identity `json:"author"`
	CheckedInBy identity `json:"checkedInBy"`
	CreatedDate string   `json:"createdDate"`
}

// pullRequestResource is a git pull request as the events carry it.
type pullRequestResource struct {
	Repository    repository `json:"repository"`
	PullRequestID int64      `json:"pullRequestId"`
	Status        string     `json:"status"`
	MergeStatus   string     `json:"mergeStatus"`
	Title         string     `json:"title"`
	SourceRefName string     `json:"sourceRefName"`
	TargetRefName string     `json:"targetRefName"`
	CreatedBy     identity   `json:"createdBy"`
	ClosedBy      identity   `json:"closedBy"`
	Links         links      `json:"_links"`
	IsDraft       bool       `json:"isDraft"`
	Labels        []struct {
		Name string `json:"name"`
	} `json:"labels"`
	LastMergeSourceCommit struct {
		CommitID string `json:"commitId"`
	} `json:"lastMergeSourceCommit"`
	LastMergeTargetCommit struct {
		CommitID string `json:"commitId"`
	} `json:"lastMergeTargetCommit"`
	// ForkSource is the fork a pull request comes from.
	ForkSource *struct {
		Repository repository `json:"repository"`
	} `json:"forkSource"`
}

// links are the _links of a resource.
type links struct {
	Web struct {
		Href string `json:"href"`
	} `json:"web"`
	HTML struct {
		Href string `json:"href"`
	} `json:"html"`
}

// fields returns the normalized pull request; repo is the repository whose
// web URL makes the pull request's when _links.web is absent.
func (pr *pullRequestResource) fields(repo *repository) event.PullRequest {
	u := pr.Links.Web.Href
	if u == "" && pr.PullRequestID != 0 {
		if web := repo.webURL(); web != "" {
			u = strings.TrimSuffix(web, "/") + "/pullrequest/" + strconv.FormatInt(pr.PullRequestID, 10)
		}
	}
	out := event.PullRequest{
		Number:       pr.PullRequestID,
		Title:        pr.Title,
		State:        pr.Status,
		SourceBranch: strings.TrimPrefix(pr.SourceRefName, "refs/heads/"),
		TargetBranch: strings.TrimPrefix(pr.TargetRefName, "refs/heads/"),
		URL:          u,
		Merged:       pr.Status == "completed",
		Draft:        pr.IsDraft,
		HeadSHA:      pr.LastMergeSourceCommit.CommitID,
		BaseSHA:      pr.LastMergeTargetCommit.CommitID,
		Author:       pr.CreatedBy.person(),
	}
	for _, l := range pr.Labels {
		if l.Name != "" {
			out.Labels = append(out.Labels, l.Name)
		}
	}
	switch {
	case pr.ForkSource != nil:
		out.SourceRepository = pr.ForkSource.Repository.fields()
	case pr.Repository.Name != "":
		out.SourceRepository = pr.Repository.fields()
	}
	return out
}

type repository struct {
	Name    string `json:"name"`
	Project struct {
		Name string `json:"name"`
	} `json:"project"`
	DefaultBranch string `json:"defaultBranch"`
	RemoteURL     string `json:"remoteUrl"`
	WebURL        string `json:"webUrl"`
}

func (r *repository) fields() event.Repository {
	full := r.Name
	if r.Project.Name != "" && r.Name != "" {
		full = r.Project.Name + "/" + r.Name
	}
	return event.Repository{
		FullName:      full,
		Name:          r.Name,
		Owner:         r.Project.Name,
		URL:           r.webURL(),
		CloneURL:      r.RemoteURL,
		DefaultBranch: strings.TrimPrefix(r.DefaultBranch, "refs/heads/"),
	}
}

// webURL returns the repository's web URL: webUrl, else remoteUrl (which
// Azure DevOps also serves as a web page) without credentials.
func (r *repository) webURL() string {
	if r.WebURL != "" {
		return r.WebURL
	}
	if u, err := url.Parse(r.RemoteURL); err == nil && u.User != nil {
		u.User = nil
		return u.String()
	}
	return r.RemoteURL
}

type commit struct {
	CommitID string `json:"commitId"`
	Comment  string `json:"comment"`
	URL      string `json:"url"`
	Author   struct {
		Name  string `json:"name"`
		Email string `json:"email"`
		Date  string `json:"date"`
	} `json:"author"`
}

type refUpdate struct {
	Name        string `json:"name"`
	OldObjectID string `json:"oldObjectId"`
	NewObjectID string `json:"newObjectId"`
}

type runState struct {
	ID       json.RawMessage `json:"id"`
	Name     string          `json:"name"`
	State    string          `json:"state"`
	Result   string          `json:"result"`
	Links    links           `json:"_links"`
	Pipeline struct {
		Name string `json:"name"`
	} `json:"pipeline"`
	Resources struct {
		Repositories struct {
			Self *struct {
				RefName string `json:"refName"`
				Version string `json:"version"`
			} `json:"self"`
		} `json:"repositories"`
	} `json:"resources"`
}

// identity is an Azure DevOps identity reference.
type identity struct {
	DisplayName string `json:"displayName"`
	UniqueName  string `json:"uniqueName"`
}

func (id *identity) empty() bool { return id.DisplayName == "" && id.UniqueName == "" }

// person returns the actor of an identity: login is uniqueName (an email
// address, a DOMAIN\user or a build service name), name displayName, and
// email uniqueName when it is an email address.
func (id *identity) person() event.Person {
	p := event.Person{Login: id.UniqueName, Name: id.DisplayName}
	if strings.Contains(id.UniqueName, "@") && !strings.ContainsAny(id.UniqueName, `\ `) {
		p.Email = id.UniqueName
	}
	return p
}

// stringField returns a work item field that is a string, else "".
func stringField(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// identityField returns the person of a work item identity field, which
// Azure DevOps sends as a display name ("Jamal Hartnett"), a name and
// address ("Jamal Hartnett <fabrikamfiber4@hotmail.com>") or an identity
// object.
func identityField(raw json.RawMessage) event.Person {
	if s := stringField(raw); s != "" {
		if a, err := mail.ParseAddress(s); err == nil && a.Name != "" {
			return event.Person{Name: a.Name, Email: a.Address}
		}
		return event.Person{Name: s}
	}
	var id identity
	if json.Unmarshal(raw, &id) == nil {
		return id.person()
	}
	return event.Person{}
}
