// Package event defines forgehook's event record: a CloudEvents 1.0 envelope
// whose data keeps the forge's headers (credentials redacted) and body, plus
// the normalized fields that mean the same on every forge. The record's JSON
// form is a public contract: other systems consume it from the log.
package event

import (
	"encoding/json"
	"strconv"
	"time"
)

// Kind is the canonical kind of an event (normalized.kind).
type Kind string

// The canonical kinds; see docs/providers.md.
const (
	KindPush        Kind = "push"
	KindTag         Kind = "tag"
	KindPullRequest Kind = "pull_request"
	KindComment     Kind = "comment"
	KindIssue       Kind = "issue"
	KindRelease     Kind = "release"
	KindPipeline    Kind = "pipeline"
	KindRegistry    Kind = "registry"
	KindPing        Kind = "ping"
	KindOther       Kind = "other"
)

// Kinds lists every canonical kind.
var Kinds = []Kind{KindPush, KindTag, KindPullRequest, KindComment, KindIssue, KindRelease, KindPipeline, KindRegistry, KindPing, KindOther}

// ZeroSHA1 and ZeroSHA256 are the all-zero object ids forges send as the
// before or after of a created or deleted ref.
const (
	ZeroSHA1   = "0000000000000000000000000000000000000000"
	ZeroSHA256 = "0000000000000000000000000000000000000000000000000000000000000000"
)

// IsZeroSHA reports whether s is an all-zero object id (of any length > 0).
func IsZeroSHA(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}

// Repository is the normalized repository of an event.
type Repository struct {
	FullName      string `json:"full_name"`
	Name          string `json:"name"`
	Owner         string `json:"owner"`
	URL           string `json:"url"`
	CloneURL      string `json:"clone_url"`
	DefaultBranch string `json:"default_branch"`
}

