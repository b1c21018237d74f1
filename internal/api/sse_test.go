package api

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// readAll parses every event of in, and the error that ended the stream.
func readAll(r io.Reader, max int) ([]SSEEvent, error) {
	s := NewSSEReader(r, max)
	var out []SSEEvent
	for {
		ev, err := s.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return out, err
		}
		out = append(out, ev)
	}
}

func TestRelaySSEReaderStandard(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []SSEEvent
	}{
		{"lf", "id: 1\nevent: delivery\ndata: {}\n\n", []SSEEvent{{ID: "1", Event: "delivery", Data: "{}"}}},
		{"crlf", "id: 1\r\nevent: delivery\r\ndata: {}\r\n\r\n", []SSEEvent{{ID: "1", Event: "delivery", Data: "{}"}}},
		{"cr", "id: 1\revent: delivery\rdata: {}\r\r", []SSEEvent{{ID: "1", Event: "delivery", Data: "{}"}}},
		{"default type, lines joined", "data: a\ndata:b\ndata\n\n", []SSEEvent{{Event: "message", Data: "a\nb\n"}}},
		{"comments and heartbeats", ": hello\n\n: heartbeat\n\ndata: x\n\n", []SSEEvent{{Event: "message", Data: "x"}}},
		{"id persists, type resets", "id: 7\nevent: e\ndata: 1\n\ndata: 2\n\n", []SSEEvent{{ID: "7", Event: "e", Data: "1"}, {ID: "7", Event: "message", Data: "2"}}},
		{"id with NUL ignored", "id: 3\ndata: 1\n\nid: 4\x00\ndata: 2\n\n", []SSEEvent{{ID: "3", Event: "message", Data: "1"}, {ID: "3", Event: "message", Data: "2"}}},
		{"no data, no event", "event: e\nid: 9\n\ndata: z\n\n", []SSEEvent{{ID: "9", Event: "message", Data: "z"}}},
		{"one space removed", "data:  two\n\n", []SSEEvent{{Event: "message", Data: " two"}}},
		{"bom", "\xEF\xBB\xBFdata: b\n\n", []SSEEvent{{Event: "message", Data: "b"}}},
		{"unknown field", "retry: 10\nfoo: bar\ndata: q\n\n", []SSEEvent{{Event: "message", Data: "q"}}},
		{"cut event dropped", "data: whole\n\ndata: cut\n", []SSEEvent{{Event: "message", Data: "whole"}}},
		{"cut line dropped", "data: whole\n\ndata: cut", []SSEEvent{{Event: "message", Data: "whole"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(tc.in), iotest.OneByteReader(strings.NewReader(tc.in))} {
				got, err := readAll(r, 0)
				if err != nil || !reflect.DeepEqual(got, tc.want) {
					t.Errorf("%q:\n got %#v %v\nwant %#v", tc.in, got, err, tc.want)
				}
			}
		})
	}
}

func TestRelaySSEReaderLimit(t *testing.T) {
	in := "data: " + strings.Repeat("x", 100) + "\ndata: " + strings.Repeat("y", 100) + "\n\n"
	if _, err := readAll(strings.NewReader(in), 150); !errors.Is(err, ErrSSETooLarge) {
		t.Errorf("two 100-byte data lines under a 150-byte limit: %v, want ErrSSETooLarge", err)
	}
	if _, err := readAll(strings.NewReader("data: "+strings.Repeat("x", 1000)+"\n\n"), 150); !errors.Is(err, ErrSSETooLarge) {
		t.Errorf("a 1000-byte line under a 150-byte limit: %v, want ErrSSETooLarge", err)
	}
	if got, err := readAll(strings.NewReader(in), 300); err != nil || len(got) != 1 {
		t.Errorf("under the limit: %v %v", got, err)
	}
}

