package all

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/auto"
	"github.com/forgehook/forgehook/internal/forge/forgetest"
	"github.com/forgehook/forgehook/internal/forge/generic"
	"github.com/forgehook/forgehook/internal/forge/github"
)

// root is the repository root, from this package's directory.
const root = "../../.."

// TestAllProvidersComplete fails when a registered provider's descriptor
// is incomplete, or the provider lacks fixtures, fuzz seeds or a row in
// docs/providers.md.
func TestAllProvidersComplete(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(root, "docs", "providers.md"))
	if err != nil {
		t.Fatal(err)
	}
	reg := Registry()
	if n := len(reg.Descriptors()); n < 16 {
		t.Fatalf("%d registered providers: the registry walk is broken", n)
	}
	for _, d := range reg.Descriptors() {
		t.Run(d.ID, func(t *testing.T) {
			if d.ID == "" || d.Folder == "" || d.New == nil {
				t.Fatalf("descriptor %+v: empty id, folder or factory", d)
			}
			if fi, err := os.Stat(forgetest.Dir(root, d)); err != nil || !fi.IsDir() {
				t.Fatalf("folder %s: %v", d.Folder, err)
			}
			p, err := reg.New(&config.Endpoint{Name: "x", Provider: d.ID, Generic: &config.Generic{SignatureHeader: "X-Signature"}})
			if err != nil {
				t.Fatal(err)
			}
			if p.Name() != d.ID {
				t.Errorf("provider %s names itself %q", d.ID, p.Name())
			}
			checkCredentialHeaders(t, d, p)
			if d.ID == "auto" {
				return
			}
			fx, err := forgetest.LoadForge(root, d)
			if err != nil || len(fx) == 0 {
				t.Errorf("no fixtures in %s/testdata/deliveries (%v)", d.Folder, err)
			}
			seeds, _ := filepath.Glob(filepath.Join(forgetest.Dir(root, d), "testdata", "fuzz", "*", "*"))
			if len(seeds) == 0 {
				t.Errorf("no fuzz corpus in %s/testdata/fuzz", d.Folder)
			}
			checkTests(t, d)
			if !strings.Contains(string(doc), "| `"+d.ID+"` |") {
				t.Errorf("docs/providers.md has no row for %s", d.ID)
			}
			if d.Forge() {
				checkForge(t, d, p, fx)
			}
		})
	}
}

// checkTests checks that the tests of d's package run the conformance
// suite and fuzz its verifier and normalizer.
func checkTests(t *testing.T, d forge.Descriptor) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(forgetest.Dir(root, d), "*_test.go"))
	var src strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src.Write(b)
	}
	for _, want := range []string{"forgetest.Run(", "\nfunc FuzzVerify", "\nfunc FuzzNormalize"} {
		if !strings.Contains(src.String(), want) {
			t.Errorf("the tests of %s have no %s", d.Folder, strings.TrimPrefix(want, "\n"))
		}
	}
}

// checkCredentialHeaders checks that p names d's credential headers to
// ingest, and that redaction as ingest does it hides each.
func checkCredentialHeaders(t *testing.T, d forge.Descriptor, p forge.Provider) {
	t.Helper()
	hn, ok := p.(forge.HeaderNamer)
	if !ok {
		t.Fatalf("provider %s does not name its credential headers (forge.HeaderNamer)", d.ID)
	}
	names := hn.CredentialHeaders()
	h := http.Header{}
	for _, n := range d.CredentialHeaders {
		if !slices.Contains(names, n) {
			t.Errorf("credential header %s of the descriptor is not named by the provider", n)
		}
		h.Set(n, "s3cret")
	}
	// As ingest redacts a delivery of p.
	for k, v := range event.RedactHeader(h, forge.CredentialHeaders(p)...) {
		if !slices.Equal(v, []string{event.Redacted}) {
			t.Errorf("credential header %s stored as %q", k, v)
		}
	}
}

