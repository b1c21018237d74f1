package gerrit

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

// Describe returns the declaration of the Gerrit provider that the registry,
// auto-detection, `forgehook send`, redaction and the tests read: recognized
// by its payload; the webhooks plugin sends no event or delivery id header.
func Describe() forge.Descriptor {
	return forge.Descriptor{
		ID:                Name,
		Folder:            "gerrit",
		New:               New,
		Detect:            forge.Detection{ByPayload: true},
		CredentialHeaders: []string{HeaderAuthorization},
		Samples:           samples,
	}
}

// CredentialHeaders returns the descriptor's CredentialHeaders, for ingest
// to redact; it implements forge.HeaderNamer.
func (p *Provider) CredentialHeaders() []string { return Describe().CredentialHeaders }
