package jsonx

import (
	"cmp"
	"encoding"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// decodeFunc decodes the JSON value at d.pos (white space skipped, not at
// the end of the input) into the Go value of type c.typ at p, and leaves
// d.pos just past the JSON value.
type decodeFunc func(d *decoder, c *codec, p addr) error

// codec is the immutable decoding plan for one Go type.
type codec struct {
	typ  reflect.Type
	kind reflect.Kind
	// slot decodes into a settable variable of type typ (a struct field, a
	// slice, array or map element), applying encoding/json's search for a
	// json.Unmarshaler or encoding.TextUnmarshaler first.
	slot decodeFunc
	// value decodes by kind alone, the way encoding/json treats a value
	// it reached by following a pointer (whose method set was looked at
	// already) or a value whose methods it cannot call.
	value decodeFunc
	// For a pointer type: whether the pointer type itself (the method set
	// encoding/json looks at after allocating) implements json.Unmarshaler
	// or encoding.TextUnmarshaler.
	unmarshaler, textUnmarshaler bool
	elem                         *codec // pointer, slice, array and map element
	bits                         int    // int, uint and float size
	length                       int    // array length
	fields                       *structFields
	wrapper                      reflect.Type // for a fallback to encoding/json
}

// elemDecode decodes what a pointer of type c.typ points to: a pointer
// again by the slot rules, anything else by kind (encoding/json takes no
// address again once it followed a pointer).
func (c *codec) elemDecode(d *decoder, p addr) error {
	e := c.elem
	if e.kind == reflect.Pointer {
		return e.slot(d, e, p)
	}
	return e.value(d, e, p)
}

// field is a struct member as encoding/json sees it.
type field struct {
	name  string
	fold  string // name case-folded
	index []int
	tag   bool // named by its tag
	// quoted is the ",string" option on a type it applies to.
	quoted bool
	// What decoding needs: the pointers of embedded *struct fields to
	// follow (hops), then the offset of the field in the last struct.
	hops   []hop
	offset uintptr
	codec  *codec
	dec    decodeFunc // codec.slot, or decReadOnlyStruct
}

// hop is an embedded pointer to a struct on the path to a promoted field.
type hop struct {
	offset     uintptr
	unexported bool // encoding/json cannot allocate it, and skips the member
	elem       reflect.Type
}

// structFields are the members of a struct type, in field order, with the
// table that finds them by key.
type structFields struct {
	list []*field
	// byFold maps the folded name to the fields with that folded name, in
	// field order: the exact match wins, else the first.
	byFold map[string][]*field
	// byLen lists, by length, the fields whose folded name is short and
	// ASCII, in field order: the candidates for an ASCII key.
	byLen [maxShortName + 1][]*field
}

// maxShortName is the longest name byLen holds.
const maxShortName = 32

var (
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	numberType          = reflect.TypeFor[json.Number]()
)

// cache holds the plans built so far, by type. It only grows, and a plan in
// it is never changed.
var cache sync.Map // reflect.Type -> *codec

// codecFor returns the plan for t.
func codecFor(t reflect.Type) *codec {
	if c, ok := cache.Load(t); ok {
		return c.(*codec)
	}
	b := builder{seen: map[reflect.Type]*codec{}}
	c := b.build(t)
	// A field of a recursive type may refer to a plan that was not yet
	// complete when the field was listed.
	for _, c := range b.seen {
		if c.fields != nil {
			for _, f := range c.fields.list {
				if f.dec == nil {
					f.dec = f.codec.slot
				}
			}
		}
	}
	// Publish only complete plans.
	for t, c := range b.seen {
		cache.LoadOrStore(t, c)
	}
	return c
}

type builder struct {
	seen map[reflect.Type]*codec
}

func (b *builder) build(t reflect.Type) *codec {
	if c, ok := b.seen[t]; ok {
		return c
	}
	if c, ok := cache.Load(t); ok {
		return c.(*codec)
	}
	c := &codec{typ: t, kind: t.Kind()}
	b.seen[t] = c
	fallback := false
	switch t.Kind() {
	case reflect.Bool:
		c.value = decBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		c.value, c.bits = decInt, t.Bits()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		c.value, c.bits = decUint, t.Bits()
	case reflect.Float32, reflect.Float64:
		c.value, c.bits = decFloat, t.Bits()
	case reflect.String:
		c.value = decString
		if t == numberType {
			c.value = decNumber
		}
	case reflect.Interface:
		c.value = decInterface
		if t.NumMethod() == 0 {
			c.value = decAny
		}
	case reflect.Pointer:
		c.elem = b.build(t.Elem())
		c.value = decPointer
		c.unmarshaler = t.Implements(unmarshalerType)
		c.textUnmarshaler = t.Implements(textUnmarshalerType)
	case reflect.Slice:
		c.elem = b.build(t.Elem())
		c.value = decSlice
		if t.Elem().Kind() == reflect.Uint8 {
			c.value = decBytes
		}
	case reflect.Array:
		c.elem = b.build(t.Elem())
		c.value, c.length = decArray, t.Len()
	case reflect.Map:
		c.elem = b.build(t.Elem())
		k := t.Key()
		switch {
		case reflect.PointerTo(k).Implements(textUnmarshalerType):
			fallback = true
		case k.Kind() == reflect.String:
			c.value = decMap
			if t == reflect.TypeFor[map[string]any]() {
				c.value = decMapAny
			}
		case k.Kind() >= reflect.Int && k.Kind() <= reflect.Uintptr:
			c.value = decMap
		default:
			fallback = true
		}
	case reflect.Struct:
		c.fields = b.structFields(t)
		c.value = decStruct
		for _, f := range c.fields.list {
			fallback = fallback || f.quoted
		}
	default: // complex, chan, func, unsafe.Pointer
		c.value = decOther
	}
	if fallback {
		c.value = decFallback
		c.wrapper = reflect.StructOf([]reflect.StructField{
			{Name: "V", Type: t, Tag: `json:"v"`},
			{Name: "W", Type: reflect.TypeFor[bool](), Tag: `json:"w"`},
		})
	}
	named := t.Name() != "" && t.Kind() != reflect.Pointer
	switch {
	case t.Kind() == reflect.Pointer:
		c.slot = decPointer
	case named && reflect.PointerTo(t).Implements(unmarshalerType):
		c.slot = decUnmarshalerAddr
	case named && reflect.PointerTo(t).Implements(textUnmarshalerType):
		c.slot = decTextUnmarshalerAddr
	default:
		c.slot = c.value
	}
	return c
}

// structFields lists t's members by encoding/json's rules: exported fields
// and the fields promoted from embedded structs, named by their json tag or
// Go name, the shallowest (then the tagged) of equal names winning and a
// tie hiding the name.
func (b *builder) structFields(t reflect.Type) *structFields {
	type queued struct {
		typ   reflect.Type
		index []int
	}
	var fields []*field
	var current, next []queued
	next = []queued{{typ: t}}
	var count, nextCount map[reflect.Type]int
	visited := map[reflect.Type]bool{}
	for len(next) > 0 {
		current, next = next, current[:0]
		count, nextCount = nextCount, map[reflect.Type]int{}
		for _, q := range current {
			if visited[q.typ] {
				continue
			}
			visited[q.typ] = true
			for i := range q.typ.NumField() {
				sf := q.typ.Field(i)
				if sf.Anonymous {
					et := sf.Type
					if et.Kind() == reflect.Pointer {
						et = et.Elem()
					}
					if !sf.IsExported() && et.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if !validTag(name) {
					name = ""
				}
				index := append(slices.Clip(q.index), i)
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct {
					f := &field{name: name, tag: name != "", index: index}
					if name == "" {
						f.name = sf.Name
					}
					if hasOption(opts, "string") {
						switch ft.Kind() {
						case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
							reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
							reflect.Float32, reflect.Float64, reflect.String:
							f.quoted = true
						}
					}
					fields = append(fields, f)
					if count[q.typ] > 1 {
						// Two copies make the name ambiguous below.
						fields = append(fields, f)
					}
					continue
				}
				nextCount[ft]++
				if nextCount[ft] == 1 {
					next = append(next, queued{typ: ft, index: index})
				}
			}
		}
	}
	slices.SortStableFunc(fields, func(a, b *field) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if c := cmp.Compare(len(a.index), len(b.index)); c != 0 {
			return c
		}
		if a.tag != b.tag {
			if a.tag {
				return -1
			}
			return 1
		}
		return slices.Compare(a.index, b.index)
	})
	var out []*field
	for i := 0; i < len(fields); {
		j := i + 1
		for j < len(fields) && fields[j].name == fields[i].name {
			j++
		}
		// The first is the shallowest, tagged first; a second one as deep
		// and as tagged makes the name ambiguous, and it is dropped.
		if j-i == 1 || len(fields[i].index) != len(fields[i+1].index) || fields[i].tag != fields[i+1].tag {
			out = append(out, fields[i])
		}
		i = j
	}
	slices.SortFunc(out, func(a, b *field) int { return slices.Compare(a.index, b.index) })

	sfs := &structFields{list: out, byFold: map[string][]*field{}}
	for _, f := range out {
		b.locate(t, f)
		f.fold = string(appendFold(nil, []byte(f.name)))
		sfs.byFold[f.fold] = append(sfs.byFold[f.fold], f)
		if n := len(f.fold); n <= maxShortName && isASCII(f.fold) {
			sfs.byLen[n] = append(sfs.byLen[n], f)
		}
	}
	return sfs
}

// locate fills in where f lives in a value of struct type t and how it is
// decoded.
func (b *builder) locate(t reflect.Type, f *field) {
	cur := t
	var sf reflect.StructField
	for k, i := range f.index {
		if k > 0 && cur.Kind() == reflect.Pointer {
			f.hops = append(f.hops, hop{offset: f.offset, unexported: !sf.IsExported(), elem: cur.Elem()})
			f.offset = 0
			cur = cur.Elem()
		}
		sf = cur.Field(i)
		f.offset += sf.Offset
		cur = sf.Type
	}
	f.codec = b.build(sf.Type)
	if sf.Anonymous && !sf.IsExported() {
		// A tagged embedded field of an unexported struct type: its value
		// is read-only for reflect, so encoding/json neither looks for its
		// methods nor sets it, though it fills in its fields.
		f.dec = decReadOnlyStruct
	}
}

// validTag reports whether s may be a JSON name in a tag (encoding/json's
// rule: letters, digits and most punctuation).
func validTag(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

// hasOption reports whether the comma-separated tag options opts hold name.
func hasOption(opts, name string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == name {
			return true
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// lookup returns the field that the member key (unescaped) decodes into,
// or nil: the field of that exact name, else the first whose name equals
// key under Unicode case folding. ascii tells that key is all ASCII.
func (s *structFields) lookup(key []byte, ascii bool) *field {
	if ascii && len(key) <= maxShortName {
		// An ASCII key folds to itself upper-cased, of the same length.
		var match *field
		for _, f := range s.byLen[len(key)] {
			if !equalFoldASCII(key, f.fold) {
				continue
			}
			if f.name == string(key) {
				return f
			}
			if match == nil {
				match = f
			}
		}
		return match
	}
	var buf [64]byte
	cands := s.byFold[string(appendFold(buf[:0], key))]
	switch len(cands) {
	case 0:
		return nil
	case 1:
		return cands[0]
	}
	for _, f := range cands {
		if f.name == string(key) {
			return f
		}
	}
	return cands[0]
}

// equalFoldASCII reports whether the ASCII key upper-cased is folded, of
// the same length.
func equalFoldASCII(key []byte, folded string) bool {
	for i, c := range key {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != folded[i] {
			return false
		}
	}
	return true
}
