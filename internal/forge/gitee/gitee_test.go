package gitee_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/ingest"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/forgetest"
	"github.com/forgehook/forgehook/internal/forge/gitee"
	"github.com/forgehook/forgehook/internal/verify"
)

// Known-answer vectors for Gitee's signature, base64(HMAC-SHA256(key,
// timestamp + "\n" + key)), computed with Python's hmac module (see
// testdata/SOURCES.md). The first is the worked example of drone/go-scm's
// scm/driver/gitee/webhook_test.go, recomputed; the second is ours and its
// signature has '+' and '/', so its URL-encoded form differs.
const (
	kat1Key   = "bBg5lrt03VixkX85CNqYIcecC0SIGASE"
	kat1TS    = "1633679083918"
	kat1Token = "Xvh4YPVe6l31XpDRL9J2yeaEXabsckIoUUschpXiVck="

	kat2Key        = "forgehook-gitee-key"
	kat2TS         = "1795000000004"
	kat2Token      = "LtE/sRDyPsqicKCDKG+3ZUO2DecV0ksvDLAVEHoPz74="
	kat2TokenQuery = "LtE%2FsRDyPsqicKCDKG%2B3ZUO2DecV0ksvDLAVEHoPz74%3D"
	// katHex is the same MAC in hex, which Gitee does not send.
	katHex = "2ed13fb110f23ecaa270a083286fb76543b60de715d24b2f0cb015107a0fcfbe"
)

// sentinels are the errors Verify may wrap; a failure must match exactly
// one of them.
var sentinels = []error{verify.ErrMissingSignature, verify.ErrBadSignature, verify.ErrStale, verify.ErrNoSecret}

func newProvider(t testing.TB, ep *config.Endpoint) *gitee.Provider {
	return forgetest.New[*gitee.Provider](t, gitee.New, ep)
}

func ms(s string) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		panic(err)
	}
	return time.UnixMilli(n)
}

func TestGiteeConformance(t *testing.T) {
	forgetest.Run(t, newProvider(t, nil), forgetest.Options{BodySigned: false, MinFixtures: 20})
}

func TestGiteeName(t *testing.T) {
	if got := newProvider(t, nil).Name(); got != "gitee" {
		t.Errorf("Name() = %q, want gitee", got)
	}
}

func TestGiteeSignatureKnownAnswer(t *testing.T) {
	tests := []struct {
		key, ts, token string
	}{
		{kat1Key, kat1TS, kat1Token},
		{kat2Key, kat2TS, kat2Token},
	}
	for _, tt := range tests {
		if got := gitee.Signature(tt.key, tt.ts); got != tt.token {
			t.Errorf("Signature(%q, %s) = %s, want %s", tt.key, tt.ts, got, tt.token)
		}
		h := http.Header{}
		newProvider(t, nil).Sign(h, []byte(`{}`), tt.key, ms(tt.ts))
		if h.Get("X-Gitee-Timestamp") != tt.ts || h.Get("X-Gitee-Token") != tt.token {
			t.Errorf("Sign(%q, %s) = %v, want timestamp %s and token %s", tt.key, tt.ts, h, tt.ts, tt.token)
		}
		for _, tok := range []string{tt.token, strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(tt.token, "/", "%2F"), "+", "%2B"), "=", "%3D")} {
			req := &forge.Request{
				Header:   http.Header{"X-Gitee-Token": {tok}, "X-Gitee-Timestamp": {tt.ts}},
				Body:     []byte(`{}`),
				Payload:  []byte(`{}`),
				Received: ms(tt.ts).Add(2 * time.Second),
			}
			if err := newProvider(t, nil).Verify(req, []config.Secret{config.Secret(tt.key)}); err != nil {
				t.Errorf("Verify(%s at %s) = %v", tok, tt.ts, err)
			}
		}
	}
}

