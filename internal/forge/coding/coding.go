// Package coding adapts the webhooks of coding.net (CODING DevOps, Tencent
// Cloud) to forgehook. One provider speaks all three generations of them:
//
//   - Service Hook, the current one: the event code in
//     X-Coding-Service-Hook-Event ("GIT_PUSHED", "GIT_MR_MERGED",
//     "CI_JOB_FINISHED", ...) and a payload with event, sender, project and
//     team members.
//   - WebHook "V2": the event name in X-Coding-Event ("push",
//     "merge request", "ping"), a GitHub-like payload, JSON or
//     application/x-www-form-urlencoded with the JSON in a payload= field.
//   - The legacy WebHook "V1": X-Coding-Event too, and the hook's token in
//     the body instead of a signature.
//
// Every delivery carries X-Coding-Delivery, its id. V2 and Service Hook sign
// the body with X-Coding-Signature: "sha1=" and the hex HMAC-SHA1 under the
// hook's token.
//
// CODING's documentation:
//   - WebHook V2: https://coding.net/help/docs/project-settings/open/webhook.html
//   - Service Hook: https://coding.net/help/docs/project-settings/service-hook/intro.html,
//     its events https://coding.net/help/docs/project-settings/service-hook/event.html
//     and its services https://coding.net/help/docs/project-settings/service-hook/service.html
//   - WebHook V1: https://open.coding.net/webhooks/
//
// What the documentation leaves open (the Service Hook's signature header,
// the bytes a form hook signs, some payload types) is listed in
// testdata/SOURCES.md, with the choices made here.
package coding

import (
	"fmt"
	"net/http"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/verify"
)

// Name is the forge id of this provider.
const Name = "coding"

// The headers CODING sends.
const (
	// HeaderEvent names a WebHook V1 or V2 event ("push", "merge request",
	// "ping").
	HeaderEvent = "X-Coding-Event"
	// HeaderServiceHookEvent names a Service Hook event by its code
	// ("GIT_PUSHED"). Service Hook deliveries are told from WebHook ones by
	// this header.
	HeaderServiceHookEvent = "X-Coding-Service-Hook-Event"
	// HeaderServiceHookID is the id of the Service Hook: the same on every
	// delivery of that hook, so not a delivery id.
	HeaderServiceHookID = "X-Coding-Service-Hook-Id"
	// HeaderServiceHookAction is the Service Hook's send action;
	// "webhook_http_post" for the Webhook service.
	HeaderServiceHookAction = "X-Coding-Service-Hook-Action"
	// HeaderDelivery is the delivery's unique id (a UUID).
	HeaderDelivery = "X-Coding-Delivery"
	// HeaderSignature carries "sha1=" and the hex HMAC-SHA1 of the body
	// under the hook's token, when the hook has one.
	HeaderSignature = "X-Coding-Signature"
	// HeaderWebHookVersion is "v2" on WebHook V2 deliveries.
	HeaderWebHookVersion = "X-Coding-WebHook-Version"
	// HeaderAuthorization carries the Basic credentials of a Service Hook
	// configured with a user name and password, or a header the hook's
	// owner added.
	HeaderAuthorization = "Authorization"
)

// prefixSHA1 precedes the hex digest in X-Coding-Signature.
const prefixSHA1 = "sha1="

// Provider is the coding.net provider. It has no options; it is immutable
// and safe for concurrent use.
type Provider struct{}

var (
	_ forge.Provider = (*Provider)(nil)
	_ forge.Signer   = (*Provider)(nil)
	_ forge.Redactor = (*Provider)(nil)
	_ forge.Factory  = New
)

// New returns the coding.net provider; it is a [forge.Factory]. ep may be nil;
// the provider reads no endpoint option, so New never fails.
func New(ep *config.Endpoint) (forge.Provider, error) {
	return &Provider{}, nil
}

// Name returns "coding".
func (p *Provider) Name() string { return Name }

// Inspect reads the event name from X-Coding-Service-Hook-Event, else from
// X-Coding-Event; without either the error wraps [forge.ErrNotRecognized].
// The name is kept as sent ("GIT_PUSHED", "merge request").
//
// X-Coding-Delivery is the delivery id and the dedup key (DESIGN.md section
// 1; whether CODING keeps it on a redelivery is not documented). A Service
// Hook delivery without it gets no dedup key, so that ingest hashes the
// body: X-Coding-Service-Hook-Id names the hook, not the delivery.
//
// The WebHook "ping" event, sent when a hook is created, edited or tested
// (https://open.coding.net/webhooks/), is reported as a ping ([forge.Meta].Ping).
func (p *Provider) Inspect(h http.Header) (forge.Meta, error) {
	ev := h.Get(HeaderServiceHookEvent)
	if ev == "" {
		ev = h.Get(HeaderEvent)
	}
	if ev == "" {
		return forge.Meta{}, fmt.Errorf("coding: no %s or %s header: %w", HeaderServiceHookEvent, HeaderEvent, forge.ErrNotRecognized)
	}
	id := h.Get(HeaderDelivery)
	return forge.Meta{
		Event:    ev,
		Delivery: id,
		DedupKey: id,
		Ping:     ev == "ping",
	}, nil
}

// Sign sets X-Coding-Signature on h for payload under secret, as CODING
// signs an application/json delivery: "sha1=" and the lowercase hex
// HMAC-SHA1 of payload. To sign a form-encoded delivery as its raw body,
// pass the url-encoded form. The signature carries no timestamp, so now is
// unused; Sign sets no delivery headers.
//
// See https://coding.net/help/docs/project-settings/open/webhook.html.
func (p *Provider) Sign(h http.Header, payload []byte, secret string, now time.Time) {
	h.Set(HeaderSignature, verify.Sign(verify.SHA1, verify.Hex, prefixSHA1, []byte(secret), payload))
}
