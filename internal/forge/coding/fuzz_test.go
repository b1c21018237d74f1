package coding

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // coding.net signs with HMAC-SHA1; the fuzzer recomputes it independently.
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/forgetest"
	"github.com/forgehook/forgehook/internal/verify"
)

// allFixtures returns the conformance and the legacy fixtures.
func allFixtures(f *testing.F) []*forgetest.Fixture {
	out := forgetest.Seeds(f, "testdata")
	legacy, err := forgetest.LoadDir("testdata/legacy")
	if err != nil {
		f.Fatal(err)
	}
	return append(out, legacy...)
}

// FuzzVerifyCoding checks Verify on arbitrary signature and Authorization
// headers, bodies and form payloads. Properties: every error wraps a verify
// sentinel; an accepted delivery carried, in the order Verify reads them,
// an X-Coding-Signature that is "sha1=" and the HMAC-SHA1 of the body (or,
// for a form, of the decoded payload) under the secret, else an
// Authorization header whose Basic credentials or whole value are the
// secret, else a payload token equal to the secret; and what Sign produces
// always verifies.
func FuzzVerifyCoding(f *testing.F) {
	// Seeds: the fixtures cut to 1 KiB (verification does not depend on the
	// JSON, and large inputs slow minimization), signed as CODING would.
	const maxSeed = 1 << 10
	for _, fx := range allFixtures(f) {
		secret := fx.Secret
		if secret == "" {
			secret = forgetest.TestSecret
		}
		payload, form, err := fx.Payload()
		if err != nil {
			f.Fatal(err)
		}
		body := fx.Body[:min(len(fx.Body), maxSeed)]
		p := payload[:min(len(payload), maxSeed)]
		sig := fx.Header.Get(HeaderSignature)
		if sig == "" {
			sig = "sha1=" + forgetest.MACHex(sha1.New, secret, body)
		}
		f.Add(sig, "", body, form, p, secret)
		if form {
			f.Add("sha1="+forgetest.MACHex(sha1.New, secret, p), "", body, true, p, secret)
		}
	}
	f.Add(katSig, "", []byte(katBody), false, []byte(katBody), katSecret)
	f.Add("", "Basic "+base64.StdEncoding.EncodeToString([]byte("admin:admin123")), []byte(`{}`), false, []byte(`{}`), "admin:admin123")
	f.Add("", "Bearer t", []byte(`{}`), false, []byte(`{}`), "Bearer t")
	f.Add("", "", []byte(katPingBody), false, []byte(katPingBody), "123")
	f.Add("sha1=", "", []byte{}, false, []byte{}, "")
	p := &Provider{}
	f.Fuzz(func(t *testing.T, sig, auth string, body []byte, form bool, payload []byte, secret string) {
		if !form {
			payload = body
		}
		h := http.Header{}
		h.Set(HeaderSignature, sig)
		h.Set(HeaderAuthorization, auth)
		err := p.Verify(&forge.Request{Header: h, Body: body, Payload: payload, Form: form}, []config.Secret{config.Secret(secret)})
		if err != nil {
			if !errors.Is(err, verify.ErrMissingSignature) && !errors.Is(err, verify.ErrBadSignature) && !errors.Is(err, verify.ErrNoSecret) {
				t.Fatalf("Verify() = %v, want a verify sentinel", err)
			}
		} else {
			sig, auth = strings.TrimSpace(h.Get(HeaderSignature)), strings.TrimSpace(h.Get(HeaderAuthorization))
			switch {
			case sig != "" && !strings.EqualFold(sig, "sha1="):
				if len(sig) < 5 || !strings.EqualFold(sig[:5], "sha1=") {
					t.Fatalf("accepted %q without the sha1= prefix", sig)
				}
				got := strings.ToLower(sig[5:])
				if got != forgetest.MACHex(sha1.New, secret, body) && !(form && got == forgetest.MACHex(sha1.New, secret, payload)) {
					t.Fatalf("accepted digest %s: HMAC(body) = %s, HMAC(payload) = %s (form %v)", got, forgetest.MACHex(sha1.New, secret, body), forgetest.MACHex(sha1.New, secret, payload), form)
				}
			case auth != "":
				scheme, rest, _ := strings.Cut(auth, " ")
				if strings.EqualFold(scheme, "Basic") {
					raw, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
					if derr != nil || string(raw) != secret {
						t.Fatalf("accepted Basic %q for secret %q", rest, secret)
					}
				} else if auth != secret {
					t.Fatalf("accepted Authorization %q for secret %q", auth, secret)
				}
			default:
				var top map[string]json.RawMessage
				if json.Unmarshal(payload, &top) != nil {
					t.Fatalf("accepted a payload that is not a JSON object without a signature")
				}
				var token string
				if json.Unmarshal(top["token"], &token) != nil || token != secret || token == "" {
					t.Fatalf("accepted payload token %s for secret %q", top["token"], secret)
				}
			}
		}
		// What Sign produces verifies, for JSON over the body and for a form
		// over either encoding.
		signed := http.Header{}
		p.Sign(signed, body, secret, time.Time{})
		if err := p.Verify(&forge.Request{Header: signed, Body: body, Payload: payload, Form: form}, []config.Secret{"other", config.Secret(secret)}); err != nil {
			t.Fatalf("Verify(Sign(body)) = %v", err)
		}
		if form {
			signed := http.Header{}
			p.Sign(signed, payload, secret, time.Time{})
			if err := p.Verify(&forge.Request{Header: signed, Body: body, Payload: payload, Form: true}, []config.Secret{config.Secret(secret)}); err != nil {
				t.Fatalf("Verify(Sign(payload), form) = %v", err)
			}
		}
	})
}

