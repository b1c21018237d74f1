package forge_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
)

// fake is a provider that names the credential headers it is given.
type fake struct {
	id    string
	creds []string
}

func (f *fake) Name() string                                 { return f.id }
func (f *fake) Inspect(http.Header) (forge.Meta, error)      { return forge.Meta{}, nil }
func (f *fake) Verify(*forge.Request, []config.Secret) error { return nil }
func (f *fake) Normalize(forge.Meta, []byte) (event.Fields, error) {
	return event.Fields{}, nil
}
func (f *fake) CredentialHeaders() []string { return slices.Clone(f.creds) }

func describe(id string, creds ...string) forge.Descriptor {
	return forge.Descriptor{ID: id, Folder: strings.ReplaceAll(id, "-", ""), CredentialHeaders: creds,
		New: func(*config.Endpoint) (forge.Provider, error) { return &fake{id: id, creds: creds}, nil }}
}

func TestForgeRegistryDescriptors(t *testing.T) {
	r := forge.NewRegistry()
	r.Register(describe("zeta"))
	r.Register(describe("alpha-forge", "X-Alpha-Token"))
	r.Add("beta", func(*config.Endpoint) (forge.Provider, error) { return &fake{id: "beta"}, nil })
	if got := r.Names(); !slices.Equal(got, []string{"alpha-forge", "beta", "zeta"}) {
		t.Errorf("Names = %q, want sorted", got)
	}
	var order []string
	for _, d := range r.Descriptors() {
		order = append(order, d.ID)
	}
	if !slices.Equal(order, []string{"zeta", "alpha-forge", "beta"}) {
		t.Errorf("Descriptors in order %q, want registration order", order)
	}
	d, ok := r.Descriptor("alpha-forge")
	if !ok || d.Folder != "alphaforge" || !slices.Equal(d.CredentialHeaders, []string{"X-Alpha-Token"}) {
		t.Errorf("Descriptor(alpha-forge) = %+v, %v", d, ok)
	}
	if _, ok := r.Descriptor("nope"); ok || r.Has("nope") {
		t.Error("an unregistered id is found")
	}
	if p, err := r.New(&config.Endpoint{Provider: "zeta"}); err != nil || p.Name() != "zeta" {
		t.Errorf("New(zeta) = %v, %v", p, err)
	}
	if _, err := r.New(&config.Endpoint{Provider: "nope"}); err == nil || !strings.Contains(err.Error(), `unknown provider "nope"`) {
		t.Errorf("New(nope) = %v", err)
	}
	for name, f := range map[string]func(){
		"duplicate":  func() { r.Register(describe("zeta")) },
		"no id":      func() { r.Register(describe("")) },
		"no factory": func() { r.Register(forge.Descriptor{ID: "x"}) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Register did not panic", name)
				}
			}()
			f()
		}()
	}
}

func TestForgeDetectionMatch(t *testing.T) {
	cloud := forge.Detection{Headers: []string{"X-Event-Key"}, AlsoOneOf: []string{"X-Hook-UUID", "X-Request-UUID"}}
	server := forge.Detection{Headers: []string{"X-Event-Key"}}
	for _, tt := range []struct {
		h             http.Header
		cloud, server bool
	}{
		{http.Header{"X-Event-Key": {"repo:push"}, "X-Request-Uuid": {"1"}}, true, true},
		{http.Header{"X-Event-Key": {"repo:refs_changed"}}, false, true},
		{http.Header{"X-Event-Key": {""}, "X-Hook-Uuid": {"1"}}, false, false},
		{http.Header{"X-Hook-Uuid": {"1"}}, false, false},
	} {
		if got := cloud.Match(tt.h); got != tt.cloud {
			t.Errorf("cloud.Match(%v) = %v", tt.h, got)
		}
		if got := server.Match(tt.h); got != tt.server {
			t.Errorf("server.Match(%v) = %v", tt.h, got)
		}
	}
	payload := forge.Detection{ByPayload: true}
	if payload.Match(http.Header{"X-Event-Key": {"x"}}) {
		t.Error("a payload-detected forge matches headers")
	}
	if !(forge.Descriptor{Detect: payload}).Forge() || !(forge.Descriptor{Detect: server}).Forge() || (forge.Descriptor{ID: "generic"}).Forge() {
		t.Error("Forge() wrong")
	}
}

// TestForgeCredentialHeaders checks the extra names ingest redacts: a
// provider's credential headers less those event recognizes by itself,
// each once.
func TestForgeCredentialHeaders(t *testing.T) {
	p := &fake{id: "x", creds: []string{"X-Hub-Signature-256", "Authorization", "X-Shared-Key", "x-shared-key", "X-Other-Mac"}}
	got := forge.CredentialHeaders(p)
	if !slices.Equal(got, []string{"X-Shared-Key", "X-Other-Mac"}) {
		t.Fatalf("CredentialHeaders = %q", got)
	}
	red := event.RedactHeader(http.Header{"X-Shared-Key": {"k"}, "X-Other-Mac": {"m"}, "X-Event": {"push"}}, got...)
	if red["X-Shared-Key"][0] != event.Redacted || red["X-Other-Mac"][0] != event.Redacted || red["X-Event"][0] != "push" {
		t.Errorf("RedactHeader = %v", red)
	}
	if n := forge.CredentialHeaders(&fake{id: "y", creds: []string{"X-Gitlab-Token"}}); n != nil {
		t.Errorf("CredentialHeaders of names event knows = %q, want nil", n)
	}
}

// ExampleRegistry builds a registry from two providers' descriptors, as
// package forge/all does with every forge's Describe, and reads a
// descriptor back.
func ExampleRegistry() {
	r := forge.NewRegistry()
	r.Register(describe("my-forge", "X-My-Forge-Key"))
	r.Register(describe("other"))
	d, _ := r.Descriptor("my-forge")
	p, err := r.New(&config.Endpoint{Name: "hooks", Provider: "my-forge"})
	fmt.Println(r.Names(), d.Folder, p.Name(), err, forge.CredentialHeaders(p))
	// Output: [my-forge other] myforge my-forge <nil> [X-My-Forge-Key]
}
