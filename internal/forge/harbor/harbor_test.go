package harbor_test

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
	"github.com/forgehook/forgehook/internal/forge/harbor"
	"github.com/forgehook/forgehook/internal/verify"
)

func newProvider(t testing.TB) *harbor.Provider {
	return forgetest.New[*harbor.Provider](t, harbor.New, &config.Endpoint{Name: "registry", Provider: "harbor"})
}

func TestHarborConformance(t *testing.T) {
	forgetest.Run(t, newProvider(t), forgetest.Options{BodySigned: false, MinFixtures: 24})
}

func TestHarborNew(t *testing.T) {
	p, err := harbor.New(nil)
	if err != nil {
		t.Fatalf("New(nil) = %v", err)
	}
	forgetest.Want(t, "Name()", p.Name(), "harbor")
}

// TestHarborFixtureCoverage keeps a fixture for every event Harbor 2.x
// sends, in both payload formats.
func TestHarborFixtureCoverage(t *testing.T) {
	p := newProvider(t)
	fixtures, err := forgetest.LoadDir(filepath.Join("testdata", "deliveries"))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, fx := range fixtures {
		m, err := p.InspectBody(fx.Header, fx.Body)
		if err != nil {
			t.Fatalf("%s: %v", fx.Name, err)
		}
		have[m.Event] = true
	}
	for _, ev := range strings.Fields(`PUSH_ARTIFACT PULL_ARTIFACT DELETE_ARTIFACT SCANNING_COMPLETED SCANNING_FAILED
		SCANNING_STOPPED QUOTA_EXCEED QUOTA_WARNING REPLICATION TAG_RETENTION
		harbor.artifact.pushed harbor.artifact.pulled harbor.artifact.deleted harbor.scan.completed harbor.scan.failed
		harbor.scan.stopped harbor.quota.exceeded harbor.quota.warned harbor.replication.status.changed
		harbor.tag_retention.finished`) {
		if !have[ev] {
			t.Errorf("no fixture for %s", ev)
		}
	}
}

func TestHarborInspect(t *testing.T) {
	p := newProvider(t)
	tests := []struct {
		name    string
		h       http.Header
		want    forge.Meta
		wantErr error
	}{
		{"no headers", http.Header{}, forge.Meta{}, forge.ErrNotRecognized},
		{"json delivery", http.Header{"Content-Type": {"application/json"}}, forge.Meta{}, forge.ErrNotRecognized},
		{"binary mode", http.Header{"Ce-Type": {"harbor.artifact.pushed"}, "Ce-Id": {"66e18103"}},
			forge.Meta{Event: "harbor.artifact.pushed", Delivery: "66e18103", DedupKey: "66e18103"}, nil},
		{"binary mode without id", http.Header{"Ce-Type": {"harbor.scan.failed"}}, forge.Meta{Event: "harbor.scan.failed"}, nil},
		{"another producer's CloudEvent", http.Header{"Ce-Type": {"dev.knative.sources.ping"}, "Ce-Id": {"x"}}, forge.Meta{}, forge.ErrNotRecognized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.Inspect(tt.h)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Inspect = %v, want %v", err, tt.wantErr)
			}
			forgetest.Want(t, "Meta", got, tt.want)
		})
	}
}