// FuzzNormalizeCoding checks Normalize and Redact on arbitrary event names
// and payloads. Properties: Normalize returns fields or an error wrapping
// forge.ErrBadPayload, and refuses only what is not a JSON object; fields
// have a canonical kind and forge "coding", deleted only on a push or tag,
// a full ref on every push or tag, and a pull request number only where the
// payload has one; Redact returns valid JSON for valid JSON, never keeps a
// top-level token, and leaves a payload without one byte for byte.
func FuzzNormalizeCoding(f *testing.F) {
	for _, fx := range allFixtures(f) {
		payload, _, err := fx.Payload()
		if err != nil {
			f.Fatal(err)
		}
		m, err := (&Provider{}).Inspect(fx.Header)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(m.Event, payload)
	}
	p := &Provider{}
	f.Fuzz(func(t *testing.T, name string, payload []byte) {
		fields, err := p.Normalize(forge.Meta{Event: name}, payload)
		trimmed := bytes.TrimLeft(payload, " \t\r\n")
		isObject := len(trimmed) > 0 && trimmed[0] == '{' && json.Valid(payload)
		if err != nil {
			if !errors.Is(err, forge.ErrBadPayload) {
				t.Fatalf("Normalize() = %v, want ErrBadPayload", err)
			}
			if isObject {
				t.Fatalf("Normalize refused a JSON object: %v", err)
			}
		} else {
			if !isObject {
				t.Fatalf("Normalize accepted a payload that is not a JSON object")
			}
			valid := false
			for _, k := range event.Kinds {
				valid = valid || fields.Kind == k
			}
			if !valid || fields.Forge != Name {
				t.Fatalf("Normalize() = kind %q forge %q", fields.Kind, fields.Forge)
			}
			if fields.Deleted && fields.Kind != event.KindPush && fields.Kind != event.KindTag {
				t.Fatalf("deleted on kind %q", fields.Kind)
			}
			if (fields.Kind == event.KindPush || fields.Kind == event.KindTag) && !strings.HasPrefix(fields.Ref, "refs/") {
				t.Fatalf("%s with ref %q", fields.Kind, fields.Ref)
			}
			if fields.Kind == event.KindTag && fields.Tag == "" && fields.Ref != "refs/tags/" {
				t.Fatalf("tag without a tag name: ref %q", fields.Ref)
			}
			if fields.PullRequest.Number != 0 && !bytes.Contains(payload, []byte(`"number"`)) && !bytes.Contains(payload, []byte(`\u`)) {
				t.Fatalf("pull request number %d from a payload without one", fields.PullRequest.Number)
			}
		}

		stored := p.Redact(payload)
		if json.Valid(payload) && !json.Valid(stored) {
			t.Fatalf("Redact(%q) = %q, not JSON", payload, stored)
		}
		if token, ok := bodyToken(stored); ok && token != "[redacted]" {
			t.Fatalf("Redact kept token %q", token)
		}
		// Only a top-level "token" member (exact, after unescaping; any
		// value type) may be rewritten.
		var members map[string]json.RawMessage
		decodeErr := json.Unmarshal(payload, &members)
		if _, has := members[tokenField]; (decodeErr != nil || !has) && !bytes.Equal(stored, payload) {
			t.Fatalf("Redact changed a payload without a token member")
		}
	})
}
