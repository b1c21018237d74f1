package gerrit

import "github.com/forgehook/forgehook/internal/forge"

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
	}
}

// CredentialHeaders returns the descriptor's CredentialHeaders, for ingest
// to redact; it implements forge.HeaderNamer.
func (p *Provider) CredentialHeaders() []string { return Describe().CredentialHeaders }
