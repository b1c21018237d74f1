package jsonx

import (
	"errors"
	"strings"
	"testing"
)

// nest returns a value nested depth levels deep, alternating arrays and
// objects.
func nest(depth int) string {
	var b strings.Builder
	for i := range depth {
		if i%2 == 0 {
			b.WriteString(`[`)
		} else {
			b.WriteString(`{"k":`)
		}
	}
	b.WriteString(`1`)
	for i := depth - 1; i >= 0; i-- {
		if i%2 == 0 {
			b.WriteString(`]`)
		} else {
			b.WriteString(`}`)
		}
	}
	return b.String()
}

func TestCheckPayloadDepth(t *testing.T) {
	for _, c := range []struct {
		name string
		in   string
		want error
	}{
		{"flat", `{"a":1}`, nil},
		{"scalar", ` 1 `, nil},
		{"at the limit", nest(MaxDepth), nil},
		{"one past the limit", nest(MaxDepth + 1), ErrTooDeep},
		{"encoding/json's limit", nest(10000), ErrTooDeep},
		{"past encoding/json's limit", nest(10001), ErrSyntax},
		{"deep and broken", nest(MaxDepth + 1)[:MaxDepth+10], ErrSyntax},
		{"two values", `{} {}`, ErrSyntax},
		{"empty", ``, ErrSyntax},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := CheckPayload([]byte(c.in))
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("CheckPayload = %v, want %v", err, c.want)
			}
		})
	}
}

// FuzzCheckPayload checks CheckPayload against Valid: it accepts exactly
// what Valid accepts unless it nests deeper than MaxDepth.
func FuzzCheckPayload(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}]}`, nest(MaxDepth), nest(MaxDepth + 1), `[`, `"x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := CheckPayload(data)
		valid := Valid(data)
		switch {
		case err == nil && !valid:
			t.Fatalf("accepted what Valid refuses: %q", data)
		case errors.Is(err, ErrSyntax) && valid:
			t.Fatalf("syntax error on what Valid accepts: %q", data)
		case errors.Is(err, ErrTooDeep) && (!valid || depthOf(data) <= MaxDepth):
			t.Fatalf("too deep for a value of depth %d (valid %v): %q", depthOf(data), valid, data)
		case err == nil && depthOf(data) > MaxDepth:
			t.Fatalf("accepted depth %d", depthOf(data))
		}
	})
}

// depthOf is the deepest nesting of brackets outside strings in a valid
// value.
func depthOf(data []byte) int {
	d, m, in, esc := 0, 0, false, false
	for _, c := range data {
		switch {
		case esc:
			esc = false
		case in && c == '\\':
			esc = true
		case c == '"':
			in = !in
		case !in && (c == '[' || c == '{'):
			d++
			m = max(m, d)
		case !in && (c == ']' || c == '}'):
			d--
		}
	}
	return m
}
