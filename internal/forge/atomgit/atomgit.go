// Package atomgit adapts the webhooks of AtomGit (atomgit.com) and GitCode
// (gitcode.com), which share one backend, to forgehook. Their payloads are
// GitLab's (object_kind, object_attributes, project.path_with_namespace)
// under renamed headers, so this package reads the X-AtomGit-* and
// X-GitCode-* headers, authenticates a delivery, and hands the payload to
// the GitLab provider's mapping ([gitlab.NormalizeAs]), completing the few
// fields that AtomGit names differently.
//
// The two products document different header names for the same thing, and
// parts of the scheme are not documented at all, so both header families are
// accepted wherever one is:
//
//   - event: X-AtomGit-Event (AtomGit docs) or X-GitCode-Event (GitCode docs),
//     with GitLab's names ("Push Hook") or the payload's object_kind ("push");
//   - delivery id: X-AtomGit-Delivery or X-GitCode-Delivery (GitCode docs);
//   - password: X-AtomGit-Token or X-GitCode-Token (GitCode docs);
//   - signature: X-GitCode-Signature-256 or X-AtomGit-Signature-256,
//     "sha256=" and an HMAC-SHA256 of the raw body. The GitCode docs say only
//     that the key "encrypts the request content": what exactly is signed is
//     unconfirmed (see [Provider.Verify]).
//
// The documentation:
//   - GitCode: https://docs.gitcode.com/docs/help/home/org_project/webhook/web-hook
//     and its event pages under .../webhook/webhook-stepup/
//   - AtomGit: https://docs.atomgit.com/repo/webhooks
package atomgit

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/verify"
)

// Name is the forge id of this provider.
const Name = "atomgit"

// The headers AtomGit and GitCode send, each under both product names; the
// first of each pair is checked first.
const (
	// HeaderEvent and HeaderGitCodeEvent name the hook that fired.
	HeaderEvent        = "X-AtomGit-Event"
	HeaderGitCodeEvent = "X-GitCode-Event"
	// HeaderDelivery and HeaderGitCodeDelivery carry a unique id per
	// request ("请求唯一id").
	HeaderDelivery        = "X-AtomGit-Delivery"
	HeaderGitCodeDelivery = "X-GitCode-Delivery"
	// HeaderToken and HeaderGitCodeToken carry the hook's password
	// verbatim.
	HeaderToken        = "X-AtomGit-Token"
	HeaderGitCodeToken = "X-GitCode-Token"
	// HeaderGitCodeSignature and HeaderSignature carry "sha256=" and the
	// signature made with the hook's signing key.
	HeaderGitCodeSignature = "X-GitCode-Signature-256"
	HeaderSignature        = "X-AtomGit-Signature-256"
	// HeaderAuthorization carries HTTP Basic credentials when the hook URL
	// has userinfo (https://user:pass@host/...).
	HeaderAuthorization = "Authorization"
)

const signaturePrefix = "sha256="

// Provider is the AtomGit and GitCode provider. It has no options; its zero
// value is ready to use, immutable and safe for concurrent use.
type Provider struct{}

var (
	_ forge.Provider = (*Provider)(nil)
	_ forge.Signer   = (*Provider)(nil)
	_ forge.Factory  = New
)

// New returns the AtomGit provider; it is a [forge.Factory]. ep (which may be
// nil) has no option that applies. New never fails.
func New(ep *config.Endpoint) (forge.Provider, error) {
	return &Provider{}, nil
}

// Name returns "atomgit".
func (p *Provider) Name() string { return Name }

// Inspect reads the hook name from X-AtomGit-Event or, when that is absent,
// X-GitCode-Event; without either the error wraps [forge.ErrNotRecognized].
// The name is kept as sent. The delivery id is X-AtomGit-Delivery or
// X-GitCode-Delivery. GitCode documents it as unique per request, so it
// cannot recognize a resend: the DedupKey is "", and ingest keys on a hash of
// the payload. Neither product documents a ping (the hook page's test sends
// an ordinary event), so Ping is always false.
func (p *Provider) Inspect(h http.Header) (forge.Meta, error) {
	ev := first(h, HeaderEvent, HeaderGitCodeEvent)
	if ev == "" {
		return forge.Meta{}, fmt.Errorf("atomgit: no %s or %s header: %w", HeaderEvent, HeaderGitCodeEvent, forge.ErrNotRecognized)
	}
	return forge.Meta{Event: ev, Delivery: first(h, HeaderDelivery, HeaderGitCodeDelivery)}, nil
}

