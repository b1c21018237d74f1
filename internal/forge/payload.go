package forge

import (
	"bytes"
	"errors"
	"strings"

	"github.com/forgehook/forgehook/internal/jsonx"
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// IsObject reports whether payload, after a byte order mark and leading
// white space, starts a JSON object.
func IsObject(payload []byte) bool {
	p := bytes.TrimLeft(bytes.TrimPrefix(payload, utf8BOM), " \t\r\n")
	return len(p) > 0 && p[0] == '{'
}

// DecodeObject unmarshals a JSON object into v, leniently: a member of an
// unexpected type is left at its zero value rather than failing the whole
// payload, so that one odd field (a null, a number where a string is
// usual, a key reused with another shape by another event) does not lose
// the event. It fails only on a payload that is not one JSON object. It
// keeps no reference to payload.
//
// It decodes with [jsonx.Unmarshal]: one pass that checks the syntax too,
// with encoding/json's semantics, and no error for a member of another type.
func DecodeObject(payload []byte, v any) error {
	if !IsObject(payload) {
		return errors.New("not a JSON object")
	}
	return jsonx.Unmarshal(bytes.TrimPrefix(payload, utf8BOM), v)
}

// LowerSnake returns s as a canonical lower_snake action name: ASCII
// letters lower-cased, a word boundary inside camelCase marked with '_',
// every other rune that is not a letter or digit replaced by '_', runs of
// '_' collapsed, and none at either end ("reviewer:approved" becomes
// "reviewer_approved", "WorkItemCreated" "work_item_created").
func LowerSnake(s string) string {
	var sb strings.Builder
	sb.Grow(len(s) + 4)
	prevLower, pendingSep := false, false
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			if prevLower {
				pendingSep = true
			}
			if pendingSep && sb.Len() > 0 {
				sb.WriteByte('_')
			}
			pendingSep = false
			sb.WriteRune(r + ('a' - 'A'))
			prevLower = false
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if pendingSep && sb.Len() > 0 {
				sb.WriteByte('_')
			}
			pendingSep = false
			sb.WriteRune(r)
			prevLower = true
		default:
			pendingSep = true
			prevLower = false
		}
	}
	return sb.String()
}
