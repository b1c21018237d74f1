package event

import (
	"net/http"
	"strings"
)

// Redacted replaces the value of every credential-carrying header.
const Redacted = "[redacted]"

// credentialHeaders are the canonical names of headers whose values are
// secrets or signatures derived from them.
var credentialHeaders = map[string]bool{
	"Authorization":           true,
	"Proxy-Authorization":     true,
	"Cookie":                  true,
	"X-Gitlab-Token":          true,
	"X-Gitee-Token":           true,
	"X-Gitcode-Token":         true,
	"X-Atomgit-Token":         true,
	"X-Hub-Signature":         true,
	"X-Hub-Signature-256":     true,
	"X-Gitea-Signature":       true,
	"X-Forgejo-Signature":     true,
	"X-Gogs-Signature":        true,
	"X-Coding-Signature":      true,
	"X-Gitcode-Signature-256": true,
	"Webhook-Signature":       true,
}

// IsCredentialHeader reports whether the header name (any case) carries a
// credential and must be redacted. extra lists more names, such as a generic
// endpoint's configured signature or token header.
func IsCredentialHeader(name string, extra ...string) bool {
	c := http.CanonicalHeaderKey(name)
	if credentialHeaders[c] {
		return true
	}
	l := strings.ToLower(c)
	if strings.Contains(l, "signature") || strings.Contains(l, "token") || strings.Contains(l, "secret") || strings.Contains(l, "password") {
		return true
	}
	for _, e := range extra {
		if strings.EqualFold(e, name) {
			return true
		}
	}
	return false
}

// RedactHeader returns a copy of h with the values of credential headers
// replaced by Redacted.
func RedactHeader(h http.Header, extra ...string) map[string][]string {
	out := make(map[string][]string, len(h))
	for k, v := range h {
		if IsCredentialHeader(k, extra...) {
			r := make([]string, len(v))
			for i := range r {
				r[i] = Redacted
			}
			out[k] = r
			continue
		}
		out[k] = append([]string(nil), v...)
	}
	return out
}
