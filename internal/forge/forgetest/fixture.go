// Package forgetest holds the delivery fixtures format and the conformance
// suite that every forge provider passes.
//
// A fixture is a txtar file in a provider's testdata/deliveries directory:
//
//	source: https://docs.example.com/webhooks (or: sent by Gitea 1.26.0 on loopback, 2026-11-23)
//	secret: s3cr3t-hook
//	-- headers --
//	Content-Type: application/json
//	X-GitHub-Event: push
//	-- body --
//	{"exact":"bytes"}
//
// The comment holds "key: value" lines: source (required), secret (the
// secret the delivery was signed with, if it carries a signature), and
// optional query (the URL query string the forge used). The body section is
// the exact request body followed by one newline, which the loader removes.
package forgetest

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/forgehook/forgehook/internal/forge"
	"github.com/rogpeppe/go-internal/txtar"
)

// Fixture is one recorded delivery.
type Fixture struct {
	// Name is the file name without .txtar.
	Name string
	// Path is the file's path.
	Path string
	// Source says where the delivery comes from.
	Source string
	// Secret is the secret the delivery was signed with ("" if unsigned).
	Secret string
	// Query is the URL query string, if any.
	Query string
	// Header holds the request headers.
	Header http.Header
	// Body holds the exact request body.
	Body []byte
	// Meta holds every "key: value" line of the comment.
	Meta map[string]string
}

// Load reads one fixture file.
func Load(path string) (*Fixture, error) {
	a, err := txtar.ParseFile(path)
	if err != nil {
		return nil, fmt.Errorf("fixture %s: %w", path, err)
	}
	f := &Fixture{
		Name:   strings.TrimSuffix(filepath.Base(path), ".txtar"),
		Path:   path,
		Header: http.Header{},
		Meta:   map[string]string{},
	}
	sc := bufio.NewScanner(bytes.NewReader(a.Comment))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f.Meta[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	f.Source = f.Meta["source"]
	f.Secret = f.Meta["secret"]
	f.Query = f.Meta["query"]
	if f.Source == "" {
		return nil, fmt.Errorf("fixture %s: no source: line in the comment", path)
	}
	var haveBody bool
	for _, file := range a.Files {
		switch file.Name {
		case "headers":
			sc := bufio.NewScanner(bytes.NewReader(file.Data))
			for sc.Scan() {
				line := sc.Text()
				if strings.TrimSpace(line) == "" {
					continue
				}
				k, v, ok := strings.Cut(line, ":")
				if !ok {
					return nil, fmt.Errorf("fixture %s: header line %q has no colon", path, line)
				}
				f.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
			}
		case "body":
			haveBody = true
			f.Body = bytes.TrimSuffix(file.Data, []byte("\n"))
		}
	}
	if !haveBody {
		return nil, fmt.Errorf("fixture %s: no body section", path)
	}
	return f, nil
}

// LoadDir reads every *.txtar fixture in dir, sorted by name.
func LoadDir(dir string) ([]*Fixture, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	var out []*Fixture
	for _, p := range paths {
		f, err := Load(p)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// Format renders a fixture in the txtar format Load reads.
func Format(source, secret string, h http.Header, body []byte) []byte {
	var c bytes.Buffer
	fmt.Fprintf(&c, "source: %s\n", source)
	if secret != "" {
		fmt.Fprintf(&c, "secret: %s\n", secret)
	}
	var hb bytes.Buffer
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(&hb, "%s: %s\n", k, v)
		}
	}
	return txtar.Format(&txtar.Archive{
		Comment: c.Bytes(),
		Files: []txtar.File{
			{Name: "headers", Data: hb.Bytes()},
			{Name: "body", Data: append(append([]byte(nil), body...), '\n')},
		},
	})
}

// Payload returns the JSON document of the fixture: the body, or the decoded
// payload= field when the body is form-encoded.
func (f *Fixture) Payload() ([]byte, bool, error) {
	ct := strings.ToLower(f.Header.Get("Content-Type"))
	if strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		v, err := url.ParseQuery(string(f.Body))
		if err != nil {
			return nil, true, err
		}
		return []byte(v.Get("payload")), true, nil
	}
	return f.Body, false, nil
}

// WriteFile writes data to path, creating directories.
func WriteFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// Dir returns the directory of d's provider package, Folder under
// internal/forge of the repository at root (a relative path such as
// "../../.." from a test's package directory).
func Dir(root string, d forge.Descriptor) string {
	return filepath.Join(root, "internal", "forge", d.Folder)
}

// LoadForge loads the delivery fixtures of d's provider, in its package's
// testdata/deliveries under the repository at root (see Dir).
func LoadForge(root string, d forge.Descriptor) ([]*Fixture, error) {
	return LoadDir(filepath.Join(Dir(root, d), "testdata", "deliveries"))
}
