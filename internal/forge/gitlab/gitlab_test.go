package gitlab_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/forgetest"
	"github.com/forgehook/forgehook/internal/forge/gitlab"
	"github.com/forgehook/forgehook/internal/verify"
)

// The Standard Webhooks specification's own test vector (forges.md §2).
const (
	katSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	katID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	katTS     = 1614265330
	katBody   = `{"test": 2432232314}`
	katSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

// sentinels are the errors Verify may wrap; a failure must match exactly
// one of them.
var sentinels = []error{verify.ErrMissingSignature, verify.ErrBadSignature, verify.ErrStale, verify.ErrNoSecret}

func newProvider(t testing.TB, ep *config.Endpoint) forge.Provider {
	return forgetest.New[forge.Provider](t, gitlab.New, ep)
}

func TestGitLabConformance(t *testing.T) {
	forgetest.Run(t, newProvider(t, nil), forgetest.Options{BodySigned: false, MinFixtures: 62})
}

func TestGitLabName(t *testing.T) {
	if got := newProvider(t, nil).Name(); got != "gitlab" {
		t.Errorf("Name() = %q, want gitlab", got)
	}
}

func TestGitLabInspect(t *testing.T) {
	p := newProvider(t, nil)
	tests := []struct {
		name                    string
		header                  map[string]string
		wantDelivery, wantDedup string
	}{
		{
			name:         "gitlab 17.4+: webhook uuid and idempotency key",
			header:       map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Webhook-UUID": "u-1", "Idempotency-Key": "k-1"},
			wantDelivery: "u-1", wantDedup: "k-1",
		},
		{
			name:         "idempotency key only",
			header:       map[string]string{"X-Gitlab-Event": "Push Hook", "Idempotency-Key": "k-1"},
			wantDelivery: "k-1", wantDedup: "k-1",
		},
		{
			name:         "gitlab 16.2 to 17.3: webhook uuid only, body hash dedup",
			header:       map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Webhook-UUID": "u-1"},
			wantDelivery: "u-1", wantDedup: "",
		},
		{
			name:         "gitlab 16.1: no ids",
			header:       map[string]string{"X-Gitlab-Event": "System Hook"},
			wantDelivery: "", wantDedup: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			m, err := p.Inspect(h)
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if m.Event != tt.header["X-Gitlab-Event"] || m.Delivery != tt.wantDelivery || m.DedupKey != tt.wantDedup || m.Ping {
				t.Errorf("Inspect = %+v, want event %q delivery %q dedup %q, no ping", m, tt.header["X-Gitlab-Event"], tt.wantDelivery, tt.wantDedup)
			}
		})
	}
	for _, h := range []http.Header{{}, {"X-Gitlab-Event": {""}}, {"X-Gitea-Event": {"push"}}} {
		if _, err := p.Inspect(h); !errors.Is(err, forge.ErrNotRecognized) {
			t.Errorf("Inspect(%v) = %v, want ErrNotRecognized", h, err)
		}
	}
}

func TestGitLabStandardWebhooksKnownAnswer(t *testing.T) {
	p := newProvider(t, nil)
	h := http.Header{}
	h.Set("X-Gitlab-Event", "Push Hook")
	h.Set("webhook-id", katID)
	h.Set("webhook-timestamp", strconv.Itoa(katTS))
	h.Set("webhook-signature", katSig)
	req := &forge.Request{Header: h, Body: []byte(katBody), Payload: []byte(katBody), Received: time.Unix(katTS, 0)}
	if err := p.Verify(req, []config.Secret{katSecret}); err != nil {
		t.Fatalf("Verify(known answer) = %v", err)
	}
	if err := p.Verify(req, []config.Secret{config.Secret("whsec_" + base64.StdEncoding.EncodeToString([]byte("an older signing key, rotated.."))), katSecret}); err != nil {
		t.Errorf("Verify(known answer, rotated keys) = %v", err)
	}

	// Sign must produce the same header from the same inputs.
	signed := http.Header{}
	signed.Set("Idempotency-Key", katID)
	p.(forge.Signer).Sign(signed, []byte(katBody), katSecret, time.Unix(katTS, 0))
	if got := signed.Get("webhook-signature"); got != katSig {
		t.Errorf("Sign: webhook-signature = %q, want %q", got, katSig)
	}
	if got := signed.Get("webhook-id"); got != katID {
		t.Errorf("Sign: webhook-id = %q, want %q", got, katID)
	}
	if got := signed.Get("webhook-timestamp"); got != strconv.Itoa(katTS) {
		t.Errorf("Sign: webhook-timestamp = %q, want %d", got, katTS)
	}
	if got := signed.Get("X-Gitlab-Token"); got != "" {
		t.Errorf("Sign(signing token) set X-Gitlab-Token %q; GitLab never sends a signing token in clear", got)
	}
}

