package bitbucket

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
// the verify package. Atlassian publishes no vector; the first is GitHub's
// worked example, whose scheme (sha256= and the hex HMAC-SHA256 of the raw
// body) is Bitbucket's under another header name.
var knownAnswers = []struct {
	secret, body, header string
}{
	{"It's a Secret to Everybody", "Hello, World!", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"},
	{"bitbucket-s3cret", `{"push":{"changes":[]}}`, "sha256=dffd4f9de86f876a691e10459c38cfaad75664bd5eb061541bd732017b3312f4"},
	{"bitbucket-s3cret", "", "sha256=4f922b72867b601293e61ea7ca0f12769dec0878b70cec3c875d4ef294e89c4c"},
}

func newProvider(t testing.TB) *Provider {
	return forgetest.New[*Provider](t, New, &config.Endpoint{Name: "bb", Provider: Name})
}

func TestBitbucketConformance(t *testing.T) {
	forgetest.Run(t, newProvider(t), forgetest.Options{BodySigned: true, MinFixtures: 33})
}

func TestBitbucketNew(t *testing.T) {
	p, err := New(nil)
	if err != nil {
		t.Fatalf("New(nil) = %v", err)
	}
	forgetest.Want(t, "Name()", p.Name(), "bitbucket")
}

func TestBitbucketKnownAnswer(t *testing.T) {
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
	// goscm-push carries a signature computed with Python when the fixture
	// was written.
	fx := forgetest.LoadFixture(t, "goscm-push")
	req := forgetest.Request(t, fx, time.Now())
	if err := p.Verify(req, []config.Secret{config.Secret(fx.Secret)}); err != nil {
		t.Errorf("Verify(goscm-push) = %v, want nil", err)
	}
}

func TestBitbucketInspect(t *testing.T) {
	p := newProvider(t)
	tests := []struct {
		name    string
		h       http.Header
		want    forge.Meta
		wantErr error
	}{
		{"no headers", http.Header{}, forge.Meta{}, forge.ErrNotRecognized},
		{"request uuid without event key", http.Header{"X-Request-Uuid": {"r1"}}, forge.Meta{}, forge.ErrNotRecognized},
		{"empty event key", http.Header{"X-Event-Key": {""}, "X-Request-Uuid": {"r1"}}, forge.Meta{}, forge.ErrNotRecognized},
		{"Data Center delivery: X-Request-Id only", http.Header{"X-Event-Key": {"repo:refs_changed"}, "X-Request-Id": {"r1"}}, forge.Meta{}, forge.ErrNotRecognized},
		{"event key alone", http.Header{"X-Event-Key": {"repo:push"}}, forge.Meta{}, forge.ErrNotRecognized},
		{
			"push",
			http.Header{"X-Event-Key": {"repo:push"}, "X-Request-Uuid": {"6fa3bd8f-5fea-5d2e-aa8c-6e0970632046"}, "X-Hook-Uuid": {"h1"}, "X-Attempt-Number": {"1"}},
			forge.Meta{Event: "repo:push", Delivery: "6fa3bd8f-5fea-5d2e-aa8c-6e0970632046", DedupKey: "6fa3bd8f-5fea-5d2e-aa8c-6e0970632046"},
			nil,
		},
		{
			"retry keeps the request uuid as the dedup key",
			http.Header{"X-Event-Key": {"pullrequest:created"}, "X-Request-Uuid": {"r2"}, "X-Attempt-Number": {"3"}},
			forge.Meta{Event: "pullrequest:created", Delivery: "r2", DedupKey: "r2"},
			nil,
		},
		{"hook uuid only: ingest hashes the body", http.Header{"X-Event-Key": {"repo:fork"}, "X-Hook-Uuid": {"h1"}}, forge.Meta{Event: "repo:fork"}, nil},
		{"attempt number only", http.Header{"X-Event-Key": {"repo:fork"}, "X-Attempt-Number": {"2"}}, forge.Meta{Event: "repo:fork"}, nil},
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

func TestBitbucketVerifyErrors(t *testing.T) {
	body := []byte(`{"push":{"changes":[]}}`)
	good := knownAnswers[1].header
	sig := func(secret string, b []byte) string { return Signature(b, secret) }
	sha1 := verify.Sign(verify.SHA1, verify.Hex, "sha1=", []byte("bitbucket-s3cret"), body)
	tests := []struct {
		name    string
		header  http.Header
		body    []byte
		secrets []config.Secret
		want    error // nil: accepted
		status  int
	}{
		{"valid", http.Header{"X-Hub-Signature": {good}}, body, []config.Secret{"bitbucket-s3cret"}, nil, 0},
		{"uppercase hex and prefix", http.Header{"X-Hub-Signature": {"SHA256=" + strings.ToUpper(good[len("sha256="):])}}, body, []config.Secret{"bitbucket-s3cret"}, nil, 0},
		{"missing header", http.Header{}, body, []config.Secret{"bitbucket-s3cret"}, verify.ErrMissingSignature, http.StatusUnauthorized},
		{"empty header", http.Header{"X-Hub-Signature": {""}}, body, []config.Secret{"bitbucket-s3cret"}, verify.ErrMissingSignature, http.StatusUnauthorized},
		{"prefix only", http.Header{"X-Hub-Signature": {"sha256="}}, body, []config.Secret{"bitbucket-s3cret"}, verify.ErrMissingSignature, http.StatusUnauthorized},
		{"sha1= prefix (GitHub's use of the header)", http.Header{"X-Hub-Signature": {sha1}}, body, []config.Secret{"bitbucket-s3cret"}, verify.ErrBadSignature, http.StatusUnauthorized},
		{"sha1= prefix on the sha256 digest", http.Header{"X-Hub-Signature": {"sha1=" + good[len("sha256="):]}}, body, []config.Secret{"bitbucket-s3cret"}, verify.ErrBadSignature, http.StatusUnauthorized},
		{"no prefix", http.Header{"X-Hub-Signature": {good[len("sha256="):]}}, body, []config.Secret{"bitbucket-s3cret"}, verify.ErrBadSignature, http.StatusUnauthorized},
		{"bad hex", http.Header{"X-Hub-Signature": {"sha256=zz" + good[len("sha256=")+2:]}}, body, []config.Secret{"bitbucket-s3cret"}, verify.ErrBadSignature, http.StatusUnauthorized},
		{"odd-length hex", http.Header{"X-Hub-Signature": {good[:len(good)-1]}}, body, []config.Secret{"bitbucket-s3cret"}, verify.ErrBadSignature, http.StatusUnauthorized},
		{"truncated digest", http.Header{"X-Hub-Signature": {good[:len(good)-2]}}, body, []config.Secret{"bitbucket-s3cret"}, verify.ErrBadSignature, http.StatusUnauthorized},
		{"signature in X-Hub-Signature-256 only", http.Header{"X-Hub-Signature-256": {good}}, body, []config.Secret{"bitbucket-s3cret"}, verify.ErrMissingSignature, http.StatusUnauthorized},
		{"wrong secret", http.Header{"X-Hub-Signature": {good}}, body, []config.Secret{"other"}, verify.ErrBadSignature, http.StatusUnauthorized},
		{"rotation: old secret still listed", http.Header{"X-Hub-Signature": {sig("old", body)}}, body, []config.Secret{"new", "old"}, nil, 0},
		{"rotation: new secret first", http.Header{"X-Hub-Signature": {sig("new", body)}}, body, []config.Secret{"new", "old"}, nil, 0},
		{"rotation: neither", http.Header{"X-Hub-Signature": {sig("older", body)}}, body, []config.Secret{"new", "old"}, verify.ErrBadSignature, http.StatusUnauthorized},
		{"empty body, signature of another body", http.Header{"X-Hub-Signature": {good}}, []byte{}, []config.Secret{"bitbucket-s3cret"}, verify.ErrBadSignature, http.StatusUnauthorized},
		{"empty body signed", http.Header{"X-Hub-Signature": {knownAnswers[2].header}}, nil, []config.Secret{"bitbucket-s3cret"}, nil, 0},
		{"tampered body", http.Header{"X-Hub-Signature": {good}}, append(bytes.Clone(body), ' '), []config.Secret{"bitbucket-s3cret"}, verify.ErrBadSignature, http.StatusUnauthorized},
		{"no secrets", http.Header{"X-Hub-Signature": {good}}, body, nil, verify.ErrNoSecret, http.StatusUnauthorized},
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
			if got := ingest.StatusOf(err); got != tt.status {
				t.Errorf("status(%v) = %d, want %d", err, got, tt.status)
			}
			if !strings.HasPrefix(err.Error(), "bitbucket: verify X-Hub-Signature: ") {
				t.Errorf("Verify() = %q, want the bitbucket: verify X-Hub-Signature: context", err)
			}
			if strings.Contains(err.Error(), "bitbucket-s3cret") {
				t.Errorf("Verify() = %q leaks the secret", err)
			}
		})
	}
}

// TestBitbucketMultiChangePush pins the decision for a push of several
// refs: the event is the first change's, the commits are every change's.
func TestBitbucketMultiChangePush(t *testing.T) {
	p := newProvider(t)
	_, f := forgetest.NormalizeFixture(t, p, "derived-push-multi-change")
	forgetest.Want(t, "kind (first change: branch)", f.Kind, event.KindPush)
	forgetest.Want(t, "ref", f.Ref, "refs/heads/master")
	forgetest.Want(t, "branch", f.Branch, "master")
	forgetest.Want(t, "tag", f.Tag, "")
	forgetest.Want(t, "before", f.Before, "40e7580cf11311d84a6e5e97e2cbba6df1675750")
	forgetest.Want(t, "after", f.After, "141977fedf5cf35aa290ac87d4b5177ac4cd9de1")
	forgetest.Want(t, "deleted", f.Deleted, false)
	forgetest.Want(t, "action", f.Action, "")
	// push.json's change has one commit and push_tag_create.json's none.
	forgetest.Want(t, "len(commits)", len(f.Commits), 1)

	// Commits of every change, in order; the first change decides the rest,
	// also when it is a deletion followed by a creation.
	payload := []byte(`{"push":{"changes":[
		{"old":{"type":"tag","name":"v1","target":{"hash":"aaa"}},"new":null,"commits":[{"hash":"c1"}]},
		{"old":null,"new":{"type":"branch","name":"main","target":{"hash":"bbb"}},"commits":[{"hash":"c2"},{"hash":"c3"}]},
		{"old":{"type":"branch","name":"dev","target":{"hash":"ccc"}},"new":{"type":"branch","name":"dev","target":{"hash":"ddd"}},"commits":[{"hash":"c4"}],"truncated":true}
	]}}`)
	f, err := p.Normalize(forge.Meta{Event: "repo:push"}, payload)
	if err != nil {
		t.Fatal(err)
	}
	forgetest.Want(t, "kind (first change: tag)", f.Kind, event.KindTag)
	forgetest.Want(t, "ref", f.Ref, "refs/tags/v1")
	forgetest.Want(t, "tag", f.Tag, "v1")
	forgetest.Want(t, "deleted", f.Deleted, true)
	forgetest.Want(t, "action", f.Action, "deleted")
	forgetest.Want(t, "before", f.Before, "aaa")
	forgetest.Want(t, "after", f.After, event.ZeroSHA1)
	var ids []string
	for _, c := range f.Commits {
		ids = append(ids, c.ID)
	}
	forgetest.Want(t, "commit ids", strings.Join(ids, ","), "c1,c2,c3,c4")
}

// TestBitbucketNormalizeCases pins the mappings that matter most, on the
// fixtures, so that a wrong golden cannot hide them.
func TestBitbucketNormalizeCases(t *testing.T) {
	p := newProvider(t)
	tests := []struct {
		fixture string
		check   func(t *testing.T, m forge.Meta, f event.Fields)
	}{
		{"goscm-push", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "delivery", m.Delivery, "6fa3bd8f-5fea-5d2e-aa8c-6e0970632046")
			forgetest.Want(t, "kind", f.Kind, event.KindPush)
			forgetest.Want(t, "ref", f.Ref, "refs/heads/master")
			forgetest.Want(t, "branch", f.Branch, "master")
			forgetest.Want(t, "before", f.Before, "40e7580cf11311d84a6e5e97e2cbba6df1675750")
			forgetest.Want(t, "after", f.After, "141977fedf5cf35aa290ac87d4b5177ac4cd9de1")
			forgetest.Want(t, "action", f.Action, "")
			forgetest.Want(t, "forgeaction", f.ForgeAction, "push")
			forgetest.Want(t, "actor.login (pre-2019 username)", f.Actor.Login, "brydzewski")
			forgetest.Want(t, "actor.name", f.Actor.Name, "Brad Rydzewski")
			forgetest.Want(t, "repository.full_name", f.Repository.FullName, "brydzewski/foo")
			forgetest.Want(t, "repository.name", f.Repository.Name, "foo")
			forgetest.Want(t, "repository.owner", f.Repository.Owner, "brydzewski")
			forgetest.Want(t, "repository.url", f.Repository.URL, "https://bitbucket.org/brydzewski/foo")
			forgetest.Want(t, "len(commits)", len(f.Commits), 1)
			forgetest.Want(t, "commits[0].id", f.Commits[0].ID, "141977fedf5cf35aa290ac87d4b5177ac4cd9de1")
			forgetest.Want(t, "commits[0].author.name (from raw)", f.Commits[0].Author.Name, "Brad Rydzewski")
			forgetest.Want(t, "commits[0].author.email (from raw)", f.Commits[0].Author.Email, "brad.rydzewski@gmail.com")
			forgetest.Want(t, "commits[0].author.login", f.Commits[0].Author.Login, "brydzewski")
			forgetest.Want(t, "commits[0].url", f.Commits[0].URL, "https://bitbucket.org/brydzewski/foo/commits/141977fedf5cf35aa290ac87d4b5177ac4cd9de1")
		}},
		{"goscm-push-branch-create", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPush)
			forgetest.Want(t, "action", f.Action, "created")
			forgetest.Want(t, "before", f.Before, event.ZeroSHA1)
			forgetest.Want(t, "deleted", f.Deleted, false)
		}},
		{"goscm-push-branch-delete", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPush)
			forgetest.Want(t, "ref", f.Ref, "refs/heads/develop")
			forgetest.Want(t, "deleted", f.Deleted, true)
			forgetest.Want(t, "action", f.Action, "deleted")
			forgetest.Want(t, "before", f.Before, "141977fedf5cf35aa290ac87d4b5177ac4cd9de1")
			forgetest.Want(t, "after", f.After, event.ZeroSHA1)
			forgetest.Want(t, "commits is [] not null", f.Commits != nil && len(f.Commits) == 0, true)
		}},
		{"goscm-push-tag-create", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindTag)
			forgetest.Want(t, "ref", f.Ref, "refs/tags/feature/x")
			forgetest.Want(t, "tag", f.Tag, "feature/x")
			forgetest.Want(t, "branch", f.Branch, "")
			forgetest.Want(t, "action", f.Action, "created")
		}},
		{"goscm-push-tag-delete", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindTag)
			forgetest.Want(t, "deleted", f.Deleted, true)
		}},
		{"gp-repo-push", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPush)
			forgetest.Want(t, "ref", f.Ref, "refs/heads/name-of-branch")
			forgetest.Want(t, "actor.login (nickname)", f.Actor.Login, "emmap1")
			forgetest.Want(t, "actor.name", f.Actor.Name, "Emma")
			forgetest.Want(t, "commits[0].author.login (docs shape)", f.Commits[0].Author.Login, "emmap1")
			forgetest.Want(t, "commits[0].author.name (docs shape)", f.Commits[0].Author.Name, "Emma")
		}},
		{"goscm-pr-created", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPullRequest)
			forgetest.Want(t, "action", f.Action, "opened")
			forgetest.Want(t, "forgeaction", f.ForgeAction, "created")
			forgetest.Want(t, "pull_request.number", f.PullRequest.Number, int64(1))
			forgetest.Want(t, "pull_request.state", f.PullRequest.State, "open")
			forgetest.Want(t, "pull_request.merged", f.PullRequest.Merged, false)
			if f.PullRequest.SourceBranch == "" || f.PullRequest.TargetBranch == "" || f.PullRequest.URL == "" || f.PullRequest.Title == "" {
				t.Errorf("pull_request = %+v, want branches, title and URL", f.PullRequest)
			}
		}},
		{"goscm-pr-updated", func(t *testing.T, _ forge.Meta, f event.Fields) { forgetest.Want(t, "action", f.Action, "updated") }},
		{"goscm-pr-fulfilled", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "action", f.Action, "merged")
			forgetest.Want(t, "forgeaction", f.ForgeAction, "fulfilled")
			forgetest.Want(t, "pull_request.state", f.PullRequest.State, "merged")
			forgetest.Want(t, "pull_request.merged", f.PullRequest.Merged, true)
		}},
		{"gp-pull-request-merged", func(t *testing.T, _ forge.Meta, f event.Fields) {
			// The docs' example says "OPEN|MERGED|DECLINED": the key decides.
			forgetest.Want(t, "pull_request.merged", f.PullRequest.Merged, true)
		}},
		{"goscm-pr-declined", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "action", f.Action, "closed")
			forgetest.Want(t, "pull_request.state", f.PullRequest.State, "declined")
			forgetest.Want(t, "pull_request.merged", f.PullRequest.Merged, false)
		}},
		{"gp-pull-request-approved", func(t *testing.T, _ forge.Meta, f event.Fields) { forgetest.Want(t, "action", f.Action, "approved") }},
		{"gp-pull-request-approval-removed", func(t *testing.T, _ forge.Meta, f event.Fields) { forgetest.Want(t, "action", f.Action, "unapproved") }},
		{"derived-pull-request-changes-request-created", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPullRequest)
			forgetest.Want(t, "action", f.Action, "changes_requested")
		}},
		{"goscm-pr-comment-created", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindComment)
			forgetest.Want(t, "action", f.Action, "created")
			if f.PullRequest.Number == 0 {
				t.Errorf("pull_request.number = 0, want the commented pull request")
			}
		}},
		{"gp-pull-request-comment-updated", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindComment)
			forgetest.Want(t, "action", f.Action, "edited")
		}},
		{"goscm-pr-comment-deleted", func(t *testing.T, _ forge.Meta, f event.Fields) { forgetest.Want(t, "action", f.Action, "deleted") }},
		{"gp-commit-comment-created", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindComment)
			forgetest.Want(t, "action", f.Action, "created")
			forgetest.Want(t, "pull_request.number", f.PullRequest.Number, int64(0))
		}},
		{"gp-issue-comment-created", func(t *testing.T, _ forge.Meta, f event.Fields) { forgetest.Want(t, "kind", f.Kind, event.KindComment) }},
		{"gp-issue-created", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindIssue)
			forgetest.Want(t, "action", f.Action, "opened")
		}},
		{"gp-issue-updated", func(t *testing.T, _ forge.Meta, f event.Fields) { forgetest.Want(t, "action", f.Action, "updated") }},
		{"goscm-pipeline-hook-created", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPipeline)
			forgetest.Want(t, "action", f.Action, "created")
			forgetest.Want(t, "repository.name (slug, not the display name)", f.Repository.Name, "testrepo")
			forgetest.Want(t, "repository.owner", f.Repository.Owner, "automationtestharness")
		}},
		{"goscm-pipeline-hook-update", func(t *testing.T, _ forge.Meta, f event.Fields) { forgetest.Want(t, "action", f.Action, "updated") }},
		{"gp-repo-fork", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindOther)
			forgetest.Want(t, "action", f.Action, "fork")
		}},
		{"gp-repo-updated", func(t *testing.T, _ forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindOther)
			forgetest.Want(t, "action", f.Action, "updated")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			m, f := forgetest.NormalizeFixture(t, p, tt.fixture)
			forgetest.Want(t, "forge", f.Forge, "bitbucket")
			tt.check(t, m, f)
		})
	}
}

