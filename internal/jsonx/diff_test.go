package jsonx

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// This file holds the differential oracle: encoding/json and jsonx decode
// the same input into the same Go types and must agree.

var (
	errRecorder = errors.New("recorder: refused")
	errText     = errors.New("text: refused")
)

// recorder is a json.Unmarshaler with a pointer receiver that keeps every
// raw value it is given, so that a difference in when or with what
// UnmarshalJSON is called shows.
type recorder struct {
	Raw   string
	Calls int
}

func (r *recorder) UnmarshalJSON(b []byte) error {
	r.Raw += string(b) + "|"
	r.Calls++
	if bytes.HasPrefix(b, []byte(`"fail`)) {
		return errRecorder
	}
	return nil
}

// valueUnmarshaler has a value receiver: it cannot keep anything, but it can
// fail.
type valueUnmarshaler int

func (valueUnmarshaler) UnmarshalJSON(b []byte) error {
	if string(b) == `"vfail"` {
		return errRecorder
	}
	return nil
}

// textT is an encoding.TextUnmarshaler.
type textT string

func (t *textT) UnmarshalText(b []byte) error {
	if string(b) == "tfail" {
		return errText
	}
	*t = textT("<" + string(b) + ">")
	return nil
}

// both is a json.Unmarshaler and an encoding.TextUnmarshaler: the first
// wins.
type both struct{ Got string }

func (b *both) UnmarshalJSON(raw []byte) error { b.Got = "json:" + string(raw); return nil }
func (b *both) UnmarshalText(raw []byte) error { b.Got = "text:" + string(raw); return nil }

// textKey is a map key type that encoding/json builds with UnmarshalText.
type textKey string

func (k *textKey) UnmarshalText(b []byte) error { *k = textKey("k:" + string(b)); return nil }

type namedString string

// Embedded structs, exported and not, by value and by pointer.
type (
	Emb struct {
		A int
		B string `json:"b"`
	}
	emb struct {
		C int
		D *int
		A string // hidden by Emb.A? No: same depth, both untagged: both hidden.
	}
	EmbP struct {
		E  string
		EP *kitchenInner
	}
	embp struct {
		F string
	}
	Conf1 struct {
		X int
		Y int `json:"y"`
	}
	Conf2 struct {
		X int
		Y int
	}
	deep struct {
		Emb
		Z int
	}
	inner2 struct {
		G string
	}
)

type kitchenInner struct {
	X  int    `json:"x"`
	S  string `json:"s"`
	P  *int   `json:"p"`
	Sl []int  `json:"sl"`
	R  recorder
}

// kitchen has a field of every kind of type Unmarshal handles.
type kitchen struct {
	Emb
	emb
	*EmbP
	*embp
	Conf1
	Conf2
	deep
	Tagged inner2 `json:"tagged"`
	inner2 `json:"inner2"`

	S       string `json:"s"`
	I       int
	I8      int8 `json:"i8"`
	I16     int16
	I32     int32
	I64     int64 `json:"i64,omitempty"`
	U       uint
	U8      uint8
	U16     uint16
	U32     uint32
	U64     uint64
	Uptr    uintptr
	F32     float32
	F64     float64
	Bool    bool `json:"bool"`
	B2      bool `json:"b"` // shallower than Emb.B
	P       *int
	PP      **string
	PS      *kitchenInner
	Sl      []int
	SlS     []kitchenInner
	SlP     []*kitchenInner
	SlSl    [][]string
	Arr     [3]int
	ArrS    [2]kitchenInner
	M       map[string]int
	MS      map[string]kitchenInner
	MP      map[string]*kitchenInner
	MI      map[int]string
	MU8     map[uint8]bool
	MI8     map[int8]int
	MA      map[string]any
	MNamed  map[namedString]any
	MText   map[textKey]int
	Any     any
	AnyS    []any
	Raw     json.RawMessage
	RawP    *json.RawMessage
	RawS    []json.RawMessage
	Num     json.Number
	NumP    *json.Number
	Bytes   []byte
	BytesP  *[]byte
	Rec     recorder
	RecP    *recorder
	RecS    []recorder
	RecM    map[string]recorder
	Val     valueUnmarshaler
	ValP    *valueUnmarshaler
	Txt     textT
	TxtP    *textT
	Both    both
	Str     fmt.Stringer
	Err     error
	Named   namedString
	Unicode string `json:"ſtraße"`
	Kelvin  int    `json:"K"`
	Dup1    string `json:"dup"`
	Dup2    string `json:"DUP"`
	Skip    string `json:"-"`
	//lint:ignore SA5008 the field is named "-", a case to test
	Dash  string `json:"-,"`
	Punct string `json:"a-b.c$"`
	//lint:ignore SA5008 an invalid name, which encoding/json ignores, to test
	Bad string `json:"a\"b"`
	//lint:ignore U1000 an unexported field, which is not decoded, to test
	hidden int
	Inner  struct {
		X int `json:"x"`
	} `json:"inner"`
	Zero [0]int
	Ch   chan int
	Fn   func()
	C64  complex64
	UP   *struct{ Q int }
}

