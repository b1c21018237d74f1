package atomgit_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/forgetest"
)

// FuzzVerifyAtomGit checks that Verify accepts a delivery only when its
// deciding credential proves the secret: a signature that recomputes (here,
// apart from package verify) as the HMAC-SHA256 of the body, else a token
// equal to the secret, else Basic credentials equal to it; that the right
// token or signature is always accepted; and that a failure wraps exactly
// one verify sentinel.
func FuzzVerifyAtomGit(f *testing.F) {
	p := newProvider(f)
	signer := p.(forge.Signer)
	for _, fx := range forgetest.Seeds(f, "testdata") {
		secret := fx.Secret
		h := fx.Header.Clone()
		if secret == "" {
			secret = forgetest.TestSecret
			signer.Sign(h, fx.Body, secret, time.Time{})
		}
		f.Add(secret, h.Get("X-GitCode-Token")+h.Get("X-AtomGit-Token"), h.Get("X-GitCode-Signature-256"), h.Get("Authorization"), fx.Body)
	}
	f.Add(katKey, "", "sha256="+katHex, "", []byte(katBody))
	f.Add(katKey, "", "SHA256="+katBase64, "", []byte(katBody))
	f.Add(katKey, katKey, katHex[:63]+"0", "", []byte(katBody))

	f.Fuzz(func(t *testing.T, secret, token, sig, auth string, body []byte) {
		h := http.Header{}
		set := func(k, v string) {
			if v != "" {
				h.Set(k, v)
			}
		}
		set("X-GitCode-Event", "Push Hook")
		set("X-GitCode-Token", token)
		set("X-GitCode-Signature-256", sig)
		set("Authorization", auth)
		err := p.Verify(&forge.Request{Header: h, Body: body, Payload: body}, []config.Secret{config.Secret(secret)})
		sig, token, auth = strings.TrimSpace(sig), strings.TrimSpace(token), strings.TrimSpace(auth)
		if err != nil {
			n := 0
			for _, s := range sentinels {
				if errors.Is(err, s) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("Verify = %v: wraps %d verify sentinels, want 1", err, n)
			}
			if sig != "" && signatureHolds(secret, sig, body) {
				t.Fatalf("Verify(right signature %q) = %v", sig, err)
			}
			if sig == "" && token != "" && token == secret {
				t.Fatalf("Verify(right token) = %v", err)
			}
			return
		}
		switch {
		case sig != "":
			if !signatureHolds(secret, sig, body) {
				t.Fatalf("accepted signature %q that does not recompute under the secret", sig)
			}
		case token != "":
			if token != secret {
				t.Fatalf("accepted token %q for another secret", token)
			}
		case auth != "":
			scheme, rest, _ := strings.Cut(auth, " ")
			userpass, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
			if !strings.EqualFold(scheme, "Basic") || derr != nil || string(userpass) != secret {
				t.Fatalf("accepted Authorization %q for another secret", auth)
			}
		default:
			t.Fatal("accepted a delivery without credentials")
		}
	})
}

// signatureHolds reports whether sig, with or without "sha256=" (any case),
// is the HMAC-SHA256 of body under secret in hex or in some base64 alphabet.
func signatureHolds(secret, sig string, body []byte) bool {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	want := m.Sum(nil)
	if len(sig) >= 7 && strings.EqualFold(sig[:7], "sha256=") {
		sig = sig[7:]
	}
	if len(sig) == 64 {
		if got, err := hex.DecodeString(sig); err == nil {
			return hmac.Equal(got, want)
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if got, err := enc.DecodeString(sig); err == nil {
			return hmac.Equal(got, want)
		}
	}
	return false
}

// FuzzNormalizeAtomGit checks that Normalize never fails on a JSON object,
// fails only with forge.ErrBadPayload otherwise, and returns a canonical
// kind for forge "atomgit" with consistent fields.
func FuzzNormalizeAtomGit(f *testing.F) {
	p := newProvider(f)
	for _, fx := range forgetest.Seeds(f, "testdata") {
		m, err := p.Inspect(fx.Header)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(m.Event, fx.Body)
	}
	f.Add("merge_request", []byte(`{"event_name":"merge_request_","object_attributes":{"iid":"1","html_url":7}}`))
	f.Add("", []byte(`{"object_kind":"tag_push","ref":"refs/tags/x","after":"0000000000000000000000000000000000000000"}`))
	f.Add("Push Hook", []byte(`{"repository":{"homepage":"https://h/a/b/"}}`))
	f.Add("Push Hook", []byte(`[]`))

	f.Fuzz(func(t *testing.T, ev string, body []byte) {
		fields, err := p.Normalize(forge.Meta{Event: ev}, body)
		isObject := forgetest.IsJSONObject(body)
		if err != nil {
			if !errors.Is(err, forge.ErrBadPayload) {
				t.Fatalf("Normalize error %v does not wrap ErrBadPayload", err)
			}
			if isObject {
				t.Fatalf("Normalize(JSON object) = %v", err)
			}
			return
		}
		if !isObject {
			t.Fatalf("Normalize accepted a body that is not a JSON object: %q", body)
		}
		if !slices.Contains(event.Kinds, fields.Kind) {
			t.Fatalf("kind %q is not canonical", fields.Kind)
		}
		if fields.Forge != "atomgit" {
			t.Fatalf("forge = %q", fields.Forge)
		}
		if fields.Deleted && fields.Kind != event.KindPush && fields.Kind != event.KindTag {
			t.Fatalf("deleted on kind %q", fields.Kind)
		}
		if fields.Kind == event.KindPush || fields.Kind == event.KindTag {
			if (fields.Kind == event.KindTag) != strings.HasPrefix(fields.Ref, "refs/tags/") {
				t.Fatalf("kind %q with ref %q: a tag is exactly a push to refs/tags/", fields.Kind, fields.Ref)
			}
		}
		if fields.PullRequest.Merged && fields.PullRequest.State != "merged" {
			t.Fatalf("merged with state %q", fields.PullRequest.State)
		}
		if strings.ContainsAny(fields.Action, "ABCDEFGHIJKLMNOPQRSTUVWXYZ -") {
			t.Fatalf("action %q is not lower_snake", fields.Action)
		}
	})
}
