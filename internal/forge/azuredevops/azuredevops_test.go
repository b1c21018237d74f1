package azuredevops_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/ingest"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/azuredevops"
	"github.com/forgehook/forgehook/internal/forge/forgetest"
	"github.com/forgehook/forgehook/internal/verify"
)

func newProvider(t testing.TB) *azuredevops.Provider {
	return forgetest.New[*azuredevops.Provider](t, azuredevops.New, &config.Endpoint{Name: "ado", Provider: "azure-devops"})
}

func TestAzureDevOpsConformance(t *testing.T) {
	forgetest.Run(t, newProvider(t), forgetest.Options{BodySigned: false, MinFixtures: 28})
}

func TestAzureDevOpsNew(t *testing.T) {
	p, err := azuredevops.New(nil)
	if err != nil {
		t.Fatalf("New(nil) = %v", err)
	}
	forgetest.Want(t, "Name()", p.Name(), "azure-devops")
}

func TestAzureDevOpsInspect(t *testing.T) {
	fx := forgetest.LoadFixture(t, "tingle-git.push-3")
	if _, err := newProvider(t).Inspect(fx.Header); !errors.Is(err, forge.ErrNotRecognized) {
		t.Fatalf("Inspect(headers) = %v, want ErrNotRecognized: Azure DevOps sends no event header", err)
	}
}

