package verify

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// ErrAddressNotAllowed means the client address is outside the allowlist.
var ErrAddressNotAllowed = errors.New("source address not allowed")

// Allowlist is a set of address prefixes. The zero value allows nothing;
// callers skip the check for endpoints that configure no allowlist.
type Allowlist struct {
	prefixes []netip.Prefix
}

// ParseAllowlist parses CIDR prefixes or single addresses. IPv4-mapped IPv6
// entries (::ffff:192.0.2.1, ::ffff:192.0.2.0/120) are stored as the IPv4
// addresses and prefixes they denote, since Contains compares clients as
// IPv4; a zone on an address entry is ignored. Every bad entry is reported
// in the returned error.
func ParseAllowlist(entries []string) (Allowlist, error) {
	var a Allowlist
	var errs []error
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if p, err := netip.ParsePrefix(e); err == nil {
			if ip := p.Addr(); ip.Is4In6() && p.Bits() >= 96 {
				p = netip.PrefixFrom(ip.Unmap(), p.Bits()-96)
			}
			a.prefixes = append(a.prefixes, p.Masked())
			continue
		}
		if ip, err := netip.ParseAddr(e); err == nil {
			ip = ip.Unmap().WithZone("")
			a.prefixes = append(a.prefixes, netip.PrefixFrom(ip, ip.BitLen()))
			continue
		}
		errs = append(errs, fmt.Errorf("%q is neither an address nor a CIDR prefix", e))
	}
	return a, errors.Join(errs...)
}

// Len returns the number of prefixes.
func (a Allowlist) Len() int { return len(a.prefixes) }

// Contains reports whether addr lies in any prefix. IPv4-mapped IPv6
// addresses are compared as IPv4, and an IPv6 zone (fe80::1%eth0) is
// ignored.
func (a Allowlist) Contains(addr netip.Addr) bool {
	addr = addr.Unmap().WithZone("")
	for _, p := range a.prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// ClientAddr returns the address of the original client: remote when it is
// not a trusted proxy; otherwise the right-most address in the
// X-Forwarded-For chain that is not itself a trusted proxy. Untrusted peers
// cannot spoof their address by sending the header. xff holds the values of
// every X-Forwarded-For header in the order received; a hop may carry a port
// (192.0.2.1:4711, [2001:db8::1]:4711), as some proxies write it. At the
// first hop that is not an address, the walk stops and the last trusted hop
// is returned. The result is unmapped (IPv4-mapped IPv6 becomes IPv4), and a
// hop's zone is dropped.
func ClientAddr(remote netip.Addr, xff []string, trusted Allowlist) netip.Addr {
	remote = remote.Unmap()
	if !trusted.Contains(remote) || len(xff) == 0 {
		return remote
	}
	var hops []string
	for _, h := range xff {
		hops = append(hops, strings.Split(h, ",")...)
	}
	addr := remote
	for i := len(hops) - 1; i >= 0; i-- {
		ip, ok := parseHop(hops[i])
		if !ok {
			return addr
		}
		addr = ip
		if !trusted.Contains(addr) {
			return addr
		}
	}
	return addr
}

// parseHop parses one X-Forwarded-For element: an address, optionally in
// brackets (IPv6) and with a port.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if ip, err := netip.ParseAddr(s); err == nil {
		return ip.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		if ip, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil && ip.Is6() {
			return ip.Unmap().WithZone(""), true
		}
	}
	return netip.Addr{}, false
}
