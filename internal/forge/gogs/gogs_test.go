package gogs_test

import (
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
	"github.com/forgehook/forgehook/internal/forge/gogs"
	"github.com/forgehook/forgehook/internal/verify"
)

func newProvider(t testing.TB) *gogs.Provider {
	return forgetest.New[*gogs.Provider](t, gogs.New, nil)
}

func TestGogsConformance(t *testing.T) {
	forgetest.Run(t, newProvider(t), forgetest.Options{BodySigned: true, MinFixtures: 17})
}

func TestGogsName(t *testing.T) {
	if got := newProvider(t).Name(); got != "gogs" {
		t.Errorf("Name() = %q, want gogs", got)
	}
}

// TestGogsKnownAnswer is forges.md section 3's worked example, which section
// 5 says applies to X-Gogs-Signature. Gogs sends no X-Hub-Signature.
func TestGogsKnownAnswer(t *testing.T) {
	const (
		body = `{"ref":"refs/heads/main"}`
		sig  = "d8f89f0618acd61fe621aa4e64078c0e2bca15d0b578b7f3eb734f55883c5320"
	)
	p := newProvider(t)
	h := http.Header{}
	p.Sign(h, []byte(body), "secret", time.Time{})
	if got := h.Get("X-Gogs-Signature"); got != sig || len(h) != 1 {
		t.Errorf("Sign = %v, want only X-Gogs-Signature: %s", h, sig)
	}
	req := &forge.Request{Header: http.Header{"X-Gogs-Signature": {sig}}, Body: []byte(body), Payload: []byte(body)}
	if err := p.Verify(req, []config.Secret{"secret"}); err != nil {
		t.Errorf("Verify(known answer) = %v", err)
	}
}

func TestGogsInspect(t *testing.T) {
	p := newProvider(t)
	tests := []struct {
		name string
		h    http.Header
		want forge.Meta
		err  error
	}{
		{"gogs headers", http.Header{"X-Gogs-Event": {"push"}, "X-Gogs-Delivery": {"d-1"}, "X-Github-Event": {"push"}},
			forge.Meta{Event: "push", Delivery: "d-1", DedupKey: "d-1"}, nil},
		{"gitea's gogs copies, with the event type", http.Header{
			"X-Gogs-Event": {"pull_request"}, "X-Gogs-Event-Type": {"pull_request_sync"}, "X-Gogs-Delivery": {"d-2"},
			"X-Gitea-Event": {"pull_request"},
		}, forge.Meta{Event: "pull_request_sync", Delivery: "d-2", DedupKey: "d-2"}, nil},
		{"gitea delivery without X-Gogs-Event", http.Header{"X-Gitea-Event": {"push"}, "X-Gitea-Delivery": {"d-3"}}, forge.Meta{}, forge.ErrNotRecognized},
		{"github delivery", http.Header{"X-Github-Event": {"push"}}, forge.Meta{}, forge.ErrNotRecognized},
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

func TestGogsVerify(t *testing.T) {
	p := newProvider(t)
	fx := forgetest.LoadFixture(t, "capture-gitea-gogs-hook-push-hooktest-api")
	sig := fx.Header.Get("X-Gogs-Signature")
	req := func(h http.Header) *forge.Request {
		return &forge.Request{Header: h, Body: fx.Body, Payload: fx.Body}
	}
	tests := []struct {
		name string
		h    http.Header
		want error
	}{
		{"X-Gogs-Signature", http.Header{"X-Gogs-Signature": {sig}}, nil},
		{"X-Gitea-Signature is not Gogs'", http.Header{"X-Gitea-Signature": {sig}}, verify.ErrMissingSignature},
		{"X-Hub-Signature-256 is not Gogs'", http.Header{"X-Hub-Signature-256": {"sha256=" + sig}}, verify.ErrMissingSignature},
		{"empty", http.Header{"X-Gogs-Signature": {""}}, verify.ErrMissingSignature},
		{"bad hex", http.Header{"X-Gogs-Signature": {"g" + sig[1:]}}, verify.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Verify(req(tt.h), []config.Secret{"s3cr3t-hook"})
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "gogs: verify") {
				t.Errorf("error %q lacks the gogs: verify context", err)
			}
		})
	}
}

func TestGogsNormalize(t *testing.T) {
	p := newProvider(t)
	t.Run("pull request branches", func(t *testing.T) {
		_, f := forgetest.NormalizeFixture(t, p, "goscm-pull-request-opened")
		if pr := f.PullRequest; f.Kind != event.KindPullRequest || pr.Number != 2 || pr.SourceBranch != "feature" || pr.TargetBranch != "master" || pr.URL == "" {
			t.Errorf("got kind %q pull request %+v", f.Kind, pr)
		}
		if f.Actor.Login != "unknwon" {
			t.Errorf("actor %+v", f.Actor)
		}
	})
	t.Run("synchronized is updated", func(t *testing.T) {
		if _, f := forgetest.NormalizeFixture(t, p, "goscm-pull-request-synchronized"); f.Action != "updated" {
			t.Errorf("action %q", f.Action)
		}
	})
	t.Run("tag deletion", func(t *testing.T) {
		_, f := forgetest.NormalizeFixture(t, p, "goscm-tag-delete")
		if f.Kind != event.KindTag || !f.Deleted || f.Ref != "refs/tags/v1.0.0" {
			t.Errorf("got kind %q deleted %v ref %q", f.Kind, f.Deleted, f.Ref)
		}
	})
	t.Run("comment on a pull request", func(t *testing.T) {
		if _, f := forgetest.NormalizeFixture(t, p, "goscm-pull-request-comment-created"); f.Kind != event.KindComment || f.PullRequest.Number != 2 {
			t.Errorf("got kind %q number %d", f.Kind, f.PullRequest.Number)
		}
	})
	t.Run("username before login", func(t *testing.T) {
		f, err := p.Normalize(forge.Meta{Event: "push"}, []byte(`{"ref":"refs/heads/m","before":"a","after":"b",
			"repository":{"name":"r","owner":{"login":"","username":"own"}},"sender":{"login":"gh-style","username":"gogs-user"}}`))
		if err != nil || f.Actor.Login != "gogs-user" || f.Repository.Owner != "own" || f.Repository.FullName != "own/r" {
			t.Errorf("actor %+v repository %+v err %v", f.Actor, f.Repository, err)
		}
	})
}

