package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// StandardWebhooksTolerance is the timestamp window the Standard Webhooks
// specification recommends.
const StandardWebhooksTolerance = 5 * time.Minute

// StandardWebhooksKey decodes a Standard Webhooks signing secret
// ("whsec_" followed by base64) into the HMAC key. A secret without the
// prefix is decoded as base64 too; if it is not base64 its bytes are used
// as they are.
func StandardWebhooksKey(secret string) []byte {
	s := strings.TrimPrefix(secret, "whsec_")
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b
	}
	return []byte(s)
}

// SignStandardWebhooks returns the webhook-signature header value
// ("v1,<base64>") for id, timestamp ts and body under key.
//
// Spec: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
func SignStandardWebhooks(key []byte, id string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// StandardWebhooks checks a Standard Webhooks signature: sigHeader is the
// space-separated list of "v1,<base64>" signatures, tsHeader the Unix time in
// seconds, which must lie within tolerance of now. Any signature under any key
// may match (the sender's and the receiver's rotation).
//
// Spec: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
// GitLab 19.0 signing tokens: https://docs.gitlab.com/user/project/integrations/webhooks/#signing-tokens
func StandardWebhooks(id, tsHeader, sigHeader string, body []byte, keys [][]byte, now time.Time, tolerance time.Duration) error {
	if strings.TrimSpace(sigHeader) == "" {
		return ErrMissingSignature
	}
	if id == "" || tsHeader == "" {
		return fmt.Errorf("%w: webhook-id and webhook-timestamp are required", ErrMissingSignature)
	}
	if len(keys) == 0 {
		return ErrNoSecret
	}
	ts, err := strconv.ParseInt(strings.TrimSpace(tsHeader), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: webhook-timestamp is not a number", ErrBadSignature)
	}
	if tolerance <= 0 {
		tolerance = StandardWebhooksTolerance
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: webhook-timestamp is %s away", ErrStale, d.Round(time.Second))
	}
	var sigs [][]byte
	for _, f := range strings.Fields(sigHeader) {
		ver, val, ok := strings.Cut(f, ",")
		if !ok || ver != "v1" {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(val)
		if err != nil {
			continue
		}
		sigs = append(sigs, b)
	}
	if len(sigs) == 0 {
		return fmt.Errorf("%w: no v1 signature", ErrBadSignature)
	}
	for _, k := range keys {
		m := hmac.New(sha256.New, k)
		m.Write([]byte(id))
		m.Write([]byte{'.'})
		m.Write([]byte(strings.TrimSpace(tsHeader)))
		m.Write([]byte{'.'})
		m.Write(body)
		want := m.Sum(nil)
		for _, s := range sigs {
			if hmac.Equal(s, want) {
				return nil
			}
		}
	}
	return ErrBadSignature
}