func TestAzureDevOpsInspectBody(t *testing.T) {
	p := newProvider(t)
	tests := []struct {
		name    string
		payload string
		want    forge.Meta
		wantErr error
	}{
		{"event", `{"id":"e1","eventType":"git.push","publisherId":"tfs"}`, forge.Meta{Event: "git.push", Delivery: "e1", DedupKey: "e1"}, nil},
		{"no id: the body hash dedups", `{"eventType":"build.complete","publisherId":"tfs"}`, forge.Meta{Event: "build.complete"}, nil},
		{"unknown event", `{"id":"e2","eventType":"ms.vss-future.thing","publisherId":"x"}`, forge.Meta{Event: "ms.vss-future.thing", Delivery: "e2", DedupKey: "e2"}, nil},
		{"byte order mark", "\xef\xbb\xbf{\"id\":\"e3\",\"eventType\":\"git.push\",\"publisherId\":\"tfs\"}", forge.Meta{Event: "git.push", Delivery: "e3", DedupKey: "e3"}, nil},
		{"sample collection: the Test button", `{"id":"e4","eventType":"git.push","publisherId":"tfs","resourceContainers":{"collection":{"id":"c12d0eb8-e382-443b-9f9c-c52cba5014c2"}}}`,
			forge.Meta{Event: "git.push", Delivery: "e4", DedupKey: "e4", Ping: true}, nil},
		{"sample account", `{"id":"e5","eventType":"git.push","publisherId":"tfs","resourceContainers":{"account":{"id":"f844ec47-a9db-4511-8281-8b63f4eaf94e"}}}`,
			forge.Meta{Event: "git.push", Delivery: "e5", DedupKey: "e5", Ping: true}, nil},
		{"real collection", `{"id":"e6","eventType":"git.push","publisherId":"tfs","resourceContainers":{"collection":{"id":"3fba1bb9-6e8c-4087-b435-29157f94e9a1"}}}`,
			forge.Meta{Event: "git.push", Delivery: "e6", DedupKey: "e6"}, nil},
		{"id not a string", `{"id":7,"eventType":"git.push","publisherId":"tfs"}`, forge.Meta{Event: "git.push"}, nil},
		{"empty object", `{}`, forge.Meta{}, forge.ErrNotRecognized},
		{"no publisherId", `{"id":"e1","eventType":"git.push"}`, forge.Meta{}, forge.ErrNotRecognized},
		{"no eventType", `{"id":"e1","publisherId":"tfs"}`, forge.Meta{}, forge.ErrNotRecognized},
		{"empty eventType", `{"eventType":"","publisherId":"tfs"}`, forge.Meta{}, forge.ErrNotRecognized},
		{"eventType not a string", `{"eventType":["git.push"],"publisherId":"tfs"}`, forge.Meta{}, forge.ErrNotRecognized},
		{"subscription (not a delivery) has both, as strings", `{"publisherId":"tfs","eventType":"git.push","consumerId":"webHooks"}`, forge.Meta{Event: "git.push"}, nil},
		{"array", `[{"eventType":"git.push","publisherId":"tfs"}]`, forge.Meta{}, forge.ErrNotRecognized},
		{"truncated", `{"eventType":"git.push","publisherId":"tfs"`, forge.Meta{}, forge.ErrNotRecognized},
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

// TestAzureDevOpsInspectBodyRejectsOtherForges checks that no delivery of
// another forge is taken for Azure DevOps': auto-detection relies on it.
func TestAzureDevOpsInspectBodyRejectsOtherForges(t *testing.T) {
	forgetest.RejectsOtherForges(t, newProvider(t), "azuredevops")
}

// TestAzureDevOpsTestDeliveries checks which fixtures are the Test button's
// sample payloads (pings) and which are real deliveries.
func TestAzureDevOpsTestDeliveries(t *testing.T) {
	p := newProvider(t)
	pings := map[string]bool{
		"docs-ms.vss-pipelines.run-state-changed-event":  true,
		"docs-ms.vss-release.deployment-completed-event": true,
		"gp-git.push":                                     true,
		"tingle-git-pullrequest-comment-event-1":          true,
		"aspnet-workitem.updated":                         true,
		"aspnet-git.push":                                 false, // a TFS capture, anonymized
		"tingle-git.push-3":                               false,
		"tingle-git-pullrequest-comment-event-2":          false,
		"zulip-git.push.branch-deleted":                   false,
		"zulip-git.pullrequest.updated.source-branch":     false,
		"aspnet-git.pullrequest.created":                  false, // no resource containers
		"docs-ms.vss-pipelines.job-state-changed-event":   true,
		"tingle-git.pullrequest.merged-2":                 false,
		"docs-ms.vss-release.release-created-event":       true,
		"tingle-git.push-3.tag-created.derived":           false,
		"docs-ms.vss-pipelines.stage-state-changed-event": true,
	}
	for name, ping := range pings {
		fx := forgetest.LoadFixture(t, name)
		m, err := p.InspectBody(fx.Header, fx.Body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if m.Ping != ping {
			t.Errorf("%s: ping = %v, want %v", name, m.Ping, ping)
		}
	}
}

func TestAzureDevOpsVerify(t *testing.T) {
	p := newProvider(t)
	const userpass = "ado-hook:Zq8-r2v!x"
	req := func(auth ...string) *forge.Request {
		h := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
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
		{"basic, scheme in lower case", req("basic " + base64.StdEncoding.EncodeToString([]byte(userpass))), []config.Secret{userpass}, nil},
		{"basic, empty user name", req(forgetest.Basic(":only-a-password")), []config.Secret{":only-a-password"}, nil},
		{"basic, rotation", req(forgetest.Basic(userpass)), []config.Secret{"ado-hook:new", userpass}, nil},
		{"custom header value, whole", req("Bearer gw-7d1"), []config.Secret{"Bearer gw-7d1"}, nil},
		{"custom header value, bearer token", req("Bearer gw-7d1"), []config.Secret{"gw-7d1"}, nil},
		{"custom header value, bare", req("gw-7d1"), []config.Secret{"gw-7d1"}, nil},
		{"missing", req(), []config.Secret{userpass}, verify.ErrMissingSignature},
		{"empty", req(""), []config.Secret{userpass}, verify.ErrMissingSignature},
		{"basic, wrong password", req(forgetest.Basic("ado-hook:guess")), []config.Secret{userpass}, verify.ErrBadSignature},
		{"basic, wrong user", req(forgetest.Basic("root:Zq8-r2v!x")), []config.Secret{userpass}, verify.ErrBadSignature},
		{"basic, password only", req(forgetest.Basic("Zq8-r2v!x")), []config.Secret{userpass}, verify.ErrBadSignature},
		{"basic, bad base64", req("Basic %%%"), []config.Secret{userpass}, verify.ErrBadSignature},
		{"credentials in clear", req("Basic " + userpass), []config.Secret{userpass}, verify.ErrBadSignature},
		{"scheme only", req("Basic"), []config.Secret{userpass}, verify.ErrBadSignature},
		{"wrong bearer token", req("Bearer nope"), []config.Secret{"gw-7d1"}, verify.ErrBadSignature},
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
			if !strings.HasPrefix(err.Error(), "azure-devops: verify Authorization") {
				t.Errorf("Verify error %q lacks the azure-devops: verify context", err)
			}
			if strings.Contains(err.Error(), "Zq8") || strings.Contains(err.Error(), "gw-7d1") {
				t.Errorf("Verify error %q contains the secret", err)
			}
		})
	}
}

func TestAzureDevOpsSign(t *testing.T) {
	p := newProvider(t)
	for secret, header := range map[string]string{
		"ado-hook:Zq8-r2v!x": "Basic YWRvLWhvb2s6WnE4LXIydiF4",
		"gw-7d1":             "gw-7d1",
		"Bearer gw-7d1":      "Bearer gw-7d1",
	} {
		h := http.Header{}
		p.Sign(h, []byte(`{}`), secret, time.Time{})
		forgetest.Want(t, "Authorization for "+secret, h.Get("Authorization"), header)
		if err := p.Verify(&forge.Request{Header: h}, []config.Secret{config.Secret(secret)}); err != nil {
			t.Errorf("Verify(Sign(%q)) = %v", secret, err)
		}
	}
}

// TestAzureDevOpsNormalizeCases pins the mapping on the fixtures, so that a
// wrong golden cannot hide it.
func TestAzureDevOpsNormalizeCases(t *testing.T) {
	p := newProvider(t)
	tests := []struct {
		fixture string
		check   func(t *testing.T, m forge.Meta, f event.Fields)
	}{
		{"tingle-git.push-3", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "event", m.Event, "git.push")
			forgetest.Want(t, "delivery", m.Delivery, "56e81d32-b0e8-44e2-a92a-55eb7b6ccdce")
			forgetest.Want(t, "dedup key", m.DedupKey, "56e81d32-b0e8-44e2-a92a-55eb7b6ccdce")
			forgetest.Want(t, "kind", f.Kind, event.KindPush)
			forgetest.Want(t, "action", f.Action, "")
			forgetest.Want(t, "ref", f.Ref, "refs/heads/main")
			forgetest.Want(t, "branch", f.Branch, "main")
			forgetest.Want(t, "before", f.Before, "dd6ba920a4b4243162033737c0a1abbd937f4c40")
			forgetest.Want(t, "after", f.After, "b8a410b1b75ecb203fb5dda54adce2f9d2c87a27")
			forgetest.Want(t, "deleted", f.Deleted, false)
			forgetest.Want(t, "repository.full_name", f.Repository.FullName, "Core/dependabot-sample")
			forgetest.Want(t, "repository.name", f.Repository.Name, "dependabot-sample")
			forgetest.Want(t, "repository.owner", f.Repository.Owner, "Core")
			forgetest.Want(t, "repository.url", f.Repository.URL, "https://dev.azure.com/dependabot/Core/_git/dependabot-sample")
			forgetest.Want(t, "repository.clone_url", f.Repository.CloneURL, "https://dev.azure.com/dependabot/Core/_git/dependabot-sample")
			forgetest.Want(t, "repository.default_branch", f.Repository.DefaultBranch, "main")
			forgetest.Want(t, "len(commits)", len(f.Commits), 2)
			forgetest.Want(t, "commits[0].id", f.Commits[0].ID, "b8a410b1b75ecb203fb5dda54adce2f9d2c87a27")
			forgetest.Want(t, "commits[0].message", f.Commits[0].Message, "Added models for events from AzureDevOps on git.push")
			forgetest.Want(t, "commits[0].author.email", f.Commits[0].Author.Email, "mburumaxwell@gmail.com")
			forgetest.Want(t, "commits[0].timestamp", f.Commits[0].Timestamp, "2020-12-23T05:46:01Z")
			forgetest.Want(t, "actor.login", f.Actor.Login, "example@contoso.com")
			forgetest.Want(t, "actor.name", f.Actor.Name, "Maxwell Weru")
			forgetest.Want(t, "actor.email", f.Actor.Email, "example@contoso.com")
		}},
		{"zulip-git.push.branch-deleted", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPush)
			forgetest.Want(t, "branch", f.Branch, "dev")
			forgetest.Want(t, "deleted", f.Deleted, true)
			forgetest.Want(t, "action", f.Action, "deleted")
			forgetest.Want(t, "after", f.After, event.ZeroSHA1)
			forgetest.Want(t, "commits is [] not null", f.Commits != nil && len(f.Commits) == 0, true)
		}},
		{"tingle-git.push-3.tag-created.derived", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindTag)
			forgetest.Want(t, "tag", f.Tag, "v1.2.0")
			forgetest.Want(t, "branch", f.Branch, "")
			forgetest.Want(t, "action", f.Action, "created")
		}},
		{"aspnet-git.push", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "actor.login (TFS account name)", f.Actor.Login, "jsmith")
			forgetest.Want(t, "actor.email", f.Actor.Email, "")
			forgetest.Want(t, "repository.url (remoteUrl)", f.Repository.URL, "https://good-company.some.ssl.host/tfs/GoodCompany/_git/Project")
		}},
		{"aspnet-git.pullrequest.created", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPullRequest)
			forgetest.Want(t, "action", f.Action, "opened")
			forgetest.Want(t, "pull_request.number", f.PullRequest.Number, int64(1))
			forgetest.Want(t, "pull_request.title", f.PullRequest.Title, "my first pull request")
			forgetest.Want(t, "pull_request.state", f.PullRequest.State, "active")
			forgetest.Want(t, "pull_request.source_branch", f.PullRequest.SourceBranch, "mytopic")
			forgetest.Want(t, "pull_request.target_branch", f.PullRequest.TargetBranch, "master")
			forgetest.Want(t, "pull_request.merged", f.PullRequest.Merged, false)
			forgetest.Want(t, "actor.name", f.Actor.Name, "Jamal Hartnett")
		}},
		{"gp-git.pullrequest.created", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "pull_request.url (built from the repository)", f.PullRequest.URL, "https://dev.azure.com/fabrikam/DefaultCollection/_git/Fabrikam/pullrequest/1")
			forgetest.Want(t, "repository.full_name", f.Repository.FullName, "Fabrikam/Fabrikam")
		}},
		{"zulip-git.pullrequest.updated.source-branch", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "action", f.Action, "updated")
			forgetest.Want(t, "pull_request.url", f.PullRequest.URL, "https://dev.azure.com/ttchong/test-zulip/_git/test-zulip/pullrequest/2")
			forgetest.Want(t, "repository.url (webUrl)", f.Repository.URL, "https://dev.azure.com/ttchong/test-zulip/_git/test-zulip")
			forgetest.Want(t, "repository.clone_url", f.Repository.CloneURL, "https://ttchong@dev.azure.com/ttchong/test-zulip/_git/test-zulip")
		}},
		{"aspnet-git.pullrequest.updated", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "action (status completed)", f.Action, "merged")
			forgetest.Want(t, "pull_request.merged", f.PullRequest.Merged, true)
		}},
		{"tingle-git.pullrequest.merged-2", func(t *testing.T, m forge.Meta, f event.Fields) {
			// Issue 13: a completion sends this beside the updated event
			// with status completed, which alone is "merged".
			forgetest.Want(t, "action", f.Action, "merge_succeeded")
			forgetest.Want(t, "pull_request.merged", f.PullRequest.Merged, true)
			forgetest.Want(t, "pull_request.state", f.PullRequest.State, "completed")
		}},
		{"tingle-git-pullrequest-comment-event-2", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindComment)
			forgetest.Want(t, "action", f.Action, "created")
			forgetest.Want(t, "pull_request.number", f.PullRequest.Number, int64(22568))
			forgetest.Want(t, "pull_request.url", f.PullRequest.URL, "https://dev.azure.com/dependabot/Core/_git/dependabot-sample/pullrequest/22568")
			forgetest.Want(t, "repository.full_name", f.Repository.FullName, "Core/dependabot-sample")
			forgetest.Want(t, "actor.login", f.Actor.Login, "dependabot@tingle.software")
		}},
		{"tingle-git-pullrequest-comment-event-1", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "action (message says edited)", f.Action, "edited")
			forgetest.Want(t, "ping (sample payload)", m.Ping, true)
		}},
		{"aspnet-workitem.created", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindIssue)
			forgetest.Want(t, "action", f.Action, "created")
			forgetest.Want(t, "actor.name", f.Actor.Name, "Jamal Hartnett")
			if f.Repository.Owner == "" {
				t.Errorf("repository.owner is empty, want the team project")
			}
		}},
		{"aspnet-workitem.updated", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindIssue)
			forgetest.Want(t, "action", f.Action, "updated")
			forgetest.Want(t, "repository.owner (revision fields)", f.Repository.Owner, "GoodCompanyCloud")
		}},
		{"aspnet-workitem.commented", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindComment)
			forgetest.Want(t, "action", f.Action, "created")
		}},
		{"aspnet-build.complete", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPipeline)
			forgetest.Want(t, "action", f.Action, "completed")
			forgetest.Want(t, "forgeaction", f.ForgeAction, "succeeded")
		}},
		{"docs-ms.vss-pipelines.run-state-changed-event", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPipeline)
			forgetest.Want(t, "action", f.Action, "completed")
			forgetest.Want(t, "forgeaction", f.ForgeAction, "succeeded")
		}},
		{"docs-ms.vss-release.deployment-completed-event", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPipeline)
			forgetest.Want(t, "action", f.Action, "completed")
			forgetest.Want(t, "forgeaction", f.ForgeAction, "succeeded")
			forgetest.Want(t, "repository.owner", f.Repository.Owner, "Fabrikam")
		}},
		{"docs-ms.vss-release.release-created-event", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindRelease)
			forgetest.Want(t, "action", f.Action, "created")
			forgetest.Want(t, "actor.name", f.Actor.Name, "Chuck Reinhart")
		}},
		{"aspnet-tfvc.checkin", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindOther)
			forgetest.Want(t, "ref", f.Ref, "")
			forgetest.Want(t, "len(commits)", len(f.Commits), 1)
			if len(f.Commits) == 1 {
				forgetest.Want(t, "commits[0].id", f.Commits[0].ID, "18")
			}
		}},
		{"aspnet-message.posted", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindOther)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			fx := forgetest.LoadFixture(t, tt.fixture)
			m, err := p.InspectBody(fx.Header, fx.Body)
			if err != nil {
				t.Fatal(err)
			}
			f, err := p.Normalize(m, fx.Body)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			forgetest.Want(t, "forge", f.Forge, "azure-devops")
			tt.check(t, m, f)
		})
	}
}

