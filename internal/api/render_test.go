package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAdminRenderTable(t *testing.T) {
	cases := []struct {
		in, compact string
		err         error
	}{
		{`{"a": [1, 2.5e3, -0, "x"], "b": {}, "c": [], "d": null, "e": true, "f": false}`, `{"a":[1,2.5e3,-0,"x"],"b":{},"c":[],"d":null,"e":true,"f":false}`, nil},
		{" \"\\u00e9\\n\" ", `"\u00e9\n"`, nil},
		{"\"a\xffb\"", "\"a\uFFFDb\"", nil},
		{"{\"k\xc3\":\"\xe2\x82\"}", "{\"k\uFFFD\":\"\uFFFD\uFFFD\"}", nil},
		{``, "", ErrNotJSON},
		{`{"a":1,}`, "", ErrNotJSON},
		{`[1 2]`, "", ErrNotJSON},
		{`01`, "", ErrNotJSON},
		{`1.`, "", ErrNotJSON},
		{`tru`, "", ErrNotJSON},
		{`"a` + "\n" + `"`, "", ErrNotJSON},
		{`"\x"`, "", ErrNotJSON},
		{`"\u12g4"`, "", ErrNotJSON},
		{`{"a":1}}`, "", ErrNotJSON},
		{`{1:2}`, "", ErrNotJSON},
		{`[}`, "", ErrNotJSON},
		{"\xff", "", ErrNotJSON},
		{strings.Repeat("[", maxEventDepth) + strings.Repeat("]", maxEventDepth), strings.Repeat("[", maxEventDepth) + strings.Repeat("]", maxEventDepth), nil},
		{strings.Repeat("[", maxEventDepth+1) + strings.Repeat("]", maxEventDepth+1), "", ErrTooDeep},
	}
	for _, c := range cases {
		got, err := AppendJSON([]byte("x"), []byte(c.in), Render{})
		if !errors.Is(err, c.err) {
			t.Errorf("AppendJSON(%q): err %v, want %v", c.in, err, c.err)
			continue
		}
		if err != nil {
			if string(got) != "x" {
				t.Errorf("AppendJSON(%q) failed but changed dst: %q", c.in, got)
			}
			continue
		}
		if string(got) != "x"+c.compact {
			t.Errorf("AppendJSON(%q) = %q, want %q", c.in, got[1:], c.compact)
		}
	}
}

// TestAdminRenderBounded is the attack of issue 10: a small body nested
// thousands deep with wide arrays, whose indentation is hundreds of MB.
func TestAdminRenderBounded(t *testing.T) {
	body := nestedWide(500, 50<<10)
	var full bytes.Buffer
	if err := json.Indent(&full, body, "", "  "); err != nil {
		t.Fatal(err)
	}
	if full.Len() < 10<<20 {
		t.Fatalf("the attack body indents to only %d bytes: not an attack", full.Len())
	}
	_, err := AppendJSON(nil, body, Render{Indent: "  ", MaxOut: MaxPretty})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("pretty: err %v, want ErrTooLarge", err)
	}
	out, err := AppendJSON(nil, body, Render{})
	if err != nil || len(out) > len(body) {
		t.Fatalf("compact: %d bytes, %v; want at most %d", len(out), err, len(body))
	}
}

// nestedWide returns a JSON body of about size bytes: depth nested arrays
// holding one wide array of numbers.
func nestedWide(depth, size int) []byte {
	var b bytes.Buffer
	b.WriteString(strings.Repeat("[", depth))
	for b.Len() < size-depth-4 {
		b.WriteString("1,")
	}
	b.WriteString("1")
	b.WriteString(strings.Repeat("]", depth))
	return b.Bytes()
}

