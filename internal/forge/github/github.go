// Package github adapts GitHub's webhooks (github.com, GitHub Enterprise
// Cloud and GitHub Enterprise Server) to forgehook: it reads the event name
// and delivery id from the X-GitHub-* headers, checks the X-Hub-Signature-256
// HMAC over the raw body, and maps every GitHub event to the canonical
// fields.
//
// GitHub's documentation:
//   - headers and payloads: https://docs.github.com/en/webhooks/webhook-events-and-payloads
//   - signatures: https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
//   - redelivery: https://docs.github.com/en/webhooks/using-webhooks/best-practices-for-using-webhooks
package github

import (
	"fmt"
	"net/http"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/verify"
)

// Name is the forge id of this provider.
const Name = "github"

// The headers GitHub sends with every delivery
// (https://docs.github.com/en/webhooks/webhook-events-and-payloads#delivery-headers).
const (
	// HeaderEvent names the event that triggered the delivery ("push").
	HeaderEvent = "X-GitHub-Event"
	// HeaderDelivery is the delivery's GUID. A redelivery keeps it.
	HeaderDelivery = "X-GitHub-Delivery"
	// HeaderSignature256 carries "sha256=" and the lowercase hex
	// HMAC-SHA256 of the raw body under the hook's secret.
	HeaderSignature256 = "X-Hub-Signature-256"
	// HeaderSignature carries "sha1=" and the hex HMAC-SHA1 of the raw
	// body: GitHub's legacy signature, still sent for compatibility.
	HeaderSignature = "X-Hub-Signature"
)

const (
	prefixSHA256 = "sha256="
	prefixSHA1   = "sha1="
)

// Provider is the GitHub provider. Its zero value accepts only
// X-Hub-Signature-256; it is immutable and safe for concurrent use.
type Provider struct {
	// legacySHA1 accepts X-Hub-Signature (HMAC-SHA1) when a delivery
	// carries no X-Hub-Signature-256 header.
	legacySHA1 bool
}

var (
	_ forge.Provider = (*Provider)(nil)
	_ forge.Signer   = (*Provider)(nil)
	_ forge.Factory  = New
)

// New returns the GitHub provider for ep; it is a forge.Factory. A nil ep
// gives the defaults. With ep.LegacySHA1 the provider also accepts the
// legacy X-Hub-Signature (sha1=) header, but only on deliveries that carry
// no X-Hub-Signature-256. New never fails: GitHub has no other options.
func New(ep *config.Endpoint) (forge.Provider, error) {
	p := &Provider{}
	if ep != nil {
		p.legacySHA1 = ep.LegacySHA1
	}
	return p, nil
}

// Name returns "github".
func (p *Provider) Name() string { return Name }

// Inspect reads the event name from X-GitHub-Event (required: without it the
// error wraps forge.ErrNotRecognized) and the delivery GUID from
// X-GitHub-Delivery. The GUID is also the dedup key, because GitHub keeps it
// on a redelivery
// (https://docs.github.com/en/webhooks/using-webhooks/best-practices-for-using-webhooks).
// The "ping" event, sent when a hook is created, is reported as a ping.
func (p *Provider) Inspect(h http.Header) (forge.Meta, error) {
	ev := h.Get(HeaderEvent)
	if ev == "" {
		return forge.Meta{}, fmt.Errorf("github: no %s header: %w", HeaderEvent, forge.ErrNotRecognized)
	}
	id := h.Get(HeaderDelivery)
	return forge.Meta{
		Event:    ev,
		Delivery: id,
		DedupKey: id,
		Ping:     ev == "ping",
	}, nil
}

// Verify checks the X-Hub-Signature-256 header ("sha256=" and the hex
// HMAC-SHA256 under the hook's secret) over req.Body, the raw request body:
// GitHub signs the bytes it sends, the JSON document for an application/json
// hook and the url-encoded "payload=..." form for an
// application/x-www-form-urlencoded one. Any of secrets may match.
//
// When the endpoint allows it (config.Endpoint.LegacySHA1) and the request
// has no X-Hub-Signature-256 header at all, the legacy X-Hub-Signature
// ("sha1=", HMAC-SHA1) is checked instead.
//
// The error wraps verify.ErrMissingSignature, verify.ErrBadSignature or
// verify.ErrNoSecret.
//
// See https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries.
func (p *Provider) Verify(req *forge.Request, secrets []config.Secret) error {
	if p.legacySHA1 && len(req.Header.Values(HeaderSignature256)) == 0 && len(req.Header.Values(HeaderSignature)) > 0 {
		err := verify.HMAC(verify.SHA1, verify.Hex, prefixSHA1, req.Header.Get(HeaderSignature), req.Body, forge.Keys(secrets))
		if err != nil {
			return fmt.Errorf("github: verify %s (legacy sha1): %w", HeaderSignature, err)
		}
		return nil
	}
	err := verify.HMAC(verify.SHA256, verify.Hex, prefixSHA256, req.Header.Get(HeaderSignature256), req.Body, forge.Keys(secrets))
	if err != nil {
		return fmt.Errorf("github: verify %s: %w", HeaderSignature256, err)
	}
	return nil
}

// Sign sets X-Hub-Signature-256 and the legacy X-Hub-Signature on h for
// payload under secret, as GitHub signs an application/json delivery: the
// signed bytes are payload itself. (For a form-encoded delivery GitHub signs
// the url-encoded form body; pass that body to sign one.) GitHub's signatures
// carry no timestamp, so now is unused. Sign sets no delivery headers.
//
// See https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries.
func (p *Provider) Sign(h http.Header, payload []byte, secret string, now time.Time) {
	key := []byte(secret)
	h.Set(HeaderSignature256, verify.Sign(verify.SHA256, verify.Hex, prefixSHA256, key, payload))
	h.Set(HeaderSignature, verify.Sign(verify.SHA1, verify.Hex, prefixSHA1, key, payload))
}
