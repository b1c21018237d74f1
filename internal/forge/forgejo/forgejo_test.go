package forgejo_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/forgejo"
	"github.com/forgehook/forgehook/internal/forge/forgetest"
	"github.com/forgehook/forgehook/internal/verify"
)

func newProvider(t testing.TB) *forgejo.Provider {
	return forgetest.New[*forgejo.Provider](t, forgejo.New, nil)
}

func TestForgejoConformance(t *testing.T) {
	forgetest.Run(t, newProvider(t), forgetest.Options{BodySigned: true, MinFixtures: 11})
}

func TestForgejoName(t *testing.T) {
	if got := newProvider(t).Name(); got != "forgejo" {
		t.Errorf("Name() = %q, want forgejo", got)
	}
}

// TestForgejoKnownAnswer is forges.md section 3's worked example: Forgejo
// signs as Gitea does and adds X-Forgejo-Signature.
func TestForgejoKnownAnswer(t *testing.T) {
	const sig = "d8f89f0618acd61fe621aa4e64078c0e2bca15d0b578b7f3eb734f55883c5320"
	h := http.Header{}
	newProvider(t).Sign(h, []byte(`{"ref":"refs/heads/main"}`), "secret", time.Time{})
	for _, k := range []string{"X-Forgejo-Signature", "X-Gitea-Signature", "X-Gogs-Signature"} {
		if got := h.Get(k); got != sig {
			t.Errorf("Sign: %s = %q, want %s", k, got, sig)
		}
	}
	if got := h.Get("X-Hub-Signature-256"); got != "sha256="+sig {
		t.Errorf("Sign: X-Hub-Signature-256 = %q", got)
	}
	if got := h.Get("X-Hub-Signature"); got != "sha1=b4a16e3f7e972ac84f7ec491f5bd8e412e95cd69" {
		t.Errorf("Sign: X-Hub-Signature = %q", got)
	}
}

func TestForgejoInspect(t *testing.T) {
	p := newProvider(t)
	tests := []struct {
		name string
		h    http.Header
		want forge.Meta
		err  error
	}{
		{"forgejo headers win", http.Header{
			"X-Forgejo-Event": {"pull_request"}, "X-Forgejo-Event-Type": {"pull_request_sync"}, "X-Forgejo-Delivery": {"f-1"},
			"X-Gitea-Event": {"other"}, "X-Gitea-Event-Type": {"other"}, "X-Gitea-Delivery": {"g-1"},
		}, forge.Meta{Event: "pull_request_sync", Delivery: "f-1", DedupKey: "f-1"}, nil},
		{"falls back to the X-Gitea-* copies", http.Header{
			"X-Gitea-Event": {"issues"}, "X-Gitea-Event-Type": {"issue_label"}, "X-Gitea-Delivery": {"g-2"},
		}, forge.Meta{Event: "issue_label", Delivery: "g-2", DedupKey: "g-2"}, nil},
		{"docs example: no event type", http.Header{
			"X-Forgejo-Event": {"push"}, "X-Forgejo-Delivery": {"f6266f16-1bf3-46a5-9ea4-602e06ead473"},
		}, forge.Meta{Event: "push", Delivery: "f6266f16-1bf3-46a5-9ea4-602e06ead473", DedupKey: "f6266f16-1bf3-46a5-9ea4-602e06ead473"}, nil},
		{"gogs headers only", http.Header{"X-Gogs-Event": {"push"}}, forge.Meta{}, forge.ErrNotRecognized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := p.Inspect(tt.h)
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("Inspect = %v, want %v", err, tt.err)
			}
			if m != tt.want {
				t.Errorf("Inspect = %+v, want %+v", m, tt.want)
			}
		})
	}
}

func TestForgejoVerify(t *testing.T) {
	p := newProvider(t)
	fx := forgetest.LoadFixture(t, "reuse-gitea-capture-push-main")
	sig := fx.Header.Get("X-Forgejo-Signature")
	right := []config.Secret{"s3cr3t-hook"}
	req := func(h http.Header) *forge.Request {
		return &forge.Request{Header: h, Body: fx.Body, Payload: fx.Body}
	}
	tests := []struct {
		name string
		h    http.Header
		want error
	}{
		{"X-Forgejo-Signature", http.Header{"X-Forgejo-Signature": {sig}}, nil},
		{"X-Gitea-Signature fallback", http.Header{"X-Gitea-Signature": {sig}}, nil},
		{"X-Hub-Signature-256 fallback", http.Header{"X-Hub-Signature-256": {"sha256=" + sig}}, nil},
		{"empty X-Forgejo-Signature falls back", http.Header{"X-Forgejo-Signature": {""}, "X-Gitea-Signature": {sig}}, nil},
		{"bad X-Forgejo-Signature not rescued", http.Header{"X-Forgejo-Signature": {strings.Repeat("0", 64)}, "X-Gitea-Signature": {sig}}, verify.ErrBadSignature},
		{"all empty (hook without secret)", http.Header{"X-Forgejo-Signature": {""}, "X-Gitea-Signature": {""}, "X-Hub-Signature-256": {"sha256="}}, verify.ErrMissingSignature},
		{"X-Gogs-Signature alone is not read", http.Header{"X-Gogs-Signature": {sig}}, verify.ErrMissingSignature},
		{"bad hex", http.Header{"X-Forgejo-Signature": {"x" + sig[1:]}}, verify.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Verify(req(tt.h), right)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "forgejo: verify") {
				t.Errorf("error %q lacks the forgejo: verify context", err)
			}
		})
	}
}