// checkForge checks the facts of a forge's descriptor against its
// provider and fixtures.
func checkForge(t *testing.T, d forge.Descriptor, p forge.Provider, fx []*forgetest.Fixture) {
	t.Helper()
	if _, ok := p.(forge.BodyInspector); d.Detect.ByPayload && !ok {
		t.Errorf("%s is detected by payload but is not a forge.BodyInspector", d.ID)
	}
	if _, ok := p.(forge.Signer); d.Form != forge.FormNone && !ok {
		t.Errorf("%s sends form bodies (%s) but cannot sign", d.ID, d.Form)
	}
	if _, ok := p.(forge.Signer); d.QueryToken != "" && ok {
		t.Errorf("%s takes its secret as ?%s= but also signs", d.ID, d.QueryToken)
	}
	if s, ok := p.(forge.Signer); ok && len(fx) > 0 {
		checkSignedHeaders(t, d, s, fx[0])
	}
	if d.Samples == nil {
		t.Errorf("%s has no samples (samples/<kind>.txtar embedded in its Describe)", d.ID)
	}
	if len(d.DeliveryHeaders) == 0 {
		return
	}
	// Inspect reads the delivery id from the first delivery header first.
	tested := 0
	for _, f := range fx {
		if d.Detect.Match(f.Header) {
			h := f.Header.Clone()
			h.Set(d.DeliveryHeaders[0], "descriptor-test-id")
			payload, _, err := f.Payload()
			if err != nil {
				t.Fatal(err)
			}
			m, err := forge.InspectRequest(p, h, payload)
			if err != nil {
				continue
			}
			tested++
			if m.Delivery != "descriptor-test-id" {
				t.Errorf("%s: with %s set, Inspect reads delivery %q", f.Name, d.DeliveryHeaders[0], m.Delivery)
			}
		}
	}
	if tested == 0 {
		t.Errorf("no fixture of %s to check its delivery header on", d.ID)
	}
}

// checkSignedHeaders checks that every header s sets when it signs is
// one d declares: a credential, delivery or signature header. A plain
// secret and a GitLab signing token ("whsec_") exercise both schemes of a
// forge that has two.
func checkSignedHeaders(t *testing.T, d forge.Descriptor, s forge.Signer, f *forgetest.Fixture) {
	t.Helper()
	payload, _, err := f.Payload()
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{}
	for _, names := range [][]string{d.CredentialHeaders, d.DeliveryHeaders, d.SignatureHeaders} {
		for _, n := range names {
			declared[http.CanonicalHeaderKey(n)] = true
		}
	}
	for _, secret := range []string{forgetest.TestSecret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"} {
		h := http.Header{}
		s.Sign(h, payload, secret, time.Now())
		if len(h) == 0 {
			t.Errorf("Sign set no header")
		}
		for k := range h {
			if !declared[k] {
				t.Errorf("Sign sets %s, which the descriptor does not declare (credential, delivery or signature header)", k)
			}
		}
	}
}

// TestAllPackagesRegistered fails when a provider package under
// internal/forge is not listed in Forges or Registry.
func TestAllPackagesRegistered(t *testing.T) {
	folders := map[string]bool{"all": true, "forgetest": true, "testdata": true}
	for _, d := range Registry().Descriptors() {
		folders[d.Folder] = true
	}
	entries, err := os.ReadDir("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() && !folders[e.Name()] {
			t.Errorf("internal/forge/%s is not registered: add its Describe to all.Forges", e.Name())
		}
	}
}

