package jsonx

import (
	"encoding/binary"
	"math/bits"
)

// maxDepth is the deepest nesting of objects and arrays that encoding/json
// accepts; one level more is a syntax error there, and so here.
const maxDepth = 10000

// Word-at-a-time constants: lsb has the low bit of every byte set, msb the
// high bit.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// Flags that scanString reports about a string's content.
const (
	strEscaped  = 1 << iota // it holds a backslash escape
	strNonASCII             // it holds a byte >= 0x80
)

// skipSpace returns the index of the first byte at or after i that is not
// JSON white space (space, tab, line feed, carriage return), or len(data).
func skipSpace(data []byte, i int) int {
	for ; i < len(data); i++ {
		c := data[i]
		if c > ' ' || (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
			return i
		}
	}
	return i
}

// scanString scans the body of a string whose opening quote is at i-1. It
// returns the index just past the closing quote and flags describing the
// content, or -1 if the string is unterminated, holds a control character
// or a malformed escape. Bytes >= 0x80 are not checked: encoding/json
// accepts invalid UTF-8 inside strings.
//
// It looks at eight bytes at a time for a quote, a backslash or a control
// character: for a word x, (x - 0x20…) & ^x & 0x80… flags the bytes below
// 0x20, and the same with x^'"'… and x^'\\'… less 0x01… flags the quotes
// and backslashes. Borrows only run upwards from a flagged byte, so the
// lowest flag is exact.
func scanString(data []byte, i int) (end int, flags uint8) {
	var hi uint64 // the OR of the bytes passed over, for strNonASCII
	for {
		for len(data)-i >= 8 {
			x := binary.LittleEndian.Uint64(data[i:])
			q := x ^ (lsb * '"')
			b := x ^ (lsb * '\\')
			m := ((x - lsb*0x20) | (q - lsb) | (b - lsb)) & ^x & msb
			if m != 0 {
				n := bits.TrailingZeros64(m) &^ 7 // bit offset of the special byte
				hi |= x & (1<<n - 1)
				i += n >> 3
				goto special
			}
			hi |= x
			i += 8
		}
		for ; i < len(data); i++ {
			c := data[i]
			if c == '"' || c == '\\' || c < 0x20 {
				goto special
			}
			hi |= uint64(c)
		}
		return -1, 0
	special:
		switch data[i] {
		case '"':
			if hi&msb != 0 {
				flags |= strNonASCII
			}
			return i + 1, flags
		case '\\':
			flags |= strEscaped
			if i+1 >= len(data) {
				return -1, 0
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(data)-i < 6 || !isHex(data[i+2]) || !isHex(data[i+3]) || !isHex(data[i+4]) || !isHex(data[i+5]) {
					return -1, 0
				}
				i += 6
			default:
				return -1, 0
			}
		default: // a control character
			return -1, 0
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// scanNumber scans the number that starts at i (whose first byte is '-' or
// a digit, or the number is malformed). It returns the index just past it
// and whether it is an integer (no fraction, no exponent), or -1 if it is
// malformed.
func scanNumber(data []byte, i int) (end int, isInt bool) {
	if i < len(data) && data[i] == '-' {
		i++
	}
	if i >= len(data) {
		return -1, false
	}
	switch c := data[i]; {
	case c == '0':
		i++
	case '1' <= c && c <= '9':
		i++
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	default:
		return -1, false
	}
	isInt = true
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || !isDigit(data[i]) {
			return -1, false
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
		isInt = false
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || !isDigit(data[i]) {
			return -1, false
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
		isInt = false
	}
	return i, isInt
}

// isNumber reports whether s is exactly one JSON number.
func isNumber(s []byte) bool {
	end, _ := scanNumber(s, 0)
	return end == len(s)
}

// scanLiteral returns the index just past the literal lit ("true",
// "false" or "null") if data holds it at i, else -1.
func scanLiteral(data []byte, i int, lit string) int {
	if len(data)-i >= len(lit) && string(data[i:i+len(lit)]) == lit {
		return i + len(lit)
	}
	return -1
}

// scanKey scans an object member's key and the colon after it: the key's
// opening quote is at i. It returns the index of the member's value (white
// space skipped, possibly len(data)), or -1.
func scanKey(data []byte, i int) int {
	if i >= len(data) || data[i] != '"' {
		return -1
	}
	i, _ = scanString(data, i+1)
	if i < 0 {
		return -1
	}
	i = skipSpace(data, i)
	if i >= len(data) || data[i] != ':' {
		return -1
	}
	return skipSpace(data, i+1)
}

// bitStack records, for each open container, whether it is an object.
// The first 128 levels need no allocation.
type bitStack struct {
	low  [2]uint64
	high []uint64
}

func (s *bitStack) set(k int, object bool) {
	var w *uint64
	if k < 128 {
		w = &s.low[k>>6]
	} else {
		j := k>>6 - 2
		for len(s.high) <= j {
			s.high = append(s.high, 0)
		}
		w = &s.high[j]
	}
	if object {
		*w |= 1 << (k & 63)
	} else {
		*w &^= 1 << (k & 63)
	}
}

func (s *bitStack) get(k int) bool {
	if k < 128 {
		return s.low[k>>6]&(1<<(k&63)) != 0
	}
	return s.high[k>>6-2]&(1<<(k&63)) != 0
}

// skipValue checks the JSON value that starts at i (white space already
// skipped) and returns the index just past it, or -1 if it is not one
// well-formed value. depth is the number of containers already open around
// it, for the nesting limit.
func skipValue(data []byte, i, depth int) int {
	var open bitStack
	n := 0 // containers opened by this call and not yet closed
	for {
		// A value starts at i.
		if i >= len(data) {
			return -1
		}
		switch c := data[i]; c {
		case '{':
			if depth+n >= maxDepth {
				return -1
			}
			i = skipSpace(data, i+1)
			if i < len(data) && data[i] == '}' {
				i++
				break
			}
			open.set(n, true)
			n++
			if i = scanKey(data, i); i < 0 {
				return -1
			}
			continue
		case '[':
			if depth+n >= maxDepth {
				return -1
			}
			i = skipSpace(data, i+1)
			if i < len(data) && data[i] == ']' {
				i++
				break
			}
			open.set(n, false)
			n++
			continue
		case '"':
			if i, _ = scanString(data, i+1); i < 0 {
				return -1
			}
		case 't':
			if i = scanLiteral(data, i, "true"); i < 0 {
				return -1
			}
		case 'f':
			if i = scanLiteral(data, i, "false"); i < 0 {
				return -1
			}
		case 'n':
			if i = scanLiteral(data, i, "null"); i < 0 {
				return -1
			}
		default:
			if i, _ = scanNumber(data, i); i < 0 {
				return -1
			}
		}
		// A value ended at i: close the containers it completes.
		for {
			if n == 0 {
				return i
			}
			i = skipSpace(data, i)
			if i >= len(data) {
				return -1
			}
			object := open.get(n - 1)
			c := data[i]
			if c == ',' {
				i = skipSpace(data, i+1)
				if object {
					if i = scanKey(data, i); i < 0 {
						return -1
					}
				}
				break
			}
			if object && c == '}' || !object && c == ']' {
				i++
				n--
				continue
			}
			return -1
		}
	}
}