func TestGitLabSign(t *testing.T) {
	p := newProvider(t, nil).(forge.Signer)
	now := time.Unix(1795000000, 0)
	payload := forgetest.LoadFixture(t, "push").Body

	h := http.Header{}
	p.Sign(h, payload, "plain-token", now)
	if h.Get("X-Gitlab-Token") != "plain-token" || h.Get("webhook-signature") != "" {
		t.Errorf("Sign(secret token) headers = %v, want only X-Gitlab-Token", h)
	}

	h1, h2 := http.Header{}, http.Header{}
	p.Sign(h1, payload, katSecret, now)
	p.Sign(h2, payload, katSecret, now.Add(time.Minute))
	id := h1.Get("webhook-id")
	if id == "" || h1.Get("Idempotency-Key") != id {
		t.Errorf("Sign(signing token): webhook-id %q, Idempotency-Key %q: want equal and non-empty", id, h1.Get("Idempotency-Key"))
	}
	if h2.Get("webhook-id") != id {
		t.Errorf("Sign: webhook-id not stable for the same payload: %q then %q", id, h2.Get("webhook-id"))
	}
	if len(id) != 36 || id[14] != '8' {
		t.Errorf("Sign: webhook-id %q is not a version 8 UUID", id)
	}
	req := &forge.Request{Header: h1, Body: payload, Payload: payload, Received: now.Add(30 * time.Second)}
	if err := newProvider(t, nil).Verify(req, []config.Secret{katSecret}); err != nil {
		t.Errorf("Verify(Sign(signing token)) = %v", err)
	}
}

