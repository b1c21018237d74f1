package bitbucket

import (
	"strings"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/verify"
)

// The headers that Bitbucket Cloud and Bitbucket Data Center both send.
const (
	// HeaderEventKey names the event that triggered the delivery
	// ("repo:push" on Cloud, "repo:refs_changed" on Data Center).
	HeaderEventKey = "X-Event-Key"
	// HeaderSignature carries [SignaturePrefix] and the lowercase hex
	// HMAC-SHA256 of the raw body under the hook's secret. GitHub uses this
	// header name for an HMAC-SHA1; Bitbucket's is SHA-256.
	HeaderSignature = "X-Hub-Signature"
)

// SignaturePrefix names the algorithm in front of the hex digest in
// [HeaderSignature].
const SignaturePrefix = "sha256="

// CheckSignature checks header, the value of [HeaderSignature], against body,
// the raw request body: it must be [SignaturePrefix] followed by the hex
// HMAC-SHA256 of body under any of secrets, compared in constant time. This
// is the scheme of Bitbucket Cloud
// (https://bitbucket.org/blog/enhanced-webhook-security) and of Bitbucket
// Data Center
// (https://confluence.atlassian.com/bitbucketserver/manage-webhooks-938025878.html,
// "Webhook secrets"). The prefix and the hex digits may be in either case.
//
// It returns nil or an error wrapping [verify.ErrMissingSignature] (header
// empty, or the prefix alone), [verify.ErrBadSignature] (another prefix such
// as GitHub's "sha1=", bad hex, no secret matches) or [verify.ErrNoSecret].
// The error does not name the header: callers wrap it with their forge and
// header.
func CheckSignature(header string, body []byte, secrets []config.Secret) error {
	return verify.HMAC(verify.SHA256, verify.Hex, SignaturePrefix, header, body, forge.Keys(secrets))
}

// Signature returns the [HeaderSignature] value that Bitbucket sends for body
// under secret: [SignaturePrefix] and the lowercase hex HMAC-SHA256. It is the
// inverse of [CheckSignature].
func Signature(body []byte, secret string) string {
	return verify.Sign(verify.SHA256, verify.Hex, SignaturePrefix, []byte(secret), body)
}

// KeyAction splits an event key at its first colon. forgeAction is the rest
// of the key, which Bitbucket uses as the event's action ("fulfilled" for
// "pullrequest:fulfilled", "reviewer:approved" for Data Center's
// "pr:reviewer:approved"), or the whole key when it has no colon. action is
// [LowerSnake] of forgeAction ("reviewer_approved").
func KeyAction(key string) (forgeAction, action string) {
	_, verb, ok := strings.Cut(key, ":")
	if !ok {
		verb = key
	}
	return verb, forge.LowerSnake(verb)
}
