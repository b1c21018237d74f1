package gitee

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/jsonx"
)

// The X-Gitee-Event values Gitee documents, one per hook
// (https://help.gitee.com/webhook/gitee-webhook-push-data-format).
const (
	EventPush         = "Push Hook"
	EventTagPush      = "Tag Push Hook"
	EventMergeRequest = "Merge Request Hook"
	EventNote         = "Note Hook"
	EventIssue        = "Issue Hook"
)

// The payload's hook_name for each hook. Test deliveries have been seen
// with these in X-Gitee-Event instead of the names above.
const (
	HookPush         = "push_hooks"
	HookTagPush      = "tag_push_hooks"
	HookMergeRequest = "merge_request_hooks"
	HookNote         = "note_hooks"
	HookIssue        = "issue_hooks"
)

// hook is one of Gitee's five hooks, whichever way it was named.
type hook int

const (
	hookUnknown hook = iota
	hookPush
	hookMergeRequest
	hookNote
	hookIssue
)

// hookOf maps an X-Gitee-Event value or a hook_name to its hook.
func hookOf(name string) hook {
	switch name {
	case EventPush, EventTagPush, HookPush, HookTagPush:
		return hookPush
	case EventMergeRequest, HookMergeRequest:
		return hookMergeRequest
	case EventNote, HookNote:
		return hookNote
	case EventIssue, HookIssue:
		return hookIssue
	}
	return hookUnknown
}

// Normalize maps a Gitee payload to the canonical fields, by the hook in
// m.Event (X-Gitee-Event, in either its "Push Hook" or its "push_hooks"
// spelling) or, when that names no Gitee hook, by the payload's hook_name:
//
//   - Push Hook and Tag Push Hook: kind push, or tag for a refs/tags/ ref
//     (by the ref, not by the hook name); deleted when the payload says
//     deleted or after is all zeros, with action "deleted"; action
//     "created" for a new ref; the commits; the pusher as actor.
//   - Merge Request Hook: kind pull_request. Actions: open and reopen
//     become "opened"; update becomes "updated" when action_desc is
//     source_branch_changed (new commits), "labeled" when it is
//     update_label (labels added or removed: Gitee does not tell which),
//     and "edited" otherwise (title, target branch and the like); merge
//     becomes "merged", close "closed". After is the head commit for
//     "updated" only. The pull request carries its head and base shas,
//     head repository, author, draft flag and labels.
//   - Note Hook: kind comment, action "created" (Gitee's "comment"), with
//     the comment; a comment on a pull request (noteable_type PullRequest)
//     carries it, one on an issue the issue.
//   - Issue Hook: kind issue, with the issue; open becomes "opened", delete
//     "deleted", state_change "state_changed", assign "assigned",
//     update_label "labeled". Gitee's issue numbers are strings of letters
//     and digits ("I4CF12"): the record's issue number stays 0, and the
//     issue's URL names it.
//   - Any other hook: kind other, with the repository and actor.
//
// The repository is the payload's repository (else project): full_name is
// its path_with_namespace, which Gitee keeps as "owner/path" even where
// full_name holds display names, and URL its html_url. The actor is sender
// (for a push, completed from pusher). ForgeAction keeps Gitee's own action.
// The password and sign members play no part here.
//
// The error wraps [forge.ErrBadPayload] and is returned only when payload is
// not a JSON object; a field of an unexpected type is left out.
func (p *Provider) Normalize(m forge.Meta, payload []byte) (event.Fields, error) {
	var b body
	if err := decode(payload, &b); err != nil {
		return event.Fields{}, fmt.Errorf("gitee: %q payload: %w: %v", m.Event, forge.ErrBadPayload, err)
	}
	f := event.Fields{
		Kind:        event.KindOther,
		Forge:       Name,
		Repository:  b.repository(),
		Actor:       b.Sender.person(),
		ForgeAction: b.Action,
		Action:      forge.LowerSnake(b.Action),
	}
	h := hookOf(m.Event)
	if h == hookUnknown {
		h = hookOf(b.HookName)
	}
	switch h {
	case hookPush:
		b.push(&f)
	case hookMergeRequest:
		f.Kind = event.KindPullRequest
		f.PullRequest = b.pullRequest()
		f.Action = mergeRequestAction(b.Action, b.ActionDesc)
		if f.Action == "updated" {
			f.After = f.PullRequest.HeadSHA
		}
		if f.Actor == (event.Person{}) {
			f.Actor = b.Author.person()
		}
	case hookNote:
		f.Kind = event.KindComment
		if b.Action == "comment" {
			f.Action = "created"
		}
		c := b.Comment
		if c == nil {
			c = &comment{}
		}
		f.Comment = event.Comment{ID: forge.ID(c.ID), Body: forge.CommentBody(c.Body), URL: c.HTMLURL}
		switch b.NoteableType {
		case "PullRequest":
			f.Comment.On = event.CommentOnPullRequest
			if b.PullRequest != nil {
				f.PullRequest = b.pullRequest()
				f.Comment.Number = f.PullRequest.Number
			}
		case "Issue":
			f.Comment.On = event.CommentOnIssue
			if b.Issue != nil {
				f.Issue = b.Issue.fields()
			}
		case "Commit":
			f.Comment.On = event.CommentOnCommit
		}
		if f.Actor == (event.Person{}) {
			f.Actor = b.Author.person()
		}
	case hookIssue:
		f.Kind = event.KindIssue
		f.Action = issueAction(b.Action)
		if f.Actor == (event.Person{}) {
			f.Actor = b.User.person()
		}
		if b.Issue != nil {
			f.Issue = b.Issue.fields()
		}
		if b.ActionDesc == "update_label" {
			f.Action = "labeled"
		}
	}
	return f, nil
}

