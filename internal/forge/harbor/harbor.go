// Package harbor adapts the webhooks of Harbor, the CNCF container registry
// (goharbor/harbor), to forgehook.
//
// A Harbor webhook policy posts JSON in one of two payload formats: the
// Default format ({"type":"PUSH_ARTIFACT","occur_at":...,"operator":...,
// "event_data":{...}}) and, since Harbor 2.8, CloudEvents 1.0 in structured
// mode (Content-Type application/cloudevents+json, "type":
// "harbor.artifact.pushed", a fresh UUID as "id"). Harbor sends no event
// header and, in the Default format, no delivery id; the provider reads both
// from the payload. The only credential is the policy's optional "auth
// header", sent verbatim as the Authorization header; there is no
// signature.
//
// Harbor's documentation and source:
//   - webhooks and payloads: https://goharbor.io/docs/main/working-with-projects/project-configuration/configure-webhooks/
//   - formats: https://github.com/goharbor/harbor/tree/main/src/pkg/notifier/formats
//   - delivery (headers, retries): https://github.com/goharbor/harbor/blob/main/src/jobservice/job/impl/notification/webhook_job.go
package harbor

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/verify"
)

// Name is the forge id of this provider.
const Name = "harbor"

// HeaderAuthorization carries the policy's auth header, verbatim.
const HeaderAuthorization = "Authorization"

// The CloudEvents binary-mode headers. Harbor posts structured mode; the
// provider also reads these so that a relay that converts to binary mode
// still reaches it.
const (
	HeaderCEType = "Ce-Type"
	HeaderCEID   = "Ce-Id"
)

// CloudEventsTypePrefix starts the type of every CloudEvent Harbor sends.
const CloudEventsTypePrefix = "harbor."

// Provider is the Harbor provider. It has no options; the zero value is
// ready to use, immutable and safe for concurrent use.
type Provider struct{}

var (
	_ forge.Provider      = (*Provider)(nil)
	_ forge.BodyInspector = (*Provider)(nil)
	_ forge.Signer        = (*Provider)(nil)
	_ forge.Factory       = New
)

// New returns the Harbor provider; it is a [forge.Factory]. ep may be nil. New
// never fails: Harbor has no options.
func New(ep *config.Endpoint) (forge.Provider, error) { return &Provider{}, nil }

// Name returns "harbor".
func (p *Provider) Name() string { return Name }

// Inspect reads a CloudEvent in binary mode from the headers: a Ce-Type
// that starts with "harbor." is the event, Ce-Id the delivery id and dedup
// key. Harbor itself puts the event in the body (both payload formats), so
// for its own deliveries Inspect fails with an error wrapping
// [forge.ErrNotRecognized] and ingest calls InspectBody instead.
func (p *Provider) Inspect(h http.Header) (forge.Meta, error) {
	ce := strings.TrimSpace(h.Get(HeaderCEType))
	if !strings.HasPrefix(ce, CloudEventsTypePrefix) {
		return forge.Meta{}, fmt.Errorf("harbor: no %s header of a Harbor CloudEvent, the payload identifies a delivery: %w", HeaderCEType, forge.ErrNotRecognized)
	}
	id := strings.TrimSpace(h.Get(HeaderCEID))
	return forge.Meta{Event: ce, Delivery: id, DedupKey: id}, nil
}

// InspectBody recognizes a Harbor delivery, in this order:
//
//  1. a CloudEvent in binary mode (see Inspect);
//  2. a CloudEvent in structured mode: a JSON object with a non-empty
//     specversion and a type that starts with "harbor.". The event is the
//     type ("harbor.artifact.pushed"); the delivery id and the dedup key
//     are the CloudEvent id. Harbor formats the payload, id included, once
//     and stores it with the delivery job, so its retries carry the same
//     id (src/pkg/notifier/handler/notification/http_handler.go);
//  3. the Default format: a JSON object with a non-empty string type and an
//     event_data object. The event is the type ("PUSH_ARTIFACT", or
//     "pushImage" before Harbor 2.0). Harbor sends no id: Delivery and
//     DedupKey are empty and ingest stores the delivery under a hash of its
//     payload, so Harbor's retries (3 by default) are stored once.
//
// Anything else fails with an error wrapping [forge.ErrNotRecognized].
// Harbor has no ping: the "Test Endpoint" button of Harbor 1.9 to 2.2
// posted an empty body without the auth header and took any HTTP answer as
// success, and Harbor 2.3 removed it; Ping is always false.
func (p *Provider) InspectBody(h http.Header, payload []byte) (forge.Meta, error) {
	if m, err := p.Inspect(h); err == nil {
		return m, nil
	}
	var b struct {
		SpecVersion string          `json:"specversion"`
		ID          string          `json:"id"`
		Type        string          `json:"type"`
		EventData   json.RawMessage `json:"event_data"`
	}
	if err := forge.DecodeObject(payload, &b); err != nil {
		return forge.Meta{}, fmt.Errorf("harbor: %w: %v", forge.ErrNotRecognized, err)
	}
	switch {
	case b.SpecVersion != "" && strings.HasPrefix(b.Type, CloudEventsTypePrefix):
		return forge.Meta{Event: b.Type, Delivery: b.ID, DedupKey: b.ID}, nil
	case b.SpecVersion == "" && b.Type != "" && forge.IsObject(b.EventData):
		return forge.Meta{Event: b.Type}, nil
	}
	return forge.Meta{}, fmt.Errorf("harbor: payload is neither a Harbor CloudEvent nor has type and event_data: %w", forge.ErrNotRecognized)
}

// Verify checks the Authorization header, which carries the webhook
// policy's auth header as it was entered in Harbor, against secrets; any of
// them may match (rotation), and every comparison is constant-time. The
// header matches a secret when
//
//   - the whole value equals it ("Bearer xyz" configured as the secret
//     "Bearer xyz", or a bare token);
//   - the value is "Bearer <token>" (scheme in any case) and the token
//     equals it;
//   - the value is HTTP Basic credentials and the decoded "user:password"
//     equals it.
//
// A missing or empty header fails with [verify.ErrMissingSignature] (Harbor
// sends none when the policy has no auth header), a value that matches no
// secret with [verify.ErrBadSignature]. The header authenticates the sender,
// not the body.
//
// See https://goharbor.io/docs/main/working-with-projects/project-configuration/configure-webhooks/.
func (p *Provider) Verify(req *forge.Request, secrets []config.Secret) error {
	if err := verify.Authorization(req.Header.Get(HeaderAuthorization), forge.Keys(secrets)); err != nil {
		return fmt.Errorf("harbor: verify %s: %w", HeaderAuthorization, err)
	}
	return nil
}

// Sign sets the Authorization header to secret, verbatim, as Harbor sends a
// policy's auth header. Harbor signs nothing, so payload and now are
// unused. A secret of the form "user:password" could equally be sent as
// Basic credentials; Sign sends the form Verify compares first.
func (p *Provider) Sign(h http.Header, payload []byte, secret string, now time.Time) {
	h.Set(HeaderAuthorization, secret)
}
