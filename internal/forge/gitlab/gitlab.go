// Package gitlab adapts GitLab's webhooks (GitLab.com, GitLab Dedicated and
// self-managed GitLab; project, group and system hooks) to forgehook: it
// reads the event name and the delivery ids from the X-Gitlab-* and
// Idempotency-Key headers, authenticates a delivery by its secret token, its
// Standard Webhooks signature (GitLab 19.0 signing tokens) or HTTP Basic
// credentials, and maps every documented GitLab event to the canonical
// fields.
//
// GitLab's documentation:
//   - webhooks, delivery headers, secret and signing tokens:
//     https://docs.gitlab.com/user/project/integrations/webhooks/
//   - events and payloads: https://docs.gitlab.com/user/project/integrations/webhook_events/
//   - system hooks: https://docs.gitlab.com/administration/system_hooks/
package gitlab

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/verify"
)

// Name is the forge id of this provider.
const Name = "gitlab"

// The headers GitLab sends with a delivery
// (https://docs.gitlab.com/user/project/integrations/webhooks/#delivery-headers).
const (
	// HeaderEvent names the hook that fired ("Push Hook", "System Hook").
	HeaderEvent = "X-Gitlab-Event"
	// HeaderWebhookUUID is a random UUID per HTTP request (GitLab 16.2+):
	// a resend of the same event gets a new one.
	HeaderWebhookUUID = "X-Gitlab-Webhook-UUID"
	// HeaderEventUUID is shared by every hook that one originating event
	// triggers (GitLab's recursion detection).
	HeaderEventUUID = "X-Gitlab-Event-UUID"
	// HeaderInstance is the base URL of the sending GitLab instance.
	HeaderInstance = "X-Gitlab-Instance"
	// HeaderIdempotencyKey is unique per event and the same across
	// retries and manual resends (GitLab 17.4+): the dedup key.
	HeaderIdempotencyKey = "Idempotency-Key"
	// HeaderToken carries the hook's secret token verbatim.
	HeaderToken = "X-Gitlab-Token"
	// HeaderAuthorization carries HTTP Basic credentials when the hook
	// URL has userinfo (https://user:pass@host/...).
	HeaderAuthorization = "Authorization"
	// HeaderWebhookID, HeaderWebhookTimestamp and HeaderWebhookSignature
	// are the Standard Webhooks headers GitLab sends when the hook has a
	// signing token (GitLab 19.0+). webhook-id equals Idempotency-Key.
	HeaderWebhookID        = "Webhook-Id"
	HeaderWebhookTimestamp = "Webhook-Timestamp"
	HeaderWebhookSignature = "Webhook-Signature"
)

// signingTokenPrefix marks a GitLab signing token ("whsec_" and the base64
// of 32 random bytes), as opposed to a plain secret token.
const signingTokenPrefix = "whsec_"

// Provider is the GitLab provider. It is immutable and safe for concurrent
// use; the zero value uses the Standard Webhooks default tolerance.
type Provider struct {
	// tolerance is the accepted distance between webhook-timestamp and
	// the time a signed delivery was received.
	tolerance time.Duration
}

var (
	_ forge.Provider = (*Provider)(nil)
	_ forge.Signer   = (*Provider)(nil)
	_ forge.Factory  = New
)

// New returns the GitLab provider for ep; it is a forge.Factory. A nil ep
// gives the defaults. ep.Tolerance bounds the clock skew accepted on
// Standard Webhooks signatures (default 5m, the specification's
// recommendation). New never fails: GitLab has no other options.
func New(ep *config.Endpoint) (forge.Provider, error) {
	p := &Provider{tolerance: verify.StandardWebhooksTolerance}
	if ep != nil && ep.Tolerance.D() > 0 {
		p.tolerance = ep.Tolerance.D()
	}
	return p, nil
}

// Name returns "gitlab".
func (p *Provider) Name() string { return Name }

// Inspect reads the hook name from X-Gitlab-Event (required: without it the
// error wraps forge.ErrNotRecognized). The delivery id is
// X-Gitlab-Webhook-UUID, which names this one HTTP request, or
// Idempotency-Key when GitLab (before 16.2) sends no UUID. The dedup key is
// Idempotency-Key, which GitLab keeps across retries and manual resends;
// GitLab before 17.4 sends none, and the dedup key is then "" so that ingest
// hashes the payload. GitLab has no ping: its "Test" button sends an
// ordinary event with the ordinary header
// (https://docs.gitlab.com/user/project/integrations/webhooks/), so Ping is
// always false.
func (p *Provider) Inspect(h http.Header) (forge.Meta, error) {
	ev := strings.TrimSpace(h.Get(HeaderEvent))
	if ev == "" {
		return forge.Meta{}, fmt.Errorf("gitlab: no %s header: %w", HeaderEvent, forge.ErrNotRecognized)
	}
	key := strings.TrimSpace(h.Get(HeaderIdempotencyKey))
	id := strings.TrimSpace(h.Get(HeaderWebhookUUID))
	if id == "" {
		id = key
	}
	return forge.Meta{Event: ev, Delivery: id, DedupKey: key}, nil
}

