package event

import (
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// Encode returns the record's CloudEvents JSON with data.body written as the
// exact bytes received (json.Marshal would compact it and escape <, > and &).
// Data.Body must be valid JSON.
//
// The record is written by hand, in one buffer of exactly EncodedLen bytes:
// it is on the ingest path of every event, where reflection-based encoding
// cost three times as much. The bytes are those of encoding/json with HTML
// escaping off, member for member (the tests compare the two on every
// field).
func (e *Event) Encode() ([]byte, error) {
	if err := e.checkTime(); err != nil {
		return nil, err
	}
	return e.AppendEncode(make([]byte, 0, e.EncodedLen()))
}

// AppendEncode appends the bytes Encode returns to b and returns the
// extended buffer; on error it returns b unchanged. It grows b as append
// does: a b with EncodedLen bytes of spare capacity (a pooled buffer, say)
// is written in place, without allocating. The result aliases b's array
// when it fits; it holds no reference to the event.
func (e *Event) AppendEncode(b []byte) ([]byte, error) {
	if err := e.checkTime(); err != nil {
		return b, err
	}
	b = append(b, `{"specversion":`...)
	b = appendString(b, e.SpecVersion)
	b = append(b, `,"id":`...)
	b = appendString(b, e.ID)
	b = append(b, `,"source":`...)
	b = appendString(b, e.Source)
	b = append(b, `,"type":`...)
	b = appendString(b, e.Type)
	if e.Subject != "" {
		b = append(b, `,"subject":`...)
		b = appendString(b, e.Subject)
	}
	b = append(b, `,"time":"`...)
	b = e.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","datacontenttype":`...)
	b = appendString(b, e.DataContentType)
	b = append(b, `,"forge":`...)
	b = appendString(b, e.Forge)
	b = append(b, `,"forgeevent":`...)
	b = appendString(b, e.ForgeEvent)
	b = append(b, `,"forgeaction":`...)
	b = appendString(b, e.ForgeAction)
	b = append(b, `,"endpoint":`...)
	b = appendString(b, e.Endpoint)
	if e.Delivery != "" {
		b = append(b, `,"forgedelivery":`...)
		b = appendString(b, e.Delivery)
	}

	b = append(b, `,"data":{"header":`...)
	b = appendHeader(b, e.Data.Header)
	b = append(b, `,"body":`...)
	if len(e.Data.Body) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, e.Data.Body...)
	}
	b = append(b, `,"normalized":`...)
	b = appendFields(b, &e.Data.Normalized)
	b = append(b, `}}`...)
	return b, nil
}

// checkTime refuses a time encoding/json cannot write.
func (e *Event) checkTime() error {
	if y := e.Time.Year(); y < 0 || y > 9999 {
		return fmt.Errorf("event: encode time: year %d outside of [0,9999]", y)
	}
	return nil
}

// EncodedLen returns the exact length of the record's JSON: len(Encode())
// when Encode succeeds. It counts without writing, member for member as
// AppendEncode writes (the tests check the two agree).
func (e *Event) EncodedLen() int {
	n := len(`{"specversion":`) + stringLen(e.SpecVersion) +
		len(`,"id":`) + stringLen(e.ID) +
		len(`,"source":`) + stringLen(e.Source) +
		len(`,"type":`) + stringLen(e.Type) +
		len(`,"time":"`) + timeLen(e.Time) +
		len(`","datacontenttype":`) + stringLen(e.DataContentType) +
		len(`,"forge":`) + stringLen(e.Forge) +
		len(`,"forgeevent":`) + stringLen(e.ForgeEvent) +
		len(`,"forgeaction":`) + stringLen(e.ForgeAction) +
		len(`,"endpoint":`) + stringLen(e.Endpoint) +
		len(`,"data":{"header":`) + headerLen(e.Data.Header) +
		len(`,"body":`) + len(`,"normalized":`) + fieldsLen(&e.Data.Normalized) +
		len(`}}`)
	if e.Subject != "" {
		n += len(`,"subject":`) + stringLen(e.Subject)
	}
	if e.Delivery != "" {
		n += len(`,"forgedelivery":`) + stringLen(e.Delivery)
	}
	if len(e.Data.Body) == 0 {
		n += len("null")
	} else {
		n += len(e.Data.Body)
	}
	return n
}

