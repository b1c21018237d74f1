package gitea_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/ingest"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/forgetest"
	"github.com/forgehook/forgehook/internal/forge/gitea"
	"github.com/forgehook/forgehook/internal/verify"
)

// captureSecret is the hook secret of the Gitea 1.26 captures.
const captureSecret = "s3cr3t-hook"

func newProvider(t testing.TB) *gitea.Provider {
	return forgetest.New[*gitea.Provider](t, gitea.New, nil)
}

func TestGiteaConformance(t *testing.T) {
	forgetest.Run(t, newProvider(t), forgetest.Options{BodySigned: true, MinFixtures: 52})
}

func TestGiteaName(t *testing.T) {
	if got := newProvider(t).Name(); got != "gitea" {
		t.Errorf("Name() = %q, want gitea", got)
	}
}

// TestGiteaKnownAnswer checks the worked example of forges.md section 3,
// computed with Gitea's algorithm: secret "secret", body
// {"ref":"refs/heads/main"}.
func TestGiteaKnownAnswer(t *testing.T) {
	const (
		body   = `{"ref":"refs/heads/main"}`
		sig256 = "d8f89f0618acd61fe621aa4e64078c0e2bca15d0b578b7f3eb734f55883c5320"
		sig1   = "b4a16e3f7e972ac84f7ec491f5bd8e412e95cd69"
	)
	p := newProvider(t)
	h := http.Header{}
	p.Sign(h, []byte(body), "secret", time.Time{})
	want := map[string]string{
		"X-Gitea-Signature":   sig256,
		"X-Gogs-Signature":    sig256,
		"X-Hub-Signature-256": "sha256=" + sig256,
		"X-Hub-Signature":     "sha1=" + sig1,
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("Sign: %s = %q, want %q", k, got, v)
		}
	}
	if len(h) != len(want) {
		t.Errorf("Sign set %d headers, want %d: %v", len(h), len(want), h)
	}
	req := &forge.Request{Header: http.Header{"X-Gitea-Signature": {sig256}}, Body: []byte(body), Payload: []byte(body)}
	if err := p.Verify(req, []config.Secret{"secret"}); err != nil {
		t.Errorf("Verify(known answer) = %v", err)
	}
	hub := &forge.Request{Header: http.Header{"X-Hub-Signature-256": {"sha256=" + sig256}}, Body: []byte(body), Payload: []byte(body)}
	if err := p.Verify(hub, []config.Secret{"secret"}); err != nil {
		t.Errorf("Verify(X-Hub-Signature-256 fallback) = %v", err)
	}
}

