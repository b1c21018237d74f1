package event

import (
	"net/http"
	"strings"
)

// Redacted replaces the value of every credential-carrying header.
const Redacted = "[redacted]"

// credentialHeaders are the canonical names of the HTTP headers that carry
// credentials whatever the sender, and whose names do not say so. A forge's
// own credential headers are declared by its provider (the descriptor's
// CredentialHeaders, which ingest passes to RedactHeader as extra names);
// the names of today's all say signature or token, so credentialWords
// catch them wherever no provider is at hand (stored samples, forwarded
// headers).
var credentialHeaders = map[string]bool{
	"Authorization":       true,
	"Proxy-Authorization": true,
	"Cookie":              true,
}

// IsCredentialHeader reports whether the header name (any case) carries a
// credential and must be redacted: Authorization, Proxy-Authorization,
// Cookie, a name containing signature, token, secret or password, or one of
// extra, the names a provider declares (a forge's credential headers, a
// generic endpoint's configured signature or token header).
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
