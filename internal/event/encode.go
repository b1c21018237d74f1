package event

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/forgehook/forgehook/internal/jsonx"
)

// Encode returns the record's CloudEvents JSON with data.body written as the
// exact bytes received (json.Marshal would compact it and escape <, > and &).
// Data.Body must be valid JSON.
//
// The record is written by hand, in one buffer of exactly EncodedLen bytes:
// it is on the ingest path of every event, where reflection-based encoding
// cost three times as much. The bytes are those of encoding/json with HTML
// escaping off, member for member (the tests compare the two on every
// field). There is one encoder, encode: EncodedLen runs it counting
// instead of writing, so the length and the bytes cannot disagree.
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
	w := writer{b: b, n: -1}
	w = e.encode(w)
	return w.b, nil
}

// EncodedLen returns the exact length of the record's JSON: len(Encode())
// when Encode succeeds. It runs the encoder without writing.
func (e *Event) EncodedLen() int {
	w := writer{}
	w = e.encode(w)
	return w.n
}

// writer is where encode writes: appended to b when n is negative (-1),
// else nowhere, with n the number of bytes it would have written. (Two
// members, not a flag besides: a struct of four words at most is kept in
// registers.)
type writer struct {
	b []byte
	n int
}

func (w writer) raw(s string) writer {
	if w.n >= 0 {
		w.n += len(s)
		return w
	}
	w.b = append(w.b, s...)
	return w
}

func (w writer) rawBytes(s []byte) writer {
	if w.n >= 0 {
		w.n += len(s)
		return w
	}
	w.b = append(w.b, s...)
	return w
}

func (w writer) byte(c byte) writer {
	if w.n >= 0 {
		w.n++
		return w
	}
	w.b = append(w.b, c)
	return w
}

// str writes s as a JSON string, HTML escaping off.
func (w writer) str(s string) writer {
	w.b, w.n = jsonx.QuoteNoHTML(w.b, w.n, s)
	return w
}

func (w writer) bool(v bool) writer {
	if v {
		w = w.raw("true")
	} else {
		w = w.raw("false")
	}
	return w
}

func (w writer) int(n int64) writer {
	var a [20]byte
	w = w.rawBytes(strconv.AppendInt(a[:0], n, 10))
	return w
}

// time writes t in time.RFC3339Nano (a year in [0,9999]).
func (w writer) time(t time.Time) writer {
	if w.n < 0 {
		w.b = t.AppendFormat(w.b, time.RFC3339Nano)
		return w
	}
	if _, off := t.Zone(); off != 0 {
		// Rare (ingest writes UTC): let time count the offset's digits.
		var a [64]byte
		w.n += len(t.AppendFormat(a[:0], time.RFC3339Nano))
		return w
	}
	// Formatting costs ten times this count, on every record; the
	// tests check it against the format for every fraction and zone.
	w.n += len("2006-01-02T15:04:05Z")
	if ns := t.Nanosecond(); ns != 0 {
		w.n += len(".999999999")
		for ; ns%10 == 0; ns /= 10 {
			w.n--
		}
	}
	return w
}

// encode writes the record, member for member.
func (e *Event) encode(w writer) writer {
	w = w.raw(`{"specversion":`)
	w = w.str(e.SpecVersion)
	w = w.raw(`,"id":`)
	w = w.str(e.ID)
	w = w.raw(`,"source":`)
	w = w.str(e.Source)
	w = w.raw(`,"type":`)
	w = w.str(e.Type)
	if e.Subject != "" {
		w = w.raw(`,"subject":`)
		w = w.str(e.Subject)
	}
	w = w.raw(`,"time":"`)
	w = w.time(e.Time)
	w = w.raw(`","datacontenttype":`)
	w = w.str(e.DataContentType)
	w = w.raw(`,"forge":`)
	w = w.str(e.Forge)
	w = w.raw(`,"forgeevent":`)
	w = w.str(e.ForgeEvent)
	w = w.raw(`,"forgeaction":`)
	w = w.str(e.ForgeAction)
	w = w.raw(`,"endpoint":`)
	w = w.str(e.Endpoint)
	if e.Delivery != "" {
		w = w.raw(`,"forgedelivery":`)
		w = w.str(e.Delivery)
	}

	w = w.raw(`,"data":{"header":`)
	w = w.header(e.Data.Header)
	w = w.raw(`,"body":`)
	if len(e.Data.Body) == 0 {
		w = w.raw("null")
	} else {
		w = w.rawBytes(e.Data.Body)
	}
	w = w.raw(`,"normalized":`)
	w = w.fields(&e.Data.Normalized)
	w = w.raw(`}}`)
	return w
}

