//go:build !jsonxstd

package jsonx

// stdUnmarshal is false in every real build: Unmarshal is this package's
// decoder (variant_std.go holds the measurement variant).
const stdUnmarshal = false

func unmarshalStd([]byte, any) error { panic("jsonx: unreachable") }