// push fills a push or tag push.
func (b *body) push(f *event.Fields) {
	f.Ref = b.Ref
	f.Kind = event.KindPush
	if t, ok := strings.CutPrefix(b.Ref, "refs/tags/"); ok {
		f.Kind, f.Tag = event.KindTag, t
	} else if br, ok := strings.CutPrefix(b.Ref, "refs/heads/"); ok {
		f.Branch = br
	}
	f.Before, f.After = b.Before, b.After
	f.Deleted = b.Deleted || event.IsZeroSHA(b.After)
	f.Action = ""
	switch {
	case f.Deleted:
		f.Action = "deleted"
	case b.Created || event.IsZeroSHA(b.Before):
		f.Action = "created"
	}
	if b.Pusher != nil {
		if f.Actor.Login == "" {
			f.Actor.Login = cmp.Or(b.Pusher.Login, b.Pusher.Username, b.Pusher.UserName)
		}
		if f.Actor.Name == "" {
			f.Actor.Name = b.Pusher.Name
		}
		if f.Actor.Email == "" {
			f.Actor.Email = b.Pusher.Email
		}
	}
	if f.Actor.Login == "" {
		f.Actor.Login = b.UserName
	}
	f.Commits = make([]event.Commit, 0, len(b.Commits))
	for _, c := range b.Commits {
		ec := event.Commit{ID: c.ID, Message: c.Message, URL: c.URL, Timestamp: c.Timestamp}
		if c.Author != nil {
			ec.Author = event.Person{Login: cmp.Or(c.Author.Username, c.Author.UserName), Name: c.Author.Name, Email: c.Author.Email}
		}
		f.Commits = append(f.Commits, ec)
	}
}

// mergeRequestAction maps a Merge Request Hook's action and action_desc to
// the canonical action (forges.md section 15, action table).
func mergeRequestAction(action, desc string) string {
	switch action {
	case "open", "reopen":
		return "opened"
	case "update":
		switch desc {
		case "source_branch_changed":
			return "updated"
		case "update_label":
			return "labeled"
		}
		return "edited"
	case "merge":
		return "merged"
	case "close":
		return "closed"
	}
	return forge.LowerSnake(action)
}

// issueAction maps an Issue Hook's action to the canonical action.
func issueAction(action string) string {
	switch action {
	case "open", "reopen":
		return "opened"
	case "close":
		return "closed"
	case "delete":
		return "deleted"
	case "update":
		return "updated"
	case "assign":
		return "assigned"
	case "state_change":
		return "state_changed"
	}
	return forge.LowerSnake(action)
}

// body is the union of the Gitee payload fields Normalize reads. Fields that
// Gitee sends with varying JSON types are kept raw.
type body struct {
	HookName     string `json:"hook_name"`
	Action       string `json:"action"`
	ActionDesc   string `json:"action_desc"`
	NoteableType string `json:"noteable_type"`

	Ref      string   `json:"ref"`
	Before   string   `json:"before"`
	After    string   `json:"after"`
	Created  bool     `json:"created"`
	Deleted  bool     `json:"deleted"`
	Commits  []commit `json:"commits"`
	Pusher   *user    `json:"pusher"`
	UserName string   `json:"user_name"`

	// Merge request and note hooks: the top-level copies of the pull
	// request's fields, read when pull_request lacks them.
	Number       json.RawMessage `json:"number"`
	Title        string          `json:"title"`
	State        string          `json:"state"`
	URL          string          `json:"url"`
	SourceBranch string          `json:"source_branch"`
	TargetBranch string          `json:"target_branch"`
	PullRequest  *pullRequest    `json:"pull_request"`

	Repository *repository `json:"repository"`
	Project    *repository `json:"project"`
	Sender     *user       `json:"sender"`
	Author     *user       `json:"author"`
	User       *user       `json:"user"`
	Issue      *issue      `json:"issue"`
	Comment    *comment    `json:"comment"`
}

type comment struct {
	ID      int64  `json:"id"`
	Body    string `json:"body"`
	HTMLURL string `json:"html_url"`
}

type label struct {
	Name string `json:"name"`
}

func labelName(l *label) string { return l.Name }

// issue is a Gitee issue. Its number is a string of letters and digits
// ("I4CF12"), not a number: the record's issue number stays 0 and the URL
// names the issue.
type issue struct {
	Title   string  `json:"title"`
	State   string  `json:"state"`
	HTMLURL string  `json:"html_url"`
	User    *user   `json:"user"`
	Labels  []label `json:"labels"`
}

