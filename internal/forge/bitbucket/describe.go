package bitbucket

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

// Describe returns the declaration of the Bitbucket Cloud provider that the
// registry, auto-detection, `forgehook send`, redaction and the tests read:
// detected by X-Event-Key with its hook or request UUID or attempt number,
// which Bitbucket Server does not send.
func Describe() forge.Descriptor {
	return forge.Descriptor{
		ID:     Name,
		Folder: "bitbucket",
		New:    New,
		Detect: forge.Detection{
			Headers:   []string{HeaderEventKey},
			AlsoOneOf: []string{HeaderHookUUID, HeaderRequestUUID, HeaderAttemptNumber},
		},
		DeliveryHeaders:   []string{HeaderRequestUUID},
		CredentialHeaders: []string{HeaderSignature},
		Samples:           samples,
	}
}

// CredentialHeaders returns the descriptor's CredentialHeaders, for ingest
// to redact; it implements forge.HeaderNamer.
func (p *Provider) CredentialHeaders() []string { return Describe().CredentialHeaders }