func TestHarborInspectBody(t *testing.T) {
	p := newProvider(t)
	tests := []struct {
		name    string
		h       http.Header
		payload string
		want    forge.Meta
		wantErr error
	}{
		{"default", nil, `{"type":"PUSH_ARTIFACT","occur_at":1,"operator":"admin","event_data":{}}`, forge.Meta{Event: "PUSH_ARTIFACT"}, nil},
		{"default, Harbor 1.10 type", nil, `{"type":"pushImage","occur_at":1,"event_data":{"resources":[]}}`, forge.Meta{Event: "pushImage"}, nil},
		{"default, unknown type", nil, `{"type":"SOMETHING_NEW","event_data":{}}`, forge.Meta{Event: "SOMETHING_NEW"}, nil},
		{"cloudevents", nil, `{"specversion":"1.0","id":"e1","type":"harbor.artifact.pushed","data":{}}`,
			forge.Meta{Event: "harbor.artifact.pushed", Delivery: "e1", DedupKey: "e1"}, nil},
		{"cloudevents without id", nil, `{"specversion":"1.0","type":"harbor.quota.warned"}`, forge.Meta{Event: "harbor.quota.warned"}, nil},
		{"binary mode: headers decide", http.Header{"Ce-Type": {"harbor.artifact.deleted"}, "Ce-Id": {"b1"}}, `{"resources":[]}`,
			forge.Meta{Event: "harbor.artifact.deleted", Delivery: "b1", DedupKey: "b1"}, nil},
		{"empty body (Harbor 1.9-2.2 Test Endpoint)", nil, ``, forge.Meta{}, forge.ErrNotRecognized},
		{"empty object", nil, `{}`, forge.Meta{}, forge.ErrNotRecognized},
		{"type without event_data", nil, `{"type":"PUSH_ARTIFACT","occur_at":1}`, forge.Meta{}, forge.ErrNotRecognized},
		{"event_data not an object", nil, `{"type":"PUSH_ARTIFACT","event_data":[]}`, forge.Meta{}, forge.ErrNotRecognized},
		{"event_data without type", nil, `{"event_data":{}}`, forge.Meta{}, forge.ErrNotRecognized},
		{"type not a string", nil, `{"type":1,"event_data":{}}`, forge.Meta{}, forge.ErrNotRecognized},
		{"another producer's CloudEvent", nil, `{"specversion":"1.0","id":"x","type":"com.github.push","data":{}}`, forge.Meta{}, forge.ErrNotRecognized},
		{"CloudEvent type without specversion", nil, `{"id":"x","type":"harbor.artifact.pushed","data":{}}`, forge.Meta{}, forge.ErrNotRecognized},
		{"CloudEvent with event_data: specversion decides", nil, `{"specversion":"1.0","type":"PUSH_ARTIFACT","event_data":{}}`, forge.Meta{}, forge.ErrNotRecognized},
		{"array", nil, `[{"type":"PUSH_ARTIFACT","event_data":{}}]`, forge.Meta{}, forge.ErrNotRecognized},
		{"truncated", nil, `{"type":"PUSH_ARTIFACT","event_data":{}`, forge.Meta{}, forge.ErrNotRecognized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.h
			if h == nil {
				h = http.Header{}
			}
			got, err := p.InspectBody(h, []byte(tt.payload))
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

// TestHarborInspectBodyRejectsOtherForges checks that no delivery of
// another forge is taken for Harbor's: auto-detection relies on it.
func TestHarborInspectBodyRejectsOtherForges(t *testing.T) {
	forgetest.RejectsOtherForges(t, newProvider(t), "harbor")
}

func TestHarborVerify(t *testing.T) {
	p := newProvider(t)
	const token = "hb-6e1f0c77d2"
	req := func(auth ...string) *forge.Request {
		h := http.Header{"Content-Type": {"application/json"}}
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
		{"bare token", req(token), []config.Secret{token}, nil},
		{"bearer token, secret is the token", req("Bearer " + token), []config.Secret{token}, nil},
		{"bearer token, secret is the whole header", req("Bearer " + token), []config.Secret{"Bearer " + token}, nil},
		{"bearer scheme in lower case", req("bearer " + token), []config.Secret{token}, nil},
		{"bearer with extra spaces", req("Bearer   " + token + " "), []config.Secret{token}, nil},
		{"basic credentials, secret user:password", req(forgetest.Basic("harbor:s3cr3t")), []config.Secret{"harbor:s3cr3t"}, nil},
		{"basic credentials, secret is the whole header", req(forgetest.Basic("harbor:s3cr3t")), []config.Secret{config.Secret(forgetest.Basic("harbor:s3cr3t"))}, nil},
		{"rotation: old token still listed", req("Bearer " + token), []config.Secret{"new-token", token}, nil},
		{"first of two headers counts", req("Bearer "+token, "Bearer other"), []config.Secret{token}, nil},
		{"missing", req(), []config.Secret{token}, verify.ErrMissingSignature},
		{"empty", req(""), []config.Secret{token}, verify.ErrMissingSignature},
		{"white space only", req("   "), []config.Secret{token}, verify.ErrMissingSignature},
		{"wrong token", req("Bearer guess"), []config.Secret{token}, verify.ErrBadSignature},
		{"wrong bare token", req("guess"), []config.Secret{token}, verify.ErrBadSignature},
		{"scheme only", req("Bearer"), []config.Secret{token}, verify.ErrBadSignature},
		{"other scheme", req("Token " + token), []config.Secret{token}, verify.ErrBadSignature},
		{"whole header expected, token sent bare", req(token), []config.Secret{"Bearer " + token}, verify.ErrBadSignature},
		{"basic with the wrong password", req(forgetest.Basic("harbor:guess")), []config.Secret{"harbor:s3cr3t"}, verify.ErrBadSignature},
		{"basic with bad base64", req("Basic !!!"), []config.Secret{"harbor:s3cr3t"}, verify.ErrBadSignature},
		{"basic is not a bearer token", req(forgetest.Basic("harbor:s3cr3t")), []config.Secret{config.Secret(base64.StdEncoding.EncodeToString([]byte("harbor:s3cr3t")))}, verify.ErrBadSignature},
		{"prefix of the token", req("Bearer " + token[:6]), []config.Secret{token}, verify.ErrBadSignature},
		{"no secrets", req("Bearer " + token), nil, verify.ErrNoSecret},
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
			if !strings.HasPrefix(err.Error(), "harbor: verify Authorization") {
				t.Errorf("Verify error %q lacks the harbor: verify context", err)
			}
			if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("Verify error %q contains the secret", err)
			}
		})
	}
}

