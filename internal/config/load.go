package config

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Options tunes loading. The zero value reads the process environment and
// the file system, and accepts any provider id.
type Options struct {
	// Providers reports whether a provider id is known (the forge registry); nil accepts any.
	Providers func(id string) bool
	// Getenv looks up ${VAR} values; nil means os.LookupEnv.
	Getenv func(string) (string, bool)
	// ReadFile reads *_file secrets; nil means os.ReadFile.
	ReadFile func(string) ([]byte, error)
	// Check, when set, runs more checks on the decoded configuration (such
	// as compiling the triggers' expressions and actions); it runs even
	// when the file has other problems, so that every problem is reported
	// at once, and its Errors join the others.
	Check func(c *Config) Errors
}

// withDefaults returns o with its nil functions replaced by the defaults.
func (o Options) withDefaults() Options {
	if o.Providers == nil {
		o.Providers = func(string) bool { return true }
	}
	if o.Getenv == nil {
		o.Getenv = os.LookupEnv
	}
	if o.ReadFile == nil {
		o.ReadFile = os.ReadFile
	}
	return o
}

// FieldError is one problem in a configuration: where it is and what is
// wrong. Msg never contains the value of a secret.
type FieldError struct {
	// File is the configuration's path as given to Load or Parse.
	File string
	// Line is the 1-based line of the problem, 0 when unknown.
	Line int
	// Field is the path of the field, such as "endpoints[1].secrets[0]";
	// empty for a problem of the whole file, such as a syntax error.
	Field string
	// Msg says what is wrong.
	Msg string
}

// Error formats e as "file:line: field: message", leaving out the parts
// that are unknown.
func (e FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		if e.File != "" {
			b.WriteByte(':')
		} else {
			b.WriteString("line ")
		}
		b.WriteString(strconv.Itoa(e.Line))
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a configuration, in line order; each is
// "file:line: path.to.field: message". Load, Parse and Validate return a
// non-empty Errors or a nil error.
type Errors []FieldError

// Error joins the problems with newlines.
func (e Errors) Error() string {
	lines := make([]string, len(e))
	for i, fe := range e {
		lines[i] = fe.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns each problem as an error, for errors.As.
func (e Errors) Unwrap() []error {
	errs := make([]error, len(e))
	for i, fe := range e {
		errs[i] = fe
	}
	return errs
}

// sorted returns e sorted by line, keeping the order of problems on the same
// line, without exact repeats (an aliased node is decoded at each use), or
// nil when e is empty.
func (e Errors) sorted() error {
	if len(e) == 0 {
		return nil
	}
	slices.SortStableFunc(e, func(a, b FieldError) int { return a.Line - b.Line })
	return slices.Compact(e)
}

// Load reads the configuration file at path and parses it with Parse. A
// file that cannot be read is returned as an error wrapping the cause (so
// errors.Is(err, fs.ErrNotExist) tells a missing file); problems in the
// file are returned as Errors.
func Load(path string, opts Options) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data, opts)
}

// Parse decodes a configuration from data, read from file (used in
// messages and kept in Config.File). It expands ${VAR} references, reads
// *_file secrets, applies the defaults and validates the result. On any
// problem it returns a nil Config and Errors listing every problem found,
// in line order.
func Parse(file string, data []byte, opts Options) (*Config, error) {
	opts = opts.withDefaults()
	d := newDecoder(file, opts)
	root, fe := parseYAML(file, data)
	if fe != nil {
		return nil, Errors{*fe}
	}
	c := &Config{File: file}
	if root != nil {
		d.decode(root, "", reflect.ValueOf(c).Elem())
	}
	for i := range c.Endpoints {
		c.Endpoints[i].Line = d.lines[fmt.Sprintf("endpoints[%d]", i)]
	}
	for i := range c.Triggers {
		c.Triggers[i].Line = d.lines[fmt.Sprintf("triggers[%d]", i)]
	}
	if d.tooBig {
		return nil, d.errs.sorted()
	}
	d.resolveFiles(c)
	c.lines = d.lines
	c.ApplyDefaults()
	v := &validator{c: c, opts: opts, lines: d.lines, skip: d.bad}
	v.run()
	all := append(d.errs, v.errs...)
	if opts.Check != nil {
		all = append(all, opts.Check(c)...)
	}
	if err := all.sorted(); err != nil {
		return nil, err
	}
	return c, nil
}

// Validate checks a configuration that has its defaults applied and its
// *_file secrets read, such as one built in code, and returns Errors
// listing every problem, or nil. Lines come from Endpoint.Line and
// Trigger.Line. Parse validates already; a Config it returned, with
// ApplyDefaults applied again, validates clean.
func (c *Config) Validate(opts Options) error {
	lines := map[string]int{}
	for i, ep := range c.Endpoints {
		lines[fmt.Sprintf("endpoints[%d]", i)] = ep.Line
	}
	for i, t := range c.Triggers {
		lines[fmt.Sprintf("triggers[%d]", i)] = t.Line
	}
	if c.lines == nil {
		c.lines = lines
	}
	v := &validator{c: c, opts: opts.withDefaults(), lines: lines}
	v.run()
	return v.errs.sorted()
}

// Line returns the line in the file of the field at path (such as
// "triggers[2].http.url"), or of its nearest ancestor that has one, or 0:
// for problems found after loading, such as an action that cannot be
// built.
func (c *Config) Line(path string) int {
	if l := lineOf(c.lines, path); l > 0 {
		return l
	}
	var i int
	if _, err := fmt.Sscanf(path, "triggers[%d]", &i); err == nil && i >= 0 && i < len(c.Triggers) {
		return c.Triggers[i].Line
	}
	return 0
}

// DecodeBlock decodes one YAML block (an action's or a retry policy's,
// as written under a trigger) into out, a pointer to a struct of this
// package, with the strictness, ${VAR} expansion and messages of the
// whole file, and applies its defaults when it has an ApplyDefaults
// method. Its errors are Errors whose fields start at path. It is for
// tools and tests that build one block on its own.
func DecodeBlock(path string, yamlText []byte, out any, opts Options) error {
	opts = opts.withDefaults()
	d := newDecoder("", opts)
	root, fe := parseYAML("", yamlText)
	if fe != nil {
		return Errors{*fe}
	}
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("config: DecodeBlock needs a pointer to a struct, got %T", out)
	}
	if root != nil {
		d.decode(root, path, v.Elem())
	}
	if h, ok := out.(*HTTPAction); ok && h.SecretFile != "" {
		d.secretFile(&h.Secret, h.SecretFile, path+".secret")
	}
	if ad, ok := out.(interface{ ApplyDefaults() }); ok {
		ad.ApplyDefaults()
	}
	val := &validator{c: &Config{}, opts: opts, lines: d.lines, skip: d.bad}
	switch b := out.(type) {
	case *HTTPAction:
		val.httpAction(path, b)
	case *ExecAction:
		val.execAction(path, b)
	case *NATSAction:
		val.natsAction(path, b)
	case *LogAction:
		val.logAction(path, b)
	case *Retry:
		val.retry(path, b)
	}
	return append(d.errs, val.errs...).sorted()
}
