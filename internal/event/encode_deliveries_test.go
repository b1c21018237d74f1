package event_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/all"
	"github.com/forgehook/forgehook/internal/forge/forgetest"
)

// TestEventEncodeRealDeliveries encodes the record of every delivery
// fixture of every forge, as ingest builds it, and checks that EncodedLen
// counts it exactly, that AppendEncode writes it in place into a buffer of
// that size, and that it decodes to what json.Marshal's record decodes to.
func TestEventEncodeRealDeliveries(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "forge", "*", "testdata", "deliveries"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no fixture directories: %v", err)
	}
	p, err := all.Registry().New(&config.Endpoint{Name: "ep", Provider: "auto"})
	if err != nil {
		t.Fatal(err)
	}
	encoded := 0
	for _, dir := range dirs {
		fxs, err := forgetest.LoadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, fx := range fxs {
			req := forgetest.Request(t, fx, time.Date(2026, 11, 23, 8, 25, 20, 123456000, time.UTC))
			m, err := forge.InspectRequest(p, req.Header, req.Payload)
			if err != nil {
				continue // generic and header-less fixtures need their endpoint's options
			}
			f, err := p.Normalize(m, req.Payload)
			if err != nil {
				continue
			}
			ev := &event.Event{
				ID: m.Delivery, Time: req.Received, Forge: f.Forge, ForgeEvent: m.Event,
				ForgeAction: f.ForgeAction, Endpoint: "ep", Delivery: m.Delivery,
				Data: event.Data{Header: event.RedactHeader(req.Header), Body: req.Payload, Normalized: f},
			}
			ev.Envelope()
			got, err := ev.Encode()
			if err != nil {
				t.Fatalf("%s: %v", fx.Path, err)
			}
			if n := ev.EncodedLen(); n != len(got) {
				t.Errorf("%s: EncodedLen %d, Encode wrote %d bytes", fx.Path, n, len(got))
				continue
			}
			buf := make([]byte, 0, len(got))
			if app, _ := ev.AppendEncode(buf); !bytes.Equal(app, got) || &app[0] != &buf[:1][0] {
				t.Errorf("%s: AppendEncode into a buffer of EncodedLen bytes did not write the record in place", fx.Path)
			}
			std, err := json.Marshal(ev)
			if err != nil {
				t.Fatalf("%s: %v", fx.Path, err)
			}
			var a1, a2 any
			if err := json.Unmarshal(got, &a1); err != nil {
				t.Fatalf("%s: record is not JSON: %v", fx.Path, err)
			}
			_ = json.Unmarshal(std, &a2)
			if !reflect.DeepEqual(a1, a2) {
				t.Errorf("%s: Encode and json.Marshal disagree:\n%s\n%s", fx.Path, got, std)
			}
			encoded++
		}
	}
	if encoded < 300 {
		t.Fatalf("encoded %d fixtures' records, want at least 300", encoded)
	}
	t.Logf("encoded %d records", encoded)
}
