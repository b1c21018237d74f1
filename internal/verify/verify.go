// Package verify holds the pure checks that authenticate a webhook delivery:
// HMAC signatures in hex or base64 with an optional prefix, plain tokens,
// Standard Webhooks signatures, HTTP Basic credentials and source-address
// allowlists. It does no I/O and knows nothing of HTTP servers; every
// comparison of secret material is constant-time.
package verify

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // legacy forge signatures (X-Hub-Signature, coding.net) are HMAC-SHA1.
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// Sentinel errors. Callers wrap them with the name of what failed and test
// them with errors.Is; ingest maps all of them to 401 Unauthorized.
var (
	// ErrMissingSignature means the request carried no signature or token
	// where one was required (an empty header counts as missing).
	ErrMissingSignature = errors.New("missing signature")
	// ErrBadSignature means a signature or token was present but matched
	// none of the endpoint's secrets, or was malformed (wrong prefix, bad
	// hex or base64).
	ErrBadSignature = errors.New("signature mismatch")
	// ErrStale means a signed timestamp lies outside the accepted window.
	ErrStale = errors.New("timestamp outside tolerance")
	// ErrNoSecret means the endpoint has no secret to check against.
	ErrNoSecret = errors.New("no secret configured")
)

// Algorithm names a hash function for HMAC.
type Algorithm string

// The HMAC algorithms forges use.
const (
	SHA1   Algorithm = "sha1"
	SHA256 Algorithm = "sha256"
	SHA512 Algorithm = "sha512"
)

// New returns the hash constructor for a, or an error for an unknown name.
func (a Algorithm) New() (func() hash.Hash, error) {
	switch a {
	case SHA1:
		return sha1.New, nil
	case SHA256:
		return sha256.New, nil
	case SHA512:
		return sha512.New, nil
	}
	return nil, fmt.Errorf("unknown hmac algorithm %q (want sha1, sha256 or sha512)", string(a))
}

// Encoding names how a digest is written in a header.
type Encoding string

// The digest encodings forges use.
const (
	Hex    Encoding = "hex"
	Base64 Encoding = "base64"
)

// MAC returns HMAC(key, msg) with algorithm a. It panics only for an unknown
// algorithm, which configuration validation rules out.
func MAC(a Algorithm, key, msg []byte) []byte {
	h, err := a.New()
	if err != nil {
		panic(err)
	}
	m := hmac.New(h, key)
	m.Write(msg)
	return m.Sum(nil)
}

// Sign returns the header value for HMAC(key, msg): prefix followed by the
// digest in encoding enc. It is the inverse of HMAC and is used by tests, by
// `forgehook send` and by actions that re-sign a delivery.
func Sign(a Algorithm, enc Encoding, prefix string, key, msg []byte) string {
	sum := MAC(a, key, msg)
	if enc == Base64 {
		return prefix + base64.StdEncoding.EncodeToString(sum)
	}
	return prefix + hex.EncodeToString(sum)
}

// HMAC checks that header, after removing prefix, is the digest of msg under
// any of keys with algorithm a, written in encoding enc. The prefix match is
// case-insensitive for its letters ("sha256=" and "SHA256=" both pass), hex is
// accepted in either case, and base64 in standard or URL alphabet, padded or
// not. It returns nil, ErrMissingSignature, ErrBadSignature or ErrNoSecret.
func HMAC(a Algorithm, enc Encoding, prefix, header string, msg []byte, keys [][]byte) error {
	header = strings.TrimSpace(header)
	if header == "" || strings.EqualFold(header, strings.TrimSpace(prefix)) {
		return ErrMissingSignature
	}
	if len(keys) == 0 {
		return ErrNoSecret
	}
	if prefix != "" {
		if len(header) < len(prefix) || !strings.EqualFold(header[:len(prefix)], prefix) {
			return fmt.Errorf("%w: want prefix %q", ErrBadSignature, prefix)
		}
		header = header[len(prefix):]
	}
	got, err := decodeDigest(enc, header)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	h, err := a.New()
	if err != nil {
		return err
	}
	for _, k := range keys {
		m := hmac.New(h, k)
		m.Write(msg)
		if hmac.Equal(got, m.Sum(nil)) {
			return nil
		}
	}
	return ErrBadSignature
}

func decodeDigest(enc Encoding, s string) ([]byte, error) {
	switch enc {
	case Base64:
		for _, e := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			if b, err := e.DecodeString(s); err == nil {
				return b, nil
			}
		}
		return nil, errors.New("digest is not base64")
	default:
		b, err := hex.DecodeString(s)
		if err != nil {
			return nil, errors.New("digest is not hex")
		}
		return b, nil
	}
}

// Token checks that got equals any of want in constant time. An empty got is
// ErrMissingSignature; no candidates is ErrNoSecret.
func Token(got string, want [][]byte) error {
	if got == "" {
		return ErrMissingSignature
	}
	if len(want) == 0 {
		return ErrNoSecret
	}
	ok := 0
	for _, w := range want {
		// Compare against every candidate so the time taken does not tell
		// which secret matched.
		ok |= subtle.ConstantTimeCompare([]byte(got), w)
	}
	if ok == 1 {
		return nil
	}
	return ErrBadSignature
}
