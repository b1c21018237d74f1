// Package gitee adapts the webhooks of Gitee (gitee.com and Gitee
// Enterprise) to forgehook: it reads the hook name from X-Gitee-Event
// (or the legacy X-Git-Oschina-Event), authenticates a delivery by the hook's
// password or by Gitee's timestamp signature in X-Gitee-Token, removes the
// password and signature that Gitee copies into the payload, and maps
// Gitee's five hooks (push, tag push, pull request, comment, issue) to the
// canonical fields.
//
// Gitee does not sign the body: its signature covers only a timestamp and
// the secret, so it authenticates the sender, and a captured delivery can be
// replayed, or its body swapped, within the timestamp window. Serve the
// endpoint over TLS and restrict its source addresses where you can.
//
// Gitee's documentation:
//   - headers and payloads: https://help.gitee.com/webhook/gitee-webhook-push-data-format
//     (also https://gitee.com/help/articles/4186)
//   - password and signature: https://help.gitee.com/webhook/how-to-verify-webhook-keys
//     (also https://gitee.com/help/articles/4290)
//   - payload field types: https://gitee.com/help/articles/4271
package gitee

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge"
)

// Name is the forge id of this provider.
const Name = "gitee"

// The headers Gitee sends with a delivery
// (https://help.gitee.com/webhook/gitee-webhook-push-data-format).
const (
	// HeaderEvent names the hook that fired ("Push Hook").
	HeaderEvent = "X-Gitee-Event"
	// HeaderLegacyEvent is the older name of HeaderEvent, still sent beside
	// it (seen in captured deliveries, not in Gitee's documentation).
	HeaderLegacyEvent = "X-Git-Oschina-Event"
	// HeaderToken carries the hook's password verbatim, or, for a hook with
	// a signing key, base64(HMAC-SHA256(key, timestamp + "\n" + key)).
	HeaderToken = "X-Gitee-Token"
	// HeaderTimestamp is the time the hook fired, in Unix milliseconds;
	// the signature covers it.
	HeaderTimestamp = "X-Gitee-Timestamp"
	// HeaderPing is "true" on a delivery sent by the hook page's test
	// button and "false" otherwise (seen in captured deliveries, not in
	// Gitee's documentation).
	HeaderPing = "X-Gitee-Ping"
	// HeaderRequestID and HeaderGiteeRequestID are request ids that some
	// deliveries carry; Gitee documents no delivery id.
	HeaderRequestID      = "X-Request-Id"
	HeaderGiteeRequestID = "X-Gitee-Request-Id"
)

// UserAgent is the User-Agent Gitee documents for its deliveries.
const UserAgent = "git-oschina-hook"

// DefaultTolerance is the accepted distance between X-Gitee-Timestamp and the
// time a signed delivery is received: Gitee's documentation says a receiver
// should accept timestamps within one hour.
const DefaultTolerance = time.Hour

// Provider is the Gitee provider. It is immutable and safe for concurrent
// use; the zero value uses DefaultTolerance.
type Provider struct {
	// tolerance bounds |Received - X-Gitee-Timestamp| for signatures.
	tolerance time.Duration
}

var (
	_ forge.Provider = (*Provider)(nil)
	_ forge.Signer   = (*Provider)(nil)
	_ forge.Redactor = (*Provider)(nil)
	_ forge.Factory  = New
)

// New returns the Gitee provider for ep; it is a [forge.Factory]. A nil ep
// gives the defaults. ep.Tolerance, when positive, replaces
// [DefaultTolerance] as the window for signature timestamps. New never
// fails: Gitee has no other options.
func New(ep *config.Endpoint) (forge.Provider, error) {
	p := &Provider{tolerance: DefaultTolerance}
	if ep != nil && ep.Tolerance.D() > 0 {
		p.tolerance = ep.Tolerance.D()
	}
	return p, nil
}

// Name returns "gitee".
func (p *Provider) Name() string { return Name }

// Inspect reads the hook name from X-Gitee-Event, or from the legacy
// X-Git-Oschina-Event when the first is absent; without either the error
// wraps [forge.ErrNotRecognized]. The name is kept as sent: usually "Push
// Hook" and the like, but test deliveries have been seen with the payload's
// hook_name ("push_hooks"), which Normalize also understands.
//
// Gitee documents no delivery id. When a delivery carries X-Gitee-Request-Id
// or X-Request-Id, that is the Delivery, but the DedupKey stays "" so that
// ingest keys on a hash of the payload: nothing shows that the id survives a
// resend, and the payload (which carries the hook's own timestamp) is what a
// resend repeats. X-Gitee-Ping: true, sent by the hook page's test button,
// makes the delivery a ping.
func (p *Provider) Inspect(h http.Header) (forge.Meta, error) {
	ev := strings.TrimSpace(h.Get(HeaderEvent))
	if ev == "" {
		ev = strings.TrimSpace(h.Get(HeaderLegacyEvent))
	}
	if ev == "" {
		return forge.Meta{}, fmt.Errorf("gitee: no %s or %s header: %w", HeaderEvent, HeaderLegacyEvent, forge.ErrNotRecognized)
	}
	id := strings.TrimSpace(h.Get(HeaderGiteeRequestID))
	if id == "" {
		id = strings.TrimSpace(h.Get(HeaderRequestID))
	}
	return forge.Meta{
		Event:    ev,
		Delivery: id,
		Ping:     strings.EqualFold(strings.TrimSpace(h.Get(HeaderPing)), "true"),
	}, nil
}
