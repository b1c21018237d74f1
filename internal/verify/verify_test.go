package verify_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/forgehook/forgehook/internal/verify"
)

// sentinels are the errors a verifier may return; every failure must wrap
// exactly one of them.
var sentinels = []error{verify.ErrMissingSignature, verify.ErrBadSignature, verify.ErrStale, verify.ErrNoSecret}

// checkErr fails t unless err is nil when want is nil, or wraps want and no
// other sentinel.
func checkErr(t testing.TB, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("err = %v, want nil", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want errors.Is(err, %q)", err, want)
	}
	for _, s := range sentinels {
		if s != want && errors.Is(err, s) {
			t.Fatalf("err = %v also matches %q, want only %q", err, s, want)
		}
	}
}

func keys(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// Known-answer vectors. The GitHub one is from GitHub's documentation
// (https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation);
// the others were computed independently with Python's hmac, hashlib and
// base64 modules, e.g.
//
//	python3 -c 'import hmac,hashlib; print(hmac.new(b"secret", b"{\"ref\":\"refs/heads/main\"}", hashlib.sha512).hexdigest())'
const (
	githubSecret = "It's a Secret to Everybody"
	githubBody   = "Hello, World!"
	githubSig256 = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

	giteaSecret    = "secret"
	giteaBody      = `{"ref":"refs/heads/main"}`
	giteaSHA256Hex = "d8f89f0618acd61fe621aa4e64078c0e2bca15d0b578b7f3eb734f55883c5320"
	giteaSHA1Hex   = "b4a16e3f7e972ac84f7ec491f5bd8e412e95cd69"
	giteaSHA512Hex = "caf65d96d7e92d8f7ceb7b15e1c824906470a936c8b1a7498723c6faf3b1c0f497fa2e035a0fbb429f203fb9a8cd4ad0383ec0116924e859ccf25087b1789b9e"
	giteaSHA256B64 = "2PifBhis1h/mIapOZAeMDivKFdC1eLfz63NPVYg8UyA="
	giteaSHA256URL = "2PifBhis1h_mIapOZAeMDivKFdC1eLfz63NPVYg8UyA" // base64url, unpadded
	giteaSHA512B64 = "yvZdltfpLY9863sV4cgkkGRwqTbIsadJhyPG+vOxwPSX+i4DWg+7Qp8gP7mozUrQOD7AEWkk6FnM8lCHsXibng=="
	giteaSHA1B64   = "tKFuP36XKshPfsSR9b2OQS6VzWk="

	// HMAC-SHA256("secret", "")
	emptySHA256Hex = "f9e66e179b6747ae54108f82f8ade8b3c25d76fd30afde6c395822c530196169"
)

func TestVerifyHMACKnownAnswers(t *testing.T) {
	tests := []struct {
		name   string
		alg    verify.Algorithm
		enc    verify.Encoding
		prefix string
		header string
		body   string
		secret string
		// sign is the exact header Sign must produce ("" when header is
		// a variant spelling that Sign does not produce).
		sign string
	}{
		{"github docs vector", verify.SHA256, verify.Hex, "sha256=", githubSig256, githubBody, githubSecret, githubSig256},
		{"gitea X-Gitea-Signature", verify.SHA256, verify.Hex, "", giteaSHA256Hex, giteaBody, giteaSecret, giteaSHA256Hex},
		{"gitea X-Hub-Signature-256", verify.SHA256, verify.Hex, "sha256=", "sha256=" + giteaSHA256Hex, giteaBody, giteaSecret, "sha256=" + giteaSHA256Hex},
		{"gitea X-Hub-Signature sha1", verify.SHA1, verify.Hex, "sha1=", "sha1=" + giteaSHA1Hex, giteaBody, giteaSecret, "sha1=" + giteaSHA1Hex},
		{"sha512 hex", verify.SHA512, verify.Hex, "sha512=", "sha512=" + giteaSHA512Hex, giteaBody, giteaSecret, "sha512=" + giteaSHA512Hex},
		{"sha256 base64", verify.SHA256, verify.Base64, "", giteaSHA256B64, giteaBody, giteaSecret, giteaSHA256B64},
		{"sha512 base64", verify.SHA512, verify.Base64, "", giteaSHA512B64, giteaBody, giteaSecret, giteaSHA512B64},
		{"sha1 base64", verify.SHA1, verify.Base64, "", giteaSHA1B64, giteaBody, giteaSecret, giteaSHA1B64},
		{"empty body", verify.SHA256, verify.Hex, "", emptySHA256Hex, "", giteaSecret, emptySHA256Hex},
		{"base64url unpadded", verify.SHA256, verify.Base64, "", giteaSHA256URL, giteaBody, giteaSecret, ""},
		{"base64 unpadded", verify.SHA256, verify.Base64, "", strings.TrimRight(giteaSHA256B64, "="), giteaBody, giteaSecret, ""},
		{"uppercase hex", verify.SHA256, verify.Hex, "sha256=", "sha256=" + strings.ToUpper(giteaSHA256Hex), giteaBody, giteaSecret, ""},
		{"uppercase prefix", verify.SHA256, verify.Hex, "sha256=", "SHA256=" + giteaSHA256Hex, giteaBody, giteaSecret, ""},
		{"surrounding space", verify.SHA256, verify.Hex, "sha256=", "  sha256=" + giteaSHA256Hex + " ", giteaBody, giteaSecret, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, verify.HMAC(tt.alg, tt.enc, tt.prefix, tt.header, []byte(tt.body), keys(tt.secret)), nil)
			if tt.sign != "" {
				if got := verify.Sign(tt.alg, tt.enc, tt.prefix, []byte(tt.secret), []byte(tt.body)); got != tt.sign {
					t.Errorf("Sign = %q, want %q", got, tt.sign)
				}
			}
		})
	}
}

