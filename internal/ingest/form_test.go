package ingest

import (
	"bytes"
	"errors"
	"net/url"
	"strings"
	"testing"
)

func allocExact(n int) ([]byte, error) { return make([]byte, 0, n), nil }

func TestIngestFormPayload(t *testing.T) {
	for _, c := range []struct {
		body, want string
		err        bool
		none       bool
	}{
		{body: `payload=%7B%22a%22%3A1%7D`, want: `{"a":1}`},
		{body: `a=1&payload=x+y&payload=second`, want: `x y`},
		{body: `pay%6Coad=%7B%7D`, want: `{}`},
		{body: `payload`, want: ``},
		{body: `&&payload=1&`, want: `1`},
		{body: `payloadx=1`, none: true},
		{body: ``, none: true},
		{body: `payload=%zz`, err: true},
		{body: `payload=1&b=%`, err: true},
		{body: `b=%4&payload=1`, err: true},
		{body: `payload=1;b=2`, err: true},
	} {
		got, err := formPayload([]byte(c.body), allocExact)
		switch {
		case c.none:
			if !errors.Is(err, errNoPayloadField) {
				t.Errorf("%q: err %v, want no payload field", c.body, err)
			}
		case c.err:
			if err == nil || errors.Is(err, errNoPayloadField) {
				t.Errorf("%q: err %v, want a malformed body", c.body, err)
			}
		case err != nil || string(got) != c.want:
			t.Errorf("%q: %q, %v; want %q", c.body, got, err, c.want)
		}
	}
}

// TestIngestFormPayloadAlloc checks that the only allocation is the
// value's, of its exact length, and that alloc's refusal is returned.
func TestIngestFormPayloadAlloc(t *testing.T) {
	body := []byte("a=" + strings.Repeat("x", 1000) + "&payload=" + url.QueryEscape(`{"k":"v w"}`))
	var asked []int
	got, err := formPayload(body, func(n int) ([]byte, error) { asked = append(asked, n); return make([]byte, 0, n), nil })
	if err != nil || string(got) != `{"k":"v w"}` || len(asked) != 1 || asked[0] != len(got) {
		t.Fatalf("got %q %v, alloc asked %v", got, err, asked)
	}
	errBusy := errors.New("busy")
	if _, err := formPayload(body, func(int) ([]byte, error) { return nil, errBusy }); !errors.Is(err, errBusy) {
		t.Fatalf("alloc error not returned: %v", err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = formPayload(body, allocExact) }); n > 1 {
		t.Fatalf("%v allocations, want 1", n)
	}
}

// FuzzFormPayload checks formPayload against url.ParseQuery: the same
// bodies are refused, and an accepted body's payload is ParseQuery's
// Get("payload"), allocated at its exact length.
func FuzzFormPayload(f *testing.F) {
	for _, s := range []string{
		`payload=%7B%22a%22%3A1%7D`, `a=1&payload=x+y&payload=2`, `pay%6Coad=1`, `payload`,
		`payload=%zz`, `payload=1;b=2`, `=&=&payload=%41%4`, `%70ayload=+%2B+`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if bytes.Count(body, []byte{'&'}) >= 10000 {
			return // ParseQuery's field limit, which formPayload does not have
		}
		v, qerr := url.ParseQuery(string(body))
		got, err := formPayload(body, func(n int) ([]byte, error) {
			if n > len(body) {
				t.Fatalf("alloc(%d) for a body of %d bytes", n, len(body))
			}
			return make([]byte, 0, n), nil
		})
		switch {
		case qerr != nil:
			if err == nil || errors.Is(err, errNoPayloadField) {
				t.Fatalf("ParseQuery refuses %q (%v), formPayload: %q, %v", body, qerr, got, err)
			}
		case !v.Has("payload"):
			if !errors.Is(err, errNoPayloadField) {
				t.Fatalf("no payload in %q, formPayload: %q, %v", body, got, err)
			}
		case err != nil || string(got) != v.Get("payload") || cap(got) != len(got):
			t.Fatalf("%q: formPayload %q (cap %d), %v; ParseQuery %q", body, got, cap(got), err, v.Get("payload"))
		}
	})
}
