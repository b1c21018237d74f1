package sample_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path"
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

// forges returns the descriptors of the forges, which must have samples:
// every registered provider but auto (which detects the others) and
// generic (whose scheme each endpoint configures).
func forges() []forge.Descriptor { return all.Forges() }

func provider(t *testing.T, name string) forge.Provider {
	t.Helper()
	p, err := all.Registry().New(&config.Endpoint{Name: "sample-test", Provider: name})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// describe returns the registered descriptor of id.
func describe(t testing.TB, id string) forge.Descriptor {
	t.Helper()
	d, ok := all.Registry().Descriptor(id)
	if !ok {
		t.Fatalf("%s is not registered", id)
	}
	return d
}

// TestSampleEveryProvider fails when a forge has no sample, or a provider
// that is not a forge has some.
func TestSampleEveryProvider(t *testing.T) {
	reg := all.Registry()
	n := 0
	for _, d := range reg.Descriptors() {
		switch {
		case d.Forge() && len(sample.Kinds(d)) == 0:
			t.Errorf("forge %s has no sample in internal/forge/%s/samples", d.ID, d.Folder)
		case !d.Forge() && d.Samples != nil:
			t.Errorf("%s, which is not a forge, has samples", d.ID)
		case d.Forge():
			n++
		}
	}
	if n < 10 {
		t.Fatalf("only %d forges with samples: the registry walk is broken", n)
	}
}

// TestSampleNormalizesToKind sends every sample of a registered provider
// through that provider, as ingest would, and checks the kind it declares.
func TestSampleNormalizesToKind(t *testing.T) {
	for _, d := range forges() {
		n := d.ID
		p := provider(t, n)
		for _, k := range sample.Kinds(d) {
			t.Run(n+"/"+k, func(t *testing.T) {
				s, err := sample.Get(d, k)
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
				// Ingest answers a ping at once whether Inspect says so (a
				// ping header or event) or Normalize does (Gitea's API
				// test push, told by its body).
				if k == string(event.KindPing) && !m.Ping && f.Kind != event.KindPing {
					t.Errorf("ping sample reported as a ping by neither Inspect nor Normalize")
				}
			})
		}
	}
}

// TestSampleWithoutCredentials checks that no sample carries a credential:
// no credential header (a registered provider's Verify finds none), and no
// secret, token or password member with a value in the payload.
func TestSampleWithoutCredentials(t *testing.T) {
	for _, d := range forges() {
		n := d.ID
		for _, k := range sample.Kinds(d) {
			s, err := sample.Get(d, k)
			if err != nil {
				t.Fatal(err)
			}
			// The file itself, not only what Get returns (Parse drops
			// credentials), must hold none.
			raw, err := fs.ReadFile(d.Samples, path.Join(sample.Dir, k+".txtar"))
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
					if name, _, _ := strings.Cut(line, ":"); event.IsCredentialHeader(strings.TrimSpace(name), sample.Declared(d)...) {
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
	for _, d := range forges() {
		n := d.ID
		for _, k := range sample.Kinds(d) {
			s, err := sample.Get(d, k)
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
			sample.RemoveCredentials(want, sample.Declared(d)...)
			if got, w := fmt.Sprint(s.Header), fmt.Sprint(want); got != w {
				t.Errorf("%s/%s: headers\n got %s\nwant %s", n, k, got, w)
			}
		}
	}
	for _, d := range forges() {
		err := fs.WalkDir(d.Samples, ".", func(_ string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			fi, err := e.Info()
			total += int(fi.Size())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
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
		d, _ := all.Registry().Descriptor(c.provider)
		_, err := sample.Get(d, c.kind)
		if !errors.Is(err, sample.ErrNotFound) {
			t.Errorf("Get(%q, %q) = %v, want ErrNotFound", c.provider, c.kind, err)
		}
	}
	_, err := sample.Get(describe(t, "github"), "nosuchkind")
	if err == nil || !strings.Contains(err.Error(), "push, tag, pull_request") {
		t.Errorf("error does not list the kinds: %v", err)
	}
	for _, id := range []string{"nosuchforge", "generic", "auto"} {
		d, _ := all.Registry().Descriptor(id)
		if got := sample.Kinds(d); got != nil {
			t.Errorf("Kinds(%s) = %v", id, got)
		}
		if _, err := sample.Get(d, "push"); !errors.Is(err, sample.ErrNotFound) {
			t.Errorf("Get(%s, push) = %v, want ErrNotFound", id, err)
		}
	}
}

// TestSampleGetReturnsCopies checks that a caller may modify a sample.
func TestSampleGetReturnsCopies(t *testing.T) {
	a, err := sample.Get(describe(t, "github"), "push")
	if err != nil {
		t.Fatal(err)
	}
	a.Header.Set("X-GitHub-Event", "changed")
	a.Payload[0] = 'X'
	b, err := sample.Get(describe(t, "github"), "push")
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
	want := []string{"Content-Type", "Webhook-Id", "Webhook-Timestamp", "X-Gitee-Timestamp", "X-Github-Event"}
	if got := slices.Sorted(maps.Keys(h)); !slices.Equal(got, want) {
		t.Errorf("without signature headers: left %q, want %q", got, want)
	}
	var sig []string
	for _, id := range []string{"gitlab", "gitee"} {
		sig = append(sig, describe(t, id).SignatureHeaders...)
	}
	sample.RemoveCredentials(h, sig...)
	if got := slices.Sorted(maps.Keys(h)); !slices.Equal(got, []string{"Content-Type", "X-Github-Event"}) {
		t.Errorf("with GitLab's and Gitee's signature headers: left %q", got)
	}
}

func ExampleGet() {
	d, _ := all.Registry().Descriptor("gitlab")
	s, err := sample.Get(d, "push")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Header.Get("X-Gitlab-Event"), s.Fixture)
	fmt.Println(sample.Kinds(d))
	// Output:
	// Push Hook internal/forge/gitlab/testdata/deliveries/push.txtar
	// [push tag pull_request comment issue release pipeline]
}
