package verify_test

import (
	"bytes"
	"encoding/base64"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/verify"
)

// The test vector of the Standard Webhooks specification
// (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md,
// "Signature scheme").
const (
	swSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	swID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	swTS     = int64(1614265330)
	swTSStr  = "1614265330"
	swBody   = `{"test": 2432232314}`
	swSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

	// swSig2 is the signature of the same message under the key
	// "another-key-32-bytes-long-ok!!!!" (base64 in swSecret2), computed
	// with Python's hmac module.
	swSecret2 = "whsec_YW5vdGhlci1rZXktMzItYnl0ZXMtbG9uZy1vayEhISE="
	swSig2    = "v1,c0qp1+QVd7PHqfKyvNLXQrCTQI/xvN+cwSg47DYU10o="
)

func TestVerifyStandardWebhooksKnownAnswer(t *testing.T) {
	key := verify.StandardWebhooksKey(swSecret)
	if got := verify.SignStandardWebhooks(key, swID, swTS, []byte(swBody)); got != swSig {
		t.Errorf("SignStandardWebhooks = %q, want %q", got, swSig)
	}
	if got := verify.SignStandardWebhooks(verify.StandardWebhooksKey(swSecret2), swID, swTS, []byte(swBody)); got != swSig2 {
		t.Errorf("SignStandardWebhooks(key 2) = %q, want %q", got, swSig2)
	}
	now := time.Unix(swTS, 0)
	checkErr(t, verify.StandardWebhooks(swID, swTSStr, swSig, []byte(swBody), [][]byte{key}, now, 0), nil)
}

func TestVerifyStandardWebhooksKey(t *testing.T) {
	want, _ := base64.StdEncoding.DecodeString("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	tests := []struct {
		secret string
		want   []byte
	}{
		{swSecret, want},
		{"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", want}, // without whsec_
		{"whsec_not base64!", []byte("not base64!")},
		{"plain-secret", []byte("plain-secret")},
	}
	for _, tt := range tests {
		if got := verify.StandardWebhooksKey(tt.secret); !bytes.Equal(got, tt.want) {
			t.Errorf("StandardWebhooksKey(%q) = %q, want %q", tt.secret, got, tt.want)
		}
	}
}

func TestVerifyStandardWebhooksNegative(t *testing.T) {
	k1 := verify.StandardWebhooksKey(swSecret)
	k2 := verify.StandardWebhooksKey(swSecret2)
	body := []byte(swBody)
	at := time.Unix(swTS, 0)
	otherTS := verify.SignStandardWebhooks(k1, swID, swTS+1, body)
	emptyBody := verify.SignStandardWebhooks(k1, swID, swTS, nil)
	tests := []struct {
		name      string
		id, ts    string
		sig       string
		body      []byte
		keys      [][]byte
		now       time.Time
		tolerance time.Duration
		want      error
	}{
		{"spec vector", swID, swTSStr, swSig, body, [][]byte{k1}, at, 0, nil},
		{"missing signature", swID, swTSStr, "", body, [][]byte{k1}, at, 0, verify.ErrMissingSignature},
		{"blank signature", swID, swTSStr, "  ", body, [][]byte{k1}, at, 0, verify.ErrMissingSignature},
		{"missing id", "", swTSStr, swSig, body, [][]byte{k1}, at, 0, verify.ErrMissingSignature},
		{"missing timestamp", swID, "", swSig, body, [][]byte{k1}, at, 0, verify.ErrMissingSignature},
		{"no secret", swID, swTSStr, swSig, body, nil, at, 0, verify.ErrNoSecret},
		{"timestamp not a number", swID, "yesterday", swSig, body, [][]byte{k1}, at, 0, verify.ErrBadSignature},
		{"timestamp in milliseconds", swID, swTSStr + "000", swSig, body, [][]byte{k1}, at, 0, verify.ErrStale},
		{"stale", swID, swTSStr, swSig, body, [][]byte{k1}, at.Add(5*time.Minute + time.Second), 0, verify.ErrStale},
		{"future", swID, swTSStr, swSig, body, [][]byte{k1}, at.Add(-5*time.Minute - time.Second), 0, verify.ErrStale},
		{"stale by a day", swID, swTSStr, swSig, body, [][]byte{k1}, at.Add(24 * time.Hour), 0, verify.ErrStale},
		{"at the tolerance, past", swID, swTSStr, swSig, body, [][]byte{k1}, at.Add(5 * time.Minute), 0, nil},
		{"at the tolerance, future", swID, swTSStr, swSig, body, [][]byte{k1}, at.Add(-5 * time.Minute), 0, nil},
		{"custom tolerance exceeded", swID, swTSStr, swSig, body, [][]byte{k1}, at.Add(11 * time.Second), 10 * time.Second, verify.ErrStale},
		{"custom tolerance kept", swID, swTSStr, swSig, body, [][]byte{k1}, at.Add(10 * time.Second), 10 * time.Second, nil},
		{"stale and wrong secret", swID, swTSStr, swSig, body, [][]byte{k2}, at.Add(time.Hour), 0, verify.ErrStale},
		{"wrong secret", swID, swTSStr, swSig, body, [][]byte{k2}, at, 0, verify.ErrBadSignature},
		{"rotation: receiver has old and new", swID, swTSStr, swSig, body, [][]byte{k2, k1}, at, 0, nil},
		{"rotation: sender signs with both", swID, swTSStr, swSig2 + " " + swSig, body, [][]byte{k1}, at, 0, nil},
		{"several v1, one valid", swID, swTSStr, "v1,AAAA v1,bm90LWl0 " + swSig + " v1,Zm9v", body, [][]byte{k1}, at, 0, nil},
		{"several v1, none valid", swID, swTSStr, "v1,AAAA v1,bm90LWl0", body, [][]byte{k1}, at, 0, verify.ErrBadSignature},
		{"v1 with bad base64, then valid", swID, swTSStr, "v1,!!! " + swSig, body, [][]byte{k1}, at, 0, nil},
		{"v2 only", swID, swTSStr, "v2," + swSig[3:], body, [][]byte{k1}, at, 0, verify.ErrBadSignature},
		{"v1a only (asymmetric)", swID, swTSStr, "v1a," + swSig[3:], body, [][]byte{k1}, at, 0, verify.ErrBadSignature},
		{"no version", swID, swTSStr, swSig[3:], body, [][]byte{k1}, at, 0, verify.ErrBadSignature},
		{"bad base64", swID, swTSStr, "v1,not*base64", body, [][]byte{k1}, at, 0, verify.ErrBadSignature},
		{"tampered body", swID, swTSStr, swSig, []byte(`{"test": 2432232315}`), [][]byte{k1}, at, 0, verify.ErrBadSignature},
		{"empty body", swID, swTSStr, swSig, nil, [][]byte{k1}, at, 0, verify.ErrBadSignature},
		{"empty body signed", swID, swTSStr, emptyBody, nil, [][]byte{k1}, at, 0, nil},
		{"other id", "msg_other", swTSStr, swSig, body, [][]byte{k1}, at, 0, verify.ErrBadSignature},
		{"other timestamp, within tolerance", swID, swTSStr, otherTS, body, [][]byte{k1}, at, 0, verify.ErrBadSignature},
		{"timestamp header moved by one second", swID, "1614265331", swSig, body, [][]byte{k1}, at, 0, verify.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, verify.StandardWebhooks(tt.id, tt.ts, tt.sig, tt.body, tt.keys, tt.now, tt.tolerance), tt.want)
		})
	}
}
