package github

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // GitHub's legacy X-Hub-Signature is HMAC-SHA1.
	"crypto/sha256"
	"encoding/json"
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
	"github.com/forgehook/forgehook/internal/verify"
)

// The worked example of
// https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
const (
	docsSecret = "It's a Secret to Everybody"
	docsBody   = "Hello, World!"
	docsSHA256 = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	// docsSHA1 is HMAC-SHA1 of the same inputs, computed with Python's
	// hmac module (the docs give no SHA-1 value).
	docsSHA1 = "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59"
)

func newProvider(t testing.TB, legacySHA1 bool) *Provider {
	return forgetest.New[*Provider](t, New, &config.Endpoint{Name: "gh", Provider: "github", LegacySHA1: legacySHA1})
}

func TestGitHubConformance(t *testing.T) {
	forgetest.Run(t, newProvider(t, false), forgetest.Options{BodySigned: true, MinFixtures: 140})
}

func TestGitHubNew(t *testing.T) {
	p, err := New(nil)
	if err != nil {
		t.Fatalf("New(nil) = %v", err)
	}
	if p.Name() != "github" {
		t.Errorf("Name() = %q, want github", p.Name())
	}
	if p.(*Provider).legacySHA1 {
		t.Errorf("New(nil) accepts legacy SHA-1, want off by default")
	}
	if !newProvider(t, true).legacySHA1 {
		t.Errorf("New(LegacySHA1: true) does not accept legacy SHA-1")
	}
}

func TestGitHubKnownAnswer(t *testing.T) {
	h := http.Header{}
	newProvider(t, false).Sign(h, []byte(docsBody), docsSecret, time.Time{})
	if got := h.Get(HeaderSignature256); got != docsSHA256 {
		t.Errorf("Sign: %s = %s, want %s", HeaderSignature256, got, docsSHA256)
	}
	if got := h.Get(HeaderSignature); got != docsSHA1 {
		t.Errorf("Sign: %s = %s, want %s", HeaderSignature, got, docsSHA1)
	}
	req := &forge.Request{Header: http.Header{HeaderSignature256: {docsSHA256}}, Body: []byte(docsBody)}
	if err := newProvider(t, false).Verify(req, []config.Secret{docsSecret}); err != nil {
		t.Errorf("Verify(docs example) = %v, want nil", err)
	}
}

