package bitbucket

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/forgetest"
	"github.com/forgehook/forgehook/internal/verify"
)

// FuzzVerifyBitbucket checks Verify on arbitrary signatures, bodies and
// secrets. Properties: an accepted X-Hub-Signature is "sha256=" (any case)
// and the hex HMAC-SHA256 of the body under the secret; every error wraps
// verify.ErrMissingSignature or verify.ErrBadSignature; and what Sign
// produces verifies, also among other secrets.
func FuzzVerifyBitbucket(f *testing.F) {
	// Seeds are the fixtures' bodies cut to 64 bytes, signed as Bitbucket
	// would: verification does not depend on the JSON, and the fuzzer
	// stalls minimizing the inputs it derives from large seeds.
	const maxSeed = 64
	for _, fx := range forgetest.Seeds(f, "testdata") {
		secret := fx.Secret
		if secret == "" {
			secret = forgetest.TestSecret
		}
		body := fx.Body[:min(len(fx.Body), maxSeed)]
		f.Add("sha256="+forgetest.MACHex(sha256.New, secret, body), body, secret)
	}
	for _, ka := range knownAnswers {
		f.Add(ka.header, []byte(ka.body), ka.secret)
	}
	f.Add("sha1=8bf4bc78900fe561ebf5ee7dd01803762484127d", []byte(`{"push":{"changes":[]}}`), "bitbucket-s3cret")
	f.Add("sha256=", []byte{}, "")
	p := &Provider{}
	f.Fuzz(func(t *testing.T, sig string, body []byte, secret string) {
		h := http.Header{}
		h.Set(HeaderSignature, sig)
		err := p.Verify(&forge.Request{Header: h, Body: body, Payload: body}, []config.Secret{config.Secret(secret)})
		if err != nil {
			if !errors.Is(err, verify.ErrMissingSignature) && !errors.Is(err, verify.ErrBadSignature) {
				t.Fatalf("Verify() = %v, want a verify sentinel", err)
			}
		} else {
			got := strings.TrimSpace(h.Get(HeaderSignature))
			if len(got) < len(SignaturePrefix) || !strings.EqualFold(got[:len(SignaturePrefix)], SignaturePrefix) {
				t.Fatalf("accepted %q without the sha256= prefix", got)
			}
			if d := strings.ToLower(got[len(SignaturePrefix):]); d != forgetest.MACHex(sha256.New, secret, body) {
				t.Fatalf("accepted digest %s, but HMAC(body) = %s", d, forgetest.MACHex(sha256.New, secret, body))
			}
		}
		signed := http.Header{}
		p.Sign(signed, body, secret, time.Time{})
		if err := p.Verify(&forge.Request{Header: signed, Body: body}, []config.Secret{"other", config.Secret(secret)}); err != nil {
			t.Fatalf("Verify(Sign(body)) = %v", err)
		}
	})
}

// FuzzNormalizeBitbucket checks Normalize on arbitrary event keys and
// payloads. Properties: only a payload that is not a JSON object is refused,
// with forge.ErrBadPayload; accepted fields carry a canonical kind and forge
// "bitbucket"; deleted only on push or tag; a push or tag has a full ref and
// a before and after; pull request fields only on pull request events.
func FuzzNormalizeBitbucket(f *testing.F) {
	// Seeds are the fixtures' payloads slimmed to the members Normalize
	// reads (TestSlim* checks that they normalize alike): the fuzzer stalls
	// minimizing the inputs it derives from large seeds.
	for _, fx := range forgetest.Seeds(f, "testdata") {
		f.Add(fx.Header.Get(HeaderEventKey), slim(f, fx.Body))
	}
	f.Add("repo:push", []byte(`{"push":{"changes":[{"old":null,"new":null}]}}`))
	f.Add("repo:push", []byte(`{"push":{"changes":[{"new":{"type":"named_branch","name":"default"}}]}}`))
	f.Add("pullrequest:fulfilled", []byte(`{"pullrequest":{"id":"7","state":null}}`))
	p := &Provider{}
	kinds := map[event.Kind]bool{}
	for _, k := range event.Kinds {
		kinds[k] = true
	}
	f.Fuzz(func(t *testing.T, key string, payload []byte) {
		fields, err := p.Normalize(forge.Meta{Event: key}, payload)
		if err != nil {
			if !errors.Is(err, forge.ErrBadPayload) {
				t.Fatalf("Normalize() = %v, want ErrBadPayload", err)
			}
			trimmed := bytes.TrimLeft(payload, " \t\r\n")
			if len(trimmed) > 0 && trimmed[0] == '{' && json.Valid(payload) {
				t.Fatalf("Normalize refused a JSON object: %v", err)
			}
			return
		}
		if !kinds[fields.Kind] || fields.Forge != Name || fields.Kind == event.KindPing {
			t.Fatalf("Normalize() = kind %q forge %q", fields.Kind, fields.Forge)
		}
		isRef := fields.Kind == event.KindPush || fields.Kind == event.KindTag
		if fields.Deleted && !isRef {
			t.Fatalf("deleted on kind %q", fields.Kind)
		}
		if isRef {
			if key != "repo:push" {
				t.Fatalf("kind %q for event %q", fields.Kind, key)
			}
			if !strings.HasPrefix(fields.Ref, "refs/heads/") && !strings.HasPrefix(fields.Ref, "refs/tags/") {
				t.Fatalf("%s with ref %q", fields.Kind, fields.Ref)
			}
			if fields.Deleted && fields.After != event.ZeroSHA1 {
				t.Fatalf("deleted with after %q", fields.After)
			}
			if fields.Commits == nil {
				t.Fatalf("push with null commits")
			}
		}
		if !reflect.DeepEqual(fields.PullRequest, event.PullRequest{}) && !strings.HasPrefix(key, "pullrequest:") {
			t.Fatalf("pull request fields on %q", key)
		}
	})
}

// slim re-encodes payload with only the members Normalize reads: it decodes
// it into the provider's own body type and marshals that back. A payload
// that is not a JSON object is returned as is.
func slim(tb testing.TB, payload []byte) []byte {
	tb.Helper()
	var b body
	if err := forge.DecodeObject(payload, &b); err != nil {
		return payload
	}
	out, err := json.Marshal(&b)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// TestBitbucketSlimSeeds checks that every fixture's slimmed payload, the
// fuzz seed, normalizes as the fixture does.
func TestBitbucketSlimSeeds(t *testing.T) {
	p := &Provider{}
	fixtures, err := forgetest.LoadDir(filepath.Join("testdata", "deliveries"))
	if err != nil {
		t.Fatal(err)
	}
	for _, fx := range fixtures {
		m := forge.Meta{Event: fx.Header.Get(HeaderEventKey)}
		full, err1 := p.Normalize(m, fx.Body)
		small, err2 := p.Normalize(m, slim(t, fx.Body))
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: Normalize: %v, %v", fx.Name, err1, err2)
		}
		if !reflect.DeepEqual(full, small) {
			t.Errorf("%s: slimmed payload normalizes to\n%+v\nwant\n%+v", fx.Name, small, full)
		}
	}
}