func TestHarborSign(t *testing.T) {
	p := newProvider(t)
	h := http.Header{}
	p.Sign(h, []byte(`{}`), "Bearer hb-1", time.Time{})
	forgetest.Want(t, "Authorization", h.Get("Authorization"), "Bearer hb-1")
	if err := p.Verify(&forge.Request{Header: h}, []config.Secret{"Bearer hb-1"}); err != nil {
		t.Errorf("Verify(Sign) = %v", err)
	}
}

// TestHarborNormalizeCases pins the mapping on the fixtures, so that a
// wrong golden cannot hide it.
func TestHarborNormalizeCases(t *testing.T) {
	p := newProvider(t)
	tests := []struct {
		fixture string
		check   func(t *testing.T, m forge.Meta, f event.Fields)
	}{
		{"docs-push-artifact", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "event", m.Event, "PUSH_ARTIFACT")
			forgetest.Want(t, "delivery", m.Delivery, "")
			forgetest.Want(t, "dedup key", m.DedupKey, "")
			forgetest.Want(t, "kind", f.Kind, event.KindRegistry)
			forgetest.Want(t, "action", f.Action, "pushed")
			forgetest.Want(t, "repository.full_name", f.Repository.FullName, "harbor/alpine")
			forgetest.Want(t, "repository.name", f.Repository.Name, "alpine")
			forgetest.Want(t, "repository.owner", f.Repository.Owner, "harbor")
			forgetest.Want(t, "tag (pushed by digest)", f.Tag, "")
			forgetest.Want(t, "ref", f.Ref, "")
			forgetest.Want(t, "actor.login", f.Actor.Login, "harbor-jobservice")
		}},
		{"docs-ce-artifact-pushed", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "event", m.Event, "harbor.artifact.pushed")
			forgetest.Want(t, "delivery", m.Delivery, "66e18103-09c1-41f6-982f-37df223f3eeb")
			forgetest.Want(t, "dedup key", m.DedupKey, "66e18103-09c1-41f6-982f-37df223f3eeb")
			forgetest.Want(t, "kind", f.Kind, event.KindRegistry)
			forgetest.Want(t, "action", f.Action, "pushed")
			forgetest.Want(t, "repository.full_name", f.Repository.FullName, "harbor/alpine")
			forgetest.Want(t, "actor.login", f.Actor.Login, "harbor-jobservice")
		}},
		{"docs-delete-artifact", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "action", f.Action, "deleted")
			forgetest.Want(t, "tag", f.Tag, "3.8")
		}},
		{"docs-ce-artifact-pulled", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "action", f.Action, "pulled")
			forgetest.Want(t, "actor.login", f.Actor.Login, "robot$harbor+wHSYCuGD-Trivy-8e2e7505-d1e6-11ed-9e71-0242ac130009")
		}},
		{"docs-v2.0-push-artifact", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "tag", f.Tag, "latest")
			forgetest.Want(t, "repository.full_name", f.Repository.FullName, "test-webhook/debian")
			forgetest.Want(t, "actor.login", f.Actor.Login, "admin")
		}},
		{"docs-scanning-failed", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPipeline)
			forgetest.Want(t, "action", f.Action, "failed")
			forgetest.Want(t, "actor.login", f.Actor.Login, "auto")
		}},
		{"docs-ce-scan-stopped", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPipeline)
			forgetest.Want(t, "action", f.Action, "stopped")
		}},
		{"zulip-scanning-completed", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "action", f.Action, "completed")
			forgetest.Want(t, "tag", f.Tag, "3.8.1")
			forgetest.Want(t, "repository.full_name (nested name)", f.Repository.FullName, "test/alpine/helm")
			forgetest.Want(t, "repository.name", f.Repository.Name, "alpine/helm")
		}},
		{"docs-replication", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPipeline)
			forgetest.Want(t, "action", f.Action, "success")
			forgetest.Want(t, "forgeaction", f.ForgeAction, "Success")
			forgetest.Want(t, "repository.full_name", f.Repository.FullName, "")
			forgetest.Want(t, "actor.login", f.Actor.Login, "MANUAL")
		}},
		{"docs-ce-tag-retention-finished", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPipeline)
			forgetest.Want(t, "action", f.Action, "finished")
			forgetest.Want(t, "forgeaction", f.ForgeAction, "SUCCESS")
			forgetest.Want(t, "repository.owner (the project)", f.Repository.Owner, "harbor")
		}},
		{"docs-quota-exceed", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindOther)
			forgetest.Want(t, "action", f.Action, "exceeded")
			forgetest.Want(t, "actor.login", f.Actor.Login, "")
		}},
		{"docs-ce-quota-warned", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindOther)
			forgetest.Want(t, "action", f.Action, "warned")
		}},
		{"source-test-pull-artifact", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "action", f.Action, "pulled")
			forgetest.Want(t, "repository.full_name", f.Repository.FullName, "library/busybox")
			forgetest.Want(t, "tag (digest)", f.Tag, "")
		}},
		{"binary-mode-artifact-pushed.derived", func(t *testing.T, m forge.Meta, f event.Fields) {
			forgetest.Want(t, "event", m.Event, "harbor.artifact.pushed")
			forgetest.Want(t, "delivery", m.Delivery, "66e18103-09c1-41f6-982f-37df223f3eeb")
			forgetest.Want(t, "kind", f.Kind, event.KindRegistry)
			forgetest.Want(t, "repository.full_name", f.Repository.FullName, "harbor/alpine")
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
			forgetest.Want(t, "forge", f.Forge, "harbor")
			forgetest.Want(t, "ping", m.Ping, false)
			tt.check(t, m, f)
		})
	}
}

