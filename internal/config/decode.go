package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxNodes bounds the nodes visited while decoding, counting every use of
// an alias, so that a small document cannot expand into an enormous one
// ("billion laughs"). A large real configuration has a few thousand.
const maxNodes = 100_000

// The types the decoder treats specially.
var (
	secretType   = reflect.TypeFor[Secret]()
	durationType = reflect.TypeFor[Duration]()
	byteSizeType = reflect.TypeFor[ByteSize]()
)

// decoder turns a YAML node tree into a Config. It records the line of
// every path it decodes and collects every problem instead of stopping at
// the first. A decoder is used for one Parse.
type decoder struct {
	file    string
	getenv  func(string) (string, bool)
	read    func(string) ([]byte, error)
	errs    Errors
	lines   map[string]int            // path -> line of its key or list item
	bad     map[string]bool           // paths with a decode error
	active  map[*yaml.Node]bool       // anchors being expanded, to catch cycles
	visited int                       // nodes visited, bounded by maxNodes
	tooBig  bool                      // maxNodes was exceeded
	fields  map[reflect.Type]fieldMap // per struct type: YAML key -> field index
}

// fieldMap maps a struct's YAML keys to field indexes, keeping the keys in
// declaration order for suggestions.
type fieldMap struct {
	index map[string]int
	keys  []string
}

func newDecoder(file string, opts Options) *decoder {
	d := &decoder{
		file:   file,
		getenv: opts.Getenv,
		read:   opts.ReadFile,
		lines:  map[string]int{},
		bad:    map[string]bool{},
		active: map[*yaml.Node]bool{},
		fields: map[reflect.Type]fieldMap{},
	}
	return d
}

// errorf records a problem at line for path, and marks path as bad so that
// validation does not report it a second time.
func (d *decoder) errorf(line int, path, format string, args ...any) {
	d.bad[path] = true
	d.report(line, path, format, args...)
}

// report records a problem at line for path without marking path as bad:
// for a problem beside the value, such as a repeated key, that leaves the
// value itself to be validated.
func (d *decoder) report(line int, path, format string, args ...any) {
	d.errs = append(d.errs, FieldError{File: d.file, Line: line, Field: path, Msg: fmt.Sprintf(format, args...)})
}

// yamlLine matches the location in go.yaml.in/yaml/v3's syntax errors.
var yamlLine = regexp.MustCompile(`^yaml: line ([0-9]+): (.*)$`)