func TestGitHubInspect(t *testing.T) {
	p := newProvider(t, false)
	tests := []struct {
		name    string
		h       http.Header
		want    forge.Meta
		wantErr error
	}{
		{"no headers", http.Header{}, forge.Meta{}, forge.ErrNotRecognized},
		{"delivery without event", http.Header{"X-Github-Delivery": {"d1"}}, forge.Meta{}, forge.ErrNotRecognized},
		{"empty event", http.Header{"X-Github-Event": {""}}, forge.Meta{}, forge.ErrNotRecognized},
		{
			"push",
			http.Header{"X-Github-Event": {"push"}, "X-Github-Delivery": {"72d3162e-cc78-11e3-81ab-4c9367dc0958"}},
			forge.Meta{Event: "push", Delivery: "72d3162e-cc78-11e3-81ab-4c9367dc0958", DedupKey: "72d3162e-cc78-11e3-81ab-4c9367dc0958"},
			nil,
		},
		{"ping", http.Header{"X-Github-Event": {"ping"}, "X-Github-Delivery": {"d2"}}, forge.Meta{Event: "ping", Delivery: "d2", DedupKey: "d2", Ping: true}, nil},
		{"no delivery id: ingest hashes the body", http.Header{"X-Github-Event": {"issues"}}, forge.Meta{Event: "issues"}, nil},
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

func TestGitHubVerifyErrors(t *testing.T) {
	body := []byte(`{"zen":"Design for failure.","hook_id":1}`)
	sig256 := func(secret string, b []byte) string {
		return verify.Sign(verify.SHA256, verify.Hex, "sha256=", []byte(secret), b)
	}
	sig1 := func(secret string, b []byte) string {
		return verify.Sign(verify.SHA1, verify.Hex, "sha1=", []byte(secret), b)
	}
	good := sig256("s3cret", body)
	tests := []struct {
		name    string
		legacy  bool
		header  http.Header
		body    []byte
		secrets []config.Secret
		want    error // nil: accepted
	}{
		{"valid", false, http.Header{HeaderSignature256: {good}}, body, []config.Secret{"s3cret"}, nil},
		{"uppercase hex and prefix", false, http.Header{HeaderSignature256: {"SHA256=" + strings.ToUpper(good[len("sha256="):])}}, body, []config.Secret{"s3cret"}, nil},
		{"missing header", false, http.Header{}, body, []config.Secret{"s3cret"}, verify.ErrMissingSignature},
		{"empty header", false, http.Header{HeaderSignature256: {""}}, body, []config.Secret{"s3cret"}, verify.ErrMissingSignature},
		{"prefix only", false, http.Header{HeaderSignature256: {"sha256="}}, body, []config.Secret{"s3cret"}, verify.ErrMissingSignature},
		{"wrong prefix: sha1= in the sha256 header", false, http.Header{HeaderSignature256: {sig1("s3cret", body)}}, body, []config.Secret{"s3cret"}, verify.ErrBadSignature},
		{"no prefix", false, http.Header{HeaderSignature256: {good[len("sha256="):]}}, body, []config.Secret{"s3cret"}, verify.ErrBadSignature},
		{"bad hex", false, http.Header{HeaderSignature256: {"sha256=zz" + good[len("sha256=")+2:]}}, body, []config.Secret{"s3cret"}, verify.ErrBadSignature},
		{"truncated digest", false, http.Header{HeaderSignature256: {good[:len(good)-2]}}, body, []config.Secret{"s3cret"}, verify.ErrBadSignature},
		{"wrong secret", false, http.Header{HeaderSignature256: {good}}, body, []config.Secret{"other"}, verify.ErrBadSignature},
		{"rotation: old secret still listed", false, http.Header{HeaderSignature256: {sig256("old", body)}}, body, []config.Secret{"new", "old"}, nil},
		{"rotation: new secret first", false, http.Header{HeaderSignature256: {sig256("new", body)}}, body, []config.Secret{"new", "old"}, nil},
		{"rotation: neither", false, http.Header{HeaderSignature256: {sig256("older", body)}}, body, []config.Secret{"new", "old"}, verify.ErrBadSignature},
		{"empty body, signature of another body", false, http.Header{HeaderSignature256: {good}}, []byte{}, []config.Secret{"s3cret"}, verify.ErrBadSignature},
		{"empty body signed", false, http.Header{HeaderSignature256: {sig256("s3cret", nil)}}, nil, []config.Secret{"s3cret"}, nil},
		{"tampered body", false, http.Header{HeaderSignature256: {good}}, append(bytes.Clone(body), ' '), []config.Secret{"s3cret"}, verify.ErrBadSignature},
		{"no secrets", false, http.Header{HeaderSignature256: {good}}, body, nil, verify.ErrNoSecret},
		{"sha1 only, legacy off", false, http.Header{HeaderSignature: {sig1("s3cret", body)}}, body, []config.Secret{"s3cret"}, verify.ErrMissingSignature},
		{"sha1 only, legacy on", true, http.Header{HeaderSignature: {sig1("s3cret", body)}}, body, []config.Secret{"s3cret"}, nil},
		{"sha1 only, legacy on, wrong secret", true, http.Header{HeaderSignature: {sig1("other", body)}}, body, []config.Secret{"s3cret"}, verify.ErrBadSignature},
		{"sha1 only, legacy on, sha256= prefix", true, http.Header{HeaderSignature: {good}}, body, []config.Secret{"s3cret"}, verify.ErrBadSignature},
		{"legacy on, neither header", true, http.Header{}, body, []config.Secret{"s3cret"}, verify.ErrMissingSignature},
		{"legacy on, bad sha256 beside a good sha1: sha256 decides", true, http.Header{HeaderSignature256: {sig256("other", body)}, HeaderSignature: {sig1("s3cret", body)}}, body, []config.Secret{"s3cret"}, verify.ErrBadSignature},
		{"legacy on, empty sha256 beside a good sha1: sha256 decides", true, http.Header{HeaderSignature256: {""}, HeaderSignature: {sig1("s3cret", body)}}, body, []config.Secret{"s3cret"}, verify.ErrMissingSignature},
		{"legacy on, good sha256 beside a bad sha1", true, http.Header{HeaderSignature256: {good}, HeaderSignature: {sig1("other", body)}}, body, []config.Secret{"s3cret"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &forge.Request{Header: tt.header, Body: tt.body, Payload: tt.body}
			err := newProvider(t, tt.legacy).Verify(req, tt.secrets)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify() = %v, want errors.Is %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "github: ") {
				t.Errorf("Verify() = %q, want the github: context", err)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("Verify() = %q leaks the secret", err)
			}
		})
	}
}

// TestGitHubVerifyFormBody checks that a form-encoded delivery is verified
// over the raw form body, not over the decoded JSON payload.
func TestGitHubVerifyFormBody(t *testing.T) {
	f, payload := forgetest.LoadWithPayload(t, "deliveries", "push.with-new-branch.form")
	req := forgetest.Request(t, f, time.Now())
	if !req.Form || bytes.Equal(req.Body, req.Payload) {
		t.Fatalf("fixture is not form-encoded")
	}
	p := newProvider(t, false)
	if err := p.Verify(req, []config.Secret{config.Secret(f.Secret)}); err != nil {
		t.Fatalf("Verify(form body) = %v", err)
	}
	// A signature over the JSON payload alone must not pass for a form body.
	h := http.Header{}
	p.Sign(h, payload, f.Secret, time.Now())
	req.Header.Set(HeaderSignature256, h.Get(HeaderSignature256))
	if err := p.Verify(req, []config.Secret{config.Secret(f.Secret)}); !errors.Is(err, verify.ErrBadSignature) {
		t.Errorf("Verify(signature over payload, form body) = %v, want ErrBadSignature", err)
	}
}

// TestGitHubNormalizeCases pins the mappings that matter most, on the
// fixtures, so that a wrong golden cannot hide them.
func TestGitHubNormalizeCases(t *testing.T) {
	p := newProvider(t, false)
	tests := []struct {
		fixture string
		check   func(t *testing.T, f event.Fields)
	}{
		{"push.with-new-branch", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPush)
			forgetest.Want(t, "ref", f.Ref, "refs/heads/master")
			forgetest.Want(t, "branch", f.Branch, "master")
			forgetest.Want(t, "tag", f.Tag, "")
			forgetest.Want(t, "action", f.Action, "created")
			forgetest.Want(t, "deleted", f.Deleted, false)
			forgetest.Want(t, "before", f.Before, event.ZeroSHA1)
			forgetest.Want(t, "after", f.After, "6113728f27ae82c7b1a177c8d03f9e96e0adf246")
			forgetest.Want(t, "actor.login", f.Actor.Login, "Codertocat")
			forgetest.Want(t, "actor.name", f.Actor.Name, "Codertocat")
			forgetest.Want(t, "actor.email", f.Actor.Email, "21031067+Codertocat@users.noreply.github.com")
			forgetest.Want(t, "repository.full_name", f.Repository.FullName, "Codertocat/Hello-World")
			forgetest.Want(t, "repository.owner", f.Repository.Owner, "Codertocat")
			forgetest.Want(t, "repository.url", f.Repository.URL, "https://github.com/Codertocat/Hello-World")
			forgetest.Want(t, "repository.clone_url", f.Repository.CloneURL, "https://github.com/Codertocat/Hello-World.git")
			forgetest.Want(t, "repository.default_branch", f.Repository.DefaultBranch, "master")
			forgetest.Want(t, "len(commits)", len(f.Commits), 1)
			forgetest.Want(t, "commits[0].id", f.Commits[0].ID, "6113728f27ae82c7b1a177c8d03f9e96e0adf246")
			forgetest.Want(t, "commits[0].author.login", f.Commits[0].Author.Login, "Codertocat")
		}},
		{"push.payload", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindTag)
			forgetest.Want(t, "ref", f.Ref, "refs/tags/simple-tag")
			forgetest.Want(t, "tag", f.Tag, "simple-tag")
			forgetest.Want(t, "branch", f.Branch, "")
			forgetest.Want(t, "deleted", f.Deleted, true)
			forgetest.Want(t, "action", f.Action, "deleted")
			forgetest.Want(t, "after", f.After, event.ZeroSHA1)
			forgetest.Want(t, "forgeaction", f.ForgeAction, "")
		}},
		{"push.payload.docs", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindTag)
			forgetest.Want(t, "deleted", f.Deleted, false)
			forgetest.Want(t, "action", f.Action, "created")
			forgetest.Want(t, "commits is [] not null", f.Commits != nil, true)
		}},
		{"push.branch-deleted.derived", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPush)
			forgetest.Want(t, "branch", f.Branch, "simple-tag")
			forgetest.Want(t, "deleted", f.Deleted, true)
			forgetest.Want(t, "action", f.Action, "deleted")
		}},
		{"create.payload", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindTag)
			forgetest.Want(t, "ref", f.Ref, "refs/tags/simple-tag")
			forgetest.Want(t, "tag", f.Tag, "simple-tag")
			forgetest.Want(t, "action", f.Action, "created")
			forgetest.Want(t, "deleted", f.Deleted, false)
		}},
		{"create.branch.derived", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPush)
			forgetest.Want(t, "ref", f.Ref, "refs/heads/simple-tag")
			forgetest.Want(t, "branch", f.Branch, "simple-tag")
		}},
		{"delete.branch.derived", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPush)
			forgetest.Want(t, "ref", f.Ref, "refs/heads/simple-tag")
			forgetest.Want(t, "deleted", f.Deleted, true)
			forgetest.Want(t, "action", f.Action, "deleted")
		}},
		{"delete.payload", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindTag)
			forgetest.Want(t, "deleted", f.Deleted, true)
		}},
		{"pull_request.opened.docs", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPullRequest)
			forgetest.Want(t, "action", f.Action, "opened")
			forgetest.Want(t, "forgeaction", f.ForgeAction, "opened")
			forgetest.Want(t, "pull_request.number", f.PullRequest.Number, int64(2))
			forgetest.Want(t, "pull_request.title", f.PullRequest.Title, "Update the README with new information.")
			forgetest.Want(t, "pull_request.state", f.PullRequest.State, "open")
			forgetest.Want(t, "pull_request.source_branch", f.PullRequest.SourceBranch, "changes")
			forgetest.Want(t, "pull_request.target_branch", f.PullRequest.TargetBranch, "master")
			forgetest.Want(t, "pull_request.url", f.PullRequest.URL, "https://github.com/Codertocat/Hello-World/pull/2")
			forgetest.Want(t, "pull_request.merged", f.PullRequest.Merged, false)
		}},
		{"pull_request.reopened", func(t *testing.T, f event.Fields) { forgetest.Want(t, "action", f.Action, "opened") }},
		{"pull_request.ready_for_review", func(t *testing.T, f event.Fields) { forgetest.Want(t, "action", f.Action, "opened") }},
		{"pull_request.labeled", func(t *testing.T, f event.Fields) { forgetest.Want(t, "action", f.Action, "labeled") }},
		{"pull_request.synchronize", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "action", f.Action, "updated")
			forgetest.Want(t, "forgeaction", f.ForgeAction, "synchronize")
			if f.Before == "" || f.After == "" {
				t.Errorf("before, after = %q, %q, want the payload's", f.Before, f.After)
			}
		}},
		{"pull_request.closed", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "action", f.Action, "closed")
			forgetest.Want(t, "pull_request.merged", f.PullRequest.Merged, false)
		}},
		{"pull_request.closed.merged.derived", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "action", f.Action, "merged")
			forgetest.Want(t, "forgeaction", f.ForgeAction, "closed")
			forgetest.Want(t, "pull_request.merged", f.PullRequest.Merged, true)
			forgetest.Want(t, "pull_request.state", f.PullRequest.State, "closed")
		}},
		{"pull_request_review.submitted.approved.derived", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPullRequest)
			forgetest.Want(t, "action", f.Action, "approved")
			forgetest.Want(t, "forgeaction", f.ForgeAction, "submitted")
			forgetest.Want(t, "pull_request.number", f.PullRequest.Number, int64(2))
			forgetest.Want(t, "pull_request.source_branch", f.PullRequest.SourceBranch, "changes")
		}},
		{"pull_request_review.submitted.changes_requested.derived", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "action", f.Action, "changes_requested")
		}},
		{"pull_request_review.submitted", func(t *testing.T, f event.Fields) { forgetest.Want(t, "action", f.Action, "commented") }},
		{"pull_request_review.dismissed", func(t *testing.T, f event.Fields) { forgetest.Want(t, "action", f.Action, "review_dismissed") }},
		{"issue_comment.created.on-pull-request.derived", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindComment)
			forgetest.Want(t, "action", f.Action, "created")
			forgetest.Want(t, "pull_request.number", f.PullRequest.Number, int64(1))
			forgetest.Want(t, "pull_request.url", f.PullRequest.URL, "https://github.com/Codertocat/Hello-World/pull/1")
		}},
		{"issue_comment.edited", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindComment)
			forgetest.Want(t, "pull_request.number (plain issue)", f.PullRequest.Number, int64(0))
		}},
		{"issues.opened.with-empty-body", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindIssue)
			forgetest.Want(t, "action", f.Action, "opened")
		}},
		{"release.published.docs", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindRelease)
			forgetest.Want(t, "action", f.Action, "published")
			forgetest.Want(t, "tag", f.Tag, "0.0.1")
			forgetest.Want(t, "ref", f.Ref, "refs/tags/0.0.1")
		}},
		{"workflow_run.completed", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPipeline)
			forgetest.Want(t, "action", f.Action, "completed")
		}},
		{"status.with-author-committer-null", func(t *testing.T, f event.Fields) { forgetest.Want(t, "kind", f.Kind, event.KindPipeline) }},
		{"registry_package.published.docker", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindRegistry)
			forgetest.Want(t, "action", f.Action, "published")
		}},
		{"ping.with-organization", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPing)
			forgetest.Want(t, "repository.full_name (organization hook)", f.Repository.FullName, "")
		}},
		{"repository_dispatch.on-demand-test.docs", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindOther)
			forgetest.Want(t, "action", f.Action, "on_demand_test")
			forgetest.Want(t, "forgeaction", f.ForgeAction, "on-demand-test")
		}},
		{"star.created.docs", func(t *testing.T, f event.Fields) { forgetest.Want(t, "kind", f.Kind, event.KindOther) }},
		{"check_run.completed.1", func(t *testing.T, f event.Fields) {
			// Issue 13: a check run carried no ref, sha or result.
			forgetest.Want(t, "branch", f.Branch, "changes")
			forgetest.Want(t, "after", f.After, "ec26c3e57ca3a959ca5aad62de7213c562f8c821")
			forgetest.Want(t, "pipeline.status", f.Pipeline.Status, event.StatusFailure)
			forgetest.Want(t, "pipeline.name", f.Pipeline.Name, "Octocoders-linter")
		}},
		{"workflow_job.waiting", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "pipeline.status", f.Pipeline.Status, event.StatusWaiting)
		}},
		{"workflow_job.queued", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "pipeline.status", f.Pipeline.Status, event.StatusQueued)
			forgetest.Want(t, "pipeline.ref", f.Pipeline.Ref, "refs/heads/main")
		}},
		{"deployment_status.created.docs", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "pipeline.name", f.Pipeline.Name, "production")
			forgetest.Want(t, "pipeline.sha", f.Pipeline.SHA, "f95f852bd8fca8fcc58a9a2d6c842781e32a215e")
			forgetest.Want(t, "branch", f.Branch, "master")
		}},
		{"pull_request.labeled", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "action", f.Action, "labeled")
			if len(f.PullRequest.Labels) == 0 || f.PullRequest.HeadSHA == "" || f.PullRequest.BaseSHA == "" ||
				f.PullRequest.SourceRepository.FullName == "" || f.PullRequest.Author.Login == "" {
				t.Errorf("pull_request = %+v, want labels, shas, source repository and author", f.PullRequest)
			}
		}},
		{"issue_comment.created.1", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "comment.on", f.Comment.On, event.CommentOnIssue)
			forgetest.Want(t, "comment.number", f.Comment.Number, f.Issue.Number)
			if f.Issue.Number == 0 || f.Issue.Title == "" || f.Comment.ID == "" || f.Comment.Body == "" {
				t.Errorf("issue, comment = %+v, %+v", f.Issue, f.Comment)
			}
		}},
		{"pull_request_review.submitted.docs", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPullRequest)
		}},
		{"release.prereleased", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "release.prerelease", f.Release.Prerelease, true)
			if f.Release.Tag == "" || f.Release.URL == "" {
				t.Errorf("release = %+v", f.Release)
			}
		}},
		{"create.payload", func(t *testing.T, f event.Fields) { forgetest.Want(t, "twin", f.Twin, true) }},
		{"delete.payload", func(t *testing.T, f event.Fields) { forgetest.Want(t, "twin", f.Twin, true) }},
		{"push.payload", func(t *testing.T, f event.Fields) { forgetest.Want(t, "twin", f.Twin, false) }},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			fx, payload := forgetest.LoadWithPayload(t, "deliveries", tt.fixture)
			m, err := p.Inspect(fx.Header)
			if err != nil {
				t.Fatal(err)
			}
			f, err := p.Normalize(m, payload)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			forgetest.Want(t, "forge", f.Forge, "github")
			tt.check(t, f)
		})
	}
}

