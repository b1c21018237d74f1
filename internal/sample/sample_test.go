package sample_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/all"
	"github.com/forgehook/forgehook/internal/forge/forgetest"
	"github.com/forgehook/forgehook/internal/sample"
	"github.com/forgehook/forgehook/internal/verify"
	"github.com/rogpeppe/go-internal/txtar"
)

// forges returns the registered forge ids that must have samples: every
// provider but auto (which detects the others) and generic (whose scheme
// each endpoint configures).
func forges() []string {
	var out []string
	for _, n := range all.Registry().Names() {
		if n != "auto" && n != "generic" {
			out = append(out, n)
		}
	}
	return out
}

func provider(t *testing.T, name string) forge.Provider {
	t.Helper()
	p, err := all.Registry().New(&config.Endpoint{Name: "sample-test", Provider: name})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSampleEveryProvider fails when a registered forge has no sample, or
// a sample is not of a registered forge.
func TestSampleEveryProvider(t *testing.T) {
	have := sample.Providers()
	names := forges()
	if len(names) < 10 {
		t.Fatalf("only %d registered forges: the registry walk is broken", len(names))
	}
	for _, n := range names {
		if !slices.Contains(have, n) || len(sample.Kinds(n)) == 0 {
			t.Errorf("registered provider %s has no sample in internal/sample/deliveries/%s", n, n)
		}
	}
	for _, n := range have {
		if !slices.Contains(names, n) {
			t.Errorf("samples of %s, which is not a registered forge", n)
		}
	}
}

// TestSampleNormalizesToKind sends every sample of a registered provider
// through that provider, as ingest would, and checks the kind it declares.
func TestSampleNormalizesToKind(t *testing.T) {
	for _, n := range sample.Providers() {
		p := provider(t, n)
		for _, k := range sample.Kinds(n) {
			t.Run(n+"/"+k, func(t *testing.T) {
				s, err := sample.Get(n, k)
				if err != nil {
					t.Fatal(err)
				}
				if s.Provider != n || s.Kind != k || s.Source == "" || s.Fixture == "" {
					t.Fatalf("sample %s/%s: provider %q kind %q source %q fixture %q", n, k, s.Provider, s.Kind, s.Source, s.Fixture)
				}
				if !json.Valid(s.Payload) {
					t.Fatalf("payload is not JSON")
				}
				m, err := forge.InspectRequest(p, s.Header, s.Payload)
				if err != nil {
					t.Fatalf("inspect: %v", err)
				}
				f, err := p.Normalize(m, s.Payload)
				if err != nil {
					t.Fatalf("normalize: %v", err)
				}
				if string(f.Kind) != k {
					t.Errorf("normalizes to kind %q, want %q", f.Kind, k)
				}
				if k == string(event.KindPing) && !m.Ping {
					t.Errorf("ping sample not reported as a ping by Inspect")
				}
			})
		}
	}
}

// TestSampleWithoutCredentials checks that no sample carries a credential:
// no credential header (a registered provider's Verify finds none), and no
// secret, token or password member with a value in the payload.
func TestSampleWithoutCredentials(t *testing.T) {
	for _, n := range sample.Providers() {
		for _, k := range sample.Kinds(n) {
			s, err := sample.Get(n, k)
			if err != nil {
				t.Fatal(err)
			}
			// The file itself, not only what Get returns (Parse drops
			// credentials), must hold none.
			raw, err := os.ReadFile(filepath.Join("deliveries", n, k+".txtar"))
			if err != nil {
				t.Fatal(err)
			}
			a := txtar.Parse(raw)
			if bytes.Contains(a.Comment, []byte("secret:")) {
				t.Errorf("%s/%s: the comment has a secret: line", n, k)
			}
			for _, f := range a.Files {
				if f.Name != "headers" {
					continue
				}
				for line := range strings.Lines(string(f.Data)) {
					if name, _, _ := strings.Cut(line, ":"); event.IsCredentialHeader(strings.TrimSpace(name)) {
						t.Errorf("%s/%s: credential header %s", n, k, name)
					}
				}
			}
			var top map[string]json.RawMessage
			if err := json.Unmarshal(s.Payload, &top); err != nil {
				t.Fatalf("%s/%s: %v", n, k, err)
			}
			for _, m := range []string{"secret", "token", "password"} {
				if v, ok := top[m]; ok && string(v) != `""` && string(v) != "null" {
					t.Errorf("%s/%s: payload member %q has a value", n, k, m)
				}
			}
			req := &forge.Request{Header: s.Header, Body: s.Payload, Payload: s.Payload, Query: url.Values{}, Received: time.Now()}
			err = provider(t, n).Verify(req, []config.Secret{"sample-test-secret"})
			if !errors.Is(err, verify.ErrMissingSignature) {
				t.Errorf("%s/%s: Verify without credentials = %v, want ErrMissingSignature", n, k, err)
			}
		}
	}
}

// TestSampleMatchesFixture checks that every sample is a faithful copy of
// the fixture it names: the same source, the exact payload bytes, and the
// fixture's headers less its credentials.
func TestSampleMatchesFixture(t *testing.T) {
	total := 0
	for _, n := range sample.Providers() {
		for _, k := range sample.Kinds(n) {
			s, err := sample.Get(n, k)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(s.Fixture, "internal/forge/") || !strings.Contains(s.Fixture, "/testdata/deliveries/") {
				t.Errorf("%s/%s: fixture %q is not a provider's delivery fixture", n, k, s.Fixture)
				continue
			}
			fx, err := forgetest.Load(filepath.Join("..", "..", filepath.FromSlash(s.Fixture)))
			if err != nil {
				t.Errorf("%s/%s: %v", n, k, err)
				continue
			}
			payload, _, err := fx.Payload()
			if err != nil {
				t.Fatal(err)
			}
			if s.Source != fx.Source {
				t.Errorf("%s/%s: source %q, fixture says %q", n, k, s.Source, fx.Source)
			}
			if !bytes.Equal(s.Payload, payload) {
				t.Errorf("%s/%s: payload differs from %s", n, k, s.Fixture)
			}
			want := fx.Header.Clone()
			sample.RemoveCredentials(want)
			if got, w := fmt.Sprint(s.Header), fmt.Sprint(want); got != w {
				t.Errorf("%s/%s: headers\n got %s\nwant %s", n, k, got, w)
			}
		}
	}
	err := filepath.WalkDir("deliveries", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		total += int(fi.Size())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if total >= 1<<20 {
		t.Errorf("samples take %d bytes, want less than 1 MiB", total)
	}
}

func TestSampleGetErrors(t *testing.T) {
	for _, c := range []struct{ provider, kind string }{
		{"nosuchforge", "push"},
		{"github", "nosuchkind"},
		{"github", ""},
		{"github", "../github/push"},
		{"gitlab", "ping"},
		{"..", "push"},
	} {
		_, err := sample.Get(c.provider, c.kind)
		if !errors.Is(err, sample.ErrNotFound) {
			t.Errorf("Get(%q, %q) = %v, want ErrNotFound", c.provider, c.kind, err)
		}
	}
	_, err := sample.Get("github", "nosuchkind")
	if err == nil || !strings.Contains(err.Error(), "push, tag, pull_request") {
		t.Errorf("error does not list the kinds: %v", err)
	}
	if got := sample.Kinds("nosuchforge"); got != nil {
		t.Errorf("Kinds(nosuchforge) = %v", got)
	}
}

// TestSampleGetReturnsCopies checks that a caller may modify a sample.
func TestSampleGetReturnsCopies(t *testing.T) {
	a, err := sample.Get("github", "push")
	if err != nil {
		t.Fatal(err)
	}
	a.Header.Set("X-GitHub-Event", "changed")
	a.Payload[0] = 'X'
	b, err := sample.Get("github", "push")
	if err != nil {
		t.Fatal(err)
	}
	if b.Header.Get("X-GitHub-Event") != "push" || b.Payload[0] != '{' {
		t.Fatal("Get returned shared data")
	}
}

func TestSampleParseForm(t *testing.T) {
	data, err := os.ReadFile("../forge/github/testdata/deliveries/push.with-new-branch.form.txtar")
	if err != nil {
		t.Fatal(err)
	}
	s, err := sample.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Form || !json.Valid(s.Payload) || s.Payload[0] != '{' {
		t.Fatalf("form fixture: Form %v, payload %.40q", s.Form, s.Payload)
	}
	for _, h := range []string{"X-Hub-Signature", "X-Hub-Signature-256"} {
		if s.Header.Get(h) != "" {
			t.Errorf("%s kept", h)
		}
	}
	if s.Header.Get("X-GitHub-Event") != "push" || s.Source == "" {
		t.Errorf("headers or source lost: %v %q", s.Header, s.Source)
	}
	if _, err := sample.Parse([]byte("source: x\n-- headers --\nX: y\n")); err == nil {
		t.Error("Parse accepted a file without a body section")
	}
	if _, err := sample.Parse([]byte("-- headers --\nno colon\n-- body --\n{}\n")); err == nil {
		t.Error("Parse accepted a header line without a colon")
	}
}

func TestSampleRemoveCredentials(t *testing.T) {
	h := http.Header{}
	for _, k := range []string{"Authorization", "X-Gitlab-Token", "X-Hub-Signature-256", "Webhook-Signature", "Webhook-Id",
		"Webhook-Timestamp", "X-Gitee-Token", "X-Gitee-Timestamp", "Host", "Content-Length", "X-GitHub-Event", "Content-Type"} {
		h.Set(k, "v")
	}
	sample.RemoveCredentials(h)
	if len(h) != 2 || h.Get("X-GitHub-Event") == "" || h.Get("Content-Type") == "" {
		t.Errorf("left %v", h)
	}
}

func ExampleGet() {
	s, err := sample.Get("gitlab", "push")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Header.Get("X-Gitlab-Event"), s.Fixture)
	fmt.Println(sample.Kinds("gitlab"))
	// Output:
	// Push Hook internal/forge/gitlab/testdata/deliveries/push.txtar
	// [push tag pull_request comment issue release pipeline]
}
