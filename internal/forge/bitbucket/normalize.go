package bitbucket

import (
	"fmt"
	"strings"

	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
)

// Normalize maps a Bitbucket Cloud payload to the canonical fields. m.Event
// is the X-Event-Key; payload is the JSON body. Normalize keeps no
// reference to payload.
//
// The payloads are described at
// https://support.atlassian.com/bitbucket-cloud/docs/event-payloads/; there
// is no "action" member, the event key's verb is the action, and it is kept
// as ForgeAction ("fulfilled" for "pullrequest:fulfilled", see [KeyAction]).
// Events map to kinds as in forges.md section 15:
//
//   - repo:push: kind push, or tag for a change whose "type" is "tag". A push
//     can carry several changes (a "git push --all" or "--tags" updates many
//     refs in one delivery). The event describes the FIRST change of
//     push.changes: its ref (made full: refs/heads/<name> or
//     refs/tags/<name>), before and after, deleted and the kind. Commits
//     holds the commits of ALL changes, in the order sent (change by change,
//     newest first within one; Bitbucket sends at most 5 per change and
//     then sets that change's "truncated"). A created
//     ref has a null "old" and a deleted one a null "new": the missing side
//     is written as 40 zeros ([event.ZeroSHA1]), as the other forges send it,
//     deleted is set when "new" is null, and the action is "created" or
//     "deleted" (else ""). A push whose first change has neither side, or
//     whose type is neither "branch" nor "tag", is kind other.
//   - pullrequest:*: kind pull_request, with the pull request's id, title,
//     state (lower case: "open", "merged", "declined", "superseded"),
//     branches and web URL. Actions: created → "opened", updated →
//     "updated", approved → "approved", unapproved → "unapproved",
//     fulfilled → "merged" (merged set), rejected → "closed",
//     changes_request_created → "changes_requested"; other keys give their
//     verb in lower_snake case ("changes_request_removed").
//   - pullrequest:comment_*, repo:commit_comment_created,
//     issue:comment_created: kind comment (with the pull request for
//     pullrequest:comment_*). Actions: created, updated → "edited", deleted,
//     and the verb of any other ("resolved", "reopened").
//   - issue:created → kind issue, action "opened"; issue:updated → "updated".
//   - repo:commit_status_created, repo:commit_status_updated: kind pipeline,
//     action "created" or "updated".
//   - any other key (repo:fork, repo:updated, repo:transfer, repo:deleted,
//     ...): kind other, with the key's verb as action; never an error.
//
// The actor's nickname (or the username of payloads from before 2019) is
// the login and its display_name the name; Bitbucket Cloud sends no email
// addresses, except in a commit author's "raw" ("Name <email>"). The
// repository's full_name is "<workspace>/<slug>"; name is the slug and owner
// the workspace. Webhook payloads carry no clone link: the clone URL is the
// web URL with ".git" (Bitbucket Cloud's HTTPS clone URL); the default
// branch is the "mainbranch" when sent.
//
// Pull requests carry the head and base commits as Bitbucket abbreviates
// them (12 hex digits), the source repository, the author and the draft
// flag; Bitbucket Cloud has no pull request labels. Issues carry their id,
// title, state, URL and reporter (no labels). Comments carry their id, raw
// text, URL and what they are on. Commit statuses carry the status's name,
// key (as id), state, URL, commit and branch (refname), also set as the
// event's ref, branch and after.
//
// The error, which wraps [forge.ErrBadPayload], is for a payload that is not
// a JSON object; a member of an unexpected type is ignored.
func (p *Provider) Normalize(m forge.Meta, payload []byte) (event.Fields, error) {
	var b body
	if err := forge.DecodeObject(payload, &b); err != nil {
		return event.Fields{}, fmt.Errorf("bitbucket: %q payload: %w: %v", m.Event, forge.ErrBadPayload, err)
	}
	forgeAction, action := KeyAction(m.Event)
	kind, act := classify(m.Event)
	if act != "" {
		action = act
	}
	f := event.Fields{
		Kind:        kind,
		Action:      action,
		Forge:       Name,
		Repository:  b.Repository.fields(),
		Actor:       b.Actor.person(),
		ForgeAction: forgeAction,
	}
	if strings.HasPrefix(m.Event, "pullrequest:") {
		f.PullRequest = b.PullRequest.fields()
		if m.Event == "pullrequest:fulfilled" {
			f.PullRequest.Merged = true
		}
	}
	if m.Event == "repo:push" {
		normalizePush(&f, b.Push.Changes)
	}
	switch {
	case strings.HasPrefix(m.Event, "issue:"):
		f.Issue = b.Issue.fields()
	case strings.HasPrefix(m.Event, "repo:commit_status_"):
		cs := &b.CommitStatus
		f.Pipeline = event.Pipeline{Name: cs.Name, ID: cs.Key, Status: forge.PipelineStatus(cs.State), SHA: cs.Commit.Hash, URL: cs.URL}
		if f.Pipeline.SHA == "" {
			// Older payloads link the commit only: .../commit/<sha>.
			if _, sha, ok := strings.Cut(cs.Links.Commit.Href, "/commit/"); ok && !strings.Contains(sha, "/") {
				f.Pipeline.SHA = sha
			}
		}
		forge.PipelineRef(&f.Pipeline, cs.RefName, false)
		f.Ref, f.Branch, f.After = f.Pipeline.Ref, f.Pipeline.Branch, f.Pipeline.SHA
	}
	if f.Kind == event.KindComment {
		c := &b.Comment
		f.Comment = event.Comment{ID: forge.ID(c.ID), Body: forge.CommentBody(c.Content.Raw), URL: c.Links.HTML.Href}
		switch {
		case strings.HasPrefix(m.Event, "pullrequest:"):
			f.Comment.On, f.Comment.Number = event.CommentOnPullRequest, f.PullRequest.Number
		case strings.HasPrefix(m.Event, "issue:"):
			f.Comment.On, f.Comment.Number = event.CommentOnIssue, f.Issue.Number
		default:
			f.Comment.On = event.CommentOnCommit
			f.After = b.Commit.Hash
		}
	}
	return f, nil
}

