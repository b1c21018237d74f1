package forgejo

import (
	"embed"

	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/gitea"
	"github.com/forgehook/forgehook/internal/forge/gogs"
)

// samples holds samples/<kind>.txtar, the example deliveries of
// `forgehook send`: copies of fixtures without their credentials (see
// package sample). It is read-only.
//
//go:embed samples
var samples embed.FS

// Describe returns the declaration of the Forgejo provider that the
// registry, auto-detection, `forgehook send`, redaction and the tests read:
// detected by X-Forgejo-Event (before Gitea, whose headers it also sends),
// its delivery id also sent under Gitea's, Gogs' and GitHub's names, form
// bodies signed as the JSON payload.
func Describe() forge.Descriptor {
	return forge.Descriptor{
		ID:                Name,
		Folder:            "forgejo",
		New:               New,
		Detect:            forge.Detection{Headers: []string{HeaderEvent}},
		DeliveryHeaders:   []string{HeaderDelivery, gitea.HeaderDelivery, gogs.HeaderDelivery, "X-GitHub-Delivery"},
		CredentialHeaders: Family().CredentialHeaders(),
		Form:              forge.FormSignsPayload,
		Samples:           samples,
	}
}
