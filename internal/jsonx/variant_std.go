//go:build jsonxstd

package jsonx

import "encoding/json"

// stdUnmarshal, with the build tag jsonxstd, makes Unmarshal encoding/json's
// Unmarshal: a measurement variant only, to compare the ingest path with the
// standard decoder in the real binary (see docs/design-notes.md, "Hand-written
// JSON"; build with GOEXPERIMENT=jsonv2 for encoding/json/v2's engine).
const stdUnmarshal = true

func unmarshalStd(data []byte, v any) error { return json.Unmarshal(data, v) }
