package ingest

import (
	"bytes"
	"errors"
	"fmt"
)

// errNoPayloadField means a form body has no payload field.
var errNoPayloadField = errors.New("form body has no payload field")

// formPayload returns the value of the first field named "payload" of an
// application/x-www-form-urlencoded body, unescaped: what
// url.ParseQuery(string(body)).Get("payload") returns, with the same
// errors for a malformed body (a bad %-escape or a ';' in any field, so
// that the same bodies are refused), but without building the map: it
// allocates only the unescaped value, through alloc(n), n its exact length
// (at most len(body)), so that the caller can account for it before it is
// made. It returns errNoPayloadField when no field has that name, or alloc's
// error. url.ParseQuery also refuses bodies with more than 10000 fields;
// formPayload does not, as its memory does not grow with their number.
func formPayload(body []byte, alloc func(n int) ([]byte, error)) ([]byte, error) {
	var val []byte // the raw value of the first payload field
	found := false
	for rest := body; len(rest) > 0; {
		var pair []byte
		pair, rest, _ = bytes.Cut(rest, []byte{'&'})
		if bytes.IndexByte(pair, ';') >= 0 {
			return nil, errors.New("invalid semicolon separator in form body")
		}
		if len(pair) == 0 {
			continue
		}
		key, v, _ := bytes.Cut(pair, []byte{'='})
		n, err := unescapedLen(key)
		if err != nil {
			return nil, err
		}
		if _, err := unescapedLen(v); err != nil {
			return nil, err
		}
		if !found && n == len("payload") && unescapedIs(key, "payload") {
			val, found = v, true
		}
	}
	if !found {
		return nil, errNoPayloadField
	}
	n, _ := unescapedLen(val)
	out, err := alloc(n)
	if err != nil {
		return nil, err
	}
	out = out[:0]
	for i := 0; i < len(val); i++ {
		switch c := val[i]; c {
		case '%':
			out = append(out, unhex(val[i+1])<<4|unhex(val[i+2]))
			i += 2
		case '+':
			out = append(out, ' ')
		default:
			out = append(out, c)
		}
	}
	return out, nil
}

// unescapedLen returns the length of s once its query escapes are undone
// (each %XX is one byte), or an error for a '%' not followed by two hex
// digits (url.QueryUnescape's).
func unescapedLen(s []byte) (int, error) {
	n := len(s)
	for i := bytes.IndexByte(s, '%'); i >= 0; {
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			end := min(i+3, len(s))
			return 0, fmt.Errorf("invalid URL escape %q in form body", s[i:end])
		}
		n -= 2
		j := bytes.IndexByte(s[i+3:], '%')
		if j < 0 {
			break
		}
		i += 3 + j
	}
	return n, nil
}

// unescapedIs reports whether the well-escaped s unescapes to want.
func unescapedIs(s []byte, want string) bool {
	j := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '%':
			c = unhex(s[i+1])<<4 | unhex(s[i+2])
			i += 2
		case '+':
			c = ' '
		}
		if j >= len(want) || want[j] != c {
			return false
		}
		j++
	}
	return j == len(want)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
