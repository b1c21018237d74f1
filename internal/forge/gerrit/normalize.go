package gerrit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
)

// changeActions maps the change events to the canonical pull request
// action (forges.md section 15, action table); patchset-created,
// comment-added and wip-state-changed depend on the payload.
var changeActions = map[string]string{
	"change-merged":         "merged",
	"change-abandoned":      "closed",
	"change-deleted":        "closed",
	"change-restored":       "opened",
	"reviewer-added":        "review_requested",
	"reviewer-deleted":      "review_request_removed",
	"vote-deleted":          "vote_deleted",
	"topic-changed":         "edited",
	"hashtags-changed":      "edited",
	"private-state-changed": "edited",
	"assignee-changed":      "edited",
}

// Normalize maps a Gerrit event to the canonical fields. m.Event is the
// event type; when it is empty the payload's own type is used. Normalize
// keeps no reference to payload.
//
// Events map to kinds as in forges.md section 15 (the events are described
// at https://gerrit-review.googlesource.com/Documentation/cmd-stream-events.html):
//
//   - patchset-created: kind pull_request (a change), action "opened" for
//     patch set 1 and "updated" for a later one; forgeaction is the patch
//     set kind (REWORK, TRIVIAL_REBASE, NO_CODE_CHANGE, ...).
//   - change-merged ("merged"), change-abandoned and change-deleted
//     ("closed"), change-restored ("opened"), reviewer-added
//     ("review_requested"), reviewer-deleted ("review_request_removed"),
//     vote-deleted ("vote_deleted"), topic-changed, hashtags-changed,
//     private-state-changed and assignee-changed ("edited"): kind
//     pull_request.
//   - wip-state-changed: kind pull_request, action "opened" when the change
//     leaves work in progress (it is now ready for review, as GitHub's
//     ready_for_review) and "converted_to_draft" when it enters it.
//   - comment-added: kind comment, action "created"; but a comment that
//     newly sets Code-Review +2 (the label's value is 2 and its oldValue,
//     present when the comment changed the vote, is not) is a review: kind
//     pull_request, action "approved"; one that newly sets Code-Review -2
//     is kind pull_request, action "changes_requested". Other votes (CI's
//     Verified) stay comments.
//   - ref-updated: kind push on refs/heads/, tag on refs/tags/, with before
//     and after the old and new revision, deleted when the new one is all
//     zeros, action "created" or "deleted" for a ref that appears or goes
//     away; a short ref name (older Gerrit versions sent "master") is taken as
//     a branch. Updates of refs/changes/*, refs/meta/* and other refs are
//     kind other, with the ref. Gerrit sends no commits: commits is empty.
//   - batch-ref-updated (Gerrit 3.9+): as ref-updated, for its first update
//     of a branch or tag (else its first update).
//   - project-created ("created") and project-head-updated
//     ("head_updated"): kind other, with the project and its HEAD as the
//     default branch. Any other event: kind other, never an error.
//
// The change's fields: pull_request.number is change.number, title
// change.subject, state change.status (NEW, MERGED, ABANDONED), target
// branch change.branch, source branch the patch set's ref
// (refs/changes/NN/N/P, what a CI job fetches: Gerrit has no source
// branch), url change.url, merged true for change-merged or status MERGED,
// draft change.wip, head_sha the patch set's revision and base_sha its
// first parent, source_repository the project (Gerrit has no forks), author
// change.owner, labels change.hashtags (Gerrit's own "labels" are votes). A
// comment-added carries the comment's text (Gerrit sends no comment id; the
// URL is the change's), on "change". After is the patch set's revision (for change-merged the new revision of
// the branch, newRev, when sent). ref stays empty on change events.
// repository.full_name is the project ("platform/build"), .name its last
// path element, .owner the rest. The actor is the event's own account
// (uploader, submitter, author, abandoner, restorer, deleter, adder,
// remover, changer, editor): login is its username.
//
// The error, which wraps [forge.ErrBadPayload], is for a payload that is not a
// JSON object; a member of an unexpected type is ignored.
func (p *Provider) Normalize(m forge.Meta, payload []byte) (event.Fields, error) {
	var b body
	if err := forge.DecodeObject(payload, &b); err != nil {
		return event.Fields{}, fmt.Errorf("gerrit: %q payload: %w: %v", m.Event, forge.ErrBadPayload, err)
	}
	ev := m.Event
	if ev == "" {
		ev = b.Type
	}
	f := event.Fields{Kind: event.KindOther, Forge: Name}
	switch {
	case ev == "ref-updated":
		normalizeRef(&f, &b, b.RefUpdate)
	case ev == "batch-ref-updated":
		var u refUpdate
		for i, cand := range b.RefUpdates {
			ref := fullRef(cand.RefName)
			if i == 0 || strings.HasPrefix(ref, "refs/heads/") || strings.HasPrefix(ref, "refs/tags/") {
				u = cand
			}
			if strings.HasPrefix(ref, "refs/heads/") || strings.HasPrefix(ref, "refs/tags/") {
				break
			}
		}
		normalizeRef(&f, &b, u)
	case ev == "project-created", ev == "project-head-updated":
		f.Repository = repositoryOf(projectName(b.ProjectName))
		f.Action, f.Repository.DefaultBranch = "created", strings.TrimPrefix(b.HeadName, "refs/heads/")
		if ev == "project-head-updated" {
			f.Action, f.Repository.DefaultBranch = "head_updated", strings.TrimPrefix(b.NewHead, "refs/heads/")
		}
	case b.Change.present():
		normalizeChange(&f, &b, ev)
	}
	return f, nil
}

