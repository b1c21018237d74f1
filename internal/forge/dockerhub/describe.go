package dockerhub

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

// Describe returns the declaration of the Docker Hub provider that the
// registry, auto-detection, `forgehook send`, redaction and the tests read:
// recognized by its payload; Docker Hub signs nothing and sends no delivery
// id, and its endpoint takes the secret as ?token=.
func Describe() forge.Descriptor {
	return forge.Descriptor{
		ID:         Name,
		Folder:     "dockerhub",
		New:        New,
		Detect:     forge.Detection{ByPayload: true},
		QueryToken: QueryToken,
		Samples:    samples,
	}
}

// CredentialHeaders returns nil: Docker Hub sends no credential header (the
// token is in the URL). It implements forge.HeaderNamer.
func (p *Provider) CredentialHeaders() []string { return nil }
