// Package gogs adapts the webhooks of Gogs, whose payloads Gitea and Forgejo
// inherited: the logic is package gitea's, and this package names Gogs'
// headers.
//
// Gogs' documentation:
// https://github.com/gogs/gogs/blob/main/docs/advancing/webhooks.mdx. The
// headers are set by internal/database/webhook.go (HookTask.deliver): Gogs
// sends X-Gogs-Event, X-Gogs-Delivery and X-Gogs-Signature, and copies the
// event and delivery under X-Github-Event and X-Github-Delivery.
//
// Gitea's and Forgejo's "gogs" hook type, and every Gitea hook, also send
// the X-Gogs-* headers (with X-Gogs-Event-Type, which Gogs itself does not
// send), so this provider reads those deliveries too.
package gogs

import (
	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/gitea"
)

// Name is the forge id of this provider.
const Name = "gogs"

// Gogs' headers.
const (
	// HeaderEvent carries the event name ("push").
	HeaderEvent = "X-Gogs-Event"
	// HeaderEventType carries the fine-grained event name. Gogs does not
	// send it; Gitea and Forgejo do, under this name too.
	HeaderEventType = "X-Gogs-Event-Type"
	// HeaderDelivery carries the hook task's UUID, which Gogs' "Redelivery"
	// keeps.
	HeaderDelivery = "X-Gogs-Delivery"
	// HeaderSignature carries the bare hex HMAC-SHA256 of the JSON
	// payload, computed when the task is created, also for form hooks.
	HeaderSignature = gitea.HeaderGogsSignature
)

// Family returns the description of Gogs' headers: X-Gogs-Event is
// required, the signature is read from X-Gogs-Signature only (Gogs sends no
// X-Hub-Signature), and logins come from the users' "username" field.
func Family() gitea.Family {
	return gitea.Family{
		Name:             Name,
		EventHeaders:     []string{HeaderEvent},
		EventTypeHeaders: []string{HeaderEventType},
		DeliveryHeaders:  []string{HeaderDelivery},
		SignatureHeaders: []string{HeaderSignature},
		SignHeaders:      []string{HeaderSignature},
		PreferUsername:   true,
		ForkeeIsTheFork:  true,
	}
}

// Provider is the Gogs provider: package gitea's provider for Family. It is
// immutable and safe for concurrent use.
type Provider struct {
	*gitea.Provider
}

var (
	_ forge.Provider = (*Provider)(nil)
	_ forge.Signer   = (*Provider)(nil)
	_ forge.Redactor = (*Provider)(nil)
	_ forge.Factory  = New
)

// New returns the Gogs provider for ep; it is a forge.Factory. Gogs has
// no provider options, so ep (which may be nil) is not read and New never
// fails.
//
// Inspect, Verify, Sign, Redact and Normalize are gitea.Provider's, with
// Gogs' headers: see package gitea. The delivery id is a dedup key that
// holds across Gogs' manual "Redelivery". A Gogs test delivery is a push
// of the latest commit with before == after; it is normalized as kind ping
// only for an empty repository, where Gogs sends the all-zero fake commit
// "This is a fake commit", and as a push otherwise, since nothing else marks
// it.
func New(ep *config.Endpoint) (forge.Provider, error) {
	return &Provider{Provider: gitea.NewProvider(Family())}, nil
}
