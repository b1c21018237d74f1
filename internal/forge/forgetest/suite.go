package forgetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/verify"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/golden")

// TestSecret is the secret the suite signs unsigned fixtures with.
const TestSecret = "forgehook-test-secret"

// Options tunes the conformance suite for one provider.
type Options struct {
	// Dir is the provider's testdata directory (default "testdata").
	Dir string
	// BodySigned reports that the scheme authenticates the payload, so a
	// tampered payload must fail verification. False for plain tokens.
	BodySigned bool
	// MinFixtures is the least number of fixtures expected (default 1).
	MinFixtures int
}

// Golden is what the suite compares with testdata/golden/<fixture>.json.
type Golden struct {
	Event       string       `json:"event"`
	Delivery    string       `json:"delivery"`
	DedupKey    string       `json:"dedup_key"`
	Ping        bool         `json:"ping"`
	ForgeAction string       `json:"forgeaction"`
	Normalized  event.Fields `json:"normalized"`
}

// Request builds the provider request for a fixture, as ingest would.
func Request(t testing.TB, f *Fixture, now time.Time) *forge.Request {
	t.Helper()
	payload, form, err := f.Payload()
	if err != nil {
		t.Fatalf("%s: payload: %v", f.Name, err)
	}
	q, err := url.ParseQuery(f.Query)
	if err != nil {
		t.Fatalf("%s: query: %v", f.Name, err)
	}
	return &forge.Request{
		Header:     f.Header.Clone(),
		Body:       f.Body,
		Payload:    payload,
		Form:       form,
		Query:      q,
		RemoteAddr: netip.MustParseAddr("127.0.0.1"),
		Received:   now,
	}
}

// Run runs the conformance suite on p over the fixtures in
// opts.Dir/deliveries, comparing normalized output with opts.Dir/golden
// (rewritten with -update). Every fixture must inspect, verify with its
// secret (fixtures without one are signed with TestSecret through the
// provider's Signer), fail with a wrong secret, pass with the right secret
// among wrong ones, fail without credentials, and normalize to its golden.
func Run(t *testing.T, p forge.Provider, opts Options) {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = "testdata"
	}
	if opts.MinFixtures == 0 {
		opts.MinFixtures = 1
	}
	fixtures, err := LoadDir(filepath.Join(opts.Dir, "deliveries"))
	if err != nil {
		t.Fatal(err)
	}
	if len(fixtures) < opts.MinFixtures {
		t.Fatalf("%s: %d fixtures in %s/deliveries, want at least %d", p.Name(), len(fixtures), opts.Dir, opts.MinFixtures)
	}
	if _, err := forge.InspectRequest(p, http.Header{}, []byte(`{}`)); !errors.Is(err, forge.ErrNotRecognized) {
		t.Errorf("Inspect(no headers, empty object) = %v, want ErrNotRecognized", err)
	}
	now := time.Now()
	for _, f := range fixtures {
		t.Run(f.Name, func(t *testing.T) {
			req := Request(t, f, now)
			secret := f.Secret
			if secret == "" {
				s, ok := p.(forge.Signer)
				if !ok {
					t.Fatalf("fixture has no secret and %s is not a forge.Signer", p.Name())
				}
				secret = TestSecret
				s.Sign(req.Header, req.Payload, secret, now)
				if !req.Form {
					req.Body = req.Payload
				}
			}
			m, err := forge.InspectRequest(p, req.Header, req.Payload)
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if m.Event == "" {
				t.Errorf("Inspect: empty event name")
			}
			checkVerify(t, p, req, secret, opts)

			fields, err := p.Normalize(m, req.Payload)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if fields.Kind == "" {
				t.Errorf("Normalize: empty kind")
			}
			if fields.Forge != p.Name() {
				t.Errorf("Normalize: forge = %q, want %q", fields.Forge, p.Name())
			}
			if fields.Deleted && !(fields.Kind == event.KindPush || fields.Kind == event.KindTag) {
				t.Errorf("Normalize: deleted set on kind %q", fields.Kind)
			}
			if (fields.Kind == event.KindPush || fields.Kind == event.KindTag) && fields.Ref == "" {
				t.Errorf("Normalize: %s without ref", fields.Kind)
			}
			got := Golden{Event: m.Event, Delivery: m.Delivery, DedupKey: m.DedupKey, Ping: m.Ping, ForgeAction: fields.ForgeAction, Normalized: fields}
			CompareGolden(t, filepath.Join(opts.Dir, "golden", f.Name+".json"), got)
		})
	}
}

func checkVerify(t *testing.T, p forge.Provider, req *forge.Request, secret string, opts Options) {
	t.Helper()
	good := []config.Secret{config.Secret(secret)}
	if err := p.Verify(req, good); err != nil {
		t.Fatalf("Verify(right secret) = %v", err)
	}
	if err := p.Verify(req, []config.Secret{"not-the-secret"}); !errors.Is(err, verify.ErrBadSignature) {
		t.Errorf("Verify(wrong secret) = %v, want ErrBadSignature", err)
	}
	if err := p.Verify(req, []config.Secret{"old-secret", config.Secret(secret)}); err != nil {
		t.Errorf("Verify(rotation: wrong, right) = %v, want nil", err)
	}
	bare := *req
	bare.Header = http.Header{}
	for k, v := range req.Header {
		if !event.IsCredentialHeader(k) {
			bare.Header[k] = v
		}
	}
	bare.Query = url.Values{}
	if err := p.Verify(&bare, good); !errors.Is(err, verify.ErrMissingSignature) {
		t.Errorf("Verify(no credentials) = %v, want ErrMissingSignature", err)
	}
	if opts.BodySigned {
		tampered := *req
		tampered.Payload = append(bytes.Clone(req.Payload), ' ')
		tampered.Body = append(bytes.Clone(req.Body), ' ')
		if !req.Form {
			tampered.Body = tampered.Payload
		}
		if err := p.Verify(&tampered, good); !errors.Is(err, verify.ErrBadSignature) {
			t.Errorf("Verify(tampered body) = %v, want ErrBadSignature", err)
		}
	}
}

// CompareGolden compares got, as indented JSON, with the golden file at
// path, reporting the differing lines through t; under -update it rewrites
// the file instead.
func CompareGolden(t *testing.T, path string, got Golden) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	if *update {
		if err := WriteFile(path, b); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden: %v (run go test -update to create it)", err)
	}
	if !bytes.Equal(want, b) {
		t.Errorf("normalized output differs from %s (go test -update rewrites it):\n%s", path, lineDiff(string(want), string(b)))
	}
}

func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var out strings.Builder
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			out.WriteString("- " + a + "\n+ " + b + "\n")
		}
	}
	return out.String()
}

// Seeds adds every fixture's payload in dir/deliveries to the fuzz corpus
// of f (as the payload argument), plus the signature-free variants.
func Seeds(f *testing.F, dir string) []*Fixture {
	fixtures, err := LoadDir(filepath.Join(dir, "deliveries"))
	if err != nil {
		f.Fatal(err)
	}
	return fixtures
}
