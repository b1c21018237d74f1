package verify_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/forgehook/forgehook/internal/verify"
)

func mustAllowlist(t testing.TB, entries ...string) verify.Allowlist {
	t.Helper()
	a, err := verify.ParseAllowlist(entries)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestVerifyParseAllowlist(t *testing.T) {
	a, err := verify.ParseAllowlist([]string{"192.30.252.0/22", " 10.0.0.1 ", "2001:db8::/32", "::1"})
	if err != nil {
		t.Fatalf("ParseAllowlist: %v", err)
	}
	if a.Len() != 4 {
		t.Errorf("Len = %d, want 4", a.Len())
	}

	bad := []string{"10.0.0.0/33", "not-an-ip", "", "1.2.3.4/", "300.1.1.1", "2001:db8::/129", "10.0.0.0/8/8", "fe80::/10%eth0"}
	a, err = verify.ParseAllowlist(append([]string{"10.0.0.0/8"}, bad...))
	if err == nil {
		t.Fatal("ParseAllowlist(bad entries) = nil error")
	}
	for _, b := range bad {
		if !strings.Contains(err.Error(), `"`+b+`"`) {
			t.Errorf("error %q does not name the bad entry %q", err, b)
		}
	}
	if got := strings.Count(err.Error(), "neither an address nor a CIDR prefix"); got != len(bad) {
		t.Errorf("error reports %d problems, want %d: %v", got, len(bad), err)
	}
	if a.Len() != 1 {
		t.Errorf("Len = %d, want the 1 good entry", a.Len())
	}

	var zero verify.Allowlist
	if zero.Len() != 0 || zero.Contains(netip.MustParseAddr("127.0.0.1")) {
		t.Error("the zero Allowlist must be empty and allow nothing")
	}
	if a, err := verify.ParseAllowlist(nil); err != nil || a.Len() != 0 {
		t.Errorf("ParseAllowlist(nil) = %v, %v", a.Len(), err)
	}
}

func TestVerifyAllowlistContains(t *testing.T) {
	tests := []struct {
		entries []string
		addr    string
		want    bool
	}{
		{[]string{"192.30.252.0/22"}, "192.30.252.1", true},
		{[]string{"192.30.252.0/22"}, "192.30.255.255", true},
		{[]string{"192.30.252.0/22"}, "192.30.256.0", false}, // unparsable: zero Addr
		{[]string{"192.30.252.0/22"}, "192.31.0.1", false},
		{[]string{"10.1.2.3/8"}, "10.200.0.1", true}, // host bits are masked
		{[]string{"10.0.0.1"}, "10.0.0.1", true},
		{[]string{"10.0.0.1"}, "10.0.0.2", false},
		{[]string{"2001:db8::/32"}, "2001:db8:1::5", true},
		{[]string{"2001:db8::/32"}, "2001:db9::5", false},
		{[]string{"::1"}, "::1", true},
		{[]string{"::1"}, "127.0.0.1", false},
		// IPv4-mapped clients are compared as IPv4.
		{[]string{"192.0.2.0/24"}, "::ffff:192.0.2.5", true},
		{[]string{"192.0.2.0/24"}, "::ffff:198.51.100.5", false},
		// IPv4-mapped entries denote IPv4 addresses and prefixes.
		{[]string{"::ffff:192.0.2.7"}, "192.0.2.7", true},
		{[]string{"::ffff:192.0.2.7"}, "::ffff:192.0.2.7", true},
		{[]string{"::ffff:192.0.2.0/120"}, "192.0.2.200", true},
		{[]string{"::ffff:192.0.2.0/120"}, "192.0.3.1", false},
		// An IPv4 entry does not cover IPv6, nor the reverse.
		{[]string{"0.0.0.0/0"}, "2001:db8::1", false},
		{[]string{"::/0"}, "192.0.2.1", false},
		{[]string{"0.0.0.0/0", "::/0"}, "2001:db8::1", true},
		// A link-local client's zone does not prevent the match.
		{[]string{"fe80::/10"}, "fe80::1%eth0", true},
		{[]string{"fe80::1%eth0"}, "fe80::1", true},
	}
	for _, tt := range tests {
		a := mustAllowlist(t, tt.entries...)
		addr, _ := netip.ParseAddr(tt.addr)
		if got := a.Contains(addr); got != tt.want {
			t.Errorf("%v.Contains(%s) = %v, want %v", tt.entries, tt.addr, got, tt.want)
		}
	}
	if mustAllowlist(t, "0.0.0.0/0", "::/0").Contains(netip.Addr{}) {
		t.Error("the zero Addr must not be allowed")
	}
}

func TestVerifyClientAddr(t *testing.T) {
	proxies := mustAllowlist(t, "10.0.0.0/8", "fd00::/8")
	tests := []struct {
		name    string
		remote  string
		xff     []string
		trusted verify.Allowlist
		want    string
	}{
		{"untrusted peer, no header", "203.0.113.7", nil, proxies, "203.0.113.7"},
		{"untrusted peer spoofing", "203.0.113.7", []string{"198.51.100.1"}, proxies, "203.0.113.7"},
		{"untrusted peer spoofing a trusted address", "203.0.113.7", []string{"10.0.0.9"}, proxies, "203.0.113.7"},
		{"no proxies configured", "10.0.0.1", []string{"198.51.100.1"}, verify.Allowlist{}, "10.0.0.1"},
		{"trusted peer, no header", "10.0.0.1", nil, proxies, "10.0.0.1"},
		{"trusted peer, empty header list", "10.0.0.1", []string{}, proxies, "10.0.0.1"},
		{"one proxy", "10.0.0.1", []string{"203.0.113.7"}, proxies, "203.0.113.7"},
		{"client-supplied hops are ignored", "10.0.0.1", []string{"198.51.100.1, 203.0.113.7"}, proxies, "203.0.113.7"},
		{"chain of trusted proxies", "10.0.0.1", []string{"198.51.100.1, 203.0.113.7, 10.0.0.3, 10.0.0.2"}, proxies, "203.0.113.7"},
		{"several headers in order", "10.0.0.1", []string{"198.51.100.1", "203.0.113.7, 10.0.0.2"}, proxies, "203.0.113.7"},
		{"no spaces", "10.0.0.1", []string{"198.51.100.1,203.0.113.7"}, proxies, "203.0.113.7"},
		{"all hops trusted", "10.0.0.1", []string{"10.0.0.3, 10.0.0.2"}, proxies, "10.0.0.3"},
		{"IPv6 chain", "fd00::1", []string{"2001:db8::7, fd00::2"}, proxies, "2001:db8::7"},
		{"IPv4-mapped peer", "::ffff:10.0.0.1", []string{"203.0.113.7"}, proxies, "203.0.113.7"},
		{"IPv4-mapped untrusted peer is unmapped", "::ffff:203.0.113.7", []string{"198.51.100.1"}, proxies, "203.0.113.7"},
		{"IPv4-mapped hop is unmapped", "10.0.0.1", []string{"::ffff:203.0.113.7"}, proxies, "203.0.113.7"},
		{"hop with port", "10.0.0.1", []string{"203.0.113.7:4711"}, proxies, "203.0.113.7"},
		{"IPv6 hop with port", "10.0.0.1", []string{"[2001:db8::7]:4711"}, proxies, "2001:db8::7"},
		{"IPv6 hop in brackets", "10.0.0.1", []string{"[2001:db8::7]"}, proxies, "2001:db8::7"},
		{"hop zone is dropped", "10.0.0.1", []string{"fe80::7%eth0"}, proxies, "fe80::7"},
		{"garbage only", "10.0.0.1", []string{"garbage"}, proxies, "10.0.0.1"},
		{"garbage right of the client", "10.0.0.1", []string{"203.0.113.7, garbage"}, proxies, "10.0.0.1"},
		{"garbage left of the client", "10.0.0.1", []string{"garbage, 203.0.113.7"}, proxies, "203.0.113.7"},
		{"garbage behind a trusted hop", "10.0.0.1", []string{"garbage, 10.0.0.2"}, proxies, "10.0.0.2"},
		{"empty element", "10.0.0.1", []string{"203.0.113.7,"}, proxies, "10.0.0.1"},
		{"empty header", "10.0.0.1", []string{""}, proxies, "10.0.0.1"},
		{"IPv4 brackets are garbage", "10.0.0.1", []string{"[203.0.113.7]"}, proxies, "10.0.0.1"},
		{"half bracket is garbage", "10.0.0.1", []string{"2001:db8::7]"}, proxies, "10.0.0.1"},
		{"port out of range is garbage", "10.0.0.1", []string{"203.0.113.7:99999"}, proxies, "10.0.0.1"},
		{"RFC 7239 syntax is garbage", "10.0.0.1", []string{"for=203.0.113.7"}, proxies, "10.0.0.1"},
		{"unknown peer", "", []string{"203.0.113.7"}, proxies, "invalid IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			remote, _ := netip.ParseAddr(tt.remote)
			if got := verify.ClientAddr(remote, tt.xff, tt.trusted); got.String() != tt.want {
				t.Errorf("ClientAddr(%s, %q) = %s, want %s", tt.remote, tt.xff, got, tt.want)
			}
		})
	}
}