// classify returns the kind of an event key and its canonical action, or ""
// to keep the key's verb in lower_snake case.
func classify(key string) (event.Kind, string) {
	switch key {
	case "repo:push":
		return event.KindPush, ""
	case "pullrequest:created":
		return event.KindPullRequest, "opened"
	case "pullrequest:fulfilled":
		return event.KindPullRequest, "merged"
	case "pullrequest:rejected":
		return event.KindPullRequest, "closed"
	case "pullrequest:changes_request_created":
		return event.KindPullRequest, "changes_requested"
	case "issue:created":
		return event.KindIssue, "opened"
	}
	group, verb, _ := strings.Cut(key, ":")
	switch {
	case group == "pullrequest" && strings.HasPrefix(verb, "comment_"),
		group == "issue" && strings.HasPrefix(verb, "comment_"):
		return event.KindComment, commentAction(strings.TrimPrefix(verb, "comment_"))
	case group == "repo" && strings.HasPrefix(verb, "commit_comment_"):
		return event.KindComment, commentAction(strings.TrimPrefix(verb, "commit_comment_"))
	case group == "repo" && strings.HasPrefix(verb, "commit_status_"):
		return event.KindPipeline, forge.LowerSnake(strings.TrimPrefix(verb, "commit_status_"))
	case group == "pullrequest":
		return event.KindPullRequest, ""
	case group == "issue":
		return event.KindIssue, ""
	}
	return event.KindOther, ""
}

// commentAction maps the verb of a comment event to the canonical action:
// an updated comment is "edited", as on the other forges.
func commentAction(verb string) string {
	if verb == "updated" {
		return "edited"
	}
	return forge.LowerSnake(verb)
}

