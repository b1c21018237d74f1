package atomgit_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/ingest"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/atomgit"
	"github.com/forgehook/forgehook/internal/forge/forgetest"
	"github.com/forgehook/forgehook/internal/forge/gitlab"
	"github.com/forgehook/forgehook/internal/verify"
)

// A known answer for the assumed signature, HMAC-SHA256 of the raw body,
// computed with Python's hmac module (testdata/SOURCES.md).
const (
	katKey    = "gitcode-signing-key"
	katBody   = `{"object_kind":"push","ref":"refs/heads/main"}`
	katHex    = "85adc840dde64a362c313c211bd0ba1bbdf02376746d6ab03a8544607097fb46"
	katBase64 = "ha3IQN3mSjYsMTwhG9C6G73wI3Z0bWqwOoVEYHCX+0Y="
)

// sentinels are the errors Verify may wrap; a failure must match exactly
// one of them.
var sentinels = []error{verify.ErrMissingSignature, verify.ErrBadSignature, verify.ErrStale, verify.ErrNoSecret}

func newProvider(t testing.TB) forge.Provider {
	return forgetest.New[forge.Provider](t, atomgit.New, nil)
}

func TestAtomGitConformance(t *testing.T) {
	forgetest.Run(t, newProvider(t), forgetest.Options{BodySigned: false, MinFixtures: 8})
}

func TestAtomGitName(t *testing.T) {
	if got := newProvider(t).Name(); got != "atomgit" {
		t.Errorf("Name() = %q, want atomgit", got)
	}
}

func TestAtomGitSignatureKnownAnswer(t *testing.T) {
	p := newProvider(t)
	h := http.Header{}
	p.(forge.Signer).Sign(h, []byte(katBody), katKey, time.Time{})
	if got := h.Get("X-GitCode-Signature-256"); got != "sha256="+katHex {
		t.Errorf("Sign = %q, want sha256=%s", got, katHex)
	}
	for _, hdr := range []http.Header{
		{"X-Gitcode-Signature-256": {"sha256=" + katHex}},
		{"X-Gitcode-Signature-256": {"SHA256=" + strings.ToUpper(katHex)}},
		{"X-Gitcode-Signature-256": {katHex}},
		{"X-Gitcode-Signature-256": {"sha256=" + katBase64}},
		{"X-Atomgit-Signature-256": {"sha256=" + katHex}},
	} {
		req := &forge.Request{Header: hdr, Body: []byte(katBody), Payload: []byte(katBody)}
		if err := p.Verify(req, []config.Secret{"older-key", katKey}); err != nil {
			t.Errorf("Verify(%v) = %v", hdr, err)
		}
	}
	// The signed fixture's signature was computed outside Go, over its body.
	f := forgetest.LoadFixture(t, "gitlab-docs-merge-request-signed")
	if err := p.Verify(forgetest.Request(t, f, time.Now()), []config.Secret{config.Secret(f.Secret)}); err != nil {
		t.Errorf("Verify(signed fixture) = %v", err)
	}
}