// TestGitLabSignedFixtures verifies the Standard Webhooks deliveries in
// testdata/signed, whose signatures were computed outside Go (see the
// fixtures' comments) at the time in their "received" line.
func TestGitLabSignedFixtures(t *testing.T) {
	fixtures, err := forgetest.LoadDir(filepath.Join("testdata", "signed"))
	if err != nil {
		t.Fatal(err)
	}
	if len(fixtures) == 0 {
		t.Fatal("no fixtures in testdata/signed")
	}
	p := newProvider(t, nil)
	for _, f := range fixtures {
		t.Run(f.Name, func(t *testing.T) {
			ts, err := strconv.ParseInt(f.Meta["received"], 10, 64)
			if err != nil {
				t.Fatalf("received: %v", err)
			}
			recv := time.Unix(ts, 0)
			req := forgetest.Request(t, f, recv)
			good := []config.Secret{config.Secret(f.Secret)}
			if err := p.Verify(req, good); err != nil {
				t.Fatalf("Verify = %v", err)
			}
			m, err := p.Inspect(req.Header)
			if err != nil {
				t.Fatal(err)
			}
			if m.DedupKey == "" || m.DedupKey != req.Header.Get("webhook-id") {
				t.Errorf("DedupKey = %q, want webhook-id %q", m.DedupKey, req.Header.Get("webhook-id"))
			}
			late := forgetest.Request(t, f, recv.Add(5*time.Minute+time.Second))
			if err := p.Verify(late, good); !errors.Is(err, verify.ErrStale) {
				t.Errorf("Verify(5m1s later) = %v, want ErrStale", err)
			}
			if err := p.Verify(req, []config.Secret{config.Secret("whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 32)))}); !errors.Is(err, verify.ErrBadSignature) {
				t.Errorf("Verify(other key) = %v, want ErrBadSignature", err)
			}
		})
	}
}

func TestGitLabVerifyNegative(t *testing.T) {
	const (
		token    = "s3cr3t-token"
		oldToken = "old-s3cr3t-token"
	)
	otherKey := config.Secret("whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")))
	body := []byte(katBody)
	recv := time.Unix(katTS, 0)
	sw := func(id, ts, sig string) map[string]string {
		return map[string]string{"webhook-id": id, "webhook-timestamp": ts, "webhook-signature": sig}
	}
	kat := sw(katID, strconv.Itoa(katTS), katSig)
	with := func(m map[string]string, k, v string) map[string]string {
		out := map[string]string{k: v}
		for mk, mv := range m {
			if !strings.EqualFold(mk, k) {
				out[mk] = mv
			}
		}
		return out
	}
	tests := []struct {
		name      string
		tolerance time.Duration
		header    map[string]string
		body      []byte
		received  time.Time
		secrets   []config.Secret
		want      error // nil: accepted
	}{
		{name: "token", header: map[string]string{"X-Gitlab-Token": token}, secrets: []config.Secret{token}},
		{name: "missing token", header: map[string]string{}, secrets: []config.Secret{token}, want: verify.ErrMissingSignature},
		{name: "empty token", header: map[string]string{"X-Gitlab-Token": ""}, secrets: []config.Secret{token}, want: verify.ErrMissingSignature},
		{name: "wrong token", header: map[string]string{"X-Gitlab-Token": "guess"}, secrets: []config.Secret{token}, want: verify.ErrBadSignature},
		{name: "token prefix of secret", header: map[string]string{"X-Gitlab-Token": token[:5]}, secrets: []config.Secret{token}, want: verify.ErrBadSignature},
		{name: "old token still valid during rotation", header: map[string]string{"X-Gitlab-Token": oldToken}, secrets: []config.Secret{token, oldToken}},
		{name: "new token during rotation", header: map[string]string{"X-Gitlab-Token": token}, secrets: []config.Secret{oldToken, token}},
		{name: "token, no secret", header: map[string]string{"X-Gitlab-Token": token}, secrets: nil, want: verify.ErrNoSecret},

		{name: "signature", header: kat, received: recv, secrets: []config.Secret{katSecret}},
		{name: "signature 5m old", header: kat, received: recv.Add(5 * time.Minute), secrets: []config.Secret{katSecret}},
		{name: "stale timestamp", header: kat, received: recv.Add(5*time.Minute + time.Second), secrets: []config.Secret{katSecret}, want: verify.ErrStale},
		{name: "future timestamp", header: kat, received: recv.Add(-6 * time.Minute), secrets: []config.Secret{katSecret}, want: verify.ErrStale},
		{name: "endpoint tolerance", tolerance: 10 * time.Minute, header: kat, received: recv.Add(9 * time.Minute), secrets: []config.Secret{katSecret}},
		{name: "signature with wrong key", header: kat, received: recv, secrets: []config.Secret{otherKey}, want: verify.ErrBadSignature},
		{name: "signature, old key during rotation", header: kat, received: recv, secrets: []config.Secret{otherKey, katSecret}},
		{name: "signature with the plain token as key", header: kat, received: recv, secrets: []config.Secret{token}, want: verify.ErrBadSignature},
		{name: "malformed signature", header: with(kat, "webhook-signature", "v1,***not base64***"), received: recv, secrets: []config.Secret{katSecret}, want: verify.ErrBadSignature},
		{name: "unknown signature version", header: with(kat, "webhook-signature", strings.Replace(katSig, "v1,", "v2,", 1)), received: recv, secrets: []config.Secret{katSecret}, want: verify.ErrBadSignature},
		{name: "signature without version", header: with(kat, "webhook-signature", strings.TrimPrefix(katSig, "v1,")), received: recv, secrets: []config.Secret{katSecret}, want: verify.ErrBadSignature},
		{name: "empty signature header", header: with(kat, "webhook-signature", ""), received: recv, secrets: []config.Secret{katSecret}, want: verify.ErrMissingSignature},
		{name: "several signatures, one valid", header: with(kat, "webhook-signature", "v1,AAAA "+katSig), received: recv, secrets: []config.Secret{katSecret}},
		{name: "signature for another id", header: with(kat, "webhook-id", "msg_other"), received: recv, secrets: []config.Secret{katSecret}, want: verify.ErrBadSignature},
		{name: "signature without webhook-id", header: with(kat, "webhook-id", ""), received: recv, secrets: []config.Secret{katSecret}, want: verify.ErrMissingSignature},
		{name: "signature without timestamp", header: with(kat, "webhook-timestamp", ""), received: recv, secrets: []config.Secret{katSecret}, want: verify.ErrMissingSignature},
		{name: "non-numeric timestamp", header: with(kat, "webhook-timestamp", "yesterday"), received: recv, secrets: []config.Secret{katSecret}, want: verify.ErrBadSignature},
		{name: "empty body with signature", header: kat, body: []byte{}, received: recv, secrets: []config.Secret{katSecret}, want: verify.ErrBadSignature},
		{name: "tampered body with signature", header: kat, body: []byte(`{"test": 2432232315}`), received: recv, secrets: []config.Secret{katSecret}, want: verify.ErrBadSignature},
		{name: "bad signature, right token: the signature decides", header: with(with(kat, "webhook-signature", "v1,AAAA"), "X-Gitlab-Token", token), received: recv, secrets: []config.Secret{katSecret, token}, want: verify.ErrBadSignature},

		{name: "basic auth", header: map[string]string{"Authorization": forgetest.Basic("hook:pa55")}, secrets: []config.Secret{"hook:pa55"}},
		{name: "basic auth, wrong password", header: map[string]string{"Authorization": forgetest.Basic("hook:guess")}, secrets: []config.Secret{"hook:pa55"}, want: verify.ErrBadSignature},
		{name: "basic auth, bad base64", header: map[string]string{"Authorization": "Basic %%%"}, secrets: []config.Secret{"hook:pa55"}, want: verify.ErrBadSignature},
		{name: "bearer is not basic", header: map[string]string{"Authorization": "Bearer hook:pa55"}, secrets: []config.Secret{"hook:pa55"}, want: verify.ErrMissingSignature},
		{name: "token takes precedence over basic auth", header: map[string]string{"X-Gitlab-Token": "guess", "Authorization": forgetest.Basic("hook:pa55")}, secrets: []config.Secret{"hook:pa55"}, want: verify.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t, &config.Endpoint{Name: "gl", Provider: "gitlab", Tolerance: config.Duration(tt.tolerance)})
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			b := body
			if tt.body != nil {
				b = tt.body
			}
			err := p.Verify(&forge.Request{Header: h, Body: b, Payload: b, Received: tt.received}, tt.secrets)
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
			if !strings.HasPrefix(err.Error(), "gitlab: ") {
				t.Errorf("Verify error %q lacks the gitlab: context", err)
			}
			for _, s := range tt.secrets {
				if strings.Contains(err.Error(), s.Reveal()) {
					t.Errorf("Verify error %q contains a secret", err)
				}
			}
		})
	}
}