// normalizePush fills a repo:push event from its first change, with the
// commits of every change (see Normalize).
func normalizePush(f *event.Fields, changes []change) {
	if len(changes) == 0 {
		f.Kind = event.KindOther
		return
	}
	c := changes[0]
	r := c.New
	if r == nil {
		r = c.Old
	}
	if r == nil || r.Name == "" {
		f.Kind = event.KindOther
		return
	}
	switch r.Type {
	case "branch":
		f.Kind, f.Ref, f.Branch = event.KindPush, "refs/heads/"+r.Name, r.Name
	case "tag":
		f.Kind, f.Ref, f.Tag = event.KindTag, "refs/tags/"+r.Name, r.Name
	default:
		f.Kind = event.KindOther
		return
	}
	f.Before, f.After = event.ZeroSHA1, event.ZeroSHA1
	if c.Old != nil {
		f.Before = c.Old.Target.Hash
	}
	if c.New != nil {
		f.After = c.New.Target.Hash
	}
	switch {
	case c.New == nil:
		f.Deleted = true
		f.Action = "deleted"
	case c.Old == nil:
		f.Action = "created"
	default:
		f.Action = ""
	}
	n := 0
	for _, ch := range changes {
		n += len(ch.Commits)
	}
	f.Commits = make([]event.Commit, 0, n)
	for _, ch := range changes {
		for _, cm := range ch.Commits {
			f.Commits = append(f.Commits, cm.fields())
		}
	}
}

// body holds the parts of a Bitbucket Cloud payload that Normalize reads,
// for every event at once; a member absent from an event stays zero.
type body struct {
	Actor      account    `json:"actor"`
	Repository repository `json:"repository"`
	Push       struct {
		Changes []change `json:"changes"`
	} `json:"push"`
	PullRequest  pullRequest `json:"pullrequest"`
	Issue        issue       `json:"issue"`
	Comment      comment     `json:"comment"`
	CommitStatus struct {
		Name    string `json:"name"`
		Key     string `json:"key"`
		State   string `json:"state"`
		URL     string `json:"url"`
		RefName string `json:"refname"`
		Commit  struct {
			Hash string `json:"hash"`
		} `json:"commit"`
		Links struct {
			Commit link `json:"commit"`
		} `json:"links"`
	} `json:"commit_status"`
	// Commit is the commit of a commit comment.
	Commit struct {
		Hash string `json:"hash"`
	} `json:"commit"`
}

type issue struct {
	ID       int64   `json:"id"`
	Title    string  `json:"title"`
	State    string  `json:"state"`
	Links    links   `json:"links"`
	Reporter account `json:"reporter"`
}

func (is *issue) fields() event.Issue {
	return event.Issue{Number: is.ID, Title: is.Title, State: is.State, URL: is.Links.HTML.Href, Author: is.Reporter.person()}
}

type comment struct {
	ID      int64 `json:"id"`
	Content struct {
		Raw string `json:"raw"`
	} `json:"content"`
	Links links `json:"links"`
}

