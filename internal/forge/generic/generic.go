// Package generic is the provider for senders forgehook has no dedicated
// provider for: anything that can sign its body with an HMAC, send a static
// token in a header or a query parameter, or use HTTP Basic auth (a hook
// URL of the form https://user:password@host/...). Each endpoint configures
// its scheme under `generic:` (config.Generic): which headers carry the
// signature, the token, the event name and the delivery id, and how the
// signature is written.
//
// The provider reads payloads as they come: it recognizes GitHub-like
// pushes (ref, before, after, commits) and keeps everything else as kind
// "other", with the repository and sender filled in where the payload has
// GitHub-like repository and sender objects.
package generic

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/verify"
)

// Name is the forge id of this provider.
const Name = "generic"

// DefaultEvent is the event name of every delivery to an endpoint that
// configures no event_header.
const DefaultEvent = "webhook"

// headerAuthorization carries HTTP Basic credentials.
const headerAuthorization = "Authorization"

// Provider is the generic provider for one endpoint. It is built by New,
// immutable afterwards and safe for concurrent use.
type Provider struct {
	sigHeader string // canonical header name, "" when no HMAC is configured
	alg       verify.Algorithm
	enc       verify.Encoding
	prefix    string

	tokenHeader string // canonical header name
	tokenQuery  string // query parameter name
	basic       bool

	eventHeader    string
	deliveryHeader string
}

var (
	_ forge.Provider    = (*Provider)(nil)
	_ forge.Signer      = (*Provider)(nil)
	_ forge.HeaderNamer = (*Provider)(nil)
	_ forge.Factory     = New
)

