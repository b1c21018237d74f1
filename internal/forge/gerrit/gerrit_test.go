package gerrit_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/ingest"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/forgetest"
	"github.com/forgehook/forgehook/internal/forge/gerrit"
	"github.com/forgehook/forgehook/internal/verify"
)

func newProvider(t testing.TB) *gerrit.Provider {
	t.Helper()
	p, err := gerrit.New(&config.Endpoint{Name: "review", Provider: "gerrit"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p.(*gerrit.Provider)
}

func loadFixture(t testing.TB, name string) *forgetest.Fixture {
	t.Helper()
	f, err := forgetest.Load(filepath.Join("testdata", "deliveries", name+".txtar"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// statusOf is the HTTP status ingest answers for an error of Verify or
// InspectBody (design section 1, steps 4 and 5).
func statusOf(err error) int { return ingest.StatusOf(err) }

func want[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func basic(userpass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(userpass))
}

func TestGerritConformance(t *testing.T) {
	forgetest.Run(t, newProvider(t), forgetest.Options{BodySigned: false, MinFixtures: 19})
}

func TestGerritNew(t *testing.T) {
	p, err := gerrit.New(nil)
	if err != nil {
		t.Fatalf("New(nil) = %v", err)
	}
	want(t, "Name()", p.Name(), "gerrit")
}

func TestGerritInspect(t *testing.T) {
	fx := loadFixture(t, "cdevents-change-merged")
	if fx.Header.Get("X-Origin-Url") == "" {
		t.Fatal("fixture lacks X-Origin-Url")
	}
	if _, err := newProvider(t).Inspect(fx.Header); !errors.Is(err, forge.ErrNotRecognized) {
		t.Fatalf("Inspect(headers) = %v, want ErrNotRecognized: Gerrit sends no event header", err)
	}
}

func TestGerritInspectBody(t *testing.T) {
	p := newProvider(t)
	tests := []struct {
		name    string
		payload string
		want    forge.Meta
		wantErr error
	}{
		{"event", `{"type":"patchset-created","eventCreatedOn":1700478732}`, forge.Meta{Event: "patchset-created"}, nil},
		{"plugin event", `{"type":"ref-replicated","eventCreatedOn":1,"project":"x"}`, forge.Meta{Event: "ref-replicated"}, nil},
		{"negative or float time", `{"type":"x","eventCreatedOn":-1.5e3}`, forge.Meta{Event: "x"}, nil},
		{"empty object", `{}`, forge.Meta{}, forge.ErrNotRecognized},
		{"no eventCreatedOn", `{"type":"patchset-created"}`, forge.Meta{}, forge.ErrNotRecognized},
		{"eventCreatedOn a string", `{"type":"patchset-created","eventCreatedOn":"1700478732"}`, forge.Meta{}, forge.ErrNotRecognized},
		{"eventCreatedOn null", `{"type":"patchset-created","eventCreatedOn":null}`, forge.Meta{}, forge.ErrNotRecognized},
		{"no type", `{"eventCreatedOn":1700478732}`, forge.Meta{}, forge.ErrNotRecognized},
		{"empty type", `{"type":"","eventCreatedOn":1}`, forge.Meta{}, forge.ErrNotRecognized},
		{"type not a string", `{"type":7,"eventCreatedOn":1}`, forge.Meta{}, forge.ErrNotRecognized},
		{"harbor look-alike", `{"type":"PUSH_ARTIFACT","occur_at":1,"event_data":{}}`, forge.Meta{}, forge.ErrNotRecognized},
		{"array", `[{"type":"x","eventCreatedOn":1}]`, forge.Meta{}, forge.ErrNotRecognized},
		{"truncated", `{"type":"x","eventCreatedOn":1`, forge.Meta{}, forge.ErrNotRecognized},
		{"empty", ``, forge.Meta{}, forge.ErrNotRecognized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.InspectBody(http.Header{}, []byte(tt.payload))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("InspectBody = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				want(t, "status", statusOf(err), http.StatusBadRequest)
			}
			want(t, "Meta", got, tt.want)
		})
	}
}

// TestGerritInspectBodyRejectsOtherForges checks that no delivery of
// another forge is taken for Gerrit's: auto-detection relies on it.
func TestGerritInspectBodyRejectsOtherForges(t *testing.T) {
	forgetest.RejectsOtherForges(t, newProvider(t), "gerrit")
}

func TestGerritVerify(t *testing.T) {
	p := newProvider(t)
	const userpass = "gerrit-hook:tr0ub4dor&3"
	req := func(auth ...string) *forge.Request {
		h := http.Header{"Content-Type": {"application/json; charset=utf-8"}, "X-Origin-Url": {"https://review.example.org/"}}
		for _, a := range auth {
			h.Add("Authorization", a)
		}
		return &forge.Request{Header: h, Body: []byte(`{}`), Payload: []byte(`{}`)}
	}
	tests := []struct {
		name    string
		req     *forge.Request
		secrets []config.Secret
		want    error
	}{
		{"basic", req(basic(userpass)), []config.Secret{userpass}, nil},
		{"rotation", req(basic(userpass)), []config.Secret{"gerrit-hook:new", userpass}, nil},
		{"missing (X-Origin-Url is no credential)", req(), []config.Secret{userpass}, verify.ErrMissingSignature},
		{"empty", req(""), []config.Secret{userpass}, verify.ErrMissingSignature},
		{"bearer is not basic", req("Bearer " + userpass), []config.Secret{userpass}, verify.ErrMissingSignature},
		{"wrong password", req(basic("gerrit-hook:guess")), []config.Secret{userpass}, verify.ErrBadSignature},
		{"wrong user", req(basic("admin:tr0ub4dor&3")), []config.Secret{userpass}, verify.ErrBadSignature},
		{"bad base64", req("Basic ###"), []config.Secret{userpass}, verify.ErrBadSignature},
		{"credentials in clear", req("Basic " + userpass), []config.Secret{userpass}, verify.ErrBadSignature},
		{"no secrets", req(basic(userpass)), nil, verify.ErrNoSecret},
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
			want(t, "status", statusOf(err), http.StatusUnauthorized)
			if !strings.HasPrefix(err.Error(), "gerrit: verify Authorization") {
				t.Errorf("Verify error %q lacks the gerrit: verify context", err)
			}
			if strings.Contains(err.Error(), "tr0ub4dor") {
				t.Errorf("Verify error %q contains the secret", err)
			}
		})
	}
}

func TestGerritSign(t *testing.T) {
	p := newProvider(t)
	h := http.Header{}
	p.Sign(h, nil, "gerrit-hook:tr0ub4dor&3", time.Time{})
	// As Go's net/http (and any HTTP client) writes Basic credentials.
	r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/", nil)
	r.SetBasicAuth("gerrit-hook", "tr0ub4dor&3")
	want(t, "Authorization", h.Get("Authorization"), r.Header.Get("Authorization"))
}

// TestGerritNormalizeCases pins the mapping on the fixtures, so that a
// wrong golden cannot hide it.
func TestGerritNormalizeCases(t *testing.T) {
	p := newProvider(t)
	tests := []struct {
		fixture string
		check   func(t *testing.T, f event.Fields)
	}{
		{"cdevents-patchset-created.first", func(t *testing.T, f event.Fields) {
			want(t, "kind", f.Kind, event.KindPullRequest)
			want(t, "action", f.Action, "opened")
			want(t, "forgeaction", f.ForgeAction, "REWORK")
			want(t, "pull_request.number", f.PullRequest.Number, int64(2))
			want(t, "pull_request.title", f.PullRequest.Title, "test.file added")
			want(t, "pull_request.state", f.PullRequest.State, "NEW")
			want(t, "pull_request.source_branch", f.PullRequest.SourceBranch, "refs/changes/02/2/1")
			want(t, "pull_request.target_branch", f.PullRequest.TargetBranch, "patch_create")
			want(t, "pull_request.url", f.PullRequest.URL, "http://959be7129610/c/TestRepo1/+/2")
			want(t, "pull_request.merged", f.PullRequest.Merged, false)
			want(t, "after", f.After, "b59138869113bfd9d3e7fbf9439d74e1ae6c54b8")
			want(t, "ref", f.Ref, "")
			want(t, "repository.full_name", f.Repository.FullName, "TestRepo1")
			want(t, "repository.name", f.Repository.Name, "TestRepo1")
			want(t, "repository.owner", f.Repository.Owner, "")
			want(t, "actor.login", f.Actor.Login, "admin")
			want(t, "actor.name", f.Actor.Name, "Administrator")
			want(t, "actor.email", f.Actor.Email, "admin@example.com")
		}},
		{"cdevents-patchset-created.second", func(t *testing.T, f event.Fields) {
			want(t, "action", f.Action, "updated")
			want(t, "pull_request.source_branch", f.PullRequest.SourceBranch, "refs/changes/02/2/2")
		}},
		{"cdevents-comment-added.code-review-2", func(t *testing.T, f event.Fields) {
			want(t, "kind", f.Kind, event.KindPullRequest)
			want(t, "action", f.Action, "approved")
			want(t, "pull_request.number", f.PullRequest.Number, int64(1))
		}},
		{"cdevents-comment-added.comment-only.derived", func(t *testing.T, f event.Fields) {
			want(t, "kind", f.Kind, event.KindComment)
			want(t, "action", f.Action, "created")
			want(t, "pull_request.number", f.PullRequest.Number, int64(1))
		}},
		{"gerritbot-comment-added.code-review-2", func(t *testing.T, f event.Fields) {
			want(t, "kind", f.Kind, event.KindPullRequest)
			want(t, "action", f.Action, "approved")
			want(t, "repository.full_name", f.Repository.FullName, "gerritbot-rs")
		}},
		{"gerritbot-reviewer-added", func(t *testing.T, f event.Fields) {
			want(t, "kind", f.Kind, event.KindPullRequest)
			want(t, "action", f.Action, "review_requested")
			want(t, "actor (this Gerrit 2.x names no adder)", f.Actor, event.Person{})
		}},
		{"cdevents-change-merged", func(t *testing.T, f event.Fields) {
			want(t, "action", f.Action, "merged")
			want(t, "pull_request.merged", f.PullRequest.Merged, true)
			want(t, "pull_request.state", f.PullRequest.State, "MERGED")
			want(t, "after (newRev)", f.After, "4c688da535ea3352536e3b320880aa353bd404b2")
		}},
		{"cdevents-change-abandoned", func(t *testing.T, f event.Fields) {
			want(t, "action", f.Action, "closed")
			want(t, "pull_request.merged", f.PullRequest.Merged, false)
			want(t, "actor.login", f.Actor.Login, "admin")
		}},
		{"cdevents-change-restored.derived", func(t *testing.T, f event.Fields) {
			want(t, "action", f.Action, "opened")
			want(t, "actor.login", f.Actor.Login, "admin")
		}},
		{"cdevents-wip-state-changed.ready.derived", func(t *testing.T, f event.Fields) {
			want(t, "action", f.Action, "opened")
			want(t, "actor.login", f.Actor.Login, "admin")
		}},
		{"cdevents-ref-updated.branch-created", func(t *testing.T, f event.Fields) {
			want(t, "kind", f.Kind, event.KindPush)
			want(t, "ref", f.Ref, "refs/heads/test_branch")
			want(t, "branch", f.Branch, "test_branch")
			want(t, "action", f.Action, "created")
			want(t, "before", f.Before, event.ZeroSHA1)
			want(t, "after", f.After, "0c8c548ca93b44dd501c000ebb79ecc8f9aa4bd6")
			want(t, "deleted", f.Deleted, false)
			want(t, "repository.full_name (project)", f.Repository.FullName, "TestRepo")
			want(t, "commits is [] not null", f.Commits != nil && len(f.Commits) == 0, true)
		}},
		{"cdevents-ref-updated.branch-deleted", func(t *testing.T, f event.Fields) {
			want(t, "kind", f.Kind, event.KindPush)
			want(t, "deleted", f.Deleted, true)
			want(t, "action", f.Action, "deleted")
		}},
		{"cdevents-ref-updated.tag-created.derived", func(t *testing.T, f event.Fields) {
			want(t, "kind", f.Kind, event.KindTag)
			want(t, "tag", f.Tag, "v1.0")
			want(t, "branch", f.Branch, "")
		}},
		{"cdevents-ref-updated.change-ref", func(t *testing.T, f event.Fields) {
			want(t, "kind", f.Kind, event.KindOther)
			want(t, "ref", f.Ref, "refs/changes/02/2/1")
			want(t, "action", f.Action, "")
			want(t, "deleted", f.Deleted, false)
		}},
		{"cdevents-ref-updated.change-meta", func(t *testing.T, f event.Fields) {
			want(t, "kind", f.Kind, event.KindOther)
			want(t, "ref", f.Ref, "refs/changes/01/1/meta")
		}},
		{"cdevents-ref-updated.meta-config", func(t *testing.T, f event.Fields) {
			want(t, "kind", f.Kind, event.KindOther)
			want(t, "ref", f.Ref, "refs/meta/config")
		}},
		{"cdevents-batch-ref-updated.derived", func(t *testing.T, f event.Fields) {
			want(t, "kind", f.Kind, event.KindPush)
			want(t, "ref (first branch update)", f.Ref, "refs/heads/test_branch")
		}},
		{"cdevents-project-created", func(t *testing.T, f event.Fields) {
			want(t, "kind", f.Kind, event.KindOther)
			want(t, "action", f.Action, "created")
			want(t, "repository.full_name", f.Repository.FullName, "TestRepo3")
			want(t, "repository.default_branch", f.Repository.DefaultBranch, "master")
		}},
		{"cdevents-project-head-updated", func(t *testing.T, f event.Fields) {
			want(t, "action", f.Action, "head_updated")
			want(t, "repository.default_branch", f.Repository.DefaultBranch, "main")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			fx := loadFixture(t, tt.fixture)
			m, err := p.InspectBody(fx.Header, fx.Body)
			if err != nil {
				t.Fatal(err)
			}
			want(t, "delivery", m.Delivery, "")
			want(t, "dedup key (ingest hashes the body)", m.DedupKey, "")
			f, err := p.Normalize(m, fx.Body)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			want(t, "forge", f.Forge, "gerrit")
			tt.check(t, f)
		})
	}
}

// TestGerritEventKinds maps every event of Gerrit's EventTypes (and the
// plugin-era ones) to its kind and action, on a payload with a change.
func TestGerritEventKinds(t *testing.T) {
	p := newProvider(t)
	const withChange = `{"change":{"project":"p","number":5},"patchSet":{"number":2}}`
	tests := []struct {
		events []string
		kind   event.Kind
		action string
	}{
		{[]string{"patchset-created"}, event.KindPullRequest, "updated"},
		{[]string{"change-merged"}, event.KindPullRequest, "merged"},
		{[]string{"change-abandoned", "change-deleted"}, event.KindPullRequest, "closed"},
		{[]string{"change-restored", "wip-state-changed"}, event.KindPullRequest, "opened"},
		{[]string{"reviewer-added"}, event.KindPullRequest, "review_requested"},
		{[]string{"reviewer-deleted"}, event.KindPullRequest, "review_request_removed"},
		{[]string{"vote-deleted"}, event.KindPullRequest, "vote_deleted"},
		{[]string{"topic-changed", "hashtags-changed", "private-state-changed", "assignee-changed"}, event.KindPullRequest, "edited"},
		{[]string{"comment-added"}, event.KindComment, "created"},
		{[]string{"ref-updated", "batch-ref-updated"}, event.KindOther, ""}, // no ref update
		{[]string{"project-created"}, event.KindOther, "created"},
		{[]string{"project-head-updated"}, event.KindOther, "head_updated"},
		{[]string{"ref-replicated", "custom-keyed-values-changed", "dropped-output", ""}, event.KindOther, ""},
	}
	for _, tt := range tests {
		for _, ev := range tt.events {
			f, err := p.Normalize(forge.Meta{Event: ev}, []byte(withChange))
			if err != nil {
				t.Errorf("Normalize(%q) = %v", ev, err)
				continue
			}
			if f.Kind != tt.kind || f.Action != tt.action || f.Forge != "gerrit" {
				t.Errorf("Normalize(%q) = kind %q action %q forge %q, want %q %q gerrit", ev, f.Kind, f.Action, f.Forge, tt.kind, tt.action)
			}
		}
	}
}

// TestGerritReviewVotes pins when a comment is a review.
func TestGerritReviewVotes(t *testing.T) {
	p := newProvider(t)
	tests := []struct {
		approvals string
		kind      event.Kind
		action    string
	}{
		{`[{"type":"Code-Review","value":"2","oldValue":"0"}]`, event.KindPullRequest, "approved"},
		{`[{"type":"Code-Review","value":"2","oldValue":"1"}]`, event.KindPullRequest, "approved"},
		{`[{"type":"CRVW","value":"2","oldValue":"0"}]`, event.KindPullRequest, "approved"},
		{`[{"type":"Code-Review","value":2,"oldValue":0}]`, event.KindPullRequest, "approved"},
		{`[{"type":"Code-Review","value":"+2","oldValue":"0"}]`, event.KindPullRequest, "approved"},
		{`[{"type":"Code-Review","value":"-2","oldValue":"0"}]`, event.KindPullRequest, "changes_requested"},
		{`[{"type":"Code-Review","value":"2"}]`, event.KindComment, "created"},                  // vote unchanged
		{`[{"type":"Code-Review","value":"2","oldValue":"2"}]`, event.KindComment, "created"},   // vote unchanged
		{`[{"type":"Code-Review","value":"1","oldValue":"0"}]`, event.KindComment, "created"},   // +1 is no approval
		{`[{"type":"Code-Review","value":"-1","oldValue":"0"}]`, event.KindComment, "created"},  // -1 blocks nothing
		{`[{"type":"Verified","value":"1","oldValue":"0"}]`, event.KindComment, "created"},      // CI's vote
		{`[{"type":"Code-Review","value":"0","oldValue":"2"}]`, event.KindComment, "created"},   // approval withdrawn
		{`[{"type":"Code-Review","value":"two","oldValue":"0"}]`, event.KindComment, "created"}, // garbage
		{`[]`, event.KindComment, "created"},
	}
	for _, tt := range tests {
		payload := `{"type":"comment-added","change":{"project":"p","number":1},"approvals":` + tt.approvals + `}`
		f, err := p.Normalize(forge.Meta{Event: "comment-added"}, []byte(payload))
		if err != nil {
			t.Errorf("Normalize(%s) = %v", tt.approvals, err)
			continue
		}
		if f.Kind != tt.kind || f.Action != tt.action {
			t.Errorf("approvals %s: kind %q action %q, want %q %q", tt.approvals, f.Kind, f.Action, tt.kind, tt.action)
		}
	}
}

func TestGerritNormalizeShapes(t *testing.T) {
	p := newProvider(t)
	tests := []struct {
		name    string
		event   string
		payload string
		check   func(t *testing.T, f event.Fields)
	}{
		{"short branch name (old Gerrit)", "ref-updated", `{"refUpdate":{"oldRev":"a","newRev":"b","refName":"master","project":"p"}}`, func(t *testing.T, f event.Fields) {
			want(t, "ref", f.Ref, "refs/heads/master")
			want(t, "kind", f.Kind, event.KindPush)
		}},
		{"project as a name key", "ref-updated", `{"refUpdate":{"refName":"refs/heads/x","project":{"name":"a/b/c"}}}`, func(t *testing.T, f event.Fields) {
			want(t, "repository.full_name", f.Repository.FullName, "a/b/c")
			want(t, "repository.owner", f.Repository.Owner, "a/b")
			want(t, "repository.name", f.Repository.Name, "c")
		}},
		{"project at the top", "ref-updated", `{"refUpdate":{"refName":"refs/heads/x"},"project":"top"}`, func(t *testing.T, f event.Fields) {
			want(t, "repository.full_name", f.Repository.FullName, "top")
		}},
		{"numbers as strings (old Gerrit)", "patchset-created", `{"change":{"project":"p","number":"48922"},"patchSet":{"number":"1"}}`, func(t *testing.T, f event.Fields) {
			want(t, "pull_request.number", f.PullRequest.Number, int64(48922))
			want(t, "action", f.Action, "opened")
		}},
		{"patch set uploader when no event uploader", "patchset-created", `{"change":{"number":1},"patchSet":{"number":1,"uploader":{"username":"u"}}}`, func(t *testing.T, f event.Fields) {
			want(t, "actor.login", f.Actor.Login, "u")
		}},
		{"change entering work in progress", "wip-state-changed", `{"change":{"number":1,"wip":true},"changer":{"username":"c"}}`, func(t *testing.T, f event.Fields) {
			want(t, "action", f.Action, "converted_to_draft")
			want(t, "actor.login", f.Actor.Login, "c")
		}},
		{"hashtags editor", "hashtags-changed", `{"change":{"number":1},"editor":{"username":"e"}}`, func(t *testing.T, f event.Fields) {
			want(t, "actor.login", f.Actor.Login, "e")
		}},
		{"batch: a tag after a change ref", "batch-ref-updated", `{"refUpdates":[{"refName":"refs/changes/01/1/1","newRev":"a"},{"refName":"refs/tags/v1","oldRev":"0000","newRev":"b"}]}`, func(t *testing.T, f event.Fields) {
			want(t, "kind", f.Kind, event.KindTag)
			want(t, "ref", f.Ref, "refs/tags/v1")
			want(t, "action", f.Action, "created")
		}},
		{"batch: change refs only", "batch-ref-updated", `{"refUpdates":[{"refName":"refs/changes/01/1/1"},{"refName":"refs/changes/01/1/meta"}]}`, func(t *testing.T, f event.Fields) {
			want(t, "kind", f.Kind, event.KindOther)
			want(t, "ref", f.Ref, "refs/changes/01/1/1")
		}},
		{"deleted tag", "ref-updated", `{"refUpdate":{"refName":"refs/tags/v1","oldRev":"abc","newRev":"0000000000000000000000000000000000000000"}}`, func(t *testing.T, f event.Fields) {
			want(t, "kind", f.Kind, event.KindTag)
			want(t, "deleted", f.Deleted, true)
		}},
		{"deleted change ref is no deletion", "ref-updated", `{"refUpdate":{"refName":"refs/changes/01/1/1","newRev":"0000000000000000000000000000000000000000"}}`, func(t *testing.T, f event.Fields) {
			want(t, "kind", f.Kind, event.KindOther)
			want(t, "deleted", f.Deleted, false)
		}},
		{"mistyped members ignored", "patchset-created", `{"change":{"project":["x"],"number":{},"subject":1},"patchSet":{"number":true}}`, func(t *testing.T, f event.Fields) {
			want(t, "pull_request.number", f.PullRequest.Number, int64(0))
			want(t, "kind", f.Kind, event.KindPullRequest)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := p.Normalize(forge.Meta{Event: tt.event}, []byte(tt.payload))
			if err != nil {
				t.Fatalf("Normalize = %v", err)
			}
			tt.check(t, f)
		})
	}
}

func TestGerritNormalizeBadPayload(t *testing.T) {
	p := newProvider(t)
	for _, body := range []string{``, `   `, `{`, `null`, `[]`, `"ref-updated"`, `42`, `{"a":1}x`, "\xff"} {
		_, err := p.Normalize(forge.Meta{Event: "ref-updated"}, []byte(body))
		if !errors.Is(err, forge.ErrBadPayload) {
			t.Errorf("Normalize(%q) = %v, want ErrBadPayload", body, err)
		}
	}
}

func BenchmarkNormalizeGerrit(b *testing.B) {
	fx := loadFixture(b, "cdevents-comment-added.code-review-2")
	p := newProvider(b)
	m, err := p.InspectBody(fx.Header, fx.Body)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(fx.Body)))
	for b.Loop() {
		if _, err := p.Normalize(m, fx.Body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkInspectBodyGerrit(b *testing.B) {
	fx := loadFixture(b, "cdevents-comment-added.code-review-2")
	p := newProvider(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(fx.Body)))
	for b.Loop() {
		if _, err := p.InspectBody(fx.Header, fx.Body); err != nil {
			b.Fatal(err)
		}
	}
}
