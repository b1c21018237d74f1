package config

import (
	"errors"
	"fmt"
	"strings"
)

// errBadReference is returned for a "${" that does not form a reference.
var errBadReference = errors.New(`malformed ${...} reference (write ${NAME} or ${NAME:-default}; $$ is a literal $)`)

// unsetError reports a referenced environment variable that is not set.
type unsetError struct{ name string }

func (e *unsetError) Error() string {
	return fmt.Sprintf("environment variable %s is not set (use ${%s:-default} for a fallback)", e.name, e.name)
}

// expandEnv replaces ${NAME} and ${NAME:-default} in s with values from
// getenv. "$$" is a literal "$" (so "$${NAME}" is the literal "${NAME}"); a
// "$" followed by anything else is kept as it is. ${NAME:-default} yields
// default when NAME is unset or empty; default is literal text up to the
// first "}". An unset NAME without a default is an *unsetError naming the
// variable. Errors never contain s or any variable's value.
func expandEnv(s string, getenv func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c != '$' || i+1 == len(s) {
			b.WriteByte(c)
			i++
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i += 2
		case '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", errBadReference
			}
			ref := s[i+2 : i+2+end]
			name, def, hasDef := strings.Cut(ref, ":-")
			if !validEnvName(name) {
				return "", errBadReference
			}
			v, ok := getenv(name)
			switch {
			case hasDef && v == "":
				v = def
			case !ok:
				return "", &unsetError{name: name}
			}
			b.WriteString(v)
			i += 2 + end + 1
		default:
			b.WriteByte('$')
			i++
		}
	}
	return b.String(), nil
}

// validEnvName reports whether name is a shell variable name:
// [A-Za-z_][A-Za-z0-9_]*.
func validEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
