package atomgit

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

// Describe returns the declaration of the AtomGit provider that the
// registry, auto-detection, `forgehook send`, redaction and the tests read:
// detected by X-AtomGit-Event or GitCode's X-GitCode-Event, its delivery id
// under either name.
func Describe() forge.Descriptor {
	return forge.Descriptor{
		ID:                Name,
		Folder:            "atomgit",
		New:               New,
		Detect:            forge.Detection{Headers: []string{HeaderEvent, HeaderGitCodeEvent}},
		DeliveryHeaders:   []string{HeaderDelivery, HeaderGitCodeDelivery},
		CredentialHeaders: []string{HeaderToken, HeaderGitCodeToken, HeaderGitCodeSignature, HeaderSignature, HeaderAuthorization},
		Samples:           samples,
	}
}

// CredentialHeaders returns the descriptor's CredentialHeaders, for ingest
// to redact; it implements forge.HeaderNamer.
func (p *Provider) CredentialHeaders() []string { return Describe().CredentialHeaders }
