package config

import (
	"crypto/sha256"
	"encoding/hex"
)

// Secret is a credential from the configuration: an HMAC key, a token, or a
// "user:password" pair. It prints, formats and marshals as "<secret>" so that it
// never reaches a log line, an error message or an API answer by accident; use
// Reveal to read the value where it is needed for a comparison or a signature.
type Secret string

// String returns "<secret>", never the value.
func (s Secret) String() string { return "<secret>" }

// GoString returns "<secret>", never the value, for %#v.
func (s Secret) GoString() string { return "<secret>" }

// MarshalText returns "<secret>", never the value, for JSON and YAML encoders.
func (s Secret) MarshalText() ([]byte, error) { return []byte("<secret>"), nil }

// Reveal returns the secret's value. Callers must not log or store it.
func (s Secret) Reveal() string { return string(s) }

// Fingerprint returns a short, non-reversible identifier of the secret (the
// first 8 hex digits of its SHA-256), safe to show in a UI or a log to tell
// rotated secrets apart.
func (s Secret) Fingerprint() string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}