func TestAtomGitVerifyNegative(t *testing.T) {
	const password = "gitcode-hook-password"
	body := []byte(katBody)
	good := "sha256=" + katHex
	basic := func(userpass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(userpass))
	}
	tests := []struct {
		name    string
		header  map[string]string
		body    []byte
		secrets []config.Secret
		want    error // nil: accepted
	}{
		{"gitcode token", map[string]string{"X-GitCode-Token": password}, nil, []config.Secret{password}, nil},
		{"atomgit token", map[string]string{"X-AtomGit-Token": password}, nil, []config.Secret{password}, nil},
		{"token, rotation", map[string]string{"X-GitCode-Token": password}, nil, []config.Secret{"new-password", password}, nil},
		{"wrong token", map[string]string{"X-GitCode-Token": "guess"}, nil, []config.Secret{password}, verify.ErrBadSignature},
		{"token prefix of secret", map[string]string{"X-GitCode-Token": password[:6]}, nil, []config.Secret{password}, verify.ErrBadSignature},
		{"token, no secrets", map[string]string{"X-GitCode-Token": password}, nil, nil, verify.ErrNoSecret},
		{"no credentials", map[string]string{"X-GitCode-Event": "Push Hook"}, nil, []config.Secret{password}, verify.ErrMissingSignature},
		{"empty token", map[string]string{"X-GitCode-Token": ""}, nil, []config.Secret{password}, verify.ErrMissingSignature},

		{"signature", map[string]string{"X-GitCode-Signature-256": good}, nil, []config.Secret{katKey}, nil},
		{"signature, wrong key", map[string]string{"X-GitCode-Signature-256": good}, nil, []config.Secret{"other-key"}, verify.ErrBadSignature},
		{"signature, rotation", map[string]string{"X-GitCode-Signature-256": good}, nil, []config.Secret{"other-key", katKey}, nil},
		{"signature, tampered body", map[string]string{"X-GitCode-Signature-256": good}, append([]byte(katBody), ' '), []config.Secret{katKey}, verify.ErrBadSignature},
		{"signature, empty body", map[string]string{"X-GitCode-Signature-256": good}, []byte{}, []config.Secret{katKey}, verify.ErrBadSignature},
		{"signature, wrong algorithm prefix", map[string]string{"X-GitCode-Signature-256": "sha1=" + katHex}, nil, []config.Secret{katKey}, verify.ErrBadSignature},
		{"signature, bad hex", map[string]string{"X-GitCode-Signature-256": "sha256=zz" + katHex[2:]}, nil, []config.Secret{katKey}, verify.ErrBadSignature},
		{"signature, truncated", map[string]string{"X-GitCode-Signature-256": good[:len(good)-2]}, nil, []config.Secret{katKey}, verify.ErrBadSignature},
		{"signature, prefix only", map[string]string{"X-GitCode-Signature-256": "sha256="}, nil, []config.Secret{katKey}, verify.ErrBadSignature},
		{"signature, no secrets", map[string]string{"X-GitCode-Signature-256": good}, nil, nil, verify.ErrNoSecret},
		{"bad signature, right token: the signature decides", map[string]string{"X-GitCode-Signature-256": "sha256=" + strings.Repeat("0", 64), "X-GitCode-Token": password}, nil, []config.Secret{katKey, password}, verify.ErrBadSignature},
		{"empty signature header, right token", map[string]string{"X-GitCode-Signature-256": "", "X-GitCode-Token": password}, nil, []config.Secret{password}, nil},

		{"basic auth", map[string]string{"Authorization": basic("hook:pa55")}, nil, []config.Secret{"hook:pa55"}, nil},
		{"basic auth, wrong password", map[string]string{"Authorization": basic("hook:guess")}, nil, []config.Secret{"hook:pa55"}, verify.ErrBadSignature},
		{"basic auth, bad base64", map[string]string{"Authorization": "Basic %%%"}, nil, []config.Secret{"hook:pa55"}, verify.ErrBadSignature},
		{"bearer is not basic", map[string]string{"Authorization": "Bearer hook:pa55"}, nil, []config.Secret{"hook:pa55"}, verify.ErrMissingSignature},
		{"token takes precedence over basic auth", map[string]string{"X-GitCode-Token": "guess", "Authorization": basic("hook:pa55")}, nil, []config.Secret{"hook:pa55"}, verify.ErrBadSignature},
	}
	p := newProvider(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			b := body
			if tt.body != nil {
				b = tt.body
			}
			err := p.Verify(&forge.Request{Header: h, Body: b, Payload: b}, tt.secrets)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			for _, s := range sentinels {
				if s != tt.want && errors.Is(err, s) {
					t.Errorf("Verify = %v: also matches %v", err, s)
				}
			}
			if got := ingest.StatusOf(err); got != http.StatusUnauthorized {
				t.Errorf("status = %d, want 401", got)
			}
			if !strings.HasPrefix(err.Error(), "atomgit: verify") {
				t.Errorf("Verify error %q lacks the atomgit: verify context", err)
			}
			for _, s := range tt.secrets {
				if strings.Contains(err.Error(), s.Reveal()) {
					t.Errorf("Verify error %q contains a secret", err)
				}
			}
		})
	}
}