// TestGiteeCapturedSignatures verifies the signatures of the deliveries that
// drone/go-scm captured from gitee.com with its signing key: each body
// carries in sign and timestamp what Gitee sent as X-Gitee-Token and
// X-Gitee-Timestamp. They were signed by Gitee, not by this package.
func TestGiteeCapturedSignatures(t *testing.T) {
	fixtures, err := forgetest.LoadDir(filepath.Join("testdata", "deliveries"))
	if err != nil {
		t.Fatal(err)
	}
	p := newProvider(t, nil)
	n := 0
	for _, f := range fixtures {
		key := f.Meta["capture-key"]
		if key == "" {
			continue
		}
		n++
		t.Run(f.Name, func(t *testing.T) {
			var b struct {
				Sign      string `json:"sign"`
				Timestamp string `json:"timestamp"`
			}
			if err := json.Unmarshal(f.Body, &b); err != nil || b.Sign == "" {
				t.Fatalf("body sign %q timestamp %q: %v", b.Sign, b.Timestamp, err)
			}
			if b.Timestamp != f.Header.Get("X-Gitee-Timestamp") {
				t.Errorf("fixture X-Gitee-Timestamp %q, body timestamp %q", f.Header.Get("X-Gitee-Timestamp"), b.Timestamp)
			}
			h := f.Header.Clone()
			h.Set("X-Gitee-Token", b.Sign)
			sent := ms(b.Timestamp)
			req := &forge.Request{Header: h, Body: f.Body, Payload: f.Body, Received: sent.Add(3 * time.Second)}
			if err := p.Verify(req, []config.Secret{"a-newer-key", config.Secret(key)}); err != nil {
				t.Fatalf("Verify(captured signature) = %v", err)
			}
			req.Received = sent.Add(time.Hour + time.Millisecond)
			if err := p.Verify(req, []config.Secret{config.Secret(key)}); !errors.Is(err, verify.ErrStale) {
				t.Errorf("Verify(captured, 1h later) = %v, want ErrStale", err)
			}
		})
	}
	if n < 17 {
		t.Errorf("%d fixtures with a capture-key, want 17", n)
	}
}

