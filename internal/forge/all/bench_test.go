package all

import (
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/forgetest"
)

// BenchmarkProviders measures every registered provider's Verify and
// Normalize on its first fixture, so that no verifier or normalizer goes
// unmeasured: go test -run '^$' -bench Providers ./internal/forge/all
func BenchmarkProviders(b *testing.B) {
	reg := Registry()
	for _, d := range reg.Descriptors() {
		id := d.ID
		if id == "auto" {
			continue
		}
		ep := &config.Endpoint{Name: "x", Provider: id, Generic: &config.Generic{SignatureHeader: "X-Signature"}}
		p, err := reg.New(ep)
		if err != nil {
			b.Fatal(err)
		}
		fx, err := forgetest.LoadForge(root, d)
		if err != nil || len(fx) == 0 {
			b.Fatalf("%s: no fixtures: %v", id, err)
		}
		f := fx[0]
		req := forgetest.Request(b, f, time.Now())
		secret := f.Secret
		if secret == "" {
			s, ok := p.(forge.Signer)
			if !ok {
				continue
			}
			secret = forgetest.TestSecret
			s.Sign(req.Header, req.Payload, secret, req.Received)
			if !req.Form {
				req.Body = req.Payload
			}
		}
		secrets := []config.Secret{config.Secret(secret)}
		m, err := forge.InspectRequest(p, req.Header, req.Payload)
		if err != nil {
			b.Fatalf("%s: inspect: %v", id, err)
		}
		b.Run(id+"/verify", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(req.Body)))
			for b.Loop() {
				if err := p.Verify(req, secrets); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(id+"/normalize", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(req.Payload)))
			for b.Loop() {
				if _, err := p.Normalize(m, req.Payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
