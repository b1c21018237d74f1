package jsonx

import (
	"encoding"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strconv"
	"unicode/utf8"
)

// decoder holds the state of one Unmarshal call.
type decoder struct {
	data  []byte
	pos   int    // the next byte to read
	depth int    // containers open around pos
	buf   []byte // scratch space for unescaping
}

func (d *decoder) syntax(i int) error { return newSyntaxError(d.data, i) }

// skip passes over the value at d.pos, checking it. It is how a member
// that is not decoded, or whose JSON type does not fit the Go type, is
// skipped: encoding/json leaves the Go value as it was in both cases.
func (d *decoder) skip() error {
	j := skipValue(d.data, d.pos, d.depth)
	if j < 0 {
		return d.syntax(d.pos)
	}
	d.pos = j
	return nil
}

// raw passes over the value at d.pos, checking it, and returns its bytes.
func (d *decoder) raw() ([]byte, error) {
	start := d.pos
	if err := d.skip(); err != nil {
		return nil, err
	}
	return d.data[start:d.pos:d.pos], nil
}

// null passes over a null literal at d.pos, which starts with 'n'.
func (d *decoder) null() error {
	j := scanLiteral(d.data, d.pos, "null")
	if j < 0 {
		return d.syntax(d.pos)
	}
	d.pos = j
	return nil
}

// enter opens a container at d.pos.
func (d *decoder) enter() error {
	if d.depth >= maxDepth {
		return &syntaxError{off: d.pos, msg: "exceeded max depth"}
	}
	d.depth++
	return nil
}

// stringBody passes over the string at d.pos and returns its body (between
// the quotes), unquoted if need be into d.buf, which the next call may
// overwrite.
func (d *decoder) stringBody() ([]byte, error) {
	i := d.pos
	end, flags := scanString(d.data, i+1)
	if end < 0 {
		return nil, d.syntax(i)
	}
	d.pos = end
	s := d.data[i+1 : end-1]
	if flags == 0 || flags == strNonASCII && utf8.Valid(s) {
		return s, nil
	}
	d.buf = appendUnquoted(d.buf[:0], s)
	return d.buf, nil
}

// next passes over white space and the comma or closing bracket after a
// container's member. It returns whether a member follows, with d.pos at
// it; otherwise d.pos is past the container, which is closed.
func (d *decoder) next(closing byte) (more bool, err error) {
	i := skipSpace(d.data, d.pos)
	if i < len(d.data) {
		switch d.data[i] {
		case ',':
			d.pos = skipSpace(d.data, i+1)
			if d.pos >= len(d.data) {
				return false, d.syntax(d.pos)
			}
			return true, nil
		case closing:
			d.pos = i + 1
			d.depth--
			return false, nil
		}
	}
	return false, d.syntax(i)
}

// first is next for the first member: it opens the container at d.pos,
// passes over the bracket and white space, and reports whether a member
// follows (else the container is empty, and closed).
func (d *decoder) first(closing byte) (more bool, err error) {
	if err := d.enter(); err != nil {
		return false, err
	}
	i := skipSpace(d.data, d.pos+1)
	if i >= len(d.data) {
		return false, d.syntax(i)
	}
	if d.data[i] == closing {
		d.pos = i + 1
		d.depth--
		return false, nil
	}
	d.pos = i
	return true, nil
}

// key reads the member key at d.pos and the colon after it, leaving d.pos
// at the value, and tells whether the key is all ASCII. The key is the raw
// string body unless it has escapes, then it is unquoted into d.buf;
// invalid UTF-8 is left as is, which no field name can match.
func (d *decoder) key() (k []byte, ascii bool, err error) {
	i := d.pos
	if d.data[i] != '"' {
		return nil, false, d.syntax(i)
	}
	end, flags := scanString(d.data, i+1)
	if end < 0 {
		return nil, false, d.syntax(i)
	}
	k = d.data[i+1 : end-1]
	ascii = flags == 0
	if flags&strEscaped != 0 {
		d.buf = appendUnquoted(d.buf[:0], k)
		k = d.buf
		ascii = isASCII(string(k))
	}
	return k, ascii, d.colon(end)
}