// quoted has ",string" fields, which jsonx leaves to encoding/json.
type quoted struct {
	I int     `json:",string"`
	S string  `json:"s,string"`
	B bool    `json:",string"`
	F float64 `json:",string"`
	P *int    `json:",string"`
	N json.Number
	X int
	//lint:ignore SA5008 not a type the option applies to, a case to test
	Sl []int `json:",string"`
}

// recursive refers to itself.
type recursive struct {
	Name string
	Next *recursive
	Kids []recursive
	M    map[string]*recursive
}

type ptrType *int

// SelfEmbed embeds a pointer to its own type.
type SelfEmbed struct {
	*SelfEmbed
	X int
}

type (
	MyInt   int
	MyFloat float64
)

// embedsOthers embeds an interface, a named non-struct type and a pointer
// to one, which are fields named after their types.
type embedsOthers struct {
	fmt.Stringer
	MyInt
	*MyFloat
	SelfEmbed `json:"self"`
}

// oddities has shapes rarely met.
type oddities struct {
	NP    ptrType
	IP    *any
	IPP   **any
	AA    [2][2]int
	MS    map[string][]int
	MM    map[string]map[string]int
	Empty struct{}
	EP    *struct{}
}

// targets returns new values to decode into: generic ones, the kitchen
// sink, odd shapes, and the copies of the providers' body types.
func targets() []func() any {
	t := []func() any{
		func() any { return new(any) },
		func() any { return new(map[string]any) },
		func() any { return new([]any) },
		func() any { return new(kitchen) },
		func() any { return new([]kitchen) },
		func() any { return new(*kitchen) },
		func() any { return new(map[string]kitchenInner) },
		func() any { return new(recorder) },
		func() any { return new(textT) },
		func() any { return new(both) },
		func() any { return new(json.RawMessage) },
		func() any { return new(json.Number) },
		func() any { return new(string) },
		func() any { return new(int8) },
		func() any { return new(uint64) },
		func() any { return new(float32) },
		func() any { return new([]byte) },
		func() any { return new([2]string) },
		func() any { return new(quoted) },
		func() any { return new(recursive) },
		func() any { return new(oddities) },
		func() any { return new(SelfEmbed) },
		func() any { return new(embedsOthers) },
		func() any { return new(map[textKey]int) },
		func() any { return new(map[int]any) },
		func() any {
			// An interface that holds a pointer is decoded through it.
			var n kitchenInner
			var x any = &n
			return &x
		},
		func() any {
			// An interface that holds a pointer to itself.
			x := new(any)
			*x = x
			return x
		},
		func() any {
			var p *int
			var x any = &p
			return &x
		},
	}
	return append(t, shapeRootTypes...)
}

// isSyntaxError reports whether encoding/json rejected the input's syntax.
func isSyntaxError(err error) bool {
	var se *json.SyntaxError
	return errors.As(err, &se)
}

// decodedOn reports whether encoding/json finished decoding in spite of err
// (it records these errors and goes on; jsonx goes on too and returns nil).
func decodedOn(err error) bool {
	var te *json.UnmarshalTypeError
	var ce base64.CorruptInputError
	return err == nil || errors.As(err, &te) || errors.As(err, &ce) ||
		strings.HasPrefix(err.Error(), "json: cannot set embedded pointer")
}

