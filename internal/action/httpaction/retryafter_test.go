package httpaction

import (
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

var raNow = time.Date(2026, 11, 23, 8, 25, 20, 0, time.UTC)

func TestHTTPActionParseRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"  ", 0, false},
		{"0", 0, true},
		{"7", 7 * time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"86400", 24 * time.Hour, true},
		{"86401", MaxRetryAfter, true},
		{"99999999999999999999999999", MaxRetryAfter, true},
		{"-1", 0, false},
		{"+5", 0, false},
		{"1.5", 0, false},
		{"5s", 0, false},
		{"soon", 0, false},
		{"Mon, 23 Nov 2026 08:26:20 GMT", time.Minute, true},   // IMF-fixdate
		{"Monday, 23-Nov-26 08:26:20 GMT", time.Minute, true},  // RFC 850
		{"Mon Nov 23 08:26:20 2026", time.Minute, true},        // asctime
		{"Mon, 23 Nov 2026 08:00:00 GMT", 0, true},             // past
		{"Fri, 01 Jan 2100 00:00:00 GMT", MaxRetryAfter, true}, // far
		{"Mon, 23 Nov 2026 08:26:20 +0000", 0, false},          // not an HTTP date
	} {
		got, ok := ParseRetryAfter(tc.in, raNow)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "7", "120", "86401", "-1", "1.5", "Mon, 23 Nov 2026 08:26:20 GMT",
		"Monday, 23-Nov-26 08:26:20 GMT", "Mon Nov 23 08:26:20 2026", "Fri, 01 Jan 2100 00:00:00 GMT"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := ParseRetryAfter(v, raNow)
		if d < 0 || d > MaxRetryAfter {
			t.Fatalf("ParseRetryAfter(%q) = %v, outside [0, %v]", v, d, MaxRetryAfter)
		}
		if !ok && d != 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v with ok false", v, d)
		}
		if d2, ok2 := ParseRetryAfter(v, raNow); d2 != d || ok2 != ok {
			t.Fatalf("ParseRetryAfter(%q) is not deterministic", v)
		}
		s := strings.TrimSpace(v)
		if n, isNum := new(big.Int).SetString(s, 10); isNum && s[0] != '+' && s[0] != '-' {
			// delay-seconds: exactly n seconds, capped.
			want := MaxRetryAfter
			if n.Cmp(big.NewInt(int64(MaxRetryAfter/time.Second))) <= 0 {
				want = time.Duration(n.Int64()) * time.Second
			}
			if !ok || d != want {
				t.Fatalf("ParseRetryAfter(%q) = %v, %v; want %v", v, d, ok, want)
			}
			// It formats back to the same wait.
			if d3, _ := ParseRetryAfter(strconv.FormatInt(int64(d/time.Second), 10), raNow); d3 != d {
				t.Fatalf("round trip of %q: %v then %v", v, d, d3)
			}
			return
		}
		if at, err := http.ParseTime(s); err == nil {
			want := min(max(at.Sub(raNow), 0), MaxRetryAfter)
			if !ok || d != want {
				t.Fatalf("ParseRetryAfter(%q) = %v, %v; want %v (date %v)", v, d, ok, want, at)
			}
			return
		}
		if ok {
			t.Fatalf("ParseRetryAfter(%q) accepted neither seconds nor an HTTP date: %v", v, d)
		}
	})
}