// colon passes over white space, a colon and white space from i, and
// leaves d.pos at the value that follows.
func (d *decoder) colon(i int) error {
	i = skipSpace(d.data, i)
	if i >= len(d.data) || d.data[i] != ':' {
		return d.syntax(i)
	}
	i = skipSpace(d.data, i+1)
	if i >= len(d.data) {
		return d.syntax(i)
	}
	d.pos = i
	return nil
}

// keyString reads a member key as a string, unquoted like a string value
// (invalid UTF-8 becomes U+FFFD), and the colon after it.
func (d *decoder) keyString() (string, error) {
	if d.data[d.pos] != '"' {
		return "", d.syntax(d.pos)
	}
	b, err := d.stringBody()
	if err != nil {
		return "", err
	}
	s := string(b)
	return s, d.colon(d.pos)
}

// top decodes the whole input into the value of type c.typ.Elem() at p,
// where c is the plan for the pointer passed to Unmarshal. Like
// encoding/json it first looks at the methods of that pointer type.
func (d *decoder) top(c *codec, p addr) error {
	switch {
	case c.unmarshaler:
		return d.callUnmarshaler(p.ptrTo(c.elem.typ))
	case c.textUnmarshaler && d.data[d.pos] != 'n':
		return d.callTextUnmarshaler(p.ptrTo(c.elem.typ))
	}
	return c.elemDecode(d, p)
}

// decPointer decodes into a pointer variable: null sets it to nil; any
// other value allocates it if it is nil, then goes to the pointer's
// json.Unmarshaler or encoding.TextUnmarshaler, else to what it points to.
func decPointer(d *decoder, c *codec, p addr) error {
	if d.data[d.pos] == 'n' {
		if err := d.null(); err != nil {
			return err
		}
		p.store(addr{})
		return nil
	}
	q := p.load()
	if q.isNil() {
		q = newAddr(c.elem.typ)
		p.store(q)
	}
	switch {
	case c.unmarshaler:
		return d.callUnmarshaler(q.ptrTo(c.elem.typ))
	case c.textUnmarshaler:
		return d.callTextUnmarshaler(q.ptrTo(c.elem.typ))
	}
	return c.elemDecode(d, q)
}

// decUnmarshalerAddr decodes into a variable whose address is a
// json.Unmarshaler: every value, null too, goes to UnmarshalJSON.
func decUnmarshalerAddr(d *decoder, c *codec, p addr) error {
	return d.callUnmarshaler(p.ptrTo(c.typ))
}

// decTextUnmarshalerAddr decodes into a variable whose address is an
// encoding.TextUnmarshaler: a string goes to UnmarshalText, null to the
// plan by kind, anything else is skipped.
func decTextUnmarshalerAddr(d *decoder, c *codec, p addr) error {
	if d.data[d.pos] == 'n' {
		return c.value(d, c, p)
	}
	return d.callTextUnmarshaler(p.ptrTo(c.typ))
}

// callUnmarshaler passes the raw value at d.pos to ptr's UnmarshalJSON,
// and returns its error.
func (d *decoder) callUnmarshaler(ptr reflect.Value) error {
	raw, err := d.raw()
	if err != nil {
		return err
	}
	return ptr.Interface().(json.Unmarshaler).UnmarshalJSON(raw)
}

// callTextUnmarshaler passes the unquoted string at d.pos to ptr's
// UnmarshalText and returns its error; a value that is not a string is
// skipped.
func (d *decoder) callTextUnmarshaler(ptr reflect.Value) error {
	if d.data[d.pos] != '"' {
		return d.skip()
	}
	i := d.pos
	end, flags := scanString(d.data, i+1)
	if end < 0 {
		return d.syntax(i)
	}
	d.pos = end
	s := d.data[i+1 : end-1 : end-1]
	if flags != 0 && (flags != strNonASCII || !utf8.Valid(s)) {
		s = appendUnquoted(nil, s)
	}
	return ptr.Interface().(encoding.TextUnmarshaler).UnmarshalText(s)
}

// decReadOnlyStruct decodes a tagged embedded field of an unexported
// struct (or *struct) type. encoding/json cannot call its methods nor set
// the field; it fills in the struct's fields only, through a pointer that is
// already set.
func decReadOnlyStruct(d *decoder, c *codec, p addr) error {
	if c.kind == reflect.Pointer {
		p = p.load()
		if p.isNil() {
			// encoding/json panics setting the field; skip it instead.
			return d.skip()
		}
		c = c.elem
	}
	return c.value(d, c, p)
}