// compare decodes data with encoding/json into want and with jsonx into
// got, and reports a difference. Unless the syntax is wrong, the values
// must be the same, also when encoding/json stops at an error that an
// Unmarshaler returns: jsonx stops at the same point.
func compare(t testing.TB, data []byte, want, got any) {
	t.Helper()
	werr := json.Unmarshal(data, want)
	gerr := Unmarshal(data, got)
	if isSyntaxError(werr) {
		if gerr == nil {
			t.Fatalf("%T: encoding/json: %v; jsonx: nil\ninput: %q", want, werr, data)
		}
		if !errors.Is(gerr, ErrSyntax) {
			t.Fatalf("%T: encoding/json: %v; jsonx: %v, not a syntax error\ninput: %q", want, werr, gerr, data)
		}
		return
	}
	switch {
	case decodedOn(werr):
		if gerr != nil {
			t.Fatalf("%T: encoding/json: %v; jsonx: %v\ninput: %q", want, werr, gerr, data)
		}
	case strings.Contains(werr.Error(), ",string"):
		// encoding/json goes on after some of these and stops at others,
		// with the same message.
		if gerr != nil && gerr.Error() != werr.Error() {
			t.Fatalf("%T: encoding/json: %v; jsonx: %v\ninput: %q", want, werr, gerr, data)
		}
	default:
		// An error from an Unmarshaler or an invalid json.Number: both stop.
		if gerr == nil || gerr.Error() != werr.Error() {
			t.Fatalf("%T: encoding/json: %v; jsonx: %v\ninput: %q", want, werr, gerr, data)
		}
	}
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("%T: values differ (encoding/json: %v)\ninput: %q\nencoding/json: %s\njsonx:         %s", want, werr, data, dump(want), dump(got))
	}
}

// dump renders v for a failure message.
func dump(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}

// prefill is decoded into the values before the input, so that decoding
// into values that hold something (slices to reuse, maps to fill, pointers
// to follow) is compared too.
var prefill = []byte(`{"A":1,"b":"x","C":2,"D":3,"E":"e","EP":{"x":1},"I":7,"P":8,"PP":"pp",
"PS":{"x":1,"s":"s","p":2,"sl":[1,2,3]},"Sl":[1,2,3,4,5],"SlS":[{"x":1,"sl":[1,2]},{"x":2},{"s":"t"}],
"SlP":[{"x":1},null,{"x":3}],"SlSl":[["a","b"],["c"]],"Arr":[1,2,3],"ArrS":[{"x":1},{"x":2}],
"M":{"a":1,"b":2},"MS":{"a":{"x":1}},"MP":{"a":{"x":1}},"MI":{"1":"a"},"MA":{"a":[1]},
"Any":{"k":[1,"x"]},"AnyS":[1,2,3],"Raw":[1,2,3],"RawP":{"a":1},"Num":12,"Bytes":"AQID",
"Rec":1,"RecP":2,"RecS":[1,2,3],"Txt":"t","TxtP":"tp","Named":"n","Inner":{"x":5},
"Name":"root","Next":{"Name":"next"},"Kids":[{"Name":"k1"},{"Name":"k2"}],"x":9,"s":"s","sl":[7,8,9],
"IP":5,"IPP":6,"AA":[[1,2],[3,4]],"MS":{"a":[1,2]},"MM":{"a":{"b":1}},"EP":{}}`)

// check compares jsonx with encoding/json on data for every target, into
// new values and into prefilled ones, and checks Valid.
func check(t testing.TB, data []byte) {
	t.Helper()
	checkTargets(t, data, targets())
}

// checkSome is check with, for a large input, only a few of the targets,
// chosen by the input's hash, to keep fuzzing fast.
func checkSome(t testing.TB, data []byte) {
	t.Helper()
	all := targets()
	if len(data) <= 2048 {
		checkTargets(t, data, all)
		return
	}
	h := fnv.New64a()
	h.Write(data)
	n := h.Sum64()
	some := []func() any{all[0]}
	for range 3 {
		some = append(some, all[n%uint64(len(all))])
		n /= uint64(len(all))
	}
	checkTargets(t, data, some)
}

func checkTargets(t testing.TB, data []byte, targets []func() any) {
	t.Helper()
	if got, want := Valid(data), json.Valid(data); got != want {
		t.Fatalf("Valid(%q) = %v, encoding/json says %v", data, got, want)
	}
	for _, newV := range targets {
		compare(t, data, newV(), newV())
		want, got := newV(), newV()
		compare(t, prefill, want, got)
		compare(t, data, want, got)
	}
}

// deliveryBodies returns the JSON bodies of the providers' recorded
// deliveries (a form-encoded body's payload field).
func deliveryBodies(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "forge", "*", "testdata", "deliveries", "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 100 {
		t.Fatalf("only %d delivery fixtures found", len(paths))
	}
	out := map[string][]byte{}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		headers, _ := txtarSection(raw, "headers")
		body, ok := txtarSection(raw, "body")
		if !ok {
			t.Fatalf("%s: no body", p)
		}
		if bytes.Contains(bytes.ToLower(headers), []byte("application/x-www-form-urlencoded")) {
			q, err := url.ParseQuery(string(body))
			if err != nil || q.Get("payload") == "" {
				continue
			}
			body = []byte(q.Get("payload"))
		}
		out[p] = body
	}
	return out
}

