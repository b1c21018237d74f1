package redact

import (
	"net/url"
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://h/x", "https://h/x"},
		{"https://h:8443/hooks/a%20b", "https://h:8443/hooks/a%20b"},
		{"https://u:p@h:8443/a%20b?k=v&t=s#f", "https://xxxxx@h:8443/a%20b?k=xxxxx&t=xxxxx#xxxxx"},
		{"http://tok@h/", "http://xxxxx@h/"},
		{"http://u:@h/", "http://xxxxx@h/"},
		{"http://h/p?flag", "http://h/p?xxxxx"},
		{"http://h/p?ghp_secret123", "http://h/p?xxxxx"},
		{"http://h/p?a=1&&b=", "http://h/p?a=xxxxx&&b=xxxxx"},
		{"http://h/p?", "http://h/p?"},
		{"http://h/p?token=abc;x=1", "http://h/p?token=xxxxx"},
		{"http://[::1]:80/hooks/a/b?x=1&x=2", "http://[::1]:80/hooks/a/b?x=xxxxx&x=xxxxx"},
		{"https://h/hooks/x?a=1&secret=s&key=k", "https://h/hooks/x?a=xxxxx&secret=xxxxx&key=xxxxx"},
		{"nats://u:p@nats:4222", "nats://xxxxx@nats:4222"},
		{"nats://tok@nats:4222", "nats://xxxxx@nats:4222"},
		{"localhost:4222", "localhost:4222"},
		{"user:pass@host:4222", "user:xxxxx@host:4222"},
		{"mailto:joe@example.com", "mailto:xxxxx@example.com"},
		{"token@host/x", "xxxxx@host/x"},
		{"/hooks/x?token=t", "/hooks/x?token=xxxxx"},
		{"", ""},
		{"http://u:p@h/%zz", Unparsable},
		{"http://u:p w@h/", Unparsable},
		{"http://h/\x00", Unparsable},
	} {
		if got := URL(tc.in); got != tc.want {
			t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRedactURLs(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"nats://h:4222", "nats://h:4222"},
		{"nats://u:p@nats:4222, nats://tok@x:4222", "nats://xxxxx@nats:4222,nats://xxxxx@x:4222"},
		{"nats://a:1,%zz://b", "nats://a:1," + Unparsable},
		{"nats://h:1,", "nats://h:1,"},
	} {
		if got := URLs(tc.in); got != tc.want {
			t.Errorf("URLs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzRedactURL checks that no credential of the input survives in URL's
// output: neither the user information (name or password) nor a query
// value nor the fragment, in decoded or escaped form, unless the same text
// is also a public part of the URL (scheme, host, path, query keys); and
// that the output, parsed again, has only Mask where credentials go.
func FuzzRedactURL(f *testing.F) {
	for _, s := range []string{
		"https://u:p@h:8443/a%20b?k=v&t=s#f",
		"nats://tok@nats:4222",
		"http://h/p?flag&token=abc;x=1",
		"user:pass@host:4222",
		"token@host/x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := URL(s)
		u, err := url.Parse(s)
		if err != nil {
			if out != Unparsable {
				t.Fatalf("URL(%q) = %q, want %q for an unparsable URL", s, out, Unparsable)
			}
			return
		}
		bare := *u
		bare.User, bare.Opaque, bare.RawQuery, bare.Fragment, bare.RawFragment = nil, "", "", "", ""
		public := []string{u.Scheme, u.Host, u.Path, u.EscapedPath(), bare.String()}
		var secrets []string
		if u.User != nil {
			pw, _ := u.User.Password()
			secrets = append(secrets, u.User.Username(), pw, u.User.String())
		}
		if u.Opaque != "" {
			seg, _, _ := strings.Cut(u.Opaque, "/")
			if at := strings.LastIndexByte(seg, '@'); at >= 0 {
				secrets = append(secrets, seg[:at])
				public = append(public, u.Opaque[at:])
			} else {
				public = append(public, u.Opaque)
			}
		}
		for _, pair := range strings.Split(u.RawQuery, "&") {
			k, v, ok := strings.Cut(pair, "=")
			if !ok {
				secrets = append(secrets, pair)
				continue
			}
			public = append(public, k)
			secrets = append(secrets, v)
			if dv, err := url.QueryUnescape(v); err == nil {
				secrets = append(secrets, dv)
			}
		}
		secrets = append(secrets, u.Fragment, u.EscapedFragment())
		for _, sec := range secrets {
			// A secret with a delimiter in it may be found across the
			// boundary of two public parts ("000#" in "000#xxxxx"); the
			// re-reading below covers those.
			if len(sec) < 4 || strings.ContainsAny(sec, "#?&=@/:") || strings.Contains(Mask, sec) || strings.Contains(Unparsable, sec) {
				continue
			}
			hidden := true
			for _, p := range public {
				if strings.Contains(p, sec) {
					hidden = false
				}
			}
			if hidden && strings.Contains(out, sec) {
				t.Fatalf("URL(%q) = %q keeps %q", s, out, sec)
			}
		}
		// The result, read again, shows only masks where credentials were.
		r, err := url.Parse(out)
		if err != nil {
			return
		}
		if r.User != nil && r.User.String() != Mask {
			t.Errorf("URL(%q) = %q: user information %q", s, out, r.User.String())
		}
		if r.Fragment != "" && r.Fragment != Mask {
			t.Errorf("URL(%q) = %q: fragment %q", s, out, r.Fragment)
		}
		for _, pair := range strings.Split(r.RawQuery, "&") {
			if _, v, ok := strings.Cut(pair, "="); ok && v != Mask || !ok && pair != "" && pair != Mask {
				t.Errorf("URL(%q) = %q: query pair %q", s, out, pair)
			}
		}
	})
}