// TestBitbucketEventKinds maps every event key Bitbucket Cloud documents
// (forges.md section 7) to its kind and action, on a bare payload.
func TestBitbucketEventKinds(t *testing.T) {
	tests := []struct {
		key    string
		kind   event.Kind
		action string
	}{
		{"repo:push", event.KindOther, "push"}, // no changes: not a ref change
		{"repo:fork", event.KindOther, "fork"},
		{"repo:updated", event.KindOther, "updated"},
		{"repo:transfer", event.KindOther, "transfer"},
		{"repo:imported", event.KindOther, "imported"},
		{"repo:deleted", event.KindOther, "deleted"},
		{"repo:commit_comment_created", event.KindComment, "created"},
		{"repo:commit_status_created", event.KindPipeline, "created"},
		{"repo:commit_status_updated", event.KindPipeline, "updated"},
		{"issue:created", event.KindIssue, "opened"},
		{"issue:updated", event.KindIssue, "updated"},
		{"issue:comment_created", event.KindComment, "created"},
		{"pullrequest:created", event.KindPullRequest, "opened"},
		{"pullrequest:updated", event.KindPullRequest, "updated"},
		{"pullrequest:approved", event.KindPullRequest, "approved"},
		{"pullrequest:unapproved", event.KindPullRequest, "unapproved"},
		{"pullrequest:fulfilled", event.KindPullRequest, "merged"},
		{"pullrequest:rejected", event.KindPullRequest, "closed"},
		{"pullrequest:changes_request_created", event.KindPullRequest, "changes_requested"},
		{"pullrequest:changes_request_removed", event.KindPullRequest, "changes_request_removed"},
		{"pullrequest:comment_created", event.KindComment, "created"},
		{"pullrequest:comment_updated", event.KindComment, "edited"},
		{"pullrequest:comment_deleted", event.KindComment, "deleted"},
		{"pullrequest:comment_resolved", event.KindComment, "resolved"},
		{"pullrequest:comment_reopened", event.KindComment, "reopened"},
		{"project:updated", event.KindOther, "updated"},
		{"build:updated", event.KindOther, "updated"},
		{"diagnostics:ping", event.KindOther, "ping"}, // Data Center's, not Cloud's
		{"some-future-event", event.KindOther, "some_future_event"},
		{"", event.KindOther, ""},
	}
	p := newProvider(t)
	for _, tt := range tests {
		f, err := p.Normalize(forge.Meta{Event: tt.key}, []byte(`{}`))
		if err != nil {
			t.Errorf("Normalize(%q) error = %v", tt.key, err)
			continue
		}
		if f.Kind != tt.kind || f.Action != tt.action || f.Forge != "bitbucket" {
			t.Errorf("Normalize(%q) = kind %q action %q forge %q, want %q %q bitbucket", tt.key, f.Kind, f.Action, f.Forge, tt.kind, tt.action)
		}
	}
}

