package bitbucketserver

import (
	"bytes"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/forgetest"
	"github.com/forgehook/forgehook/internal/ingest"
	"github.com/forgehook/forgehook/internal/verify"
)

// Known-answer vectors, computed with Python's hmac module
// (hmac.new(secret, body, hashlib.sha256).hexdigest()), independently of
// the verify package. Atlassian publishes no vector.
var knownAnswers = []struct {
	secret, body, header string
}{
	{"It's a Secret to Everybody", "Hello, World!", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"},
	{"bitbucket-dc-s3cret", `{"test":true}`, "sha256=639db302eafa95c6717f9617bd9be8a9dda56ead6d608a40666d32edae8e8321"},
	{"bitbucket-dc-s3cret", "", "sha256=1ed107764796a7d51583847574b58391954eb7720a4334f238da72ab7d5c1cac"},
}

func newProvider(t testing.TB) *Provider {
	return forgetest.New[*Provider](t, New, &config.Endpoint{Name: "bbs", Provider: Name})
}

func TestBitbucketServerConformance(t *testing.T) {
	forgetest.Run(t, newProvider(t), forgetest.Options{BodySigned: true, MinFixtures: 35})
}

// TestBitbucketServerConformanceBasicAuth runs the suite on the delivery of
// a hook that authenticates with HTTP Basic credentials instead of a
// secret: those do not cover the body.
func TestBitbucketServerConformanceBasicAuth(t *testing.T) {
	forgetest.Run(t, newProvider(t), forgetest.Options{Dir: filepath.Join("testdata", "basic"), BodySigned: false})
}

func TestBitbucketServerNew(t *testing.T) {
	p, err := New(nil)
	if err != nil {
		t.Fatalf("New(nil) = %v", err)
	}
	forgetest.Want(t, "Name()", p.Name(), "bitbucket-server")
}

func TestBitbucketServerKnownAnswer(t *testing.T) {
	p := newProvider(t)
	for _, ka := range knownAnswers {
		h := http.Header{}
		p.Sign(h, []byte(ka.body), ka.secret, time.Time{})
		forgetest.Want(t, "Sign: X-Hub-Signature", h.Get("X-Hub-Signature"), ka.header)
		req := &forge.Request{Header: http.Header{"X-Hub-Signature": {ka.header}}, Body: []byte(ka.body)}
		if err := p.Verify(req, []config.Secret{config.Secret(ka.secret)}); err != nil {
			t.Errorf("Verify(%q) = %v, want nil", ka.body, err)
		}
	}
	// gp-repo-refs-changed carries a signature computed with Python when
	// the fixture was written.
	fx := forgetest.LoadFixture(t, "gp-repo-refs-changed")
	req := forgetest.Request(t, fx, time.Now())
	if err := p.Verify(req, []config.Secret{config.Secret(fx.Secret)}); err != nil {
		t.Errorf("Verify(gp-repo-refs-changed) = %v, want nil", err)
	}
}

func TestBitbucketServerInspect(t *testing.T) {
	p := newProvider(t)
	tests := []struct {
		name    string
		h       http.Header
		want    forge.Meta
		wantErr error
	}{
		{"no headers", http.Header{}, forge.Meta{}, forge.ErrNotRecognized},
		{"request id without event key", http.Header{"X-Request-Id": {"r1"}}, forge.Meta{}, forge.ErrNotRecognized},
		{"empty event key", http.Header{"X-Event-Key": {""}, "X-Request-Id": {"r1"}}, forge.Meta{}, forge.ErrNotRecognized},
		{"Cloud delivery", http.Header{"X-Event-Key": {"repo:push"}, "X-Request-Uuid": {"u1"}, "X-Hook-Uuid": {"h1"}, "X-Attempt-Number": {"1"}}, forge.Meta{}, forge.ErrNotRecognized},
		{"Cloud attempt number alone", http.Header{"X-Event-Key": {"repo:push"}, "X-Attempt-Number": {"2"}}, forge.Meta{}, forge.ErrNotRecognized},
		{
			"push",
			http.Header{"X-Event-Key": {"repo:refs_changed"}, "X-Request-Id": {"597d329d-93ba-4a6b-94ae-e5508b06fb86"}},
			forge.Meta{Event: "repo:refs_changed", Delivery: "597d329d-93ba-4a6b-94ae-e5508b06fb86", DedupKey: "597d329d-93ba-4a6b-94ae-e5508b06fb86"},
			nil,
		},
		{"ping", http.Header{"X-Event-Key": {"diagnostics:ping"}, "X-Request-Id": {"r2"}}, forge.Meta{Event: "diagnostics:ping", Delivery: "r2", DedupKey: "r2", Ping: true}, nil},
		{"no request id: ingest hashes the body", http.Header{"X-Event-Key": {"pr:opened"}}, forge.Meta{Event: "pr:opened"}, nil},
		{"request id decides over Cloud headers", http.Header{"X-Event-Key": {"pr:opened"}, "X-Request-Id": {"r3"}, "X-Attempt-Number": {"1"}}, forge.Meta{Event: "pr:opened", Delivery: "r3", DedupKey: "r3"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.Inspect(tt.h)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Inspect() error = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Inspect() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestBitbucketServerVerifyErrors(t *testing.T) {
	body := []byte(`{"test":true}`)
	good := knownAnswers[1].header
	const secret = "bitbucket-dc-s3cret"
	sig := func(secret string, b []byte) string {
		return verify.Sign(verify.SHA256, verify.Hex, "sha256=", []byte(secret), b)
	}
	sha1 := verify.Sign(verify.SHA1, verify.Hex, "sha1=", []byte(secret), body)
	tests := []struct {
		name    string
		header  http.Header
		body    []byte
		secrets []config.Secret
		want    error // nil: accepted
		context string
	}{
		{"valid", http.Header{"X-Hub-Signature": {good}}, body, []config.Secret{secret}, nil, ""},
		{"uppercase hex and prefix", http.Header{"X-Hub-Signature": {"SHA256=" + strings.ToUpper(good[len("sha256="):])}}, body, []config.Secret{secret}, nil, ""},
		{"missing header", http.Header{}, body, []config.Secret{secret}, verify.ErrMissingSignature, "bitbucket-server: no X-Hub-Signature or Authorization header"},
		{"empty header", http.Header{"X-Hub-Signature": {""}}, body, []config.Secret{secret}, verify.ErrMissingSignature, "bitbucket-server: no X-Hub-Signature"},
		{"prefix only", http.Header{"X-Hub-Signature": {"sha256="}}, body, []config.Secret{secret}, verify.ErrMissingSignature, "bitbucket-server: no X-Hub-Signature"},
		{"sha1= prefix", http.Header{"X-Hub-Signature": {sha1}}, body, []config.Secret{secret}, verify.ErrBadSignature, "bitbucket-server: verify X-Hub-Signature: "},
		{"no prefix", http.Header{"X-Hub-Signature": {good[len("sha256="):]}}, body, []config.Secret{secret}, verify.ErrBadSignature, "bitbucket-server: verify X-Hub-Signature: "},
		{"bad hex", http.Header{"X-Hub-Signature": {"sha256=zz" + good[len("sha256=")+2:]}}, body, []config.Secret{secret}, verify.ErrBadSignature, "bitbucket-server: verify X-Hub-Signature: "},
		{"truncated digest", http.Header{"X-Hub-Signature": {good[:len(good)-2]}}, body, []config.Secret{secret}, verify.ErrBadSignature, "bitbucket-server: verify X-Hub-Signature: "},
		{"wrong secret", http.Header{"X-Hub-Signature": {good}}, body, []config.Secret{"other"}, verify.ErrBadSignature, "bitbucket-server: verify X-Hub-Signature: "},
		{"rotation: old secret still listed", http.Header{"X-Hub-Signature": {sig("old", body)}}, body, []config.Secret{"new", "old"}, nil, ""},
		{"rotation: new secret first", http.Header{"X-Hub-Signature": {sig("new", body)}}, body, []config.Secret{"new", "old"}, nil, ""},
		{"rotation: neither", http.Header{"X-Hub-Signature": {sig("older", body)}}, body, []config.Secret{"new", "old"}, verify.ErrBadSignature, "bitbucket-server: verify X-Hub-Signature: "},
		{"empty body, signature of another body", http.Header{"X-Hub-Signature": {good}}, []byte{}, []config.Secret{secret}, verify.ErrBadSignature, "bitbucket-server: verify X-Hub-Signature: "},
		{"empty body signed", http.Header{"X-Hub-Signature": {knownAnswers[2].header}}, nil, []config.Secret{secret}, nil, ""},
		{"tampered body", http.Header{"X-Hub-Signature": {good}}, append(bytes.Clone(body), ' '), []config.Secret{secret}, verify.ErrBadSignature, "bitbucket-server: verify X-Hub-Signature: "},
		{"no secrets", http.Header{"X-Hub-Signature": {good}}, body, nil, verify.ErrNoSecret, "bitbucket-server: verify X-Hub-Signature: "},
		// HTTP Basic credentials, for hooks without a secret.
		{"basic", http.Header{"Authorization": {forgetest.Basic("ci:pass")}}, body, []config.Secret{"ci:pass"}, nil, ""},
		{"basic, lowercase scheme", http.Header{"Authorization": {"basic " + forgetest.Basic("ci:pass")[len("Basic "):]}}, body, []config.Secret{"ci:pass"}, nil, ""},
		{"basic rotation", http.Header{"Authorization": {forgetest.Basic("ci:old")}}, body, []config.Secret{"ci:new", "ci:old"}, nil, ""},
		{"basic, wrong password", http.Header{"Authorization": {forgetest.Basic("ci:nope")}}, body, []config.Secret{"ci:pass"}, verify.ErrBadSignature, "bitbucket-server: verify Authorization (basic): "},
		{"basic, bad base64", http.Header{"Authorization": {"Basic !!!"}}, body, []config.Secret{"ci:pass"}, verify.ErrBadSignature, "bitbucket-server: verify Authorization (basic): "},
		{"bearer is not basic", http.Header{"Authorization": {"Bearer ci:pass"}}, body, []config.Secret{"ci:pass"}, verify.ErrMissingSignature, "bitbucket-server: verify Authorization (basic): "},
		{"basic beside an empty signature header", http.Header{"X-Hub-Signature": {""}, "Authorization": {forgetest.Basic("ci:pass")}}, body, []config.Secret{"ci:pass"}, nil, ""},
		{"a bad signature is not rescued by good basic credentials", http.Header{"X-Hub-Signature": {sig("other", body)}, "Authorization": {forgetest.Basic("ci:pass")}}, body, []config.Secret{"ci:pass", secret}, verify.ErrBadSignature, "bitbucket-server: verify X-Hub-Signature: "},
		{"a good signature beside bad basic credentials", http.Header{"X-Hub-Signature": {good}, "Authorization": {forgetest.Basic("ci:nope")}}, body, []config.Secret{secret}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &forge.Request{Header: tt.header, Body: tt.body, Payload: tt.body}
			err := newProvider(t).Verify(req, tt.secrets)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify() = %v, want errors.Is %v", err, tt.want)
			}
			if got := ingest.StatusOf(err); got != http.StatusUnauthorized {
				t.Errorf("status(%v) = %d, want 401", err, got)
			}
			if !strings.HasPrefix(err.Error(), tt.context) {
				t.Errorf("Verify() = %q, want prefix %q", err, tt.context)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "pass") {
				t.Errorf("Verify() = %q leaks a secret", err)
			}
		})
	}
}

// TestBitbucketServerPing checks that a "Test connection" delivery is a
// ping whatever its body, which Atlassian does not document.
func TestBitbucketServerPing(t *testing.T) {
	p := newProvider(t)
	m, err := p.Inspect(http.Header{"X-Event-Key": {"diagnostics:ping"}, "X-Request-Id": {"r"}})
	if err != nil || !m.Ping {
		t.Fatalf("Inspect(diagnostics:ping) = %+v, %v, want a ping", m, err)
	}
	for _, body := range []string{`{"test":true}`, `{}`, ``, ` `, `null`, `[]`, `true`, `not json`, `{"test":`, "\xff"} {
		f, err := p.Normalize(m, []byte(body))
		if err != nil {
			t.Errorf("Normalize(ping, %q) = %v, want nil", body, err)
			continue
		}
		if f.Kind != event.KindPing || f.Forge != Name || f.ForgeAction != "ping" || f.Action != "" {
			t.Errorf("Normalize(ping, %q) = kind %q forge %q forgeaction %q action %q, want ping bitbucket-server ping \"\"", body, f.Kind, f.Forge, f.ForgeAction, f.Action)
		}
	}
	// A ping body that carries the usual members keeps them.
	f, err := p.Normalize(m, []byte(`{"actor":{"name":"admin"},"repository":{"slug":"r","project":{"key":"P"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	forgetest.Want(t, "actor.login", f.Actor.Login, "admin")
	forgetest.Want(t, "repository.full_name", f.Repository.FullName, "P/r")
	// A ping signed over an empty body verifies.
	req := &forge.Request{Header: http.Header{}, Body: nil}
	p.Sign(req.Header, nil, "s", time.Time{})
	if err := p.Verify(req, []config.Secret{"s"}); err != nil {
		t.Errorf("Verify(signed empty ping) = %v", err)
	}
}

// TestBitbucketServerMultiChangePush pins the decision for a push of
// several refs: the event is the first change's.
func TestBitbucketServerMultiChangePush(t *testing.T) {
	p := newProvider(t)
	_, f := forgetest.NormalizeFixture(t, p, "derived-refs-changed-multi-change")
	forgetest.Want(t, "kind (first change: branch)", f.Kind, event.KindPush)
	forgetest.Want(t, "ref", f.Ref, "refs/heads/master")
	forgetest.Want(t, "branch", f.Branch, "master")
	forgetest.Want(t, "before", f.Before, "5c64a07cd6c0f21b753bf261ef059c7e7633c50a")
	forgetest.Want(t, "after", f.After, "823b2230a56056231c9425d63758fa87078a66b4")
	forgetest.Want(t, "deleted (the third change's deletion does not leak)", f.Deleted, false)
	forgetest.Want(t, "action", f.Action, "")
	forgetest.Want(t, "commits is [] (Data Center sends none)", f.Commits != nil && len(f.Commits) == 0, true)

	payload := []byte(`{"changes":[
		{"ref":{"id":"refs/tags/v2","displayId":"v2","type":"TAG"},"fromHash":"aaa","toHash":"0000000000000000000000000000000000000000","type":"DELETE"},
		{"ref":{"id":"refs/heads/main","displayId":"main","type":"BRANCH"},"fromHash":"bbb","toHash":"ccc","type":"UPDATE"}
	]}`)
	f, err := p.Normalize(forge.Meta{Event: "repo:refs_changed"}, payload)
	if err != nil {
		t.Fatal(err)
	}
	forgetest.Want(t, "kind (first change: tag)", f.Kind, event.KindTag)
	forgetest.Want(t, "ref", f.Ref, "refs/tags/v2")
	forgetest.Want(t, "tag", f.Tag, "v2")
	forgetest.Want(t, "deleted", f.Deleted, true)
	forgetest.Want(t, "action", f.Action, "deleted")
	forgetest.Want(t, "before", f.Before, "aaa")
}

// TestBitbucketServerNormalizeCases pins the mappings that matter most, on
// the fixtures, so that a wrong golden cannot hide them.
func TestBitbucketServerNormalizeCases(t *testing.T) {
	p := newProvider(t)
	tests := []struct {
		fixture string
		check   func(t *testing.T, m forge.Meta, f event.Fields)
	}{
		{"docs-repo-refs-changed", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPush)
			forgetest.Want(t, "ref", f.Ref, "refs/heads/master")
			forgetest.Want(t, "branch", f.Branch, "master")
			forgetest.Want(t, "before", f.Before, "ecddabb624f6f5ba43816f5926e580a5f680a932")
			forgetest.Want(t, "after", f.After, "178864a7d521b6f5e720b386b2c2b0ef8563e0dc")
			forgetest.Want(t, "action", f.Action, "")
			forgetest.Want(t, "forgeaction", f.ForgeAction, "refs_changed")
			forgetest.Want(t, "repository.full_name", f.Repository.FullName, "PROJ/repository")
			forgetest.Want(t, "repository.name", f.Repository.Name, "repository")
			forgetest.Want(t, "repository.owner", f.Repository.Owner, "PROJ")
			forgetest.Want(t, "actor.login", f.Actor.Login, "admin")
			forgetest.Want(t, "actor.name", f.Actor.Name, "Administrator")
			forgetest.Want(t, "actor.email", f.Actor.Email, "admin@example.com")
		}},
		{"gp-repo-refs-changed", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPush)
			forgetest.Want(t, "ref", f.Ref, "refs/heads/feature/wip")
			forgetest.Want(t, "branch", f.Branch, "feature/wip")
			forgetest.Want(t, "deleted", f.Deleted, true)
			forgetest.Want(t, "action", f.Action, "deleted")
			forgetest.Want(t, "after", f.After, event.ZeroSHA1)
			forgetest.Want(t, "repository.full_name (personal project)", f.Repository.FullName, "~gopher/webhook-test")
			forgetest.Want(t, "repository.url", f.Repository.URL, "https://server.bitbucket.local/users/gopher/repos/webhook-test/browse")
			forgetest.Want(t, "repository.clone_url", f.Repository.CloneURL, "https://server.bitbucket.local/scm/~gopher/webhook-test.git")
		}},
		{"goscm-push-branch-create", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPush)
			forgetest.Want(t, "action", f.Action, "created")
			forgetest.Want(t, "deleted", f.Deleted, false)
		}},
		{"goscm-push-tag-create", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindTag)
			forgetest.Want(t, "ref", f.Ref, "refs/tags/v1.1.0")
			forgetest.Want(t, "tag", f.Tag, "v1.1.0")
			forgetest.Want(t, "action", f.Action, "created")
		}},
		{"goscm-push-tag-delete", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindTag)
			forgetest.Want(t, "deleted", f.Deleted, true)
			forgetest.Want(t, "action", f.Action, "deleted")
		}},
		{"gp-pr-opened", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPullRequest)
			forgetest.Want(t, "action", f.Action, "opened")
			forgetest.Want(t, "forgeaction", f.ForgeAction, "opened")
			forgetest.Want(t, "pull_request.number", f.PullRequest.Number, int64(5))
			forgetest.Want(t, "pull_request.title", f.PullRequest.Title, "Update README")
			forgetest.Want(t, "pull_request.state", f.PullRequest.State, "open")
			forgetest.Want(t, "pull_request.source_branch", f.PullRequest.SourceBranch, "feature/wip")
			forgetest.Want(t, "pull_request.merged", f.PullRequest.Merged, false)
			forgetest.Want(t, "repository.full_name (the target's)", f.Repository.FullName, "~gopher/webhook-test")
			if f.PullRequest.TargetBranch == "" || f.PullRequest.URL == "" {
				t.Errorf("pull_request = %+v, want the target branch and URL", f.PullRequest)
			}
		}},
		{"goscm-pr-from-ref-updated", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "action", f.Action, "updated")
			forgetest.Want(t, "forgeaction", f.ForgeAction, "from_ref_updated")
			if f.Before == "" || f.After == "" || f.Before == f.After {
				t.Errorf("before, after = %q, %q, want previousFromHash and fromRef.latestCommit", f.Before, f.After)
			}
		}},
		{"gp-pr-modified", func(t *testing.T, _ forge.Meta, f event.Fields) { forgetest.Want(t, "action", f.Action, "edited") }},
		{"gp-pr-reviewer-updated", func(t *testing.T, _ forge.Meta, f event.Fields) { forgetest.Want(t, "action", f.Action, "edited") }},
		{"gp-pr-reviewer-approved", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "action", f.Action, "approved")
			forgetest.Want(t, "forgeaction", f.ForgeAction, "reviewer:approved")
		}},
		{"gp-pr-reviewer-unapproved", func(t *testing.T, _ forge.Meta, f event.Fields) { forgetest.Want(t, "action", f.Action, "unapproved") }},
		{"gp-pr-reviewer-needs-work", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "action", f.Action, "changes_requested")
		}},
		{"derived-pr-reviewer-changes-requested", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "action", f.Action, "changes_requested")
		}},
		{"gp-pr-merged", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "action", f.Action, "merged")
			forgetest.Want(t, "pull_request.state", f.PullRequest.State, "merged")
			forgetest.Want(t, "pull_request.merged", f.PullRequest.Merged, true)
		}},
		{"gp-pr-declined", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "action", f.Action, "closed")
			forgetest.Want(t, "pull_request.state", f.PullRequest.State, "declined")
			forgetest.Want(t, "pull_request.merged", f.PullRequest.Merged, false)
		}},
		{"gp-pr-deleted", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "action", f.Action, "closed")
			forgetest.Want(t, "forgeaction", f.ForgeAction, "deleted")
		}},
		{"gp-pr-comment-added", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindComment)
			forgetest.Want(t, "action", f.Action, "created")
			forgetest.Want(t, "pull_request.number", f.PullRequest.Number, int64(2))
		}},
		{"gp-pr-comment-edited", func(t *testing.T, _ forge.Meta, f event.Fields) { forgetest.Want(t, "action", f.Action, "edited") }},
		{"gp-pr-comment-deleted", func(t *testing.T, _ forge.Meta, f event.Fields) { forgetest.Want(t, "action", f.Action, "deleted") }},
		{"gp-repo-comment-added", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindComment)
			forgetest.Want(t, "action", f.Action, "created")
			forgetest.Want(t, "pull_request.number", f.PullRequest.Number, int64(0))
		}},
		{"gp-repo-comment-edited", func(t *testing.T, _ forge.Meta, f event.Fields) { forgetest.Want(t, "action", f.Action, "edited") }},
		{"gp-repo-modified", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindOther)
			forgetest.Want(t, "action", f.Action, "modified")
			if f.Repository.FullName == "" {
				t.Errorf("repository.full_name is empty, want the new repository's")
			}
		}},
		{"gp-repo-forked", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindOther)
			forgetest.Want(t, "action", f.Action, "forked")
		}},
		{"ping-test-true", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "ping", m.Ping, true)
			forgetest.Want(t, "kind", f.Kind, event.KindPing)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			m, f := forgetest.NormalizeFixture(t, p, tt.fixture)
			forgetest.Want(t, "forge", f.Forge, "bitbucket-server")
			tt.check(t, m, f)
		})
	}
}

// TestBitbucketServerEventKinds maps every event key Bitbucket Data Center
// documents (forges.md section 8) to its kind and action, on a bare payload.
func TestBitbucketServerEventKinds(t *testing.T) {
	tests := []struct {
		key    string
		kind   event.Kind
		action string
	}{
		{"diagnostics:ping", event.KindPing, ""},
		{"repo:refs_changed", event.KindOther, "refs_changed"}, // no changes: not a ref change
		{"repo:modified", event.KindOther, "modified"},
		{"repo:forked", event.KindOther, "forked"},
		{"repo:comment:added", event.KindComment, "created"},
		{"repo:comment:edited", event.KindComment, "edited"},
		{"repo:comment:deleted", event.KindComment, "deleted"},
		{"mirror:repo_synchronized", event.KindOther, "repo_synchronized"},
		{"repo:secret_detected", event.KindOther, "secret_detected"},
		{"project:modified", event.KindOther, "modified"},
		{"proj:modified", event.KindOther, "modified"},
		{"pr:opened", event.KindPullRequest, "opened"},
		{"pr:from_ref_updated", event.KindPullRequest, "updated"},
		{"pr:to_ref_updated", event.KindPullRequest, "to_ref_updated"},
		{"pr:modified", event.KindPullRequest, "edited"},
		{"pr:reviewer:updated", event.KindPullRequest, "edited"},
		{"pr:reviewer:approved", event.KindPullRequest, "approved"},
		{"pr:reviewer:unapproved", event.KindPullRequest, "unapproved"},
		{"pr:reviewer:needs_work", event.KindPullRequest, "changes_requested"},
		{"pr:reviewer:changes_requested", event.KindPullRequest, "changes_requested"},
		{"pr:merged", event.KindPullRequest, "merged"},
		{"pr:declined", event.KindPullRequest, "closed"},
		{"pr:deleted", event.KindPullRequest, "closed"},
		{"pr:comment:added", event.KindComment, "created"},
		{"pr:comment:edited", event.KindComment, "edited"},
		{"pr:comment:deleted", event.KindComment, "deleted"},
		{"pr:some_future_event", event.KindPullRequest, "some_future_event"},
		{"repo:push", event.KindOther, "push"}, // Cloud's, not Data Center's
		{"", event.KindOther, ""},
	}
	p := newProvider(t)
	for _, tt := range tests {
		f, err := p.Normalize(forge.Meta{Event: tt.key}, []byte(`{}`))
		if err != nil {
			t.Errorf("Normalize(%q) error = %v", tt.key, err)
			continue
		}
		if f.Kind != tt.kind || f.Action != tt.action || f.Forge != "bitbucket-server" {
			t.Errorf("Normalize(%q) = kind %q action %q forge %q, want %q %q bitbucket-server", tt.key, f.Kind, f.Action, f.Forge, tt.kind, tt.action)
		}
	}
}

// TestBitbucketServerFixtureCoverage keeps a fixture for every event key
// that Bitbucket Data Center documents and that has a recorded example.
func TestBitbucketServerFixtureCoverage(t *testing.T) {
	keys := strings.Fields(`diagnostics:ping repo:refs_changed repo:modified repo:forked repo:comment:added
		repo:comment:edited repo:comment:deleted pr:opened pr:from_ref_updated pr:modified pr:reviewer:updated
		pr:reviewer:approved pr:reviewer:unapproved pr:reviewer:needs_work pr:reviewer:changes_requested pr:merged
		pr:declined pr:deleted pr:comment:added pr:comment:edited pr:comment:deleted`)
	fixtures, err := forgetest.LoadDir(filepath.Join("testdata", "deliveries"))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]int{}
	for _, f := range fixtures {
		have[f.Header.Get("X-Event-Key")]++
		if !strings.Contains(f.Source, "(MIT)") && !strings.Contains(f.Source, "(BSD-2-Clause-Patent)") &&
			!strings.HasPrefix(f.Source, "constructed") && !strings.Contains(f.Source, "confluence.atlassian.com") {
			t.Errorf("%s: source %q names neither a licence nor the documentation, nor says it is constructed", f.Name, f.Source)
		}
	}
	for _, k := range keys {
		if have[k] == 0 {
			t.Errorf("no fixture for event key %q", k)
		}
	}
}

func TestBitbucketServerNormalizeBadPayload(t *testing.T) {
	p := newProvider(t)
	for _, body := range []string{``, `   `, `{`, `{"changes":[]`, `null`, `[]`, `"repo:refs_changed"`, `42`, `{"a":1}x`, "\xff"} {
		_, err := p.Normalize(forge.Meta{Event: "repo:refs_changed"}, []byte(body))
		if !errors.Is(err, forge.ErrBadPayload) {
			t.Errorf("Normalize(%q) = %v, want ErrBadPayload", body, err)
		}
	}
	// Values of an unexpected type are ignored, not fatal.
	f, err := p.Normalize(forge.Meta{Event: "repo:refs_changed"}, []byte(`{"changes":[{"ref":{"id":"refs/heads/main","type":1},"fromHash":7,"toHash":"abc","type":"UPDATE"}],"repository":{"slug":"r","project":{"key":"P"},"links":"x"}}`))
	if err != nil {
		t.Fatalf("Normalize(mistyped fields) = %v, want nil", err)
	}
	forgetest.Want(t, "ref", f.Ref, "refs/heads/main")
	forgetest.Want(t, "after", f.After, "abc")
	forgetest.Want(t, "before", f.Before, "")
	forgetest.Want(t, "repository.full_name", f.Repository.FullName, "P/r")
}

// TestBitbucketServerShortRef covers a change that names its ref only by
// displayId and type.
func TestBitbucketServerShortRef(t *testing.T) {
	p := newProvider(t)
	for _, tt := range []struct {
		change string
		kind   event.Kind
		ref    string
	}{
		{`{"ref":{"displayId":"main","type":"BRANCH"},"toHash":"a"}`, event.KindPush, "refs/heads/main"},
		{`{"ref":{"displayId":"v1","type":"TAG"},"toHash":"a"}`, event.KindTag, "refs/tags/v1"},
		{`{"refId":"refs/tags/v2","toHash":"a"}`, event.KindTag, "refs/tags/v2"},
		{`{"ref":{"id":"refs/notes/commits","type":"OTHER"},"toHash":"a"}`, event.KindPush, "refs/notes/commits"},
		{`{"ref":{"displayId":"x","type":"OTHER"},"toHash":"a"}`, event.KindOther, ""},
		{`{"toHash":"a"}`, event.KindOther, ""},
	} {
		f, err := p.Normalize(forge.Meta{Event: "repo:refs_changed"}, []byte(`{"changes":[`+tt.change+`]}`))
		if err != nil {
			t.Fatal(err)
		}
		if f.Kind != tt.kind || f.Ref != tt.ref {
			t.Errorf("change %s: kind %q ref %q, want %q %q", tt.change, f.Kind, f.Ref, tt.kind, tt.ref)
		}
	}
}

func BenchmarkVerifyBitbucketServer(b *testing.B) {
	fx := forgetest.LoadFixture(b, "gp-repo-refs-changed")
	req := forgetest.Request(b, fx, time.Now())
	secrets := []config.Secret{config.Secret(fx.Secret)}
	p := newProvider(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(req.Body)))
	for b.Loop() {
		if err := p.Verify(req, secrets); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNormalizeBitbucketServerPullRequest(b *testing.B) {
	forgetest.BenchNormalize(b, newProvider(b), "gp-pr-opened")
}

// TestBitbucketServerNormalizeRecord checks the fields issue 13 added.
func TestBitbucketServerNormalizeRecord(t *testing.T) {
	p := newProvider(t)
	_, f := forgetest.NormalizeFixture(t, p, "gp-pr-opened")
	pr := f.PullRequest
	if pr.HeadSHA != "32a0b8a740c2963c6f56bd8baf3dc05683d299e0" || pr.BaseSHA != "cde6c45a4210afe81638aa1f3aa960d633c66a90" ||
		pr.SourceRepository.FullName == "" || pr.Author.Login != "gopher" {
		t.Errorf("pull request %+v", pr)
	}
	_, f = forgetest.NormalizeFixture(t, p, "gp-repo-comment-added")
	if f.Comment.On != event.CommentOnCommit || f.Comment.ID != "146" || f.After != "038e7b67735e54f6de8f1c5d533c6751df524f6c" {
		t.Errorf("comment %+v after %q", f.Comment, f.After)
	}
}
