// Package redact turns URLs into text that is safe to print, log or store:
// the one implementation that the configuration printer, the store, the
// actions and the CLI share. It imports only the standard library, so that
// every layer of internal/deps_test.go may use it.
package redact

import (
	"net/url"
	"strings"
)

// Mask replaces every part of a URL that may hold a credential. It is the
// mask of Go's url.URL.Redacted.
const Mask = "xxxxx"

// Unparsable replaces a whole string that is not a URL: its parts, a
// password among them, cannot be told apart.
const Unparsable = "<unparsable URL>"

// URL returns s, a URL, without anything that may be a credential:
//   - the whole user information (a user name alone may be a token, as in
//     nats://TOKEN@host or https://TOKEN@host) becomes Mask;
//   - every query value becomes Mask, whatever its key (sig, code, key and
//     the like carry credentials under names no list foresees), and a query
//     pair without "=" becomes Mask whole; the keys, their order and the
//     empty pairs stay;
//   - a fragment becomes Mask;
//   - in a URL without "//" (user:pass@host, token@host, which clients such
//     as NATS's read as user information), everything before the last "@"
//     of its first segment becomes Mask.
//
// The scheme, host, port and path stay, so that the result still names the
// target. A string that does not parse as a URL (url.Parse) yields
// Unparsable. A URL without credentials may still come back rewritten in
// url.URL.String's canonical form (a lower-case scheme, for one).
func URL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return Unparsable
	}
	if u.User != nil {
		u.User = url.User(Mask)
	}
	if u.Opaque != "" {
		u.Opaque = maskBeforeAt(u.Opaque)
	} else if u.Host == "" && u.Scheme == "" && !strings.HasPrefix(u.Path, "/") {
		if p := maskBeforeAt(u.Path); p != u.Path {
			u.Path, u.RawPath = p, ""
		}
	}
	u.RawQuery = query(u.RawQuery)
	if u.Fragment != "" || u.RawFragment != "" {
		u.Fragment, u.RawFragment = Mask, ""
	}
	return u.String()
}

// URLs applies URL to each entry of a comma-separated list of URLs (a NATS
// server list) and joins the results with ",", without the blanks around
// the entries.
func URLs(list string) string {
	parts := strings.Split(list, ",")
	for i, p := range parts {
		parts[i] = URL(strings.TrimSpace(p))
	}
	return strings.Join(parts, ",")
}

// maskBeforeAt masks what comes before the last "@" of the first segment
// of p (up to its first "/"): user information written without "//".
func maskBeforeAt(p string) string {
	seg, rest, slash := strings.Cut(p, "/")
	at := strings.LastIndexByte(seg, '@')
	if at < 0 {
		return p
	}
	seg = Mask + seg[at:]
	if slash {
		return seg + "/" + rest
	}
	return seg
}

// query masks every value of the raw query q, keeping its keys as written.
func query(q string) string {
	if q == "" {
		return ""
	}
	var b strings.Builder
	b.Grow(len(q))
	for i, pair := range strings.Split(q, "&") {
		if i > 0 {
			b.WriteByte('&')
		}
		switch k, _, ok := strings.Cut(pair, "="); {
		case pair == "":
		case ok:
			b.WriteString(k)
			b.WriteString("=" + Mask)
		default:
			b.WriteString(Mask)
		}
	}
	return b.String()
}