func TestVerifyHMACNegative(t *testing.T) {
	body := []byte(giteaBody)
	good := keys(giteaSecret)
	sig1 := "sha1=" + giteaSHA1Hex
	sig256 := "sha256=" + giteaSHA256Hex
	tests := []struct {
		name   string
		alg    verify.Algorithm
		enc    verify.Encoding
		prefix string
		header string
		body   []byte
		keys   [][]byte
		want   error
	}{
		{"missing header", verify.SHA256, verify.Hex, "sha256=", "", body, good, verify.ErrMissingSignature},
		{"blank header", verify.SHA256, verify.Hex, "sha256=", "   ", body, good, verify.ErrMissingSignature},
		{"prefix only", verify.SHA256, verify.Hex, "sha256=", "sha256=", body, good, verify.ErrMissingSignature},
		{"prefix only, other case", verify.SHA256, verify.Hex, "sha256=", "SHA256=", body, good, verify.ErrMissingSignature},
		{"prefix only, prefix with trailing space", verify.SHA256, verify.Hex, "HMAC ", "HMAC ", body, good, verify.ErrMissingSignature},
		{"missing header and no secret", verify.SHA256, verify.Hex, "", "", body, nil, verify.ErrMissingSignature},
		{"no secret", verify.SHA256, verify.Hex, "sha256=", sig256, body, nil, verify.ErrNoSecret},
		{"wrong prefix", verify.SHA256, verify.Hex, "sha256=", "sha1=" + giteaSHA256Hex, body, good, verify.ErrBadSignature},
		{"prefix required but absent", verify.SHA256, verify.Hex, "sha256=", giteaSHA256Hex, body, good, verify.ErrBadSignature},
		{"header shorter than prefix", verify.SHA256, verify.Hex, "sha256=", "sha", body, good, verify.ErrBadSignature},
		{"unexpected prefix", verify.SHA256, verify.Hex, "", sig256, body, good, verify.ErrBadSignature},
		{"bad hex", verify.SHA256, verify.Hex, "sha256=", "sha256=zz" + giteaSHA256Hex[2:], body, good, verify.ErrBadSignature},
		{"odd-length hex", verify.SHA256, verify.Hex, "sha256=", sig256[:len(sig256)-1], body, good, verify.ErrBadSignature},
		{"truncated digest", verify.SHA256, verify.Hex, "sha256=", sig256[:len(sig256)-2], body, good, verify.ErrBadSignature},
		{"digest with trailing byte", verify.SHA256, verify.Hex, "sha256=", sig256 + "00", body, good, verify.ErrBadSignature},
		{"hex where base64 expected", verify.SHA256, verify.Base64, "", giteaSHA256Hex, body, good, verify.ErrBadSignature},
		{"bad base64", verify.SHA256, verify.Base64, "", "!!!not-base64!!!", body, good, verify.ErrBadSignature},
		{"base64 where hex expected", verify.SHA256, verify.Hex, "", giteaSHA256B64, body, good, verify.ErrBadSignature},
		{"wrong secret", verify.SHA256, verify.Hex, "sha256=", sig256, body, keys("not-the-secret"), verify.ErrBadSignature},
		{"secret differs in case", verify.SHA256, verify.Hex, "sha256=", sig256, body, keys("SECRET"), verify.ErrBadSignature},
		{"rotation: none matches", verify.SHA256, verify.Hex, "sha256=", sig256, body, keys("old", "new"), verify.ErrBadSignature},
		{"rotation: new key signed", verify.SHA256, verify.Hex, "sha256=", sig256, body, keys("old", giteaSecret), nil},
		{"rotation: old key signed", verify.SHA256, verify.Hex, "sha256=", sig256, body, keys(giteaSecret, "new"), nil},
		{"sha1 digest checked as sha256", verify.SHA256, verify.Hex, "sha256=", "sha256=" + giteaSHA1Hex, body, good, verify.ErrBadSignature},
		{"sha256 digest checked as sha1", verify.SHA1, verify.Hex, "sha1=", "sha1=" + giteaSHA256Hex, body, good, verify.ErrBadSignature},
		{"sha256 digest checked as sha512", verify.SHA512, verify.Hex, "", giteaSHA256Hex, body, good, verify.ErrBadSignature},
		{"sha1 right", verify.SHA1, verify.Hex, "sha1=", sig1, body, good, nil},
		{"tampered body", verify.SHA256, verify.Hex, "sha256=", sig256, append([]byte(giteaBody), ' '), good, verify.ErrBadSignature},
		{"empty body", verify.SHA256, verify.Hex, "sha256=", sig256, nil, good, verify.ErrBadSignature},
		{"empty body signed, body sent", verify.SHA256, verify.Hex, "", emptySHA256Hex, body, good, verify.ErrBadSignature},
		{"signature of empty body", verify.SHA256, verify.Hex, "", emptySHA256Hex, []byte{}, good, nil},
		{"signature of another body", verify.SHA256, verify.Hex, "sha256=", githubSig256, body, good, verify.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, verify.HMAC(tt.alg, tt.enc, tt.prefix, tt.header, tt.body, tt.keys), tt.want)
		})
	}
}

