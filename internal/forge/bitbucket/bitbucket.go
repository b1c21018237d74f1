// Package bitbucket adapts the webhooks of Bitbucket Cloud (bitbucket.org)
// to forgehook: it reads the event key and request UUID from the X-Event-Key
// and X-Request-UUID headers, checks the X-Hub-Signature HMAC-SHA256 over the
// raw body, and maps every Bitbucket Cloud event to the canonical fields.
//
// The package also holds what Bitbucket Cloud shares with Bitbucket Data
// Center ([github.com/forgehook/forgehook/internal/forge/bitbucketserver]): the X-Event-Key and X-Hub-Signature
// header names, the signature scheme ([CheckSignature], [Signature]), the
// lenient payload decoder ([Decode]) and the reading of an event key's verb
// ([KeyAction]).
//
// Atlassian's documentation:
//   - headers and payloads: https://support.atlassian.com/bitbucket-cloud/docs/event-payloads/
//   - secrets and signatures: https://bitbucket.org/blog/enhanced-webhook-security
//   - retries and limits: https://support.atlassian.com/bitbucket-cloud/docs/troubleshoot-webhooks/
package bitbucket

import (
	"fmt"
	"net/http"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge"
)

// Name is the forge id of this provider.
const Name = "bitbucket"

// The headers Bitbucket Cloud sends with every delivery
// (https://support.atlassian.com/bitbucket-cloud/docs/event-payloads/#HTTP-headers).
const (
	// HeaderRequestUUID is the UUID of the request: the delivery id.
	HeaderRequestUUID = "X-Request-UUID"
	// HeaderHookUUID is the UUID of the webhook that sent the request.
	HeaderHookUUID = "X-Hook-UUID"
	// HeaderAttemptNumber counts the attempts to deliver one event: 1, then
	// 2 and 3 for Bitbucket's retries after a failure, and more for the
	// "Resend request" button. forgehook keeps it in the stored headers.
	HeaderAttemptNumber = "X-Attempt-Number"
)

// Provider is the Bitbucket Cloud provider, a [forge.Provider] and a
// [forge.Signer]. It has no options; it is immutable and safe for concurrent
// use.
type Provider struct{}

var (
	_ forge.Provider = (*Provider)(nil)
	_ forge.Signer   = (*Provider)(nil)
	_ forge.Factory  = New
)

// New returns the Bitbucket Cloud provider; it is a [forge.Factory]. ep may be
// nil. New never fails: the provider has no options.
func New(ep *config.Endpoint) (forge.Provider, error) {
	return &Provider{}, nil
}

// Name returns "bitbucket".
func (p *Provider) Name() string { return Name }

// Inspect reads the event key from X-Event-Key ("repo:push") and the
// delivery id from X-Request-UUID, which is also the dedup key. The error
// wraps [forge.ErrNotRecognized] when X-Event-Key is missing, or when none of
// X-Hook-UUID, X-Request-UUID and X-Attempt-Number is sent: Bitbucket Data
// Center uses the same X-Event-Key header but sends X-Request-Id instead,
// and its deliveries belong to the bitbucket-server provider.
//
// Bitbucket Cloud retries a failed delivery twice, with X-Attempt-Number 2
// and 3 (https://support.atlassian.com/bitbucket-cloud/docs/troubleshoot-webhooks/).
// Whether X-Request-UUID stays the same across those retries is not
// documented; when it does, ingest stores a retried event once, and when it
// does not, a retry is stored as a new event. X-Attempt-Number stays in the
// stored headers either way. Bitbucket Cloud sends no ping: [forge.Meta].Ping
// is always false.
func (p *Provider) Inspect(h http.Header) (forge.Meta, error) {
	key := h.Get(HeaderEventKey)
	if key == "" {
		return forge.Meta{}, fmt.Errorf("bitbucket: no %s header: %w", HeaderEventKey, forge.ErrNotRecognized)
	}
	if h.Get(HeaderHookUUID) == "" && h.Get(HeaderRequestUUID) == "" && h.Get(HeaderAttemptNumber) == "" {
		return forge.Meta{}, fmt.Errorf("bitbucket: %s without %s, %s or %s (Bitbucket Data Center? use provider bitbucket-server): %w",
			HeaderEventKey, HeaderHookUUID, HeaderRequestUUID, HeaderAttemptNumber, forge.ErrNotRecognized)
	}
	id := h.Get(HeaderRequestUUID)
	return forge.Meta{Event: key, Delivery: id, DedupKey: id}, nil
}

// Verify checks the X-Hub-Signature header ("sha256=" and the hex
// HMAC-SHA256 of req.Body, the raw request body, under the hook's secret)
// with [CheckSignature]; any of secrets may match. Bitbucket Cloud signs only
// the deliveries of hooks that have a secret: a hook without one sends no
// signature, and its deliveries fail with [verify.ErrMissingSignature].
//
// The error wraps [verify.ErrMissingSignature], [verify.ErrBadSignature] or
// [verify.ErrNoSecret].
//
// See https://bitbucket.org/blog/enhanced-webhook-security.
func (p *Provider) Verify(req *forge.Request, secrets []config.Secret) error {
	if err := CheckSignature(req.Header.Get(HeaderSignature), req.Body, secrets); err != nil {
		return fmt.Errorf("bitbucket: verify %s: %w", HeaderSignature, err)
	}
	return nil
}

// Sign sets X-Hub-Signature on h to the signature of payload under secret,
// as Bitbucket Cloud signs a delivery (see [Signature]). The signature carries
// no timestamp, so now is unused, and Sign sets no delivery headers.
func (p *Provider) Sign(h http.Header, payload []byte, secret string, now time.Time) {
	h.Set(HeaderSignature, Signature(payload, secret))
}