// checkTime refuses a time encoding/json cannot write.
func (e *Event) checkTime() error {
	if y := e.Time.Year(); y < 0 || y > 9999 {
		return fmt.Errorf("event: encode time: year %d outside of [0,9999]", y)
	}
	return nil
}

// header writes h as encoding/json writes a map: keys sorted, a nil map or
// value as null.
func (w writer) header(h map[string][]string) writer {
	if h == nil {
		w = w.raw("null")
		return w
	}
	w = w.byte('{')
	if w.n >= 0 {
		// The order does not change the length.
		first := true
		for k, vs := range h {
			if !first {
				w = w.byte(',')
			}
			first = false
			w = w.str(k)
			w = w.byte(':')
			w = w.strings(vs)
		}
		w = w.byte('}')
		return w
	}
	// Keys in an array on the stack: a request has a few dozen headers.
	var a [48]string
	keys := a[:0]
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i > 0 {
			w = w.byte(',')
		}
		w = w.str(k)
		w = w.byte(':')
		w = w.strings(h[k])
	}
	w = w.byte('}')
	return w
}

func (w writer) strings(vs []string) writer {
	if vs == nil {
		w = w.raw("null")
		return w
	}
	w = w.byte('[')
	for i, v := range vs {
		if i > 0 {
			w = w.byte(',')
		}
		w = w.str(v)
	}
	w = w.byte(']')
	return w
}

