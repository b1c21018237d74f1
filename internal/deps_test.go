package internal_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/forgehook/forgehook/"

// imports returns the imports of the non-test Go files under dir, by
// package directory relative to the repository root.
func imports(t *testing.T, root string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		dir, _ := filepath.Rel(root, filepath.Dir(path))
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			out[filepath.ToSlash(dir)] = append(out[filepath.ToSlash(dir)], p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDepsImportRules keeps the layering of DESIGN.md §8: the pure
// packages (forge providers, verify, event) touch no store, no NATS and no
// HTTP server; the CLI reaches the server only through the API; only cmd
// imports app.
func TestDepsImportRules(t *testing.T) {
	all := imports(t, "..")
	pure := func(dir string) bool {
		return dir == "internal/verify" || dir == "internal/event" || dir == "internal/forge" || strings.HasPrefix(dir, "internal/forge/")
	}
	checked := 0
	for dir, imps := range all {
		for _, p := range imps {
			checked++
			switch {
			case pure(dir) && (strings.HasPrefix(p, "github.com/nats-io/") || p == module+"internal/store" || p == module+"internal/ingest" || p == module+"internal/app" || p == "net/http/httptest"):
				t.Errorf("%s imports %s: forge, verify and event must stay pure", dir, p)
			case strings.HasPrefix(dir, "internal/cli") && (p == module+"internal/store" || strings.HasPrefix(p, "github.com/nats-io/")):
				t.Errorf("%s imports %s: the CLI talks to the server through internal/api", dir, p)
			case p == module+"internal/app" && !strings.HasPrefix(dir, "cmd/") && dir != "internal/cli":
				t.Errorf("%s imports internal/app: only cmd (through cli) may", dir)
			}
		}
	}
	if checked < 50 {
		t.Fatalf("only %d imports seen: the walk is broken", checked)
	}
}
