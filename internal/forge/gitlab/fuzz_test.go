package gitlab_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/forgetest"
)

// fuzzNow is the time every fuzzed delivery is received: the Standard
// Webhooks test vector's timestamp, so that its seed verifies.
var fuzzNow = time.Unix(katTS, 0)

// FuzzVerifyGitLab checks that Verify accepts a delivery only when one of
// its credentials proves the secret: the X-Gitlab-Token equals it, a
// webhook-signature entry recomputes (independently of package verify)
// within the tolerance, or the Basic credentials equal it. It also checks
// the converse for tokens: the right token is always accepted.
func FuzzVerifyGitLab(f *testing.F) {
	p := newProvider(f, nil)
	signer := p.(forge.Signer)
	for _, fx := range forgetest.Seeds(f, "testdata") {
		secret := fx.Secret
		if secret == "" {
			secret = forgetest.TestSecret
		}
		h := fx.Header.Clone()
		if fx.Secret == "" {
			signer.Sign(h, fx.Body, secret, fuzzNow)
		}
		f.Add(secret, h.Get("X-Gitlab-Token"), h.Get("Authorization"), "", "", "", fx.Body)
		// The same payload signed with a signing token at fuzzNow.
		sh := http.Header{}
		sh.Set("Idempotency-Key", fx.Header.Get("Idempotency-Key"))
		signer.Sign(sh, fx.Body, katSecret, fuzzNow)
		f.Add(katSecret, "", "", sh.Get("webhook-id"), sh.Get("webhook-timestamp"), sh.Get("webhook-signature"), fx.Body)
	}
	f.Add(katSecret, "", "", katID, strconv.Itoa(katTS), katSig, []byte(katBody))
	f.Add(katSecret, "tok", "", katID, strconv.Itoa(katTS), "v1,AAAA "+katSig, []byte(katBody))

	f.Fuzz(func(t *testing.T, secret, token, auth, id, ts, sig string, body []byte) {
		h := http.Header{}
		set := func(k, v string) {
			if v != "" {
				h.Set(k, v)
			}
		}
		set("X-Gitlab-Event", "Push Hook")
		set("X-Gitlab-Token", token)
		set("Authorization", auth)
		set("webhook-id", id)
		set("webhook-timestamp", ts)
		set("webhook-signature", sig)
		req := &forge.Request{Header: h, Body: body, Payload: body, Received: fuzzNow}
		err := p.Verify(req, []config.Secret{config.Secret(secret)})
		if err != nil {
			if !slices.ContainsFunc(sentinels, func(s error) bool { return errors.Is(err, s) }) {
				t.Fatalf("Verify = %v: wraps no verify sentinel", err)
			}
			if secret != "" && sig == "" && token != "" && token == secret {
				t.Fatalf("Verify(right token) = %v", err)
			}
			return
		}
		switch {
		case sig != "":
			if !signatureRecomputes(secret, id, ts, sig, body) {
				t.Fatalf("accepted webhook-signature %q (id %q, ts %q) that does not recompute under the secret", sig, id, ts)
			}
		case token != "":
			if token != secret {
				t.Fatalf("accepted X-Gitlab-Token %q for another secret", token)
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

// signatureRecomputes is the Standard Webhooks check written out here, apart
// from package verify: some v1 entry of sig is the base64 HMAC-SHA256 of
// id.ts.body under the secret's key, and ts is within 5 minutes of fuzzNow.
func signatureRecomputes(secret, id, ts, sig string, body []byte) bool {
	ts = strings.TrimSpace(ts)
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || id == "" {
		return false
	}
	if d := fuzzNow.Sub(time.Unix(n, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return false
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		key = []byte(strings.TrimPrefix(secret, "whsec_"))
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	want := base64.StdEncoding.EncodeToString(m.Sum(nil))
	for _, s := range strings.Fields(sig) {
		if v, ok := strings.CutPrefix(s, "v1,"); ok {
			if got, err := base64.StdEncoding.DecodeString(v); err == nil && base64.StdEncoding.EncodeToString(got) == want {
				return true
			}
		}
	}
	return false
}

// FuzzNormalizeGitLab checks that Normalize never fails on a JSON object,
// fails only with forge.ErrBadPayload otherwise, and always returns a
// canonical kind for forge "gitlab" with consistent fields.
func FuzzNormalizeGitLab(f *testing.F) {
	p := newProvider(f, nil)
	for _, fx := range forgetest.Seeds(f, "testdata") {
		f.Add(fx.Header.Get("X-Gitlab-Event"), fx.Body)
	}
	f.Add("Merge Request Hook", []byte(`{"object_attributes":{"iid":"1","action":7,"oldrev":"a"}}`))
	f.Add("System Hook", []byte(`{"event_name":"repository_update","changes":[{"ref":"refs/tags/x"},{}]}`))
	f.Add("Job Hook", []byte(`{"ref":"v1","tag":true,"build_status":"Waiting For Resource"}`))
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
		if fields.Kind == "" || !slices.Contains(event.Kinds, fields.Kind) {
			t.Fatalf("kind %q is not canonical", fields.Kind)
		}
		if fields.Forge != "gitlab" {
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
