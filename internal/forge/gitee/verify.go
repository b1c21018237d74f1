package gitee

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/verify"
)

// Signature returns the X-Gitee-Token that Gitee sends for a hook whose
// signing key is secret, at timestamp (X-Gitee-Timestamp, exactly as sent):
// base64(HMAC-SHA256(secret, timestamp + "\n" + secret)). It does not cover
// the body.
//
// See https://help.gitee.com/webhook/how-to-verify-webhook-keys.
func Signature(secret, timestamp string) string {
	return verify.Sign(verify.SHA256, verify.Base64, "", []byte(secret), signedString(timestamp, secret))
}

func signedString(timestamp, secret string) []byte {
	return []byte(timestamp + "\n" + secret)
}

// Verify authenticates req by its X-Gitee-Token header; any of secrets may
// match (rotation). Gitee sends one of two things there, depending on how
// the hook was set up:
//
//  1. The hook's password, verbatim. It is compared with every secret in
//     constant time. X-Gitee-Timestamp plays no part.
//  2. A signature, for a hook with a signing key: the standard base64 of
//     HMAC-SHA256(key, timestamp + "\n" + key), where timestamp is
//     X-Gitee-Timestamp (Unix milliseconds) as sent. Gitee's documentation
//     URL-encodes the value, deliveries carry it plain; both are accepted.
//     A signature that matches a secret must have a timestamp within the
//     endpoint's tolerance (default one hour) of req.Received, or Verify
//     fails with verify.ErrStale.
//
// Neither covers the body: Verify authenticates the sender, not the
// payload, and a captured delivery stays valid (password mode: forever;
// signature mode: within the tolerance) with any body.
//
// A missing or empty X-Gitee-Token (a hook without password or key) is
// verify.ErrMissingSignature. The error wraps verify.ErrMissingSignature,
// verify.ErrBadSignature, verify.ErrStale or verify.ErrNoSecret, and never
// contains a secret.
//
// See https://help.gitee.com/webhook/how-to-verify-webhook-keys.
func (p *Provider) Verify(req *forge.Request, secrets []config.Secret) error {
	tok := strings.TrimSpace(req.Header.Get(HeaderToken))
	if tok == "" {
		return fmt.Errorf("gitee: verify: no %s header: %w", HeaderToken, verify.ErrMissingSignature)
	}
	keys := forge.Keys(secrets)
	if len(keys) == 0 {
		return fmt.Errorf("gitee: verify %s: %w", HeaderToken, verify.ErrNoSecret)
	}
	if verify.Token(tok, keys) == nil {
		return nil
	}
	ts := strings.TrimSpace(req.Header.Get(HeaderTimestamp))
	if ts == "" {
		return fmt.Errorf("gitee: verify %s: not a password, and no %s for a signature: %w", HeaderToken, HeaderTimestamp, verify.ErrBadSignature)
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("gitee: verify %s: %s is not a number: %w", HeaderToken, HeaderTimestamp, verify.ErrBadSignature)
	}
	if !matchSignature(tok, ts, keys) {
		return fmt.Errorf("gitee: verify %s: %w", HeaderToken, verify.ErrBadSignature)
	}
	tol := p.tolerance
	if tol <= 0 {
		tol = DefaultTolerance
	}
	if d := req.Received.Sub(time.UnixMilli(ms)); d > tol || d < -tol {
		return fmt.Errorf("gitee: verify %s: %s is %s away (tolerance %s): %w", HeaderToken, HeaderTimestamp, d.Round(time.Second), tol, verify.ErrStale)
	}
	return nil
}

// matchSignature reports whether tok, as sent or URL-decoded, is the
// signature of ts under any of keys.
func matchSignature(tok, ts string, keys [][]byte) bool {
	forms := []string{tok}
	if strings.Contains(tok, "%") {
		// PathUnescape, not QueryUnescape: a '+' of the base64 alphabet
		// must not become a space.
		if dec, err := url.PathUnescape(tok); err == nil && dec != tok {
			forms = append(forms, dec)
		}
	}
	for _, form := range forms {
		for _, k := range keys {
			msg := signedString(ts, string(k))
			if verify.HMAC(verify.SHA256, verify.Base64, "", form, msg, [][]byte{k}) == nil {
				return true
			}
		}
	}
	return false
}

// Sign sets on h the credentials of a Gitee hook whose signing key is
// secret, as Gitee would send them at now: X-Gitee-Timestamp (now in Unix
// milliseconds) and X-Gitee-Token (its [Signature]). The signature does not
// cover payload, which is unused. It sets no other header.
//
// See https://help.gitee.com/webhook/how-to-verify-webhook-keys.
func (p *Provider) Sign(h http.Header, payload []byte, secret string, now time.Time) {
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	h.Set(HeaderTimestamp, ts)
	h.Set(HeaderToken, Signature(secret, ts))
}