func TestAtomGitInspect(t *testing.T) {
	p := newProvider(t)
	tests := []struct {
		name    string
		h       http.Header
		want    forge.Meta
		wantErr error
	}{
		{"no headers", http.Header{}, forge.Meta{}, forge.ErrNotRecognized},
		{"empty event", http.Header{"X-Atomgit-Event": {""}}, forge.Meta{}, forge.ErrNotRecognized},
		{"a GitLab delivery", http.Header{"X-Gitlab-Event": {"Push Hook"}}, forge.Meta{}, forge.ErrNotRecognized},
		{"atomgit", http.Header{"X-Atomgit-Event": {"Push Hook"}, "X-Atomgit-Delivery": {"a-1"}}, forge.Meta{Event: "Push Hook", Delivery: "a-1"}, nil},
		{"gitcode", http.Header{"X-Gitcode-Event": {"Merge Request Hook"}, "X-Gitcode-Delivery": {"g-1"}}, forge.Meta{Event: "Merge Request Hook", Delivery: "g-1"}, nil},
		{"mixed families", http.Header{"X-Atomgit-Event": {"Note Hook"}, "X-Gitcode-Delivery": {"g-2"}}, forge.Meta{Event: "Note Hook", Delivery: "g-2"}, nil},
		{"atomgit first", http.Header{"X-Atomgit-Event": {"Issue Hook"}, "X-Gitcode-Event": {"Push Hook"}}, forge.Meta{Event: "Issue Hook"}, nil},
		{"object_kind style", http.Header{"X-Atomgit-Event": {"merge_request"}}, forge.Meta{Event: "merge_request"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.Inspect(tt.h)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Inspect() error = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Inspect() = %+v, want %+v (no dedup key, never a ping)", got, tt.want)
			}
		})
	}
}

func normalize(t *testing.T, ev, body string) event.Fields {
	t.Helper()
	f, err := newProvider(t).Normalize(forge.Meta{Event: ev}, []byte(body))
	if err != nil {
		t.Fatalf("Normalize(%s): %v", ev, err)
	}
	return f
}