func TestGiteeVerifyWindow(t *testing.T) {
	sent := ms(kat2TS)
	hdr := http.Header{"X-Gitee-Token": {kat2Token}, "X-Gitee-Timestamp": {kat2TS}}
	tests := []struct {
		name      string
		tolerance time.Duration
		received  time.Time
		want      error
	}{
		{"at the timestamp", 0, sent, nil},
		{"59m59s later", 0, sent.Add(time.Hour - time.Second), nil},
		{"exactly 1h later", 0, sent.Add(time.Hour), nil},
		{"1h and 1ms later", 0, sent.Add(time.Hour + time.Millisecond), verify.ErrStale},
		{"a day later", 0, sent.Add(24 * time.Hour), verify.ErrStale},
		{"timestamp 1h in the future", 0, sent.Add(-time.Hour), nil},
		{"timestamp 1h and 1ms in the future", 0, sent.Add(-time.Hour - time.Millisecond), verify.ErrStale},
		{"endpoint tolerance 5m, 4m later", 5 * time.Minute, sent.Add(4 * time.Minute), nil},
		{"endpoint tolerance 5m, 6m later", 5 * time.Minute, sent.Add(6 * time.Minute), verify.ErrStale},
		{"endpoint tolerance 2h, 90m later", 2 * time.Hour, sent.Add(90 * time.Minute), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t, &config.Endpoint{Name: "g", Provider: "gitee", Tolerance: config.Duration(tt.tolerance)})
			req := &forge.Request{Header: hdr.Clone(), Body: []byte(`{}`), Payload: []byte(`{}`), Received: tt.received}
			err := p.Verify(req, []config.Secret{kat2Key})
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestGiteeVerifyNegative(t *testing.T) {
	const password = "hook-pa55word"
	recv := ms(kat2TS).Add(time.Second)
	sig := func(tok, ts string) http.Header {
		return http.Header{"X-Gitee-Token": {tok}, "X-Gitee-Timestamp": {ts}}
	}
	tests := []struct {
		name    string
		header  http.Header
		secrets []config.Secret
		want    error // nil: accepted
	}{
		{"password", http.Header{"X-Gitee-Token": {password}}, []config.Secret{password}, nil},
		{"password with a timestamp", sig(password, kat2TS), []config.Secret{password}, nil},
		{"password with a stale timestamp: passwords carry no time", sig(password, "1000"), []config.Secret{password}, nil},
		{"password, rotation: old listed second", http.Header{"X-Gitee-Token": {password}}, []config.Secret{"new-password", password}, nil},
		{"wrong password", http.Header{"X-Gitee-Token": {"guess"}}, []config.Secret{password}, verify.ErrBadSignature},
		{"password prefix", http.Header{"X-Gitee-Token": {password[:5]}}, []config.Secret{password}, verify.ErrBadSignature},
		{"password, other case", http.Header{"X-Gitee-Token": {strings.ToUpper(password)}}, []config.Secret{password}, verify.ErrBadSignature},
		{"missing token", http.Header{"X-Gitee-Timestamp": {kat2TS}}, []config.Secret{password}, verify.ErrMissingSignature},
		{"empty token (hook without password)", sig("", kat2TS), []config.Secret{password}, verify.ErrMissingSignature},
		{"no secrets", http.Header{"X-Gitee-Token": {password}}, nil, verify.ErrNoSecret},
		{"password in the body only is not accepted", http.Header{}, []config.Secret{password}, verify.ErrMissingSignature},

		{"signature", sig(kat2Token, kat2TS), []config.Secret{kat2Key}, nil},
		{"signature url-encoded", sig(kat2TokenQuery, kat2TS), []config.Secret{kat2Key}, nil},
		{"signature, rotation", sig(kat2Token, kat2TS), []config.Secret{"newer-key", kat2Key}, nil},
		{"signature, wrong key", sig(kat2Token, kat2TS), []config.Secret{"other-key"}, verify.ErrBadSignature},
		{"signature for another timestamp", sig(kat2Token, "1795000000005"), []config.Secret{kat2Key}, verify.ErrBadSignature},
		{"signature without timestamp", http.Header{"X-Gitee-Token": {kat2Token}}, []config.Secret{kat2Key}, verify.ErrBadSignature},
		{"non-numeric timestamp", sig(kat2Token, "yesterday"), []config.Secret{kat2Key}, verify.ErrBadSignature},
		{"timestamp in seconds", sig(gitee.Signature(kat2Key, "1795000000"), "1795000000"), []config.Secret{kat2Key}, verify.ErrStale},
		{"signature, bad base64", sig("***"+kat2Token[3:], kat2TS), []config.Secret{kat2Key}, verify.ErrBadSignature},
		{"signature truncated", sig(kat2Token[:20], kat2TS), []config.Secret{kat2Key}, verify.ErrBadSignature},
		{"signature as hex: wrong encoding", sig(katHex, kat2TS), []config.Secret{kat2Key}, verify.ErrBadSignature},
		{"sha256= prefix is not Gitee's", sig("sha256="+kat2Token, kat2TS), []config.Secret{kat2Key}, verify.ErrBadSignature},
		{"HMAC of timestamp only (no newline and key)", sig(verify.Sign(verify.SHA256, verify.Base64, "", []byte(kat2Key), []byte(kat2TS)), kat2TS), []config.Secret{kat2Key}, verify.ErrBadSignature},
		{"signature, stale", sig(gitee.Signature(kat2Key, "1633679083918"), "1633679083918"), []config.Secret{kat2Key}, verify.ErrStale},
		{"signature, stale but wrong key: bad, not stale", sig(gitee.Signature(kat2Key, "1633679083918"), "1633679083918"), []config.Secret{"other-key"}, verify.ErrBadSignature},
		{"the signing key itself as a password", sig(kat2Key, kat2TS), []config.Secret{kat2Key}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &forge.Request{Header: tt.header, Body: []byte(`{"password":"hook-pa55word"}`), Payload: []byte(`{"password":"hook-pa55word"}`), Received: recv}
			err := newProvider(t, nil).Verify(req, tt.secrets)
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
			if !strings.HasPrefix(err.Error(), "gitee: verify") {
				t.Errorf("Verify error %q lacks the gitee: verify context", err)
			}
			for _, s := range tt.secrets {
				if strings.Contains(err.Error(), s.Reveal()) {
					t.Errorf("Verify error %q contains a secret", err)
				}
			}
		})
	}
}

func TestGiteeInspect(t *testing.T) {
	p := newProvider(t, nil)
	tests := []struct {
		name    string
		h       http.Header
		want    forge.Meta
		wantErr error
	}{
		{"no headers", http.Header{}, forge.Meta{}, forge.ErrNotRecognized},
		{"empty event", http.Header{"X-Gitee-Event": {""}}, forge.Meta{}, forge.ErrNotRecognized},
		{"a GitLab delivery", http.Header{"X-Gitlab-Event": {"Push Hook"}}, forge.Meta{}, forge.ErrNotRecognized},
		{"push", http.Header{"X-Gitee-Event": {"Push Hook"}, "X-Gitee-Ping": {"false"}}, forge.Meta{Event: "Push Hook"}, nil},
		{"legacy header only", http.Header{"X-Git-Oschina-Event": {"Tag Push Hook"}}, forge.Meta{Event: "Tag Push Hook"}, nil},
		{"X-Gitee-Event wins", http.Header{"X-Gitee-Event": {"Note Hook"}, "X-Git-Oschina-Event": {"Issue Hook"}}, forge.Meta{Event: "Note Hook"}, nil},
		{"test button", http.Header{"X-Gitee-Event": {"push_hooks"}, "X-Gitee-Ping": {"true"}}, forge.Meta{Event: "push_hooks", Ping: true}, nil},
		{"ping, other case", http.Header{"X-Gitee-Event": {"Push Hook"}, "X-Gitee-Ping": {"True"}}, forge.Meta{Event: "Push Hook", Ping: true}, nil},
		{"request id: delivery, but no dedup key", http.Header{"X-Gitee-Event": {"Push Hook"}, "X-Request-Id": {"r-1"}}, forge.Meta{Event: "Push Hook", Delivery: "r-1"}, nil},
		{"gitee request id first", http.Header{"X-Gitee-Event": {"Push Hook"}, "X-Request-Id": {"r-1"}, "X-Gitee-Request-Id": {"g-1"}}, forge.Meta{Event: "Push Hook", Delivery: "g-1"}, nil},
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

func TestGiteePing(t *testing.T) {
	f := forgetest.LoadFixture(t, "derived-push-test-button")
	p := newProvider(t, nil)
	m, err := p.Inspect(f.Header)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Ping || m.Event != "push_hooks" || m.DedupKey != "" || m.Delivery == "" {
		t.Errorf("Inspect(test button) = %+v, want ping with a delivery id and no dedup key", m)
	}
	fields, err := p.Normalize(m, f.Body)
	if err != nil {
		t.Fatal(err)
	}
	if fields.Kind != event.KindPush || fields.Branch != "feat-2-1" || fields.Action != "created" {
		t.Errorf("Normalize(test button) = kind %q branch %q action %q, want the push it describes", fields.Kind, fields.Branch, fields.Action)
	}
}

func normalize(t *testing.T, ev, body string) event.Fields {
	t.Helper()
	f, err := newProvider(t, nil).Normalize(forge.Meta{Event: ev}, []byte(body))
	if err != nil {
		t.Fatalf("Normalize(%s): %v", ev, err)
	}
	return f
}

func TestGiteeNormalize(t *testing.T) {
	body := func(name string) string { return string(forgetest.LoadFixture(t, name).Body) }
	t.Run("push", func(t *testing.T) {
		f := normalize(t, "Push Hook", body("goscm-push"))
		if f.Kind != event.KindPush || f.Ref != "refs/heads/feat-2-1" || f.Branch != "feat-2-1" || f.Deleted || f.Action != "" {
			t.Errorf("push: %+v", f)
		}
		if f.Repository != (event.Repository{FullName: "kit101/drone-yml-test", Name: "drone-yml-test", Owner: "kit101", URL: "https://gitee.com/kit101/drone-yml-test", CloneURL: "https://gitee.com/kit101/drone-yml-test.git", DefaultBranch: "master"}) {
			t.Errorf("repository = %+v", f.Repository)
		}
		if f.Actor != (event.Person{Login: "kit101", Name: "kit101", Email: "qkssk1711@163.com"}) || len(f.Commits) != 1 || f.Commits[0].ID != f.After || f.Commits[0].Author.Login != "kit101" {
			t.Errorf("actor %+v commits %+v", f.Actor, f.Commits)
		}
	})
	t.Run("branch created and deleted", func(t *testing.T) {
		f := normalize(t, "Push Hook", body("goscm-push-branch-create"))
		if f.Kind != event.KindPush || f.Action != "created" || f.Deleted {
			t.Errorf("create: kind %q action %q deleted %v", f.Kind, f.Action, f.Deleted)
		}
		f = normalize(t, "Push Hook", body("goscm-push-branch-delete"))
		if f.Kind != event.KindPush || f.Action != "deleted" || !f.Deleted || !event.IsZeroSHA(f.After) {
			t.Errorf("delete: kind %q action %q deleted %v after %q", f.Kind, f.Action, f.Deleted, f.After)
		}
	})
	t.Run("tag by ref, not by hook name", func(t *testing.T) {
		f := normalize(t, "Tag Push Hook", body("goscm-tag-delete"))
		if f.Kind != event.KindTag || f.Tag != "1.3" || !f.Deleted || f.Action != "deleted" {
			t.Errorf("tag delete: %+v", f)
		}
		f = normalize(t, "Push Hook", body("goscm-tag-create"))
		if f.Kind != event.KindTag || f.Deleted || f.Action != "created" {
			t.Errorf("tag create under Push Hook: kind %q deleted %v action %q", f.Kind, f.Deleted, f.Action)
		}
		f = normalize(t, "Tag Push Hook", body("goscm-push"))
		if f.Kind != event.KindPush {
			t.Errorf("branch push under Tag Push Hook: kind %q, want push", f.Kind)
		}
	})
	t.Run("deleted flag alone", func(t *testing.T) {
		f := normalize(t, "Push Hook", `{"ref":"refs/heads/x","before":"a","after":"b","deleted":true}`)
		if !f.Deleted || f.Action != "deleted" {
			t.Errorf("deleted: true: deleted %v action %q", f.Deleted, f.Action)
		}
	})
	t.Run("merge request actions", func(t *testing.T) {
		for name, want := range map[string]struct {
			action, forge, state string
			merged               bool
		}{
			"goscm-pr-open":      {"opened", "open", "open", false},
			"goscm-pr-update":    {"updated", "update", "open", false},
			"goscm-pr-labeled":   {"labeled", "update", "open", false},
			"goscm-pr-unlabeled": {"labeled", "update", "open", false}, // Gitee says update_label for both
			"goscm-pr-merge":     {"merged", "merge", "merged", true},
			"goscm-pr-close":     {"closed", "close", "closed", false},
		} {
			f := normalize(t, "Merge Request Hook", body(name))
			if f.Kind != event.KindPullRequest || f.Action != want.action || f.ForgeAction != want.forge || f.PullRequest.State != want.state || f.PullRequest.Merged != want.merged {
				t.Errorf("%s: kind %q action %q forgeaction %q pull request %+v, want %+v", name, f.Kind, f.Action, f.ForgeAction, f.PullRequest, want)
			}
		}
		f := normalize(t, "Merge Request Hook", body("goscm-pr-update"))
		pr := f.PullRequest
		if pr.HeadSHA == "" || pr.BaseSHA == "" || pr.SourceRepository.FullName != "kit101/drone-yml-test" || pr.Author.Login != "kit101" || f.After != pr.HeadSHA {
			t.Errorf("pull request %+v after %q, want head and base shas, source repository, author", pr, f.After)
		}
		pr.HeadSHA, pr.BaseSHA, pr.SourceRepository, pr.Author, pr.Labels = "", "", event.Repository{}, event.Person{}, nil
		if !reflect.DeepEqual(pr, event.PullRequest{Number: 7, Title: "feat add 3", State: "open", SourceBranch: "feat-2", TargetBranch: "master", URL: "https://gitee.com/kit101/drone-yml-test/pulls/7"}) || f.After == "" {
			t.Errorf("pull request %+v after %q", f.PullRequest, f.After)
		}
		f = normalize(t, "Merge Request Hook", `{"action":"reopen","number":"12","title":"t","source_branch":"a","target_branch":"b"}`)
		if f.Action != "opened" || f.PullRequest.Number != 12 || f.PullRequest.SourceBranch != "a" {
			t.Errorf("reopen, top-level fields only: %+v", f)
		}
	})
	t.Run("comments", func(t *testing.T) {
		f := normalize(t, "Note Hook", body("goscm-note-hook-pr-comment"))
		if f.Kind != event.KindComment || f.Action != "created" || f.ForgeAction != "comment" || f.PullRequest.Number != 7 || f.PullRequest.URL != "https://gitee.com/kit101/drone-yml-test/pulls/7" {
			t.Errorf("comment on a pull request: %+v", f)
		}
		f = normalize(t, "Note Hook", body("goscm-note-hook-issue-comment"))
		if f.Kind != event.KindComment || !reflect.DeepEqual(f.PullRequest, event.PullRequest{}) {
			t.Errorf("comment on an issue: kind %q pull request %+v", f.Kind, f.PullRequest)
		}
	})
	t.Run("issue actions", func(t *testing.T) {
		for name, want := range map[string]string{
			"goscm-issue-hook-open": "opened", "goscm-issue-hook-delete": "deleted",
			"goscm-issue-hook-state-change": "state_changed", "goscm-issue-hook-assign": "assigned",
		} {
			f := normalize(t, "Issue Hook", body(name))
			if f.Kind != event.KindIssue || f.Action != want || f.Actor.Login != "kit101" {
				t.Errorf("%s: kind %q action %q actor %+v, want issue %q", name, f.Kind, f.Action, f.Actor, want)
			}
		}
	})
	t.Run("hook_name spelling and fallback", func(t *testing.T) {
		for _, ev := range []string{"merge_request_hooks", "Something New", ""} {
			f := normalize(t, ev, body("goscm-pr-open"))
			if f.Kind != event.KindPullRequest || f.Action != "opened" {
				t.Errorf("%q: kind %q action %q, want pull_request opened (from hook_name)", ev, f.Kind, f.Action)
			}
		}
	})
	t.Run("unknown hook is other", func(t *testing.T) {
		f := normalize(t, "Star Hook", `{"hook_name":"star_hooks","action":"Starred It","repository":{"full_name":"a/b"},"sender":{"login":"u"}}`)
		if f.Kind != event.KindOther || f.Action != "starred_it" || f.ForgeAction != "Starred It" || f.Repository.FullName != "a/b" || f.Actor.Login != "u" {
			t.Errorf("unknown hook: %+v", f)
		}
	})
	t.Run("field of another type is left out", func(t *testing.T) {
		f := normalize(t, "Merge Request Hook", `{"action":"close","number":{"x":1},"pull_request":{"number":"seven","title":"t"},"sender":"root"}`)
		if f.PullRequest.Number != 0 || f.PullRequest.Title != "t" || f.Action != "closed" || f.Actor != (event.Person{}) {
			t.Errorf("got %+v", f)
		}
	})
	t.Run("undecodable payloads", func(t *testing.T) {
		p := newProvider(t, nil)
		for _, b := range []string{``, `{`, `{"a":}`, `[]`, `"push"`, `null`, `{"a":1}x`} {
			if _, err := p.Normalize(forge.Meta{Event: "Push Hook"}, []byte(b)); !errors.Is(err, forge.ErrBadPayload) {
				t.Errorf("Normalize(%q) = %v, want ErrBadPayload", b, err)
			}
		}
	})
}

// TestGiteeRedact checks that the stored payload has neither the password nor
// the signature, and that every other byte is as received.
func TestGiteeRedact(t *testing.T) {
	p := newProvider(t, nil)
	f := forgetest.LoadFixture(t, "derived-push-password-mode")
	orig := bytes.Clone(f.Body)
	got := p.Redact(f.Body)
	if bytes.Contains(got, []byte("hook-pa55word")) || bytes.Contains(got, []byte(`"sign"`)) || bytes.Contains(got, []byte(`"password"`)) {
		t.Fatalf("Redact kept a credential:\n%s", got)
	}
	// The fixture's members are sorted and pretty-printed: password and
	// sign are each one line, which is exactly what must go.
	want := strings.Replace(string(f.Body), "\n  \"password\": \"hook-pa55word\",", "", 1)
	want = strings.Replace(want, "\n  \"sign\": \"\",", "", 1)
	if string(got) != want {
		t.Errorf("Redact changed other bytes:\ngot  %q\nwant %q", got, want)
	}
	if !json.Valid(got) {
		t.Errorf("Redact output is not JSON")
	}
	if !bytes.Equal(f.Body, orig) {
		t.Errorf("Redact modified its input")
	}

	captured := forgetest.LoadFixture(t, "goscm-pr-update").Body
	got = p.Redact(captured)
	var before, after map[string]json.RawMessage
	if err := json.Unmarshal(captured, &before); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(got, &after); err != nil {
		t.Fatalf("Redact output: %v", err)
	}
	delete(before, "password")
	delete(before, "sign")
	if len(after) != len(before) {
		t.Errorf("Redact left %d members, want %d", len(after), len(before))
	}
	for k, v := range before {
		if !bytes.Equal(after[k], v) {
			t.Errorf("member %q changed", k)
		}
	}

	tests := []struct{ name, in, want string }{
		{"first member", `{"password":"p","a":1}`, `{"a":1}`},
		{"first member, spaced", "{\n  \"password\": \"p\",\n  \"a\": 1\n}", "{\n  \"a\": 1\n}"},
		{"last member", `{"a":1,"sign":"s"}`, `{"a":1}`},
		{"only member", `{ "sign" : "s" }`, `{  }`},
		{"both, adjacent, first", `{"password":"p","sign":"s","timestamp":"1"}`, `{"timestamp":"1"}`},
		{"both, apart", `{"a":[1,{"password":"nested"}],"password":"p","b":"}","sign":"s"}`, `{"a":[1,{"password":"nested"}],"b":"}"}`},
		{"escaped name", `{"pass\u0077ord":"p","a":"\"password\""}`, `{"a":"\"password\""}`},
		{"repeated name", `{"password":"p1","x":null,"password":"p2"}`, `{"x":null}`},
		{"null and number values", `{"password":null,"sign":12.5e3,"x":true}`, `{"x":true}`},
		{"nothing to remove", `{"timestamp":"1576754827988","hook_id":1}`, `{"timestamp":"1576754827988","hook_id":1}`},
		{"not an object", `["password","sign"]`, `["password","sign"]`},
		{"empty object", `{}`, `{}`},
	}
	for _, tt := range tests {
		if got := string(p.Redact([]byte(tt.in))); got != tt.want {
			t.Errorf("%s: Redact(%s) = %s, want %s", tt.name, tt.in, got, tt.want)
		}
	}
	clean := []byte(`{"a":1}`)
	if got := p.Redact(clean); &got[0] != &clean[0] {
		t.Errorf("Redact copied a payload with nothing to remove")
	}
}

func BenchmarkVerifyGiteePassword(b *testing.B) {
	p := newProvider(b, nil)
	f := forgetest.LoadFixture(b, "derived-push-password-mode")
	req := forgetest.Request(b, f, time.Now())
	secrets := []config.Secret{"an-old-password", config.Secret(f.Secret)}
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Verify(req, secrets); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyGiteeSignature(b *testing.B) {
	p := newProvider(b, nil)
	req := &forge.Request{Header: http.Header{"X-Gitee-Token": {kat2Token}, "X-Gitee-Timestamp": {kat2TS}}, Received: ms(kat2TS)}
	secrets := []config.Secret{"an-old-key", kat2Key}
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Verify(req, secrets); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNormalizeGiteePush(b *testing.B) {
	forgetest.BenchNormalize(b, newProvider(b, nil), "goscm-push")
}

func BenchmarkRedactGitee(b *testing.B) {
	p := newProvider(b, nil)
	body := forgetest.LoadFixture(b, "goscm-pr-update").Body
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		p.Redact(body)
	}
}

// TestGiteeNormalizeRecord checks the fields issue 13 added.
func TestGiteeNormalizeRecord(t *testing.T) {
	body := func(name string) string { return string(forgetest.LoadFixture(t, name).Body) }
	f := normalize(t, "Merge Request Hook", body("goscm-pr-labeled"))
	if f.Action != "labeled" || len(f.PullRequest.Labels) != 1 || f.PullRequest.Labels[0] != "question" {
		t.Errorf("label change: action %q labels %q, want labeled [question]", f.Action, f.PullRequest.Labels)
	}
	f = normalize(t, "Note Hook", body("goscm-note-hook-issue-comment"))
	if f.Comment.On != event.CommentOnIssue || f.Comment.ID != "6933558" || f.Issue.Title != "create by api" || f.Issue.URL == "" || len(f.Issue.Labels) != 1 {
		t.Errorf("comment on an issue: comment %+v issue %+v", f.Comment, f.Issue)
	}
	f = normalize(t, "Note Hook", body("goscm-note-hook-pr-comment"))
	if f.Comment.On != event.CommentOnPullRequest || f.Comment.Number != f.PullRequest.Number || f.Comment.Number == 0 {
		t.Errorf("comment on a pull request: comment %+v", f.Comment)
	}
	f = normalize(t, "Issue Hook", body("goscm-issue-hook-open"))
	if f.Issue.Title != "test issue hook" || f.Issue.State != "open" || f.Issue.Author.Login != "kit101" {
		t.Errorf("issue %+v", f.Issue)
	}
}
