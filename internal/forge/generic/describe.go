package generic

import "github.com/forgehook/forgehook/internal/forge"

// Describe returns the declaration of the generic provider that the
// registry and the tests read. It is not a forge: auto-detection does not
// pick it and `forgehook send` does not send as it, and its credential
// headers are each endpoint's configured ones (Provider.CredentialHeaders).
func Describe() forge.Descriptor {
	return forge.Descriptor{ID: Name, Folder: "generic", New: New}
}
