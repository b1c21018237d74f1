package jsonx

import (
	"bytes"
	"strings"
	"testing"
)

func TestSkipValue(t *testing.T) {
	for _, tc := range []struct {
		in  string
		end int
		ok  bool
	}{
		{`"a\"b" ,`, 6, true},
		{`{"a":[1,{"b":"]"}]} x`, 19, true},
		{`[[[` + strings.Repeat("[", 20000) + strings.Repeat("]", 20003), 40006, true},
		{`12.5e3,`, 6, true},
		{`true}`, 4, true},
		{`{"a":1`, 0, false},
		{`"open`, 0, false},
		{``, 0, false},
	} {
		end, ok := SkipValue([]byte(tc.in), 0)
		if end != tc.end || ok != tc.ok {
			t.Errorf("SkipValue(%.20q) = %d, %v; want %d, %v", tc.in, end, ok, tc.end, tc.ok)
		}
	}
}

// FuzzSkipValue: on well-formed JSON (what the skippers are for), the value
// that starts after the leading white space ends where the document's
// trailing white space starts, at any nesting.
func FuzzSkipValue(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":"c\"}"}]}`, ` "x" `, `[]`, `-0.5e-3`, `null`, `{"password":"p","sign":"s"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !Valid(b) {
			return
		}
		start := SkipSpace(b, 0)
		end, ok := SkipValue(b, start)
		want := len(bytes.TrimRight(b, " \t\r\n"))
		if !ok || end != want {
			t.Fatalf("SkipValue(%q) = %d, %v; want %d, true", b, end, ok, want)
		}
	})
}
