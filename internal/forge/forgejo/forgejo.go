// Package forgejo adapts the webhooks of Forgejo, a fork of Gitea that sends
// Gitea's payloads, signed the same way, under its own header names as well
// as Gitea's. The logic is package gitea's; this package only names the
// headers.
//
// Forgejo's documentation: https://forgejo.org/docs/latest/user/webhooks/.
// The headers are set by services/webhook/shared/payloader.go
// AddDefaultHeaders.
package forgejo

import (
	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/gitea"
)

// Name is the forge id of this provider.
const Name = "forgejo"

// The headers Forgejo adds to Gitea's set (which it also sends).
const (
	// HeaderEvent carries the coarse event name ("pull_request").
	HeaderEvent = "X-Forgejo-Event"
	// HeaderEventType carries the fine-grained event name
	// ("pull_request_sync").
	HeaderEventType = "X-Forgejo-Event-Type"
	// HeaderDelivery carries the hook task's UUID.
	HeaderDelivery = "X-Forgejo-Delivery"
	// HeaderSignature carries the bare hex HMAC-SHA256 of the JSON
	// payload, empty when the hook has no secret.
	HeaderSignature = "X-Forgejo-Signature"
)

// Family returns the description of Forgejo's headers: each X-Forgejo-*
// header first, then its X-Gitea-* copy, so a delivery from a Forgejo
// release that sent only Gitea's names is still read; X-Hub-Signature-256
// is the last signature fallback. Sign sets X-Forgejo-Signature,
// X-Gitea-Signature, X-Gogs-Signature and the X-Hub-Signature pair, as
// Forgejo does.
func Family() gitea.Family {
	return gitea.Family{
		Name:             Name,
		EventHeaders:     []string{HeaderEvent, gitea.HeaderEvent},
		EventTypeHeaders: []string{HeaderEventType, gitea.HeaderEventType},
		DeliveryHeaders:  []string{HeaderDelivery, gitea.HeaderDelivery},
		SignatureHeaders: []string{HeaderSignature, gitea.HeaderSignature},
		HubSignature:     true,
		SignHeaders:      []string{HeaderSignature, gitea.HeaderSignature, gitea.HeaderGogsSignature},
	}
}

// Provider is the Forgejo provider: package gitea's provider for Family.
// It is immutable and safe for concurrent use.
type Provider struct {
	*gitea.Provider
}

var (
	_ forge.Provider = (*Provider)(nil)
	_ forge.Signer   = (*Provider)(nil)
	_ forge.Redactor = (*Provider)(nil)
	_ forge.Factory  = New
)

// New returns the Forgejo provider for ep; it is a forge.Factory. Forgejo has
// no provider options, so ep (which may be nil) is not read and New never
// fails.
//
// Inspect, Verify, Sign, Redact and Normalize are gitea.Provider's, with
// Forgejo's headers: see package gitea. Forgejo's action_run_failure,
// action_run_recover and action_run_success events normalize to kind
// pipeline. Like Gitea, Forgejo's "Replay" sends a new delivery UUID, so a
// replayed delivery is stored again.
func New(ep *config.Endpoint) (forge.Provider, error) {
	return &Provider{Provider: gitea.NewProvider(Family())}, nil
}
