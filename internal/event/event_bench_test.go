package event_test

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/forgetest"
	"github.com/forgehook/forgehook/internal/forge/github"
)

// benchEvent returns the record ingest builds for the GitHub push fixture
// push.with-new-branch (a 7.4 KB body).
func benchEvent(b *testing.B) *event.Event {
	b.Helper()
	fx, err := forgetest.Load(filepath.Join("..", "forge", "github", "testdata", "deliveries", "push.with-new-branch.txtar"))
	if err != nil {
		b.Fatal(err)
	}
	p, err := github.New(&config.Endpoint{Name: "gh", Provider: "github"})
	if err != nil {
		b.Fatal(err)
	}
	m, err := forge.InspectRequest(p, fx.Header, fx.Body)
	if err != nil {
		b.Fatal(err)
	}
	f, err := p.Normalize(m, fx.Body)
	if err != nil {
		b.Fatal(err)
	}
	ev := &event.Event{
		ID:         m.Delivery,
		Time:       time.Date(2026, 11, 23, 8, 25, 20, 123456789, time.UTC),
		Forge:      f.Forge,
		ForgeEvent: m.Event,
		Endpoint:   "gh",
		Delivery:   m.Delivery,
		Data: event.Data{
			Header:     event.RedactHeader(fx.Header),
			Body:       fx.Body,
			Normalized: f,
		},
	}
	ev.Envelope()
	return ev
}

// BenchmarkEventMarshal is json.Marshal of an event.Event: the generic
// encoding, which compacts and re-validates the body, that Event.Encode
// replaced on the ingest path (compare BenchmarkEventEncode).
func BenchmarkEventMarshal(b *testing.B) {
	ev := benchEvent(b)
	data, err := json.Marshal(ev)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := json.Marshal(ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEventEncodeGitHubPush is Event.Encode, the encoding of a record
// before it is stored, on the same GitHub push as BenchmarkEventMarshal.
func BenchmarkEventEncodeGitHubPush(b *testing.B) {
	ev := benchEvent(b)
	data, err := ev.Encode()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ev.Encode(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEventUnmarshal is the decoding of a stored record, as each
// trigger's delivery does it.
func BenchmarkEventUnmarshal(b *testing.B) {
	data, err := json.Marshal(benchEvent(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		var ev event.Event
		if err := json.Unmarshal(data, &ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEventRedactHeader is the copy of a GitHub delivery's headers
// with its signatures redacted.
func BenchmarkEventRedactHeader(b *testing.B) {
	ev := benchEvent(b)
	h := make(map[string][]string, len(ev.Data.Header))
	for k, v := range ev.Data.Header {
		h[k] = []string{v[0] + "x"}
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = event.RedactHeader(h)
	}
}
