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
	if credentialHeaders[name] || credentialHeaders[http.CanonicalHeaderKey(name)] {
		return true
	}
	for _, w := range credentialWords {
		if containsFoldASCII(name, w) {
			return true
		}
	}
	for _, e := range extra {
		if strings.EqualFold(e, name) {
			return true
		}
	}
	return false
}

// credentialWords mark a header as a credential wherever they appear in
// its name, in any case.
var credentialWords = []string{"signature", "token", "secret", "password"}

// containsFoldASCII reports whether s contains the lower-case ASCII word w,
// ignoring the case of ASCII letters in s, without allocating.
func containsFoldASCII(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		j := 0
		for ; j < len(w); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != w[j] {
				break
			}
		}
		if j == len(w) {
			return true
		}
	}
	return false
}

// RedactHeader returns a copy of h with the values of credential headers
// replaced by Redacted. The copied values share one backing array.
func RedactHeader(h http.Header, extra ...string) map[string][]string {
	n := 0
	for _, v := range h {
		n += len(v)
	}
	vals := make([]string, 0, n)
	out := make(map[string][]string, len(h))
	for k, v := range h {
		start := len(vals)
		if IsCredentialHeader(k, extra...) {
			for range v {
				vals = append(vals, Redacted)
			}
		} else {
			vals = append(vals, v...)
		}
		out[k] = vals[start:len(vals):len(vals)]
	}
	return out
}