func TestAdminMember(t *testing.T) {
	rec := []byte(`{"id":"x","data":{"header":{"A":["}\"{"]},"body": {"z" : [1, {"q":"]"}] , "n":-1.5e3} ,"normalized":{}}}`)
	data, ok := Member(rec, "data")
	if !ok {
		t.Fatal("no data")
	}
	body, ok := Member(data, "body")
	if !ok || string(body) != `{"z" : [1, {"q":"]"}] , "n":-1.5e3}` {
		t.Fatalf("body = %q, %v", body, ok)
	}
	if v, ok := Member(body, "n"); !ok || string(v) != "-1.5e3" {
		t.Fatalf("n = %q, %v", v, ok)
	}
	for _, bad := range []string{``, `[]`, `{"a":`, `{"a":1`, `{"a":"1}`, `{"a" 1}`} {
		if v, ok := Member([]byte(bad), "b"); ok {
			t.Errorf("Member(%q) = %q, true", bad, v)
		}
	}
	deep := append(append([]byte(`{"data":{"body":`), nestedWide(20000, 100<<10)...), `}}`...)
	d, _ := Member(deep, "data")
	if b, ok := Member(d, "body"); !ok || len(b) < 100<<10-10 {
		t.Fatalf("deep body: %d bytes, %v", len(b), ok)
	}
}

// FuzzRenderJSON renders arbitrary bytes as the admin API does. Whatever
// it accepts, its output is valid JSON and valid UTF-8, holds the value
// encoding/json decodes from the input, indents exactly as json.Indent
// does, and stays within its bounds; whatever encoding/json accepts within
// the depth limit, it accepts.
func FuzzRenderJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}],"c":"\u00e9"}`, "\"\xff\xfe\"", `[[[[]]]]`, `-0.5e-3`, `{"a":1,}`, "{\"k\":\"\xed\xa0\x80\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(checkRender)
}

func checkRender(t *testing.T, src []byte) {
	// The API's event answer of a record holding src as its body.
	rec := append(append([]byte(`{"id":"x","data":{"header":{},"body":`), src...), `}}`...)
	if ev, reason := EventJSON(rec); ev != nil && (!json.Valid(ev) || !utf8.Valid(ev)) || ev == nil && reason == "" {
		t.Fatalf("EventJSON: %q, %q", ev, reason)
	}
	if b, ok := BodyOf(rec); json.Valid(src) && (!ok || !bytes.Equal(b, bytes.TrimSpace(src))) {
		t.Fatalf("BodyOf = %q, %v; want %q", b, ok, src)
	}
	compact, err := AppendJSON(nil, src, Render{})
	stdValid := json.Valid(src)
	if err != nil {
		if errors.Is(err, ErrNotJSON) && stdValid {
			t.Fatalf("encoding/json accepts %q, AppendJSON: %v", src, err)
		}
		if errors.Is(err, ErrTooDeep) && depthOf(src) <= maxEventDepth {
			t.Fatalf("too deep at a depth of at most %d: %q", depthOf(src), src)
		}
		return
	}
	if !stdValid {
		t.Fatalf("AppendJSON accepts %q, encoding/json does not", src)
	}
	if !json.Valid(compact) || !utf8.Valid(compact) {
		t.Fatalf("output %q is not valid JSON and UTF-8", compact)
	}
	if len(compact) > 3*len(src) {
		t.Fatalf("compact output %d bytes for %d", len(compact), len(src))
	}
	want, got := decodeNumbers(t, src), decodeNumbers(t, compact)
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("value changed: %#v -> %#v", want, got)
	}
	var ind bytes.Buffer
	if err := json.Indent(&ind, compact, "> ", "\t"); err != nil {
		t.Fatal(err)
	}
	pretty, err := AppendJSON(nil, src, Render{Prefix: "> ", Indent: "\t"})
	if err != nil || !bytes.Equal(pretty, ind.Bytes()) {
		t.Fatalf("indent: %v\n got %q\nwant %q", err, pretty, ind.Bytes())
	}
	const limit = 64
	full, _ := AppendJSON(nil, src, Render{Indent: "  "})
	bounded, err := AppendJSON(nil, src, Render{Indent: "  ", MaxOut: limit})
	switch {
	case errors.Is(err, ErrTooLarge) != (len(full) > limit):
		t.Fatalf("MaxOut %d: err %v for a full output of %d bytes", limit, err, len(full))
	case err == nil && !bytes.Equal(bounded, full):
		t.Fatalf("bounded output %q differs from %q", bounded, full)
	}
}

func decodeNumbers(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return v
}

func depthOf(src []byte) int {
	d, m := 0, 0
	for _, c := range src {
		switch c {
		case '[', '{':
			d++
			m = max(m, d)
		case ']', '}':
			d--
		}
	}
	return m
}
