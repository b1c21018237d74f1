package verify_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"testing"

	"github.com/forgehook/forgehook/internal/verify"
)

func basic(userpass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(userpass))
}

func TestVerifyBasicAuth(t *testing.T) {
	// The header Go's own client builds, to be sure the helper above
	// writes what a real sender writes.
	r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/", nil)
	r.SetBasicAuth("hook", "s3cr:t")
	if got, want := r.Header.Get("Authorization"), basic("hook:s3cr:t"); got != want {
		t.Fatalf("net/http Authorization = %q, want %q", got, want)
	}

	good := keys("hook:s3cret")
	tests := []struct {
		name   string
		header string
		keys   [][]byte
		want   error
	}{
		{"match", basic("hook:s3cret"), good, nil},
		{"scheme in lower case", "basic " + base64.StdEncoding.EncodeToString([]byte("hook:s3cret")), good, nil},
		{"extra space", "Basic   " + base64.StdEncoding.EncodeToString([]byte("hook:s3cret")), good, nil},
		{"rotation", basic("hook:new"), keys("hook:old", "hook:new"), nil},
		{"colon in password", basic("hook:a:b:c"), keys("hook:a:b:c"), nil},
		{"empty password", basic("hook:"), keys("hook:"), nil},
		{"missing", "", good, verify.ErrMissingSignature},
		{"missing and no secret", "", nil, verify.ErrMissingSignature},
		{"bearer", "Bearer gw-token-123", good, verify.ErrMissingSignature},
		{"scheme only", "Basic", good, verify.ErrMissingSignature},
		{"scheme and space", "Basic ", good, verify.ErrMissingSignature},
		{"no secret", basic("hook:s3cret"), nil, verify.ErrNoSecret},
		{"bad base64", "Basic !!!", good, verify.ErrBadSignature},
		{"wrong password", basic("hook:guess"), good, verify.ErrBadSignature},
		{"wrong user", basic("root:s3cret"), good, verify.ErrBadSignature},
		{"user only", basic("hook"), good, verify.ErrBadSignature},
		{"password in clear", "Basic hook:s3cret", good, verify.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, verify.BasicAuth(tt.header, tt.keys), tt.want)
		})
	}
}

func TestVerifyAuthorization(t *testing.T) {
	keys := [][]byte{[]byte("tok-123"), []byte("user:pa ss")}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("user:pa ss"))
	for _, c := range []struct {
		value string
		want  error
	}{
		{"tok-123", nil},
		{"Bearer tok-123", nil},
		{"bearer  tok-123 ", nil},
		{basic, nil},
		{"Bearer nope", verify.ErrBadSignature},
		{"Basic " + base64.StdEncoding.EncodeToString([]byte("user:wrong")), verify.ErrBadSignature},
		{"Token tok-123", verify.ErrBadSignature},
		{"", verify.ErrMissingSignature},
		{"   ", verify.ErrMissingSignature},
	} {
		if err := verify.Authorization(c.value, keys); !errors.Is(err, c.want) && !(err == nil && c.want == nil) {
			t.Errorf("Authorization(%q) = %v, want %v", c.value, err, c.want)
		}
	}
	if err := verify.Authorization("x", nil); !errors.Is(err, verify.ErrNoSecret) {
		t.Errorf("no candidates: %v", err)
	}
}
