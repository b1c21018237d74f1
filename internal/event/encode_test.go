package event

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"
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