// timeLen returns the length of t in time.RFC3339Nano, for a year in
// [0,9999].
func timeLen(t time.Time) int {
	if _, off := t.Zone(); off != 0 {
		// Rare (ingest writes UTC): let time count the offset's digits.
		var a [64]byte
		return len(t.AppendFormat(a[:0], time.RFC3339Nano))
	}
	n := len("2006-01-02T15:04:05Z")
	if ns := t.Nanosecond(); ns != 0 {
		n += len(".999999999")
		for ; ns%10 == 0; ns /= 10 {
			n--
		}
	}
	return n
}

// headerLen is the length appendHeader writes for h.
func headerLen(h map[string][]string) int {
	if h == nil {
		return len("null")
	}
	n := len("{}")
	if len(h) > 0 {
		n += len(h) - 1 // commas
	}
	for k, vs := range h {
		n += stringLen(k) + len(":") + stringsLen(vs)
	}
	return n
}

// stringsLen is the length appendStrings writes for vs.
func stringsLen(vs []string) int {
	if vs == nil {
		return len("null")
	}
	n := len("[]")
	if len(vs) > 0 {
		n += len(vs) - 1
	}
	for _, v := range vs {
		n += stringLen(v)
	}
	return n
}

// fieldsLen is the length appendFields writes for f.
func fieldsLen(f *Fields) int {
	r := &f.Repository
	p := &f.PullRequest
	n := len(`{"kind":`) + stringLen(string(f.Kind)) +
		len(`,"action":`) + stringLen(f.Action) +
		len(`,"forge":`) + stringLen(f.Forge) +
		len(`,"repository":{"full_name":`) + stringLen(r.FullName) +
		len(`,"name":`) + stringLen(r.Name) +
		len(`,"owner":`) + stringLen(r.Owner) +
		len(`,"url":`) + stringLen(r.URL) +
		len(`,"clone_url":`) + stringLen(r.CloneURL) +
		len(`,"default_branch":`) + stringLen(r.DefaultBranch) +
		len(`},"ref":`) + stringLen(f.Ref) +
		len(`,"branch":`) + stringLen(f.Branch) +
		len(`,"tag":`) + stringLen(f.Tag) +
		len(`,"before":`) + stringLen(f.Before) +
		len(`,"after":`) + stringLen(f.After) +
		len(`,"deleted":`) + boolLen(f.Deleted) +
		len(`,"commits":`) +
		len(`,"pull_request":{"number":`) + intLen(p.Number) +
		len(`,"title":`) + stringLen(p.Title) +
		len(`,"state":`) + stringLen(p.State) +
		len(`,"source_branch":`) + stringLen(p.SourceBranch) +
		len(`,"target_branch":`) + stringLen(p.TargetBranch) +
		len(`,"url":`) + stringLen(p.URL) +
		len(`,"merged":`) + boolLen(p.Merged) +
		len(`},"actor":`) + personLen(&f.Actor) +
		len(`}`)
	if f.Commits == nil {
		return n + len("null")
	}
	n += len("[]")
	if len(f.Commits) > 0 {
		n += len(f.Commits) - 1
	}
	for i := range f.Commits {
		c := &f.Commits[i]
		n += len(`{"id":`) + stringLen(c.ID) +
			len(`,"message":`) + stringLen(c.Message) +
			len(`,"url":`) + stringLen(c.URL) +
			len(`,"author":`) + personLen(&c.Author) +
			len(`,"timestamp":`) + stringLen(c.Timestamp) +
			len(`}`)
	}
	return n
}

// personLen is the length appendPerson writes for p.
func personLen(p *Person) int {
	return len(`{"login":`) + stringLen(p.Login) +
		len(`,"name":`) + stringLen(p.Name) +
		len(`,"email":`) + stringLen(p.Email) +
		len(`}`)
}

func boolLen(v bool) int {
	if v {
		return len("true")
	}
	return len("false")
}

// intLen is the length of n in decimal.
func intLen(n int64) int {
	var a [20]byte
	return len(strconv.AppendInt(a[:0], n, 10))
}

// appendHeader writes h as encoding/json writes a map: keys sorted, a nil
// map or value as null.
func appendHeader(b []byte, h map[string][]string) []byte {
	if h == nil {
		return append(b, "null"...)
	}
	// Keys in an array on the stack: a request has a few dozen headers.
	var a [48]string
	keys := a[:0]
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendStrings(b, h[k])
	}
	return append(b, '}')
}

