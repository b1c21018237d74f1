// Package gitea adapts the webhooks of Gitea, and holds the logic that Gitea
// shares with the forges of its payload family, Forgejo and Gogs: the
// providers in packages forgejo and gogs are this package's Provider with
// their own header names (a Family).
//
// Every member of the family sends the same JSON payloads (Gitea began as a
// fork of Gogs, Forgejo as a fork of Gitea), names the event in a header
// (X-Gitea-Event, plus the fine-grained X-Gitea-Event-Type on Gitea and
// Forgejo), identifies the delivery with a UUID header, and signs the JSON
// payload with a bare hex HMAC-SHA256 under the hook's secret, also in the
// form and GET modes, where the JSON travels in a payload= parameter.
//
// The forges' documentation:
//   - Gitea: https://docs.gitea.com/usage/webhooks
//   - Forgejo: https://forgejo.org/docs/latest/user/webhooks/
//   - Gogs: https://github.com/gogs/gogs/blob/main/docs/advancing/webhooks.mdx
package gitea

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge"
)

// Name is the forge id of the Gitea provider.
const Name = "gitea"

// Family describes one forge of the Gitea payload family: its id and the
// names of the headers it sends. Every list is in order of preference: the
// first header with a non-empty value wins. A Family is a plain value; the
// Provider built from it keeps its own copy.
type Family struct {
	// Name is the forge id ("gitea", "forgejo", "gogs"), returned by
	// Provider.Name and set as event.Fields.Forge.
	Name string
	// EventHeaders carry the coarse, GitHub-like event name ("issues").
	// A delivery without any of them is not this forge's.
	EventHeaders []string
	// EventTypeHeaders carry the fine-grained event name ("issue_label"),
	// used as the event when present.
	EventTypeHeaders []string
	// DeliveryHeaders carry the delivery UUID.
	DeliveryHeaders []string
	// SignatureHeaders carry the bare hex HMAC-SHA256 of the payload;
	// Verify checks the first one that is not empty.
	SignatureHeaders []string
	// HubSignature makes Verify fall back to X-Hub-Signature-256
	// ("sha256=" and the hex HMAC-SHA256) when no SignatureHeaders value is
	// set, and Sign set it and the legacy X-Hub-Signature (HMAC-SHA1), as
	// Gitea and Forgejo do.
	HubSignature bool
	// SignHeaders are the headers Sign sets to the bare hex HMAC-SHA256.
	SignHeaders []string
	// PreferUsername makes the normalized logins (actor, repository owner)
	// come from the users' "username" field before "login": Gogs' own name
	// for it. Both fields carry the same value wherever both are sent.
	PreferUsername bool
	// ForkeeIsTheFork says that a fork event's "forkee" is the new fork and
	// "repository" the one forked, as on GitHub: Gogs
	// (internal/db/repo.go ForkRepository). Gitea and Forgejo send them the
	// other way round.
	ForkeeIsTheFork bool
}

// The headers of Gitea's own ("gitea" type) hooks, set by
// services/webhook/deliver.go addDefaultHeaders
// (https://docs.gitea.com/usage/webhooks). Gitea also sends X-Gogs-* and
// X-GitHub-* copies of the event, event type and delivery headers.
const (
	// HeaderEvent carries the coarse event name ("pull_request").
	HeaderEvent = "X-Gitea-Event"
	// HeaderEventType carries the fine-grained event name
	// ("pull_request_sync").
	HeaderEventType = "X-Gitea-Event-Type"
	// HeaderDelivery carries the hook task's UUID.
	HeaderDelivery = "X-Gitea-Delivery"
	// HeaderSignature carries the bare lowercase hex HMAC-SHA256 of the
	// JSON payload; it is sent empty when the hook has no secret.
	HeaderSignature = "X-Gitea-Signature"
	// HeaderGogsSignature is the copy of HeaderSignature under Gogs' name.
	HeaderGogsSignature = "X-Gogs-Signature"
	// HeaderHubSignature256 carries "sha256=" and the same digest as
	// HeaderSignature, as GitHub names it.
	HeaderHubSignature256 = "X-Hub-Signature-256"
	// HeaderHubSignature carries "sha1=" and the hex HMAC-SHA1 of the
	// payload (GitHub's legacy header); forgehook never checks it.
	HeaderHubSignature = "X-Hub-Signature"
	// HeaderAuthorization carries the hook's optional authorization_header
	// value, sent as configured ("Bearer <token>").
	HeaderAuthorization = "Authorization"
)

