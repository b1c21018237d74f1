package coding

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/verify"
)

// tokenField is the payload member in which WebHook V1 sends the hook's
// token, in clear (https://open.coding.net/webhooks/).
const tokenField = "token"

// Verify authenticates req with any of secrets, by the first credential the
// delivery carries, in this order; a credential that fails is not rescued by
// a later one:
//
//  1. X-Coding-Signature: "sha1=" and the hex HMAC-SHA1 under the hook's
//     token, the scheme of WebHook V2
//     (https://coding.net/help/docs/project-settings/open/webhook.html) and,
//     presumably, of the Service Hook's "signing token" (its page,
//     https://coding.net/help/docs/project-settings/service-hook/service.html,
//     describes the same sha1= value but does not name the header). The
//     HMAC is checked over [forge.Request].Body, the raw body. For a form-encoded
//     delivery CODING does not say what it signs, so the HMAC of req.Payload,
//     the decoded payload= JSON, is accepted too: a delivery passes when
//     either matches. A header that is empty or only "sha1=" counts as
//     absent.
//  2. Authorization, which a Service Hook sends when it is configured with
//     a user name and password (or when its owner adds the header): Basic
//     credentials are compared with secrets written "user:password", any
//     other value whole with the secrets, in constant time.
//  3. WebHook V1's "token" member of the JSON payload, compared with the
//     secrets in constant time. It authenticates the sender, not the body;
//     [Provider.Redact] keeps it out of the stored event.
//
// Without any of them the error wraps [verify.ErrMissingSignature]. Errors
// wrap [verify.ErrMissingSignature], [verify.ErrBadSignature] or
// [verify.ErrNoSecret], prefixed with "coding: verify" and what was checked;
// they never contain a secret.
func (p *Provider) Verify(req *forge.Request, secrets []config.Secret) error {
	keys := forge.Keys(secrets)
	if sig := strings.TrimSpace(req.Header.Get(HeaderSignature)); sig != "" && !strings.EqualFold(sig, prefixSHA1) {
		err := verify.HMAC(verify.SHA1, verify.Hex, prefixSHA1, sig, req.Body, keys)
		if err != nil && req.Form && errors.Is(err, verify.ErrBadSignature) {
			if verify.HMAC(verify.SHA1, verify.Hex, prefixSHA1, sig, req.Payload, keys) == nil {
				return nil
			}
		}
		return wrap(HeaderSignature, err)
	}
	if auth := strings.TrimSpace(req.Header.Get(HeaderAuthorization)); auth != "" {
		if scheme, _, _ := strings.Cut(auth, " "); strings.EqualFold(scheme, "Basic") {
			return wrap(HeaderAuthorization+" (Basic)", verify.BasicAuth(auth, keys))
		}
		return wrap(HeaderAuthorization, verify.Token(auth, keys))
	}
	if token, ok := bodyToken(req.Payload); ok {
		return wrap("payload token", verify.Token(token, keys))
	}
	return fmt.Errorf("coding: verify: no %s, %s or payload token: %w", HeaderSignature, HeaderAuthorization, verify.ErrMissingSignature)
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("coding: verify %s: %w", what, err)
}

// bodyToken returns the value of the payload's top-level "token" member
// when it is a non-empty string, and whether it is. Of repeated members the
// last counts, as encoding/json decodes them. A payload that is not a
// well-formed JSON object has no token.
func bodyToken(payload []byte) (string, bool) {
	if !bytes.Contains(payload, []byte(`"`+tokenField+`"`)) && !bytes.Contains(payload, []byte(`\u`)) {
		return "", false
	}
	var token string
	ok := scanMembers(payload, tokenField, func(start, end int) {
		token = ""
		_ = json.Unmarshal(payload[start:end], &token)
	})
	return token, ok && token != ""
}

// redactedValue replaces a secret member's value in the stored payload.
var redactedValue = []byte(`"[redacted]"`)

// Redact returns the payload to store: payload itself, unless it is a JSON
// object with a top-level "token" member (WebHook V1 sends the hook's token
// there), whose value is then replaced by "[redacted]". Only that value's
// bytes change: the other members keep their order and spacing. The token
// was checked over the bytes received, before Redact. Redact never modifies
// payload.
func (p *Provider) Redact(payload []byte) []byte {
	if !bytes.Contains(payload, []byte(`"`+tokenField+`"`)) && !bytes.Contains(payload, []byte(`\u`)) {
		return payload
	}
	type span struct{ start, end int }
	var spans []span
	ok := scanMembers(payload, tokenField, func(start, end int) {
		spans = append(spans, span{start, end})
	})
	if !ok || len(spans) == 0 {
		return payload
	}
	out := make([]byte, 0, len(payload))
	last := 0
	for _, s := range spans {
		out = append(out, payload[last:s.start]...)
		out = append(out, redactedValue...)
		last = s.end
	}
	return append(out, payload[last:]...)
}

// scanMembers walks the members of the JSON object payload and calls at
// with the offsets in payload of the value of each top-level member named
// key (an exact match after unescaping, unlike encoding/json's
// case-insensitive one). It reports whether payload is one well-formed JSON
// object; when it is not, the offsets given may be meaningless.
func scanMembers(payload []byte, key string, at func(start, end int)) bool {
	dec := json.NewDecoder(bytes.NewReader(payload))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return false
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return false
		}
		if k, _ := kt.(string); k == key {
			end := int(dec.InputOffset())
			at(end-len(raw), end)
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return false
	}
	_, err := dec.Token()
	return errors.Is(err, io.EOF)
}
