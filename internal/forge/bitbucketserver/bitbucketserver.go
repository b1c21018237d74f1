// Package bitbucketserver adapts the webhooks of Bitbucket Data Center
// (formerly Bitbucket Server, self-hosted) to forgehook: it reads the event
// key and request id from the X-Event-Key and X-Request-Id headers, checks
// the X-Hub-Signature HMAC-SHA256 over the raw body (or, for a hook without
// a secret, its HTTP Basic credentials), answers the "Test connection"
// ping, and maps every Data Center event to the canonical fields. Its forge
// id is "bitbucket-server".
//
// The signature scheme and the X-Event-Key header are Bitbucket Cloud's
// too; they live in package [bitbucket].
//
// Atlassian's documentation:
//   - headers and payloads: https://confluence.atlassian.com/bitbucketserver/event-payload-938025882.html
//   - secrets, the circuit breaker (no retries): https://confluence.atlassian.com/bitbucketserver/manage-webhooks-938025878.html
package bitbucketserver

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/bitbucket"
	"github.com/forgehook/forgehook/internal/verify"
)

// Name is the forge id of this provider.
const Name = "bitbucket-server"

// The headers Bitbucket Data Center sends besides [bitbucket.HeaderEventKey]
// and [bitbucket.HeaderSignature]
// (https://confluence.atlassian.com/bitbucketserver/event-payload-938025882.html#Eventpayload-HTTPheaders).
const (
	// HeaderRequestID is "a unique UUID for each webhook request".
	HeaderRequestID = "X-Request-Id"
	// HeaderAuthorization carries HTTP Basic credentials when the hook's
	// "Authentication" option is set.
	HeaderAuthorization = "Authorization"
)

// EventPing is the event key of the hook's "Test connection" button.
const EventPing = "diagnostics:ping"

// Provider is the Bitbucket Data Center provider, a [forge.Provider] and a
// [forge.Signer]. It has no options; it is immutable and safe for concurrent
// use.
type Provider struct{}

var (
	_ forge.Provider = (*Provider)(nil)
	_ forge.Signer   = (*Provider)(nil)
	_ forge.Factory  = New
)

// New returns the Bitbucket Data Center provider; it is a [forge.Factory]. ep
// may be nil. New never fails: the provider has no options.
func New(ep *config.Endpoint) (forge.Provider, error) {
	return &Provider{}, nil
}

// Name returns "bitbucket-server".
func (p *Provider) Name() string { return Name }

// Inspect reads the event key from X-Event-Key ("repo:refs_changed") and the
// delivery id from X-Request-Id, which is also the dedup key. Data Center
// makes a new id for every request and never retries on its own (a failing
// hook is skipped by its circuit breaker instead), so the key only folds a
// request that reaches ingest twice; a delivery resent by hand from the
// hook's request history is a new request and is stored again. Without
// X-Request-Id (the documentation says the headers "may" be sent) the dedup
// key is empty and ingest hashes the payload. [EventPing], sent by the "Test
// connection" button, is a ping ([forge.Meta].Ping).
//
// The error wraps [forge.ErrNotRecognized] when X-Event-Key is missing, or
// when the delivery has no X-Request-Id but carries one of Bitbucket
// Cloud's X-Hook-UUID, X-Request-UUID or X-Attempt-Number: such a delivery
// belongs to the bitbucket provider.
func (p *Provider) Inspect(h http.Header) (forge.Meta, error) {
	key := h.Get(bitbucket.HeaderEventKey)
	if key == "" {
		return forge.Meta{}, fmt.Errorf("bitbucket-server: no %s header: %w", bitbucket.HeaderEventKey, forge.ErrNotRecognized)
	}
	id := h.Get(HeaderRequestID)
	if id == "" && (h.Get(bitbucket.HeaderHookUUID) != "" || h.Get(bitbucket.HeaderRequestUUID) != "" || h.Get(bitbucket.HeaderAttemptNumber) != "") {
		return forge.Meta{}, fmt.Errorf("bitbucket-server: %s with Bitbucket Cloud's headers and no %s (use provider bitbucket): %w",
			bitbucket.HeaderEventKey, HeaderRequestID, forge.ErrNotRecognized)
	}
	return forge.Meta{Event: key, Delivery: id, DedupKey: id, Ping: key == EventPing}, nil
}

// Verify authenticates req with any of secrets, as the hook is configured:
//
//   - With a secret, Data Center sends X-Hub-Signature: "sha256=" and the
//     hex HMAC-SHA256 of req.Body, the raw body, checked with
//     [bitbucket.CheckSignature]. When the header is present it decides,
//     whatever else the request carries.
//   - Without a signature (the header absent, empty, or the bare prefix), an
//     Authorization header with HTTP Basic credentials, which newer Data
//     Center releases send when the hook's "Authentication" option is set,
//     is checked with [verify.BasicAuth]: list the credentials as a secret
//     written "user:password". Another scheme counts as no credentials.
//     Basic credentials do not cover the body.
//
// Without either the error wraps [verify.ErrMissingSignature]. Errors wrap
// [verify.ErrMissingSignature], [verify.ErrBadSignature] or [verify.ErrNoSecret].
//
// See https://confluence.atlassian.com/bitbucketserver/manage-webhooks-938025878.html
// ("Webhook secrets") and the Authorization header in
// https://confluence.atlassian.com/bitbucketserver/event-payload-938025882.html.
func (p *Provider) Verify(req *forge.Request, secrets []config.Secret) error {
	if sig := strings.TrimSpace(req.Header.Get(bitbucket.HeaderSignature)); sig != "" && !strings.EqualFold(sig, bitbucket.SignaturePrefix) {
		if err := bitbucket.CheckSignature(sig, req.Body, secrets); err != nil {
			return fmt.Errorf("bitbucket-server: verify %s: %w", bitbucket.HeaderSignature, err)
		}
		return nil
	}
	if auth := req.Header.Get(HeaderAuthorization); auth != "" {
		if err := verify.BasicAuth(auth, forge.Keys(secrets)); err != nil {
			return fmt.Errorf("bitbucket-server: verify %s (basic): %w", HeaderAuthorization, err)
		}
		return nil
	}
	return fmt.Errorf("bitbucket-server: no %s or %s header: %w", bitbucket.HeaderSignature, HeaderAuthorization, verify.ErrMissingSignature)
}

// Sign sets X-Hub-Signature on h to the signature of payload under secret,
// as Data Center signs a delivery of a hook with a secret (see
// [bitbucket.Signature]). The signature carries no timestamp, so now is
// unused, and Sign sets no delivery headers.
func (p *Provider) Sign(h http.Header, payload []byte, secret string, now time.Time) {
	h.Set(bitbucket.HeaderSignature, bitbucket.Signature(payload, secret))
}
