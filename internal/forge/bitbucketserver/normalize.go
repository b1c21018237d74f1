package bitbucketserver

import (
	"fmt"
	"strings"

	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/bitbucket"
)

// Normalize maps a Bitbucket Data Center payload to the canonical fields.
// m.Event is the X-Event-Key; payload is the JSON body. Normalize keeps no
// reference to payload.
//
// The payloads are described at
// https://confluence.atlassian.com/bitbucketserver/event-payload-938025882.html;
// the event key's verb is the action and is kept as ForgeAction
// ("reviewer:approved" for "pr:reviewer:approved", see [bitbucket.KeyAction]).
// Events map to kinds as in forges.md section 15:
//
//   - diagnostics:ping: kind ping. Its body is not documented (a tiny
//     object, perhaps none at all), so a ping never fails to normalize:
//     whatever the payload, Normalize returns kind ping, with the actor and
//     repository if the payload happens to carry them.
//   - repo:refs_changed: kind push, or tag for a change whose ref.type is
//     "TAG" (or whose ref is under refs/tags/). A push can change several
//     refs at once; the event describes the FIRST change of "changes": its
//     ref (ref.id, already full), fromHash and toHash as before and after,
//     deleted (type "DELETE" or an all-zero toHash) and the kind. Actions:
//     "created" for type "ADD" (or an all-zero fromHash), "deleted", else
//     "". Data Center sends no commits: commits is empty. A push without a
//     usable first change is kind other.
//   - pr:*: kind pull_request, with the pull request's id, title, state (in
//     lower case: "open", "merged", "declined"), source and target branches
//     (fromRef and toRef displayId), web URL (links.self), head and base
//     commits (fromRef and toRef latestCommit), source repository, author
//     and draft flag (8.18 and later); Data Center has no pull request
//     labels. Actions:
//     opened → "opened", from_ref_updated → "updated" (with before and after
//     from previousFromHash and fromRef.latestCommit), modified and
//     reviewer:updated → "edited", reviewer:approved → "approved",
//     reviewer:unapproved → "unapproved", reviewer:needs_work (7.x and
//     earlier) and reviewer:changes_requested (8.x) → "changes_requested",
//     merged → "merged" (merged set), declined and deleted → "closed"; any
//     other pr: key (to_ref_updated) gives its verb in lower_snake case.
//   - pr:comment:* and repo:comment:*: kind comment (with the pull request
//     for pr:comment:*, the commit in after for repo:comment:*), with the
//     comment's id and text (Data Center sends no comment URL). Actions:
//     added → "created", edited → "edited", deleted → "deleted".
//   - any other key (repo:modified, repo:forked, mirror:repo_synchronized,
//     repo:secret_detected, project:modified, ...): kind other, with the
//     key's verb in lower_snake case as action; never an error.
//
// The repository's full_name is "<project key>/<slug>", its name the slug,
// its owner the project key, its URL the first links.self and its clone URL
// the "http" clone link. Pull request events carry no top-level repository:
// the target repository (toRef.repository) stands in for it, and
// repo:modified's "new" repository for that event. The actor's name (the
// username; its slug when the name is missing) is the login, displayName the
// name and emailAddress the email.
//
// The error, which wraps [forge.ErrBadPayload], is for a payload that is not
// a JSON object, except for a ping; a member of an unexpected type is
// ignored.
func (p *Provider) Normalize(m forge.Meta, payload []byte) (event.Fields, error) {
	var b body
	err := forge.DecodeObject(payload, &b)
	ping := m.Ping || m.Event == EventPing
	if err != nil && !ping {
		return event.Fields{}, fmt.Errorf("bitbucket-server: %q payload: %w: %v", m.Event, forge.ErrBadPayload, err)
	}
	forgeAction, action := bitbucket.KeyAction(m.Event)
	kind, act := classify(m.Event)
	if act != "" {
		action = act
	}
	repo := b.Repository
	if repo.empty() {
		repo = b.PullRequest.ToRef.Repository
	}
	if repo.empty() {
		repo = b.New
	}
	f := event.Fields{
		Kind:        kind,
		Action:      action,
		Forge:       Name,
		Repository:  repo.fields(),
		Actor:       b.Actor.person(),
		ForgeAction: forgeAction,
	}
	switch {
	case ping:
		f.Kind, f.Action = event.KindPing, ""
	case m.Event == "repo:refs_changed":
		normalizePush(&f, b.Changes)
	case strings.HasPrefix(m.Event, "pr:"):
		f.PullRequest = b.PullRequest.fields()
		if m.Event == "pr:merged" {
			f.PullRequest.Merged = true
		}
		if m.Event == "pr:from_ref_updated" {
			f.Before, f.After = b.PreviousFromHash, b.PullRequest.FromRef.LatestCommit
		}
	}
	if f.Kind == event.KindComment {
		c := &b.Comment
		f.Comment = event.Comment{ID: forge.ID(c.ID), Body: forge.CommentBody(c.Text)}
		if strings.HasPrefix(m.Event, "pr:") {
			f.Comment.On, f.Comment.Number = event.CommentOnPullRequest, f.PullRequest.Number
		} else {
			f.Comment.On = event.CommentOnCommit
			f.After = b.Commit
		}
	}
	return f, nil
}