// normalize runs Inspect and Normalize on a fixture's headers and body.
func normalize(t *testing.T, event string, body string) event.Fields {
	t.Helper()
	f, err := newProvider(t, nil).Normalize(forge.Meta{Event: event}, []byte(body))
	if err != nil {
		t.Fatalf("Normalize(%s): %v", event, err)
	}
	return f
}

func replace(t *testing.T, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("fixture has no %q", old)
	}
	return strings.Replace(s, old, new, 1)
}

func TestGitLabNormalize(t *testing.T) {
	push := string(forgetest.LoadFixture(t, "push").Body)
	tagPush := string(forgetest.LoadFixture(t, "tag_push").Body)
	mr := string(forgetest.LoadFixture(t, "merge_request").Body)

	t.Run("push", func(t *testing.T) {
		f := normalize(t, "Push Hook", push)
		if f.Kind != event.KindPush || f.Branch != "master" || f.Tag != "" || f.Deleted {
			t.Errorf("kind %q branch %q tag %q deleted %v, want push master", f.Kind, f.Branch, f.Tag, f.Deleted)
		}
		if f.Repository.FullName != "mike/diaspora" || f.Repository.Owner != "mike" || f.Repository.Name != "diaspora" {
			t.Errorf("repository = %+v", f.Repository)
		}
		if f.Actor.Login != "jsmith" || len(f.Commits) != 2 || f.Commits[1].ID != f.After {
			t.Errorf("actor %+v, %d commits, want jsmith and 2 commits ending at after", f.Actor, len(f.Commits))
		}
	})
	t.Run("tag push is kind tag", func(t *testing.T) {
		f := normalize(t, "Tag Push Hook", tagPush)
		if f.Kind != event.KindTag || f.Tag != "v1.0.0" || f.Branch != "" || f.Deleted {
			t.Errorf("kind %q tag %q branch %q deleted %v, want tag v1.0.0", f.Kind, f.Tag, f.Branch, f.Deleted)
		}
	})
	t.Run("branch deletion", func(t *testing.T) {
		body := replace(t, push, `"after": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"`, `"after": "`+event.ZeroSHA1+`"`)
		f := normalize(t, "Push Hook", body)
		if f.Kind != event.KindPush || !f.Deleted {
			t.Errorf("kind %q deleted %v, want push deleted", f.Kind, f.Deleted)
		}
	})
	t.Run("tag deletion, sha256 repository", func(t *testing.T) {
		body := replace(t, tagPush, `"after": "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7"`, `"after": "`+event.ZeroSHA256+`"`)
		f := normalize(t, "Tag Push Hook", body)
		if f.Kind != event.KindTag || !f.Deleted {
			t.Errorf("kind %q deleted %v, want tag deleted", f.Kind, f.Deleted)
		}
	})
	t.Run("branch creation is not a deletion", func(t *testing.T) {
		body := replace(t, push, `"before": "95790bf891e76fee5e1747ab589903a6a1f80f22"`, `"before": "`+event.ZeroSHA1+`"`)
		if f := normalize(t, "Push Hook", body); f.Deleted {
			t.Error("deleted set for an all-zero before")
		}
	})
	t.Run("merge request iid, not id", func(t *testing.T) {
		f := normalize(t, "Merge Request Hook", mr)
		if f.PullRequest.Number != 1 {
			t.Errorf("number = %d, want iid 1 (id is 99)", f.PullRequest.Number)
		}
		if f.Kind != event.KindPullRequest || f.Action != "opened" || f.ForgeAction != "open" {
			t.Errorf("kind %q action %q forgeaction %q, want pull_request opened open", f.Kind, f.Action, f.ForgeAction)
		}
		if f.PullRequest.SourceBranch != "ms-viewport" || f.PullRequest.TargetBranch != "master" || f.PullRequest.Merged {
			t.Errorf("pull request = %+v", f.PullRequest)
		}
	})
	t.Run("merge request merged", func(t *testing.T) {
		body := replace(t, mr, `"action": "open"`, `"action": "merge"`)
		body = replace(t, body, `"state": "opened"`, `"state": "merged"`)
		f := normalize(t, "Merge Request Hook", body)
		if f.Action != "merged" || f.ForgeAction != "merge" || !f.PullRequest.Merged || f.PullRequest.State != "merged" {
			t.Errorf("action %q forgeaction %q pull request %+v, want merged", f.Action, f.ForgeAction, f.PullRequest)
		}
	})
	t.Run("merge request update with and without new commits", func(t *testing.T) {
		edited := replace(t, mr, `"action": "open"`, `"action": "update"`)
		// The docs example's changes list labels: a label change.
		if f := normalize(t, "Merge Request Hook", edited); f.Action != "labeled" {
			t.Errorf("update of the labels: action %q, want labeled", f.Action)
		}
		if f := normalize(t, "Merge Request Hook", replace(t, edited, `"labels": {`, `"x_labels": {`)); f.Action != "edited" {
			t.Errorf("update without oldrev: action %q, want edited", f.Action)
		}
		updated := replace(t, edited, `"action": "update"`, `"action": "update", "oldrev": "95790bf891e76fee5e1747ab589903a6a1f80f22"`)
		f := normalize(t, "Merge Request Hook", updated)
		if f.Action != "updated" || f.Before != "95790bf891e76fee5e1747ab589903a6a1f80f22" || f.After != "da1560886d4f094c3e6c9ef40349f7d38b5d27d7" {
			t.Errorf("update with oldrev: action %q before %q after %q, want updated oldrev..last_commit", f.Action, f.Before, f.After)
		}
	})
	t.Run("merge request actions", func(t *testing.T) {
		for action, want := range map[string]string{
			"open": "opened", "reopen": "opened", "close": "closed", "merge": "merged",
			"approved": "approved", "approval": "approved", "unapproved": "unapproved", "unapproval": "unapproved",
			"": "",
		} {
			f := normalize(t, "Merge Request Hook", `{"object_kind":"merge_request","object_attributes":{"iid":3,"action":"`+action+`"}}`)
			if f.Action != want || f.ForgeAction != action {
				t.Errorf("action %q: got %q (forgeaction %q), want %q", action, f.Action, f.ForgeAction, want)
			}
		}
	})
	t.Run("issue actions", func(t *testing.T) {
		for action, want := range map[string]string{"open": "opened", "close": "closed", "reopen": "reopened", "update": "updated"} {
			for _, ev := range []string{"Issue Hook", "Confidential Issue Hook"} {
				f := normalize(t, ev, `{"object_kind":"issue","object_attributes":{"iid":23,"action":"`+action+`"}}`)
				if f.Kind != event.KindIssue || f.Action != want {
					t.Errorf("%s %q: kind %q action %q, want issue %q", ev, action, f.Kind, f.Action, want)
				}
			}
		}
	})
	t.Run("release actions", func(t *testing.T) {
		for action, want := range map[string]string{"create": "created", "update": "updated", "delete": "deleted"} {
			f := normalize(t, "Release Hook", `{"object_kind":"release","tag":"v2","action":"`+action+`"}`)
			if f.Kind != event.KindRelease || f.Action != want || f.Tag != "v2" || f.Ref != "refs/tags/v2" {
				t.Errorf("%q: %+v, want release %q of v2", action, f, want)
			}
		}
	})
	t.Run("comment on a merge request carries the merge request", func(t *testing.T) {
		f := normalize(t, "Note Hook", string(forgetest.LoadFixture(t, "note_merge_request").Body))
		if f.Kind != event.KindComment || f.PullRequest.Number != 1 || f.PullRequest.TargetBranch != "markdown" {
			t.Errorf("kind %q pull request %+v, want comment on !1 (id 7)", f.Kind, f.PullRequest)
		}
		f = normalize(t, "Confidential Note Hook", string(forgetest.LoadFixture(t, "note_issue").Body))
		if f.Kind != event.KindComment || f.PullRequest.Number != 0 {
			t.Errorf("comment on an issue: kind %q pull request %+v, want comment without pull request", f.Kind, f.PullRequest)
		}
	})
	t.Run("pipeline and job statuses", func(t *testing.T) {
		f := normalize(t, "Pipeline Hook", `{"object_kind":"pipeline","object_attributes":{"status":"waiting_for_resource","ref":"v1.2","tag":true}}`)
		if f.Kind != event.KindPipeline || f.Action != "waiting_for_resource" || f.Ref != "refs/tags/v1.2" || f.Tag != "v1.2" {
			t.Errorf("pipeline: %+v", f)
		}
		f = normalize(t, "Job Hook", `{"object_kind":"build","build_status":"Failed","ref":"main","tag":false}`)
		if f.Kind != event.KindPipeline || f.Action != "failed" || f.ForgeAction != "Failed" || f.Ref != "refs/heads/main" {
			t.Errorf("job: %+v", f)
		}
		f = normalize(t, "Deployment Hook", `{"object_kind":"deployment","status":"canceled"}`)
		if f.Kind != event.KindPipeline || f.Action != "canceled" {
			t.Errorf("deployment: %+v", f)
		}
	})
	t.Run("unknown event is other", func(t *testing.T) {
		f := normalize(t, "Something New Hook", push)
		if f.Kind != event.KindOther || f.Forge != "gitlab" || f.Repository.FullName != "mike/diaspora" || f.Deleted || f.Commits != nil {
			t.Errorf("unknown event: %+v, want kind other with the repository only", f)
		}
	})
	t.Run("system hook push", func(t *testing.T) {
		f := normalize(t, "System Hook", string(forgetest.LoadFixture(t, "system_push").Body))
		if f.Kind != event.KindPush || f.Ref != "refs/heads/master" || f.Branch != "master" || f.Actor.Name != "John Smith" || len(f.Commits) != 1 {
			t.Errorf("system push: %+v", f)
		}
		f = normalize(t, "System Hook", string(forgetest.LoadFixture(t, "system_tag_push").Body))
		if f.Kind != event.KindTag || f.Tag != "v1.0.0" {
			t.Errorf("system tag push: kind %q tag %q", f.Kind, f.Tag)
		}
		f = normalize(t, "System Hook", string(forgetest.LoadFixture(t, "system_merge_request").Body))
		if f.Kind != event.KindPullRequest || f.PullRequest.Number != 1 || f.Action != "opened" {
			t.Errorf("system merge request: %+v", f)
		}
		f = normalize(t, "System Hook", string(forgetest.LoadFixture(t, "system_user_create").Body))
		if f.Kind != event.KindOther || f.ForgeAction != "user_create" {
			t.Errorf("system user_create: kind %q forgeaction %q", f.Kind, f.ForgeAction)
		}
	})
	t.Run("system hook repository_update is not a second push", func(t *testing.T) {
		f := normalize(t, "System Hook", string(forgetest.LoadFixture(t, "system_repository_update").Body))
		if f.Kind != event.KindOther || f.Ref != "refs/heads/master" || f.After != "4045ea7a3df38697b3730a20fb73c8bed8a3e69e" {
			t.Errorf("repository_update: %+v", f)
		}
	})
	t.Run("redacted email", func(t *testing.T) {
		f := normalize(t, "Emoji Hook", string(forgetest.LoadFixture(t, "emoji").Body))
		if f.Actor.Login != "root" || f.Actor.Email != "" {
			t.Errorf("actor %+v, want root without the [REDACTED] placeholder", f.Actor)
		}
	})
	t.Run("field of another type is left out", func(t *testing.T) {
		f := normalize(t, "Merge Request Hook", `{"object_attributes":{"iid":"seven","title":"t","action":"close"},"user":"root"}`)
		if f.PullRequest.Number != 0 || f.PullRequest.Title != "t" || f.Action != "closed" || f.Actor != (event.Person{}) {
			t.Errorf("got %+v", f)
		}
	})
	t.Run("undecodable payloads", func(t *testing.T) {
		p := newProvider(t, nil)
		for _, body := range []string{``, `{`, `{"a":}`, `[]`, `"push"`, `null`, `{"a":1}x`} {
			if _, err := p.Normalize(forge.Meta{Event: "Push Hook"}, []byte(body)); !errors.Is(err, forge.ErrBadPayload) {
				t.Errorf("Normalize(%q) = %v, want ErrBadPayload", body, err)
			}
		}
	})
}

