package gitlab

import (
	"embed"

	"github.com/forgehook/forgehook/internal/forge"
)

// samples holds samples/<kind>.txtar, the example deliveries of
// `forgehook send`: copies of fixtures without their credentials (see
// package sample). It is read-only.
//
//go:embed samples
var samples embed.FS

// Describe returns the declaration of the GitLab provider that the registry,
// auto-detection, `forgehook send`, redaction and the tests read: detected
// by X-Gitlab-Event, with one delivery id per request (X-Gitlab-Webhook-
// UUID) and one per event (Idempotency-Key, X-Gitlab-Event-UUID): a delivery
// sent by `forgehook send` is both a new request and a new event.
func Describe() forge.Descriptor {
	return forge.Descriptor{
		ID:                Name,
		Folder:            "gitlab",
		New:               New,
		Detect:            forge.Detection{Headers: []string{HeaderEvent}},
		DeliveryHeaders:   []string{HeaderWebhookUUID, HeaderIdempotencyKey, HeaderEventUUID},
		CredentialHeaders: []string{HeaderToken, HeaderWebhookSignature, HeaderAuthorization},
		SignatureHeaders:  []string{HeaderWebhookID, HeaderWebhookTimestamp},
		Samples:           samples,
	}
}

// CredentialHeaders returns the descriptor's CredentialHeaders, for ingest
// to redact; it implements forge.HeaderNamer.
func (p *Provider) CredentialHeaders() []string { return Describe().CredentialHeaders }