// TestAzureDevOpsEventKinds maps every event Azure DevOps documents to its
// kind and action, on a bare payload.
func TestAzureDevOpsEventKinds(t *testing.T) {
	p := newProvider(t)
	tests := []struct {
		events []string
		kind   event.Kind
		action string
	}{
		{[]string{"git.pullrequest.created"}, event.KindPullRequest, "opened"},
		{[]string{"git.pullrequest.updated"}, event.KindPullRequest, "updated"},
		{[]string{"git.pullrequest.merged"}, event.KindPullRequest, "merge_attempted"},
		{[]string{"ms.vss-code.git-pullrequest-comment-event", "workitem.commented"}, event.KindComment, "created"},
		{[]string{"workitem.created"}, event.KindIssue, "created"},
		{[]string{"workitem.updated"}, event.KindIssue, "updated"},
		{[]string{"workitem.deleted"}, event.KindIssue, "deleted"},
		{[]string{"workitem.restored"}, event.KindIssue, "restored"},
		{[]string{"build.complete", "ms.vss-release.deployment-completed-event"}, event.KindPipeline, "completed"},
		{[]string{"ms.vss-release.deployment-started-event"}, event.KindPipeline, "started"},
		{[]string{"ms.vss-release.deployment-approval-pending-event", "ms.vss-pipelinechecks-events.approval-pending"}, event.KindPipeline, "approval_pending"},
		{[]string{"ms.vss-release.deployment-approval-completed-event", "ms.vss-pipelinechecks-events.approval-completed"}, event.KindPipeline, "approval_completed"},
		{[]string{"ms.vss-pipelines.run-state-changed-event", "ms.vss-pipelines.stage-state-changed-event", "ms.vss-pipelines.job-state-changed-event"}, event.KindPipeline, ""},
		{[]string{"ms.vss-release.release-created-event"}, event.KindRelease, "created"},
		{[]string{"ms.vss-release.release-abandoned-event"}, event.KindRelease, "abandoned"},
		{[]string{"git.repo.created"}, event.KindOther, "created"},
		{[]string{"git.repo.deleted"}, event.KindOther, "deleted"},
		{[]string{"git.repo.forked"}, event.KindOther, "forked"},
		{[]string{"git.repo.renamed"}, event.KindOther, "renamed"},
		{[]string{"git.repo.statuschanged"}, event.KindOther, "status_changed"},
		{[]string{"tfvc.checkin"}, event.KindOther, "created"},
		{[]string{"git.push"}, event.KindOther, ""}, // no ref update: no ref
		{[]string{"message.posted", "ms.vss-future.event", ""}, event.KindOther, ""},
	}
	for _, tt := range tests {
		for _, ev := range tt.events {
			f, err := p.Normalize(forge.Meta{Event: ev}, []byte(`{"resource":{}}`))
			if err != nil {
				t.Errorf("Normalize(%q) = %v", ev, err)
				continue
			}
			if f.Kind != tt.kind || f.Action != tt.action || f.Forge != "azure-devops" {
				t.Errorf("Normalize(%q) = kind %q action %q forge %q, want %q %q azure-devops", ev, f.Kind, f.Action, f.Forge, tt.kind, tt.action)
			}
		}
	}
}