func appendStrings(b []byte, vs []string) []byte {
	if vs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, v)
	}
	return append(b, ']')
}

func appendFields(b []byte, f *Fields) []byte {
	b = append(b, `{"kind":`...)
	b = appendString(b, string(f.Kind))
	b = append(b, `,"action":`...)
	b = appendString(b, f.Action)
	b = append(b, `,"forge":`...)
	b = appendString(b, f.Forge)
	r := &f.Repository
	b = append(b, `,"repository":{"full_name":`...)
	b = appendString(b, r.FullName)
	b = append(b, `,"name":`...)
	b = appendString(b, r.Name)
	b = append(b, `,"owner":`...)
	b = appendString(b, r.Owner)
	b = append(b, `,"url":`...)
	b = appendString(b, r.URL)
	b = append(b, `,"clone_url":`...)
	b = appendString(b, r.CloneURL)
	b = append(b, `,"default_branch":`...)
	b = appendString(b, r.DefaultBranch)
	b = append(b, `},"ref":`...)
	b = appendString(b, f.Ref)
	b = append(b, `,"branch":`...)
	b = appendString(b, f.Branch)
	b = append(b, `,"tag":`...)
	b = appendString(b, f.Tag)
	b = append(b, `,"before":`...)
	b = appendString(b, f.Before)
	b = append(b, `,"after":`...)
	b = appendString(b, f.After)
	b = append(b, `,"deleted":`...)
	b = strconv.AppendBool(b, f.Deleted)
	b = append(b, `,"commits":`...)
	if f.Commits == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range f.Commits {
			if i > 0 {
				b = append(b, ',')
			}
			c := &f.Commits[i]
			b = append(b, `{"id":`...)
			b = appendString(b, c.ID)
			b = append(b, `,"message":`...)
			b = appendString(b, c.Message)
			b = append(b, `,"url":`...)
			b = appendString(b, c.URL)
			b = append(b, `,"author":`...)
			b = appendPerson(b, &c.Author)
			b = append(b, `,"timestamp":`...)
			b = appendString(b, c.Timestamp)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	p := &f.PullRequest
	b = append(b, `,"pull_request":{"number":`...)
	b = strconv.AppendInt(b, p.Number, 10)
	b = append(b, `,"title":`...)
	b = appendString(b, p.Title)
	b = append(b, `,"state":`...)
	b = appendString(b, p.State)
	b = append(b, `,"source_branch":`...)
	b = appendString(b, p.SourceBranch)
	b = append(b, `,"target_branch":`...)
	b = appendString(b, p.TargetBranch)
	b = append(b, `,"url":`...)
	b = appendString(b, p.URL)
	b = append(b, `,"merged":`...)
	b = strconv.AppendBool(b, p.Merged)
	b = append(b, `},"actor":`...)
	b = appendPerson(b, &f.Actor)
	return append(b, '}')
}

func appendPerson(b []byte, p *Person) []byte {
	b = append(b, `{"login":`...)
	b = appendString(b, p.Login)
	b = append(b, `,"name":`...)
	b = appendString(b, p.Name)
	b = append(b, `,"email":`...)
	b = appendString(b, p.Email)
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string exactly as encoding/json does with
// HTML escaping off: '"' and '\\' escaped, control characters as \b \f \n
// \r \t or \u00XX, invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped
// (JSONP safety), everything else as is.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		i += plainLen(s[i:])
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// stringLen returns the length appendString writes for s.
func stringLen(s string) int {
	n := len(s) + len(`""`)
	for i := 0; i < len(s); {
		i += plainLen(s[i:])
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' {
				switch c {
				case '"', '\\', '\b', '\f', '\n', '\r', '\t':
					n++ // \x
				default:
					n += len(`\u00XX`) - 1
				}
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			n += len(`\ufffd`) - 1
		case r == '\u2028' || r == '\u2029':
			n += len(`\u2028`) - size
		}
		i += size
	}
	return n
}

// plainLen returns the length of the longest prefix of s whose bytes
// appendString copies as they are without a second look: printable ASCII
// but '"' and '\\'. It tests eight bytes at a time, as one word: most
// strings (URLs, names, ids) are plain from end to end.
func plainLen(s string) int {
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
		if ((x-0x20*ones)&^x|(q-ones)&^q|(bs-ones)&^bs|x)&highs != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			break
		}
	}
	return i
}