func (w writer) fields(f *Fields) writer {
	w = w.raw(`{"kind":`)
	w = w.str(string(f.Kind))
	w = w.raw(`,"action":`)
	w = w.str(f.Action)
	w = w.raw(`,"forge":`)
	w = w.str(f.Forge)
	w = w.raw(`,"repository":`)
	w = w.repository(&f.Repository)
	w = w.raw(`,"ref":`)
	w = w.str(f.Ref)
	w = w.raw(`,"branch":`)
	w = w.str(f.Branch)
	w = w.raw(`,"tag":`)
	w = w.str(f.Tag)
	w = w.raw(`,"before":`)
	w = w.str(f.Before)
	w = w.raw(`,"after":`)
	w = w.str(f.After)
	w = w.raw(`,"deleted":`)
	w = w.bool(f.Deleted)
	w = w.raw(`,"commits":`)
	if f.Commits == nil {
		w = w.raw("null")
	} else {
		w = w.byte('[')
		for i := range f.Commits {
			if i > 0 {
				w = w.byte(',')
			}
			c := &f.Commits[i]
			w = w.raw(`{"id":`)
			w = w.str(c.ID)
			w = w.raw(`,"message":`)
			w = w.str(c.Message)
			w = w.raw(`,"url":`)
			w = w.str(c.URL)
			w = w.raw(`,"author":`)
			w = w.person(&c.Author)
			w = w.raw(`,"timestamp":`)
			w = w.str(c.Timestamp)
			w = w.byte('}')
		}
		w = w.byte(']')
	}
	p := &f.PullRequest
	w = w.raw(`,"pull_request":{"number":`)
	w = w.int(p.Number)
	w = w.raw(`,"title":`)
	w = w.str(p.Title)
	w = w.raw(`,"state":`)
	w = w.str(p.State)
	w = w.raw(`,"source_branch":`)
	w = w.str(p.SourceBranch)
	w = w.raw(`,"target_branch":`)
	w = w.str(p.TargetBranch)
	w = w.raw(`,"url":`)
	w = w.str(p.URL)
	w = w.raw(`,"merged":`)
	w = w.bool(p.Merged)
	w = w.raw(`,"draft":`)
	w = w.bool(p.Draft)
	w = w.raw(`,"head_sha":`)
	w = w.str(p.HeadSHA)
	w = w.raw(`,"base_sha":`)
	w = w.str(p.BaseSHA)
	w = w.raw(`,"source_repository":`)
	w = w.repository(&p.SourceRepository)
	w = w.raw(`,"author":`)
	w = w.person(&p.Author)
	w = w.raw(`,"labels":`)
	w = w.strings(p.Labels)
	is := &f.Issue
	w = w.raw(`},"issue":{"number":`)
	w = w.int(is.Number)
	w = w.raw(`,"title":`)
	w = w.str(is.Title)
	w = w.raw(`,"state":`)
	w = w.str(is.State)
	w = w.raw(`,"url":`)
	w = w.str(is.URL)
	w = w.raw(`,"author":`)
	w = w.person(&is.Author)
	w = w.raw(`,"labels":`)
	w = w.strings(is.Labels)
	c := &f.Comment
	w = w.raw(`},"comment":{"id":`)
	w = w.str(c.ID)
	w = w.raw(`,"body":`)
	w = w.str(c.Body)
	w = w.raw(`,"url":`)
	w = w.str(c.URL)
	w = w.raw(`,"on":`)
	w = w.str(c.On)
	w = w.raw(`,"number":`)
	w = w.int(c.Number)
	pl := &f.Pipeline
	w = w.raw(`},"pipeline":{"name":`)
	w = w.str(pl.Name)
	w = w.raw(`,"id":`)
	w = w.str(pl.ID)
	w = w.raw(`,"status":`)
	w = w.str(pl.Status)
	w = w.raw(`,"ref":`)
	w = w.str(pl.Ref)
	w = w.raw(`,"branch":`)
	w = w.str(pl.Branch)
	w = w.raw(`,"tag":`)
	w = w.str(pl.Tag)
	w = w.raw(`,"sha":`)
	w = w.str(pl.SHA)
	w = w.raw(`,"url":`)
	w = w.str(pl.URL)
	rl := &f.Release
	w = w.raw(`},"release":{"tag":`)
	w = w.str(rl.Tag)
	w = w.raw(`,"name":`)
	w = w.str(rl.Name)
	w = w.raw(`,"draft":`)
	w = w.bool(rl.Draft)
	w = w.raw(`,"prerelease":`)
	w = w.bool(rl.Prerelease)
	w = w.raw(`,"url":`)
	w = w.str(rl.URL)
	rg := &f.Registry
	w = w.raw(`},"registry":{"image":`)
	w = w.str(rg.Image)
	w = w.raw(`,"tag":`)
	w = w.str(rg.Tag)
	w = w.raw(`,"digest":`)
	w = w.str(rg.Digest)
	w = w.raw(`,"url":`)
	w = w.str(rg.URL)
	w = w.raw(`},"actor":`)
	w = w.person(&f.Actor)
	w = w.raw(`,"twin":`)
	w = w.bool(f.Twin)
	w = w.byte('}')
	return w
}

func (w writer) repository(r *Repository) writer {
	w = w.raw(`{"full_name":`)
	w = w.str(r.FullName)
	w = w.raw(`,"name":`)
	w = w.str(r.Name)
	w = w.raw(`,"owner":`)
	w = w.str(r.Owner)
	w = w.raw(`,"url":`)
	w = w.str(r.URL)
	w = w.raw(`,"clone_url":`)
	w = w.str(r.CloneURL)
	w = w.raw(`,"default_branch":`)
	w = w.str(r.DefaultBranch)
	w = w.byte('}')
	return w
}

func (w writer) person(p *Person) writer {
	w = w.raw(`{"login":`)
	w = w.str(p.Login)
	w = w.raw(`,"name":`)
	w = w.str(p.Name)
	w = w.raw(`,"email":`)
	w = w.str(p.Email)
	w = w.byte('}')
	return w
}