// account is a Bitbucket Cloud user, team or workspace. username was
// removed in 2019 (GDPR) in favour of nickname; older payloads carry it.
type account struct {
	Nickname    string `json:"nickname"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
}

func (a *account) login() string {
	if a.Nickname != "" {
		return a.Nickname
	}
	return a.Username
}

func (a *account) person() event.Person {
	return event.Person{Login: a.login(), Name: a.DisplayName}
}

type link struct {
	Href string `json:"href"`
}

type links struct {
	HTML link `json:"html"`
}

type repository struct {
	FullName string `json:"full_name"`
	Name     string `json:"name"`
	Links    struct {
		HTML  link `json:"html"`
		Clone []struct {
			Name string `json:"name"`
			Href string `json:"href"`
		} `json:"clone"`
	} `json:"links"`
	MainBranch struct {
		Name string `json:"name"`
	} `json:"mainbranch"`
	Owner     account `json:"owner"`
	Workspace struct {
		Slug string `json:"slug"`
	} `json:"workspace"`
}

// fields returns the normalized repository: name and owner come from
// full_name ("<workspace>/<slug>"), which names the repository in URLs,
// rather than from "name", which may differ in case or spelling.
func (r *repository) fields() event.Repository {
	owner, name, ok := strings.Cut(r.FullName, "/")
	if !ok {
		owner, name = "", r.Name
	}
	if owner == "" {
		owner = r.Workspace.Slug
	}
	if owner == "" {
		owner = r.Owner.login()
	}
	out := event.Repository{
		FullName:      r.FullName,
		Name:          name,
		Owner:         owner,
		URL:           r.Links.HTML.Href,
		DefaultBranch: r.MainBranch.Name,
	}
	for _, c := range r.Links.Clone {
		if c.Name == "https" {
			out.CloneURL = c.Href
		}
	}
	// Webhook payloads carry no clone link: the HTTPS clone URL of a
	// Bitbucket Cloud repository is its web URL with .git.
	if out.CloneURL == "" && out.URL != "" {
		out.CloneURL = strings.TrimSuffix(out.URL, "/") + ".git"
	}
	return out
}

type change struct {
	New     *refState `json:"new"`
	Old     *refState `json:"old"`
	Commits []commit  `json:"commits"`
}

// refState is a branch or tag before or after a push.
type refState struct {
	Type   string `json:"type"`
	Name   string `json:"name"`
	Target struct {
		Hash string `json:"hash"`
	} `json:"target"`
}

type commit struct {
	Hash    string `json:"hash"`
	Message string `json:"message"`
	Date    string `json:"date"`
	Author  author `json:"author"`
	Links   links  `json:"links"`
}

// author is a commit author: real deliveries send the git identity in
// "raw" and the Bitbucket user, when known, in "user"; the documentation's
// examples show the user's fields directly.
type author struct {
	account
	Raw  string  `json:"raw"`
	User account `json:"user"`
}

func (c *commit) fields() event.Commit {
	name, email := splitRaw(c.Author.Raw)
	login := c.Author.User.login()
	if login == "" {
		login = c.Author.login()
	}
	if name == "" {
		name = c.Author.User.DisplayName
	}
	if name == "" {
		name = c.Author.DisplayName
	}
	return event.Commit{
		ID:        c.Hash,
		Message:   c.Message,
		URL:       c.Links.HTML.Href,
		Author:    event.Person{Login: login, Name: name, Email: email},
		Timestamp: c.Date,
	}
}

// splitRaw splits a git identity "Name <email>" into its parts; without
// angle brackets the whole string is the name.
func splitRaw(raw string) (name, email string) {
	open := strings.LastIndexByte(raw, '<')
	if open < 0 || !strings.HasSuffix(raw, ">") {
		return strings.TrimSpace(raw), ""
	}
	return strings.TrimSpace(raw[:open]), raw[open+1 : len(raw)-1]
}

type pullRequest struct {
	ID          int64    `json:"id"`
	Title       string   `json:"title"`
	State       string   `json:"state"`
	Draft       bool     `json:"draft"`
	Author      account  `json:"author"`
	Source      endpoint `json:"source"`
	Destination endpoint `json:"destination"`
	Links       links    `json:"links"`
}

// endpoint is a pull request's source or destination: branch, commit (its
// hash abbreviated to 12 digits in webhooks) and repository.
type endpoint struct {
	Branch struct {
		Name string `json:"name"`
	} `json:"branch"`
	Commit struct {
		Hash string `json:"hash"`
	} `json:"commit"`
	Repository *repository `json:"repository"`
}

func (pr *pullRequest) fields() event.PullRequest {
	out := event.PullRequest{
		Number:       pr.ID,
		Title:        pr.Title,
		State:        strings.ToLower(pr.State),
		SourceBranch: pr.Source.Branch.Name,
		TargetBranch: pr.Destination.Branch.Name,
		URL:          pr.Links.HTML.Href,
		Merged:       pr.State == "MERGED",
		Draft:        pr.Draft,
		HeadSHA:      pr.Source.Commit.Hash,
		BaseSHA:      pr.Destination.Commit.Hash,
		Author:       pr.Author.person(),
	}
	if r := pr.Source.Repository; r != nil {
		out.SourceRepository = r.fields()
	}
	return out
}