const (
	hubPrefixSHA256 = "sha256="
	hubPrefixSHA1   = "sha1="
)

// Default returns the family description of Gitea's own hooks: the event
// from X-Gitea-Event-Type (else X-Gitea-Event), the delivery from
// X-Gitea-Delivery, the signature from X-Gitea-Signature with
// X-Hub-Signature-256 as a fallback.
func Default() Family {
	return Family{
		Name:             Name,
		EventHeaders:     []string{HeaderEvent},
		EventTypeHeaders: []string{HeaderEventType},
		DeliveryHeaders:  []string{HeaderDelivery},
		SignatureHeaders: []string{HeaderSignature},
		HubSignature:     true,
		SignHeaders:      []string{HeaderSignature, HeaderGogsSignature},
	}
}

// Provider is the provider of one forge of the Gitea family. It is immutable
// and safe for concurrent use.
type Provider struct {
	fam Family
}

var (
	_ forge.Provider = (*Provider)(nil)
	_ forge.Signer   = (*Provider)(nil)
	_ forge.Redactor = (*Provider)(nil)
	_ forge.Factory  = New
)

// NewProvider returns the provider of the forge that f describes. It copies
// f's lists, so later changes to f do not reach the provider.
func NewProvider(f Family) *Provider {
	return &Provider{fam: f.clone()}
}

// New returns the Gitea provider for ep; it is a forge.Factory. Gitea has
// no provider options, so ep (which may be nil) is not read and New never
// fails.
func New(ep *config.Endpoint) (forge.Provider, error) {
	return NewProvider(Default()), nil
}

// Name returns the forge id of the family ("gitea" for New's provider).
func (p *Provider) Name() string { return p.fam.Name }

// Family returns a copy of the family the provider was built from.
func (p *Provider) Family() Family { return p.fam.clone() }

// clone returns a copy of f that shares no slice with it.
func (f Family) clone() Family {
	f.EventHeaders = slices.Clone(f.EventHeaders)
	f.EventTypeHeaders = slices.Clone(f.EventTypeHeaders)
	f.DeliveryHeaders = slices.Clone(f.DeliveryHeaders)
	f.SignatureHeaders = slices.Clone(f.SignatureHeaders)
	f.SignHeaders = slices.Clone(f.SignHeaders)
	return f
}

// Inspect reads the event name and the delivery id from the headers.
//
// One of the family's event headers is required (for Gitea X-Gitea-Event);
// without it the error wraps forge.ErrNotRecognized. The event is the
// fine-grained X-Gitea-Event-Type when it is sent ("pull_request_sync",
// "issue_label"), else the coarse event header ("pull_request", "issues"):
// older Gitea releases and Gogs send only the coarse one.
//
// The delivery id is the UUID of the hook task, and it is also the dedup
// key: a task that Gitea re-queues after a restart is sent again with the
// same UUID and is stored once. A "Replay" from Gitea's or Forgejo's UI,
// however, creates a new task with a new UUID
// (models/webhook/hooktask.go ReplayHookTask), so a replayed delivery is
// stored again as a new event. Gogs' "Redelivery" keeps the UUID.
//
// No header marks a test delivery; Normalize recognizes it by its payload.
func (p *Provider) Inspect(h http.Header) (forge.Meta, error) {
	coarse := first(h, p.fam.EventHeaders)
	if coarse == "" {
		return forge.Meta{}, fmt.Errorf("%s: no %s header: %w", p.fam.Name, strings.Join(p.fam.EventHeaders, " or "), forge.ErrNotRecognized)
	}
	ev := first(h, p.fam.EventTypeHeaders)
	if ev == "" {
		ev = coarse
	}
	id := first(h, p.fam.DeliveryHeaders)
	return forge.Meta{Event: ev, Delivery: id, DedupKey: id}, nil
}

// first returns the first non-empty value among the headers names.
func first(h http.Header, names []string) string {
	for _, n := range names {
		if v := strings.TrimSpace(h.Get(n)); v != "" {
			return v
		}
	}
	return ""
}