// parseYAML parses data as one YAML document. It returns nil for an empty
// document. A syntax error is returned as a FieldError with its line.
func parseYAML(file string, data []byte) (root *yaml.Node, fe *FieldError) {
	defer func() {
		// The parser reports problems by panicking internally and
		// recovering; should a panic escape it, report it as a problem of
		// the input rather than crash a reload.
		if r := recover(); r != nil {
			root, fe = nil, &FieldError{File: file, Msg: fmt.Sprintf("cannot parse YAML: %v", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, syntaxError(file, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, syntaxError(file, err)
	case !isEmptyDocument(&extra):
		return nil, &FieldError{File: file, Line: extra.Line, Msg: "only one YAML document is allowed"}
	}
	if isEmptyDocument(&doc) {
		return nil, nil
	}
	return doc.Content[0], nil
}

// isEmptyDocument reports whether a document node holds nothing but null.
func isEmptyDocument(doc *yaml.Node) bool {
	if len(doc.Content) == 0 {
		return true
	}
	n := doc.Content[0]
	return len(doc.Content) == 1 && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" && n.Anchor == ""
}

// syntaxError converts a parser error into a FieldError with its line.
func syntaxError(file string, err error) *FieldError {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &FieldError{File: file, Line: line, Msg: "syntax error: " + m[2]}
	}
	return &FieldError{File: file, Msg: "syntax error: " + strings.TrimPrefix(msg, "yaml: ")}
}

// deref follows an alias to its anchored node and guards against an
// anchored node that contains an alias to itself. It returns the node to
// decode and a function to call when done with it, or nil (after recording
// the problem) when the node must be skipped.
func (d *decoder) deref(n *yaml.Node, path string) (*yaml.Node, func()) {
	if d.tooBig {
		return nil, nil
	}
	d.visited++
	if d.visited > maxNodes {
		d.tooBig = true
		d.errorf(n.Line, path, "document too large: more than %d values, counting each use of an alias", maxNodes)
		return nil, nil
	}
	target := n
	if n.Kind == yaml.AliasNode {
		target = n.Alias
		if target == nil {
			d.errorf(n.Line, path, "unknown anchor %q", n.Value)
			return nil, nil
		}
	}
	if target.Anchor == "" {
		return target, func() {}
	}
	if d.active[target] {
		d.errorf(n.Line, path, "anchor %q contains itself", target.Anchor)
		return nil, nil
	}
	d.active[target] = true
	return target, func() { delete(d.active, target) }
}

// knownTag reports whether a node's tag is one the loader understands.
func knownTag(n *yaml.Node) bool {
	switch n.ShortTag() {
	case "!!str", "!!int", "!!float", "!!bool", "!!null", "!!timestamp", "!!map", "!!seq", "!!merge":
		return true
	}
	return false
}

// isNull reports whether n is a null scalar ("~", "null" or nothing).
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// scalar returns the value of a scalar node with ${VAR} references
// expanded, or false after recording why it cannot.
func (d *decoder) scalar(n *yaml.Node, path, want string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n.Line, path, "expected %s, got %s", want, kindName(n))
		return "", false
	}
	v, err := expandEnv(n.Value, d.getenv)
	if err != nil {
		d.errorf(n.Line, path, "%v", err)
		return "", false
	}
	return v, true
}

// decode decodes n into v, the value at path.
func (d *decoder) decode(n *yaml.Node, path string, v reflect.Value) {
	n, done := d.deref(n, path)
	if n == nil {
		return
	}
	defer done()
	if !knownTag(n) {
		d.errorf(n.Line, path, "unsupported tag %s", n.Tag)
		return
	}
	t := v.Type()
	null := isNull(n)
	switch {
	case t == secretType:
		if null {
			return
		}
		// Never quote the value: it is a credential.
		if s, ok := d.scalar(n, path, "a string"); ok {
			v.SetString(s)
		}
	case t == durationType:
		if null {
			return
		}
		if s, ok := d.scalar(n, path, "a duration"); ok {
			dur, err := ParseDuration(s)
			if err != nil {
				d.errorf(n.Line, path, "%v", err)
				return
			}
			v.SetInt(int64(dur))
		}
	case t == byteSizeType:
		if null {
			return
		}
		if s, ok := d.scalar(n, path, "a size"); ok {
			size, err := ParseByteSize(s)
			if err != nil {
				d.errorf(n.Line, path, "%v", err)
				return
			}
			v.SetInt(int64(size))
		}
	case t.Kind() == reflect.String:
		if null {
			return
		}
		if s, ok := d.scalar(n, path, "a string"); ok {
			v.SetString(s)
		}
	case t.Kind() == reflect.Bool:
		if null {
			return
		}
		if s, ok := d.scalar(n, path, "true or false"); ok {
			switch s {
			case "true", "True", "TRUE":
				v.SetBool(true)
			case "false", "False", "FALSE":
				v.SetBool(false)
			default:
				d.errorf(n.Line, path, "expected true or false, got %q", s)
			}
		}
	case t.Kind() == reflect.Int:
		if null {
			return
		}
		if s, ok := d.scalar(n, path, "an integer"); ok {
			i, err := strconv.ParseInt(strings.TrimSpace(s), 10, 0)
			if err != nil {
				d.errorf(n.Line, path, "expected an integer, got %q", s)
				return
			}
			v.SetInt(i)
		}
	case t.Kind() == reflect.Float64:
		if null {
			return
		}
		if s, ok := d.scalar(n, path, "a number"); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				d.errorf(n.Line, path, "expected a number, got %q", s)
				return
			}
			v.SetFloat(f)
		}
	case t.Kind() == reflect.Slice:
		if null {
			return
		}
		if n.Kind != yaml.SequenceNode {
			d.errorf(n.Line, path, "expected a list, got %s", kindName(n))
			return
		}
		s := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, item := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			d.lines[p] = item.Line
			d.decode(item, p, s.Index(i))
		}
		v.Set(s)
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Bool:
		// An optional boolean: nil when the key is absent or null.
		if null {
			return
		}
		p := reflect.New(t.Elem())
		d.decode(n, path, p.Elem())
		v.Set(p)
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct:
		// A key that is present makes the block present, even when empty.
		p := reflect.New(t.Elem())
		if !null {
			d.decodeStruct(n, path, p.Elem())
		}
		v.Set(p)
	case t.Kind() == reflect.Struct:
		if null {
			return
		}
		d.decodeStruct(n, path, v)
	case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String:
		if null {
			return
		}
		if n.Kind != yaml.MappingNode {
			d.errorf(n.Line, path, "expected a mapping, got %s", kindName(n))
			return
		}
		m := reflect.MakeMap(t)
		for _, kv := range d.pairs(n, path) {
			p := join(path, kv[0].Value)
			d.lines[p] = kv[0].Line
			if isNull(kv[1]) {
				d.errorf(kv[1].Line, p, "needs a value (write \"\" for an empty one)")
				continue
			}
			e := reflect.New(t.Elem()).Elem()
			d.decode(kv[1], p, e)
			m.SetMapIndex(reflect.ValueOf(kv[0].Value).Convert(t.Key()), e)
		}
		v.Set(m)
	default:
		panic(fmt.Sprintf("config: decoder cannot handle %s at %s", t, path))
	}
}

