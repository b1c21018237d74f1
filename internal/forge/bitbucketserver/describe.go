package bitbucketserver

import (
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/bitbucket"
)

// Describe returns the declaration of the Bitbucket Server / Data Center
// provider that the registry, auto-detection, `forgehook send`, redaction
// and the tests read: detected by X-Event-Key (after Bitbucket Cloud, which
// sends it too), its delivery id in X-Request-Id.
func Describe() forge.Descriptor {
	return forge.Descriptor{
		ID:                Name,
		Folder:            "bitbucketserver",
		New:               New,
		Detect:            forge.Detection{Headers: []string{bitbucket.HeaderEventKey}},
		DeliveryHeaders:   []string{HeaderRequestID},
		CredentialHeaders: []string{bitbucket.HeaderSignature, HeaderAuthorization},
	}
}

// CredentialHeaders returns the descriptor's CredentialHeaders, for ingest
// to redact; it implements forge.HeaderNamer.
func (p *Provider) CredentialHeaders() []string { return Describe().CredentialHeaders }