func TestAtomGitNormalize(t *testing.T) {
	body := func(name string) string { return string(forgetest.LoadFixture(t, name).Body) }
	t.Run("same as GitLab's mapping but for the forge", func(t *testing.T) {
		for _, name := range []string{"gitlab-docs-merge-request-signed", "gitlab-docs-note-merge-request", "gitlab-docs-issue-basic-auth", "gitlab-docs-push-gitcode-token"} {
			f := forgetest.LoadFixture(t, name)
			m, err := newProvider(t).Inspect(f.Header)
			if err != nil {
				t.Fatal(err)
			}
			got := normalize(t, m.Event, string(f.Body))
			want, err := gitlab.NormalizeAs("atomgit", m.Event, f.Body)
			if err != nil {
				t.Fatal(err)
			}
			gl, _ := gitlab.New(nil)
			asGitLab, _ := gl.Normalize(m, f.Body)
			asGitLab.Forge = "atomgit"
			if !equalFields(got, want) || !equalFields(got, asGitLab) {
				t.Errorf("%s: atomgit %+v, GitLab's mapping %+v", name, got, want)
			}
		}
	})
	t.Run("atomgit docs push", func(t *testing.T) {
		f := normalize(t, "Push Hook", body("atomgit-docs-push"))
		if f.Kind != event.KindPush || f.Branch != "master" || len(f.Commits) != 2 || f.Actor.Name != "atomgit" {
			t.Errorf("push: %+v", f)
		}
		if f.Repository != (event.Repository{FullName: "demo/demo", Owner: "demo", Name: "demo", URL: "https://atomgit.codechina.net/demo/demo", CloneURL: "https://atomgit.codechina.net/demo/demo.git"}) {
			t.Errorf("repository from the legacy repository key: %+v", f.Repository)
		}
	})
	t.Run("gitcode docs tag push", func(t *testing.T) {
		f := normalize(t, "Tag Push Hook", body("gitcode-docs-tag-push"))
		if f.Kind != event.KindTag || f.Tag != "test2" || f.Deleted || f.Actor.Login != "xiaogang_o" || f.Repository.FullName != "xiaogang_o/test" || f.Repository.URL != "https://gitcode.com/xiaogang_o/test" {
			t.Errorf("tag push: %+v", f)
		}
	})
	t.Run("object_kind names and fallback", func(t *testing.T) {
		for _, ev := range []string{"tag_push", "Tag_Push", "", "Unknown Hook"} {
			f := normalize(t, ev, body("gitcode-docs-tag-push"))
			if f.Kind != event.KindTag || f.Tag != "test2" {
				t.Errorf("%q: kind %q tag %q, want tag test2", ev, f.Kind, f.Tag)
			}
		}
		f := normalize(t, "Star Hook", `{"object_kind":"star","project":{"path_with_namespace":"a/b"}}`)
		if f.Kind != event.KindOther || f.Forge != "atomgit" || f.Repository.FullName != "a/b" {
			t.Errorf("unknown hook: %+v", f)
		}
	})
	t.Run("atomgit field names", func(t *testing.T) {
		f := normalize(t, "merge_request", body("derived-atomgit-fields-merge-request"))
		if f.Kind != event.KindPullRequest || f.Action != "opened" || f.ForgeAction != "open" {
			t.Errorf("kind %q action %q forgeaction %q, want pull_request opened open (from event_name)", f.Kind, f.Action, f.ForgeAction)
		}
		pr := f.PullRequest
		pr.HeadSHA, pr.SourceRepository, pr.Author, pr.Labels = "", event.Repository{}, event.Person{}, nil
		if !reflect.DeepEqual(pr, event.PullRequest{Number: 12, Title: "Retry failed deliveries", State: "opened", SourceBranch: "feat/retry", TargetBranch: "main", URL: "https://atomgit.com/openatom-demo/gateway/merge_requests/12"}) {
			t.Errorf("pull request %+v", f.PullRequest)
		}
		if f.Repository != (event.Repository{FullName: "openatom-demo/gateway", Owner: "openatom-demo", Name: "gateway", URL: "https://atomgit.com/openatom-demo/gateway", CloneURL: "https://atomgit.com/openatom-demo/gateway.git", DefaultBranch: "main"}) {
			t.Errorf("repository %+v", f.Repository)
		}
	})
	t.Run("event_name actions", func(t *testing.T) {
		for ev, want := range map[string]string{
			"merge_request_open": "opened", "merge_request_reopen": "opened", "merge_request_update": "edited",
			"merge_request_merge": "merged", "merge_request_close": "closed", "merge_request_approved": "approved",
		} {
			f := normalize(t, "Merge Request Hook", `{"object_kind":"merge_request","event_name":"`+ev+`","object_attributes":{"iid":2}}`)
			if f.Action != want {
				t.Errorf("%s: action %q, want %q", ev, f.Action, want)
			}
		}
		f := normalize(t, "Merge Request Hook", `{"event_type":"merge_request_update","object_attributes":{"iid":2,"oldrev":"abc"}}`)
		if f.Action != "updated" {
			t.Errorf("update with oldrev: action %q, want updated", f.Action)
		}
		f = normalize(t, "Merge Request Hook", `{"event_name":"merge_request_open","object_attributes":{"iid":2,"action":"close"}}`)
		if f.Action != "closed" {
			t.Errorf("object_attributes.action wins over event_name: %q", f.Action)
		}
	})
	t.Run("undecodable payloads", func(t *testing.T) {
		p := newProvider(t)
		for _, b := range []string{``, `{`, `{"a":}`, `[]`, `"push"`, `null`, `{"a":1}x`} {
			_, err := p.Normalize(forge.Meta{Event: "Push Hook"}, []byte(b))
			if !errors.Is(err, forge.ErrBadPayload) || !strings.HasPrefix(err.Error(), "atomgit: ") {
				t.Errorf("Normalize(%q) = %v, want ErrBadPayload with the atomgit: context", b, err)
			}
		}
	})
}

func equalFields(a, b event.Fields) bool { return reflect.DeepEqual(a, b) }

func BenchmarkVerifyAtomGitToken(b *testing.B) {
	p := newProvider(b)
	f := forgetest.LoadFixture(b, "gitlab-docs-push-gitcode-token")
	req := forgetest.Request(b, f, time.Now())
	secrets := []config.Secret{"an-old-password", config.Secret(f.Secret)}
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Verify(req, secrets); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyAtomGitSignature(b *testing.B) {
	p := newProvider(b)
	f := forgetest.LoadFixture(b, "gitlab-docs-merge-request-signed")
	req := forgetest.Request(b, f, time.Now())
	secrets := []config.Secret{config.Secret(f.Secret)}
	b.ReportAllocs()
	b.SetBytes(int64(len(req.Body)))
	for b.Loop() {
		if err := p.Verify(req, secrets); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNormalizeAtomGitMergeRequest(b *testing.B) {
	forgetest.BenchNormalize(b, newProvider(b), "gitlab-docs-merge-request-signed")
}
