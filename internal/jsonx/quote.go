package jsonx

import "unicode/utf8"

// This file is forgehook's one JSON string quoter, for every hand-written
// encoder (the stored record, ingest's answers, attempt records). Its bytes
// are encoding/json's, with or without its HTML escaping: '"' and '\\'
// escaped, control characters as \b \f \n \r \t or \u00XX, invalid UTF-8 as
// \ufffd, U+2028 and U+2029 as \u2028 and \u2029, and with HTML escaping
// <, > and & as \u003c, \u003e and \u0026; everything else as is. The
// appending and the counting forms share escapeAt, so they cannot disagree.

// AppendString appends s as a JSON string exactly as json.Marshal writes
// it (HTML escaping on) and returns the extended buffer.
func AppendString(b []byte, s string) []byte { return appendQuoted(b, s, true) }

// AppendStringNoHTML appends s as a JSON string exactly as a json.Encoder
// with SetEscapeHTML(false) writes it (<, > and & as they are) and returns
// the extended buffer. It allocates only when b has no room.
func AppendStringNoHTML(b []byte, s string) []byte { return appendQuoted(b, s, false) }

// QuoteNoHTML is AppendStringNoHTML and StringLenNoHTML in one call, for
// an encoder that runs once counting and once writing (the record encoder
// of package event): with n negative it returns AppendStringNoHTML(b, s)
// and n, else b and n + StringLenNoHTML(s). A plain string (most are) costs
// one call.
func QuoteNoHTML(b []byte, n int, s string) ([]byte, int) {
	i := 0
	if s != "" {
		i = plainLen(s, false)
	}
	if i == len(s) {
		if n >= 0 {
			return b, n + len(s) + len(`""`)
		}
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"'), n
	}
	if n >= 0 {
		return b, n + quotedLen(s, false)
	}
	return appendQuoted(b, s, false), n
}

// StringLenNoHTML returns len(AppendStringNoHTML(nil, s)), without writing.
func StringLenNoHTML(s string) int { return quotedLen(s, false) }

const hexDigits = "0123456789abcdef"

func appendQuoted(b []byte, s string, html bool) []byte {
	if s == "" {
		// A record has a dozen empty members.
		return append(b, '"', '"')
	}
	b = append(b, '"')
	i := plainLen(s, html)
	b = append(b, s[:i]...)
	if i == len(s) {
		// Most strings (URLs, names, ids) are plain from end to end.
		return append(b, '"')
	}
	for {
		j, e, n, size := escapeAt(s, i, html)
		b = append(b, s[i:j]...)
		if j == len(s) {
			return append(b, '"')
		}
		b = append(b, e[:n]...)
		i = j + size
	}
}

func quotedLen(s string, html bool) int {
	if s == "" {
		return len(`""`)
	}
	i := plainLen(s, html)
	n := len(`""`) + i
	for i < len(s) {
		j, _, en, size := escapeAt(s, i, html)
		n += j - i + en
		i = j + size
	}
	return n
}

// escapeAt returns the index j of the first byte at or after i that is not
// copied as it is, the escape written in its place (e[:n]) and the number
// of bytes of s it replaces; j is len(s) when there is none.
func escapeAt(s string, i int, html bool) (j int, e [6]byte, n, size int) {
	for j = i; ; {
		j += plainLen(s[j:], html)
		if j == len(s) {
			return j, e, 0, 0
		}
		c := s[j]
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				return j, [6]byte{'\\', c}, 2, 1
			case '\b':
				return j, [6]byte{'\\', 'b'}, 2, 1
			case '\f':
				return j, [6]byte{'\\', 'f'}, 2, 1
			case '\n':
				return j, [6]byte{'\\', 'n'}, 2, 1
			case '\r':
				return j, [6]byte{'\\', 'r'}, 2, 1
			case '\t':
				return j, [6]byte{'\\', 't'}, 2, 1
			}
			// A control character, or <, > or & with HTML escaping.
			return j, [6]byte{'\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf]}, 6, 1
		}
		r, sz := utf8.DecodeRuneInString(s[j:])
		switch {
		case r == utf8.RuneError && sz == 1:
			return j, [6]byte{'\\', 'u', 'f', 'f', 'f', 'd'}, 6, 1
		case r == '\u2028' || r == '\u2029':
			return j, [6]byte{'\\', 'u', '2', '0', '2', hexDigits[r&0xf]}, 6, sz
		}
		j += sz
	}
}

// plainLen returns the length of the longest prefix of s that is copied as
// it is without a second look: printable ASCII but '"' and '\\' (and, with
// html, '<', '>' and '&'). It tests eight bytes at a time, as one word:
// most strings (URLs, names, ids) are plain from end to end.
func plainLen(s string, html bool) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		// "Some byte of v is zero" is (v-ones)&^v&highs != 0, and a byte
		// equal to c is a zero byte of x^(c*ones). Likewise a byte below
		// 0x20 sets its high bit in (x-0x20*ones)&^x; one that is not ASCII
		// has it set in x.
		q, bs := x^'"'*ones, x^'\\'*ones
		m := (x-0x20*ones)&^x | (q-ones)&^q | (bs-ones)&^bs | x
		if html {
			lt, gt, amp := x^'<'*ones, x^'>'*ones, x^'&'*ones
			m |= (lt-ones)&^lt | (gt-ones)&^gt | (amp-ones)&^amp
		}
		if m&highs != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' ||
			html && (c == '<' || c == '>' || c == '&') {
			break
		}
	}
	return i
}
