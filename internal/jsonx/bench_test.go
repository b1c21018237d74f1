package jsonx

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// pushFixture returns the body of GitHub's push delivery (8 KB), the
// benchmarks' input.
func pushFixture(b testing.TB) []byte {
	b.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "forge", "github", "testdata", "deliveries", "push.with-new-branch.txtar"))
	if err != nil {
		b.Fatal(err)
	}
	body, ok := txtarSection(raw, "body")
	if !ok || !json.Valid(body) {
		b.Fatal("no JSON body in the push fixture")
	}
	return body
}

func BenchmarkJSONXValid(b *testing.B) {
	data := pushFixture(b)
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if !json.Valid(data) {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("jsonx", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if !Valid(data) {
				b.Fatal("invalid")
			}
		}
	})
}

// BenchmarkJSONXUnmarshal decodes the push fixture into the GitHub
// normalizer's body type (its copy ghBody), and into an any.
func BenchmarkJSONXUnmarshal(b *testing.B) {
	data := pushFixture(b)
	for _, tc := range []struct {
		name      string
		unmarshal func([]byte, any) error
	}{
		{"encoding-json", json.Unmarshal},
		{"jsonx", Unmarshal},
	} {
		b.Run("github-body/"+tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				var v ghBody
				if err := tc.unmarshal(data, &v); err != nil || v.Repository.FullName == "" {
					b.Fatal(err)
				}
			}
		})
		b.Run("any/"+tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				var v any
				if err := tc.unmarshal(data, &v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkJSONXIngest is the ingest path for one push delivery: the
// check at ingest, then the normalizer's decode.
func BenchmarkJSONXIngest(b *testing.B) {
	data := pushFixture(b)
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var v ghBody
			if !json.Valid(data) || json.Unmarshal(data, &v) != nil {
				b.Fatal("decode")
			}
		}
	})
	b.Run("jsonx", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var v ghBody
			if !Valid(data) || Unmarshal(data, &v) != nil {
				b.Fatal("decode")
			}
		}
	})
}
