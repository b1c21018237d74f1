package gitee

import (
	"encoding/json"

	"github.com/forgehook/forgehook/internal/jsonx"
)

// secretFields are the top-level payload members through which Gitee copies
// the hook's credential into the body: password holds the password in
// clear, sign the signature (which, like the X-Gitee-Token it equals, is a
// replayable credential for an hour). timestamp is kept: it is the time the
// hook fired, not secret material.
var secretFields = []string{"password", "sign"}

// Redact returns the payload to store and forward: payload without its
// top-level "password" and "sign" members. Every other byte is kept as
// received (member order, spacing, escapes and number forms), so that the
// stored body differs from the delivery only by the removed members and the
// comma and spacing that separated them. A member is matched by its decoded
// name, so an escaped spelling ("pass\u0077ord") is removed too, and so is
// every copy of a repeated name. Nested members of those names (a commit
// message, an issue body) are left alone.
//
// When payload is not a JSON object it is returned unchanged (ingest only
// stores payloads that are valid JSON, and a scalar or array has no members
// to remove). Redact never modifies payload; it returns payload itself when
// there is nothing to remove.
func (p *Provider) Redact(payload []byte) []byte {
	out := payload
	for {
		start, end, ok := findMember(out, secretFields)
		if !ok {
			return out
		}
		next := make([]byte, 0, len(out)-(end-start))
		next = append(next, out[:start]...)
		next = append(next, out[end:]...)
		out = next
	}
}

// findMember scans the top-level members of the JSON object in b and returns
// the span to cut to remove the first whose name is one of names: for any
// member but the first, from the end of the previous value to the end of its
// own (the comma, the spacing, the name and the value); for the first, from
// its name to the start of the next name (so the spacing after "{" stays),
// or to the end of its value when it is the only member.
func findMember(b []byte, names []string) (start, end int, ok bool) {
	i := jsonx.SkipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return 0, 0, false
	}
	i++
	prevEnd := i // end of the previous value, or just after '{'
	first := true
	for {
		i = jsonx.SkipSpace(b, i)
		if i >= len(b) {
			return 0, 0, false
		}
		if b[i] == '}' {
			return 0, 0, false
		}
		if !first {
			if b[i] != ',' {
				return 0, 0, false
			}
			i = jsonx.SkipSpace(b, i+1)
		}
		keyStart := i
		keyEnd, ok := jsonx.SkipString(b, i)
		if !ok {
			return 0, 0, false
		}
		i = jsonx.SkipSpace(b, keyEnd)
		if i >= len(b) || b[i] != ':' {
			return 0, 0, false
		}
		valEnd, ok := jsonx.SkipValue(b, jsonx.SkipSpace(b, i+1))
		if !ok {
			return 0, 0, false
		}
		if nameIn(b[keyStart:keyEnd], names) {
			if !first {
				return prevEnd, valEnd, true
			}
			j := jsonx.SkipSpace(b, valEnd)
			if j < len(b) && b[j] == ',' {
				return keyStart, jsonx.SkipSpace(b, j+1), true
			}
			return keyStart, valEnd, true
		}
		prevEnd, i, first = valEnd, valEnd, false
	}
}

// nameIn reports whether the JSON string literal raw decodes to one of names.
func nameIn(raw []byte, names []string) bool {
	inner := raw[1 : len(raw)-1]
	if hasEscape(inner) {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return false
		}
		inner = []byte(s)
	}
	for _, n := range names {
		if string(inner) == n {
			return true
		}
	}
	return false
}

func hasEscape(raw []byte) bool {
	for _, c := range raw {
		if c == '\\' {
			return true
		}
	}
	return false
}