// first returns the first non-empty value of the named headers, trimmed.
func first(h http.Header, names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(h.Get(n)); v != "" {
			return v
		}
	}
	return ""
}

// Verify authenticates req with the first credential it carries, in this
// order; any of secrets may match (rotation):
//
//  1. A non-empty X-GitCode-Signature-256 (or X-AtomGit-Signature-256):
//     "sha256=" (which may be left out) and the HMAC-SHA256 of req.Body, the
//     raw body, under the hook's signing key, in hex (or, tolerated, in
//     base64). When a signature is present it decides: a password beside it
//     is not consulted. This is the one scheme that protects the body. It
//     is unconfirmed: GitCode's docs say only that the key "encrypts the
//     request content" and is sent as "sha256=签名"; the input is assumed to
//     be the raw body, as for GitHub's X-Hub-Signature-256 that the header
//     imitates. Check it against a live delivery before relying on it.
//  2. A non-empty X-GitCode-Token (or X-AtomGit-Token): the hook's password,
//     compared in constant time. It authenticates the sender, not the body.
//  3. An Authorization header with HTTP Basic credentials, from userinfo in
//     the hook URL; a secret of the form "user:password" matches it.
//
// A request with none of them fails with verify.ErrMissingSignature. The
// error wraps verify.ErrMissingSignature, verify.ErrBadSignature or
// verify.ErrNoSecret, and never contains a secret.
//
// See https://docs.gitcode.com/docs/help/home/org_project/webhook/web-hook.
func (p *Provider) Verify(req *forge.Request, secrets []config.Secret) error {
	h := req.Header
	if sig := first(h, HeaderGitCodeSignature, HeaderSignature); sig != "" {
		digest := sig
		if len(digest) >= len(signaturePrefix) && strings.EqualFold(digest[:len(signaturePrefix)], signaturePrefix) {
			digest = digest[len(signaturePrefix):]
		}
		enc := verify.Base64
		if isHex(digest) {
			enc = verify.Hex
		}
		if digest == "" {
			return fmt.Errorf("atomgit: verify %s: empty digest: %w", HeaderGitCodeSignature, verify.ErrBadSignature)
		}
		if err := verify.HMAC(verify.SHA256, enc, "", digest, req.Body, forge.Keys(secrets)); err != nil {
			return fmt.Errorf("atomgit: verify %s: %w", HeaderGitCodeSignature, err)
		}
		return nil
	}
	if tok := first(h, HeaderGitCodeToken, HeaderToken); tok != "" {
		if err := verify.Token(tok, forge.Keys(secrets)); err != nil {
			return fmt.Errorf("atomgit: verify %s: %w", HeaderGitCodeToken, err)
		}
		return nil
	}
	if auth := strings.TrimSpace(h.Get(HeaderAuthorization)); auth != "" {
		if err := verify.BasicAuth(auth, forge.Keys(secrets)); err != nil {
			return fmt.Errorf("atomgit: verify %s (basic): %w", HeaderAuthorization, err)
		}
		return nil
	}
	return fmt.Errorf("atomgit: verify: no %s, %s or %s header: %w", HeaderGitCodeSignature, HeaderGitCodeToken, HeaderAuthorization, verify.ErrMissingSignature)
}

// isHex reports whether s is the 64 hex digits of a SHA-256 digest.
func isHex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// Sign sets X-GitCode-Signature-256 on h: "sha256=" and the hex
// HMAC-SHA256 of payload under secret, the signature [Provider.Verify]
// checks (the algorithm's input is unconfirmed; see there). The signature
// carries no timestamp, so now is unused. Sign sets no other header.
func (p *Provider) Sign(h http.Header, payload []byte, secret string, now time.Time) {
	h.Set(HeaderGitCodeSignature, verify.Sign(verify.SHA256, verify.Hex, signaturePrefix, []byte(secret), payload))
}
