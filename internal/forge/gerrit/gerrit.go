// Package gerrit adapts the deliveries of Gerrit Code Review's webhooks
// plugin (GerritCodeReview/plugins_webhooks) to forgehook.
//
// The plugin posts every event of a project, as the JSON that `gerrit
// stream-events` prints ({"type":"patchset-created","eventCreatedOn":...,
// "change":{...},"patchSet":{...}}), to each configured remote URL. It
// sends no event header, no delivery id and no credential of its own, only
// X-Origin-Url with the server's canonical web URL. An endpoint is
// protected by its unguessable key in the path and an address allowlist,
// and is normally declared insecure: true. When the remote URL carries
// user:password@, Gerrit's HTTP client (Apache HttpClient) sends them as
// HTTP Basic credentials, which Verify checks.
//
// Gerrit's documentation:
//   - the plugin: https://gerrit.googlesource.com/plugins/webhooks/+/refs/heads/master/src/main/resources/Documentation/config.md
//   - events and their JSON: https://gerrit-review.googlesource.com/Documentation/cmd-stream-events.html
//     and https://gerrit-review.googlesource.com/Documentation/json.html
package gerrit

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/verify"
)

// Name is the forge id of this provider.
const Name = "gerrit"

// The headers of a delivery.
const (
	// HeaderOriginURL is the canonical web URL of the sending Gerrit
	// server (processors/GerritEventProcessor.java).
	HeaderOriginURL = "X-Origin-Url"
	// HeaderAuthorization carries HTTP Basic credentials when the remote
	// URL has userinfo.
	HeaderAuthorization = "Authorization"
)

// Provider is the Gerrit provider. It has no options; the zero value is
// ready to use, immutable and safe for concurrent use.
type Provider struct{}

var (
	_ forge.Provider      = (*Provider)(nil)
	_ forge.BodyInspector = (*Provider)(nil)
	_ forge.Signer        = (*Provider)(nil)
	_ forge.Factory       = New
)

// New returns the Gerrit provider; it is a [forge.Factory]. ep may be nil. New
// never fails: Gerrit has no options.
func New(ep *config.Endpoint) (forge.Provider, error) { return &Provider{}, nil }

// Name returns "gerrit".
func (p *Provider) Name() string { return Name }

// Inspect always fails with an error wrapping [forge.ErrNotRecognized]:
// Gerrit sends no header that names the event (X-Origin-Url alone would
// not tell its deliveries from another sender's). Ingest calls InspectBody
// instead (see [forge.InspectRequest]).
func (p *Provider) Inspect(h http.Header) (forge.Meta, error) {
	return forge.Meta{}, fmt.Errorf("gerrit: no event header, the payload identifies a delivery: %w", forge.ErrNotRecognized)
}

// InspectBody recognizes a Gerrit event by its payload: a JSON object with a
// non-empty string type ("patchset-created") and a numeric eventCreatedOn
// (Unix seconds). Anything else fails with an error wrapping
// [forge.ErrNotRecognized]; h is not read.
//
// The event is type. Gerrit sends no delivery id: Delivery and DedupKey are
// empty, and ingest stores a delivery under a hash of its payload. The
// plugin re-posts the same JSON on each of its retries (maxTries, default
// 5, retryInterval apart), so they are stored once. Gerrit has no ping.
func (p *Provider) InspectBody(h http.Header, payload []byte) (forge.Meta, error) {
	var b struct {
		Type           string          `json:"type"`
		EventCreatedOn json.RawMessage `json:"eventCreatedOn"`
	}
	if err := forge.DecodeObject(payload, &b); err != nil {
		return forge.Meta{}, fmt.Errorf("gerrit: %w: %v", forge.ErrNotRecognized, err)
	}
	if b.Type == "" || !isNumber(b.EventCreatedOn) {
		return forge.Meta{}, fmt.Errorf("gerrit: payload has no type and eventCreatedOn: %w", forge.ErrNotRecognized)
	}
	return forge.Meta{Event: b.Type}, nil
}

// isNumber reports whether raw, a JSON value, is a number.
func isNumber(raw json.RawMessage) bool {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	return len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9')
}

// Verify checks HTTP Basic credentials in the Authorization header against
// secrets of the form "user:password"; any of them may match (rotation),
// in constant time. Gerrit sends them when the remote URL is
// https://user:password@host/...; ⚠️ its HTTP client sends them only in
// answer to a 401 challenge with WWW-Authenticate: Basic, not
// preemptively. A request without Basic credentials fails with
// [verify.ErrMissingSignature] (an endpoint that relies on its key and
// allowlist alone is insecure: true, and ingest then never calls Verify),
// wrong ones with [verify.ErrBadSignature].
//
// See https://gerrit.googlesource.com/plugins/webhooks/+/refs/heads/master/src/main/resources/Documentation/config.md.
func (p *Provider) Verify(req *forge.Request, secrets []config.Secret) error {
	if err := verify.BasicAuth(req.Header.Get(HeaderAuthorization), forge.Keys(secrets)); err != nil {
		return fmt.Errorf("gerrit: verify %s (basic): %w", HeaderAuthorization, err)
	}
	return nil
}

// Sign sets the HTTP Basic Authorization header that Gerrit's HTTP client
// sends for a remote URL with userinfo; secret is "user:password". Gerrit
// signs nothing, so payload and now are unused.
func (p *Provider) Sign(h http.Header, payload []byte, secret string, now time.Time) {
	h.Set(HeaderAuthorization, "Basic "+base64.StdEncoding.EncodeToString([]byte(secret)))
}