func TestForgejoNormalize(t *testing.T) {
	p := newProvider(t)
	fields := func(name string) event.Fields {
		t.Helper()
		fx := forgetest.LoadFixture(t, name)
		m, err := p.Inspect(fx.Header)
		if err != nil {
			t.Fatal(err)
		}
		f, err := p.Normalize(m, fx.Body)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	if f := fields("reuse-gitea-capture-create-branch-short-ref"); f.Ref != "refs/heads/feature" || f.Kind != event.KindPush || f.Forge != "forgejo" {
		t.Errorf("short create ref: ref %q kind %q forge %q", f.Ref, f.Kind, f.Forge)
	}
	if f := fields("reuse-gitea-capture-delete-branch"); !f.Deleted || f.Action != "deleted" {
		t.Errorf("delete: deleted %v action %q", f.Deleted, f.Action)
	}
	if f := fields("docs-push"); f.Branch != "develop" || f.Repository.FullName != "forgejo/webhooks" || len(f.Commits) != 1 {
		t.Errorf("docs push: %+v", f)
	}
	// The full ref of Forgejo's "forgejo" hook type.
	full, err := p.Normalize(forge.Meta{Event: "create"}, []byte(`{"ref":"refs/tags/v2","ref_type":"tag","sha":"abc"}`))
	if err != nil || full.Kind != event.KindTag || full.Ref != "refs/tags/v2" || full.Tag != "v2" {
		t.Errorf("full create ref: %+v, %v", full, err)
	}
	for _, ev := range []string{"action_run_failure", "action_run_recover", "action_run_success"} {
		f, err := p.Normalize(forge.Meta{Event: ev}, []byte(`{"action":"x","run":{"commit_sha":"c0ffee","repository":{"full_name":"o/r","name":"r","owner":{"login":"o"}},"trigger_user":{"login":"u"}}}`))
		if err != nil || f.Kind != event.KindPipeline || f.After != "c0ffee" || f.Repository.FullName != "o/r" || f.Actor.Login != "u" {
			t.Errorf("%s: %+v, %v", ev, f, err)
		}
	}
}

func TestForgejoRedact(t *testing.T) {
	p := newProvider(t)
	fx := forgetest.LoadFixture(t, "docs-v1.20-push-secret-in-payload")
	got := p.Redact(fx.Body)
	if strings.Contains(string(got), "3gEsCfjlV2ugRwgpU") || !strings.Contains(string(got), `"secret":"[redacted]"`) {
		t.Errorf("Redact = %s", got)
	}
}

// FuzzVerifyForgejo checks that a signature Verify accepts in
// X-Forgejo-Signature is the payload's HMAC-SHA256, and that Sign verifies.
func FuzzVerifyForgejo(f *testing.F) {
	for _, fx := range forgetest.Seeds(f, "testdata") {
		f.Add(fx.Body, fx.Header.Get("X-Forgejo-Signature"), fx.Secret)
	}
	p := newProvider(f)
	f.Fuzz(func(t *testing.T, payload []byte, sig, secret string) {
		h := http.Header{}
		h.Set("X-Forgejo-Signature", sig)
		err := p.Verify(&forge.Request{Header: h, Body: payload, Payload: payload}, []config.Secret{config.Secret(secret)})
		want := verify.Sign(verify.SHA256, verify.Hex, "", []byte(secret), payload)
		if err == nil && !strings.EqualFold(strings.TrimSpace(h.Get("X-Forgejo-Signature")), want) {
			t.Fatalf("accepted %q, HMAC is %s", sig, want)
		}
		if err != nil && !errors.Is(err, verify.ErrMissingSignature) && !errors.Is(err, verify.ErrBadSignature) {
			t.Fatalf("Verify = %v, want a verify sentinel", err)
		}
		signed := http.Header{}
		p.Sign(signed, payload, secret, time.Time{})
		if err := p.Verify(&forge.Request{Header: signed, Body: payload, Payload: payload}, []config.Secret{config.Secret(secret)}); err != nil {
			t.Fatalf("Verify(Sign) = %v", err)
		}
	})
}

// FuzzNormalizeForgejo checks that Normalize returns canonical fields for
// forge "forgejo" or an error wrapping forge.ErrBadPayload.
func FuzzNormalizeForgejo(f *testing.F) {
	for _, fx := range forgetest.Seeds(f, "testdata") {
		f.Add(fx.Header.Get("X-Forgejo-Event-Type")+fx.Header.Get("X-Forgejo-Event"), fx.Body)
	}
	f.Add("action_run_success", []byte(`{"action":"success","run":{"commit_sha":"c","repository":{"full_name":"o/r"}}}`))
	p := newProvider(f)
	f.Fuzz(func(t *testing.T, ev string, payload []byte) {
		fields, err := p.Normalize(forge.Meta{Event: ev}, payload)
		if err != nil {
			if !errors.Is(err, forge.ErrBadPayload) {
				t.Fatalf("Normalize error %v does not wrap ErrBadPayload", err)
			}
			return
		}
		if fields.Kind == "" || fields.Forge != "forgejo" {
			t.Fatalf("kind %q forge %q", fields.Kind, fields.Forge)
		}
		if (fields.Kind == event.KindPush || fields.Kind == event.KindTag) && fields.Ref == "" {
			t.Fatalf("kind %q without a ref", fields.Kind)
		}
	})
}
