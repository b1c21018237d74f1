//go:build goexperiment.jsonv2

package jsonx

import (
	"encoding/json"
	jsonv2 "encoding/json/v2"
	"path/filepath"
	"strings"
	"testing"
)

// The comparison behind the package documentation's choice: the standard
// direction, encoding/json/v2 (GOEXPERIMENT=jsonv2), against jsonx on the
// providers' body types. Run it with
//
//	GOEXPERIMENT=jsonv2 go test -run '^$' -bench JSONXv2 -benchmem ./internal/jsonx/
//
// Under the experiment encoding/json (v1) is itself built on v2's decoder.
// "v2-v1opts" is v2 with v1's semantics (what a drop-in replacement of
// jsonx.Unmarshal would have to use); "v2" is v2 with its own, stricter
// defaults (case-sensitive names, invalid UTF-8 refused), for reference.
var v2Decoders = []struct {
	name      string
	unmarshal func([]byte, any) error
}{
	{"encoding-json", json.Unmarshal},
	{"v2-v1opts", func(b []byte, v any) error { return jsonv2.Unmarshal(b, v, json.DefaultOptionsV1()) }},
	{"v2", func(b []byte, v any) error { return jsonv2.Unmarshal(b, v) }},
	{"jsonx", Unmarshal},
}

// BenchmarkJSONXv2Push decodes the push fixture (the bench's payload) into
// the GitHub normalizer's body type.
func BenchmarkJSONXv2Push(b *testing.B) {
	data := pushFixture(b)
	for _, tc := range v2Decoders {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				var v ghBody
				if err := tc.unmarshal(data, &v); err != nil || v.Repository.FullName == "" {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkJSONXv2Deliveries decodes every recorded delivery of every
// provider into that provider's body type; one op is the whole set.
func BenchmarkJSONXv2Deliveries(b *testing.B) {
	index := map[string]int{}
	for i, r := range shapeRoots {
		index[r.dir] = i
	}
	type job struct {
		body []byte
		newV func() any
	}
	var jobs []job
	var size int64
	for path, body := range deliveryBodies(b) {
		dir := filepath.Base(filepath.Dir(filepath.Dir(filepath.Dir(path))))
		i, ok := index[dir]
		if !ok || !json.Valid(body) || strings.TrimSpace(string(body)) == "" {
			continue
		}
		if json.Unmarshal(body, shapeRootTypes[i]()) != nil {
			continue // a body encoding/json refuses is not a fair timing
		}
		jobs = append(jobs, job{body, shapeRootTypes[i]})
		size += int64(len(body))
	}
	for _, tc := range v2Decoders {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(size)
			for b.Loop() {
				for _, j := range jobs {
					_ = tc.unmarshal(j.body, j.newV())
				}
			}
		})
	}
}