func TestVerifyHMACUnknownAlgorithm(t *testing.T) {
	err := verify.HMAC("md5", verify.Hex, "", giteaSHA256Hex, []byte(giteaBody), keys(giteaSecret))
	if err == nil || !strings.Contains(err.Error(), `unknown hmac algorithm "md5"`) {
		t.Fatalf("err = %v, want unknown hmac algorithm", err)
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			t.Errorf("err = %v matches %q; a configuration error must not look like a bad request", err, s)
		}
	}
	if _, err := verify.Algorithm("SHA256").New(); err == nil {
		t.Error(`Algorithm("SHA256").New() = nil error; names are lower case`)
	}
	for _, a := range []verify.Algorithm{verify.SHA1, verify.SHA256, verify.SHA512} {
		h, err := a.New()
		if err != nil {
			t.Fatalf("%s: %v", a, err)
		}
		want := map[verify.Algorithm]int{verify.SHA1: 20, verify.SHA256: 32, verify.SHA512: 64}[a]
		if got := h().Size(); got != want {
			t.Errorf("%s: size %d, want %d", a, got, want)
		}
		if got := len(verify.MAC(a, []byte("k"), []byte("m"))); got != want {
			t.Errorf("MAC(%s) has %d bytes, want %d", a, got, want)
		}
	}
}

func TestVerifyMACPanicsOnUnknownAlgorithm(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MAC(md5) did not panic")
		}
	}()
	verify.MAC("md5", []byte("k"), []byte("m"))
}

func TestVerifySignRoundTrip(t *testing.T) {
	body := []byte(`{"zen":"Design for failure."}`)
	for _, a := range []verify.Algorithm{verify.SHA1, verify.SHA256, verify.SHA512} {
		for _, enc := range []verify.Encoding{verify.Hex, verify.Base64} {
			for _, prefix := range []string{"", string(a) + "=", "v1,"} {
				h := verify.Sign(a, enc, prefix, []byte("k1"), body)
				if !strings.HasPrefix(h, prefix) {
					t.Errorf("Sign(%s,%s,%q) = %q lacks the prefix", a, enc, prefix, h)
				}
				checkErr(t, verify.HMAC(a, enc, prefix, h, body, keys("k0", "k1")), nil)
				checkErr(t, verify.HMAC(a, enc, prefix, h, body, keys("k0", "k2")), verify.ErrBadSignature)
			}
		}
	}
}

func TestVerifyToken(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want [][]byte
		err  error
	}{
		{"match", "gw-token-123", keys("gw-token-123"), nil},
		{"match among rotated", "new-token", keys("old-token", "new-token"), nil},
		{"empty", "", keys("gw-token-123"), verify.ErrMissingSignature},
		{"empty and no secret", "", nil, verify.ErrMissingSignature},
		{"no secret", "gw-token-123", nil, verify.ErrNoSecret},
		{"wrong", "gw-token-124", keys("gw-token-123"), verify.ErrBadSignature},
		{"prefix of the secret", "gw-token", keys("gw-token-123"), verify.ErrBadSignature},
		{"secret plus suffix", "gw-token-1234", keys("gw-token-123"), verify.ErrBadSignature},
		{"case differs", "GW-TOKEN-123", keys("gw-token-123"), verify.ErrBadSignature},
		{"empty candidate", "x", keys(""), verify.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, verify.Token(tt.got, tt.want), tt.err)
		})
	}
}
