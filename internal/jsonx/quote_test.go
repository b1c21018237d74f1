package jsonx

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// quoteOracle is encoding/json's quoting of s, with or without its HTML
// escaping.
func quoteOracle(t testing.TB, s string, html bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(html)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// checkQuote compares both forms of the quoter and the counter with
// encoding/json on s, and checks that appending into a buffer with room
// writes in place.
func checkQuote(t testing.TB, s string) {
	t.Helper()
	for _, html := range []bool{true, false} {
		want := quoteOracle(t, s, html)
		var got []byte
		if html {
			got = AppendString([]byte("x"), s)
		} else {
			got = AppendStringNoHTML([]byte("x"), s)
			if n := StringLenNoHTML(s); n != len(want) {
				t.Fatalf("StringLenNoHTML(%q) = %d, want %d (%s)", s, n, len(want), want)
			}
			if b, n := QuoteNoHTML([]byte("y"), 5, s); string(b) != "y" || n != 5+len(want) {
				t.Fatalf("QuoteNoHTML(%q) counting: %q, %d; want \"y\", %d", s, b, n, 5+len(want))
			}
			if b, n := QuoteNoHTML([]byte("x"), -1, s); string(b) != "x"+string(want) || n != -1 {
				t.Fatalf("QuoteNoHTML(%q) writing: %s, %d; want x%s, -1", s, b, n, want)
			}
		}
		if string(got) != "x"+string(want) {
			t.Fatalf("html %v: quoted %q as %s, want x%s", html, s, got, want)
		}
		if quotedLen(s, html) != len(want) {
			t.Fatalf("html %v: quotedLen(%q) = %d, want %d", html, s, quotedLen(s, html), len(want))
		}
	}
	buf := make([]byte, 0, StringLenNoHTML(s))
	if out := AppendStringNoHTML(buf, s); len(out) > 0 && &out[0] != &buf[:1][0] {
		t.Fatalf("AppendStringNoHTML reallocated a buffer with room for %q", s)
	}
}

var quoteCases = []string{"", "plain", `q"uote`, `back\slash`, "<a>&b", "tab\t", "\x00", "\x1f", "é", "\xff",
	"\xe2\x80", "\u2028", "\u2029x", "~\x7f", "https://example.com/a?b=c&d=<e>", "ça va \"oui\"\n\r\b\f",
	"0123456789abcdef0123456789<abcdef", "\xf0\x9f\x98\x80 emoji", "\ufffd", "a\u2028b\xffc<d"}

func TestJSONXQuoteMatchesEncodingJSON(t *testing.T) {
	for _, s := range quoteCases {
		checkQuote(t, s)
	}
	// Every byte at every position of a string longer than a word.
	plain := "abcdefghijklmnopqrstuvwxyz0123456789"
	for c := range 256 {
		for _, p := range []int{0, 5, 7, 8, 15, 20} {
			b := []byte(plain[:21])
			b[p] = byte(c)
			checkQuote(t, string(b))
		}
	}
}

// TestJSONXPlainLen checks the word-at-a-time scan against a byte loop, in
// both modes.
func TestJSONXPlainLen(t *testing.T) {
	naive := func(s string, html bool) int {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' ||
				html && (c == '<' || c == '>' || c == '&') {
				return i
			}
		}
		return len(s)
	}
	plain := "abcdefghijklmnopqrstuvwxyz0123456789"
	for c := range 256 {
		for n := range 20 {
			for p := 0; p <= n; p++ {
				b := []byte(plain[:n])
				if p < n {
					b[p] = byte(c)
				}
				// A second special byte later must not hide the first.
				if p+1 < n {
					b[n-1] = '"'
				}
				for _, html := range []bool{false, true} {
					if got, want := plainLen(string(b), html), naive(string(b), html); got != want {
						t.Fatalf("plainLen(%q, %v) = %d, want %d", b, html, got, want)
					}
				}
			}
		}
	}
}

func FuzzQuote(f *testing.F) {
	for _, s := range quoteCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkQuote(t, s)
	})
}

func BenchmarkJSONXQuote(b *testing.B) {
	for _, s := range []string{"https://github.com/Codertocat/Hello-World/commit/6113728f27ae82c7b1a177c8d03f9e96e0adf246",
		"Update README.md with <b>bold</b> & a \"quote\"\n"} {
		buf := make([]byte, 0, 256)
		b.Run("", func(b *testing.B) {
			for b.Loop() {
				buf = AppendStringNoHTML(buf[:0], s)
			}
		})
	}
}
