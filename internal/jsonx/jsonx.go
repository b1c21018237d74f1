// Package jsonx checks and decodes JSON in one pass, for the ingest path,
// where every webhook body is checked once and decoded by a normalizer that
// reads a few dozen of its members.
//
// [Valid] gives the answer of encoding/json's Valid. [Unmarshal] gives the
// value encoding/json's Unmarshal leaves for every input it accepts, with
// one difference: where encoding/json reports an *json.UnmarshalTypeError
// (a member whose JSON type does not fit the Go type), Unmarshal returns
// nil; encoding/json skips such a member and goes on too, so the value is
// the same. A syntax error is an error that wraps [ErrSyntax].
//
// Unmarshal decodes with a plan per Go type, built once and cached. It
// follows encoding/json's rules: struct fields by tag, name and
// case-insensitive name (with encoding/json's Unicode folding and its rules
// for embedded structs), null, slices reused and truncated, maps filled,
// pointers allocated, interface values, json.RawMessage, json.Number and
// the json.Unmarshaler and encoding.TextUnmarshaler interfaces. The few
// shapes it has no plan for (a struct with a ",string" field, a map whose
// key type is an encoding.TextUnmarshaler) go to encoding/json for that
// value alone.
//
// # Why hand-written, and why unsafe
//
// Unmarshal writes into Go values through their addresses, with a plan per
// type, instead of through reflect.Value's checked setters; that is what
// makes it fast, and it needs package unsafe. Every use of unsafe is in
// unsafe.go, behind the opaque type addr, each with the condition it relies
// on. What it buys was measured on 2026-12-07 (Go 1.26, 2 cores): decoding
// GitHub's 8 KB push into the GitHub normalizer's type (BenchmarkJSONXv2Push,
// GOEXPERIMENT=jsonv2) takes 6.4 µs with Unmarshal, 18 µs with encoding/json
// built on encoding/json/v2, 20 µs with encoding/json/v2 given v1's options
// (what a replacement keeping today's semantics needs), 30 µs with v2's own
// stricter defaults, and about 60 µs with the default build's encoding/json.
// In the real binary under the benchmark's ingest load at c=64, the same
// binary built with encoding/json/v2's engine in place of Unmarshal (build
// tag jsonxstd, variant_std.go) spent 131 µs of CPU per request against
// 118 µs (medians of four alternated runs of two rounds each), which
// projects to 0.035–0.044 less of the ratio to the baseline (0.41–0.43):
// more than the 0.03 that forgehook allows the standard library's decoder
// to cost. So the decoder stays, with encoding/json as its oracle: the
// differential tests and fuzz targets (diff_test.go) decode the same input
// with both and require the same value and the same error or no error, and
// FuzzUnmarshalShapes does so on every provider's body type and runs longer
// than the other fuzz targets in CI (script/test.sh). See
// docs/design-notes.md, "Hand-written JSON".
package jsonx

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
)

// ErrSyntax is wrapped by the error Unmarshal returns for input that is not
// one well-formed JSON value.
var ErrSyntax = errors.New("jsonx: syntax error")

// syntaxError reports where malformed input was found.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string {
	if e.off < 0 {
		return "jsonx: syntax error: " + e.msg
	}
	return "jsonx: syntax error at offset " + strconv.Itoa(e.off) + ": " + e.msg
}

func (e *syntaxError) Unwrap() error { return ErrSyntax }

// newSyntaxError describes the malformed input found at data[off:].
func newSyntaxError(data []byte, off int) error {
	if off >= len(data) {
		return &syntaxError{off: len(data), msg: "unexpected end of input"}
	}
	return &syntaxError{off: off, msg: "invalid JSON at " + strconv.QuoteRune(rune(data[off]))}
}

// Valid reports whether data is one well-formed JSON value (RFC 8259),
// with optional white space around it; the answer is the one of
// encoding/json's Valid for every input, including its nesting limit and
// its acceptance of invalid UTF-8 inside strings.
func Valid(data []byte) bool {
	i := skipValue(data, skipSpace(data, 0), 0)
	return i >= 0 && skipSpace(data, i) == len(data)
}

// Unmarshal decodes the JSON value in data into v, which must be a non-nil
// pointer, with encoding/json's semantics (see the package documentation),
// in one pass that also checks the syntax. A member whose JSON type does not
// fit its Go type is skipped and leaves the Go value as it was. On a syntax
// error (which wraps [ErrSyntax]; it is reported whatever else is wrong, as
// encoding/json reports it) or an error from a json.Unmarshaler or
// encoding.TextUnmarshaler (returned as is) v may be partly written and
// must not be used; the methods of v's parts may have been called. Unmarshal keeps no reference to data, but
// json.Unmarshaler and encoding.TextUnmarshaler implementations are passed
// parts of it, as encoding/json passes them.
func Unmarshal(data []byte, v any) error {
	if stdUnmarshal {
		return unmarshalStd(data, v)
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		if !Valid(data) {
			return newSyntaxError(data, len(data))
		}
		return &json.InvalidUnmarshalError{Type: reflect.TypeOf(v)}
	}
	c := codecFor(rv.Type())
	d := &decoder{data: data, pos: skipSpace(data, 0)}
	if d.pos >= len(data) {
		return newSyntaxError(data, d.pos)
	}
	if err := d.top(c, addrOf(rv)); err != nil {
		if !errors.Is(err, ErrSyntax) && !Valid(data) {
			// encoding/json reports bad syntax before anything else.
			return &syntaxError{off: -1, msg: "not one JSON value"}
		}
		return err
	}
	if i := skipSpace(data, d.pos); i != len(data) {
		return newSyntaxError(data, i)
	}
	return nil
}

// MaxDepth is forgehook's one nesting rule for payloads: the deepest
// nesting of objects and arrays a forge's payload may have. It is shared by
// every reader of a payload: ingest refuses (400) a payload nested deeper
// before it answers, so that nothing acknowledged is later undecodable; the
// store's readers, the admin views and delivery decode stored records,
// which wrap the payload two levels deeper (the record, its data member),
// well inside encoding/json's own limit of 10000. Real payloads nest fewer
// than 20 levels.
const MaxDepth = 512

// ErrTooDeep is wrapped by the error CheckPayload returns for a
// well-formed value nested deeper than MaxDepth.
var ErrTooDeep = errors.New("jsonx: nesting deeper than MaxDepth")

// CheckPayload reports whether data is a payload forgehook accepts: one
// well-formed JSON value (as Valid) whose objects and arrays nest at most
// MaxDepth levels deep. It returns nil, an error wrapping ErrSyntax, or one
// wrapping ErrTooDeep. It allocates nothing for the first 128 levels and
// keeps no reference to data.
func CheckPayload(data []byte) error {
	// skipValue counts its limit from maxDepth (encoding/json's): starting
	// it maxDepth-MaxDepth levels down leaves MaxDepth levels.
	i := skipValue(data, skipSpace(data, 0), maxDepth-MaxDepth)
	if i >= 0 && skipSpace(data, i) == len(data) {
		return nil
	}
	if Valid(data) {
		return fmt.Errorf("%w (%d levels)", ErrTooDeep, MaxDepth)
	}
	return &syntaxError{off: -1, msg: "not one JSON value"}
}