// normalizeChange fills an event about a change.
func normalizeChange(f *event.Fields, b *body, ev string) {
	project := projectName(b.Change.Project)
	if project == "" {
		project = projectName(b.Project)
	}
	f.Repository = repositoryOf(project)
	f.PullRequest = event.PullRequest{
		Number:       int64(b.Change.Number),
		Title:        b.Change.Subject,
		State:        b.Change.Status,
		SourceBranch: b.PatchSet.Ref,
		TargetBranch: b.Change.Branch,
		URL:          b.Change.URL,
		Merged:       ev == "change-merged" || b.Change.Status == "MERGED",
		Draft:        b.Change.WIP,
		HeadSHA:      b.PatchSet.Revision,
		// A change is uploaded to the project itself: Gerrit has no forks.
		SourceRepository: f.Repository,
		Author:           b.Change.Owner.person(),
		Labels:           b.Change.Hashtags,
	}
	if len(b.PatchSet.Parents) > 0 {
		f.PullRequest.BaseSHA = b.PatchSet.Parents[0]
	}
	f.After = b.PatchSet.Revision
	f.Kind = event.KindPullRequest
	f.Action = changeActions[ev]
	actor := b.accountFor(ev)
	switch ev {
	case "patchset-created":
		f.Action = "updated"
		if b.PatchSet.Number == 1 {
			f.Action = "opened"
		}
		f.ForgeAction = b.PatchSet.Kind
		if actor.empty() {
			actor = b.PatchSet.Uploader
		}
	case "change-merged":
		if b.NewRev != "" {
			f.After = b.NewRev
		}
	case "wip-state-changed":
		f.Action = "opened"
		if b.Change.WIP {
			f.Action = "converted_to_draft"
		}
	case "comment-added":
		f.Kind, f.Action = event.KindComment, "created"
		f.Comment = event.Comment{Body: forge.CommentBody(b.Comment), URL: b.Change.URL, On: event.CommentOnChange, Number: f.PullRequest.Number}
		for _, a := range b.Approvals {
			if (a.Type != "Code-Review" && a.Type != "CRVW") || a.OldValue == nil || *a.OldValue == a.Value {
				continue
			}
			switch a.Value {
			case 2:
				f.Kind, f.Action = event.KindPullRequest, "approved"
			case -2:
				f.Kind, f.Action = event.KindPullRequest, "changes_requested"
			}
		}
	default:
		if _, known := changeActions[ev]; !known {
			// An event about a change that Gerrit (or a plugin)
			// adds later: keep the change, as other.
			f.Kind, f.Action = event.KindOther, ""
		}
	}
	f.Actor = actor.person()
}

// normalizeRef fills a ref update.
func normalizeRef(f *event.Fields, b *body, u refUpdate) {
	project := projectName(u.Project)
	if project == "" {
		project = projectName(b.Project)
	}
	f.Repository = repositoryOf(project)
	f.Actor = b.Submitter.person()
	f.Ref = fullRef(u.RefName)
	if f.Ref == "" {
		return
	}
	f.Before, f.After = u.OldRev, u.NewRev
	switch {
	case strings.HasPrefix(f.Ref, "refs/heads/"):
		f.Kind, f.Branch = event.KindPush, strings.TrimPrefix(f.Ref, "refs/heads/")
	case strings.HasPrefix(f.Ref, "refs/tags/"):
		f.Kind, f.Tag = event.KindTag, strings.TrimPrefix(f.Ref, "refs/tags/")
	default:
		return
	}
	f.Commits = []event.Commit{}
	f.Deleted = isZero(u.NewRev)
	switch {
	case f.Deleted:
		f.Action = "deleted"
	case isZero(u.OldRev):
		f.Action = "created"
	}
}

// fullRef returns name as a full ref: older Gerrit versions sent the short name
// of a branch ("master") in refUpdate.refName.
func fullRef(name string) string {
	if name == "" || strings.HasPrefix(name, "refs/") {
		return name
	}
	return "refs/heads/" + name
}