// TestHarborEventKinds maps every event name Harbor has sent to its kind and
// action, on a bare payload.
func TestHarborEventKinds(t *testing.T) {
	p := newProvider(t)
	tests := []struct {
		events []string
		kind   event.Kind
		action string
	}{
		{[]string{"PUSH_ARTIFACT", "harbor.artifact.pushed", "pushImage", "UPLOAD_CHART", "uploadChart"}, event.KindRegistry, "pushed"},
		{[]string{"PULL_ARTIFACT", "harbor.artifact.pulled", "pullImage", "DOWNLOAD_CHART", "downloadChart"}, event.KindRegistry, "pulled"},
		{[]string{"DELETE_ARTIFACT", "harbor.artifact.deleted", "deleteImage", "DELETE_CHART", "deleteChart"}, event.KindRegistry, "deleted"},
		{[]string{"COPY_ARTIFACT"}, event.KindRegistry, "copy"},
		{[]string{"harbor.artifact.labeled"}, event.KindRegistry, "labeled"},
		{[]string{"SCANNING_COMPLETED", "harbor.scan.completed", "scanningCompleted"}, event.KindPipeline, "completed"},
		{[]string{"SCANNING_FAILED", "harbor.scan.failed", "scanningFailed"}, event.KindPipeline, "failed"},
		{[]string{"SCANNING_STOPPED", "harbor.scan.stopped"}, event.KindPipeline, "stopped"},
		{[]string{"REPLICATION", "harbor.replication.status.changed"}, event.KindPipeline, ""},
		{[]string{"TAG_RETENTION", "harbor.tag_retention.finished"}, event.KindPipeline, "finished"},
		{[]string{"QUOTA_EXCEED", "harbor.quota.exceeded"}, event.KindOther, "exceeded"},
		{[]string{"QUOTA_WARNING", "harbor.quota.warned"}, event.KindOther, "warned"},
		{[]string{"projectQuota", "CREATE_PROJECT", "harbor.tag.created", "_ARTIFACT", "harbor.artifact.", "testEndpoint", ""}, event.KindOther, ""},
	}
	for _, tt := range tests {
		for _, ev := range tt.events {
			f, err := p.Normalize(forge.Meta{Event: ev}, []byte(`{"event_data":{}}`))
			if err != nil {
				t.Errorf("Normalize(%q) = %v", ev, err)
				continue
			}
			if f.Kind != tt.kind || f.Action != tt.action || f.Forge != "harbor" {
				t.Errorf("Normalize(%q) = kind %q action %q forge %q, want %q %q harbor", ev, f.Kind, f.Action, f.Forge, tt.kind, tt.action)
			}
		}
	}
	// Without Meta.Event the payload's type decides.
	f, err := p.Normalize(forge.Meta{}, []byte(`{"type":"DELETE_ARTIFACT","event_data":{}}`))
	if err != nil || f.Action != "deleted" {
		t.Errorf("Normalize(no Meta.Event) = %q, %v, want deleted from the payload's type", f.Action, err)
	}
	// A replication's action is its job status.
	f, err = p.Normalize(forge.Meta{Event: "harbor.replication.status.changed"}, []byte(`{"data":{"replication":{"job_status":"In Progress"}}}`))
	if err != nil || f.Action != "in_progress" || f.ForgeAction != "In Progress" {
		t.Errorf("Normalize(replication) = action %q forgeaction %q, %v", f.Action, f.ForgeAction, err)
	}
}

