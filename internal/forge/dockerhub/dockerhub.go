// Package dockerhub adapts Docker Hub's repository webhooks to forgehook.
//
// Docker Hub sends one kind of delivery: a JSON POST when an image is pushed
// to a repository (any tag). It sends no event header, no delivery id, no
// signature and no credential of any kind, so the provider recognizes a
// delivery by the shape of its payload (push_data and repository), and an
// endpoint is protected by what the hook URL carries: the endpoint's
// unguessable key in the path (handled by ingest) and, optionally, a token
// query parameter that Verify checks against the endpoint's secrets. An
// endpoint without secrets must be declared insecure: true; ingest then
// never calls Verify.
//
// Docker Hub's documentation:
//   - webhooks and the example payload: https://docs.docker.com/docker-hub/repos/manage/webhooks/
package dockerhub

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/verify"
)

// Name is the forge id of this provider.
const Name = "dockerhub"

// EventPush is the event name of every Docker Hub delivery: Docker Hub
// names no event, and an image push is the only one it sends.
const EventPush = "push"

// QueryToken is the URL query parameter that carries the endpoint's token,
// as in https://forgehook.example/hooks/<key>?token=<secret>. ⚠️ That Docker
// Hub posts to the hook URL as entered, query included, is assumed (it is
// how webhook senders treat a URL), not documented.
const QueryToken = "token"

// Provider is the Docker Hub provider. It has no options; the zero value is
// ready to use, immutable and safe for concurrent use.
type Provider struct{}

var (
	_ forge.Provider      = (*Provider)(nil)
	_ forge.BodyInspector = (*Provider)(nil)
	_ forge.Factory       = New
)

// New returns the Docker Hub provider; it is a [forge.Factory]. ep may be nil.
// New never fails: Docker Hub has no options.
func New(ep *config.Endpoint) (forge.Provider, error) { return &Provider{}, nil }

// Name returns "dockerhub".
func (p *Provider) Name() string { return Name }

// Inspect always fails with an error wrapping [forge.ErrNotRecognized]:
// Docker Hub sends no header that names the forge or the event. Ingest
// calls InspectBody instead (see [forge.InspectRequest]).
func (p *Provider) Inspect(h http.Header) (forge.Meta, error) {
	return forge.Meta{}, fmt.Errorf("dockerhub: no event header, the payload identifies a delivery: %w", forge.ErrNotRecognized)
}

// InspectBody recognizes a Docker Hub delivery by its payload: a JSON object
// whose push_data is an object and whose repository is an object with a
// non-empty repo_name. The legacy callback_url member, still sent but no
// longer honoured by Docker Hub, is not required. Anything else fails with
// an error wrapping [forge.ErrNotRecognized]; h is not read.
//
// The event is always "push". Docker Hub sends no delivery id, so Delivery
// and DedupKey are empty and ingest stores a delivery under a hash of its
// payload: a repeated delivery of the same push is stored once. Docker Hub
// has no ping.
func (p *Provider) InspectBody(h http.Header, payload []byte) (forge.Meta, error) {
	var b struct {
		PushData   json.RawMessage `json:"push_data"`
		Repository json.RawMessage `json:"repository"`
	}
	if err := forge.DecodeObject(payload, &b); err != nil {
		return forge.Meta{}, fmt.Errorf("dockerhub: %w: %v", forge.ErrNotRecognized, err)
	}
	var repo struct {
		RepoName string `json:"repo_name"`
	}
	if !forge.IsObject(b.PushData) || !forge.IsObject(b.Repository) || forge.DecodeObject(b.Repository, &repo) != nil || repo.RepoName == "" {
		return forge.Meta{}, fmt.Errorf("dockerhub: payload has no push_data and repository.repo_name: %w", forge.ErrNotRecognized)
	}
	return forge.Meta{Event: EventPush}, nil
}

// Verify checks the token query parameter of the hook URL against secrets in
// constant time; any of them may match (rotation). Docker Hub itself sends
// no credential: the token is only as secret as the URL the user entered in
// Docker Hub, and it authenticates neither the sender nor the body. A
// request without the parameter, or with an empty one, fails with
// [verify.ErrMissingSignature], a wrong token with [verify.ErrBadSignature].
//
// See https://docs.docker.com/docker-hub/repos/manage/webhooks/.
func (p *Provider) Verify(req *forge.Request, secrets []config.Secret) error {
	if err := verify.Token(req.Query.Get(QueryToken), forge.Keys(secrets)); err != nil {
		return fmt.Errorf("dockerhub: verify %s query parameter: %w", QueryToken, err)
	}
	return nil
}