// fieldsOf returns the YAML keys of a struct type.
func (d *decoder) fieldsOf(t reflect.Type) fieldMap {
	if fm, ok := d.fields[t]; ok {
		return fm
	}
	fm := fieldMap{index: map[string]int{}}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" || name == "" {
			continue
		}
		fm.index[name] = i
		fm.keys = append(fm.keys, name)
	}
	d.fields[t] = fm
	return fm
}

// decodeStruct decodes a mapping into the struct v: every key must name a
// field.
func (d *decoder) decodeStruct(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, path, "expected a mapping, got %s", kindName(n))
		return
	}
	fm := d.fieldsOf(v.Type())
	for _, kv := range d.pairs(n, path) {
		key, val := kv[0], kv[1]
		p := join(path, key.Value)
		i, ok := fm.index[key.Value]
		if !ok {
			msg := "unknown key"
			if s := suggest(key.Value, fm.keys); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			d.errorf(key.Line, p, "%s", msg)
			continue
		}
		d.lines[p] = key.Line
		d.decode(val, p, v.Field(i))
	}
}

// pairs returns the key/value pairs of a mapping, with "<<" merge keys
// resolved (explicit keys win, then earlier merged mappings), reporting
// duplicate and non-string keys.
func (d *decoder) pairs(n *yaml.Node, path string) [][2]*yaml.Node {
	var out, merged [][2]*yaml.Node
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		if key.Kind == yaml.ScalarNode && key.Value == "<<" && (key.ShortTag() == "!!merge") {
			merged = append(merged, d.mergeSources(val, path)...)
			continue
		}
		if key.Kind != yaml.ScalarNode || (key.ShortTag() != "!!str" && key.ShortTag() != "!!int" && key.ShortTag() != "!!bool" && key.ShortTag() != "!!float") {
			d.errorf(key.Line, path, "keys must be plain strings, got %s", kindName(key))
			continue
		}
		if first, dup := seen[key.Value]; dup {
			d.report(key.Line, join(path, key.Value), "duplicate key (first at line %d)", first)
			continue
		}
		seen[key.Value] = key.Line
		out = append(out, [2]*yaml.Node{key, val})
	}
	for _, kv := range merged {
		if _, dup := seen[kv[0].Value]; dup {
			continue
		}
		seen[kv[0].Value] = kv[0].Line
		out = append(out, kv)
	}
	return out
}