// TestAzureDevOpsPullRequestActions pins the action rules of the pull
// request events, which carry no action field.
func TestAzureDevOpsPullRequestActions(t *testing.T) {
	p := newProvider(t)
	tests := []struct {
		event, payload, action string
	}{
		{"git.pullrequest.updated", `{"message":{"text":"Jamal Hartnett updated the source branch of pull request 2"},"resource":{"status":"active"}}`, "updated"},
		{"git.pullrequest.updated", `{"message":{"text":"Jamal Hartnett approved pull request 2"},"resource":{"status":"active"}}`, "edited"},
		{"git.pullrequest.updated", `{"message":{"text":"Jamal Hartnett reactivated pull request 2"},"resource":{"status":"active"}}`, "opened"},
		{"git.pullrequest.updated", `{"message":{"text":"Jamal Hartnett abandoned pull request 2"},"resource":{"status":"abandoned"}}`, "closed"},
		{"git.pullrequest.updated", `{"message":{"text":"Jamal Hartnett marked the pull request as completed"},"resource":{"status":"completed"}}`, "merged"},
		{"git.pullrequest.updated", `{"message":null,"resource":{"status":"active"}}`, "updated"},
		{"git.pullrequest.merged", `{"resource":{"status":"active","mergeStatus":"conflicts"}}`, "merge_conflicts"},
		{"git.pullrequest.merged", `{"resource":{"status":"active","mergeStatus":"rejectedByPolicy"}}`, "merge_rejected_by_policy"},
		{"git.pullrequest.merged", `{"resource":{"status":"active","mergeStatus":"succeeded"}}`, "merge_succeeded"},
		{"git.pullrequest.merged", `{"resource":{"status":"completed","mergeStatus":"succeeded"}}`, "merge_succeeded"},
		{"git.pullrequest.merged", `{"resource":{"status":"completed"}}`, "merge_attempted"},
		// Comment actions come from the comment, not the message's English.
		{"ms.vss-code.git-pullrequest-comment-event", `{"message":{"text":"Jamal Hartnett a supprimé un commentaire"},"resource":{"comment":{"isDeleted":true}}}`, "deleted"},
		{"ms.vss-code.git-pullrequest-comment-event", `{"message":{"text":"Jamal Hartnett has deleted a pull request comment"},"resource":{"comment":{"isDeleted":false}}}`, "created"},
		{"ms.vss-code.git-pullrequest-comment-event", `{"resource":{"comment":{"publishedDate":"2014-06-17T16:55:46.589889Z","lastContentUpdatedDate":"2014-06-17T16:58:33.123889Z"}}}`, "edited"},
		{"ms.vss-code.git-pullrequest-comment-event", `{"resource":{"comment":{"publishedDate":"2014-06-17T16:55:46.589889Z","lastContentUpdatedDate":"2014-06-17T16:55:46.589889Z"}}}`, "created"},
		{"ms.vss-code.git-pullrequest-comment-event", `{"message":{"text":"Jamal Hartnett has commented on a pull request"},"resource":{}}`, "created"},
	}
	for _, tt := range tests {
		f, err := p.Normalize(forge.Meta{Event: tt.event}, []byte(tt.payload))
		if err != nil {
			t.Errorf("Normalize(%s) = %v", tt.payload, err)
			continue
		}
		if f.Action != tt.action {
			t.Errorf("Normalize(%s %s): action %q, want %q", tt.event, tt.payload, f.Action, tt.action)
		}
	}
}

