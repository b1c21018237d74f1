package event

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/jsonx"
)

func TestEventEncodeKeepsTheBodyByteForByte(t *testing.T) {
	body := []byte("{\n  \"title\": \"<b>fix</b> & more\",\n  \"n\": 1.50\n}")
	ev := &Event{ID: "x", Endpoint: "ep", Forge: "gitea", ForgeEvent: "push", Time: time.Unix(1, 0).UTC(),
		Data: Data{Header: map[string][]string{"X-A": {"<v>"}}, Body: body, Normalized: Fields{Kind: KindPush, Ref: "refs/heads/a&b"}}}
	ev.Envelope()
	b, err := ev.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, body) {
		t.Fatalf("encoded record does not hold the body as received:\n%s", b)
	}
	if !json.Valid(b) {
		t.Fatalf("not valid JSON:\n%s", b)
	}
	// It decodes to the same record as json.Marshal's.
	std, _ := json.Marshal(ev)
	var a1, a2 any
	_ = json.Unmarshal(b, &a1)
	_ = json.Unmarshal(std, &a2)
	if !reflect.DeepEqual(a1, a2) {
		t.Fatalf("Encode and json.Marshal disagree:\n%s\n%s", b, std)
	}
}

func BenchmarkEventEncode(b *testing.B) {
	body := bytes.Repeat([]byte(`{"k":"value value value"},`), 300)
	body = append(append([]byte(`[`), body[:len(body)-1]...), ']')
	ev := &Event{ID: "x", Endpoint: "ep", Forge: "github", Data: Data{Header: map[string][]string{"X-GitHub-Event": {"push"}}, Body: body}}
	ev.Envelope()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := ev.Encode(); err != nil {
			b.Fatal(err)
		}
	}
}

// reflectEncode is the reflection-based encoding that Encode replaced: the
// oracle of the tests below.
func reflectEncode(e *Event) ([]byte, error) {
	env := *e
	env.Data = Data{}
	type envelope Event
	head, err := marshalNoEscape(struct{ envelope }{envelope(env)})
	if err != nil {
		return nil, err
	}
	hdr, err := marshalNoEscape(e.Data.Header)
	if err != nil {
		return nil, err
	}
	norm, err := marshalNoEscape(e.Data.Normalized)
	if err != nil {
		return nil, err
	}
	body := e.Data.Body
	if len(body) == 0 {
		body = json.RawMessage("null")
	}
	cut := bytes.LastIndex(head, []byte(`"data":`))
	var b bytes.Buffer
	b.Write(head[:cut])
	b.WriteString(`"data":{"header":`)
	b.Write(hdr)
	b.WriteString(`,"body":`)
	b.Write(body)
	b.WriteString(`,"normalized":`)
	b.Write(norm)
	b.WriteString(`}}`)
	return b.Bytes(), nil
}

func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func sampleEvent(s string, n int64, flag bool) *Event {
	ev := &Event{
		ID: s, Endpoint: "ep-" + s, Forge: s, ForgeEvent: s, ForgeAction: s, Delivery: s,
		Time: time.Unix(n%(1<<33), n%1e9).UTC(),
		Data: Data{
			Header: map[string][]string{"X-" + s: {s, "b"}, "A": {s}, s: nil, "Z": {}},
			Body:   json.RawMessage(`{"a": [1, 2.50, "<&>"]}`),
			Normalized: Fields{
				Kind: Kind(s), Action: s, Forge: s,
				Repository: Repository{FullName: s, Name: s, Owner: s, URL: s, CloneURL: s, DefaultBranch: s},
				Ref:        s, Branch: s, Tag: s, Before: s, After: s, Deleted: flag,
				Commits:     []Commit{{ID: s, Message: s, URL: s, Author: Person{Login: s, Name: s, Email: s}, Timestamp: s}, {}},
				PullRequest: PullRequest{Number: n, Title: s, State: s, SourceBranch: s, TargetBranch: s, URL: s, Merged: !flag},
				Actor:       Person{Login: s, Name: s, Email: s},
			},
		},
	}
	ev.Envelope()
	if flag {
		ev.Data.Normalized.Commits = nil
		ev.Data.Header = nil
		ev.Data.Body = nil
		ev.Delivery = ""
		ev.Subject = ""
	}
	return ev
}

func TestEventEncodeMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "<b>&amp;</b>", "quote\" back\\slash", "\x00\x01\b\f\n\r\t\x1f\x7f",
		"caf\u00e9 \u2028 \u2029 \U0001F600", "bad \xff utf8 \xe2\x82", "ref/heads/main"} {
		for _, flag := range []bool{false, true} {
			ev := sampleEvent(s, 42, flag)
			got, err := ev.Encode()
			if err != nil {
				t.Fatal(err)
			}
			want, err := reflectEncode(ev)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Encode(%q, %v):\n got %s\nwant %s", s, flag, got, want)
			}
		}
	}
}

func TestEventEncodeRejectsAnUnencodableTime(t *testing.T) {
	ev := sampleEvent("x", 1, false)
	ev.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := ev.Encode(); err == nil {
		t.Fatal("Encode accepted a time encoding/json refuses")
	}
}

func FuzzEventEncode(f *testing.F) {
	f.Add("plain", int64(7), false)
	f.Add("<&>\u2028\xff\x00\"\\", int64(-3), true)
	f.Fuzz(func(t *testing.T, s string, n int64, flag bool) {
		ev := sampleEvent(s, n, flag)
		got, err := ev.Encode()
		want, werr := reflectEncode(ev)
		if (err != nil) != (werr != nil) {
			t.Fatalf("Encode error %v, encoding/json error %v", err, werr)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("Encode:\n got %s\nwant %s", got, want)
		}
		if err == nil && !json.Valid(got) {
			t.Fatalf("not JSON: %s", got)
		}
		if err == nil {
			decodeBothWays(t, got)
		}
	})
}

// decodeBothWays checks that deliveries, which decode stored records with
// jsonx, read what encoding/json reads.
func decodeBothWays(t *testing.T, rec []byte) {
	t.Helper()
	var std, fast Event
	if err := json.Unmarshal(rec, &std); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	if err := jsonx.Unmarshal(rec, &fast); err != nil {
		t.Fatalf("jsonx: %v", err)
	}
	if !reflect.DeepEqual(std, fast) {
		t.Fatalf("jsonx decoded the record differently:\n%+v\n%+v", std, fast)
	}
}

func TestEventRecordDecodesAlikeWithJSONX(t *testing.T) {
	for _, flag := range []bool{false, true} {
		b, err := sampleEvent("caf\u00e9 <x> \"q\" \u2028", 99, flag).Encode()
		if err != nil {
			t.Fatal(err)
		}
		decodeBothWays(t, b)
	}
}
