package dockerhub

import "github.com/forgehook/forgehook/internal/forge"

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
	}
}

// CredentialHeaders returns nil: Docker Hub sends no credential header (the
// token is in the URL). It implements forge.HeaderNamer.
func (p *Provider) CredentialHeaders() []string { return nil }
