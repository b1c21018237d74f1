package jsonx

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestJSONXUnsafeConfined checks the fence the package documentation
// promises: unsafe.go is the package's only file that imports unsafe.
func TestJSONXUnsafeConfined(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "unsafe" {
				if name != "unsafe.go" {
					t.Errorf("%s imports unsafe: only unsafe.go may", name)
				}
				found = true
			}
		}
	}
	if !found {
		t.Error("unsafe.go does not import unsafe: the test looks at the wrong files")
	}
}
