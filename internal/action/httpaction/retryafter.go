package httpaction

import (
	"net/http"
	"strings"
	"time"
)

// MaxRetryAfter bounds the wait that ParseRetryAfter returns.
const MaxRetryAfter = 24 * time.Hour

// ParseRetryAfter parses the value of a Retry-After header: a number of
// seconds (delay-seconds, ASCII digits only) or an HTTP date (the three
// forms of RFC 9110 section 5.6.7), taken relative to now. A date in the
// past gives 0, and every result is at most MaxRetryAfter. ok is false, and
// the wait 0, when v is empty or neither form.
//
// See https://www.rfc-editor.org/rfc/rfc9110#field.retry-after.
func ParseRetryAfter(v string, now time.Time) (wait time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if isDigits(v) {
		const maxSeconds = int64(MaxRetryAfter / time.Second)
		var n int64
		for i := 0; i < len(v); i++ {
			n = n*10 + int64(v[i]-'0')
			if n > maxSeconds {
				return MaxRetryAfter, true
			}
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	switch {
	case d < 0:
		return 0, true
	case d > MaxRetryAfter:
		return MaxRetryAfter, true
	}
	return d, true
}

// isDigits reports whether s is one or more ASCII digits.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
