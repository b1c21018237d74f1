// Package forge defines how forgehook adapts one forge's webhook protocol:
// the Provider interface, the immutable Request it inspects, the Meta it
// reads from headers, and the explicit Registry of providers. Providers are
// pure: no I/O, no clocks except Request.Received.
package forge

import (
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
)

// ErrNotRecognized means the request does not look like a delivery of this
// forge (a required event header is missing). Ingest answers 400.
var ErrNotRecognized = errors.New("not a delivery of this forge")

// ErrBadPayload means the payload could not be decoded. Ingest answers 400.
var ErrBadPayload = errors.New("malformed payload")

// Request is one received delivery. It is immutable once built by ingest;
// providers must not modify its slices or maps.
type Request struct {
	// Header holds the request headers as received.
	Header http.Header
	// Body holds the exact bytes received.
	Body []byte
	// Payload is the JSON document: Body for a JSON request, the decoded
	// payload= field of an application/x-www-form-urlencoded request.
	Payload []byte
	// Form reports whether the body was form-encoded.
	Form bool
	// Query holds the URL query parameters.
	Query url.Values
	// RemoteAddr is the client address (after trusted-proxy resolution).
	RemoteAddr netip.Addr
	// Received is when the request arrived; the only clock providers may use.
	Received time.Time
}

// Meta is what a provider reads from the headers of a delivery.
type Meta struct {
	// Event is the forge's own event name (X-GitHub-Event: "push").
	Event string
	// Delivery is the forge's delivery id, "" when it sends none.
	Delivery string
	// DedupKey is the key under which redeliveries are stored once: the
	// delivery id when the forge keeps it stable across redeliveries, ""
	// to make ingest use a hash of the payload.
	DedupKey string
	// Ping reports a ping or test-connection event known from the headers.
	Ping bool
	// Forge is set by auto-detection to the id of the detected forge, so
	// that Normalize reaches the same provider; providers leave it empty.
	Forge string
}

// Provider adapts one forge's webhook protocol. Implementations are pure
// and safe for concurrent use.
type Provider interface {
	// Name returns the forge id ("github"), which matches the package name.
	Name() string
	// Inspect reads the event name, delivery id and ping flag from the
	// headers. It returns an error wrapping ErrNotRecognized when the
	// headers are not this forge's.
	Inspect(h http.Header) (Meta, error)
	// Verify authenticates req with the forge's scheme; any of secrets may
	// match (rotation). It returns nil or an error wrapping one of the
	// verify sentinels. It is never called with no secrets.
	Verify(req *Request, secrets []config.Secret) error
	// Normalize maps the JSON payload to the canonical fields. An event it
	// does not know is returned as kind "other", never an error; errors
	// (wrapping ErrBadPayload) are for undecodable payloads only. A test
	// delivery recognizable only by its payload is returned as kind "ping".
	Normalize(m Meta, payload []byte) (event.Fields, error)
}

// BodyInspector is implemented by providers whose event name or delivery
// id travels in the payload rather than in headers (Docker Hub, Harbor,
// Azure DevOps, Gerrit). Ingest calls InspectBody, through InspectRequest,
// instead of Inspect. It returns an error wrapping ErrNotRecognized when the
// payload is not this forge's.
type BodyInspector interface {
	InspectBody(h http.Header, payload []byte) (Meta, error)
}

// InspectRequest reads a delivery's Meta with p's InspectBody when it has
// one, else with its Inspect.
func InspectRequest(p Provider, h http.Header, payload []byte) (Meta, error) {
	if bi, ok := p.(BodyInspector); ok {
		return bi.InspectBody(h, payload)
	}
	return p.Inspect(h)
}

// Signer is implemented by providers that can produce a delivery as their
// forge would sign it: used by `forgehook send`, by actions that re-sign a
// forge's own format, and by tests.
type Signer interface {
	// Sign sets on h the headers that authenticate payload (the JSON
	// document) with secret, as the forge would at time now. It may also
	// set delivery headers that the signature covers.
	Sign(h http.Header, payload []byte, secret string, now time.Time)
}

// Redactor is implemented by providers whose payloads carry secrets (Gitee's
// password and sign fields): Redact returns the payload to store, without
// them.
type Redactor interface {
	Redact(payload []byte) []byte
}

// HeaderNamer is implemented by every provider, so that ingest redacts the
// headers that carry its credentials: a forge's provider returns its
// descriptor's CredentialHeaders, the generic provider an endpoint's
// configured signature and token headers, auto those of every forge it
// detects.
type HeaderNamer interface {
	// CredentialHeaders returns the names of the headers that carry the
	// provider's credentials, in a slice the caller owns.
	CredentialHeaders() []string
}

// Factory builds a provider for one endpoint from its configuration. It
// returns an error naming the bad option.
type Factory func(ep *config.Endpoint) (Provider, error)

// CredentialHeaders returns the names of p's credential headers (see
// HeaderNamer) that event.IsCredentialHeader does not already recognize by
// itself: the extra names to pass to event.RedactHeader for p's
// deliveries, nil when there are none. The caller owns the slice.
func CredentialHeaders(p Provider) []string {
	hn, ok := p.(HeaderNamer)
	if !ok {
		return nil
	}
	var out []string
	for _, n := range hn.CredentialHeaders() {
		if !event.IsCredentialHeader(n, out...) {
			out = append(out, n)
		}
	}
	return out
}