// classify returns the kind of an event key and its canonical action, or ""
// to keep the key's verb in lower_snake case.
func classify(key string) (event.Kind, string) {
	switch key {
	case EventPing:
		return event.KindPing, ""
	case "repo:refs_changed":
		return event.KindPush, ""
	case "pr:opened":
		return event.KindPullRequest, "opened"
	case "pr:from_ref_updated":
		return event.KindPullRequest, "updated"
	case "pr:modified", "pr:reviewer:updated":
		return event.KindPullRequest, "edited"
	case "pr:reviewer:approved":
		return event.KindPullRequest, "approved"
	case "pr:reviewer:unapproved":
		return event.KindPullRequest, "unapproved"
	case "pr:reviewer:needs_work", "pr:reviewer:changes_requested":
		return event.KindPullRequest, "changes_requested"
	case "pr:merged":
		return event.KindPullRequest, "merged"
	case "pr:declined", "pr:deleted":
		return event.KindPullRequest, "closed"
	}
	if verb, ok := strings.CutPrefix(key, "pr:comment:"); ok {
		return event.KindComment, commentAction(verb)
	}
	if verb, ok := strings.CutPrefix(key, "repo:comment:"); ok {
		return event.KindComment, commentAction(verb)
	}
	if strings.HasPrefix(key, "pr:") {
		return event.KindPullRequest, ""
	}
	return event.KindOther, ""
}

// commentAction maps the verb of a comment event to the canonical action.
func commentAction(verb string) string {
	if verb == "added" {
		return "created"
	}
	return forge.LowerSnake(verb)
}

// normalizePush fills a repo:refs_changed event from its first change (see
// Normalize).
func normalizePush(f *event.Fields, changes []change) {
	if len(changes) == 0 {
		f.Kind = event.KindOther
		return
	}
	c := changes[0]
	ref := c.Ref.ID
	if ref == "" {
		ref = c.RefID
	}
	if !strings.HasPrefix(ref, "refs/") {
		switch {
		case c.Ref.DisplayID == "":
			ref = ""
		case c.Ref.Type == "BRANCH":
			ref = "refs/heads/" + c.Ref.DisplayID
		case c.Ref.Type == "TAG":
			ref = "refs/tags/" + c.Ref.DisplayID
		default:
			ref = ""
		}
	}
	if ref == "" {
		f.Kind = event.KindOther
		return
	}
	f.Ref = ref
	switch {
	case strings.HasPrefix(ref, "refs/tags/"):
		f.Kind, f.Tag = event.KindTag, strings.TrimPrefix(ref, "refs/tags/")
	case strings.HasPrefix(ref, "refs/heads/"):
		f.Kind, f.Branch = event.KindPush, strings.TrimPrefix(ref, "refs/heads/")
	case c.Ref.Type == "TAG":
		f.Kind = event.KindTag
	default:
		f.Kind = event.KindPush
	}
	f.Before, f.After = c.FromHash, c.ToHash
	f.Deleted = c.Type == "DELETE" || event.IsZeroSHA(c.ToHash)
	switch {
	case f.Deleted:
		f.Action = "deleted"
	case c.Type == "ADD" || event.IsZeroSHA(c.FromHash):
		f.Action = "created"
	default:
		f.Action = ""
	}
	f.Commits = []event.Commit{}
}