func TestAzureDevOpsWorkItemActor(t *testing.T) {
	p := newProvider(t)
	tests := []struct {
		payload string
		actor   event.Person
	}{
		{`{"resource":{"fields":{"System.ChangedBy":"Jamal Hartnett <fabrikamfiber4@hotmail.com>"}}}`, event.Person{Name: "Jamal Hartnett", Email: "fabrikamfiber4@hotmail.com"}},
		{`{"resource":{"fields":{"System.ChangedBy":"Jamal Hartnett"}}}`, event.Person{Name: "Jamal Hartnett"}},
		{`{"resource":{"fields":{"System.ChangedBy":{"displayName":"Jamal Hartnett","uniqueName":"jamal@fabrikam.example"}}}}`, event.Person{Login: "jamal@fabrikam.example", Name: "Jamal Hartnett", Email: "jamal@fabrikam.example"}},
		{`{"resource":{"revisedBy":{"displayName":"Ann","uniqueName":"FABRIKAM\\ann"},"fields":{"System.ChangedBy":"Jamal Hartnett"}}}`, event.Person{Login: `FABRIKAM\ann`, Name: "Ann"}},
		{`{"resource":{"fields":{"System.ChangedBy":42}}}`, event.Person{}},
	}
	for _, tt := range tests {
		f, err := p.Normalize(forge.Meta{Event: "workitem.created"}, []byte(tt.payload))
		if err != nil {
			t.Errorf("Normalize(%s) = %v", tt.payload, err)
			continue
		}
		if f.Actor != tt.actor {
			t.Errorf("Normalize(%s): actor %+v, want %+v", tt.payload, f.Actor, tt.actor)
		}
	}
}

