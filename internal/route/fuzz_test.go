package route

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// FuzzRouteActivation feeds arbitrary records to the activation decoder
// and evaluates a few expressions on what it accepts: no input makes it
// panic, and an expression that reads only the typed record never fails
// on an accepted record (every field exists, with its type).
func FuzzRouteActivation(f *testing.F) {
	f.Add([]byte(`{"specversion":"1.0","id":"x","data":{"header":{"X-A":["1"]},"body":{"ref":"refs/heads/main"},"normalized":{"kind":"push","branch":"main","commits":[{"message":"m"}]}}}`))
	f.Add([]byte(`{"data":{"body":[1,2,3],"normalized":{}}}`))
	f.Add([]byte(`{"data":{"body":null}}`))
	f.Add([]byte(`{"data":{"normalized":{"kind":"tag","twin":true,"pull_request":{"number":3,"labels":["a"]}}}}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[]`))
	env, err := NewEnv()
	if err != nil {
		f.Fatal(err)
	}
	var progs []*Program
	for _, e := range []string{
		`event.kind == "push" && event.branch == "main"`,
		`event.commits.exists(c, c.message.contains("x")) || event.pull_request.number > 2 || event.twin`,
		`has(body.ref) && body.ref.startsWith("refs/")`,
		`header["x-a"][0] == "1"`,
	} {
		p, err := env.Compile(e)
		if err != nil {
			f.Fatal(err)
		}
		progs = append(progs, p)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		a, err := NewActivation(raw)
		if err != nil {
			return
		}
		for i, p := range progs {
			if _, err := p.Match(a); err != nil && i < 2 {
				t.Fatalf("%s on an accepted record: %v", p.Source(), err)
			}
		}
		if ok, err := progs[1].Match(a); err == nil && a.Twin() && !ok {
			t.Fatalf("event.twin is false on a twin")
		}
	})
}

// cookbook returns the expressions of docs/cel.md's ```cel blocks.
func cookbook(tb testing.TB) []string {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "cel.md"))
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile("(?s)```cel\n(.*?)```").FindAllStringSubmatch(string(b), -1) {
		out = append(out, strings.TrimSpace(m[1]))
	}
	return out
}

// FuzzRouteCompile compiles arbitrary expressions (what a configuration
// file gives) against the typed record, and checks what it accepts:
// compiling never panics; an accepted expression is of type bool (or dyn);
// it evaluates on real events without panicking; and Explain agrees with
// Match, each of its terms (printed back from the parse) compiling again.
func FuzzRouteCompile(f *testing.F) {
	for _, e := range cookbook(f) {
		f.Add(e)
	}
	for _, e := range []string{
		`event.brnch == "main"`, `event.kind == 1`, `event.kind`, `body.a.b[0] == 1 || header["x"][1] == "y"`,
		`event.pull_request.labels.exists(l, l == "bug") && !event.twin`, `[1, 2].all(x, x > 0) && ce.id != ""`,
		`event.commits.map(c, c.id).size() > 0`, `{"a": event.kind}["a"] == "push"`,
	} {
		f.Add(e)
	}
	env, err := NewEnv()
	if err != nil {
		f.Fatal(err)
	}
	acts := []*Activation{fixtureEvent(f, "gitlab", "merge_request"), fixtureEvent(f, "github", "create.payload")}
	f.Fuzz(func(t *testing.T, expr string) {
		if len(expr) > 2048 {
			return
		}
		p, err := env.Compile(expr)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an empty compile error")
			}
			return
		}
		if out := p.ast.OutputType(); out.String() != "bool" && out.String() != "dyn" {
			t.Fatalf("%q compiled to a %s", expr, out)
		}
		for _, a := range acts {
			ok, err := p.Match(a)
			x := p.Explain(a)
			switch {
			case err == nil && x.Value != strconv.FormatBool(ok):
				t.Fatalf("%q: Match %v, Explain %q", expr, ok, x.Value)
			case err != nil && !strings.HasPrefix(x.Value, "error: "):
				t.Fatalf("%q: Match error %v, Explain %q", expr, err, x.Value)
			}
			for _, term := range x.Terms {
				if strings.Contains(term.Value, "ERROR: <input>") {
					t.Fatalf("%q: term %q does not compile again: %s", expr, term.Source, term.Value)
				}
			}
		}
	})
}
