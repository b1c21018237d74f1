package dockerhub_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/forgehook/forgehook/internal/ingest"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/dockerhub"
	"github.com/forgehook/forgehook/internal/forge/forgetest"
	"github.com/forgehook/forgehook/internal/verify"
)

func newProvider(t testing.TB) *dockerhub.Provider {
	return forgetest.New[*dockerhub.Provider](t, dockerhub.New, &config.Endpoint{Name: "hub", Provider: "dockerhub"})
}

func TestDockerHubConformance(t *testing.T) {
	forgetest.Run(t, newProvider(t), forgetest.Options{BodySigned: false, MinFixtures: 4})
}

func TestDockerHubNew(t *testing.T) {
	p, err := dockerhub.New(nil)
	if err != nil {
		t.Fatalf("New(nil) = %v", err)
	}
	forgetest.Want(t, "Name()", p.Name(), "dockerhub")
	if _, ok := p.(forge.Signer); ok {
		t.Errorf("dockerhub is a forge.Signer; Docker Hub signs nothing and the token travels in the URL")
	}
}

func TestDockerHubInspect(t *testing.T) {
	fx := forgetest.LoadFixture(t, "docs-push")
	_, err := newProvider(t).Inspect(fx.Header)
	if !errors.Is(err, forge.ErrNotRecognized) {
		t.Fatalf("Inspect(headers) = %v, want ErrNotRecognized: Docker Hub sends no event header", err)
	}
}

func TestDockerHubInspectBody(t *testing.T) {
	p := newProvider(t)
	tests := []struct {
		name    string
		payload string
		wantErr error
	}{
		{"minimal", `{"push_data":{},"repository":{"repo_name":"a/b"}}`, nil},
		{"official image name", `{"push_data":{"tag":"1"},"repository":{"repo_name":"busybox"}}`, nil},
		{"with callback_url", `{"callback_url":"https://registry.hub.docker.com/u/a/b/hook/x/","push_data":{},"repository":{"repo_name":"a/b"}}`, nil},
		{"leading white space", " \n\t{\"push_data\":{},\"repository\":{\"repo_name\":\"a/b\"}}", nil},
		{"empty object", `{}`, forge.ErrNotRecognized},
		{"no push_data", `{"repository":{"repo_name":"a/b"}}`, forge.ErrNotRecognized},
		{"push_data not an object", `{"push_data":"x","repository":{"repo_name":"a/b"}}`, forge.ErrNotRecognized},
		{"push_data null", `{"push_data":null,"repository":{"repo_name":"a/b"}}`, forge.ErrNotRecognized},
		{"no repository", `{"push_data":{}}`, forge.ErrNotRecognized},
		{"repo_name empty", `{"push_data":{},"repository":{"repo_name":""}}`, forge.ErrNotRecognized},
		{"repo_name not a string", `{"push_data":{},"repository":{"repo_name":7}}`, forge.ErrNotRecognized},
		// Alibaba Cloud Container Registry sends a look-alike payload
		// with repository.repo_full_name and no repo_name.
		{"acr look-alike", `{"push_data":{"tag":"latest"},"repository":{"repo_full_name":"ns/app"}}`, forge.ErrNotRecognized},
		{"array", `[{"push_data":{}}]`, forge.ErrNotRecognized},
		{"truncated", `{"push_data":{},"repository":{"repo_name":"a/b"}`, forge.ErrNotRecognized},
		{"trailing garbage", `{"push_data":{},"repository":{"repo_name":"a/b"}}x`, forge.ErrNotRecognized},
		{"empty", ``, forge.ErrNotRecognized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := p.InspectBody(http.Header{}, []byte(tt.payload))
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("InspectBody = %v, want nil", err)
				}
				if m != (forge.Meta{Event: "push"}) {
					t.Errorf("InspectBody = %+v, want event push and no delivery id", m)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("InspectBody = %v, want %v", err, tt.wantErr)
			}
			forgetest.Want(t, "status", ingest.StatusOf(err), http.StatusBadRequest)
		})
	}
}

