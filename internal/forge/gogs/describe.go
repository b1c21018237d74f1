package gogs

import "github.com/forgehook/forgehook/internal/forge"

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
	}
}
