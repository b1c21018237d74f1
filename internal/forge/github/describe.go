package github

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

// Describe returns the declaration of the GitHub provider that the registry,
// auto-detection, `forgehook send`, redaction and the tests read: detected
// by X-GitHub-Event (after the Gitea family, which sends it too), its
// delivery id in X-GitHub-Delivery, form bodies signed as sent.
func Describe() forge.Descriptor {
	return forge.Descriptor{
		ID:                Name,
		Folder:            "github",
		New:               New,
		Detect:            forge.Detection{Headers: []string{HeaderEvent}},
		DeliveryHeaders:   []string{HeaderDelivery},
		CredentialHeaders: []string{HeaderSignature256, HeaderSignature},
		Form:              forge.FormSignsBody,
		Samples:           samples,
	}
}

// CredentialHeaders returns the descriptor's CredentialHeaders, for ingest
// to redact; it implements forge.HeaderNamer.
func (p *Provider) CredentialHeaders() []string { return Describe().CredentialHeaders }
