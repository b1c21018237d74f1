package all

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/forgetest"
)

// dirOf maps a forge id to its package directory.
func dirOf(id string) string {
	return filepath.Join("..", strings.ReplaceAll(id, "-", ""))
}

// TestAllProvidersComplete fails when a provider lacks fixtures, fuzz
// seeds or a row in docs/providers.md.
func TestAllProvidersComplete(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "providers.md"))
	if err != nil {
		t.Fatal(err)
	}
	reg := Registry()
	for _, id := range reg.Names() {
		if id == "auto" {
			continue
		}
		t.Run(id, func(t *testing.T) {
			fx, err := forgetest.LoadDir(filepath.Join(dirOf(id), "testdata", "deliveries"))
			if err != nil || len(fx) == 0 {
				t.Errorf("no fixtures in %s/testdata/deliveries (%v)", dirOf(id), err)
			}
			seeds, _ := filepath.Glob(filepath.Join(dirOf(id), "testdata", "fuzz", "*", "*"))
			if len(seeds) == 0 {
				t.Errorf("no fuzz corpus in %s/testdata/fuzz", dirOf(id))
			}
			if !strings.Contains(string(doc), "| `"+id+"` |") {
				t.Errorf("docs/providers.md has no row for %s", id)
			}
			p, err := reg.New(&config.Endpoint{Name: "x", Provider: id, Generic: &config.Generic{SignatureHeader: "X-Signature"}})
			if err != nil {
				t.Fatal(err)
			}
			if p.Name() != id {
				t.Errorf("provider %s names itself %q", id, p.Name())
			}
		})
	}
}

// TestAllAutoDetection sends one real delivery of every forge to the auto
// provider: each is detected as its own forge (a Gitea delivery, which also
// carries X-GitHub-Event, never as GitHub) and verifies with its secret.
func TestAllAutoDetection(t *testing.T) {
	reg := Registry()
	for _, c := range Detection() {
		t.Run(c.ID, func(t *testing.T) {
			fx, err := forgetest.LoadDir(filepath.Join(dirOf(c.ID), "testdata", "deliveries"))
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
				if c.Match != nil && !c.Match(f.Header) {
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
				for _, earlier := range Detection() {
					if earlier.ID == c.ID {
						break
					}
					if earlier.Match != nil && earlier.Match(f.Header) {
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