// TestAllAutoDetection sends one real delivery of every forge to the auto
// provider: each is detected as its own forge (a Gitea delivery, which also
// carries X-GitHub-Event, never as GitHub) and verifies with its secret.
func TestAllAutoDetection(t *testing.T) {
	reg := Registry()
	for _, c := range Forges() {
		t.Run(c.ID, func(t *testing.T) {
			fx, err := forgetest.LoadForge(root, c)
			if err != nil || len(fx) == 0 {
				t.Fatalf("no fixtures: %v", err)
			}
			secret := forgetest.TestSecret
			own, err := reg.New(&config.Endpoint{Name: "x", Provider: c.ID})
			if err != nil {
				t.Fatal(err)
			}
			auto, err := reg.New(&config.Endpoint{Name: "x", Provider: "auto"})
			if err != nil {
				t.Fatal(err)
			}
			tested := 0
			for _, f := range fx {
				if !c.Detect.ByPayload && !c.Detect.Match(f.Header) {
					// A fixture that reuses another forge's delivery
					// (e.g. a Gitea capture in Forgejo's testdata) is
					// that forge's delivery.
					continue
				}
				tested++
				req := forgetest.Request(t, f, time.Now())
				if f.Secret != "" {
					secret = f.Secret
				} else if s, ok := own.(forge.Signer); ok {
					s.Sign(req.Header, req.Payload, secret, req.Received)
				}
				m, err := forge.InspectRequest(auto, req.Header, req.Payload)
				if err != nil {
					t.Fatalf("%s: auto Inspect: %v", f.Name, err)
				}
				want := c.ID
				for _, earlier := range Forges() {
					if earlier.ID == c.ID {
						break
					}
					if earlier.Detect.Match(f.Header) {
						// Sent by that forge (Gitea's gogs-type hooks
						// carry X-Gitea-Event too).
						want = earlier.ID
						break
					}
				}
				if m.Forge != want {
					t.Fatalf("%s: detected as %q, want %q", f.Name, m.Forge, want)
				}
				if f.Header.Get("X-Gitea-Event") != "" && m.Forge == "github" {
					t.Fatalf("%s: a Gitea delivery taken for GitHub", f.Name)
				}
				if err := auto.Verify(req, []config.Secret{config.Secret(secret)}); err != nil {
					t.Fatalf("%s: auto Verify: %v", f.Name, err)
				}
				fields, err := auto.Normalize(m, req.Payload)
				if err != nil || fields.Forge != want {
					t.Fatalf("%s: auto Normalize: forge %q, %v", f.Name, fields.Forge, err)
				}
				secret = forgetest.TestSecret
			}
			if tested == 0 {
				t.Fatalf("no fixture identifies %s", c.ID)
			}
		})
	}
	if _, err := forge.InspectRequest(mustNew(t, reg, "auto"), http.Header{"X-Unknown": {"1"}}, []byte(`{}`)); err == nil {
		t.Fatal("auto accepted a delivery of no known forge")
	}
}

func mustNew(t *testing.T, reg *forge.Registry, id string) forge.Provider {
	t.Helper()
	p, err := reg.New(&config.Endpoint{Name: "x", Provider: id})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAllAutoRejectsBadDescriptors checks that auto refuses a provider it
// could never detect: one that is not a forge, or one said to be detected
// by payload whose provider cannot inspect a payload.
func TestAllAutoRejectsBadDescriptors(t *testing.T) {
	gen := generic.Describe()
	if _, err := auto.Factory([]forge.Descriptor{gen})(nil); err == nil || !strings.Contains(err.Error(), "auto: generic: not a forge") {
		t.Errorf("auto over generic: %v", err)
	}
	gh := github.Describe()
	gh.Detect = forge.Detection{ByPayload: true}
	if _, err := auto.Factory([]forge.Descriptor{gh})(nil); err == nil || !strings.Contains(err.Error(), "not a body inspector") {
		t.Errorf("auto over a payload-detected GitHub: %v", err)
	}
	p, err := auto.Factory(Forges())(nil)
	if err != nil {
		t.Fatal(err)
	}
	if names := p.(forge.HeaderNamer).CredentialHeaders(); !slices.Contains(names, "X-Gitlab-Token") || !slices.Contains(names, "X-Hub-Signature-256") {
		t.Errorf("auto names credential headers %q", names)
	}
}
