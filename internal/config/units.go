package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ParseDuration parses a duration written as Go's time.ParseDuration accepts
// ("30s", "1h30m", "72h") or with a leading day count ("7d", "1d12h"); a day
// is 24 hours. A bare number other than "0" is an error: the unit is required.
func ParseDuration(s string) (Duration, error) {
	in := strings.TrimSpace(s)
	bad := func() (Duration, error) {
		return 0, fmt.Errorf("invalid duration %q (write a number and a unit: 30s, 5m, 72h, 7d)", s)
	}
	rest := in
	neg := false
	if rest != "" && (rest[0] == '-' || rest[0] == '+') {
		neg = rest[0] == '-'
		rest = rest[1:]
	}
	if rest == "" {
		return bad()
	}
	// A leading "<number>d" is a day count; what follows is Go syntax.
	var days time.Duration
	i := 0
	for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
		i++
	}
	if i > 0 && i < len(rest) && rest[i] == 'd' {
		n, err := strconv.ParseFloat(rest[:i], 64)
		if err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
			return bad()
		}
		if n*float64(24*time.Hour) >= math.MaxInt64 {
			return 0, fmt.Errorf("invalid duration %q: too large", s)
		}
		days = time.Duration(n * float64(24*time.Hour))
		rest = rest[i+1:]
		if rest == "" {
			if neg {
				days = -days
			}
			return Duration(days), nil
		}
		if rest[0] < '0' || rest[0] > '9' {
			return bad()
		}
	}
	d, err := time.ParseDuration(rest)
	if err != nil {
		return bad()
	}
	if d < 0 || days > math.MaxInt64-d {
		return 0, fmt.Errorf("invalid duration %q: too large", s)
	}
	d += days
	if neg {
		d = -d
	}
	return Duration(d), nil
}

// String formats d like time.Duration.String without the zero trailing units
// ("168h", "1h30m", "5s"), so that it parses back with ParseDuration.
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// MarshalText returns d as String formats it.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses text with ParseDuration, for JSON and flags.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := ParseDuration(string(text))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// UnmarshalYAML decodes a scalar with ParseDuration, so that Duration also
// works with yaml.Unmarshal outside this package's loader.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: expected a duration, got %s", n.Line, kindName(n))
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = v
	return nil
}

// Byte size units.
const (
	KiB ByteSize = 1 << 10
	MiB ByteSize = 1 << 20
	GiB ByteSize = 1 << 30
	TiB ByteSize = 1 << 40
	KB  ByteSize = 1000
	MB  ByteSize = 1000 * KB
	GB  ByteSize = 1000 * MB
	TB  ByteSize = 1000 * GB
)

// errBadSize is the cause of every ByteSize parse failure.
var errBadSize = errors.New("write a number of bytes, optionally with a unit: B, KiB, MiB, GiB, TiB (powers of 1024) or KB, MB, GB, TB (powers of 1000)")

// ParseByteSize parses a non-negative size: a number of bytes ("1048576"), or
// a number with a unit, case-insensitive and optionally separated by a space:
// B, KiB, MiB, GiB, TiB (powers of 1024), KB, MB, GB, TB (powers of 1000). A
// fractional number ("1.5GiB") is rounded down to whole bytes.
func ParseByteSize(s string) (ByteSize, error) {
	in := strings.TrimSpace(s)
	i := 0
	for i < len(in) && (in[i] >= '0' && in[i] <= '9' || in[i] == '.') {
		i++
	}
	num, unit := in[:i], strings.ToLower(strings.TrimSpace(in[i:]))
	if num == "" {
		return 0, fmt.Errorf("invalid size %q: %w", s, errBadSize)
	}
	var mult ByteSize
	switch unit {
	case "", "b":
		mult = 1
	case "kib":
		mult = KiB
	case "mib":
		mult = MiB
	case "gib":
		mult = GiB
	case "tib":
		mult = TiB
	case "kb":
		mult = KB
	case "mb":
		mult = MB
	case "gb":
		mult = GB
	case "tb":
		mult = TB
	default:
		return 0, fmt.Errorf("invalid size %q: %w", s, errBadSize)
	}
	if !strings.Contains(num, ".") {
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || n > math.MaxInt64/int64(mult) {
			return 0, fmt.Errorf("invalid size %q: too large", s)
		}
		return ByteSize(n) * mult, nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q: %w", s, errBadSize)
	}
	f *= float64(mult)
	if f >= math.MaxInt64 {
		return 0, fmt.Errorf("invalid size %q: too large", s)
	}
	return ByteSize(f), nil
}

// String formats b with the largest unit that divides it exactly, preferring
// the powers of 1024 ("25MiB", "10MB"), else as a plain number of bytes.
func (b ByteSize) String() string {
	if b == 0 {
		return "0"
	}
	for _, u := range []struct {
		size ByteSize
		name string
	}{{TiB, "TiB"}, {GiB, "GiB"}, {MiB, "MiB"}, {KiB, "KiB"}, {TB, "TB"}, {GB, "GB"}, {MB, "MB"}, {KB, "KB"}} {
		if b%u.size == 0 {
			return strconv.FormatInt(int64(b/u.size), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(b), 10)
}

// MarshalText returns b as String formats it.
func (b ByteSize) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// UnmarshalText parses text with ParseByteSize, for JSON and flags.
func (b *ByteSize) UnmarshalText(text []byte) error {
	v, err := ParseByteSize(string(text))
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// UnmarshalYAML decodes a scalar with ParseByteSize, so that ByteSize also
// works with yaml.Unmarshal outside this package's loader.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: expected a size, got %s", n.Line, kindName(n))
	}
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*b = v
	return nil
}

// kindName names a node's kind for messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	switch n.ShortTag() {
	case "!!null":
		return "null"
	case "!!bool":
		return "a boolean"
	case "!!int":
		return "an integer"
	case "!!float":
		return "a number"
	}
	return "a string"
}
