package verify

import (
	"encoding/base64"
	"strings"
)

// BasicAuth checks an Authorization header carrying HTTP Basic credentials
// against candidates of the form "user:password", in constant time. Forges
// send these when the hook URL has userinfo (https://user:pass@host/...).
func BasicAuth(authorization string, candidates [][]byte) error {
	if authorization == "" {
		return ErrMissingSignature
	}
	scheme, rest, ok := strings.Cut(authorization, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return ErrMissingSignature
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
	if err != nil {
		return ErrBadSignature
	}
	return Token(string(raw), candidates)
}

// Authorization matches an Authorization header value against candidates:
// whole (a static header a sender is configured to send), as a Bearer
// token, or as HTTP Basic credentials ("user:password" candidates). It
// returns nil, ErrMissingSignature, ErrNoSecret or ErrBadSignature.
func Authorization(value string, candidates [][]byte) error {
	value = strings.TrimSpace(value)
	if value == "" {
		return ErrMissingSignature
	}
	if len(candidates) == 0 {
		return ErrNoSecret
	}
	if Token(value, candidates) == nil {
		return nil
	}
	scheme, rest, ok := strings.Cut(value, " ")
	rest = strings.TrimSpace(rest)
	switch {
	case !ok || rest == "":
	case strings.EqualFold(scheme, "Basic"):
		if BasicAuth(value, candidates) == nil {
			return nil
		}
	case strings.EqualFold(scheme, "Bearer"):
		if Token(rest, candidates) == nil {
			return nil
		}
	}
	return ErrBadSignature
}