// TestBitbucketFixtureCoverage keeps a fixture for every event key that
// Bitbucket Cloud documents and that has an example.
func TestBitbucketFixtureCoverage(t *testing.T) {
	keys := strings.Fields(`repo:push repo:fork repo:updated repo:commit_comment_created repo:commit_status_created
		repo:commit_status_updated issue:created issue:updated issue:comment_created pullrequest:created
		pullrequest:updated pullrequest:approved pullrequest:unapproved pullrequest:fulfilled pullrequest:rejected
		pullrequest:changes_request_created pullrequest:comment_created pullrequest:comment_updated
		pullrequest:comment_deleted`)
	fixtures, err := forgetest.LoadDir(filepath.Join("testdata", "deliveries"))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]int{}
	for _, f := range fixtures {
		have[f.Header.Get(HeaderEventKey)]++
		if !strings.Contains(f.Source, "(MIT)") && !strings.Contains(f.Source, "(BSD-2-Clause-Patent)") {
			t.Errorf("%s: source %q does not name the license", f.Name, f.Source)
		}
	}
	for _, k := range keys {
		if have[k] == 0 {
			t.Errorf("no fixture for event key %q", k)
		}
	}
}

func TestBitbucketNormalizeBadPayload(t *testing.T) {
	p := newProvider(t)
	for _, body := range []string{``, `   `, `{`, `{"push":{}`, `null`, `[]`, `"repo:push"`, `42`, `{"a":1}x`, "\xff"} {
		_, err := p.Normalize(forge.Meta{Event: "repo:push"}, []byte(body))
		if !errors.Is(err, forge.ErrBadPayload) {
			t.Errorf("Normalize(%q) = %v, want ErrBadPayload", body, err)
		}
	}
	// Values of an unexpected type are ignored, not fatal.
	f, err := p.Normalize(forge.Meta{Event: "repo:push"}, []byte(`{"push":{"changes":[{"new":{"type":"branch","name":"main","target":{"hash":7}},"old":"x","commits":"y"}]},"repository":{"full_name":"a/b","links":[]}}`))
	if err != nil {
		t.Fatalf("Normalize(mistyped fields) = %v, want nil", err)
	}
	forgetest.Want(t, "ref", f.Ref, "refs/heads/main")
	forgetest.Want(t, "repository.full_name", f.Repository.FullName, "a/b")
	forgetest.Want(t, "after", f.After, "")
	forgetest.Want(t, "before (old mistyped)", f.Before, "")
	forgetest.Want(t, "deleted", f.Deleted, false)
}