func TestHarborNormalizeTag(t *testing.T) {
	p := newProvider(t)
	for payload, tag := range map[string]string{
		`{"event_data":{"resources":[{"tag":"sha256:ab"},{"tag":"v2"}]}}`: "v2",
		`{"event_data":{"resources":[{"tag":""},{"tag":"v3"}]}}`:          "v3",
		`{"event_data":{"resources":[{"digest":"sha256:ab"}]}}`:           "",
		`{"event_data":{"resources":"x"}}`:                                "",
		`{"event_data":{"resources":[{"tag":5},{"tag":"v4"}]}}`:           "v4",
	} {
		f, err := p.Normalize(forge.Meta{Event: "PUSH_ARTIFACT"}, []byte(payload))
		if err != nil {
			t.Errorf("Normalize(%s) = %v", payload, err)
			continue
		}
		if f.Tag != tag {
			t.Errorf("Normalize(%s): tag %q, want %q", payload, f.Tag, tag)
		}
	}
}

func TestHarborNormalizeBadPayload(t *testing.T) {
	p := newProvider(t)
	for _, body := range []string{``, `   `, `{`, `null`, `[]`, `"PUSH_ARTIFACT"`, `42`, `{"a":1}x`, "\xff"} {
		_, err := p.Normalize(forge.Meta{Event: "PUSH_ARTIFACT"}, []byte(body))
		if !errors.Is(err, forge.ErrBadPayload) {
			t.Errorf("Normalize(%q) = %v, want ErrBadPayload", body, err)
		}
	}
}

func BenchmarkNormalizeHarbor(b *testing.B) {
	forgetest.BenchNormalize(b, newProvider(b), "docs-scanning-completed")
}

func BenchmarkInspectBodyHarbor(b *testing.B) {
	forgetest.BenchInspectBody(b, newProvider(b), "docs-ce-artifact-pushed")
}