func TestGiteaVerifyNegative(t *testing.T) {
	p := newProvider(t)
	push := forgetest.LoadFixture(t, "capture-02-push-main")
	form := forgetest.LoadFixture(t, "capture-09-form-push-hooktest-api")
	formPayload, isForm, err := form.Payload()
	if err != nil || !isForm {
		t.Fatalf("form fixture: payload %v, form %v", err, isForm)
	}
	sig := push.Header.Get("X-Gitea-Signature")
	rawFormSig := verify.Sign(verify.SHA256, verify.Hex, "", []byte(captureSecret), form.Body)
	right := []config.Secret{captureSecret}

	jsonReq := func(h http.Header, body []byte) *forge.Request {
		return &forge.Request{Header: h, Body: body, Payload: body}
	}
	formReq := func(h http.Header) *forge.Request {
		return &forge.Request{Header: h, Body: form.Body, Payload: formPayload, Form: true}
	}
	tests := []struct {
		name    string
		req     *forge.Request
		secrets []config.Secret
		want    error
	}{
		{"valid", jsonReq(http.Header{"X-Gitea-Signature": {sig}}, push.Body), right, nil},
		{"uppercase hex", jsonReq(http.Header{"X-Gitea-Signature": {strings.ToUpper(sig)}}, push.Body), right, nil},
		{"missing header", jsonReq(http.Header{"X-Gitea-Event": {"push"}}, push.Body), right, verify.ErrMissingSignature},
		{"empty header (hook without secret)", jsonReq(http.Header{
			"X-Gitea-Signature":   {""},
			"X-Gogs-Signature":    {""},
			"X-Hub-Signature-256": {"sha256="},
			"X-Hub-Signature":     {"sha1="},
		}, push.Body), right, verify.ErrMissingSignature},
		{"bad hex", jsonReq(http.Header{"X-Gitea-Signature": {"zz" + sig[2:]}}, push.Body), right, verify.ErrBadSignature},
		{"truncated hex", jsonReq(http.Header{"X-Gitea-Signature": {sig[:40]}}, push.Body), right, verify.ErrBadSignature},
		{"prefix in X-Gitea-Signature", jsonReq(http.Header{"X-Gitea-Signature": {"sha256=" + sig}}, push.Body), right, verify.ErrBadSignature},
		{"wrong prefix in X-Hub-Signature-256", jsonReq(http.Header{"X-Hub-Signature-256": {"sha1=" + sig}}, push.Body), right, verify.ErrBadSignature},
		{"wrong secret", jsonReq(http.Header{"X-Gitea-Signature": {sig}}, push.Body), []config.Secret{"wrong"}, verify.ErrBadSignature},
		{"rotation: old secret still listed", jsonReq(http.Header{"X-Gitea-Signature": {sig}}, push.Body), []config.Secret{"new-secret", captureSecret}, nil},
		{"rotation: only the new secret", jsonReq(http.Header{"X-Gitea-Signature": {sig}}, push.Body), []config.Secret{"new-secret"}, verify.ErrBadSignature},
		{"bad X-Gitea-Signature not rescued by good X-Hub-Signature-256", jsonReq(http.Header{
			"X-Gitea-Signature":   {strings.Repeat("0", 64)},
			"X-Hub-Signature-256": {"sha256=" + sig},
		}, push.Body), right, verify.ErrBadSignature},
		{"tampered body", jsonReq(http.Header{"X-Gitea-Signature": {sig}}, append(bytes.Clone(push.Body), ' ')), right, verify.ErrBadSignature},
		{"empty body", jsonReq(http.Header{"X-Gitea-Signature": {sig}}, []byte{}), right, verify.ErrBadSignature},
		{"empty body, no signature", jsonReq(http.Header{}, nil), right, verify.ErrMissingSignature},
		{"form: signature over payload JSON", formReq(form.Header.Clone()), right, nil},
		{"form: signature over the raw form body fails", formReq(http.Header{"X-Gitea-Signature": {rawFormSig}}), right, verify.ErrBadSignature},
		{"authorization only, matching", jsonReq(http.Header{"Authorization": {"Bearer gw-token-123"}}, push.Body), []config.Secret{"Bearer gw-token-123"}, nil},
		{"authorization only, token without scheme", jsonReq(http.Header{"Authorization": {"Bearer gw-token-123"}}, push.Body), []config.Secret{"gw-token-123"}, verify.ErrBadSignature},
		{"authorization with empty signatures", jsonReq(http.Header{
			"X-Gitea-Signature": {""}, "X-Hub-Signature-256": {"sha256="}, "Authorization": {"Bearer gw-token-123"},
		}, push.Body), []config.Secret{"Bearer gw-token-123"}, nil},
		{"authorization does not rescue a bad signature", jsonReq(http.Header{
			"X-Gitea-Signature": {strings.Repeat("0", 64)}, "Authorization": {"Bearer gw-token-123"},
		}, push.Body), []config.Secret{"Bearer gw-token-123"}, verify.ErrBadSignature},
		{"no secrets", jsonReq(http.Header{"X-Gitea-Signature": {sig}}, push.Body), nil, verify.ErrNoSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Verify(tt.req, tt.secrets)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want errors.Is %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "gitea: verify") {
				t.Errorf("Verify error %q lacks the gitea: verify context", err)
			}
			if got := ingest.StatusOf(err); got != http.StatusUnauthorized {
				t.Errorf("status = %d, want 401", got)
			}
			if strings.Contains(err.Error(), captureSecret) {
				t.Errorf("Verify error %q contains the secret", err)
			}
		})
	}
}