func TestBitbucketKeyAction(t *testing.T) {
	tests := []struct{ key, forgeAction, action string }{
		{"repo:push", "push", "push"},
		{"pullrequest:fulfilled", "fulfilled", "fulfilled"},
		{"pr:reviewer:approved", "reviewer:approved", "reviewer_approved"},
		{"diagnostics:ping", "ping", "ping"},
		{"Odd Key", "Odd Key", "odd_key"},
		{"x:ÄB-c", "ÄB-c", "b_c"},
		{"", "", ""},
	}
	for _, tt := range tests {
		fa, a := KeyAction(tt.key)
		if fa != tt.forgeAction || a != tt.action {
			t.Errorf("KeyAction(%q) = %q, %q, want %q, %q", tt.key, fa, a, tt.forgeAction, tt.action)
		}
	}
}

func TestBitbucketSplitRaw(t *testing.T) {
	tests := []struct{ raw, name, email string }{
		{"Brad Rydzewski <brad.rydzewski@gmail.com>", "Brad Rydzewski", "brad.rydzewski@gmail.com"},
		{"Emma <emma@example.com>", "Emma", "emma@example.com"},
		{"a <b> <c@d>", "a <b>", "c@d"},
		{"no email", "no email", ""},
		{"<only@email>", "", "only@email"},
		{"unterminated <x", "unterminated <x", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		n, e := splitRaw(tt.raw)
		if n != tt.name || e != tt.email {
			t.Errorf("splitRaw(%q) = %q, %q, want %q, %q", tt.raw, n, e, tt.name, tt.email)
		}
	}
}

func BenchmarkVerifyBitbucket(b *testing.B) {
	fx := forgetest.LoadFixture(b, "goscm-push")
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

func BenchmarkNormalizeBitbucketPush(b *testing.B) {
	forgetest.BenchNormalize(b, newProvider(b), "goscm-push")
}

// TestBitbucketNormalizeRecord checks the fields issue 13 added.
func TestBitbucketNormalizeRecord(t *testing.T) {
	p := newProvider(t)
	t.Run("commit status", func(t *testing.T) {
		_, f := forgetest.NormalizeFixture(t, p, "goscm-pipeline-hook-created")
		want := event.Pipeline{Name: "Pipeline #4 for main", ID: "3343801", Status: event.StatusRunning, Ref: "refs/heads/main", Branch: "main",
			SHA: "bdf6fac0519ffd1562461eb82e018ff62efffbc9", URL: "https://bitbucket.org/automationtestharness/testrepo/addon/pipelines/home#!/results/4"}
		if f.Pipeline != want || f.Branch != "main" || f.After != want.SHA {
			t.Errorf("pipeline %+v branch %q after %q", f.Pipeline, f.Branch, f.After)
		}
		_, f = forgetest.NormalizeFixture(t, p, "gp-repo-commit-status-created")
		forgetest.Want(t, "pipeline.sha (from the commit link)", f.Pipeline.SHA, "9fec847784abb10b2fa567ee63b85bd238955d0e")
	})
	t.Run("pull request", func(t *testing.T) {
		_, f := forgetest.NormalizeFixture(t, p, "goscm-pr-created")
		pr := f.PullRequest
		if pr.HeadSHA != "507a576e59b3" || pr.BaseSHA != "7d1a175411ef" || pr.SourceRepository.FullName != "brydzewski/foo" || pr.Author.Login != "brydzewski" {
			t.Errorf("pull request %+v", pr)
		}
		forgetest.Want(t, "repository.clone_url", f.Repository.CloneURL, "https://bitbucket.org/brydzewski/foo.git")
	})
	t.Run("comments", func(t *testing.T) {
		for fixture, on := range map[string]string{
			"gp-pull-request-comment-created": event.CommentOnPullRequest,
			"gp-issue-comment-created":        event.CommentOnIssue,
			"gp-commit-comment-created":       event.CommentOnCommit,
		} {
			_, f := forgetest.NormalizeFixture(t, p, fixture)
			if f.Comment.On != on || f.Comment.ID != "17" || f.Comment.Body != "Comment text" {
				t.Errorf("%s: comment %+v", fixture, f.Comment)
			}
		}
	})
}