// Person is an author or actor.
type Person struct {
	Login string `json:"login"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Commit is one commit of a push.
type Commit struct {
	ID        string `json:"id"`
	Message   string `json:"message"`
	URL       string `json:"url"`
	Author    Person `json:"author"`
	Timestamp string `json:"timestamp"`
}

// PullRequest is the normalized pull request, merge request or change.
type PullRequest struct {
	Number       int64  `json:"number"`
	Title        string `json:"title"`
	State        string `json:"state"`
	SourceBranch string `json:"source_branch"`
	TargetBranch string `json:"target_branch"`
	URL          string `json:"url"`
	Merged       bool   `json:"merged"`
	// Draft reports a draft (work in progress) pull request.
	Draft bool `json:"draft"`
	// HeadSHA is the commit at the tip of the source branch; BaseSHA the
	// commit of the target branch the pull request is compared with.
	HeadSHA string `json:"head_sha"`
	BaseSHA string `json:"base_sha"`
	// SourceRepository is the repository the source branch lives in: a
	// fork's, or the repository itself.
	SourceRepository Repository `json:"source_repository"`
	// Author opened the pull request.
	Author Person `json:"author"`
	// Labels are the label names, in the forge's order (nil when the
	// forge sent none or sends no labels).
	Labels []string `json:"labels"`
}

// Issue is the normalized issue (or work item) of an issue event, and of a
// comment on an issue.
type Issue struct {
	Number int64    `json:"number"`
	Title  string   `json:"title"`
	State  string   `json:"state"`
	URL    string   `json:"url"`
	Author Person   `json:"author"`
	Labels []string `json:"labels"`
}

// The values of Comment.On: what a comment is on.
const (
	CommentOnIssue       = "issue"
	CommentOnPullRequest = "pull_request"
	CommentOnCommit      = "commit"
	// CommentOnChange is a Gerrit change.
	CommentOnChange = "change"
)

// MaxCommentBody is the most bytes of a comment's text that the record
// keeps in Comment.Body (the whole text stays in the body).
const MaxCommentBody = 4096

// Comment is the normalized comment of a comment event.
type Comment struct {
	// ID is the forge's comment id, as a decimal string for numeric ids.
	ID string `json:"id"`
	// Body is the comment's text, cut to MaxCommentBody bytes on a UTF-8
	// character boundary.
	Body string `json:"body"`
	URL  string `json:"url"`
	// On is what the comment is on: CommentOnIssue, CommentOnPullRequest,
	// CommentOnCommit or CommentOnChange; "" for anything else (a GitHub
	// discussion, a GitLab snippet) or when the payload does not say.
	On string `json:"on"`
	// Number is the number of the issue, pull request or change the
	// comment is on (0 for a commit).
	Number int64 `json:"number"`
}

// The pipeline statuses: Pipeline.Status is one of these, or "" when the
// forge sent no status or one outside this vocabulary.
const (
	StatusQueued    = "queued"    // created, pending, requested, waiting for a runner
	StatusWaiting   = "waiting"   // waiting for a person: manual job, approval
	StatusRunning   = "running"   // in progress
	StatusSuccess   = "success"   // finished and passed
	StatusFailure   = "failure"   // finished and failed, errored or timed out
	StatusCancelled = "cancelled" // cancelled or aborted
	StatusSkipped   = "skipped"   // not run
	StatusNeutral   = "neutral"   // finished without a verdict (neutral, stale)
)

// Pipeline is the normalized CI/CD run, job, check or commit status of a
// pipeline event.
type Pipeline struct {
	// Name is the workflow, job, check, context or definition name.
	Name string `json:"name"`
	// ID is the forge's id of the run or job, as a decimal string for
	// numeric ids.
	ID string `json:"id"`
	// Status is in the StatusQueued... vocabulary.
	Status string `json:"status"`
	// Ref is the full ref built (refs/heads/..., refs/tags/...), Branch or
	// Tag its short name.
	Ref    string `json:"ref"`
	Branch string `json:"branch"`
	Tag    string `json:"tag"`
	// SHA is the commit built.
	SHA string `json:"sha"`
	URL string `json:"url"`
}

// Release is the normalized release of a release event.
type Release struct {
	Tag        string `json:"tag"`
	Name       string `json:"name"`
	Draft      bool   `json:"draft"`
	Prerelease bool   `json:"prerelease"`
	URL        string `json:"url"`
}

// Registry is the normalized image or package of a registry event.
type Registry struct {
	// Image is the image or package name (for an image, the repository
	// path without the registry host).
	Image  string `json:"image"`
	Tag    string `json:"tag"`
	Digest string `json:"digest"`
	URL    string `json:"url"`
}

// Fields is data.normalized: the canonical view of an event, the same on
// every forge. Empty strings and zero values mean "not applicable or not
// sent", never "unknown field".
type Fields struct {
	Kind        Kind        `json:"kind"`
	Action      string      `json:"action"`
	Forge       string      `json:"forge"`
	Repository  Repository  `json:"repository"`
	Ref         string      `json:"ref"`
	Branch      string      `json:"branch"`
	Tag         string      `json:"tag"`
	Before      string      `json:"before"`
	After       string      `json:"after"`
	Deleted     bool        `json:"deleted"`
	Commits     []Commit    `json:"commits"`
	PullRequest PullRequest `json:"pull_request"`
	Issue       Issue       `json:"issue"`
	Comment     Comment     `json:"comment"`
	Pipeline    Pipeline    `json:"pipeline"`
	Release     Release     `json:"release"`
	Registry    Registry    `json:"registry"`
	Actor       Person      `json:"actor"`

	// Twin marks the create or delete event that a forge sends beside the
	// push of the same ref (Gitea, Gogs and GitHub send both); triggers skip
	// twins unless they set twins: true.
	Twin bool `json:"twin"`

	// ForgeAction is the forge's own action value (body "action" or its
	// equivalent), kept in the envelope's forgeaction attribute.
	ForgeAction string `json:"-"`
}

// Data is the CloudEvent's data member.
type Data struct {
	// Header holds the request headers as received, credentials redacted.
	Header map[string][]string `json:"header"`
	// Body is the forge's payload, byte for byte as it was received when it
	// is JSON (the decoded payload= field of a form body), with secret
	// payload fields redacted for forges that send them.
	Body json.RawMessage `json:"body"`
	// Normalized is the canonical view.
	Normalized Fields `json:"normalized"`
}

// Event is the CloudEvents 1.0 structured-mode record stored in the log and
// sent to actions.
type Event struct {
	SpecVersion     string    `json:"specversion"`
	ID              string    `json:"id"`
	Source          string    `json:"source"`
	Type            string    `json:"type"`
	Subject         string    `json:"subject,omitempty"`
	Time            time.Time `json:"time"`
	DataContentType string    `json:"datacontenttype"`
	Forge           string    `json:"forge"`
	ForgeEvent      string    `json:"forgeevent"`
	ForgeAction     string    `json:"forgeaction"`
	Endpoint        string    `json:"endpoint"`
	// Delivery is the forge's delivery id when it sent one.
	Delivery string `json:"forgedelivery,omitempty"`
	Data     Data   `json:"data"`
}

// TypePrefix is the prefix of every event type: dev.forgehook.<kind>.
const TypePrefix = "dev.forgehook."

// Envelope fills the envelope attributes that derive from the normalized
// fields: type, source and subject. endpoint is used for the source when the
// repository has no URL. It also makes nil lists of the normalized fields
// (commits, labels) empty, so that consumers read [] rather than null.
func (e *Event) Envelope() {
	f := &e.Data.Normalized
	e.SpecVersion = "1.0"
	e.DataContentType = "application/json"
	e.Type = typeOf(f.Kind)
	if f.Commits == nil {
		f.Commits = []Commit{}
	}
	if f.PullRequest.Labels == nil {
		f.PullRequest.Labels = []string{}
	}
	if f.Issue.Labels == nil {
		f.Issue.Labels = []string{}
	}
	if f.Repository.URL != "" {
		e.Source = f.Repository.URL
	} else {
		e.Source = "/endpoints/" + e.Endpoint
	}
	switch {
	case f.PullRequest.Number != 0 && (f.Kind == KindPullRequest || f.Kind == KindComment):
		e.Subject = "pulls/" + itoa(f.PullRequest.Number)
	case f.Ref != "":
		e.Subject = f.Ref
	}
}

// typeOf returns the event type of kind k, TypePrefix + k: a constant for
// the canonical kinds, so that Envelope does not allocate it per event.
func typeOf(k Kind) string {
	switch k {
	case KindPush:
		return TypePrefix + string(KindPush)
	case KindTag:
		return TypePrefix + string(KindTag)
	case KindPullRequest:
		return TypePrefix + string(KindPullRequest)
	case KindComment:
		return TypePrefix + string(KindComment)
	case KindIssue:
		return TypePrefix + string(KindIssue)
	case KindRelease:
		return TypePrefix + string(KindRelease)
	case KindPipeline:
		return TypePrefix + string(KindPipeline)
	case KindRegistry:
		return TypePrefix + string(KindRegistry)
	case KindPing:
		return TypePrefix + string(KindPing)
	case KindOther:
		return TypePrefix + string(KindOther)
	}
	return TypePrefix + string(k)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
