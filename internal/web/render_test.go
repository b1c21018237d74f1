package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/forgehook/forgehook/internal/store"
)

// maxPage bounds the event page, whatever the stored event.
const maxPage = 2 << 20

// record returns a stored record as ingest writes it, around body (which
// need not be JSON) and one header value.
func record(body []byte, header string) []byte {
	h, _ := json.Marshal(header)
	b := []byte(`{"specversion":"1.0","id":"ev-1","source":"/endpoints/gh","type":"dev.forgehook.push","subject":` + string(h) +
		`,"time":"2026-11-23T10:00:00Z","endpoint":"gh","forge":"github","forgeevent":"push","data":{"header":{"X-A":[` + string(h) + `]},"body":`)
	b = append(b, body...)
	return append(b, `,"normalized":{"kind":"push","ref":`+string(h)+`,"repository":{"full_name":"acme/app"}}}}`...)
}

// renderEvent renders the event page of a record as the handler does.
func renderEvent(t testing.TB, h *Handler, raw []byte) string {
	rec := store.Record{Seq: 1, Data: raw}
	fields, _ := parseRecord(rec)
	d := eventData{Row: newRow(rec, fields), N: fields.Data.Normalized, Detail: decodeDetail(raw), BodyURL: "/events/ev-1/body"}
	var buf bytes.Buffer
	if err := h.pages["event"].ExecuteTemplate(&buf, "layout", view{Assets: h.assets, Title: "Event", Data: d}); err != nil {
		t.Fatalf("render: %v", err)
	}
	return buf.String()
}

var (
	tagRE  = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^<>]*?(/?)>`)
	preRE  = regexp.MustCompile(`(?s)<pre class="code" id="body">(.*?)</pre>`)
	voidEl = map[string]bool{"meta": true, "link": true, "input": true, "br": true, "img": true, "hr": true, "wbr": true, "col": true, "source": true}
)

// checkHTML reports an error unless every element of page is closed in
// order and no '<' stands outside a tag (html/template escaped all text).
func checkHTML(page string) error {
	page = strings.TrimPrefix(page, "<!doctype html>")
	page = strings.TrimPrefix(strings.TrimSpace(page), "<!DOCTYPE html>")
	var stack []string
	last := 0
	for _, m := range tagRE.FindAllStringSubmatchIndex(page, -1) {
		if strings.ContainsAny(page[last:m[0]], "<>") {
			return fmt.Errorf("stray '<' or '>' in text at %d: %q", last, excerpt(page[last:m[0]], 80))
		}
		last = m[1]
		closing, name, self := page[m[2]:m[3]] == "/", strings.ToLower(page[m[4]:m[5]]), page[m[6]:m[7]] == "/"
		switch {
		case voidEl[name] || self:
		case closing:
			if len(stack) == 0 || stack[len(stack)-1] != name {
				return fmt.Errorf("</%s> closes %v", name, stack)
			}
			stack = stack[:len(stack)-1]
		default:
			stack = append(stack, name)
		}
	}
	if len(stack) != 0 {
		return fmt.Errorf("unclosed elements %v", stack)
	}
	return nil
}

// TestWebEventPageBounded renders the bodies of issue 10 on the event
// page: a 50 KB and a 210 KB body nested deep with wide arrays, which the
// old page indented into hundreds of MB.
func TestWebEventPageBounded(t *testing.T) {
	h := New(Options{})
	for _, c := range []struct {
		name        string
		depth, size int
		note        string
	}{
		{"50KB depth 500", 500, 50 << 10, "too large to indent"},
		{"210KB depth 500", 500, 210 << 10, "too large to indent"},
		{"50KB depth 5000", 5000, 50 << 10, "nested deeper than 512"},
		{"small", 3, 100, ""},
	} {
		body := nestedWide(c.depth, c.size)
		page := renderEvent(t, h, record(body, "v"))
		if len(page) > maxPage {
			t.Errorf("%s: page %d bytes, want at most %d", c.name, len(page), maxPage)
		}
		if err := checkHTML(page); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if c.note != "" && !strings.Contains(page, c.note) {
			t.Errorf("%s: page does not say %q", c.name, c.note)
		}
		if !strings.Contains(page, `href="/events/ev-1/body"`) {
			t.Errorf("%s: no download link", c.name)
		}
		t.Logf("%s: %d-byte body, %d-byte page", c.name, len(body), len(page))
	}
}

func nestedWide(depth, size int) []byte {
	var b bytes.Buffer
	b.WriteString(strings.Repeat("[", depth))
	for b.Len() < size-depth-4 {
		b.WriteString("1,")
	}
	b.WriteString("1")
	b.WriteString(strings.Repeat("]", depth))
	return b.Bytes()
}

// FuzzWebEventPage renders arbitrary stored bodies and header values on the
// event page: the page stays bounded and well formed, the body shown is
// valid UTF-8, and a small JSON body is shown exactly as json.Indent
// writes it.
func FuzzWebEventPage(f *testing.F) {
	f.Add([]byte(`{"a":[1,{"b":"<script>x</script>"}]}`), "v")
	f.Add([]byte("\"\xff\xfe</pre>\""), "</td><script>")
	f.Add([]byte(`[[[[[[[[[[1]]]]]]]]]]`), "")
	f.Add([]byte(`{"unterminated`), "\x00\xff")
	f.Add(nestedWide(600, 4000), "x")
	h := New(Options{})
	f.Fuzz(func(t *testing.T, body []byte, header string) {
		page := renderEvent(t, h, record(body, header))
		if len(page) > maxPage {
			t.Fatalf("page %d bytes", len(page))
		}
		if err := checkHTML(page); err != nil {
			t.Fatal(err)
		}
		m := preRE.FindStringSubmatch(page)
		if m == nil {
			t.Fatal("no body on the page")
		}
		shown := html.UnescapeString(m[1])
		if !utf8.ValidString(shown) {
			t.Fatalf("body shown is not UTF-8: %q", shown)
		}
		var want bytes.Buffer
		if utf8.Valid(body) && len(body) < 1024 && json.Indent(&want, body, "", "  ") == nil && depth(body) <= 512 {
			if shown != want.String() {
				t.Fatalf("body shown %q, want %q", shown, want.String())
			}
		}
	})
}

func depth(b []byte) int {
	d, m := 0, 0
	for _, c := range b {
		switch c {
		case '[', '{':
			d++
			m = max(m, d)
		case ']', '}':
			d--
		}
	}
	return m
}
