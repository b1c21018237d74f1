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
				Commits: []Commit{{ID: s, Message: s, URL: s, Author: Person{Login: s, Name: s, Email: s}, Timestamp: s}, {}},
				PullRequest: PullRequest{Number: n, Title: s, State: s, SourceBranch: s, TargetBranch: s, URL: s, Merged: !flag,
					Draft: !flag, HeadSHA: s, BaseSHA: s,
					SourceRepository: Repository{FullName: s, Name: s, Owner: s, URL: s, CloneURL: s, DefaultBranch: s},
					Author:           Person{Login: s, Name: s, Email: s}, Labels: []string{s, "b"}},
				Issue:    Issue{Number: n, Title: s, State: s, URL: s, Author: Person{Login: s, Name: s, Email: s}, Labels: []string{s}},
				Comment:  Comment{ID: s, Body: s, URL: s, On: s, Number: n},
				Pipeline: Pipeline{Name: s, ID: s, Status: s, Ref: s, Branch: s, Tag: s, SHA: s, URL: s},
				Release:  Release{Tag: s, Name: s, Draft: !flag, Prerelease: !flag, URL: s},
				Registry: Registry{Image: s, Tag: s, Digest: s, URL: s},
				Actor:    Person{Login: s, Name: s, Email: s},
				Twin:     !flag,
			},
		},
	}
	ev.Envelope()
	if flag {
		ev.Data.Normalized.Commits = nil
		ev.Data.Normalized.PullRequest.Labels = nil
		ev.Data.Normalized.Issue.Labels = []string{}
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
			got, err := encodeAllWays(t, ev)
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
	if b, err := ev.AppendEncode([]byte("keep")); err == nil || string(b) != "keep" {
		t.Fatalf("AppendEncode: %q, %v; want its input back and an error", b, err)
	}
}

// encodeAllWays encodes ev with Encode and with AppendEncode, checks that
// they write the same bytes, that EncodedLen counts them exactly (Encode's
// one buffer is never regrown) and that AppendEncode writes in place into a
// buffer with room, and returns Encode's result.
func encodeAllWays(t *testing.T, ev *Event) ([]byte, error) {
	t.Helper()
	got, err := ev.Encode()
	prefix := []byte(`prefix`)
	app, aerr := ev.AppendEncode(prefix)
	if (err != nil) != (aerr != nil) {
		t.Fatalf("Encode error %v, AppendEncode error %v", err, aerr)
	}
	if err != nil {
		if string(app) != string(prefix) {
			t.Fatalf("AppendEncode failed and returned %q, not its input", app)
		}
		return nil, err
	}
	if !bytes.Equal(app[len(prefix):], got) || string(app[:len(prefix)]) != string(prefix) {
		t.Fatalf("AppendEncode after %q:\n got %s\nwant %s%s", prefix, app, prefix, got)
	}
	if n := ev.EncodedLen(); n != len(got) {
		t.Fatalf("EncodedLen %d, encoded %d bytes: %s", n, len(got), got)
	}
	if cap(got) != len(got) {
		t.Fatalf("Encode's buffer has capacity %d for %d bytes: it was regrown", cap(got), len(got))
	}
	buf := make([]byte, 1, 1+len(got))
	out, _ := ev.AppendEncode(buf)
	if &out[0] != &buf[0] {
		t.Fatalf("AppendEncode reallocated a buffer with room for the record")
	}
	return got, nil
}

func TestEventEncodeTimeLength(t *testing.T) {
	zones := []*time.Location{time.UTC, time.Local, time.FixedZone("", 0), time.FixedZone("", 7),
		time.FixedZone("", -3600), time.FixedZone("", 5*3600+30*60), time.FixedZone("", -(23*3600 + 59*60 + 59)),
		time.FixedZone("", 100*3600)}
	nanos := []int{0, 1, 10, 120, 5e8, 123456789, 999999999, 100000000}
	for _, loc := range zones {
		for _, ns := range nanos {
			for _, y := range []int{0, 1, 1970, 2026, 9999} {
				tm := time.Date(y, 12, 31, 23, 59, 59, ns, time.UTC).In(loc)
				if tm.Year() < 0 || tm.Year() > 9999 {
					continue
				}
				ev := sampleEvent("x", 1, false)
				ev.Time = tm
				b, err := ev.Encode()
				if err != nil {
					t.Fatal(err)
				}
				if got := ev.EncodedLen(); got != len(b) {
					t.Errorf("time %s: EncodedLen %d, encoded %d bytes", tm.Format(time.RFC3339Nano), got, len(b))
				}
			}
		}
	}
}

func TestEventAppendEncodeInPlaceAllocatesNothing(t *testing.T) {
	ev := sampleEvent("caf\u00e9 <x> \"q\"\n", 7, false)
	buf := make([]byte, 0, ev.EncodedLen())
	if n := testing.AllocsPerRun(100, func() {
		if _, err := ev.AppendEncode(buf[:0]); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("AppendEncode into a buffer with room: %v allocations, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		if _, err := ev.Encode(); err != nil {
			t.Fatal(err)
		}
	}); n != 1 {
		t.Errorf("Encode: %v allocations, want 1 (its buffer)", n)
	}
}

func FuzzEventEncode(f *testing.F) {
	f.Add("plain", int64(7), false)
	f.Add("<&>\u2028\xff\x00\"\\", int64(-3), true)
	f.Fuzz(func(t *testing.T, s string, n int64, flag bool) {
		ev := sampleEvent(s, n, flag)
		if n%2 != 0 {
			// A zone offset within the ±23:59 that encoding/json writes.
			ev.Time = ev.Time.In(time.FixedZone("", int(n%86400)))
		}
		got, err := encodeAllWays(t, ev)
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

// TestEventSampleFillsEveryField keeps TestEventEncodeMatchesEncodingJSON
// honest: a field added to the record but not to sampleEvent (nor, then,
// checked against the encoder) fails here.
func TestEventSampleFillsEveryField(t *testing.T) {
	zero := map[string]int{}
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.Struct:
			if v.Type() == reflect.TypeFor[time.Time]() {
				return
			}
			for i := 0; i < v.NumField(); i++ {
				if v.Type().Field(i).Tag.Get("json") == "-" {
					continue
				}
				walk(path+"."+v.Type().Field(i).Name, v.Field(i))
			}
		default:
			if v.IsZero() {
				zero[path]++
			}
		}
	}
	// A bool is set under one flag or the other.
	walk("Event", reflect.ValueOf(*sampleEvent("x", 42, false)))
	walk("Event", reflect.ValueOf(*sampleEvent("x", 42, true)))
	for path, n := range zero {
		if n == 2 {
			t.Errorf("sampleEvent leaves %s zero", path)
		}
	}
}
