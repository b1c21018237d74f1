package generic_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/forgetest"
	"github.com/forgehook/forgehook/internal/verify"
)

// fuzzConfig enables every scheme, so that one input exercises them all.
var fuzzConfig = config.Generic{
	SignatureHeader: "X-Signature",
	Prefix:          "sha256=",
	TokenHeader:     "X-Token",
	TokenQuery:      "token",
	BasicAuth:       true,
	EventHeader:     "X-Event",
}

// FuzzVerifyGeneric checks that Verify never panics and fails only with a
// verify sentinel, and that it accepts a request only if some credential is
// present and every present credential is right: the signature recomputes
// as the HMAC-SHA256 of the body, and the tokens and Basic credentials equal
// the secret. A request signed with Sign always verifies, and fails once
// its body is changed.
func FuzzVerifyGeneric(f *testing.F) {
	sign := func(body, secret string) string {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(body))
		return "sha256=" + hex.EncodeToString(m.Sum(nil))
	}
	for _, fx := range forgetest.Seeds(f, "testdata") {
		f.Add(fx.Body, sign(string(fx.Body), forgetest.TestSecret), "", "", "", forgetest.TestSecret)
	}
	f.Add([]byte(kaBody), "sha256="+kaSHA256, kaSecret, kaSecret, forgetest.Basic(kaSecret), kaSecret)
	f.Add([]byte(kaBody), "sha256="+kaSHA256, "nope", "", "", kaSecret)
	f.Add([]byte(kaBody), "", "", "", "Bearer x", kaSecret)
	f.Add([]byte(kaBody), "sha256=", "", kaSecret, "", kaSecret)
	f.Add([]byte{}, "", "", "", forgetest.Basic("hook:pw"), "hook:pw")
	f.Fuzz(func(t *testing.T, body []byte, sig, token, query, auth, secret string) {
		p := newProvider(t, fuzzConfig)
		h := http.Header{}
		for k, v := range map[string]string{"X-Signature": sig, "X-Token": token, "Authorization": auth} {
			if v != "" {
				h.Set(k, v)
			}
		}
		q := url.Values{}
		if query != "" {
			q.Set("token", query)
		}
		req := &forge.Request{Header: h, Body: body, Payload: body, Query: q, Received: time.Now()}
		err := p.Verify(req, []config.Secret{config.Secret(secret)})
		if err != nil {
			n := 0
			for _, s := range []error{verify.ErrMissingSignature, verify.ErrBadSignature, verify.ErrNoSecret, verify.ErrStale} {
				if errors.Is(err, s) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("Verify = %v, want exactly one verify sentinel", err)
			}
		} else {
			present := 0
			if s := strings.TrimSpace(sig); s != "" && !strings.EqualFold(s, "sha256=") {
				present++
				if !strings.EqualFold(s, sign(string(body), secret)) {
					t.Fatalf("accepted signature %q, the body's is %q", s, sign(string(body), secret))
				}
			}
			if token != "" {
				present++
				if token != secret {
					t.Fatalf("accepted token %q, want the secret", token)
				}
			}
			if query != "" {
				present++
				if query != secret {
					t.Fatalf("accepted query token %q, want the secret", query)
				}
			}
			if scheme, rest, ok := strings.Cut(auth, " "); ok && strings.EqualFold(scheme, "basic") {
				if raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest)); err == nil && len(raw) > 0 {
					present++
					if string(raw) != secret {
						t.Fatalf("accepted Basic credentials %q, want the secret", raw)
					}
				}
			}
			if present == 0 {
				t.Fatalf("accepted a request without credentials: sig %q token %q query %q auth %q", sig, token, query, auth)
			}
		}

		// Round trip through Sign.
		signed := &forge.Request{Header: http.Header{}, Body: body, Payload: body, Query: url.Values{}}
		p.Sign(signed.Header, body, secret, time.Now())
		if err := p.Verify(signed, []config.Secret{"other", config.Secret(secret)}); err != nil {
			t.Fatalf("Verify(Sign(...)) = %v", err)
		}
		signed.Body = append(bytes.Clone(body), '!')
		if err := p.Verify(signed, []config.Secret{config.Secret(secret)}); !errors.Is(err, verify.ErrBadSignature) {
			t.Fatalf("Verify(Sign(...), tampered body) = %v, want ErrBadSignature", err)
		}
	})
}

// FuzzNormalizeGeneric checks that Normalize never fails or panics and
// that its output keeps the record's invariants: a known kind, forge
// "generic", a full ref on every push and tag, deletion only on those, and
// a JSON encoding.
func FuzzNormalizeGeneric(f *testing.F) {
	for _, dir := range []string{"testdata", filepath.Join("testdata", "gitea")} {
		for _, fx := range forgetest.Seeds(f, dir) {
			f.Add(fx.Body, false)
		}
	}
	f.Add([]byte(`{"ref":"refs/tags/","after":"0"}`), false)
	f.Add([]byte(`{"zen":"x","hook_id":1}`), false)
	f.Add([]byte(`{"ref":"refs/heads/main","after":"1"}`), true)
	f.Add([]byte(`not json`), false)
	f.Fuzz(func(t *testing.T, payload []byte, ping bool) {
		p := newProvider(t, relayConfig)
		fields, err := p.Normalize(forge.Meta{Event: "push", Ping: ping}, payload)
		if err != nil {
			t.Fatalf("Normalize = %v", err)
		}
		if !slices.Contains(event.Kinds, fields.Kind) {
			t.Fatalf("kind %q is not canonical", fields.Kind)
		}
		if fields.Forge != "generic" {
			t.Fatalf("forge = %q", fields.Forge)
		}
		if ping && fields.Kind != event.KindPing {
			t.Fatalf("ping meta gave kind %q", fields.Kind)
		}
		switch fields.Kind {
		case event.KindPush, event.KindTag:
			if !strings.HasPrefix(fields.Ref, "refs/") {
				t.Fatalf("%s with ref %q", fields.Kind, fields.Ref)
			}
			if fields.Kind == event.KindTag && "refs/tags/"+fields.Tag != fields.Ref {
				t.Fatalf("tag %q does not match ref %q", fields.Tag, fields.Ref)
			}
			if fields.Branch != "" && "refs/heads/"+fields.Branch != fields.Ref {
				t.Fatalf("branch %q does not match ref %q", fields.Branch, fields.Ref)
			}
		default:
			if fields.Deleted || fields.Ref != "" {
				t.Fatalf("kind %q with deleted=%v ref=%q", fields.Kind, fields.Deleted, fields.Ref)
			}
		}
		if !json.Valid(payload) && fields.Kind != event.KindOther && fields.Kind != event.KindPing {
			t.Fatalf("invalid JSON gave kind %q", fields.Kind)
		}
		if _, err := json.Marshal(fields); err != nil {
			t.Fatalf("Marshal: %v", err)
		}
	})
}