// TestRelaySSERoundTrip writes relay messages as the server does and reads
// them back.
func TestRelaySSERoundTrip(t *testing.T) {
	var b []byte
	b = sseMessage(b, "", RelayEventCursor, []byte(`{"acked":3}`))
	b = append(b, ": heartbeat\n\n"...)
	b = sseMessage(b, "4", RelayEventDelivery, []byte(`{"seq":4,"body":{"a":"<&>"}}`))
	got, err := readAll(iotest.HalfReader(strings.NewReader(string(b))), 0)
	want := []SSEEvent{{Event: RelayEventCursor, Data: `{"acked":3}`}, {ID: "4", Event: RelayEventDelivery, Data: `{"seq":4,"body":{"a":"<&>"}}`}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v %v\nwant %#v", got, err, want)
	}
}

// refSSE is the standard's interpretation written as plainly as possible,
// over the whole input at once: the reference for FuzzSSEReader.
func refSSE(in string) []SSEEvent {
	in = strings.TrimPrefix(in, "\xEF\xBB\xBF")
	var lines []string
	cur := []byte{}
	for i := 0; i < len(in); i++ {
		switch c := in[i]; c {
		case '\r':
			lines = append(lines, string(cur))
			cur = cur[:0]
			if i+1 < len(in) && in[i+1] == '\n' {
				i++
			}
		case '\n':
			lines = append(lines, string(cur))
			cur = cur[:0]
		default:
			cur = append(cur, c)
		}
	}
	var out []SSEEvent
	var data, typ, id string
	hasData := false
	for _, l := range lines {
		if l == "" {
			if hasData {
				ev := SSEEvent{ID: id, Event: typ, Data: strings.TrimSuffix(data, "\n")}
				if ev.Event == "" {
					ev.Event = "message"
				}
				out = append(out, ev)
			}
			data, typ, hasData = "", "", false
			continue
		}
		if l[0] == ':' {
			continue
		}
		field, value, found := strings.Cut(l, ":")
		if found {
			value = strings.TrimPrefix(value, " ")
		}
		switch field {
		case "event":
			typ = value
		case "data":
			data += value + "\n"
			hasData = true
		case "id":
			if !strings.Contains(value, "\x00") {
				id = value
			}
		}
	}
	return out
}

// FuzzSSEReader checks the reader against the reference interpretation,
// whole and one byte at a time, and that what sseMessage writes reads
// back as written.
func FuzzSSEReader(f *testing.F) {
	f.Add("id: 1\nevent: delivery\ndata: {}\n\n", "7", "delivery", `{"seq":7}`)
	f.Add("data: a\r\ndata: b\r\r\n: hb\n\n\xEF\xBB\xBFx", "", "cursor", "")
	f.Add("\rid:\x00\nid\ndata\n\n", "12", "gap", `{"first":3}`)
	f.Fuzz(func(t *testing.T, in, id, typ, data string) {
		want := refSSE(in)
		for _, r := range []io.Reader{strings.NewReader(in), iotest.OneByteReader(strings.NewReader(in))} {
			got, err := readAll(r, 1<<20)
			if err != nil {
				t.Fatalf("%q: %v", in, err)
			}
			if len(got) != len(want) || (len(got) > 0 && !reflect.DeepEqual(got, want)) {
				t.Fatalf("%q:\n got %#v\nwant %#v", in, got, want)
			}
		}
		// A message as the server writes it: one line each.
		if strings.ContainsAny(id+typ+data, "\r\n\x00") || typ == "" || strings.HasPrefix(id+typ+data, "\xEF\xBB\xBF") {
			return
		}
		msg := string(sseMessage(nil, id, typ, []byte(data)))
		got, err := readAll(strings.NewReader(msg), 1<<20)
		// The reader removes the one space sseMessage writes after each
		// colon: values come back exactly, leading spaces included.
		if err != nil || len(got) != 1 || got[0].ID != id || got[0].Event != typ || got[0].Data != data {
			t.Fatalf("sseMessage(%q, %q, %q) read back as %#v %v", id, typ, data, got, err)
		}
	})
}