// TestDockerHubInspectBodyRejectsOtherForges checks that no delivery of
// another forge is taken for Docker Hub's: auto-detection relies on it.
func TestDockerHubInspectBodyRejectsOtherForges(t *testing.T) {
	forgetest.RejectsOtherForges(t, newProvider(t), "dockerhub")
}

func TestDockerHubVerify(t *testing.T) {
	p := newProvider(t)
	const secret = "dh-token-6f1c2a9e"
	right := []config.Secret{secret}
	req := func(rawQuery string, h http.Header) *forge.Request {
		q, err := url.ParseQuery(rawQuery)
		if err != nil {
			t.Fatal(err)
		}
		return &forge.Request{Header: h, Query: q, Body: []byte(`{}`), Payload: []byte(`{}`)}
	}
	tests := []struct {
		name    string
		req     *forge.Request
		secrets []config.Secret
		want    error
	}{
		{"valid", req("token="+secret, nil), right, nil},
		{"valid among other parameters", req("a=1&token="+secret+"&b=2", nil), right, nil},
		{"url-encoded secret", req("token=a%2Bb%2Fc%3Dd%26e", nil), []config.Secret{"a+b/c=d&e"}, nil},
		{"rotation: old secret still listed", req("token="+secret, nil), []config.Secret{"new-token", secret}, nil},
		{"repeated parameter: the first one counts", req("token="+secret+"&token=other", nil), right, nil},
		{"repeated parameter, wrong first", req("token=other&token="+secret, nil), right, verify.ErrBadSignature},
		{"missing", req("", nil), right, verify.ErrMissingSignature},
		{"empty", req("token=", nil), right, verify.ErrMissingSignature},
		{"other parameter name", req("secret="+secret, nil), right, verify.ErrMissingSignature},
		{"parameter name in upper case", req("TOKEN="+secret, nil), right, verify.ErrMissingSignature},
		{"token in a header instead", req("", http.Header{"Token": {secret}, "Authorization": {"Bearer " + secret}}), right, verify.ErrMissingSignature},
		{"wrong token", req("token=guess", nil), right, verify.ErrBadSignature},
		{"prefix of the secret", req("token="+secret[:8], nil), right, verify.ErrBadSignature},
		{"secret with a trailing space", req("token="+secret+"%20", nil), right, verify.ErrBadSignature},
		{"different case", req("token="+strings.ToUpper(secret), nil), right, verify.ErrBadSignature},
		{"rotation: neither", req("token="+secret, nil), []config.Secret{"new", "older"}, verify.ErrBadSignature},
		{"no secrets", req("token="+secret, nil), nil, verify.ErrNoSecret},
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
			if !strings.HasPrefix(err.Error(), "dockerhub: verify token") {
				t.Errorf("Verify error %q lacks the dockerhub: verify context", err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("Verify error %q contains the secret", err)
			}
		})
	}
}