// TestGogsNormalizeTestDelivery: Gogs' "Test delivery" pushes the latest
// commit with before == after, and only an empty repository gets the
// all-zero "This is a fake commit" (internal/route/repo/webhook.go
// TestWebhook): only that one is a ping.
func TestGogsNormalizeTestDelivery(t *testing.T) {
	p := newProvider(t)
	fx := forgetest.LoadFixture(t, "docs-push")
	var m map[string]any
	if err := json.Unmarshal(fx.Body, &m); err != nil {
		t.Fatal(err)
	}
	commit := func(id, msg string) map[string]any {
		return map[string]any{"id": id, "message": msg, "url": "", "author": map[string]any{"name": "Ghost", "email": "", "username": "ghost"}, "timestamp": "0001-01-01T00:00:00Z"}
	}
	latest := "bffeb74224043ba2feb48d137756c8a9331c449a"
	tests := []struct {
		name          string
		before, after string
		commit        map[string]any
		want          event.Kind
	}{
		{"empty repository", event.ZeroSHA1, event.ZeroSHA1, commit(event.ZeroSHA1, "This is a fake commit"), event.KindPing},
		{"latest commit", latest, latest, commit(latest, "Update README\n"), event.KindPing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m["before"], m["after"], m["commits"] = tt.before, tt.after, []any{tt.commit}
			payload, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			f, err := p.Normalize(forge.Meta{Event: "push"}, payload)
			if err != nil {
				t.Fatal(err)
			}
			if f.Kind != tt.want || f.Deleted {
				t.Errorf("kind %q deleted %v, want %q", f.Kind, f.Deleted, tt.want)
			}
		})
	}
}

// FuzzVerifyGogs checks that a signature Verify accepts is the payload's
// HMAC-SHA256 in X-Gogs-Signature, and that Sign verifies.
func FuzzVerifyGogs(f *testing.F) {
	for _, fx := range forgetest.Seeds(f, "testdata") {
		f.Add(fx.Body, fx.Header.Get("X-Gogs-Signature"), fx.Secret)
	}
	p := newProvider(f)
	f.Fuzz(func(t *testing.T, payload []byte, sig, secret string) {
		h := http.Header{}
		h.Set("X-Gogs-Signature", sig)
		err := p.Verify(&forge.Request{Header: h, Body: payload, Payload: payload}, []config.Secret{config.Secret(secret)})
		want := verify.Sign(verify.SHA256, verify.Hex, "", []byte(secret), payload)
		if err == nil && !strings.EqualFold(strings.TrimSpace(h.Get("X-Gogs-Signature")), want) {
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

// FuzzNormalizeGogs checks that Normalize returns canonical fields for
// forge "gogs" or an error wrapping forge.ErrBadPayload.
func FuzzNormalizeGogs(f *testing.F) {
	for _, fx := range forgetest.Seeds(f, "testdata") {
		f.Add(fx.Header.Get("X-Gogs-Event"), fx.Body)
	}
	p := newProvider(f)
	f.Fuzz(func(t *testing.T, ev string, payload []byte) {
		fields, err := p.Normalize(forge.Meta{Event: ev}, payload)
		if err != nil {
			if !errors.Is(err, forge.ErrBadPayload) {
				t.Fatalf("Normalize error %v does not wrap ErrBadPayload", err)
			}
			return
		}
		if fields.Kind == "" || fields.Forge != "gogs" {
			t.Fatalf("kind %q forge %q", fields.Kind, fields.Forge)
		}
		if (fields.Kind == event.KindPush || fields.Kind == event.KindTag) && fields.Ref == "" {
			t.Fatalf("kind %q without a ref", fields.Kind)
		}
	})
}

// TestGogsForkIsTheForkedRepository checks that a Gogs fork event, whose
// "forkee" is the new fork (internal/db/repo.go ForkRepository, the other
// way round from Gitea), keeps "repository", the forked one, whose hooks
// fired.
func TestGogsForkIsTheForkedRepository(t *testing.T) {
	p := newProvider(t)
	f, err := p.Normalize(forge.Meta{Event: "fork"}, []byte(`{"forkee":{"full_name":"bob/repo"},"repository":{"full_name":"alice/repo"}}`))
	if err != nil {
		t.Fatal(err)
	}
	forgetest.Want(t, "repository.full_name", f.Repository.FullName, "alice/repo")
}