// Verify authenticates req with the first credential it carries, in this
// order; any of secrets may match (rotation):
//
//  1. A webhook-signature header: a Standard Webhooks signature, sent by
//     GitLab 19.0+ for hooks with a signing token. Every secret is tried as
//     a signing token ("whsec_" and base64; see
//     verify.StandardWebhooksKey). The signature covers webhook-id,
//     webhook-timestamp and req.Body, the raw body, and webhook-timestamp
//     must lie within the endpoint's tolerance of req.Received. When a
//     hook has both a signing token and a secret token, the signature
//     decides and X-Gitlab-Token is ignored.
//  2. A non-empty X-Gitlab-Token header: the hook's secret token, compared
//     in constant time. It authenticates the sender, not the body.
//  3. An Authorization header with HTTP Basic credentials, which GitLab
//     derives from userinfo in the hook URL; a secret of the form
//     "user:password" matches it.
//
// A request with none of them fails with verify.ErrMissingSignature. The
// error wraps verify.ErrMissingSignature, verify.ErrBadSignature,
// verify.ErrStale or verify.ErrNoSecret.
//
// See https://docs.gitlab.com/user/project/integrations/webhooks/ (secret
// token, URL userinfo) and
// https://docs.gitlab.com/user/project/integrations/webhooks/#signing-tokens.
func (p *Provider) Verify(req *forge.Request, secrets []config.Secret) error {
	h := req.Header
	if len(h.Values(HeaderWebhookSignature)) > 0 {
		keys := make([][]byte, len(secrets))
		for i, s := range secrets {
			keys[i] = verify.StandardWebhooksKey(s.Reveal())
		}
		tol := p.tolerance
		if tol <= 0 {
			tol = verify.StandardWebhooksTolerance
		}
		err := verify.StandardWebhooks(h.Get(HeaderWebhookID), h.Get(HeaderWebhookTimestamp), h.Get(HeaderWebhookSignature), req.Body, keys, req.Received, tol)
		if err != nil {
			return fmt.Errorf("gitlab: verify %s: %w", "webhook-signature", err)
		}
		return nil
	}
	if tok := h.Get(HeaderToken); tok != "" {
		if err := verify.Token(tok, forge.Keys(secrets)); err != nil {
			return fmt.Errorf("gitlab: verify %s: %w", HeaderToken, err)
		}
		return nil
	}
	if auth := h.Get(HeaderAuthorization); auth != "" {
		if err := verify.BasicAuth(auth, forge.Keys(secrets)); err != nil {
			return fmt.Errorf("gitlab: verify %s (basic): %w", HeaderAuthorization, err)
		}
		return nil
	}
	return fmt.Errorf("gitlab: no %s, webhook-signature or Authorization header: %w", HeaderToken, verify.ErrMissingSignature)
}

// Sign sets on h the credential GitLab would send for payload under secret.
// A secret that starts with "whsec_" is a signing token: Sign sets
// webhook-id (Idempotency-Key when h has one; otherwise a UUID-shaped id
// derived from the payload, which it also sets as Idempotency-Key, as GitLab
// uses the same value for both), webhook-timestamp (now, in Unix seconds)
// and webhook-signature. Any other secret is a secret token, set verbatim as
// X-Gitlab-Token.
//
// See https://docs.gitlab.com/user/project/integrations/webhooks/#signing-tokens.
func (p *Provider) Sign(h http.Header, payload []byte, secret string, now time.Time) {
	if !strings.HasPrefix(secret, signingTokenPrefix) {
		h.Set(HeaderToken, secret)
		return
	}
	id := h.Get(HeaderIdempotencyKey)
	if id == "" {
		id = payloadID(payload)
		h.Set(HeaderIdempotencyKey, id)
	}
	ts := now.Unix()
	h.Set(HeaderWebhookID, id)
	h.Set(HeaderWebhookTimestamp, strconv.FormatInt(ts, 10))
	h.Set(HeaderWebhookSignature, verify.SignStandardWebhooks(verify.StandardWebhooksKey(secret), id, ts, payload))
}

// payloadID returns a UUID-shaped (version 8, RFC 9562) id derived from the
// SHA-256 of payload, so that signing the same payload twice gives the same
// id, as a GitLab resend keeps its Idempotency-Key.
func payloadID(payload []byte) string {
	sum := sha256.Sum256(payload)
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x80
	b[8] = b[8]&0x3f | 0x80
	s := hex.EncodeToString(b)
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}
