// Package azuredevops adapts the service hooks of Azure DevOps (Services and
// Server, formerly VSTS and TFS) to forgehook: the "Web Hooks" consumer,
// which posts each event as JSON.
//
// Azure DevOps names the event in the payload (eventType, with the
// publisherId of the service that raised it) and sends no event header. Its
// only credentials are those the subscription is configured with: HTTP
// Basic authentication (basicAuthUsername and basicAuthPassword) and
// arbitrary HTTP headers; there is no signature. The provider checks the
// Authorization header.
//
// Azure DevOps' documentation:
//   - events and sample payloads: https://learn.microsoft.com/azure/devops/service-hooks/events
//   - the Web Hooks consumer: https://learn.microsoft.com/azure/devops/service-hooks/services/webhooks
//   - retries and probation: https://learn.microsoft.com/azure/devops/service-hooks/troubleshoot
package azuredevops

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/verify"
)

// Name is the forge id of this provider.
const Name = "azure-devops"

// HeaderAuthorization carries the subscription's Basic credentials, or a
// value configured among its HTTP headers.
const HeaderAuthorization = "Authorization"

// The resource container ids of the sample payloads that Azure DevOps
// documents for every event, which the subscription dialog's "Test" button
// sends: no organization has them.
const (
	sampleCollectionID = "c12d0eb8-e382-443b-9f9c-c52cba5014c2"
	sampleAccountID    = "f844ec47-a9db-4511-8281-8b63f4eaf94e"
)

// Provider is the Azure DevOps provider. It has no options; the zero value
// is ready to use, immutable and safe for concurrent use.
type Provider struct{}

var (
	_ forge.Provider      = (*Provider)(nil)
	_ forge.BodyInspector = (*Provider)(nil)
	_ forge.Signer        = (*Provider)(nil)
	_ forge.Factory       = New
)

// New returns the Azure DevOps provider; it is a [forge.Factory]. ep may be
// nil. New never fails: Azure DevOps has no options.
func New(ep *config.Endpoint) (forge.Provider, error) { return &Provider{}, nil }

// Name returns "azure-devops".
func (p *Provider) Name() string { return Name }

// Inspect always fails with an error wrapping [forge.ErrNotRecognized]:
// Azure DevOps sends no header that names the event. Ingest calls
// InspectBody instead (see [forge.InspectRequest]).
func (p *Provider) Inspect(h http.Header) (forge.Meta, error) {
	return forge.Meta{}, fmt.Errorf("azure-devops: no event header, the payload identifies a delivery: %w", forge.ErrNotRecognized)
}

// InspectBody recognizes an Azure DevOps delivery by its payload: a JSON
// object with a non-empty string eventType ("git.push") and publisherId
// ("tfs", "rm", "pipelines"). Anything else fails with an error wrapping
// [forge.ErrNotRecognized]; h is not read.
//
// The event is eventType. The delivery id and the dedup key are the
// payload's id, the id of the event: one event notified to the endpoint
// twice (a retry, or two subscriptions) is stored once. ⚠️ That Azure
// DevOps keeps the id, and notificationId (the delivery's number within
// the subscription, kept in the stored body), across its retries is not
// documented. A payload without an id gets an empty dedup key: ingest then
// stores it under a hash of the payload.
//
// Ping reports the subscription dialog's "Test" delivery: Azure DevOps has
// no ping event, and its test sends the documented sample payload of the
// event, whose resource containers carry the sample ids that no
// organization has. ⚠️ This is read from the samples (and a delivery of one
// to a real subscription), not documented.
func (p *Provider) InspectBody(h http.Header, payload []byte) (forge.Meta, error) {
	var b struct {
		ID                 string `json:"id"`
		EventType          string `json:"eventType"`
		PublisherID        string `json:"publisherId"`
		ResourceContainers struct {
			Collection struct {
				ID string `json:"id"`
			} `json:"collection"`
			Account struct {
				ID string `json:"id"`
			} `json:"account"`
		} `json:"resourceContainers"`
	}
	if err := forge.DecodeObject(payload, &b); err != nil {
		return forge.Meta{}, fmt.Errorf("azure-devops: %w: %v", forge.ErrNotRecognized, err)
	}
	if b.EventType == "" || b.PublisherID == "" {
		return forge.Meta{}, fmt.Errorf("azure-devops: payload has no eventType and publisherId: %w", forge.ErrNotRecognized)
	}
	rc := b.ResourceContainers
	return forge.Meta{
		Event:    b.EventType,
		Delivery: b.ID,
		DedupKey: b.ID,
		Ping:     rc.Collection.ID == sampleCollectionID || rc.Account.ID == sampleAccountID,
	}, nil
}

// Verify checks the Authorization header against secrets; any of them may
// match (rotation), and every comparison is constant-time. The header
// matches a secret when
//
//   - it carries HTTP Basic credentials, the subscription's
//     basicAuthUsername and basicAuthPassword, and the decoded
//     "user:password" equals the secret;
//   - the whole value equals the secret (an Authorization header set among
//     the subscription's HTTP headers);
//   - the value is "Bearer <token>" and the token equals the secret.
//
// A missing or empty header fails with [verify.ErrMissingSignature], a value
// that matches no secret with [verify.ErrBadSignature]. Azure DevOps signs
// nothing: the credentials authenticate the sender, not the body, and the
// service warns to use them over HTTPS only.
//
// See https://learn.microsoft.com/azure/devops/service-hooks/services/webhooks.
func (p *Provider) Verify(req *forge.Request, secrets []config.Secret) error {
	if err := verify.Authorization(req.Header.Get(HeaderAuthorization), forge.Keys(secrets)); err != nil {
		return fmt.Errorf("azure-devops: verify %s: %w", HeaderAuthorization, err)
	}
	return nil
}

// Sign sets the Authorization header Azure DevOps sends for secret: HTTP
// Basic credentials when the secret has the form "user:password" (the
// subscription's basicAuthUsername and basicAuthPassword), else the secret
// itself, as an Authorization header among the subscription's HTTP headers
// would carry it. Azure DevOps signs nothing, so payload and now are unused.
func (p *Provider) Sign(h http.Header, payload []byte, secret string, now time.Time) {
	if strings.Contains(secret, ":") {
		h.Set(HeaderAuthorization, "Basic "+base64.StdEncoding.EncodeToString([]byte(secret)))
		return
	}
	h.Set(HeaderAuthorization, secret)
}