// isZero reports whether s is an all-zero object id.
func isZero(s string) bool {
	return s != "" && strings.Trim(s, "0") == ""
}

// repositoryOf returns the repository of a Gerrit project: the name is the
// last path element, the owner the rest.
func repositoryOf(project string) event.Repository {
	r := event.Repository{FullName: project, Name: project}
	if i := strings.LastIndexByte(project, '/'); i >= 0 {
		r.Owner, r.Name = project[:i], project[i+1:]
	}
	return r
}

// projectName reads a project name that Gerrit serializes as a string
// ("platform/build") or, in the webhooks plugin's own serialization of a
// Project.NameKey, as {"name":"platform/build"}.
func projectName(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var key struct {
		Name string `json:"name"`
	}
	if json.Unmarshal(raw, &key) == nil {
		return key.Name
	}
	return ""
}

// body holds the parts of a Gerrit event that Normalize reads, for every
// event at once; a member absent from an event stays zero.
type body struct {
	Type       string          `json:"type"`
	Change     change          `json:"change"`
	PatchSet   patchSet        `json:"patchSet"`
	RefUpdate  refUpdate       `json:"refUpdate"`
	RefUpdates []refUpdate     `json:"refUpdates"`
	NewRev     string          `json:"newRev"`
	Approvals  []approval      `json:"approvals"`
	Comment    string          `json:"comment"`
	Project    json.RawMessage `json:"project"`

	ProjectName json.RawMessage `json:"projectName"`
	HeadName    string          `json:"headName"`
	NewHead     string          `json:"newHead"`

	Submitter account `json:"submitter"`
	Uploader  account `json:"uploader"`
	Author    account `json:"author"`
	Abandoner account `json:"abandoner"`
	Restorer  account `json:"restorer"`
	Deleter   account `json:"deleter"`
	Adder     account `json:"adder"`
	Remover   account `json:"remover"`
	Changer   account `json:"changer"`
	Editor    account `json:"editor"`
}

// accountFor returns the account that caused an event of type ev (the
// member Gerrit names after its role: EventFactory and the event classes
// of com.google.gerrit.server.events).
func (b *body) accountFor(ev string) account {
	switch ev {
	case "patchset-created":
		return b.Uploader
	case "change-merged":
		return b.Submitter
	case "change-abandoned":
		return b.Abandoner
	case "change-restored":
		return b.Restorer
	case "change-deleted":
		return b.Deleter
	case "comment-added":
		return b.Author
	case "reviewer-added":
		return b.Adder
	case "reviewer-deleted", "vote-deleted":
		return b.Remover
	case "hashtags-changed":
		return b.Editor
	}
	return b.Changer
}

type change struct {
	Project json.RawMessage `json:"project"`
	Branch  string          `json:"branch"`
	ID      string          `json:"id"`
	Number  flexInt         `json:"number"`
	Subject string          `json:"subject"`
	URL     string          `json:"url"`
	Status  string          `json:"status"`
	WIP     bool            `json:"wip"`
	Owner   account         `json:"owner"`
	// Hashtags are the change's hashtags, Gerrit's labels in the sense of
	// other forges (its own "labels" are votes).
	Hashtags []string `json:"hashtags"`
}

// present reports whether the event carries a change.
func (c *change) present() bool {
	return c.Number != 0 || c.ID != "" || len(c.Project) > 0
}

type patchSet struct {
	Number   flexInt  `json:"number"`
	Revision string   `json:"revision"`
	Ref      string   `json:"ref"`
	Kind     string   `json:"kind"`
	Parents  []string `json:"parents"`
	Uploader account  `json:"uploader"`
}

type refUpdate struct {
	OldRev  string          `json:"oldRev"`
	NewRev  string          `json:"newRev"`
	RefName string          `json:"refName"`
	Project json.RawMessage `json:"project"`
}

// approval is a vote in a comment-added event. Gerrit writes the values as
// strings ("2", "-1"); oldValue is present only for a label the comment
// changed.
type approval struct {
	Type     string   `json:"type"`
	Value    flexInt  `json:"value"`
	OldValue *flexInt `json:"oldValue"`
}

// account is Gerrit's AccountAttribute.
type account struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Username string `json:"username"`
}

func (a *account) empty() bool { return *a == account{} }

func (a *account) person() event.Person {
	return event.Person{Login: a.Username, Name: a.Name, Email: a.Email}
}

// flexInt is an integer that Gerrit sends as a JSON number or, in older
// versions and in label values, as a string ("48922", "+2"). A value that
// is neither decodes as 0.
type flexInt int64

// UnmarshalJSON implements json.Unmarshaler.
func (n *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.Trim(b, `"`)
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		*n = 0
		return nil
	}
	*n = flexInt(v)
	return nil
}
