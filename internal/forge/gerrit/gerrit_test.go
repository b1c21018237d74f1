package gerrit_test

import (
	"errors"
	"net/http"
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
	return forgetest.New[*gerrit.Provider](t, gerrit.New, &config.Endpoint{Name: "review", Provider: "gerrit"})
}

func TestGerritConformance(t *testing.T) {
	forgetest.Run(t, newProvider(t), forgetest.Options{BodySigned: false, MinFixtures: 19})
}

func TestGerritNew(t *testing.T) {
	p, err := gerrit.New(nil)
	if err != nil {
		t.Fatalf("New(nil) = %v", err)
	}
	forgetest.Want(t, "Name()", p.Name(), "gerrit")
}

func TestGerritInspect(t *testing.T) {
	fx := forgetest.LoadFixture(t, "cdevents-change-merged")
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
				forgetest.Want(t, "status", ingest.StatusOf(err), http.StatusBadRequest)
			}
			forgetest.Want(t, "Meta", got, tt.want)
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
		{"basic", req(forgetest.Basic(userpass)), []config.Secret{userpass}, nil},
		{"rotation", req(forgetest.Basic(userpass)), []config.Secret{"gerrit-hook:new", userpass}, nil},
		{"missing (X-Origin-Url is no credential)", req(), []config.Secret{userpass}, verify.ErrMissingSignature},
		{"empty", req(""), []config.Secret{userpass}, verify.ErrMissingSignature},
		{"bearer is not basic", req("Bearer " + userpass), []config.Secret{userpass}, verify.ErrMissingSignature},
		{"wrong password", req(forgetest.Basic("gerrit-hook:guess")), []config.Secret{userpass}, verify.ErrBadSignature},
		{"wrong user", req(forgetest.Basic("admin:tr0ub4dor&3")), []config.Secret{userpass}, verify.ErrBadSignature},
		{"bad base64", req("Basic ###"), []config.Secret{userpass}, verify.ErrBadSignature},
		{"credentials in clear", req("Basic " + userpass), []config.Secret{userpass}, verify.ErrBadSignature},
		{"no secrets", req(forgetest.Basic(userpass)), nil, verify.ErrNoSecret},
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
			forgetest.Want(t, "status", ingest.StatusOf(err), http.StatusUnauthorized)
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
	forgetest.Want(t, "Authorization", h.Get("Authorization"), r.Header.Get("Authorization"))
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
			forgetest.Want(t, "kind", f.Kind, event.KindPullRequest)
			forgetest.Want(t, "action", f.Action, "opened")
			forgetest.Want(t, "forgeaction", f.ForgeAction, "REWORK")
			forgetest.Want(t, "pull_request.number", f.PullRequest.Number, int64(2))
			forgetest.Want(t, "pull_request.title", f.PullRequest.Title, "test.file added")
			forgetest.Want(t, "pull_request.state", f.PullRequest.State, "NEW")
			forgetest.Want(t, "pull_request.source_branch", f.PullRequest.SourceBranch, "refs/changes/02/2/1")
			forgetest.Want(t, "pull_request.target_branch", f.PullRequest.TargetBranch, "patch_create")
			forgetest.Want(t, "pull_request.url", f.PullRequest.URL, "http://959be7129610/c/TestRepo1/+/2")
			forgetest.Want(t, "pull_request.merged", f.PullRequest.Merged, false)
			forgetest.Want(t, "after", f.After, "b59138869113bfd9d3e7fbf9439d74e1ae6c54b8")
			forgetest.Want(t, "ref", f.Ref, "")
			forgetest.Want(t, "repository.full_name", f.Repository.FullName, "TestRepo1")
			forgetest.Want(t, "repository.name", f.Repository.Name, "TestRepo1")
			forgetest.Want(t, "repository.owner", f.Repository.Owner, "")
			forgetest.Want(t, "actor.login", f.Actor.Login, "admin")
			forgetest.Want(t, "actor.name", f.Actor.Name, "Administrator")
			forgetest.Want(t, "actor.email", f.Actor.Email, "admin@example.com")
		}},
		{"cdevents-patchset-created.second", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "action", f.Action, "updated")
			forgetest.Want(t, "pull_request.source_branch", f.PullRequest.SourceBranch, "refs/changes/02/2/2")
		}},
		{"cdevents-comment-added.code-review-2", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPullRequest)
			forgetest.Want(t, "action", f.Action, "approved")
			forgetest.Want(t, "pull_request.number", f.PullRequest.Number, int64(1))
		}},
		{"cdevents-comment-added.comment-only.derived", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindComment)
			forgetest.Want(t, "action", f.Action, "created")
			forgetest.Want(t, "pull_request.number", f.PullRequest.Number, int64(1))
		}},
		{"gerritbot-comment-added.code-review-2", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPullRequest)
			forgetest.Want(t, "action", f.Action, "approved")
			forgetest.Want(t, "repository.full_name", f.Repository.FullName, "gerritbot-rs")
		}},
		{"gerritbot-reviewer-added", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPullRequest)
			forgetest.Want(t, "action", f.Action, "review_requested")
			forgetest.Want(t, "actor (this Gerrit 2.x names no adder)", f.Actor, event.Person{})
		}},
		{"cdevents-change-merged", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "action", f.Action, "merged")
			forgetest.Want(t, "pull_request.merged", f.PullRequest.Merged, true)
			forgetest.Want(t, "pull_request.state", f.PullRequest.State, "MERGED")
			forgetest.Want(t, "after (newRev)", f.After, "4c688da535ea3352536e3b320880aa353bd404b2")
		}},
		{"cdevents-change-abandoned", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "action", f.Action, "closed")
			forgetest.Want(t, "pull_request.merged", f.PullRequest.Merged, false)
			forgetest.Want(t, "actor.login", f.Actor.Login, "admin")
		}},
		{"cdevents-change-restored.derived", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "action", f.Action, "opened")
			forgetest.Want(t, "actor.login", f.Actor.Login, "admin")
		}},
		{"cdevents-wip-state-changed.ready.derived", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "action", f.Action, "opened")
			forgetest.Want(t, "actor.login", f.Actor.Login, "admin")
		}},
		{"cdevents-ref-updated.branch-created", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPush)
			forgetest.Want(t, "ref", f.Ref, "refs/heads/test_branch")
			forgetest.Want(t, "branch", f.Branch, "test_branch")
			forgetest.Want(t, "action", f.Action, "created")
			forgetest.Want(t, "before", f.Before, event.ZeroSHA1)
			forgetest.Want(t, "after", f.After, "0c8c548ca93b44dd501c000ebb79ecc8f9aa4bd6")
			forgetest.Want(t, "deleted", f.Deleted, false)
			forgetest.Want(t, "repository.full_name (project)", f.Repository.FullName, "TestRepo")
			forgetest.Want(t, "commits is [] not null", f.Commits != nil && len(f.Commits) == 0, true)
		}},
		{"cdevents-ref-updated.branch-deleted", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPush)
			forgetest.Want(t, "deleted", f.Deleted, true)
			forgetest.Want(t, "action", f.Action, "deleted")
		}},
		{"cdevents-ref-updated.tag-created.derived", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindTag)
			forgetest.Want(t, "tag", f.Tag, "v1.0")
			forgetest.Want(t, "branch", f.Branch, "")
		}},
		{"cdevents-ref-updated.change-ref", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindOther)
			forgetest.Want(t, "ref", f.Ref, "refs/changes/02/2/1")
			forgetest.Want(t, "action", f.Action, "")
			forgetest.Want(t, "deleted", f.Deleted, false)
		}},
		{"cdevents-ref-updated.change-meta", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindOther)
			forgetest.Want(t, "ref", f.Ref, "refs/changes/01/1/meta")
		}},
		{"cdevents-ref-updated.meta-config", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindOther)
			forgetest.Want(t, "ref", f.Ref, "refs/meta/config")
		}},
		{"cdevents-batch-ref-updated.derived", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPush)
			forgetest.Want(t, "ref (first branch update)", f.Ref, "refs/heads/test_branch")
		}},
		{"cdevents-project-created", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindOther)
			forgetest.Want(t, "action", f.Action, "created")
			forgetest.Want(t, "repository.full_name", f.Repository.FullName, "TestRepo3")
			forgetest.Want(t, "repository.default_branch", f.Repository.DefaultBranch, "master")
		}},
		{"cdevents-project-head-updated", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "action", f.Action, "head_updated")
			forgetest.Want(t, "repository.default_branch", f.Repository.DefaultBranch, "main")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			fx := forgetest.LoadFixture(t, tt.fixture)
			m, err := p.InspectBody(fx.Header, fx.Body)
			if err != nil {
				t.Fatal(err)
			}
			forgetest.Want(t, "delivery", m.Delivery, "")
			forgetest.Want(t, "dedup key (ingest hashes the body)", m.DedupKey, "")
			f, err := p.Normalize(m, fx.Body)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			forgetest.Want(t, "forge", f.Forge, "gerrit")
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
			forgetest.Want(t, "ref", f.Ref, "refs/heads/master")
			forgetest.Want(t, "kind", f.Kind, event.KindPush)
		}},
		{"project as a name key", "ref-updated", `{"refUpdate":{"refName":"refs/heads/x","project":{"name":"a/b/c"}}}`, func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "repository.full_name", f.Repository.FullName, "a/b/c")
			forgetest.Want(t, "repository.owner", f.Repository.Owner, "a/b")
			forgetest.Want(t, "repository.name", f.Repository.Name, "c")
		}},
		{"project at the top", "ref-updated", `{"refUpdate":{"refName":"refs/heads/x"},"project":"top"}`, func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "repository.full_name", f.Repository.FullName, "top")
		}},
		{"numbers as strings (old Gerrit)", "patchset-created", `{"change":{"project":"p","number":"48922"},"patchSet":{"number":"1"}}`, func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "pull_request.number", f.PullRequest.Number, int64(48922))
			forgetest.Want(t, "action", f.Action, "opened")
		}},
		{"patch set uploader when no event uploader", "patchset-created", `{"change":{"number":1},"patchSet":{"number":1,"uploader":{"username":"u"}}}`, func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "actor.login", f.Actor.Login, "u")
		}},
		{"change entering work in progress", "wip-state-changed", `{"change":{"number":1,"wip":true},"changer":{"username":"c"}}`, func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "action", f.Action, "converted_to_draft")
			forgetest.Want(t, "actor.login", f.Actor.Login, "c")
		}},
		{"hashtags editor", "hashtags-changed", `{"change":{"number":1},"editor":{"username":"e"}}`, func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "actor.login", f.Actor.Login, "e")
		}},
		{"batch: a tag after a change ref", "batch-ref-updated", `{"refUpdates":[{"refName":"refs/changes/01/1/1","newRev":"a"},{"refName":"refs/tags/v1","oldRev":"0000","newRev":"b"}]}`, func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindTag)
			forgetest.Want(t, "ref", f.Ref, "refs/tags/v1")
			forgetest.Want(t, "action", f.Action, "created")
		}},
		{"batch: change refs only", "batch-ref-updated", `{"refUpdates":[{"refName":"refs/changes/01/1/1"},{"refName":"refs/changes/01/1/meta"}]}`, func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindOther)
			forgetest.Want(t, "ref", f.Ref, "refs/changes/01/1/1")
		}},
		{"deleted tag", "ref-updated", `{"refUpdate":{"refName":"refs/tags/v1","oldRev":"abc","newRev":"0000000000000000000000000000000000000000"}}`, func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindTag)
			forgetest.Want(t, "deleted", f.Deleted, true)
		}},
		{"deleted change ref is no deletion", "ref-updated", `{"refUpdate":{"refName":"refs/changes/01/1/1","newRev":"0000000000000000000000000000000000000000"}}`, func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindOther)
			forgetest.Want(t, "deleted", f.Deleted, false)
		}},
		{"mistyped members ignored", "patchset-created", `{"change":{"project":["x"],"number":{},"subject":1},"patchSet":{"number":true}}`, func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "pull_request.number", f.PullRequest.Number, int64(0))
			forgetest.Want(t, "kind", f.Kind, event.KindPullRequest)
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
	forgetest.BenchNormalize(b, newProvider(b), "cdevents-comment-added.code-review-2")
}

func BenchmarkInspectBodyGerrit(b *testing.B) {
	forgetest.BenchInspectBody(b, newProvider(b), "cdevents-comment-added.code-review-2")
}

// TestGerritNormalizeRecord checks the fields issue 13 added.
func TestGerritNormalizeRecord(t *testing.T) {
	p := newProvider(t)
	fixture := func(name string) event.Fields {
		t.Helper()
		// The event type is the body's.
		f, err := p.Normalize(forge.Meta{}, forgetest.LoadFixture(t, name).MustPayload(t))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	f := fixture("cdevents-comment-added.comment-only.derived")
	if f.Comment.On != event.CommentOnChange || f.Comment.Number != 1 || f.Comment.Body == "" {
		t.Errorf("comment %+v", f.Comment)
	}
	f = fixture("cdevents-patchset-created.first")
	pr := f.PullRequest
	if pr.HeadSHA == "" || pr.BaseSHA != "b8112960b06810405b3e8ce6c8560ee93694700f" || pr.Author.Login != "admin" || pr.SourceRepository != f.Repository {
		t.Errorf("pull request %+v", pr)
	}
}
