// Package sample reads the example deliveries that `forgehook send` sends:
// one real delivery per forge and canonical event kind, embedded in the
// binary by each forge's provider package (forge.Descriptor.Samples).
//
// Each sample is a copy of one of the provider's own fixtures
// (internal/forge/<folder>/testdata/deliveries), in the same txtar format
// (see package forgetest): the comment keeps the fixture's source: line and
// adds fixture: (the path it was copied from) and kind: (the canonical kind
// the provider normalizes it to); the headers section holds the forge's
// headers without any credential; the body section holds the exact payload.
// The files live in internal/forge/<folder>/samples/<kind>.txtar.
package sample

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/rogpeppe/go-internal/txtar"
)

// Dir is the directory of a forge's Samples that holds <kind>.txtar.
const Dir = "samples"

// ErrNotFound means there is no sample for the provider or the kind asked
// for.
var ErrNotFound = errors.New("no sample")

// Sample is one example delivery. Every call of Get or Parse returns a new
// Sample: the caller owns it and may modify it.
type Sample struct {
	// Provider is the forge id ("github"); empty for a parsed file.
	Provider string
	// Kind is the canonical kind the provider normalizes Payload to
	// ("push"); empty for a parsed file without a kind: line.
	Kind string
	// Source says where the delivery comes from (the fixture's source:
	// line).
	Source string
	// Fixture is the repository path of the fixture the sample was copied
	// from; empty for a parsed file without a fixture: line.
	Fixture string
	// Header holds the forge's headers, without credentials (see
	// RemoveCredentials).
	Header http.Header
	// Payload is the JSON document: the body, or for a form-encoded file
	// the decoded payload= field.
	Payload []byte
	// Form reports that the parsed body was form-encoded
	// (application/x-www-form-urlencoded with the JSON in payload=). It is
	// always false for the embedded samples.
	Form bool
}

// Kinds returns the canonical kinds that d has samples for, in the order of
// event.Kinds (push first); nil for a provider without samples.
func Kinds(d forge.Descriptor) []string {
	if d.Samples == nil {
		return nil
	}
	entries, err := fs.ReadDir(d.Samples, Dir)
	if err != nil {
		return nil
	}
	have := map[string]bool{}
	for _, e := range entries {
		if k, ok := strings.CutSuffix(e.Name(), ".txtar"); ok && !e.IsDir() {
			have[k] = true
		}
	}
	var out []string
	for _, k := range event.Kinds {
		if have[string(k)] {
			out = append(out, string(k))
			delete(have, string(k))
		}
	}
	// Kinds that event.Kinds does not list (none today) come last.
	rest := make([]string, 0, len(have))
	for k := range have {
		rest = append(rest, k)
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// Get returns the sample of d's forge for the canonical kind. The error
// wraps ErrNotFound, and names the kinds there are, when there is no such
// sample.
func Get(d forge.Descriptor, kind string) (*Sample, error) {
	if d.Samples == nil {
		return nil, fmt.Errorf("%w for provider %q: it is not a forge", ErrNotFound, d.ID)
	}
	var data []byte
	err := fs.ErrNotExist
	if kind != "" && !strings.ContainsAny(kind, `/\.`) {
		data, err = fs.ReadFile(d.Samples, path.Join(Dir, kind+".txtar"))
	}
	if err != nil {
		return nil, fmt.Errorf("%w for %s of kind %q (%s has: %s)", ErrNotFound, d.ID, kind, d.ID, strings.Join(Kinds(d), ", "))
	}
	s, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("sample %s/%s: %w", d.ID, kind, err)
	}
	RemoveCredentials(s.Header, Declared(d)...)
	s.Provider = d.ID
	if s.Kind != kind {
		return nil, fmt.Errorf("sample %s/%s: its kind: line says %q", d.ID, kind, s.Kind)
	}
	return s, nil
}

// Parse reads one delivery in the fixtures' txtar format: "key: value"
// lines in the comment (source:, fixture: and kind: are kept; others, such
// as a fixture's secret:, are ignored), a headers section of "Name: value"
// lines and a body section holding the exact body followed by one newline.
// A form-encoded body (Content-Type application/x-www-form-urlencoded) is
// decoded: Payload is its payload= field and Form is true. The headers are
// returned without credentials and transport headers (see
// RemoveCredentials; Get also removes those its forge declares, which
// Parse, not knowing the forge, leaves to the caller). Parse does not keep
// data.
func Parse(data []byte) (*Sample, error) {
	a := txtar.Parse(data)
	s := &Sample{Header: http.Header{}}
	sc := bufio.NewScanner(bytes.NewReader(a.Comment))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "source":
			s.Source = v
		case "fixture":
			s.Fixture = v
		case "kind":
			s.Kind = v
		}
	}
	var body []byte
	haveBody := false
	for _, f := range a.Files {
		switch f.Name {
		case "headers":
			sc := bufio.NewScanner(bytes.NewReader(f.Data))
			for sc.Scan() {
				line := sc.Text()
				if strings.TrimSpace(line) == "" {
					continue
				}
				k, v, ok := strings.Cut(line, ":")
				if !ok || strings.TrimSpace(k) == "" {
					return nil, fmt.Errorf("header line %q is not Name: value", line)
				}
				s.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
			}
		case "body":
			haveBody = true
			body = bytes.TrimSuffix(f.Data, []byte("\n"))
		}
	}
	if !haveBody {
		return nil, errors.New("no -- body -- section")
	}
	s.Payload = bytes.Clone(body)
	if mt, _, err := mime.ParseMediaType(s.Header.Get("Content-Type")); err == nil && mt == "application/x-www-form-urlencoded" {
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("form body: %w", err)
		}
		if !v.Has("payload") {
			return nil, errors.New("form body has no payload field")
		}
		s.Payload = []byte(v.Get("payload"))
		s.Form = true
	}
	RemoveCredentials(s.Header)
	return s, nil
}

// RemoveCredentials deletes from h, in place, every header that carries a
// credential (event.IsCredentialHeader: signatures, tokens,
// Authorization), the headers named in declared (a forge's credential and
// signature headers, see Declared: whoever signs sets them afresh) and the transport headers that the HTTP client sets (Host,
// Content-Length, Accept-Encoding, Connection, Transfer-Encoding), so that
// h can be signed and sent again.
func RemoveCredentials(h http.Header, declared ...string) {
	for k := range h {
		if event.IsCredentialHeader(k, declared...) || transport(http.CanonicalHeaderKey(k)) {
			delete(h, k)
		}
	}
}

// Declared returns the headers d declares that RemoveCredentials must
// remove from its deliveries: its credential and signature headers.
func Declared(d forge.Descriptor) []string {
	return append(slices.Clone(d.CredentialHeaders), d.SignatureHeaders...)
}

// transport reports whether the canonical header name k is one the HTTP
// client sets.
func transport(k string) bool {
	switch k {
	case "Host", "Content-Length", "Accept-Encoding", "Connection", "Transfer-Encoding":
		return true
	}
	return false
}