// body holds the parts of a Data Center payload that Normalize reads, for
// every event at once; a member absent from an event stays zero.
type body struct {
	Actor            user        `json:"actor"`
	Repository       repository  `json:"repository"`
	New              repository  `json:"new"`
	Changes          []change    `json:"changes"`
	PullRequest      pullRequest `json:"pullRequest"`
	PreviousFromHash string      `json:"previousFromHash"`
	Comment          struct {
		ID   int64  `json:"id"`
		Text string `json:"text"`
	} `json:"comment"`
	// Commit is the commit of a repo:comment:* event.
	Commit string `json:"commit"`
}

type user struct {
	Name         string `json:"name"`
	Slug         string `json:"slug"`
	DisplayName  string `json:"displayName"`
	EmailAddress string `json:"emailAddress"`
}

func (u *user) person() event.Person {
	login := u.Name
	if login == "" {
		login = u.Slug
	}
	return event.Person{Login: login, Name: u.DisplayName, Email: u.EmailAddress}
}

type link struct {
	Href string `json:"href"`
	Name string `json:"name"`
}

type repository struct {
	Slug    string `json:"slug"`
	Name    string `json:"name"`
	Project struct {
		Key string `json:"key"`
	} `json:"project"`
	Links struct {
		Clone []link `json:"clone"`
		Self  []link `json:"self"`
	} `json:"links"`
}

func (r *repository) empty() bool { return r.Slug == "" && r.Project.Key == "" }

func (r *repository) fields() event.Repository {
	out := event.Repository{Name: r.Slug, Owner: r.Project.Key}
	if out.Name == "" {
		out.Name = r.Name
	}
	if r.Project.Key != "" && r.Slug != "" {
		out.FullName = r.Project.Key + "/" + r.Slug
	}
	if len(r.Links.Self) > 0 {
		out.URL = r.Links.Self[0].Href
	}
	for _, l := range r.Links.Clone {
		if l.Name == "http" || l.Name == "https" {
			out.CloneURL = l.Href
			break
		}
	}
	return out
}

type change struct {
	Ref struct {
		ID        string `json:"id"`
		DisplayID string `json:"displayId"`
		Type      string `json:"type"`
	} `json:"ref"`
	RefID    string `json:"refId"`
	FromHash string `json:"fromHash"`
	ToHash   string `json:"toHash"`
	Type     string `json:"type"`
}

type prRef struct {
	DisplayID    string     `json:"displayId"`
	LatestCommit string     `json:"latestCommit"`
	Repository   repository `json:"repository"`
}

type pullRequest struct {
	ID     int64  `json:"id"`
	Title  string `json:"title"`
	State  string `json:"state"`
	Draft  bool   `json:"draft"`
	Author struct {
		User user `json:"user"`
	} `json:"author"`
	FromRef prRef `json:"fromRef"`
	ToRef   prRef `json:"toRef"`
	Links   struct {
		Self []link `json:"self"`
	} `json:"links"`
}

func (pr *pullRequest) fields() event.PullRequest {
	out := event.PullRequest{
		Number:       pr.ID,
		Title:        pr.Title,
		State:        strings.ToLower(pr.State),
		SourceBranch: pr.FromRef.DisplayID,
		TargetBranch: pr.ToRef.DisplayID,
		Merged:       pr.State == "MERGED",
		Draft:        pr.Draft,
		HeadSHA:      pr.FromRef.LatestCommit,
		BaseSHA:      pr.ToRef.LatestCommit,
		Author:       pr.Author.User.person(),
	}
	if !pr.FromRef.Repository.empty() {
		out.SourceRepository = pr.FromRef.Repository.fields()
	}
	if len(pr.Links.Self) > 0 {
		out.URL = pr.Links.Self[0].Href
	}
	return out
}
