package gitea_test

import (
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
	"github.com/forgehook/forgehook/internal/verify"
)

// FuzzVerifyGitea checks Verify on arbitrary payloads and header values.
// Properties: a signature Verify accepts is the HMAC-SHA256 of the payload
// under the secret (from X-Gitea-Signature, else X-Hub-Signature-256), or,
// with no signature, the Authorization header equals the secret; every
// error wraps a verify sentinel; and what Sign produces always verifies.
func FuzzVerifyGitea(f *testing.F) {
	for _, fx := range forgetest.Seeds(f, "testdata") {
		payload, _, err := fx.Payload()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(payload, fx.Header.Get("X-Gitea-Signature"), fx.Header.Get("X-Hub-Signature-256"), fx.Header.Get("Authorization"), fx.Secret)
	}
	f.Add([]byte(`{"ref":"refs/heads/main"}`), "d8f89f0618acd61fe621aa4e64078c0e2bca15d0b578b7f3eb734f55883c5320", "", "", "secret")
	f.Add([]byte(`{}`), "", "sha256=", "Bearer t", "Bearer t")
	p := newProvider(f)
	f.Fuzz(func(t *testing.T, payload []byte, sig, hub, auth, secret string) {
		h := http.Header{}
		h.Set("X-Gitea-Signature", sig)
		h.Set("X-Hub-Signature-256", hub)
		h.Set("Authorization", auth)
		req := &forge.Request{Header: h, Body: payload, Payload: payload}
		secrets := []config.Secret{config.Secret(secret)}
		err := p.Verify(req, secrets)
		want := verify.Sign(verify.SHA256, verify.Hex, "", []byte(secret), payload)
		// The header values as net/http would carry them.
		sig, hub, auth = h.Get("X-Gitea-Signature"), h.Get("X-Hub-Signature-256"), h.Get("Authorization")
		switch {
		case err == nil && strings.TrimSpace(sig) != "":
			if !strings.EqualFold(strings.TrimSpace(sig), want) {
				t.Fatalf("accepted X-Gitea-Signature %q, HMAC is %s", sig, want)
			}
		case err == nil && strings.TrimSpace(hub) != "" && !strings.EqualFold(strings.TrimSpace(hub), "sha256="):
			if !strings.EqualFold(strings.TrimSpace(hub), "sha256="+want) {
				t.Fatalf("accepted X-Hub-Signature-256 %q, HMAC is %s", hub, want)
			}
		case err == nil:
			if auth == "" || auth != secret {
				t.Fatalf("accepted without a signature: Authorization %q", auth)
			}
		case !errors.Is(err, verify.ErrMissingSignature) && !errors.Is(err, verify.ErrBadSignature):
			t.Fatalf("Verify = %v, want a verify sentinel", err)
		}
		signed := &forge.Request{Header: http.Header{}, Body: payload, Payload: payload}
		p.Sign(signed.Header, payload, secret, time.Time{})
		if err := p.Verify(signed, []config.Secret{"other", config.Secret(secret)}); err != nil {
			t.Fatalf("Verify(Sign(payload)) = %v", err)
		}
	})
}

// FuzzNormalizeGitea checks Normalize on arbitrary event names and payloads.
// Properties: it returns fields or an error wrapping forge.ErrBadPayload;
// normalized fields have a canonical kind and forge "gitea", deleted only on
// push or tag, and a ref on every push or tag.
func FuzzNormalizeGitea(f *testing.F) {
	for _, fx := range forgetest.Seeds(f, "testdata") {
		payload, _, err := fx.Payload()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(fx.Header.Get("X-Gitea-Event-Type")+fx.Header.Get("X-Gitea-Event"), payload)
		f.Add(fx.Header.Get("X-Gitea-Event"), payload)
	}
	p := newProvider(f)
	f.Fuzz(func(t *testing.T, ev string, payload []byte) {
		checkNormalized(t, p, "gitea", ev, payload)
	})
}

func checkNormalized(t *testing.T, p forge.Provider, name, ev string, payload []byte) {
	t.Helper()
	fields, err := p.Normalize(forge.Meta{Event: ev}, payload)
	if err != nil {
		if !errors.Is(err, forge.ErrBadPayload) {
			t.Fatalf("Normalize error %v does not wrap ErrBadPayload", err)
		}
		return
	}
	if fields.Kind == "" || !slices.Contains(event.Kinds, fields.Kind) {
		t.Fatalf("kind %q is not canonical", fields.Kind)
	}
	if fields.Forge != name {
		t.Fatalf("forge %q, want %q", fields.Forge, name)
	}
	isRef := fields.Kind == event.KindPush || fields.Kind == event.KindTag
	if fields.Deleted && !isRef {
		t.Fatalf("deleted on kind %q", fields.Kind)
	}
	if isRef && fields.Ref == "" {
		t.Fatalf("kind %q without a ref", fields.Kind)
	}
}