func TestGiteaInspect(t *testing.T) {
	p := newProvider(t)
	tests := []struct {
		name string
		h    http.Header
		want forge.Meta
		err  error
	}{
		{"fine-grained type wins", http.Header{
			"X-Gitea-Event": {"pull_request"}, "X-Gitea-Event-Type": {"pull_request_sync"}, "X-Gitea-Delivery": {"d-1"},
		}, forge.Meta{Event: "pull_request_sync", Delivery: "d-1", DedupKey: "d-1"}, nil},
		{"coarse only (older Gitea)", http.Header{
			"X-Gitea-Event": {"issues"}, "X-Gitea-Delivery": {"d-2"},
		}, forge.Meta{Event: "issues", Delivery: "d-2", DedupKey: "d-2"}, nil},
		{"empty type header", http.Header{
			"X-Gitea-Event": {"push"}, "X-Gitea-Event-Type": {""},
		}, forge.Meta{Event: "push"}, nil},
		{"gogs headers only", http.Header{"X-Gogs-Event": {"push"}, "X-Gogs-Delivery": {"d-3"}}, forge.Meta{}, forge.ErrNotRecognized},
		{"github headers only", http.Header{"X-Github-Event": {"push"}}, forge.Meta{}, forge.ErrNotRecognized},
		{"empty event header", http.Header{"X-Gitea-Event": {""}}, forge.Meta{}, forge.ErrNotRecognized},
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

func TestGiteaNormalizeFixtures(t *testing.T) {
	p := newProvider(t)
	t.Run("branch push", func(t *testing.T) {
		_, f := forgetest.NormalizeFixture(t, p, "capture-02-push-main")
		if f.Kind != event.KindPush || f.Branch != "main" || f.Ref != "refs/heads/main" || f.Deleted || len(f.Commits) != 1 {
			t.Errorf("got %+v", f)
		}
		if f.Repository.FullName != "peer/demo" || f.Repository.Owner != "peer" || f.Actor.Login != "peer" {
			t.Errorf("repository %+v, actor %+v", f.Repository, f.Actor)
		}
		if c := f.Commits[0]; c.ID != "eb54e41285ed8230cc297c29fd4ac6085baa3265" || c.Author.Email != "pusher@example.test" {
			t.Errorf("commit %+v", c)
		}
	})
	t.Run("tag push is kind tag", func(t *testing.T) {
		_, f := forgetest.NormalizeFixture(t, p, "capture-05-push-tag")
		if f.Kind != event.KindTag || f.Tag != "v0.1" || f.Branch != "" || f.Action != "created" {
			t.Errorf("got kind %q tag %q branch %q action %q", f.Kind, f.Tag, f.Branch, f.Action)
		}
	})
	t.Run("create with short ref", func(t *testing.T) {
		_, f := forgetest.NormalizeFixture(t, p, "capture-06-create-tag")
		if f.Kind != event.KindTag || f.Ref != "refs/tags/v0.1" || f.Action != "created" || f.After != "547f909fbe0d4b6a901b2525441cd6ed46e676d7" {
			t.Errorf("got %+v", f)
		}
	})
	t.Run("branch deletion is deleted", func(t *testing.T) {
		_, f := forgetest.NormalizeFixture(t, p, "capture-07-delete-branch")
		if f.Kind != event.KindPush || !f.Deleted || f.Ref != "refs/heads/feature" || f.Action != "deleted" {
			t.Errorf("got kind %q deleted %v ref %q action %q", f.Kind, f.Deleted, f.Ref, f.Action)
		}
	})
	t.Run("merged pull request is merged", func(t *testing.T) {
		_, f := forgetest.NormalizeFixture(t, p, "goscm-pull-request-merged")
		if f.Kind != event.KindPullRequest || f.Action != "merged" || f.ForgeAction != "closed" || !f.PullRequest.Merged {
			t.Errorf("got kind %q action %q forgeaction %q merged %v", f.Kind, f.Action, f.ForgeAction, f.PullRequest.Merged)
		}
		if pr := f.PullRequest; pr.Number != 1 || pr.SourceBranch != "feature" || pr.TargetBranch != "master" {
			t.Errorf("pull request %+v", pr)
		}
	})
	t.Run("closed pull request is closed", func(t *testing.T) {
		if _, f := forgetest.NormalizeFixture(t, p, "goscm-pull-request-closed"); f.Action != "closed" {
			t.Errorf("action %q, want closed", f.Action)
		}
	})
	t.Run("synchronized is updated", func(t *testing.T) {
		if _, f := forgetest.NormalizeFixture(t, p, "goscm-pull-request-synchronized"); f.Action != "updated" {
			t.Errorf("action %q, want updated", f.Action)
		}
	})
	t.Run("reopened is opened", func(t *testing.T) {
		if _, f := forgetest.NormalizeFixture(t, p, "goscm-pull-request-reopened"); f.Action != "opened" || f.ForgeAction != "reopened" {
			t.Errorf("action %q forgeaction %q", f.Action, f.ForgeAction)
		}
	})
	t.Run("comment on a pull request carries its number", func(t *testing.T) {
		_, f := forgetest.NormalizeFixture(t, p, "gp-pull-request-comment")
		if f.Kind != event.KindComment || f.PullRequest.Number != 2 || f.Action != "created" {
			t.Errorf("got kind %q number %d action %q", f.Kind, f.PullRequest.Number, f.Action)
		}
		_, old := forgetest.NormalizeFixture(t, p, "goscm-pull-request-comment-created")
		if old.Kind != event.KindComment || old.PullRequest.Number != 2 {
			t.Errorf("issue.pull_request without is_pull: kind %q number %d", old.Kind, old.PullRequest.Number)
		}
	})
	t.Run("comment on an issue has no pull request", func(t *testing.T) {
		if _, f := forgetest.NormalizeFixture(t, p, "gp-issue-comment"); f.Kind != event.KindComment || f.PullRequest.Number != 0 {
			t.Errorf("got kind %q number %d", f.Kind, f.PullRequest.Number)
		}
	})
	t.Run("review comment", func(t *testing.T) {
		_, f := forgetest.NormalizeFixture(t, p, "gp-pull-request-review")
		if f.Kind != event.KindPullRequest || f.Action != "commented" || f.ForgeAction != "reviewed" {
			t.Errorf("got kind %q action %q forgeaction %q", f.Kind, f.Action, f.ForgeAction)
		}
	})
	t.Run("API hook test is a ping", func(t *testing.T) {
		// Issue 13: the API's test (the latest commit, before equal to
		// after) was stored as a push and fired triggers.
		_, f := forgetest.NormalizeFixture(t, p, "capture-01-push-hooktest-api")
		if f.Kind != event.KindPing || f.Before != f.After {
			t.Errorf("got kind %q before %q after %q", f.Kind, f.Before, f.After)
		}
	})
}

// testDelivery turns the payload of a capture into the one Gitea's "Test
// delivery" button sends (routers/web/repo/setting/webhook.go TestWebhook):
// before, after and the commit id all zeros, a fake commit by the ghost user.
func testDelivery(t *testing.T, payload []byte, message string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	fake := map[string]any{
		"id":        event.ZeroSHA1,
		"message":   message,
		"url":       "http://127.0.0.1:3300/peer/demo/commit/" + event.ZeroSHA1,
		"author":    map[string]any{"name": "Ghost", "email": "ghost@noreply.127.0.0.1", "username": ""},
		"committer": map[string]any{"name": "Ghost", "email": "ghost@noreply.127.0.0.1", "username": ""},
		"timestamp": "0001-01-01T00:00:00Z",
	}
	m["before"], m["after"] = event.ZeroSHA1, event.ZeroSHA1
	m["commits"] = []any{fake}
	m["head_commit"] = fake
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestGiteaNormalizeTestDelivery(t *testing.T) {
	p := newProvider(t)
	f := forgetest.LoadFixture(t, "capture-02-push-main")
	m := forge.Meta{Event: "push"}
	tests := []struct {
		name    string
		payload []byte
		want    event.Kind
	}{
		{"Gitea test delivery", testDelivery(t, f.Body, "This is a fake commit for webhook push test"), event.KindPing},
		{"older Gitea and Gogs, empty repository", testDelivery(t, f.Body, "This is a fake commit"), event.KindPing},
		{"all-zero push with another message", testDelivery(t, f.Body, "real work"), event.KindPush},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.Normalize(m, tt.payload)
			if err != nil {
				t.Fatal(err)
			}
			if got.Kind != tt.want {
				t.Errorf("kind = %q, want %q", got.Kind, tt.want)
			}
			if got.Kind == event.KindPing && (got.Deleted || got.Repository.FullName != "peer/demo") {
				t.Errorf("ping: deleted %v, repository %q", got.Deleted, got.Repository.FullName)
			}
		})
	}
}

// TestGiteaNormalizeEvents covers the events no published example shows,
// with small payloads written here after the payload structs of Gitea's and
// Forgejo's modules/structs (field names only; not captures).
func TestGiteaNormalizeEvents(t *testing.T) {
	p := newProvider(t)
	const repo = `"repository":{"full_name":"o/r","name":"r","owner":{"login":"o"},"html_url":"https://g.test/o/r"},"sender":{"login":"u"}`
	tests := []struct {
		event   string
		payload string
		kind    event.Kind
		action  string
		after   string
	}{
		{"status", `{"sha":"abc","state":"success",` + repo + `}`, event.KindPipeline, "", "abc"},
		{"workflow_run", `{"action":"completed","workflow_run":{"head_sha":"def"},` + repo + `}`, event.KindPipeline, "completed", "def"},
		{"workflow_job", `{"action":"queued","workflow_job":{"head_sha":"123"},` + repo + `}`, event.KindPipeline, "queued", "123"},
		{"action_run_failure", `{"action":"failure","run":{"commit_sha":"456","repository":{"full_name":"o/r"},"trigger_user":{"login":"u"}}}`, event.KindPipeline, "failure", "456"},
		{"package", `{"action":"created","package":{"name":"p"},` + repo + `}`, event.KindRegistry, "created", ""},
		{"wiki", `{"action":"edited","page":"Home","comment":"typo",` + repo + `}`, event.KindOther, "edited", ""},
		{"pull_request_review_approved", `{"action":"reviewed","number":3,"pull_request":{"number":3,"head":{"ref":"f"},"base":{"ref":"main"}},"review":{"type":"pull_request_review_approved"},` + repo + `}`, event.KindPullRequest, "approved", ""},
		{"pull_request_review_rejected", `{"action":"reviewed","number":3,"pull_request":{"number":3},` + repo + `}`, event.KindPullRequest, "changes_requested", ""},
		{"pull_request_approved", `{"action":"reviewed","number":3,"pull_request":{"number":3},` + repo + `}`, event.KindPullRequest, "approved", ""},
		{"pull_request_sync", `{"action":"synchronized","number":3,"pull_request":{"number":3},` + repo + `}`, event.KindPullRequest, "updated", ""},
		{"pull_request_review_request", `{"action":"review_requested","number":3,"pull_request":{"number":3},` + repo + `}`, event.KindPullRequest, "review_requested", ""},
		{"something_new", `{"action":"Did Things",` + repo + `}`, event.KindOther, "did_things", ""},
		{"push", `{"before":"a","after":"b",` + repo + `}`, event.KindOther, "", ""},
		{"create", `{"ref":"x","ref_type":"mystery",` + repo + `}`, event.KindOther, "", ""},
		{"push", `{"ref":{"not":"a string"},"after":"b"}`, event.KindOther, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.event, func(t *testing.T) {
			got, err := p.Normalize(forge.Meta{Event: tt.event}, []byte(tt.payload))
			if err != nil {
				t.Fatal(err)
			}
			if got.Kind != tt.kind || got.Action != tt.action || got.After != tt.after || got.Forge != "gitea" {
				t.Errorf("got kind %q action %q after %q forge %q, want %q %q %q gitea", got.Kind, got.Action, got.After, got.Forge, tt.kind, tt.action, tt.after)
			}
			if tt.kind == event.KindPipeline && (got.Repository.FullName != "o/r" || got.Actor.Login != "u") {
				t.Errorf("repository %q actor %q", got.Repository.FullName, got.Actor.Login)
			}
		})
	}
}

func TestGiteaNormalizeBadPayload(t *testing.T) {
	p := newProvider(t)
	for _, payload := range []string{"", "   ", "null", "[1,2]", `"push"`, "{", `{"ref":}`, "payload=%7B%7D"} {
		_, err := p.Normalize(forge.Meta{Event: "push"}, []byte(payload))
		if !errors.Is(err, forge.ErrBadPayload) {
			t.Errorf("Normalize(%q) = %v, want ErrBadPayload", payload, err)
		}
	}
}

func TestGiteaRedact(t *testing.T) {
	p := newProvider(t)
	clean := forgetest.LoadFixture(t, "capture-02-push-main").Body
	if got := p.Redact(clean); !bytes.Equal(got, clean) {
		t.Errorf("Redact changed a payload without a secret field")
	}
	old := forgetest.LoadFixture(t, "goscm-pull-request-merged").Body
	got := p.Redact(old)
	if bytes.Contains(got, []byte("12345")) {
		t.Errorf("Redact kept the secret: %s", got)
	}
	var m map[string]any
	if err := json.Unmarshal(got, &m); err != nil || m["secret"] != "[redacted]" || m["action"] != "closed" {
		t.Errorf("Redact = %v (err %v)", m["secret"], err)
	}
	nested := []byte(`{"commits":[{"message":"rotate the \"secret\""}]}`)
	if got := p.Redact(nested); !bytes.Equal(got, nested) {
		t.Errorf("Redact changed a payload whose only secret is nested: %s", got)
	}
}

// TestGiteaFormFixture checks that the form capture's payload= field decodes
// to the JSON that Gitea signed, with the Authorization header kept apart.
func TestGiteaFormFixture(t *testing.T) {
	f := forgetest.LoadFixture(t, "capture-09-form-push-hooktest-api")
	v, err := url.ParseQuery(string(f.Body))
	if err != nil {
		t.Fatal(err)
	}
	sig := verify.Sign(verify.SHA256, verify.Hex, "", []byte(captureSecret), []byte(v.Get("payload")))
	if sig != f.Header.Get("X-Gitea-Signature") {
		t.Errorf("form payload signature %s, header %s", sig, f.Header.Get("X-Gitea-Signature"))
	}
}

func BenchmarkVerifyGitea(b *testing.B) {
	p := newProvider(b)
	f := forgetest.LoadFixture(b, "capture-02-push-main")
	req := &forge.Request{Header: f.Header, Body: f.Body, Payload: f.Body}
	secrets := []config.Secret{"old-secret", captureSecret}
	b.ReportAllocs()
	b.SetBytes(int64(len(f.Body)))
	for b.Loop() {
		if err := p.Verify(req, secrets); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNormalizeGiteaPush(b *testing.B) {
	forgetest.BenchNormalize(b, newProvider(b), "capture-04-push-new-branch")
}

// TestGiteaNormalizeRecord checks the fields issue 13 added, on payloads
// shaped as Gitea's modules/structs (CommitStatusPayload,
// WorkflowRunPayload, WorkflowJobPayload) and on the captures.
func TestGiteaNormalizeRecord(t *testing.T) {
	p := newProvider(t)
	norm := func(t *testing.T, ev, body string) event.Fields {
		t.Helper()
		f, err := p.Normalize(forge.Meta{Event: ev}, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	t.Run("status", func(t *testing.T) {
		f := norm(t, "status", `{"sha":"abc","state":"failure","context":"ci/build","id":7,"target_url":"https://ci/7","branches":[{"name":"main"}]}`)
		want := event.Pipeline{Name: "ci/build", ID: "7", Status: event.StatusFailure, Ref: "refs/heads/main", Branch: "main", SHA: "abc", URL: "https://ci/7"}
		if f.Pipeline != want || f.Branch != "main" || f.After != "abc" {
			t.Errorf("pipeline %+v branch %q after %q, want %+v", f.Pipeline, f.Branch, f.After, want)
		}
	})
	t.Run("workflow_run", func(t *testing.T) {
		f := norm(t, "workflow_run", `{"action":"completed","workflow_run":{"id":3,"display_title":"ci","head_branch":"dev","head_sha":"def","status":"completed","conclusion":"success","html_url":"u"}}`)
		if f.Kind != event.KindPipeline || f.Pipeline.Status != event.StatusSuccess || f.Pipeline.Name != "ci" || f.Branch != "dev" || f.After != "def" {
			t.Errorf("got %+v", f.Pipeline)
		}
	})
	t.Run("workflow_job in progress", func(t *testing.T) {
		f := norm(t, "workflow_job", `{"action":"in_progress","workflow_job":{"id":4,"name":"build","head_branch":"dev","head_sha":"def","status":"in_progress"}}`)
		if f.Pipeline.Status != event.StatusRunning || f.Pipeline.Name != "build" || f.Pipeline.ID != "4" {
			t.Errorf("got %+v", f.Pipeline)
		}
	})
	// Real captures of Gitea 1.26 (testdata/SOURCES.md).
	t.Run("captured statuses", func(t *testing.T) {
		for name, want := range map[string]string{
			"capture-10-status-pending": event.StatusQueued,
			"capture-11-status-success": event.StatusSuccess,
			"capture-12-status-failure": event.StatusFailure,
		} {
			_, f := forgetest.NormalizeFixture(t, p, name)
			if f.Kind != event.KindPipeline || f.Pipeline.Status != want || f.Pipeline.Name != "ci/build" ||
				f.Pipeline.SHA == "" || f.After != f.Pipeline.SHA || f.Pipeline.URL == "" {
				t.Errorf("%s: kind %q pipeline %+v after %q, want status %q", name, f.Kind, f.Pipeline, f.After, want)
			}
			// Gitea 1.26 sends no branches with a status: no ref.
			if f.Pipeline.Branch != "" || f.Branch != "" {
				t.Errorf("%s: branch %q, want none", name, f.Pipeline.Branch)
			}
		}
	})
	t.Run("captured workflow run on a branch and a tag", func(t *testing.T) {
		_, f := forgetest.NormalizeFixture(t, p, "capture-19-workflow-run-requested")
		if f.Pipeline.Name != "CI" || f.Pipeline.Branch != "main" || f.Pipeline.Ref != "refs/heads/main" || f.Pipeline.Status != event.StatusQueued {
			t.Errorf("branch run: %+v, want CI on main, queued", f.Pipeline)
		}
		_, f = forgetest.NormalizeFixture(t, p, "capture-21-workflow-run-requested-tag")
		if f.Pipeline.Tag != "v2.0.0" || f.Pipeline.Branch != "" || f.Pipeline.Ref != "refs/tags/v2.0.0" || f.Tag != "v2.0.0" {
			t.Errorf("tag run: %+v, want tag v2.0.0", f.Pipeline)
		}
		_, f = forgetest.NormalizeFixture(t, p, "capture-22-workflow-job-queued-tag")
		if f.Pipeline.Name != "build" || f.Pipeline.Ref != "" || f.Pipeline.Branch != "" || f.Pipeline.SHA == "" {
			t.Errorf("tag job: %+v, want build with a sha and no ref (Gitea sends none)", f.Pipeline)
		}
	})
	t.Run("create is a twin, push and delete are not", func(t *testing.T) {
		if _, f := forgetest.NormalizeFixture(t, p, "capture-03-create-branch"); !f.Twin {
			t.Error("create: twin false")
		}
		if _, f := forgetest.NormalizeFixture(t, p, "capture-04-push-new-branch"); f.Twin {
			t.Error("push: twin true")
		}
		// Gitea 1.26 sent a delete and no push for git push --delete: the
		// delete is the only event of the deletion.
		if _, f := forgetest.NormalizeFixture(t, p, "capture-07-delete-branch"); f.Twin || !f.Deleted {
			t.Errorf("delete: twin %v deleted %v, want false, true", f.Twin, f.Deleted)
		}
	})
	t.Run("label change is labeled", func(t *testing.T) {
		_, f := forgetest.NormalizeFixture(t, p, "gp-issue-label")
		if f.Action != "labeled" || f.Issue.Number != 1 || len(f.Issue.Labels) != 1 || f.Issue.Labels[0] != "bug" {
			t.Errorf("action %q issue %+v", f.Action, f.Issue)
		}
	})
	t.Run("comment on an issue", func(t *testing.T) {
		_, f := forgetest.NormalizeFixture(t, p, "gp-issue-comment")
		if f.Issue.Number != 1 || f.Comment.On != event.CommentOnIssue || f.Comment.Number != 1 || f.Comment.ID == "" {
			t.Errorf("issue %+v comment %+v", f.Issue, f.Comment)
		}
	})
	t.Run("pull request", func(t *testing.T) {
		_, f := forgetest.NormalizeFixture(t, p, "gp-pull-request")
		pr := f.PullRequest
		if pr.HeadSHA == "" || pr.BaseSHA == "" || pr.SourceRepository.FullName == "" || pr.Author.Login == "" {
			t.Errorf("pull_request %+v", pr)
		}
	})
	t.Run("fork is the forked repository", func(t *testing.T) {
		_, f := forgetest.NormalizeFixture(t, p, "gp-fork")
		forgetest.Want(t, "repository.full_name", f.Repository.FullName, "example/example")
	})
}