// txtarSection returns the content of the section "-- name --" of a txtar
// archive, without the newline that ends it.
func txtarSection(archive []byte, name string) ([]byte, bool) {
	marker := []byte("-- " + name + " --\n")
	var start int
	switch {
	case bytes.HasPrefix(archive, marker):
		start = len(marker)
	default:
		i := bytes.Index(archive, append([]byte("\n"), marker...))
		if i < 0 {
			return nil, false
		}
		start = i + 1 + len(marker)
	}
	rest := archive[start:]
	end := len(rest)
	for i := 0; i < len(rest); {
		if bytes.HasPrefix(rest[i:], []byte("-- ")) {
			line := rest[i:]
			if j := bytes.IndexByte(line, '\n'); j >= 0 {
				line = line[:j]
			}
			if bytes.HasSuffix(line, []byte(" --")) {
				end = i
				break
			}
		}
		j := bytes.IndexByte(rest[i:], '\n')
		if j < 0 {
			break
		}
		i += j + 1
	}
	return bytes.TrimSuffix(rest[:end], []byte("\n")), true
}

// TestJSONXDeliveries compares jsonx with encoding/json on every recorded
// delivery, and checks that the providers' body types take the plans (no
// fallback to encoding/json).
func TestJSONXDeliveries(t *testing.T) {
	for name, body := range deliveryBodies(t) {
		t.Run(filepath.Base(filepath.Dir(filepath.Dir(filepath.Dir(name))))+"/"+filepath.Base(name), func(t *testing.T) {
			check(t, body)
		})
	}
}

// TestJSONXShapesNoFallback checks that no type the normalizers decode
// into is left to encoding/json.
func TestJSONXShapesNoFallback(t *testing.T) {
	for _, newV := range shapeRootTypes {
		v := newV()
		seen := map[*codec]bool{}
		var walk func(c *codec, path string)
		walk = func(c *codec, path string) {
			if seen[c] {
				return
			}
			seen[c] = true
			if c.wrapper != nil {
				t.Errorf("%T: %s (%v) falls back to encoding/json", v, path, c.typ)
			}
			if c.elem != nil {
				walk(c.elem, path+"[]")
			}
			if c.fields != nil {
				for _, f := range c.fields.list {
					walk(f.codec, path+"."+f.name)
				}
			}
		}
		walk(codecFor(reflect.TypeOf(v)), "")
	}
}

// maxFuzzSeed bounds the recorded bodies used as fuzz seeds: the fuzz
// step of the test script gives each target seconds, and measuring the
// coverage of all 470 bodies took most of them (every body, whatever its
// size, is checked by TestJSONXDeliveries).
const maxFuzzSeed = 2048

func FuzzUnmarshal(f *testing.F) {
	for _, body := range deliveryBodies(f) {
		if len(body) <= maxFuzzSeed {
			f.Add(body)
		}
	}
	for _, s := range unmarshalCases {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSome(t, data)
	})
}

func FuzzValid(f *testing.F) {
	for _, body := range deliveryBodies(f) {
		if len(body) <= maxFuzzSeed {
			f.Add(body)
		}
	}
	for _, c := range validCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := Valid(data), json.Valid(data); got != want {
			t.Fatalf("Valid(%q) = %v, encoding/json says %v", data, got, want)
		}
	})
}

// FuzzUnmarshalShapes is the differential oracle on what the ingest path
// decodes: every input goes into every provider's body type (the copies
// of shapes_test.go, kept current by TestJSONXShapesCurrent), into a new
// value and into a prefilled one, with encoding/json and with jsonx, which
// must agree on the value and on error or no error (compare). Unlike
// FuzzUnmarshal it never samples the targets, so the fuzzer's time goes to
// these types alone; the test script runs it longer than the others.
func FuzzUnmarshalShapes(f *testing.F) {
	for _, body := range deliveryBodies(f) {
		if len(body) <= maxFuzzSeed {
			f.Add(body)
		}
	}
	f.Add([]byte(`{"repository":{"full_name":"a/b","owner":null},"commits":[{"id":"x","added":["a"]}],"ref":"refs/heads/main"}`))
	f.Add([]byte(`{"object_kind":"push","project":{"id":"12"},"commits":null,"total_commits_count":1e3}`))
	f.Add([]byte(`{"pull_request":{"number":1.5,"merged":"true","labels":[{}]},"sender":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkTargets(t, data, shapeRootTypes)
	})
}
