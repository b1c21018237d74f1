package coding

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

// Describe returns the declaration of the CODING provider that the registry,
// auto-detection, `forgehook send`, redaction and the tests read: detected
// by X-Coding-Service-Hook-Event or X-Coding-Event, form bodies signed as
// sent (as forgehook's verifier reads them first).
func Describe() forge.Descriptor {
	return forge.Descriptor{
		ID:                Name,
		Folder:            "coding",
		New:               New,
		Detect:            forge.Detection{Headers: []string{HeaderServiceHookEvent, HeaderEvent}},
		DeliveryHeaders:   []string{HeaderDelivery},
		CredentialHeaders: []string{HeaderSignature, HeaderAuthorization},
		Form:              forge.FormSignsBody,
		Samples:           samples,
	}
}

// CredentialHeaders returns the descriptor's CredentialHeaders, for ingest
// to redact; it implements forge.HeaderNamer.
func (p *Provider) CredentialHeaders() []string { return Describe().CredentialHeaders }