// TestGitHubFormMatchesJSON checks that a form-encoded delivery normalizes
// like the same payload sent as JSON.
func TestGitHubNormalizeFullNameFromOwnerAndName(t *testing.T) {
	p := newProvider(t, false)
	f, err := p.Normalize(forge.Meta{Event: "star"}, []byte(`{"repository":{"name":"r","owner":{"login":"o"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	forgetest.Want(t, "repository.full_name", f.Repository.FullName, "o/r")
}

func TestGitHubReviewActions(t *testing.T) {
	for _, c := range []struct{ action, state, want string }{
		{"submitted", "APPROVED", "approved"},
		{"edited", "commented", "review_edited"},
		{"dismissed", "dismissed", "review_dismissed"},
	} {
		if got := reviewAction(c.action, c.state); got != c.want {
			t.Errorf("reviewAction(%q, %q) = %q, want %q", c.action, c.state, got, c.want)
		}
	}
}

func TestGitHubFormMatchesJSON(t *testing.T) {
	p := newProvider(t, false)
	for _, name := range []string{"push.with-new-branch", "ping.payload"} {
		jf, jp := forgetest.LoadWithPayload(t, "deliveries", name)
		ff, fp := forgetest.LoadWithPayload(t, "deliveries", name+".form")
		if !bytes.Equal(jp, fp) {
			t.Fatalf("%s: form payload differs from the JSON body", name)
		}
		jm, _ := p.Inspect(jf.Header)
		fm, _ := p.Inspect(ff.Header)
		a, err1 := p.Normalize(jm, jp)
		b, err2 := p.Normalize(fm, fp)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: Normalize: %v, %v", name, err1, err2)
		}
		if a.Kind != b.Kind || a.Ref != b.Ref || a.Repository != b.Repository || a.Actor != b.Actor {
			t.Errorf("%s: form %+v differs from JSON %+v", name, b, a)
		}
	}
}

// TestGitHubEventKinds maps every event GitHub documents (forges.md
// section 1, and the GHES-only ones) to its kind, on a bare payload.
func TestGitHubEventKinds(t *testing.T) {
	kinds := map[event.Kind][]string{
		event.KindPush:        {"push"},
		event.KindPullRequest: {"pull_request", "pull_request_review", "pull_request_review_thread"},
		event.KindComment:     {"issue_comment", "commit_comment", "pull_request_review_comment", "discussion_comment"},
		event.KindIssue:       {"issues"},
		event.KindRelease:     {"release"},
		event.KindPipeline:    {"workflow_run", "workflow_job", "check_run", "check_suite", "status", "deployment", "deployment_status"},
		event.KindRegistry:    {"package", "registry_package"},
		event.KindPing:        {"ping"},
		event.KindOther: {
			// create and delete without a ref are not a ref change.
			"create", "delete",
			"branch_protection_configuration", "branch_protection_rule", "code_scanning_alert", "custom_property",
			"custom_property_values", "dependabot_alert", "deploy_key", "deployment_protection_rule", "deployment_review",
			"discussion", "fork", "github_app_authorization", "gollum", "installation", "installation_repositories",
			"installation_target", "label", "marketplace_purchase", "member", "membership", "merge_group", "meta",
			"milestone", "org_block", "organization", "page_build", "project", "project_card", "project_column",
			"projects_v2_item", "public", "repository", "repository_dispatch", "repository_import",
			"repository_vulnerability_alert", "secret_scanning_alert", "secret_scanning_alert_location",
			"security_advisory", "sponsorship", "star", "team", "team_add", "watch", "workflow_dispatch",
			"cache_sync", "content_reference", "enterprise", "user", "some_future_event", "",
		},
	}
	p := newProvider(t, false)
	for kind, events := range kinds {
		for _, ev := range events {
			f, err := p.Normalize(forge.Meta{Event: ev}, []byte(`{"action":"x"}`))
			if err != nil {
				t.Errorf("Normalize(%q) error = %v", ev, err)
				continue
			}
			if f.Kind != kind || f.Forge != "github" {
				t.Errorf("Normalize(%q) = kind %q forge %q, want %q github", ev, f.Kind, f.Forge, kind)
			}
		}
	}
}

// TestGitHubFixtureCoverage keeps a fixture for every event of
// @octokit/webhooks-examples (testdata/SOURCES.md) and the GHES-only ones.
func TestGitHubFixtureCoverage(t *testing.T) {
	events := strings.Fields(`branch_protection_rule check_run check_suite code_scanning_alert commit_comment create
		delete dependabot_alert deploy_key deployment deployment_review deployment_status discussion discussion_comment
		fork github_app_authorization gollum installation installation_repositories issue_comment issues label
		marketplace_purchase member membership merge_group meta milestone org_block organization package page_build ping
		project project_card project_column projects_v2_item public pull_request pull_request_review
		pull_request_review_comment pull_request_review_thread push release repository repository_dispatch
		repository_import repository_vulnerability_alert security_advisory sponsorship star status team team_add watch
		workflow_dispatch workflow_job workflow_run
		registry_package secret_scanning_alert secret_scanning_alert_location cache_sync content_reference enterprise user`)
	fixtures, err := forgetest.LoadDir(filepath.Join("testdata", "deliveries"))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]int{}
	forms := 0
	for _, f := range fixtures {
		have[f.Header.Get(HeaderEvent)]++
		if !strings.Contains(f.Source, "(MIT)") {
			t.Errorf("%s: source %q does not name the license", f.Name, f.Source)
		}
		if _, form, _ := f.Payload(); form {
			forms++
			if f.Secret == "" {
				t.Errorf("%s: a form-encoded fixture must be signed with a stated secret", f.Name)
			}
		}
	}
	for _, ev := range events {
		if have[ev] == 0 {
			t.Errorf("no fixture for event %q", ev)
		}
	}
	if forms == 0 {
		t.Errorf("no form-encoded fixture")
	}
}

func TestGitHubNormalizeBadPayload(t *testing.T) {
	p := newProvider(t, false)
	for _, body := range []string{``, `   `, `{`, `{"action":"opened"`, `null`, `[]`, `"push"`, `42`, `{"a":1}x`, "\xff"} {
		_, err := p.Normalize(forge.Meta{Event: "push"}, []byte(body))
		if !errors.Is(err, forge.ErrBadPayload) {
			t.Errorf("Normalize(%q) = %v, want ErrBadPayload", body, err)
		}
	}
	// Values of an unexpected type are ignored, not fatal.
	f, err := p.Normalize(forge.Meta{Event: "push"}, []byte(`{"ref":"refs/heads/main","before":42,"commits":"x","repository":{"full_name":"a/b","owner":[]}}`))
	if err != nil {
		t.Fatalf("Normalize(mistyped fields) = %v, want nil", err)
	}
	forgetest.Want(t, "ref", f.Ref, "refs/heads/main")
	forgetest.Want(t, "repository.full_name", f.Repository.FullName, "a/b")
	forgetest.Want(t, "before", f.Before, "")
}

func TestGitHubLowerSnake(t *testing.T) {
	for in, out := range map[string]string{
		"":                 "",
		"opened":           "opened",
		"ready_for_review": "ready_for_review",
		"on-demand-test":   "on_demand_test",
		"Deploy Prod":      "deploy_prod",
		"APPROVED":         "approved",
		"ümlaut.v2":        "mlaut_v2",
	} {
		if got := forge.LowerSnake(in); got != out {
			t.Errorf("lowerSnake(%q) = %q, want %q", in, got, out)
		}
	}
}

// FuzzVerifyGitHub checks that Verify accepts a delivery only when the
// header it read is the HMAC of the body, and that it fails only with the
// verify sentinels.
func FuzzVerifyGitHub(f *testing.F) {
	// Seeds are the fixtures' bodies cut to 1 KiB, signed as GitHub would:
	// verification does not depend on the JSON, and the fuzzer minimizes
	// large inputs so slowly that it stalls on the full bodies.
	const maxSeed = 1 << 10
	for _, fx := range forgetest.Seeds(f, "testdata") {
		secret := fx.Secret
		if secret == "" {
			secret = forgetest.TestSecret
		}
		body := fx.Body[:min(len(fx.Body), maxSeed)]
		f.Add("sha256="+forgetest.MACHex(sha256.New, secret, body), "", body, secret, false)
		f.Add("", "sha1="+forgetest.MACHex(sha1.New, secret, body), body, secret, true)
	}
	f.Add(docsSHA256, docsSHA1, []byte(docsBody), docsSecret, false)
	f.Add("sha256=", "sha1=", []byte{}, "", true)
	f.Fuzz(func(t *testing.T, sig256, sig1 string, body []byte, secret string, legacy bool) {
		h := http.Header{}
		if sig256 != "" {
			h.Set(HeaderSignature256, sig256)
		}
		if sig1 != "" {
			h.Set(HeaderSignature, sig1)
		}
		p := &Provider{legacySHA1: legacy}
		err := p.Verify(&forge.Request{Header: h, Body: body}, []config.Secret{config.Secret(secret)})
		if err != nil {
			if !errors.Is(err, verify.ErrMissingSignature) && !errors.Is(err, verify.ErrBadSignature) {
				t.Fatalf("Verify() = %v, want a verify sentinel", err)
			}
			return
		}
		header, prefix, want := sig256, "sha256=", forgetest.MACHex(sha256.New, secret, body)
		if sig256 == "" {
			if !legacy {
				t.Fatalf("accepted without %s and with legacy SHA-1 off", HeaderSignature256)
			}
			header, prefix, want = sig1, "sha1=", forgetest.MACHex(sha1.New, secret, body)
		}
		header = strings.TrimSpace(header)
		if len(header) < len(prefix) || !strings.EqualFold(header[:len(prefix)], prefix) {
			t.Fatalf("accepted header %q without the %s prefix", header, prefix)
		}
		if got := strings.ToLower(header[len(prefix):]); got != want {
			t.Fatalf("accepted digest %s, but HMAC(body) = %s", got, want)
		}
	})
}

// FuzzNormalizeGitHub checks that Normalize never panics, that an accepted
// payload has a kind and the forge id, and that only a payload that is not
// a JSON object is refused.
func FuzzNormalizeGitHub(f *testing.F) {
	for _, fx := range forgetest.Seeds(f, "testdata") {
		payload, _, err := fx.Payload()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(fx.Header.Get(HeaderEvent), payload)
	}
	p := &Provider{}
	f.Fuzz(func(t *testing.T, name string, payload []byte) {
		fields, err := p.Normalize(forge.Meta{Event: name}, payload)
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
		if fields.Kind == "" || fields.Forge != "github" {
			t.Fatalf("Normalize() = kind %q forge %q", fields.Kind, fields.Forge)
		}
		if fields.Deleted && fields.Kind != event.KindPush && fields.Kind != event.KindTag {
			t.Fatalf("deleted on kind %q", fields.Kind)
		}
		if (fields.Kind == event.KindPush || fields.Kind == event.KindTag) && (name == "create" || name == "delete") && fields.Ref == "" {
			t.Fatalf("%s of kind %q without a ref", name, fields.Kind)
		}
	})
}

func BenchmarkVerifyGitHub(b *testing.B) {
	fx, _ := forgetest.LoadWithPayload(b, "deliveries", "push.with-new-branch")
	req := forgetest.Request(b, fx, time.Now())
	secrets := []config.Secret{config.Secret(fx.Secret)}
	p := newProvider(b, false)
	b.ReportAllocs()
	b.SetBytes(int64(len(req.Body)))
	for b.Loop() {
		if err := p.Verify(req, secrets); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNormalizeGitHubPush(b *testing.B) {
	forgetest.BenchNormalize(b, newProvider(b, false), "push.with-new-branch")
}
