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
	Actor       Person      `json:"actor"`

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
// repository has no URL.
func (e *Event) Envelope() {
	f := &e.Data.Normalized
	e.SpecVersion = "1.0"
	e.DataContentType = "application/json"
	e.Type = typeOf(f.Kind)
	if f.Commits == nil {
		f.Commits = []Commit{}
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
