package config

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/forgehook/forgehook/internal/redact"
	"go.yaml.in/yaml/v3"
)

// redactedValue replaces every secret in Redacted's output.
const redactedValue = "<secret>"

// Redacted returns the configuration as YAML, for `forgehook config check
// --print`: every Secret is shown as "<secret>", as are the values of keys
// that look like credentials (secret, token, password, authorization, ...)
// in the free-form trigger blocks, and the credentials of URLs (user
// information, query values and fragment: redact.URL). Unset and zero
// fields are left out; call it after ApplyDefaults to show the effective
// configuration.
func (c *Config) Redacted() ([]byte, error) {
	n, _ := structNode(reflect.ValueOf(c).Elem())
	if n == nil {
		n = &yaml.Node{Kind: yaml.MappingNode}
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, fmt.Errorf("config: redacted: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("config: redacted: %w", err)
	}
	return buf.Bytes(), nil
}

// str returns a string scalar node.
func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

// structNode renders a struct as a mapping of its non-zero fields, or nil
// when every field is zero.
func structNode(v reflect.Value) (*yaml.Node, bool) {
	t := v.Type()
	m := &yaml.Node{Kind: yaml.MappingNode}
	for i := range t.NumField() {
		f := t.Field(i)
		key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || key == "-" || key == "" {
			continue
		}
		val := valueNode(v.Field(i), false)
		if val == nil {
			continue
		}
		switch {
		case (t == reflect.TypeFor[Store]() || t == reflect.TypeFor[NATSAction]()) && key == "url":
			val = str(redact.URLs(val.Value))
		case t == reflect.TypeFor[HTTPAction]() && key == "url":
			val = str(redact.URL(val.Value))
		}
		m.Content = append(m.Content, str(key), val)
	}
	if len(m.Content) == 0 {
		return nil, false
	}
	return m, true
}

// valueNode renders one field; it returns nil for a zero value unless
// keepZero (list items are always shown).
func valueNode(v reflect.Value, keepZero bool) *yaml.Node {
	if !keepZero && v.IsZero() && v.Kind() != reflect.Map && v.Kind() != reflect.Pointer {
		return nil
	}
	switch t := v.Type(); {
	case t == secretType:
		if v.String() == "" {
			return str("")
		}
		return str(redactedValue)
	case t == durationType:
		return &yaml.Node{Kind: yaml.ScalarNode, Value: Duration(v.Int()).String()}
	case t == byteSizeType:
		return &yaml.Node{Kind: yaml.ScalarNode, Value: ByteSize(v.Int()).String()}
	}
	switch v.Kind() {
	case reflect.String:
		return str(v.String())
	case reflect.Bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Value: strconv.FormatBool(v.Bool())}
	case reflect.Int:
		return &yaml.Node{Kind: yaml.ScalarNode, Value: strconv.FormatInt(v.Int(), 10)}
	case reflect.Float64:
		return &yaml.Node{Kind: yaml.ScalarNode, Value: strconv.FormatFloat(v.Float(), 'g', -1, 64)}
	case reflect.Slice:
		if v.Len() == 0 {
			return nil
		}
		s := &yaml.Node{Kind: yaml.SequenceNode}
		for i := range v.Len() {
			s.Content = append(s.Content, valueNode(v.Index(i), true))
		}
		return s
	case reflect.Struct:
		n, _ := structNode(v)
		if n == nil && keepZero {
			n = &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
		}
		return n
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		if v.Elem().Kind() != reflect.Struct {
			return valueNode(v.Elem(), true)
		}
		n, _ := structNode(v.Elem())
		if n == nil {
			n = &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
		}
		return n
	case reflect.Map:
		if v.Len() == 0 {
			return nil
		}
		m := &yaml.Node{Kind: yaml.MappingNode}
		keys := make([]string, 0, v.Len())
		for _, k := range v.MapKeys() {
			keys = append(keys, k.String())
		}
		slices.Sort(keys)
		for _, k := range keys {
			m.Content = append(m.Content, str(k), valueNode(v.MapIndex(reflect.ValueOf(k).Convert(v.Type().Key())), true))
		}
		return m
	}
	panic(fmt.Sprintf("config: cannot render %s", v.Type()))
}

// SensitiveKey reports whether a name (a query parameter's, an exec
// action's env variable's) suggests a credential, whose value is then
// masked.
func SensitiveKey(k string) bool {
	k = strings.ToLower(k)
	for _, s := range []string{"secret", "token", "password", "passwd", "authorization", "credential", "api_key", "api-key", "apikey", "private_key", "cookie"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}
