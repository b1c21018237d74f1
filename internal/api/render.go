package api

// Bounded rendering of stored JSON for the admin plane.
//
// A stored event holds a forge's body byte for byte: it may nest thousands
// of levels deep, carry wide arrays, or hold bytes that are not UTF-8.
// Re-indenting such a body without limit turned a 50 KB event into a
// 250 MB answer (each of its elements on a line indented by thousands of
// spaces). Every view of a stored event on the admin plane goes through
// AppendJSON instead: it checks the JSON, refuses nesting deeper than a
// limit, replaces invalid UTF-8 with U+FFFD (so the answer is valid JSON),
// and indents only while the output stays under a size limit.

import (
	"errors"
	"unicode/utf8"

	"github.com/forgehook/forgehook/internal/jsonx"
)

// MaxBodyDepth is the deepest nesting of a forge body that the admin plane
// renders as JSON; a deeper body is shown as text and served for download
// as stored. A stored event nests its body two levels down (data.body).
const MaxBodyDepth = 512 // TODO(lead): jsonx.MaxDepth

// maxEventDepth is MaxBodyDepth plus the event's own levels (data, body).
const maxEventDepth = MaxBodyDepth + 2

// MaxPretty bounds an indented answer of the admin API: past it, the
// answer is written compact (its size then stays within three times the
// stored size: an invalid byte becomes the three bytes of U+FFFD).
const MaxPretty = 1 << 20

// Rendering errors. Each is returned by AppendJSON with the input left
// unrendered.
var (
	// ErrNotJSON is returned for input that is not one JSON value.
	ErrNotJSON = errors.New("not valid JSON")
	// ErrTooDeep is returned for JSON nested deeper than the limit.
	ErrTooDeep = errors.New("nested too deep")
	// ErrTooLarge is returned when the rendering would pass the output
	// limit.
	ErrTooLarge = errors.New("rendering too large")
)

// Render says how AppendJSON writes a value.
type Render struct {
	// Indent, when not empty, is the indentation of one level: the output
	// is the one json.Indent gives with Prefix and Indent. Empty: compact.
	Indent string
	// Prefix begins every line but the first (with Indent).
	Prefix string
	// MaxDepth is the deepest nesting accepted (0: maxEventDepth).
	MaxDepth int
	// MaxOut, when positive, bounds the output's length (give or take one
	// token and one line's indentation).
	MaxOut int
}

// AppendJSON appends the JSON value src to dst, rendered as r says: white
// space outside strings removed (or replaced by indentation), and every byte
// of a string that is not UTF-8 replaced by U+FFFD, as encoding/json's
// Unmarshal decodes it. On error it returns dst unchanged and ErrNotJSON,
// ErrTooDeep or ErrTooLarge. It never recurses: its memory is the output
// and one byte per nesting level.
func AppendJSON(dst, src []byte, r Render) ([]byte, error) {
	out, err := appendJSON(dst, src, r)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// Parser states of appendJSON.
const (
	wantValue      = iota // a value
	wantFirstValue        // after '[': a value or ']'
	wantFirstKey          // after '{': a key or '}'
	wantKey               // after ',' in an object: a key
	wantColon             // after a key
	wantNext              // after a value: ',', a closer, or the end
)

func appendJSON(dst, src []byte, r Render) ([]byte, error) {
	maxDepth := r.MaxDepth
	if maxDepth <= 0 {
		maxDepth = maxEventDepth
	}
	start := len(dst)
	var stack []byte // open containers: '{' or '['
	st := wantValue
	i := 0
	newline := func(depth int) {
		if r.Indent == "" {
			return
		}
		dst = append(dst, '\n')
		dst = append(dst, r.Prefix...)
		for range depth {
			dst = append(dst, r.Indent...)
		}
	}
	for {
		if r.MaxOut > 0 && len(dst)-start > r.MaxOut {
			return nil, ErrTooLarge
		}
		i = jsonx.SkipSpace(src, i)
		if st == wantNext && len(stack) == 0 {
			if i != len(src) {
				return nil, ErrNotJSON
			}
			return dst, nil
		}
		if i >= len(src) {
			return nil, ErrNotJSON
		}
		c := src[i]
		switch st {
		case wantNext:
			top := stack[len(stack)-1]
			switch {
			case c == ',':
				dst = append(dst, ',')
				newline(len(stack))
				i++
				st = wantValue
				if top == '{' {
					st = wantKey
				}
			case c == ']' && top == '[', c == '}' && top == '{':
				stack = stack[:len(stack)-1]
				newline(len(stack))
				dst = append(dst, c)
				i++
			default:
				return nil, ErrNotJSON
			}
			continue
		case wantColon:
			if c != ':' {
				return nil, ErrNotJSON
			}
			dst = append(dst, ':')
			if r.Indent != "" {
				dst = append(dst, ' ')
			}
			i++
			st = wantValue
			continue
		case wantFirstKey, wantFirstValue:
			if c == '}' && st == wantFirstKey || c == ']' && st == wantFirstValue {
				stack = stack[:len(stack)-1]
				dst = append(dst, c)
				i++
				st = wantNext
				continue
			}
			newline(len(stack))
			if st == wantFirstKey {
				st = wantKey
			} else {
				st = wantValue
			}
		}
		if st == wantKey {
			if c != '"' {
				return nil, ErrNotJSON
			}
			var ok bool
			if dst, i, ok = appendString(dst, src, i); !ok {
				return nil, ErrNotJSON
			}
			st = wantColon
			continue
		}
		// st == wantValue
		switch c {
		case '{', '[':
			if len(stack) >= maxDepth {
				return nil, ErrTooDeep
			}
			stack = append(stack, c)
			dst = append(dst, c)
			i++
			st = wantFirstValue
			if c == '{' {
				st = wantFirstKey
			}
			continue
		case '"':
			var ok bool
			if dst, i, ok = appendString(dst, src, i); !ok {
				return nil, ErrNotJSON
			}
		case 't', 'f', 'n':
			n := literal(src[i:])
			if n == 0 {
				return nil, ErrNotJSON
			}
			dst = append(dst, src[i:i+n]...)
			i += n
		default:
			n := number(src[i:])
			if n == 0 {
				return nil, ErrNotJSON
			}
			dst = append(dst, src[i:i+n]...)
			i += n
		}
		st = wantNext
	}
}

// literal returns the length of the true, false or null at the start of
// b, or 0.
func literal(b []byte) int {
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(b) >= len(lit) && string(b[:len(lit)]) == lit {
			return len(lit)
		}
	}
	return 0
}

