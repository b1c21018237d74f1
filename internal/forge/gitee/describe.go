package gitee

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

// Describe returns the declaration of the Gitee provider that the registry,
// auto-detection, `forgehook send`, redaction and the tests read: detected
// by X-Gitee-Event or the legacy X-Git-Oschina-Event; Gitee documents no
// delivery id header.
func Describe() forge.Descriptor {
	return forge.Descriptor{
		ID:                Name,
		Folder:            "gitee",
		New:               New,
		Detect:            forge.Detection{Headers: []string{HeaderEvent, HeaderLegacyEvent}},
		CredentialHeaders: []string{HeaderToken},
		SignatureHeaders:  []string{HeaderTimestamp},
		Samples:           samples,
	}
}

// CredentialHeaders returns the descriptor's CredentialHeaders, for ingest
// to redact; it implements forge.HeaderNamer.
func (p *Provider) CredentialHeaders() []string { return Describe().CredentialHeaders }
