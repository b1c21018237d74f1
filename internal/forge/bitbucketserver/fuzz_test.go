package bitbucketserver

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
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

// FuzzVerifyBitbucketServer checks Verify on arbitrary signatures,
// Authorization headers, bodies and secrets. Properties: a delivery with a
// signature (other than the bare prefix) is accepted only when it is
// "sha256=" and the hex HMAC-SHA256 of the body under the secret, whatever
// the Authorization header says; one without is accepted only when the
// Authorization header carries HTTP Basic credentials equal to the secret;
// every error wraps verify.ErrMissingSignature or verify.ErrBadSignature;
// and what Sign produces verifies.
func FuzzVerifyBitbucketServer(f *testing.F) {
	// Seeds are the fixtures' bodies cut to 64 bytes, signed as Data Center
	// would: verification does not depend on the JSON, and the fuzzer
	// stalls minimizing the inputs it derives from large seeds.
	const maxSeed = 64
	for _, fx := range forgetest.Seeds(f, "testdata") {
		secret := fx.Secret
		if secret == "" {
			secret = forgetest.TestSecret
		}
		body := fx.Body[:min(len(fx.Body), maxSeed)]
		f.Add("sha256="+forgetest.MACHex(sha256.New, secret, body), "", body, secret)
	}
	for _, fx := range forgetest.Seeds(f, "testdata/basic") {
		f.Add("", fx.Header.Get("Authorization"), fx.Body[:min(len(fx.Body), maxSeed)], fx.Secret)
	}
	for _, ka := range knownAnswers {
		f.Add(ka.header, "", []byte(ka.body), ka.secret)
	}
	f.Add("sha1=6e8ab4ddf499da6ab8ab54c72aa24c732c513faa", "", []byte(`{"test":true}`), "bitbucket-dc-s3cret")
	f.Add("sha256=", "Basic Y2k6cGFzcw==", []byte(`{}`), "ci:pass")
	f.Add("", "Bearer ci:pass", []byte(`{}`), "Bearer ci:pass")
	p := &Provider{}
	f.Fuzz(func(t *testing.T, sig, auth string, body []byte, secret string) {
		h := http.Header{}
		h.Set("X-Hub-Signature", sig)
		h.Set("Authorization", auth)
		err := p.Verify(&forge.Request{Header: h, Body: body, Payload: body}, []config.Secret{config.Secret(secret)})
		sig, auth = strings.TrimSpace(h.Get("X-Hub-Signature")), h.Get("Authorization")
		signed := sig != "" && !strings.EqualFold(sig, "sha256=")
		switch {
		case err == nil && signed:
			if len(sig) < len("sha256=") || !strings.EqualFold(sig[:len("sha256=")], "sha256=") {
				t.Fatalf("accepted %q without the sha256= prefix", sig)
			}
			if d := strings.ToLower(sig[len("sha256="):]); d != forgetest.MACHex(sha256.New, secret, body) {
				t.Fatalf("accepted digest %s, but HMAC(body) = %s", d, forgetest.MACHex(sha256.New, secret, body))
			}
		case err == nil:
			scheme, rest, _ := strings.Cut(auth, " ")
			cred, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
			if !strings.EqualFold(scheme, "Basic") || derr != nil || string(cred) != secret || secret == "" {
				t.Fatalf("accepted without a signature: Authorization %q, secret %q", auth, secret)
			}
		case !errors.Is(err, verify.ErrMissingSignature) && !errors.Is(err, verify.ErrBadSignature):
			t.Fatalf("Verify() = %v, want a verify sentinel", err)
		}
		out := http.Header{}
		p.Sign(out, body, secret, time.Time{})
		if err := p.Verify(&forge.Request{Header: out, Body: body}, []config.Secret{"other", config.Secret(secret)}); err != nil {
			t.Fatalf("Verify(Sign(body)) = %v", err)
		}
	})
}