// TestDockerHubNormalizeCases pins the mapping on the fixtures, so that a
// wrong golden cannot hide it.
func TestDockerHubNormalizeCases(t *testing.T) {
	p := newProvider(t)
	tests := []struct {
		fixture string
		check   func(t *testing.T, f event.Fields)
	}{
		{"docs-push", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindRegistry)
			forgetest.Want(t, "action", f.Action, "pushed")
			forgetest.Want(t, "repository.full_name", f.Repository.FullName, "svendowideit/testhook")
			forgetest.Want(t, "repository.name", f.Repository.Name, "testhook")
			forgetest.Want(t, "repository.owner", f.Repository.Owner, "svendowideit")
			forgetest.Want(t, "repository.url", f.Repository.URL, "https://registry.hub.docker.com/u/svendowideit/testhook/")
			forgetest.Want(t, "tag", f.Tag, "latest")
			forgetest.Want(t, "ref (an image tag is no git ref)", f.Ref, "")
			forgetest.Want(t, "branch", f.Branch, "")
			forgetest.Want(t, "actor.login", f.Actor.Login, "trustedbuilder")
			forgetest.Want(t, "deleted", f.Deleted, false)
			forgetest.Want(t, "forgeaction", f.ForgeAction, "")
		}},
		{"gp-build-notice", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "tag", f.Tag, "latest")
			forgetest.Want(t, "repository.full_name", f.Repository.FullName, "svendowideit/testhook")
		}},
		{"jenkins-own-repository", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindRegistry)
			forgetest.Want(t, "tag (payload without one)", f.Tag, "")
			forgetest.Want(t, "repository.full_name", f.Repository.FullName, "csanchez/jenkins-swarm-slave")
			forgetest.Want(t, "actor.login", f.Actor.Login, "csanchez")
		}},
		{"jenkins-official-image", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "repository.full_name (bare repo_name completed)", f.Repository.FullName, "library/busybox")
			forgetest.Want(t, "repository.name", f.Repository.Name, "busybox")
			forgetest.Want(t, "repository.owner", f.Repository.Owner, "library")
			forgetest.Want(t, "repository.url", f.Repository.URL, "https://registry.hub.docker.com/_/busybox/")
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
			forgetest.Want(t, "forge", f.Forge, "dockerhub")
			tt.check(t, f)
		})
	}
}

func TestDockerHubNormalizeEdges(t *testing.T) {
	p := newProvider(t)
	tests := []struct {
		name                      string
		payload                   string
		fullName, owner, repoName string
	}{
		{"namespace preferred to owner", `{"push_data":{},"repository":{"repo_name":"app","namespace":"ns","owner":"person"}}`, "ns/app", "ns", "app"},
		{"owner when no namespace", `{"push_data":{},"repository":{"repo_name":"app","owner":"person"}}`, "person/app", "person", "app"},
		{"bare name, no namespace or owner", `{"push_data":{},"repository":{"repo_name":"app"}}`, "app", "", "app"},
		{"name derived from repo_name", `{"push_data":{},"repository":{"repo_name":"ns/app"}}`, "ns/app", "", "app"},
		{"name as sent", `{"push_data":{},"repository":{"repo_name":"ns/app","name":"other"}}`, "ns/app", "", "other"},
		{"mistyped members ignored", `{"push_data":{"tag":7,"pushed_at":"yesterday"},"repository":{"repo_name":"ns/app","namespace":["x"]}}`, "ns/app", "", "app"},
		{"no repository", `{"push_data":{"tag":"v1"}}`, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := p.Normalize(forge.Meta{Event: "push"}, []byte(tt.payload))
			if err != nil {
				t.Fatalf("Normalize = %v", err)
			}
			forgetest.Want(t, "repository.full_name", f.Repository.FullName, tt.fullName)
			forgetest.Want(t, "repository.owner", f.Repository.Owner, tt.owner)
			forgetest.Want(t, "repository.name", f.Repository.Name, tt.repoName)
			forgetest.Want(t, "kind", f.Kind, event.KindRegistry)
		})
	}
}

func TestDockerHubNormalizeBadPayload(t *testing.T) {
	p := newProvider(t)
	for _, body := range []string{``, `  `, `{`, `null`, `[]`, `"push"`, `42`, `{"a":1}x`, "\xff"} {
		_, err := p.Normalize(forge.Meta{Event: "push"}, []byte(body))
		if !errors.Is(err, forge.ErrBadPayload) {
			t.Errorf("Normalize(%q) = %v, want ErrBadPayload", body, err)
		}
		if got := ingest.StatusOf(err); got != http.StatusBadRequest {
			t.Errorf("Normalize(%q): status %d, want 400", body, got)
		}
	}
}

func BenchmarkNormalizeDockerHub(b *testing.B) {
	forgetest.BenchNormalize(b, newProvider(b), "docs-push")
}

func BenchmarkInspectBodyDockerHub(b *testing.B) {
	forgetest.BenchInspectBody(b, newProvider(b), "docs-push")
}