func decBool(d *decoder, c *codec, p addr) error {
	var j int
	switch d.data[d.pos] {
	case 't':
		if j = scanLiteral(d.data, d.pos, "true"); j >= 0 {
			*at[bool](p) = true
		}
	case 'f':
		if j = scanLiteral(d.data, d.pos, "false"); j >= 0 {
			*at[bool](p) = false
		}
	case 'n':
		return d.null()
	default:
		return d.skip()
	}
	if j < 0 {
		return d.syntax(d.pos)
	}
	d.pos = j
	return nil
}

// number passes over the number at d.pos and returns its text, or nil if
// the value is not a number (d.pos is then unchanged).
func (d *decoder) number() ([]byte, bool, error) {
	i := d.pos
	if c := d.data[i]; c != '-' && !isDigit(c) {
		return nil, false, nil
	}
	end, isInt := scanNumber(d.data, i)
	if end < 0 {
		return nil, false, d.syntax(i)
	}
	d.pos = end
	return d.data[i:end], isInt, nil
}

// parseInt parses a JSON integer as strconv.ParseInt(s, 10, 64) does.
func parseInt(s []byte) (int64, bool) {
	neg := s[0] == '-'
	digits := s
	if neg {
		digits = s[1:]
	}
	if len(digits) > 18 {
		n, err := strconv.ParseInt(string(s), 10, 64)
		return n, err == nil
	}
	var n int64
	for _, c := range digits {
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// parseUint parses a JSON integer as strconv.ParseUint(s, 10, 64) does (a
// sign is an error).
func parseUint(s []byte) (uint64, bool) {
	if s[0] == '-' {
		return 0, false
	}
	if len(s) > 19 {
		n, err := strconv.ParseUint(string(s), 10, 64)
		return n, err == nil
	}
	var n uint64
	for _, c := range s {
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

func decInt(d *decoder, c *codec, p addr) error {
	s, isInt, err := d.number()
	if err != nil {
		return err
	}
	if s == nil {
		return d.notNumber()
	}
	if !isInt {
		return nil // encoding/json does not truncate
	}
	n, ok := parseInt(s)
	if !ok {
		return nil
	}
	if shift := 64 - c.bits; n<<shift>>shift != n {
		return nil // out of range: encoding/json leaves the value
	}
	switch c.bits {
	case 8:
		*at[int8](p) = int8(n)
	case 16:
		*at[int16](p) = int16(n)
	case 32:
		*at[int32](p) = int32(n)
	default:
		*at[int64](p) = n
	}
	return nil
}

func decUint(d *decoder, c *codec, p addr) error {
	s, isInt, err := d.number()
	if err != nil {
		return err
	}
	if s == nil {
		return d.notNumber()
	}
	if !isInt {
		return nil // encoding/json does not truncate
	}
	n, ok := parseUint(s)
	if !ok {
		return nil
	}
	if shift := 64 - c.bits; n<<shift>>shift != n {
		return nil
	}
	switch c.bits {
	case 8:
		*at[uint8](p) = uint8(n)
	case 16:
		*at[uint16](p) = uint16(n)
	case 32:
		*at[uint32](p) = uint32(n)
	default:
		*at[uint64](p) = n
	}
	return nil
}

func decFloat(d *decoder, c *codec, p addr) error {
	s, _, err := d.number()
	if err != nil {
		return err
	}
	if s == nil {
		return d.notNumber()
	}
	f, err := strconv.ParseFloat(string(s), c.bits)
	if err != nil {
		return nil
	}
	if c.bits == 32 {
		if a := math.Abs(f); math.MaxFloat32 < a && a <= math.MaxFloat64 {
			return nil
		}
		*at[float32](p) = float32(f)
		return nil
	}
	*at[float64](p) = f
	return nil
}

// notNumber handles a value that is not a number for a number variable:
// null is ignored and anything else skipped.
func (d *decoder) notNumber() error {
	if d.data[d.pos] == 'n' {
		return d.null()
	}
	return d.skip()
}

func decString(d *decoder, c *codec, p addr) error {
	switch d.data[d.pos] {
	case '"':
		s, err := d.stringBody()
		if err != nil {
			return err
		}
		*at[string](p) = string(s)
		return nil
	case 'n':
		return d.null()
	}
	return d.skip()
}

// decNumber decodes into a json.Number: a number as written, or a string
// that holds a valid number.
func decNumber(d *decoder, c *codec, p addr) error {
	switch d.data[d.pos] {
	case '"':
		start := d.pos
		s, err := d.stringBody()
		if err != nil {
			return err
		}
		if !isNumber(s) {
			return errors.New("json: invalid number literal, trying to unmarshal " + strconv.Quote(string(d.data[start:d.pos])) + " into Number")
		}
		*at[json.Number](p) = json.Number(s)
		return nil
	case 'n':
		return d.null()
	}
	s, _, err := d.number()
	if err != nil || s == nil {
		if err == nil {
			err = d.skip()
		}
		return err
	}
	*at[json.Number](p) = json.Number(s)
	return nil
}

// heldPointer returns the pointer an interface value holds if
// encoding/json decodes into what it points to rather than replacing the
// interface value: a non-nil pointer, and for null a pointer to a pointer;
// but not a pointer to an interface that holds that same pointer.
func (d *decoder) heldPointer(iv reflect.Value) (reflect.Value, bool) {
	if iv.IsNil() {
		return reflect.Value{}, false
	}
	e := iv.Elem()
	if e.Kind() != reflect.Pointer || e.IsNil() || d.data[d.pos] == 'n' && e.Elem().Kind() != reflect.Pointer {
		return reflect.Value{}, false
	}
	if pe := e.Elem(); pe.Kind() == reflect.Interface && pe.Elem().Equal(e) {
		return reflect.Value{}, false
	}
	return e, true
}

// decodeHeld decodes into the value that the pointer e, held by an
// interface, points to, as encoding/json decodes into the value a pointer
// passed to Unmarshal points to.
func (d *decoder) decodeHeld(e reflect.Value) error {
	c := codecFor(e.Type())
	if d.data[d.pos] == 'n' {
		// e points to a pointer (see heldPointer).
		if c.unmarshaler {
			return d.callUnmarshaler(e)
		}
		if err := d.null(); err != nil {
			return err
		}
		e.Elem().SetZero()
		return nil
	}
	// decPointer leaves a non-nil pointer as it is.
	ptr := addrOf(e)
	return decPointer(d, c, addrOfVar(&ptr))
}

// decAny decodes into an empty interface: null sets it to nil; anything
// else replaces it with a map[string]any, []any, string, float64 or bool.
func decAny(d *decoder, c *codec, p addr) error {
	ip := at[any](p)
	if *ip != nil {
		if e, ok := d.heldPointer(p.ptrTo(c.typ).Elem()); ok {
			return d.decodeHeld(e)
		}
	}
	switch d.data[d.pos] {
	case 'n':
		if err := d.null(); err != nil {
			return err
		}
		*ip = nil
		return nil
	case '{', '[', '"', 't', 'f':
		v, err := d.anyValue()
		if err != nil {
			return err
		}
		*ip = v
		return nil
	}
	s, _, err := d.number()
	if err != nil || s == nil {
		if err == nil {
			err = d.syntax(d.pos)
		}
		return err
	}
	if f, err := strconv.ParseFloat(string(s), 64); err == nil {
		*ip = f
	}
	return nil
}

// decInterface decodes into an interface with methods: only null fits it.
func decInterface(d *decoder, c *codec, p addr) error {
	v := p.ptrTo(c.typ).Elem()
	if e, ok := d.heldPointer(v); ok {
		return d.decodeHeld(e)
	}
	if d.data[d.pos] == 'n' {
		if err := d.null(); err != nil {
			return err
		}
		v.SetZero()
		return nil
	}
	return d.skip()
}

// anyValue decodes the value at d.pos the way encoding/json fills an empty
// interface; a number that does not fit a float64 is nil.
func (d *decoder) anyValue() (any, error) {
	switch d.data[d.pos] {
	case '{':
		m := make(map[string]any)
		return m, d.fillMapAny(m)
	case '[':
		a := make([]any, 0)
		more, err := d.first(']')
		for more && err == nil {
			var v any
			if v, err = d.anyValue(); err == nil {
				a = append(a, v)
				more, err = d.next(']')
			}
		}
		return a, err
	case '"':
		s, err := d.stringBody()
		return string(s), err
	case 't':
		return true, d.literal("true")
	case 'f':
		return false, d.literal("false")
	case 'n':
		return nil, d.null()
	}
	s, _, err := d.number()
	if err != nil || s == nil {
		if err == nil {
			err = d.syntax(d.pos)
		}
		return nil, err
	}
	f, err := strconv.ParseFloat(string(s), 64)
	if err != nil {
		return nil, nil
	}
	return f, nil
}

// literal passes over lit at d.pos.
func (d *decoder) literal(lit string) error {
	j := scanLiteral(d.data, d.pos, lit)
	if j < 0 {
		return d.syntax(d.pos)
	}
	d.pos = j
	return nil
}

// fillMapAny decodes the object at d.pos into m, as generic values.
func (d *decoder) fillMapAny(m map[string]any) error {
	more, err := d.first('}')
	for more && err == nil {
		var k string
		if k, err = d.keyString(); err != nil {
			break
		}
		var v any
		if v, err = d.anyValue(); err != nil {
			break
		}
		m[k] = v
		more, err = d.next('}')
	}
	return err
}

// decMapAny decodes into a map[string]any, filling the map it holds, if
// any.
func decMapAny(d *decoder, c *codec, p addr) error {
	mp := at[map[string]any](p)
	switch d.data[d.pos] {
	case '{':
		if *mp == nil {
			*mp = make(map[string]any)
		}
		return d.fillMapAny(*mp)
	case 'n':
		if err := d.null(); err != nil {
			return err
		}
		*mp = nil
		return nil
	}
	return d.skip()
}

// decMap decodes into a map with string or integer keys, filling the map
// it holds, if any. Each member is decoded into a zero element (a key that
// does not parse as the key type is not stored).
func decMap(d *decoder, c *codec, p addr) error {
	mv := p.ptrTo(c.typ).Elem()
	switch d.data[d.pos] {
	case '{':
	case 'n':
		if err := d.null(); err != nil {
			return err
		}
		mv.SetZero()
		return nil
	default:
		return d.skip()
	}
	if mv.IsNil() {
		mv.Set(reflect.MakeMap(c.typ))
	}
	kt := c.typ.Key()
	ev := reflect.New(c.elem.typ).Elem()
	ep := addrOf(ev.Addr())
	used := false
	more, err := d.first('}')
	for more && err == nil {
		var k string
		if k, err = d.keyString(); err != nil {
			break
		}
		kv, ok := mapKey(kt, k)
		if used {
			ev.SetZero()
		}
		used = true
		if err = c.elem.slot(d, c.elem, ep); err != nil {
			break
		}
		if ok {
			mv.SetMapIndex(kv, ev)
		}
		more, err = d.next('}')
	}
	return err
}

// mapKey converts the member key k to the map key type kt, as
// encoding/json does, or reports that it does not fit.
func mapKey(kt reflect.Type, k string) (reflect.Value, bool) {
	kv := reflect.New(kt).Elem()
	switch kt.Kind() {
	case reflect.String:
		kv.SetString(k)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(k, 10, 64)
		if err != nil || kv.OverflowInt(n) {
			return kv, false
		}
		kv.SetInt(n)
	default:
		n, err := strconv.ParseUint(k, 10, 64)
		if err != nil || kv.OverflowUint(n) {
			return kv, false
		}
		kv.SetUint(n)
	}
	return kv, true
}

// decStruct decodes an object into a struct, member by member into the
// fields they name (the last of duplicate members wins, into the value
// the field holds); other members are skipped.
func decStruct(d *decoder, c *codec, p addr) error {
	switch d.data[d.pos] {
	case '{':
	case 'n':
		return d.null()
	default:
		return d.skip()
	}
	fields := c.fields
	more, err := d.first('}')
	for more && err == nil {
		var k []byte
		var ascii bool
		if k, ascii, err = d.key(); err != nil {
			break
		}
		if f := fields.lookup(k, ascii); f == nil {
			err = d.skip()
		} else if fp := f.locate(p); fp.isNil() {
			err = d.skip()
		} else {
			err = f.dec(d, f.codec, fp)
		}
		if err == nil {
			more, err = d.next('}')
		}
	}
	return err
}

// locate returns the address of f in the struct at p, allocating the
// embedded structs on the way; nil if one of them cannot be allocated.
func (f *field) locate(p addr) addr {
	for _, h := range f.hops {
		pp := p.offset(h.offset)
		q := pp.load()
		if q.isNil() {
			if h.unexported {
				return addr{}
			}
			q = newAddr(h.elem)
			pp.store(q)
		}
		p = q
	}
	return p.offset(f.offset)
}

// decSlice decodes an array into a slice as encoding/json does: elements
// are decoded into the slice's backing array (into what it holds up to its
// capacity), the slice grows as needed and is cut to the array's length;
// an empty array gives an empty, non-nil slice.
func decSlice(d *decoder, c *codec, p addr) error {
	sv := p.ptrTo(c.typ).Elem()
	switch d.data[d.pos] {
	case '[':
	case 'n':
		if err := d.null(); err != nil {
			return err
		}
		sv.SetZero()
		return nil
	default:
		return d.skip()
	}
	e := c.elem
	size := e.typ.Size()
	n, length, capacity := 0, sv.Len(), sv.Cap()
	more, err := d.first(']')
	for more && err == nil {
		if n >= capacity {
			sv.Grow(1)
			capacity = sv.Cap()
		}
		if n >= length {
			length = n + 1
			sv.SetLen(length)
		}
		if err = e.slot(d, e, addrOf(sv).offset(uintptr(n)*size)); err != nil {
			break
		}
		n++
		more, err = d.next(']')
	}
	if err != nil {
		return err
	}
	if n < length {
		sv.SetLen(n)
	}
	if n == 0 {
		sv.Set(reflect.MakeSlice(c.typ, 0, 0))
	}
	return nil
}

// decBytes decodes into a slice of bytes: a string is base64 (a string
// that is not leaves the value as it was), an array is decoded as for
// any slice.
func decBytes(d *decoder, c *codec, p addr) error {
	if d.data[d.pos] != '"' {
		return decSlice(d, c, p)
	}
	s, err := d.stringBody()
	if err != nil {
		return err
	}
	b := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(b, s)
	if err != nil {
		return nil
	}
	*at[[]byte](p) = b[:n]
	return nil
}

// decArray decodes an array into a Go array: extra elements are skipped,
// missing ones set to zero.
func decArray(d *decoder, c *codec, p addr) error {
	switch d.data[d.pos] {
	case '[':
	case 'n':
		return d.null()
	default:
		return d.skip()
	}
	e := c.elem
	size := e.typ.Size()
	n := 0
	more, err := d.first(']')
	for more && err == nil {
		if n < c.length {
			err = e.slot(d, e, p.offset(uintptr(n)*size))
		} else {
			err = d.skip()
		}
		if err != nil {
			break
		}
		n++
		more, err = d.next(']')
	}
	if err != nil {
		return err
	}
	for ; n < c.length; n++ {
		p.offset(uintptr(n) * size).ptrTo(e.typ).Elem().SetZero()
	}
	return nil
}

// decOther decodes into a type that no JSON value fits (complex, chan,
// func, unsafe.Pointer): everything is skipped.
func decOther(d *decoder, c *codec, p addr) error {
	return d.skip()
}

// decFallback decodes into a type this package has no plan for with
// encoding/json, as a field of a struct so that the value is treated as a
// struct field is. A second field, after it, tells whether encoding/json
// finished (after a type error, or another error it records and goes on
// after, as Unmarshal goes on) or stopped at an error it returns at once.
func decFallback(d *decoder, c *codec, p addr) error {
	raw, err := d.raw()
	if err != nil {
		return err
	}
	v := p.ptrTo(c.typ).Elem()
	w := reflect.New(c.wrapper).Elem()
	w.Field(0).Set(v)
	in := make([]byte, 0, len(raw)+16)
	in = append(append(append(in, `{"v":`...), raw...), `,"w":true}`...)
	err = json.Unmarshal(in, w.Addr().Interface())
	v.Set(w.Field(0))
	if err != nil && !w.Field(1).Bool() {
		return err
	}
	return nil
}