// mergeSources returns the pairs that a "<<" value contributes: one
// mapping, or a list of mappings where earlier ones win.
func (d *decoder) mergeSources(val *yaml.Node, path string) [][2]*yaml.Node {
	val, done := d.deref(val, path)
	if val == nil {
		return nil
	}
	defer done()
	switch val.Kind {
	case yaml.MappingNode:
		return d.pairs(val, path)
	case yaml.SequenceNode:
		var out [][2]*yaml.Node
		for _, item := range val.Content {
			m, done := d.deref(item, path)
			if m == nil {
				continue
			}
			if m.Kind != yaml.MappingNode {
				d.errorf(item.Line, path, "<< needs a mapping or a list of mappings, got a list of %s", kindName(m))
				done()
				continue
			}
			out = append(out, d.pairs(m, path)...)
			done()
		}
		return out
	}
	d.errorf(val.Line, path, "<< needs a mapping or a list of mappings, got %s", kindName(val))
	return nil
}

// join appends a key to a path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// resolveFiles reads every *_file secret into its field.
func (d *decoder) resolveFiles(c *Config) {
	d.secretFile(&c.Admin.Token, c.Admin.TokenFile, "admin.token")
	d.secretFile(&c.Store.Token, c.Store.TokenFile, "store.token")
	for i := range c.Endpoints {
		ep := &c.Endpoints[i]
		p := fmt.Sprintf("endpoints[%d]", i)
		d.secretFile(&ep.Key, ep.KeyFile, p+".key")
		for j, f := range ep.SecretFiles {
			fp := fmt.Sprintf("%s.secrets_file[%d]", p, j)
			if f == "" {
				d.errorf(d.lines[fp], fp, "empty path")
				continue
			}
			if s, ok := d.readSecret(f, fp); ok {
				ep.Secrets = append(ep.Secrets, s)
			}
		}
		if m := ep.Manage; m != nil {
			d.secretFile(&m.Token, m.TokenFile, p+".manage.token")
		}
		if r := ep.Recover; r != nil {
			d.secretFile(&r.Token, r.TokenFile, p+".recover.token")
		}
	}
	for i := range c.Triggers {
		if h := c.Triggers[i].HTTP; h != nil {
			d.secretFile(&h.Secret, h.SecretFile, fmt.Sprintf("triggers[%d].http.secret", i))
		}
	}
}

// secretFile fills *dst, the secret at path, from the file named by the
// sibling key path+"_file", if set.
func (d *decoder) secretFile(dst *Secret, file, path string) {
	if file == "" {
		return
	}
	fp := path + "_file"
	if *dst != "" {
		key := path[strings.LastIndexByte(path, '.')+1:]
		d.errorf(d.lines[fp], fp, "set either %s or %s_file, not both", key, key)
		return
	}
	if s, ok := d.readSecret(file, fp); ok {
		*dst = s
	}
}

// readSecret reads a secret file, trimming trailing newlines. Errors name
// the file, never its content.
func (d *decoder) readSecret(file, path string) (Secret, bool) {
	b, err := d.read(file)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		d.errorf(d.lines[path], path, "cannot read %q: %v", file, err)
		return "", false
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		d.errorf(d.lines[path], path, "%q is empty", file)
		return "", false
	}
	return Secret(s), true
}

// suggest returns the candidate closest to key, if it is close enough to be
// a likely typo: within two edits, else sharing a prefix of four or more
// characters ("retries" for "retry").
func suggest(key string, candidates []string) string {
	key = strings.ToLower(key)
	best, bestDist := "", 3
	for _, c := range candidates {
		if dist := editDistance(key, c); dist < bestDist {
			best, bestDist = c, dist
		}
	}
	if best != "" {
		return best
	}
	bestPrefix := 3
	for _, c := range candidates {
		n := 0
		for n < len(key) && n < len(c) && key[n] == c[n] {
			n++
		}
		if n > bestPrefix {
			best, bestPrefix = c, n
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return math.MaxInt
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
