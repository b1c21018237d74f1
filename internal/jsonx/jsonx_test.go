package jsonx

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// validCases are inputs for Valid, right and wrong; the expected answer is
// encoding/json's.
var validCases = []string{
	``, ` `, `null`, `true`, `false`, `nul`, `nulll`, `tru`, `truex`, `fals`, `NULL`, `True`,
	`0`, `-0`, `-`, `01`, `-01`, `1.`, `.5`, `1.5`, `1e5`, `1E+5`, `1e-5`, `1e`, `1e+`, `0.0e-0`,
	`-1.25e+300`, `1e999`, `0x10`, `+1`, `1 2`, `Infinity`, `NaN`, `1_000`,
	`""`, `"abc"`, `"a\"b"`, `"\\"`, `"\/"`, `"\b\f\n\r\t"`, `"\u00e9"`, `"\uD83D\uDE00"`, `"\uD800"`,
	`"\u12"`, `"\u12G4"`, `"\x"`, `"\'"`, "\"a\tb\"", "\"a\x00b\"", "\"a\x1fb\"", "\"a\x7fb\"",
	"\"\xff\xfe\"", "\"\xed\xa0\x80\"", "\"é\"", `"abc`, `"abc\"`, `"\`, "\"\\u",
	`{}`, `{ }`, `{"a":1}`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `{"a":1 "b":2}`, `{"a":}`, `{,}`, `{"a"}`,
	`[]`, `[ ]`, `[1,2]`, `[1,]`, `[,1]`, `[1 2]`, `[`, `]`, `[[[]]]`, `[{"a":[{"b":null}]}]`, `{"a":[}`,
	" \t\r\n{} \t\r\n", "\f{}", "{}\v", "\u00a0{}", "\xef\xbb\xbf{}", `{}}`, `{}{}`, `[]]`,
	"\"a\nb\"", "\"aaaaaaaaaaaaaaaaaaaaaaaa\\\"aaaaaaaaaa\"", "\"aaaaaaaa\x01aaaaaaaaaa\"", "\"0123456\"",
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000),
	strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001),
	strings.Repeat("[", 9999) + "{}" + strings.Repeat("]", 9999),
	strings.Repeat("[", 10000) + "{}" + strings.Repeat("]", 10000),
}

func TestJSONXValid(t *testing.T) {
	for _, c := range validCases {
		if got, want := Valid([]byte(c)), json.Valid([]byte(c)); got != want {
			name := c
			if len(name) > 40 {
				name = name[:40] + "…"
			}
			t.Errorf("Valid(%q) = %v, want %v", name, got, want)
		}
	}
}

// unmarshalCases are inputs that the differential check runs against every
// target type; each exercises a rule of encoding/json.
var unmarshalCases = []string{
	`{"s":"plain","I":-5,"i8":127,"I16":-32768,"U8":255,"U64":18446744073709551615,"F32":1.5,"F64":-2e-300,"bool":true}`,
	`{"i8":128,"U8":-1,"U":-0,"I":1.0,"I32":1e2,"F32":1e39,"F64":1e400,"I64":9223372036854775808,"U64":18446744073709551616}`,
	`{"I":"1","s":1,"bool":"true","Sl":{},"M":[],"P":"x","PS":[],"Any":1e400,"AnyS":[1e400,2]}`,
	`{"S":"upper","s":"lower","I":1,"i":2,"ſtraße":"fold","STRASSE":"no","k":1,"K":2,"\u212a":3,"dup":"d","DUP":"D","Dup":"x"}`,
	`{"A":1,"b":"emb","C":2,"D":3,"X":4,"y":5,"Y":6,"Z":7,"E":"ptr","F":"unexported ptr","G":"g","inner2":{"G":"t"},"tagged":{"G":"u"}}`,
	`{"P":null,"PP":null,"PS":null,"Sl":null,"M":null,"Any":null,"Raw":null,"RawP":null,"Rec":null,"RecP":null,"Txt":null,"TxtP":null,"Str":null,"I":null,"s":null,"Arr":null,"Num":null}`,
	`{"Sl":[],"SlS":[{"x":1},{"x":2}],"SlS":[{"s":"a"}],"M":{"a":1},"M":{"b":2},"PS":{"x":1},"PS":{"s":"two"},"Inner":{"x":1},"Inner":{}}`,
	`{"Arr":[1],"Arr":[1,2,3,4,5],"ArrS":[{"x":1}],"Zero":[1,2],"AA":[[1],[2,3,4],[5]]}`,
	`{"MI":{"1":"a","-2":"b","x":"c","1.5":"d","+3":"e"},"MU8":{"255":true,"256":true,"-1":true},"MI8":{"-128":1,"128":2},"MText":{"a":1,"b":"x"}}`,
	`{"MA":{"a":{"b":[1,{"c":null}]},"":true},"MNamed":{"k":"v"},"MS":{"a":{"x":1},"a":{"s":"2"}},"MP":{"a":{"x":1},"b":null}}`,
	`{"Raw":{"a" : [1, 2]},"RawP":"s","RawS":[1,"2",{"3":4},null,true],"Num":-1.5e3,"NumP":"12","Bytes":"aGVsbG8=","BytesP":"AQ=="}`,
	`{"Num":"abc"}`, `{"Num":""}`, `{"Num":true}`, `{"Bytes":"not base64!"}`, `{"Bytes":[1,2,256,"x"]}`, `{"Bytes":null}`,
	`{"Rec":{"x":[1,2]},"RecP":"a","RecS":[1,null,"x"],"RecM":{"a":1,"b":null},"Val":5,"ValP":null,"Txt":"hello","TxtP":"p","Both":"b"}`,
	`{"Rec":"fail now"}`, `{"Val":"vfail"}`, `{"Txt":"tfail"}`, `{"TxtP":"tfail"}`, `{"Txt":1,"TxtP":{},"Both":{"a":1}}`,
	`{"Str":{},"Str":"x","Err":null,"Err":1,"Ch":1,"Fn":{},"C64":1,"Named":"n","Punct":"p","a-b.c$":"q","-":"dash","Skip":"no","hidden":1}`,
	`{"UP":{"Q":1},"EP":{"x":1},"EP":null}`,
	`{"s":"\u00e9\ud83d\ude00\ud800\udc00x\ud800\u0041\udc00\\\/\b\f\n\r\t\"","Any":"\ud83d","MA":{"\ud800":1,"\ufffd":2}}`,
	"{\"s\":\"\xff\xfe\xed\xa0\x80é\",\"\xff\":1,\"MA\":{\"\xfe\":1}}",
	`{"I": 1 , "s" : "x" , "Sl" : [ 1 , 2 ] }`,
	`{"Name":"a","Next":{"Name":"b","Next":{"Name":"c"}},"Kids":[{"Kids":[{"Name":"d"}]}],"M":{"x":{"Name":"y"}}}`,
	`{"X":1,"SelfEmbed":{"X":2},"Stringer":null,"MyInt":3,"MyFloat":1.5,"self":{"X":4,"SelfEmbed":{}}}`,
	`{"NP":5,"IP":"x","IPP":null,"MS":{"a":[1,2],"b":null},"MM":{"a":{"b":1},"c":null},"Empty":{"a":1},"EP":{"a":1}}`,
	`{"I":1,"S":2,"B":"true","F":"1.5","P":"7","s":"\"q\"","N":"3","X":4,"Sl":"[1]"}`,
	`{"I":"x"}`, `{"I":""}`, `{"B":"1"}`, `{"F":"-Inf"}`, `{"P":"null"}`, `{"s":"q"}`, `{"I":1}`, `{"I":null}`, `{"I":"-"}`,
	`[1,"a",null,true,{"a":[]},[]]`, `[]`, `{}`, `null`, `"str"`, `123`, `-0`, `1.5`, `true`,
	`[{"s":"a"},{"s":"b"}]`, `[null,{}]`,
	`{"a":1}x`, `{"a":1`, `{"a":"\u12"}`, `{"s":"a` + "\x01" + `"}`, `[1,2,]`, `{"Rec":1,"x":}`, `{"Rec":"fail"`,
	`{"action":"opened","number":5,"pull_request":{"number":"x","merged":true,"head":{"ref":"h"}},"repository":{"full_name":"o/r","owner":{"login":"o"}}}`,
}

func TestJSONXUnmarshalDifferential(t *testing.T) {
	for _, c := range unmarshalCases {
		check(t, []byte(c))
	}
}

func TestJSONXUnmarshalErrors(t *testing.T) {
	var v struct{ A int }
	for _, bad := range []string{``, ` `, `{`, `{"A":1}}`, `{"A":1,}`, `{"A":01}`, "\xef\xbb\xbf{}", `{"A":1} {}`, `nul`} {
		err := Unmarshal([]byte(bad), &v)
		if !errors.Is(err, ErrSyntax) {
			t.Errorf("Unmarshal(%q) = %v, want ErrSyntax", bad, err)
		}
	}
	var ie *json.InvalidUnmarshalError
	if err := Unmarshal([]byte(`{}`), v); !errors.As(err, &ie) {
		t.Errorf("Unmarshal into a struct value = %v, want *json.InvalidUnmarshalError", err)
	}
	if err := Unmarshal([]byte(`{}`), (*struct{})(nil)); !errors.As(err, &ie) {
		t.Errorf("Unmarshal into nil = %v, want *json.InvalidUnmarshalError", err)
	}
	var r struct{ R recorder }
	if err := Unmarshal([]byte(`{"R":"fail"}`), &r); !errors.Is(err, errRecorder) {
		t.Errorf("Unmarshal with a failing UnmarshalJSON = %v, want its error", err)
	}
}

// TestJSONXUnmarshalLenient checks the one deliberate difference from
// encoding/json: a type mismatch is no error, and leaves the value.
func TestJSONXUnmarshalLenient(t *testing.T) {
	type body struct {
		A string
		B int8
		C []string
		D *struct{ E string }
		F string
	}
	v := body{A: "keep", B: 3}
	in := `{"A":5,"B":300,"C":{"x":1},"D":[1],"F":"set"}`
	if err := Unmarshal([]byte(in), &v); err != nil {
		t.Fatal(err)
	}
	want := body{A: "keep", B: 3, D: &struct{ E string }{}, F: "set"}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("got %+v, want %+v", v, want)
	}
	var te *json.UnmarshalTypeError
	w := body{A: "keep", B: 3}
	if err := json.Unmarshal([]byte(in), &w); !errors.As(err, &te) || !reflect.DeepEqual(w, want) {
		t.Errorf("encoding/json: %+v %v; the test's premise is wrong", w, err)
	}
}

// TestJSONXUnmarshalUnmarshalerCalls checks when UnmarshalJSON is called
// and with what: for null on a value field, not for null on a pointer
// field, with the raw value without the white space around it.
func TestJSONXUnmarshalUnmarshalerCalls(t *testing.T) {
	var v struct {
		R  recorder
		RP *recorder
		RS []recorder
	}
	in := `{"R" : null ,"RP":null,"RS":[ {"a" : 1} , "x" ],"R": [ 1 ]}`
	if err := Unmarshal([]byte(in), &v); err != nil {
		t.Fatal(err)
	}
	if v.R.Raw != "null|[ 1 ]|" || v.R.Calls != 2 || v.RP != nil || len(v.RS) != 2 || v.RS[0].Raw != `{"a" : 1}|` || v.RS[1].Raw != `"x"|` {
		t.Errorf("got %+v", v)
	}
}

func TestJSONXUnmarshalSliceReuse(t *testing.T) {
	type el struct{ A, B int }
	backing := []el{{1, 1}, {2, 2}, {3, 3}}
	v := struct{ S []el }{S: backing[:1]}
	if err := Unmarshal([]byte(`{"S":[{"A":9},{"A":8}]}`), &v); err != nil {
		t.Fatal(err)
	}
	// Like encoding/json: decoded into the backing array, whose second
	// element keeps its B.
	want := []el{{9, 1}, {8, 2}}
	if !reflect.DeepEqual(v.S, want) || &v.S[0] != &backing[0] {
		t.Errorf("got %+v, want %+v in the same backing array", v.S, want)
	}
	if err := Unmarshal([]byte(`{"S":[]}`), &v); err != nil || v.S == nil || len(v.S) != 0 {
		t.Errorf("empty array: %#v %v, want an empty non-nil slice", v.S, err)
	}
}

func TestJSONXUnmarshalStrings(t *testing.T) {
	for in, want := range map[string]string{
		`"a\u00e9\n"`:       "aé\n",
		`"\ud83d\ude00"`:    "😀",
		`"\ud83d"`:          "\ufffd",
		`"\ude00\ud83d"`:    "\ufffd\ufffd",
		`"\ud83d\u0041"`:    "\ufffdA",
		"\"\xff\"":          "\ufffd",
		"\"\xed\xa0\x80\"":  "\ufffd\ufffd\ufffd",
		`"\u0000"`:          "\x00",
		`"0123456789abcde"`: "0123456789abcde",
	} {
		var s string
		if err := Unmarshal([]byte(in), &s); err != nil || s != want {
			t.Errorf("Unmarshal(%q) = %q, %v; want %q", in, s, err, want)
		}
	}
}

// TestJSONXConcurrent decodes into the same types from many goroutines at
// once, for the race detector to watch the plan cache.
func TestJSONXConcurrent(t *testing.T) {
	in := []byte(unmarshalCases[0])
	errs := make(chan error, 8)
	for range cap(errs) {
		go func() {
			var err error
			for _, newV := range targets() {
				want, got := newV(), newV()
				werr := json.Unmarshal(in, want)
				gerr := Unmarshal(in, got)
				if err == nil && ((gerr != nil) != !decodedOn(werr) || !reflect.DeepEqual(want, got)) {
					err = fmt.Errorf("%T: encoding/json: %v, jsonx: %v", want, werr, gerr)
				}
			}
			errs <- err
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