func TestAzureDevOpsNormalizeBadPayload(t *testing.T) {
	p := newProvider(t)
	for _, body := range []string{``, `   `, `{`, `null`, `[]`, `"git.push"`, `42`, `{"a":1}x`, "\xff"} {
		_, err := p.Normalize(forge.Meta{Event: "git.push"}, []byte(body))
		if !errors.Is(err, forge.ErrBadPayload) {
			t.Errorf("Normalize(%q) = %v, want ErrBadPayload", body, err)
		}
	}
	// Members of an unexpected type are ignored, not fatal.
	f, err := p.Normalize(forge.Meta{Event: "git.push"}, []byte(`{"resource":{"refUpdates":[{"name":"refs/heads/main","oldObjectId":1}],"commits":"x","pushedBy":[]}}`))
	if err != nil {
		t.Fatalf("Normalize(mistyped members) = %v", err)
	}
	forgetest.Want(t, "ref", f.Ref, "refs/heads/main")
	forgetest.Want(t, "before", f.Before, "")
}

func BenchmarkNormalizeAzureDevOps(b *testing.B) {
	forgetest.BenchNormalize(b, newProvider(b), "tingle-git.push-3")
}

func BenchmarkInspectBodyAzureDevOps(b *testing.B) {
	forgetest.BenchInspectBody(b, newProvider(b), "tingle-git.push-3")
}

