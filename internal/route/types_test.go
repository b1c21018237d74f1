package route

import (
	"reflect"
	"strings"
	"testing"

	"github.com/google/cel-go/cel"

	"github.com/forgehook/forgehook/internal/event"
)

// recordField is one field of the normalized record as its JSON says it:
// its CEL path and the CEL type its Go type must be declared with.
type recordField struct {
	path string
	want *cel.Type
}

// recordFields walks t's exported fields by their json tags, as the
// record's JSON writes them, independently of the declarations under test:
// nested structs are descended into (a slice of structs through its first
// element).
func recordFields(t reflect.Type, prefix string) []recordField {
	var out []recordField
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		path := prefix + "." + name
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Struct:
			out = append(out, recordField{path, cel.ObjectType(celTypeName(ft))})
			out = append(out, recordFields(ft, path)...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			out = append(out, recordField{path, cel.ListType(cel.ObjectType(celTypeName(ft.Elem())))})
			out = append(out, recordFields(ft.Elem(), path+"[0]")...)
		default:
			out = append(out, recordField{path, celScalar(ft)})
		}
	}
	return out
}

// celScalar is the CEL type of a Go type that is not a struct.
func celScalar(t reflect.Type) *cel.Type {
	switch t.Kind() {
	case reflect.String:
		return cel.StringType
	case reflect.Bool:
		return cel.BoolType
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return cel.IntType
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return cel.UintType
	case reflect.Float32, reflect.Float64:
		return cel.DoubleType
	case reflect.Slice:
		return cel.ListType(celScalar(t.Elem()))
	case reflect.Map:
		return cel.MapType(celScalar(t.Key()), celScalar(t.Elem()))
	}
	return nil
}

// TestRouteRecordFieldsAreDeclared: every field of the record's JSON,
// at any depth, is declared to CEL with the type of its Go field, so a
// field added to event.Fields cannot be forgotten (nor one declared that
// the record does not write).
func TestRouteRecordFieldsAreDeclared(t *testing.T) {
	env, err := NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	fields := recordFields(recordGoType, "event")
	if len(fields) < 30 {
		t.Fatalf("only %d fields found in event.Fields", len(fields))
	}
	for _, f := range fields {
		if f.want == nil {
			t.Errorf("%s: a Go type with no CEL counterpart", f.path)
			continue
		}
		ast, iss := env.env.Compile(f.path)
		if iss.Err() != nil {
			t.Errorf("%s: not declared: %v", f.path, iss.Err())
			continue
		}
		if got := ast.OutputType(); !got.IsExactType(f.want) {
			t.Errorf("%s: declared as %s, want %s", f.path, got, f.want)
		}
	}
	// The walk above finds the fields the JSON writes, and only those.
	for _, path := range []string{"event.kind", "event.twin", "event.pull_request.number", "event.commits[0].author.login"} {
		found := false
		for _, f := range fields {
			found = found || f.path == path
		}
		if !found {
			t.Errorf("the walk of event.Fields misses %s", path)
		}
	}
	for _, path := range []string{"event.Kind", "event.forge_action", "event.ForgeAction", "event.PullRequest"} {
		if ast, iss := env.env.Compile(path + ` == ""`); iss.Err() == nil {
			t.Errorf("%s is declared (%s)", path, ast.OutputType())
		}
	}
}

// TestRouteTypeErrorsAtCompile: with the record typed, a misspelled field
// or a value of the wrong type is a compile error at its column, and the
// right forms still compile.
func TestRouteTypeErrorsAtCompile(t *testing.T) {
	env, err := NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ expr, want string }{
		{`event.brnch == "main"`, "1:6: undefined field 'brnch'"},
		{`event.kind == 1`, "1:12: found no matching overload for '_==_' applied to '(string, int)'"},
		{`event.pull_request.number == "1"`, "found no matching overload for '_==_' applied to '(int, string)'"},
		{`event.deleted == "true"`, "applied to '(bool, string)'"},
		{`event.repository.fullname == "a/b"`, "undefined field 'fullname'"},
		{`event.commits.exists(c, c.mesage.contains("x"))`, "undefined field 'mesage'"},
		{`event.kind == "push" &&` + "\n" + `  event.actor.nme == "x"`, "2:14: undefined field 'nme'"},
		{`event.branch.startsWith(1)`, "found no matching overload for 'startsWith'"},
		{`event.repository == "a/b"`, "applied to '(event.Repository, string)'"},
	} {
		_, err := env.Compile(c.expr)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Compile(%q) = %v, want an error containing %q", c.expr, err, c.want)
		}
	}
	for _, expr := range []string{
		`event.kind == "push"`,
		`event.kind in ["push", "tag"]`,
		`string(event.kind) == "push"`,
		`event.pull_request.number == 1 && event.pull_request.number > 0`,
		`event.twin || !event.deleted`,
		`event.commits.exists(c, c.author.email.endsWith("@acme.org"))`,
		`has(event.pull_request.title)`,
		`body.anything.at.all == 1 && header["x-a"][0] == "b" && ce.anything == "c"`,
	} {
		if _, err := env.Compile(expr); err != nil {
			t.Errorf("Compile(%q): %v", expr, err)
		}
	}
}

// TestRouteRecordReadsZeroValues: a field that a stored record lacks (one
// written before the field existed) reads as its zero value, without an
// error, and has() is true only for a value that is not zero.
func TestRouteRecordReadsZeroValues(t *testing.T) {
	env, _ := NewEnv()
	act, err := NewActivation([]byte(`{"id":"x","data":{"normalized":{"kind":"push","branch":"main","pull_request":{"title":"t"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for expr, want := range map[string]bool{
		`event.kind == "push" && event.branch == "main"`:               true,
		`event.pull_request.number == 0`:                               true,
		`has(event.pull_request.title)`:                                true,
		`has(event.pull_request.number)`:                               false,
		`has(event.branch) && !has(event.tag)`:                         true,
		`size(event.commits) == 0 && event.actor.login == ""`:          true,
		`!event.twin && !event.deleted && event.repository.name == ""`: true,
	} {
		p, err := env.Compile(expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		if got, err := p.Match(act); got != want || err != nil {
			t.Errorf("%s = %v, %v; want %v", expr, got, err, want)
		}
	}
	// A key of a part of the record is that part's JSON.
	for expr, want := range map[string]string{
		`event.repository`: `{"full_name":"","name":"","owner":"","url":"","clone_url":"","default_branch":""}`,
		`event.commits`:    `[]`,
		`event.kind`:       `push`,
	} {
		p, err := env.CompileKey(expr)
		if err != nil {
			t.Fatal(err)
		}
		if k, err := p.Key(act); k != want || err != nil {
			t.Errorf("Key(%s) = %q, %v; want %q", expr, k, err, want)
		}
	}
	if !strings.Contains(recordType, "Fields") || reflect.TypeFor[event.Fields]() != recordGoType {
		t.Errorf("recordType %q", recordType)
	}
}
