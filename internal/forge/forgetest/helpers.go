package forgetest

import (
	"bytes"
	"crypto/hmac"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"hash"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
)

// The small helpers below are shared by the providers' own tests, which
// would otherwise each carry a copy.

// LoadFixture loads testdata/deliveries/<name>.txtar of the package under
// test, failing t if it cannot.
func LoadFixture(t testing.TB, name string) *Fixture {
	t.Helper()
	return LoadFixtureIn(t, "deliveries", name)
}

// LoadFixtureIn loads testdata/<dir>/<name>.txtar of the package under
// test, failing t if it cannot.
func LoadFixtureIn(t testing.TB, dir, name string) *Fixture {
	t.Helper()
	f, err := Load(filepath.Join("testdata", dir, name+".txtar"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// LoadWithPayload loads testdata/<dir>/<name>.txtar (LoadFixtureIn) and
// returns it with its JSON document (MustPayload).
func LoadWithPayload(t testing.TB, dir, name string) (*Fixture, []byte) {
	t.Helper()
	f := LoadFixtureIn(t, dir, name)
	return f, f.MustPayload(t)
}

// MustPayload returns f's JSON document (see Payload), failing t if a
// form-encoded body does not decode.
func (f *Fixture) MustPayload(t testing.TB) []byte {
	t.Helper()
	payload, _, err := f.Payload()
	if err != nil {
		t.Fatalf("%s: %v", f.Name, err)
	}
	return payload
}

// NormalizeFixture inspects the headers of the fixture name (LoadFixture)
// with p.Inspect and normalizes its payload, failing t on either error.
func NormalizeFixture(t testing.TB, p forge.Provider, name string) (forge.Meta, event.Fields) {
	t.Helper()
	fx := LoadFixture(t, name)
	m, err := p.Inspect(fx.Header)
	if err != nil {
		t.Fatalf("%s: Inspect: %v", name, err)
	}
	f, err := p.Normalize(m, fx.MustPayload(t))
	if err != nil {
		t.Fatalf("%s: Normalize: %v", name, err)
	}
	return m, f
}

// Want reports through t.Errorf that what is got where want was expected,
// when the two differ.
func Want[T comparable](t testing.TB, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// Basic returns the value of an Authorization header carrying the HTTP
// Basic credentials userpass ("user:password").
func Basic(userpass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(userpass))
}

// MACHex returns the lower-case hex HMAC of msg under key, with the hash h
// (sha256.New, sha1.New, ...): the known answer a hex signature must match.
func MACHex(h func() hash.Hash, key string, msg []byte) string {
	m := hmac.New(h, []byte(key))
	m.Write(msg)
	return hex.EncodeToString(m.Sum(nil))
}

// IsJSONObject reports whether payload is exactly one valid JSON document
// and that document is an object (leading blanks allowed).
func IsJSONObject(payload []byte) bool {
	return json.Valid(payload) && bytes.HasPrefix(bytes.TrimLeft(payload, " \t\r\n"), []byte("{"))
}

// Member returns the member of obj whose name equals name without regard
// to case, as a provider that matches names that way reads it: ok reports
// that there is one, ambiguous that there are several (v is then nil).
func Member(obj map[string]json.RawMessage, name string) (v json.RawMessage, ok, ambiguous bool) {
	for k, raw := range obj {
		if strings.EqualFold(k, name) {
			if ok {
				return nil, false, true
			}
			v, ok = raw, true
		}
	}
	return v, ok, false
}

// JSONString returns raw decoded as a JSON string, or "" if it is not one.
func JSONString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// New builds a provider with newFn, a provider package's New, for the
// endpoint ep (nil for the defaults), failing t if it cannot, and returns
// it as P (the package's *Provider, or forge.Provider).
func New[P forge.Provider](t testing.TB, newFn func(*config.Endpoint) (forge.Provider, error), ep *config.Endpoint) P {
	t.Helper()
	p, err := newFn(ep)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	out, ok := p.(P)
	if !ok {
		t.Fatalf("New returned %T, want %T", p, out)
	}
	return out
}

// BenchNormalize times p.Normalize of the payload of the fixture name
// (LoadFixture) with the Meta that forge.InspectRequest gives it, reporting
// allocations and bytes of payload per operation.
func BenchNormalize(b *testing.B, p forge.Provider, name string) {
	b.Helper()
	fx := LoadFixture(b, name)
	payload := fx.MustPayload(b)
	m, err := forge.InspectRequest(p, fx.Header, payload)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		if _, err := p.Normalize(m, payload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchInspectBody times p.InspectBody of the headers and payload of the
// fixture name (LoadFixture), reporting allocations and bytes of payload
// per operation.
func BenchInspectBody(b *testing.B, p forge.BodyInspector, name string) {
	b.Helper()
	fx := LoadFixture(b, name)
	payload := fx.MustPayload(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		if _, err := p.InspectBody(fx.Header, payload); err != nil {
			b.Fatal(err)
		}
	}
}
