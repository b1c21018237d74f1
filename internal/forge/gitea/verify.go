package gitea

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/verify"
)

// Verify authenticates req as the family's forges do, with any of secrets.
//
// The signature is the bare hex HMAC-SHA256 of req.Payload, the JSON
// document: for a JSON hook that is the body, but for a form (and GET) hook
// it is the decoded payload= field, not the form body, because the forges
// sign the JSON before they encode it (Gitea services/webhook/deliver.go,
// Forgejo services/webhook/shared/payloader.go, Gogs
// internal/database/webhook.go). Verify checks the first of the family's
// SignatureHeaders that is not empty (Gitea: X-Gitea-Signature; Forgejo:
// X-Forgejo-Signature, then X-Gitea-Signature; Gogs: X-Gogs-Signature) and
// only that one: a bad signature is not rescued by another header. Gitea and
// Forgejo fall back to X-Hub-Signature-256 ("sha256=<hex>").
//
// The forges send the signature headers empty when the hook has no secret;
// an empty header counts as absent. When no signature is sent, an
// Authorization header is compared, whole and in constant time, with the
// secrets: that is Gitea's and Forgejo's authorization_header option, so an
// endpoint that relies on it lists the exact header value ("Bearer abc") as
// a secret. Without a signature or an Authorization header the error wraps
// verify.ErrMissingSignature.
//
// Errors wrap verify.ErrMissingSignature, verify.ErrBadSignature or
// verify.ErrNoSecret, prefixed with the forge id and the header checked.
//
// Documentation: https://docs.gitea.com/usage/webhooks,
// https://forgejo.org/docs/latest/user/webhooks/,
// https://github.com/gogs/gogs/blob/main/docs/advancing/webhooks.mdx.
func (p *Provider) Verify(req *forge.Request, secrets []config.Secret) error {
	keys := forge.Keys(secrets)
	for _, name := range p.fam.SignatureHeaders {
		if sig := strings.TrimSpace(req.Header.Get(name)); sig != "" {
			return p.wrap(name, verify.HMAC(verify.SHA256, verify.Hex, "", sig, req.Payload, keys))
		}
	}
	if p.fam.HubSignature {
		if sig := strings.TrimSpace(req.Header.Get(HeaderHubSignature256)); sig != "" && !strings.EqualFold(sig, hubPrefixSHA256) {
			return p.wrap(HeaderHubSignature256, verify.HMAC(verify.SHA256, verify.Hex, hubPrefixSHA256, sig, req.Payload, keys))
		}
	}
	if auth := req.Header.Get(HeaderAuthorization); auth != "" {
		return p.wrap(HeaderAuthorization, verify.Token(auth, keys))
	}
	return fmt.Errorf("%s: verify: no signature (%s) and no %s header: %w",
		p.fam.Name, strings.Join(p.signatureNames(), ", "), HeaderAuthorization, verify.ErrMissingSignature)
}

// signatureNames lists the signature headers Verify reads, for messages.
func (p *Provider) signatureNames() []string {
	names := append([]string(nil), p.fam.SignatureHeaders...)
	if p.fam.HubSignature {
		names = append(names, HeaderHubSignature256)
	}
	return names
}

func (p *Provider) wrap(header string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: verify %s: %w", p.fam.Name, header, err)
}

// Sign sets on h the signature headers the family's forge sends for payload,
// the JSON document, under secret: the bare hex HMAC-SHA256 in each of
// SignHeaders (Gitea: X-Gitea-Signature and X-Gogs-Signature; Forgejo adds
// X-Forgejo-Signature; Gogs: X-Gogs-Signature) and, for Gitea and Forgejo,
// X-Hub-Signature-256 ("sha256=") and the legacy X-Hub-Signature ("sha1=",
// HMAC-SHA1). The forges sign the JSON even for form hooks, so pass the JSON
// and not a form body. The signatures carry no timestamp, so now is unused,
// and Sign sets no delivery headers.
func (p *Provider) Sign(h http.Header, payload []byte, secret string, now time.Time) {
	key := []byte(secret)
	sum := verify.Sign(verify.SHA256, verify.Hex, "", key, payload)
	for _, name := range p.fam.SignHeaders {
		h.Set(name, sum)
	}
	if p.fam.HubSignature {
		h.Set(HeaderHubSignature256, hubPrefixSHA256+sum)
		h.Set(HeaderHubSignature, verify.Sign(verify.SHA1, verify.Hex, hubPrefixSHA1, key, payload))
	}
}

// secretField is the payload key under which Gogs before 0.11 and Gitea
// before 1.14 sent the hook's secret in clear (go-gitea/gitea#11755).
const secretField = "secret"

// Redact returns the payload to store: payload itself, unless it is a JSON
// object with a top-level "secret" member, the hook secret that old Gogs and
// Gitea releases put in the payload (the Forgejo v1.20 docs still show it).
// Then the value is replaced by "[redacted]"; the object is re-encoded, so
// its members come out in sorted order without the original spacing. The
// signature was checked over the bytes received, before Redact. Redact
// never modifies payload.
func (p *Provider) Redact(payload []byte) []byte {
	if !bytes.Contains(payload, []byte(`"`+secretField+`"`)) {
		return payload
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(payload, &top); err != nil {
		return payload
	}
	if _, ok := top[secretField]; !ok {
		return payload
	}
	top[secretField] = json.RawMessage(`"[redacted]"`)
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(top); err != nil {
		return payload
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n"))
}
