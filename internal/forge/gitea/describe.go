package gitea

import (
	"embed"
	"slices"

	"github.com/forgehook/forgehook/internal/forge"
)

// samples holds samples/<kind>.txtar, the example deliveries of
// `forgehook send`: copies of fixtures without their credentials (see
// package sample). It is read-only.
//
//go:embed samples
var samples embed.FS

// Describe returns the declaration of the Gitea provider that the registry,
// auto-detection, `forgehook send`, redaction and the tests read: detected
// by X-Gitea-Event, its delivery id also sent as X-Gogs-Delivery and
// X-GitHub-Delivery, form bodies signed as the JSON payload.
func Describe() forge.Descriptor {
	return forge.Descriptor{
		ID:                Name,
		Folder:            "gitea",
		New:               New,
		Detect:            forge.Detection{Headers: []string{HeaderEvent}},
		DeliveryHeaders:   []string{HeaderDelivery, "X-Gogs-Delivery", "X-GitHub-Delivery"},
		CredentialHeaders: Default().CredentialHeaders(),
		Form:              forge.FormSignsPayload,
		Samples:           samples,
	}
}

// CredentialHeaders returns the headers that carry the credentials of the
// family's deliveries: its signature headers, the X-Hub-Signature pair when
// it sends them, and Authorization (a hook's authorization header).
func (f Family) CredentialHeaders() []string {
	var out []string
	add := func(names ...string) {
		for _, n := range names {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	add(f.SignatureHeaders...)
	add(f.SignHeaders...)
	if f.HubSignature {
		add(HeaderHubSignature256, HeaderHubSignature)
	}
	add(HeaderAuthorization)
	return out
}

// CredentialHeaders returns the credential headers of p's family (see
// Family.CredentialHeaders), for ingest to redact; it implements
// forge.HeaderNamer.
func (p *Provider) CredentialHeaders() []string { return p.fam.CredentialHeaders() }