func (is *issue) fields() event.Issue {
	return event.Issue{Title: is.Title, State: is.State, URL: is.HTMLURL, Author: is.User.person(), Labels: forge.Labels(is.Labels, labelName)}
}

type user struct {
	Login    string `json:"login"`
	Username string `json:"username"`
	UserName string `json:"user_name"`
	Name     string `json:"name"`
	Email    string `json:"email"`
}

type commit struct {
	ID        string `json:"id"`
	Message   string `json:"message"`
	URL       string `json:"url"`
	Timestamp string `json:"timestamp"`
	Author    *user  `json:"author"`
}

type repository struct {
	FullName          string `json:"full_name"`
	PathWithNamespace string `json:"path_with_namespace"`
	Path              string `json:"path"`
	Name              string `json:"name"`
	Namespace         string `json:"namespace"`
	HTMLURL           string `json:"html_url"`
	URL               string `json:"url"`
	CloneURL          string `json:"clone_url"`
	GitHTTPURL        string `json:"git_http_url"`
	DefaultBranch     string `json:"default_branch"`
	Owner             *user  `json:"owner"`
}

type pullRequest struct {
	Number  json.RawMessage `json:"number"`
	Title   string          `json:"title"`
	State   string          `json:"state"`
	HTMLURL string          `json:"html_url"`
	Merged  bool            `json:"merged"`
	Draft   bool            `json:"draft"`
	User    *user           `json:"user"`
	Labels  []label         `json:"labels"`
	Head    *branch         `json:"head"`
	Base    *branch         `json:"base"`
}

type branch struct {
	Ref  string      `json:"ref"`
	SHA  string      `json:"sha"`
	Repo *repository `json:"repo"`
}

// decode reads a JSON object into b. A value of an unexpected type is
// skipped (jsonx goes on past it, as encoding/json does, without an
// error); only a body that is not a JSON object is an error.
func decode(payload []byte, b *body) error {
	t := bytes.TrimLeft(payload, " \t\r\n")
	if len(t) == 0 || t[0] != '{' {
		return errors.New("not a JSON object")
	}
	return jsonx.Unmarshal(payload, b)
}

// repository maps the payload's repository, or its project when it has no
// repository.
func (b *body) repository() event.Repository {
	r := b.Repository
	if r == nil {
		r = b.Project
	}
	if r == nil {
		return event.Repository{}
	}
	return repositoryFields(r)
}

// repositoryFields maps a payload repository.
func repositoryFields(r *repository) event.Repository {
	full := cmp.Or(r.PathWithNamespace, r.FullName)
	out := event.Repository{
		FullName:      full,
		URL:           cmp.Or(r.HTMLURL, r.URL),
		CloneURL:      cmp.Or(r.CloneURL, r.GitHTTPURL),
		DefaultBranch: r.DefaultBranch,
	}
	if i := strings.LastIndexByte(full, '/'); i >= 0 {
		out.Owner, out.Name = full[:i], full[i+1:]
	} else {
		out.Name = cmp.Or(r.Path, r.Name)
		out.Owner = r.Namespace
		if out.Owner == "" && r.Owner != nil {
			out.Owner = r.Owner.Login
		}
	}
	return out
}

// pullRequest maps the pull request of a merge request or note hook,
// preferring the pull_request object and completing it from the top-level
// copies.
func (b *body) pullRequest() event.PullRequest {
	out := event.PullRequest{
		Number:       number(b.Number),
		Title:        b.Title,
		State:        b.State,
		SourceBranch: b.SourceBranch,
		TargetBranch: b.TargetBranch,
		URL:          b.URL,
	}
	if pr := b.PullRequest; pr != nil {
		if n := number(pr.Number); n != 0 {
			out.Number = n
		}
		out.Title = cmp.Or(pr.Title, out.Title)
		out.State = cmp.Or(pr.State, out.State)
		out.URL = cmp.Or(pr.HTMLURL, out.URL)
		out.Merged = pr.Merged
		out.Draft = pr.Draft
		out.Author = pr.User.person()
		out.Labels = forge.Labels(pr.Labels, labelName)
		if pr.Head != nil {
			out.SourceBranch = cmp.Or(pr.Head.Ref, out.SourceBranch)
			out.HeadSHA = pr.Head.SHA
			if pr.Head.Repo != nil {
				out.SourceRepository = repositoryFields(pr.Head.Repo)
			}
		}
		if pr.Base != nil {
			out.TargetBranch = cmp.Or(pr.Base.Ref, out.TargetBranch)
			out.BaseSHA = pr.Base.SHA
		}
	}
	if out.State == "merged" {
		out.Merged = true
	}
	if out.Merged {
		out.State = "merged"
	}
	return out
}

// number reads a pull request number sent as a JSON number or a numeric
// string; anything else is 0.
func number(raw json.RawMessage) int64 {
	s := strings.Trim(string(raw), `"`)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

func (u *user) person() event.Person {
	if u == nil {
		return event.Person{}
	}
	return event.Person{Login: cmp.Or(u.Login, u.Username, u.UserName), Name: u.Name, Email: u.Email}
}