// FuzzNormalizeBitbucketServer checks Normalize on arbitrary event keys and
// payloads. Properties: a ping always normalizes, to kind ping; otherwise
// only a payload that is not a JSON object is refused, with
// forge.ErrBadPayload; accepted fields carry a canonical kind and forge
// "bitbucket-server"; deleted only on push or tag; a push or tag has a
// ref, empty commits and comes from repo:refs_changed; pull request fields
// only on pr: events.
func FuzzNormalizeBitbucketServer(f *testing.F) {
	// Seeds are the fixtures' payloads slimmed to the members Normalize
	// reads (TestSlim* checks that they normalize alike): the fuzzer stalls
	// minimizing the inputs it derives from large seeds.
	for _, fx := range forgetest.Seeds(f, "testdata") {
		f.Add(fx.Header.Get("X-Event-Key"), slim(f, fx.Body))
	}
	f.Add("diagnostics:ping", []byte(``))
	f.Add("diagnostics:ping", []byte(`not json`))
	f.Add("repo:refs_changed", []byte(`{"changes":[{"ref":{"displayId":"v1","type":"TAG"},"toHash":"0000000000000000000000000000000000000000","type":"DELETE"}]}`))
	f.Add("pr:merged", []byte(`{"pullRequest":{"id":"9","state":null,"links":{"self":[]}}}`))
	p := &Provider{}
	kinds := map[event.Kind]bool{}
	for _, k := range event.Kinds {
		kinds[k] = true
	}
	f.Fuzz(func(t *testing.T, key string, payload []byte) {
		fields, err := p.Normalize(forge.Meta{Event: key, Ping: key == EventPing}, payload)
		if key == EventPing {
			if err != nil || fields.Kind != event.KindPing {
				t.Fatalf("Normalize(ping) = kind %q, %v", fields.Kind, err)
			}
		}
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
		if !kinds[fields.Kind] || fields.Forge != Name {
			t.Fatalf("Normalize() = kind %q forge %q", fields.Kind, fields.Forge)
		}
		if fields.Kind == event.KindPing && key != EventPing {
			t.Fatalf("ping for event %q", key)
		}
		isRef := fields.Kind == event.KindPush || fields.Kind == event.KindTag
		if fields.Deleted && !isRef {
			t.Fatalf("deleted on kind %q", fields.Kind)
		}
		if isRef && (key != "repo:refs_changed" || !strings.HasPrefix(fields.Ref, "refs/") || fields.Commits == nil || len(fields.Commits) != 0) {
			t.Fatalf("%s for %q with ref %q and commits %v", fields.Kind, key, fields.Ref, fields.Commits)
		}
		if !reflect.DeepEqual(fields.PullRequest, event.PullRequest{}) && !strings.HasPrefix(key, "pr:") {
			t.Fatalf("pull request fields on %q", key)
		}
	})
}

// slim re-encodes payload with only the members Normalize reads: it decodes
// it into the provider's own body type, marshals that back, and drops the
// members that hold zero values (which decode to the same). A payload that
// is not a JSON object is returned as is.
func slim(tb testing.TB, payload []byte) []byte {
	tb.Helper()
	var b body
	if err := forge.DecodeObject(payload, &b); err != nil {
		return payload
	}
	enc, err := json.Marshal(&b)
	if err != nil {
		tb.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(enc, &v); err != nil {
		tb.Fatal(err)
	}
	out, err := json.Marshal(prune(v))
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// prune removes from v the object members whose values are zero: "", 0,
// false, null, and objects or arrays left empty.
func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e = prune(e); isZero(e) {
				delete(x, k)
			} else {
				x[k] = e
			}
		}
	case []any:
		for i, e := range x {
			x[i] = prune(e)
		}
	}
	return v
}

func isZero(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case float64:
		return x == 0
	case bool:
		return !x
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

// TestBitbucketServerSlimSeeds checks that every fixture's slimmed payload,
// the fuzz seed, normalizes as the fixture does.
func TestBitbucketServerSlimSeeds(t *testing.T) {
	p := &Provider{}
	fixtures, err := forgetest.LoadDir(filepath.Join("testdata", "deliveries"))
	if err != nil {
		t.Fatal(err)
	}
	for _, fx := range fixtures {
		m, err := p.Inspect(fx.Header)
		if err != nil {
			t.Fatalf("%s: Inspect: %v", fx.Name, err)
		}
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
