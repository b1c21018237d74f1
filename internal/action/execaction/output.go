package execaction

import (
	"bytes"
	"unicode/utf8"

	"github.com/forgehook/forgehook/internal/action"
)

// tail keeps the last limit bytes written to it, in a ring once full. It is
// not safe for concurrent use: one goroutine copies a run's output into it.
type tail struct {
	limit int
	buf   []byte // at most limit bytes; once full, the oldest byte is at start
	start int
	total int64 // bytes written, kept or not
}

// Write keeps the end of p; it never fails.
func (t *tail) Write(p []byte) (int, error) {
	n := len(p)
	t.total += int64(n)
	if len(p) >= t.limit {
		t.buf = append(t.buf[:0], p[len(p)-t.limit:]...)
		t.start = 0
		return n, nil
	}
	if room := t.limit - len(t.buf); room > 0 {
		k := min(room, len(p))
		t.buf = append(t.buf, p[:k]...)
		p = p[k:]
	}
	for len(p) > 0 {
		k := copy(t.buf[t.start:], p)
		p = p[k:]
		t.start = (t.start + k) % t.limit
	}
	return n, nil
}

// Bytes returns the kept bytes in order and whether earlier ones were
// dropped. The slice may alias the buffer.
func (t *tail) Bytes() (b []byte, cut bool) {
	cut = t.total > int64(len(t.buf))
	if t.start == 0 {
		return t.buf, cut
	}
	b = make([]byte, 0, len(t.buf))
	b = append(b, t.buf[t.start:]...)
	return append(b, t.buf[:t.start]...), cut
}

// truncMarker starts an excerpt whose beginning was cut.
const truncMarker = "[... truncated]\n"

// redactedOutput replaces a secret found in a command's output.
var redactedOutput = []byte("[redacted]")

// mask replaces every occurrence of the secrets in b. It may modify b.
func mask(b []byte, secrets [][]byte) []byte {
	for _, s := range secrets {
		if bytes.Contains(b, s) {
			b = bytes.ReplaceAll(b, s, redactedOutput)
		}
	}
	return b
}

// excerpt returns the tail of b in at most action.OutputLimit bytes, cut at
// a rune boundary and marked when anything before it (or, with cut, before
// b) is missing.
func excerpt(b []byte, cut bool) string {
	if !cut && len(b) <= action.OutputLimit {
		return string(b)
	}
	if keep := action.OutputLimit - len(truncMarker); len(b) > keep {
		b = b[len(b)-keep:]
	}
	for i := 0; i < utf8.UTFMax-1 && len(b) > 0 && !utf8.RuneStart(b[0]); i++ {
		b = b[1:]
	}
	return truncMarker + string(b)
}