// New builds the generic provider for ep from ep.Generic; it is a
// forge.Factory. It reports every problem of the configuration at once,
// each naming its field ("generic.algorithm: unknown ..."):
//
//   - at least one of signature_header, token_header, token_query and
//     basic_auth must be set, unless ep.Insecure (and then no secrets);
//   - algorithm is sha1, sha256 (the default) or sha512, and encoding is
//     hex (the default) or base64; a prefix, or an algorithm or encoding
//     other than the default, needs signature_header;
//   - header names must be valid HTTP field names, and a credential header
//     cannot also be the event or delivery header, nor can two schemes
//     share one header.
func New(ep *config.Endpoint) (forge.Provider, error) {
	var g config.Generic
	var insecure, secrets bool
	if ep != nil {
		if ep.Generic != nil {
			g = *ep.Generic
		}
		insecure = ep.Insecure
		secrets = len(ep.Secrets) > 0 || len(ep.SecretFiles) > 0
	}
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("generic."+field+": "+format, args...))
	}
	header := func(field, v string) string {
		if v == "" {
			return ""
		}
		if !validHeaderName(v) {
			bad(field, "%q is not a valid header name", v)
			return ""
		}
		return http.CanonicalHeaderKey(v)
	}
	p := &Provider{
		sigHeader:      header("signature_header", g.SignatureHeader),
		tokenHeader:    header("token_header", g.TokenHeader),
		tokenQuery:     g.TokenQuery,
		basic:          g.BasicAuth,
		eventHeader:    header("event_header", g.EventHeader),
		deliveryHeader: header("delivery_header", g.DeliveryHeader),
		prefix:         g.Prefix,
		alg:            verify.SHA256,
		enc:            verify.Hex,
	}

	if a := strings.ToLower(strings.TrimSpace(g.Algorithm)); a != "" {
		if _, err := verify.Algorithm(a).New(); err != nil {
			bad("algorithm", "unknown %q (want sha1, sha256 or sha512)", g.Algorithm)
		} else {
			p.alg = verify.Algorithm(a)
		}
	}
	switch e := strings.ToLower(strings.TrimSpace(g.Encoding)); e {
	case "", string(verify.Hex):
	case string(verify.Base64):
		p.enc = verify.Base64
	default:
		bad("encoding", "unknown %q (want hex or base64)", g.Encoding)
	}
	if g.SignatureHeader == "" {
		// The configuration fills in the default algorithm and encoding
		// of every generic block; only other values are mistakes.
		for _, f := range []struct {
			field string
			set   bool
		}{
			{"algorithm", p.alg != verify.SHA256},
			{"encoding", p.enc != verify.Hex},
			{"prefix", g.Prefix != ""},
		} {
			if f.set {
				bad(f.field, "set without signature_header")
			}
		}
	}
	if g.Prefix != strings.TrimLeft(g.Prefix, " \t") {
		bad("prefix", "%q starts with white space, which header values never do", g.Prefix)
	}
	if g.TokenQuery != "" && strings.TrimSpace(g.TokenQuery) == "" {
		bad("token_query", "%q is blank", g.TokenQuery)
	}

	// A header carries one credential, and credentials never double as the
	// event name or delivery id, which are logged and stored.
	creds := map[string]string{}
	claim := func(field, name string) {
		if name == "" {
			return
		}
		if other, dup := creds[name]; dup {
			bad(field, "%q is also %s", name, other)
			return
		}
		creds[name] = field
	}
	claim("signature_header", p.sigHeader)
	claim("token_header", p.tokenHeader)
	if p.basic {
		claim("basic_auth", headerAuthorization)
	}
	for _, f := range []struct{ field, name string }{{"event_header", p.eventHeader}, {"delivery_header", p.deliveryHeader}} {
		if other, ok := creds[f.name]; ok && f.name != "" {
			bad(f.field, "%q carries a credential (%s)", f.name, other)
		}
	}

	if !p.hasScheme() && len(errs) == 0 {
		switch {
		case !insecure:
			errs = append(errs, errors.New("generic: no credential scheme: set signature_header, token_header, token_query or basic_auth (or insecure: true)"))
		case secrets:
			errs = append(errs, errors.New("generic: secrets are set but no scheme uses them: set signature_header, token_header, token_query or basic_auth"))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

func (p *Provider) hasScheme() bool {
	return p.sigHeader != "" || p.tokenHeader != "" || p.tokenQuery != "" || p.basic
}

// validHeaderName reports whether s is an HTTP field name (RFC 9110 token).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// Name returns "generic".
func (p *Provider) Name() string { return Name }

// CredentialHeaders returns the configured signature and token header names
// (and Authorization with basic_auth), so that ingest stores their values
// redacted. The slice is the caller's.
func (p *Provider) CredentialHeaders() []string {
	var out []string
	for _, h := range []string{p.sigHeader, p.tokenHeader} {
		if h != "" {
			out = append(out, h)
		}
	}
	if p.basic {
		out = append(out, headerAuthorization)
	}
	return out
}

// Inspect reads the event name from the configured event_header and the
// delivery id from the configured delivery_header. Without an event_header
// every delivery is event DefaultEvent ("webhook"); with one, a request that
// lacks it is not recognized (the error wraps forge.ErrNotRecognized).
// Without a delivery_header, Delivery and DedupKey are "" and ingest keys
// redeliveries on a hash of the payload; with one, its value is both, since
// a sender that names its deliveries is expected to keep the name when it
// retries. An event named "ping" (any case; GitHub, Gogs and coding.net use
// it for the hook-created test) is a ping.
func (p *Provider) Inspect(h http.Header) (forge.Meta, error) {
	m := forge.Meta{Event: DefaultEvent}
	if p.eventHeader != "" {
		ev := strings.TrimSpace(h.Get(p.eventHeader))
		if ev == "" {
			return forge.Meta{}, fmt.Errorf("generic: no %s header: %w", p.eventHeader, forge.ErrNotRecognized)
		}
		m.Event = ev
	}
	if p.deliveryHeader != "" {
		id := strings.TrimSpace(h.Get(p.deliveryHeader))
		m.Delivery, m.DedupKey = id, id
	}
	m.Ping = strings.EqualFold(m.Event, "ping")
	return m, nil
}

// Verify checks every configured scheme whose credential the request
// carries, against every secret (rotation): the HMAC of req.Body, the raw
// request body, in signature_header (algorithm, encoding and prefix as
// configured; see verify.HMAC); a static token in token_header or in the
// query parameter token_query; HTTP Basic credentials in Authorization
// against secrets of the form "user:password". All tokens are compared in
// constant time.
//
// A credential that is present and wrong fails the request even when
// another one is right. If the request carries none of the configured
// credentials (an empty header counts as absent, and so does an
// Authorization header of another scheme than Basic), the error wraps
// verify.ErrMissingSignature; a wrong or malformed one wraps
// verify.ErrBadSignature.
func (p *Provider) Verify(req *forge.Request, secrets []config.Secret) error {
	keys := forge.Keys(secrets)
	var names []string
	checked := 0
	check := func(name string, err error) error {
		names = append(names, name)
		switch {
		case errors.Is(err, verify.ErrMissingSignature):
			return nil
		case err != nil:
			return fmt.Errorf("generic: verify %s: %w", name, err)
		}
		checked++
		return nil
	}
	if p.sigHeader != "" {
		err := verify.HMAC(p.alg, p.enc, p.prefix, req.Header.Get(p.sigHeader), req.Body, keys)
		if err := check(p.sigHeader+" ("+string(p.alg)+" hmac)", err); err != nil {
			return err
		}
	}
	if p.tokenHeader != "" {
		err := verify.Token(req.Header.Get(p.tokenHeader), keys)
		if err := check(p.tokenHeader+" (token)", err); err != nil {
			return err
		}
	}
	if p.tokenQuery != "" {
		err := verify.Token(req.Query.Get(p.tokenQuery), keys)
		if err := check("query parameter "+p.tokenQuery+" (token)", err); err != nil {
			return err
		}
	}
	if p.basic {
		err := verify.BasicAuth(req.Header.Get(headerAuthorization), keys)
		if err := check(headerAuthorization+" (basic auth)", err); err != nil {
			return err
		}
	}
	if checked == 0 {
		if len(names) == 0 {
			return fmt.Errorf("generic: verify: no credential scheme configured: %w", verify.ErrMissingSignature)
		}
		return fmt.Errorf("generic: verify: none of %s sent: %w", strings.Join(names, ", "), verify.ErrMissingSignature)
	}
	return nil
}

// Sign sets on h every header credential the endpoint configures, for
// payload under secret: signature_header with the HMAC of payload (the
// signed bytes are payload itself, as sent with a JSON content type),
// token_header with secret itself, and, with basic_auth, Authorization:
// Basic with secret as "user:password". A token_query cannot be carried in
// headers: the caller adds it to the URL. The scheme has no timestamp, so
// now is unused, and Sign sets no event or delivery header.
func (p *Provider) Sign(h http.Header, payload []byte, secret string, now time.Time) {
	if p.sigHeader != "" {
		h.Set(p.sigHeader, verify.Sign(p.alg, p.enc, p.prefix, []byte(secret), payload))
	}
	if p.tokenHeader != "" {
		h.Set(p.tokenHeader, secret)
	}
	if p.basic {
		h.Set(headerAuthorization, "Basic "+base64.StdEncoding.EncodeToString([]byte(secret)))
	}
}
