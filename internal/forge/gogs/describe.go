package gogs

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

// Describe returns the declaration of the Gogs provider that the registry,
// auto-detection, `forgehook send`, redaction and the tests read: detected
// by X-Gogs-Event (after Gitea and Forgejo, which send it too), form bodies
// signed as the JSON payload.
func Describe() forge.Descriptor {
	return forge.Descriptor{
		ID:                Name,
		Folder:            "gogs",
		New:               New,
		Detect:            forge.Detection{Headers: []string{HeaderEvent}},
		DeliveryHeaders:   []string{HeaderDelivery},
		CredentialHeaders: Family().CredentialHeaders(),
		Form:              forge.FormSignsPayload,
		Samples:           samples,
	}
}