// TestAzureDevOpsNormalizeRecord checks the fields issue 13 added: a build
// carries its commit, branch and result; a work item its number and title.
func TestAzureDevOpsNormalizeRecord(t *testing.T) {
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
	f := fixture("aspnet-build.complete")
	want := event.Pipeline{Name: "ConsumerAddressModule", ID: "2", Status: event.StatusSuccess, Ref: "refs/heads/master", Branch: "master", SHA: "600c52d2d5b655caa111abfd863e5a9bd304bb0e"}
	if f.Pipeline != want || f.Branch != "master" || f.After != want.SHA {
		t.Errorf("build: pipeline %+v branch %q after %q", f.Pipeline, f.Branch, f.After)
	}
	nf, err := p.Normalize(forge.Meta{Event: "build.complete"}, []byte(`{"resource":{"id":9,"result":"failed","status":"completed","sourceBranch":"refs/tags/v1","sourceVersion":"abc","definition":{"name":"ci"},"_links":{"web":{"href":"https://w/9"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	want = event.Pipeline{Name: "ci", ID: "9", Status: event.StatusFailure, Ref: "refs/tags/v1", Tag: "v1", SHA: "abc", URL: "https://w/9"}
	if nf.Pipeline != want || nf.Tag != "v1" {
		t.Errorf("build (current shape): pipeline %+v", nf.Pipeline)
	}
	f = fixture("aspnet-workitem.updated")
	if f.Issue.Number != 5 || f.Issue.Title != "Some great new idea!" || f.Issue.State == "" {
		t.Errorf("work item: issue %+v", f.Issue)
	}
	f = fixture("aspnet-git.pullrequest.created")
	if f.PullRequest.HeadSHA == "" || f.PullRequest.BaseSHA == "" || f.PullRequest.Author.Login == "" {
		t.Errorf("pull request %+v", f.PullRequest)
	}
}
