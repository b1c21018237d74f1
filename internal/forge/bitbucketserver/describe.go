package bitbucketserver

import (
	"embed"

	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/bitbucket"
)

// samples holds samples/<kind>.txtar, the example deliveries of
// `forgehook send`: copies of fixtures without their credentials (see
// package sample). It is read-only.
//
//go:embed samples
var samples embed.FS

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
		Samples:           samples,
	}
}

// CredentialHeaders returns the descriptor's CredentialHeaders, for ingest
// to redact; it implements forge.HeaderNamer.
func (p *Provider) CredentialHeaders() []string { return Describe().CredentialHeaders }