func BenchmarkVerifyGitLab(b *testing.B) {
	p := newProvider(b, nil)
	f := forgetest.LoadFixture(b, "push_secret_token_gitlab16")
	req := forgetest.Request(b, f, time.Now())
	secrets := []config.Secret{"an-old-token", config.Secret(f.Secret)}
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Verify(req, secrets); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyGitLabSignature(b *testing.B) {
	p := newProvider(b, nil)
	f, err := forgetest.Load(filepath.Join("testdata", "signed", "push_signing_token.txtar"))
	if err != nil {
		b.Fatal(err)
	}
	ts, _ := strconv.ParseInt(f.Meta["received"], 10, 64)
	req := forgetest.Request(b, f, time.Unix(ts, 0))
	secrets := []config.Secret{config.Secret(f.Secret)}
	b.ReportAllocs()
	b.SetBytes(int64(len(req.Body)))
	for b.Loop() {
		if err := p.Verify(req, secrets); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNormalizeGitLabPush(b *testing.B) {
	forgetest.BenchNormalize(b, newProvider(b, nil), "push")
}

// TestGitLabNormalizeRecord checks the defects issue 13 lists and the
// fields it added, on the docs examples.
func TestGitLabNormalizeRecord(t *testing.T) {
	push := string(forgetest.LoadFixture(t, "push").Body)
	job := string(forgetest.LoadFixture(t, "job").Body)
	note := string(forgetest.LoadFixture(t, "note_merge_request").Body)
	t.Run("branch creation and deletion", func(t *testing.T) {
		created := replace(t, push, `"before": "95790bf891e76fee5e1747ab589903a6a1f80f22"`, `"before": "`+event.ZeroSHA1+`"`)
		if f := normalize(t, "Push Hook", created); f.Action != "created" {
			t.Errorf("created branch: action %q", f.Action)
		}
		deleted := replace(t, push, `"after": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"`, `"after": "`+event.ZeroSHA1+`"`)
		if f := normalize(t, "Push Hook", deleted); f.Action != "deleted" || !f.Deleted {
			t.Errorf("deleted branch: action %q deleted %v", f.Action, f.Deleted)
		}
	})
	t.Run("legacy Build Hook is a job", func(t *testing.T) {
		f := normalize(t, "Build Hook", job)
		if f.Kind != event.KindPipeline || f.Pipeline.Name != "test" || f.Pipeline.Status != event.StatusQueued || f.Branch != "gitlab-script-trigger" {
			t.Errorf("kind %q pipeline %+v branch %q", f.Kind, f.Pipeline, f.Branch)
		}
	})
	t.Run("job without project has a full name", func(t *testing.T) {
		old := replace(t, job, `"project":{`, `"x_project":{`)
		f := normalize(t, "Job Hook", old)
		forgetest.Want(t, "repository.full_name", f.Repository.FullName, "gitlab-org/gitlab-test")
	})
	t.Run("note without action is created, update is edited", func(t *testing.T) {
		bare := replace(t, note, `"action": "create",`, ``)
		forgetest.Want(t, "action", normalize(t, "Note Hook", bare).Action, "created")
		upd := replace(t, note, `"action": "create"`, `"action": "update"`)
		forgetest.Want(t, "action", normalize(t, "Note Hook", upd).Action, "edited")
		f := normalize(t, "Note Hook", note)
		if f.Comment.On != event.CommentOnPullRequest || f.Comment.Number != 1 || f.Comment.ID != "1244" || f.PullRequest.HeadSHA == "" {
			t.Errorf("comment %+v pull request %+v", f.Comment, f.PullRequest)
		}
	})
}
