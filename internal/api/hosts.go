package api

import (
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Hosts is the set of Host names the admin listener answers: a defence
// against DNS rebinding, where a web page's own name is pointed at the
// admin listener's address so that the browser lets the page read it. The
// page's requests then carry the page's name as Host, which is refused.
//
// Always accepted: localhost and every IP address literal (a page loaded
// from an IP address cannot rebind it), the host of admin.listen when it
// names one, and the names configured in admin.hosts ("*.example.com"
// matches every name under example.com; "*" turns the check off).
type Hosts struct {
	any      bool
	names    map[string]bool
	suffixes []string // ".example.com" for "*.example.com"
}

// NewHosts returns the Host names an admin listener on listen (host:port)
// answers, with the configured names (admin.hosts) added.
func NewHosts(configured []string, listen string) *Hosts {
	h := &Hosts{names: map[string]bool{"localhost": true}}
	if host, _, err := net.SplitHostPort(listen); err == nil && host != "" {
		h.names[normalHost(host)] = true
	}
	for _, n := range configured {
		n = normalHost(n)
		switch {
		case n == "*":
			h.any = true
		case strings.HasPrefix(n, "*."):
			h.suffixes = append(h.suffixes, n[1:])
		case n != "":
			h.names[n] = true
		}
	}
	return h
}

// normalHost lower-cases a host name and drops a final dot and IPv6
// brackets.
func normalHost(s string) string {
	s = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	return s
}

// Allowed reports whether a request's Host header (with or without a
// port) names this listener. An empty Host (an HTTP/1.0 client, never a
// browser) is allowed.
func (h *Hosts) Allowed(hostHeader string) bool {
	if h.any || hostHeader == "" {
		return true
	}
	host := hostHeader
	if hp, _, err := net.SplitHostPort(hostHeader); err == nil {
		host = hp
	}
	host = normalHost(host)
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	if h.names[host] {
		return true
	}
	for _, s := range h.suffixes {
		if strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}

// AllowHosts wraps the admin listener's handler: a request whose Host is
// not Allowed is answered 421 Misdirected Request with a message that
// names admin.hosts, and logged.
func AllowHosts(h *Hosts, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.Allowed(r.Host) {
			next.ServeHTTP(w, r)
			return
		}
		if log != nil {
			log.Warn("admin: request for a foreign host refused", "host", r.Host, "method", r.Method,
				"path", r.URL.Path, "remote", r.RemoteAddr, "status", http.StatusMisdirectedRequest)
		}
		msg := "this admin listener does not answer for the host name " + quoteHost(r.Host) +
			": add it to admin.hosts in forgehook.yaml to allow it"
		if strings.HasPrefix(r.URL.Path, "/api/") {
			writeError(w, http.StatusMisdirectedRequest, msg)
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		http.Error(w, "421 Misdirected Request: "+msg, http.StatusMisdirectedRequest)
	})
}

// quoteHost quotes a Host header for a message, cut to a sane length.
func quoteHost(s string) string {
	if len(s) > 255 {
		s = s[:255]
	}
	return `"` + strings.ToValidUTF8(s, "\uFFFD") + `"`
}
