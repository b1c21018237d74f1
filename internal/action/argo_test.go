package action_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/forgehook/forgehook/internal/action/actiontest"
	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge/all"
	"github.com/forgehook/forgehook/internal/sample"
)

// TestArgoEnvelopeGoldenPerForge renders one real example delivery of
// every forge (its push, else its registry event, else its first example)
// in Argo Events' event shape and compares it with
// testdata/argo/<forge>.json (regenerate: FORGEHOOK_UPDATE_GOLDEN=1). It
// checks the shape a sensor reads: the context attributes, data.header as
// received with credentials redacted, and data.body as the forge sent it.
func TestArgoEnvelopeGoldenPerForge(t *testing.T) {
	reg := all.Registry()
	for _, d := range all.Forges() {
		t.Run(d.ID, func(t *testing.T) {
			kinds := sample.Kinds(d)
			kind := kinds[0]
			for _, k := range []string{"registry", "push"} {
				if slices.Contains(kinds, k) {
					kind = k
				}
			}
			s, err := sample.Get(d, kind)
			if err != nil {
				t.Fatal(err)
			}
			p, err := reg.New(&config.Endpoint{Name: "acme", Provider: d.ID})
			if err != nil {
				t.Fatal(err)
			}
			h := s.Header.Clone()
			for _, c := range d.CredentialHeaders {
				h.Set(c, "credential-that-must-not-appear")
			}
			in := actiontest.Record(t, p, "acme", h, s.Payload)
			ev := actiontest.Decoded(t, in)
			got, err := event.Argo(ev)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(got, []byte("credential-that-must-not-appear")) {
				t.Errorf("a credential header's value is in the envelope")
			}
			var env struct {
				Context map[string]string `json:"context"`
				Data    struct {
					Header map[string][]string `json:"header"`
					Body   json.RawMessage     `json:"body"`
				} `json:"data"`
			}
			if err := json.Unmarshal(got, &env); err != nil {
				t.Fatalf("the envelope is not JSON: %v", err)
			}
			for _, k := range []string{"id", "source", "specversion", "type", "datacontenttype", "subject", "time"} {
				if env.Context[k] == "" {
					t.Errorf("context.%s is empty", k)
				}
			}
			if env.Context["type"] != event.ArgoType(d.ID) || env.Context["source"] != "acme" {
				t.Errorf("context %v", env.Context)
			}
			var sent, kept any
			if json.Unmarshal(s.Payload, &sent) == nil && json.Unmarshal(env.Data.Body, &kept) == nil && !sameJSON(sent, kept) && d.ID != "gitee" && d.ID != "coding" {
				// Gitee's and coding's secrets in the body are removed
				// before storing; every other body is the forge's.
				t.Errorf("data.body differs from the delivery's body")
			}
			var out bytes.Buffer
			if err := json.Indent(&out, got, "", "  "); err != nil {
				t.Fatal(err)
			}
			out.WriteByte('\n')
			golden := filepath.Join("testdata", "argo", d.ID+".json")
			if os.Getenv("FORGEHOOK_UPDATE_GOLDEN") != "" {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (regenerate with FORGEHOOK_UPDATE_GOLDEN=1)", err)
			}
			if !bytes.Equal(want, out.Bytes()) {
				t.Errorf("the envelope differs from %s (regenerate with FORGEHOOK_UPDATE_GOLDEN=1 after checking why)", golden)
			}
		})
	}
}

func sameJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
