package dockerhub

import (
	"fmt"
	"strings"

	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
)

// ActionPushed is the action of every normalized Docker Hub delivery.
const ActionPushed = "pushed"

// Normalize maps a Docker Hub payload to the canonical fields. m is not
// read: every delivery is an image push. Normalize keeps no reference to
// payload.
//
// The fields (payload at https://docs.docker.com/docker-hub/repos/manage/webhooks/):
//
//   - kind "registry", action "pushed";
//   - repository.full_name is repository.repo_name ("namespace/name"). For
//     an official image Docker Hub sends the bare name ("busybox") with
//     namespace "library"; full_name is then "library/busybox", the name
//     Docker Hub's API and pulls use, so that one CEL expression matches
//     every repository. repository.name and .owner are name and namespace
//     (owner when namespace is empty), repository.url is repo_url;
//   - tag is push_data.tag, the image tag pushed. ref stays empty: ref is a
//     git ref everywhere in forgehook (a CEL test such as
//     ref.startsWith("refs/tags/") must never match an image), and an image
//     tag is not one. Older payloads name no tag (push_data.images instead);
//     tag is then empty;
//   - registry is the image (repo_name), tag and repository URL; Docker
//     Hub sends no digest;
//   - actor.login is push_data.pusher.
//
// The error, which wraps [forge.ErrBadPayload], is for a payload that is not a
// JSON object; a member of an unexpected type is ignored.
func (p *Provider) Normalize(m forge.Meta, payload []byte) (event.Fields, error) {
	var b body
	if err := forge.DecodeObject(payload, &b); err != nil {
		return event.Fields{}, fmt.Errorf("dockerhub: payload: %w: %v", forge.ErrBadPayload, err)
	}
	owner := b.Repository.Namespace
	if owner == "" {
		owner = b.Repository.Owner
	}
	full := b.Repository.RepoName
	if full != "" && !strings.Contains(full, "/") && owner != "" {
		full = owner + "/" + full
	}
	name := b.Repository.Name
	if name == "" && full != "" {
		name = full[strings.LastIndex(full, "/")+1:]
	}
	return event.Fields{
		Kind:   event.KindRegistry,
		Action: ActionPushed,
		Forge:  Name,
		Repository: event.Repository{
			FullName: full,
			Name:     name,
			Owner:    owner,
			URL:      b.Repository.RepoURL,
		},
		Tag:      b.PushData.Tag,
		Registry: event.Registry{Image: full, Tag: b.PushData.Tag, URL: b.Repository.RepoURL},
		Actor:    event.Person{Login: b.PushData.Pusher},
	}, nil
}

// body holds the parts of a Docker Hub payload that Normalize reads.
// pushed_at is not read: Docker Hub has sent it as an integer and as a
// float, and the event record has its own time.
type body struct {
	PushData struct {
		Pusher string `json:"pusher"`
		Tag    string `json:"tag"`
	} `json:"push_data"`
	Repository struct {
		RepoName  string `json:"repo_name"`
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
		Owner     string `json:"owner"`
		RepoURL   string `json:"repo_url"`
	} `json:"repository"`
}