// number returns the length of the JSON number at the start of b, or 0.
func number(b []byte) int {
	i := 0
	digits := func() int {
		n := 0
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		digits()
	default:
		return 0
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return 0
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return 0
		}
	}
	return i
}

// appendString appends the JSON string at src[i] (a '"') to dst, every
// byte that is not UTF-8 replaced by U+FFFD; it returns the index after
// the string, or false if src holds no well-formed string there.
func appendString(dst, src []byte, i int) ([]byte, int, bool) {
	dst = append(dst, '"')
	i++
	for {
		run := i
		for i < len(src) {
			c := src[i]
			if c == '"' || c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
				break
			}
			i++
		}
		dst = append(dst, src[run:i]...)
		if i >= len(src) {
			return nil, 0, false
		}
		c := src[i]
		switch {
		case c == '"':
			return append(dst, '"'), i + 1, true
		case c == '\\':
			if i+1 >= len(src) {
				return nil, 0, false
			}
			switch src[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				dst = append(dst, src[i:i+2]...)
				i += 2
			case 'u':
				if i+6 > len(src) {
					return nil, 0, false
				}
				for _, h := range src[i+2 : i+6] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return nil, 0, false
					}
				}
				dst = append(dst, src[i:i+6]...)
				i += 6
			default:
				return nil, 0, false
			}
		case c < 0x20:
			return nil, 0, false
		default:
			r, size := utf8.DecodeRune(src[i:])
			if r == utf8.RuneError && size == 1 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, src[i:i+size]...)
			}
			i += size
		}
	}
}

// Member returns the raw bytes of the value of the member key of the JSON
// object src (the first one of that name, written without escapes), as
// stored: nothing is re-encoded. It is lenient: it checks only what it
// needs to find the member, at any depth and in constant memory.
func Member(src []byte, key string) ([]byte, bool) {
	i := jsonx.SkipSpace(src, 0)
	if i >= len(src) || src[i] != '{' {
		return nil, false
	}
	i++
	for {
		i = jsonx.SkipSpace(src, i)
		if i >= len(src) || src[i] != '"' {
			return nil, false
		}
		kEnd, ok := jsonx.SkipValue(src, i)
		if !ok {
			return nil, false
		}
		k := src[i+1 : kEnd-1]
		i = jsonx.SkipSpace(src, kEnd)
		if i >= len(src) || src[i] != ':' {
			return nil, false
		}
		i = jsonx.SkipSpace(src, i+1)
		vEnd, ok := jsonx.SkipValue(src, i)
		if !ok {
			return nil, false
		}
		if string(k) == key {
			return src[i:vEnd], true
		}
		i = jsonx.SkipSpace(src, vEnd)
		if i >= len(src) || src[i] != ',' {
			return nil, false
		}
		i++
	}
}

// StripBody returns a copy of a stored record with data.body replaced by
// null: what a summary needs, whatever the body's size and depth. A record
// without a body is returned as is.
func StripBody(record []byte) []byte {
	body, ok := BodyOf(record)
	if !ok {
		return record
	}
	// body is a subslice of record: its offset is the capacity it lacks.
	start := cap(record) - cap(body)
	out := make([]byte, 0, len(record)-len(body)+len("null"))
	out = append(out, record[:start]...)
	out = append(out, "null"...)
	return append(out, record[start+len(body):]...)
}
