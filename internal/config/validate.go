package config

import (
	"github.com/forgehook/forgehook/internal/redact"
	"github.com/forgehook/forgehook/internal/verify"

	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Limits enforced by validation.
const (
	// MinStoreMaxBytes is the smallest store.max_bytes: room for a few
	// events at the largest size the log holds inline.
	MinStoreMaxBytes = 4 * MiB
	// MaxReplicas is the largest store.replicas that JetStream supports.
	MaxReplicas = 5
	// MaxMaxBody is the largest endpoint max_body.
	MaxMaxBody = 1 * GiB
	// MinKeyLength is the shortest endpoint key.
	MinKeyLength = 16
)

// PresetNames returns the names of the address presets that allow_ips
// accepts besides addresses and CIDR prefixes (such as a forge's published
// webhook ranges): see verify.Presets.
func PresetNames() []string {
	var names []string
	for _, p := range verify.Presets() {
		names = append(names, p.Name)
	}
	return names
}

var (
	// nameRE is the syntax of endpoint and trigger names.
	nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	// keyRE is the syntax of endpoint keys: URL-path-safe characters.
	keyRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	// headerRE is the syntax of an HTTP header name (RFC 9110 token).
	headerRE = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
)

// validator checks a decoded configuration with its defaults applied.
type validator struct {
	c     *Config
	opts  Options
	lines map[string]int  // path -> line, from the decoder or from Line fields
	skip  map[string]bool // paths that already have a decode error
	errs  Errors
}

// line returns the line of path, or of its nearest ancestor that has one.
func (v *validator) line(path string) int { return lineOf(v.lines, path) }

// lineOf returns the line of path in lines, or of its nearest ancestor
// that has one, or 0.
func lineOf(lines map[string]int, path string) int {
	for path != "" {
		if l, ok := lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// skipped reports whether path or one of its ancestors has a decode error.
func (v *validator) skipped(path string) bool {
	for path != "" {
		if v.skip[path] {
			return true
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return false
}

// anySkipped reports whether any of paths has a decode error.
func (v *validator) anySkipped(paths ...string) bool {
	return slices.ContainsFunc(paths, v.skipped)
}

// errorf records a problem for path at path's line.
func (v *validator) errorf(path, format string, args ...any) {
	v.errorAt(v.line(path), path, format, args...)
}

// errorAt records a problem for path at a given line.
func (v *validator) errorAt(line int, path, format string, args ...any) {
	if v.skipped(path) {
		return
	}
	v.errs = append(v.errs, FieldError{File: v.c.File, Line: line, Field: path, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) run() {
	c := v.c
	v.hostPort("listen", c.Listen)
	if v.hostPort("admin.listen", c.Admin.Listen) && !isLoopback(c.Admin.Listen) && c.Admin.Token == "" && c.Admin.TokenFile == "" {
		v.errorAt(v.line("admin.listen"), "admin.token",
			"required when admin.listen is not a loopback address (%q): the admin API reads and replays events; set admin.token or admin.token_file, or listen on 127.0.0.1", c.Admin.Listen)
	}
	for i, h := range c.Admin.Hosts {
		if !validAdminHost(h) {
			v.errorf(fmt.Sprintf("admin.hosts[%d]", i), "%q is not a host name, an IP address, \"*.domain\" or \"*\" (no scheme, no port)", h)
		}
	}
	if c.Listen != "" && c.Listen == c.Admin.Listen {
		v.errorf("admin.listen", "same address as listen (%q)", c.Listen)
	}
	if c.DataDir == "" {
		v.errorf("data_dir", "must not be empty")
	}
	v.store()
	for _, f := range []struct {
		path string
		d    Duration
	}{
		{"server.read_header_timeout", c.Server.ReadHeaderTimeout},
		{"server.read_timeout", c.Server.ReadTimeout},
		{"server.write_timeout", c.Server.WriteTimeout},
		{"server.idle_timeout", c.Server.IdleTimeout},
	} {
		if f.d < 0 {
			v.errorf(f.path, "must not be negative")
		}
	}
	if c.Server.MaxBodyInFlight <= 0 {
		v.errorf("server.max_body_in_flight", "must be greater than 0")
	}
	if rl := c.Server.UnauthenticatedRateLimit; rl.PerSecond <= 0 {
		v.errorf("server.unauthenticated_rate_limit.per_second", "must be greater than 0")
	} else if rl.Burst < 0 {
		v.errorf("server.unauthenticated_rate_limit.burst", "must not be negative")
	}
	if c.Server.MaxConcurrentPerSource <= 0 {
		v.errorf("server.max_concurrent_per_source", "must be greater than 0")
	}
	for i, p := range c.TrustedProxies {
		if !isAddrOrPrefix(p) {
			v.errorf(fmt.Sprintf("trusted_proxies[%d]", i), "%q is not an IP address or CIDR prefix", p)
		}
	}
	v.publicURL()
	v.endpoints()
	v.triggers()
}

// hostPort checks that s is host:port, reporting whether it is.
func (v *validator) hostPort(path, s string) bool {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		v.errorf(path, "%q is not host:port (such as \":8080\" or \"127.0.0.1:8081\")", s)
		return false
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || port == "" || n > 65535 {
		v.errorf(path, "port %q is not a number from 0 to 65535", port)
		return false
	}
	return true
}

// isLoopback reports whether the host of the host:port address s is
// localhost or a loopback address (127.0.0.0/8, ::1).
func isLoopback(s string) bool {
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// isAddrOrPrefix reports whether s is an IP address or a CIDR prefix.
func isAddrOrPrefix(s string) bool {
	s = strings.TrimSpace(s)
	if _, err := netip.ParsePrefix(s); err == nil {
		return true
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}

func (v *validator) store() {
	s := &v.c.Store
	if s.Sync != SyncInterval && s.Sync != SyncAlways {
		v.errorf("store.sync", "%q is not one of %s, %s", s.Sync, SyncInterval, SyncAlways)
	}
	switch {
	case s.Replicas < 1 || s.Replicas > MaxReplicas:
		v.errorf("store.replicas", "%d is not from 1 to %d", s.Replicas, MaxReplicas)
	case s.Replicas > 1 && s.URL == "":
		v.errorf("store.replicas", "%d replicas need an external NATS cluster (store.url); the embedded server is a single node", s.Replicas)
	}
	if s.URL != "" {
		for i, u := range strings.Split(s.URL, ",") {
			if msg := checkNATSURL(strings.TrimSpace(u)); msg != "" {
				v.errorf("store.url", "entry %d: %s", i+1, msg)
			}
		}
	} else {
		for _, f := range []struct{ path, value string }{
			{"store.credentials", s.Credentials},
			{"store.token", string(s.Token)},
			{"store.token_file", s.TokenFile},
		} {
			if f.value != "" {
				v.errorf(f.path, "only used with an external server (store.url)")
			}
		}
	}
	if s.Token != "" && s.Credentials != "" {
		v.errorf("store.credentials", "set either credentials or token (or token_file), not both")
	}
	if s.Retention <= 0 {
		v.errorf("store.retention", "must be greater than 0")
	}
	if s.DedupWindow <= 0 {
		v.errorf("store.dedup_window", "must be greater than 0")
	}
	if s.AckTimeout <= 0 {
		v.errorf("store.ack_timeout", "must be greater than 0")
	} else if s.Retention > 0 && 2*s.AckTimeout > s.Retention {
		// EVENTS's own duplicate window is at least twice ack_timeout
		// (ingest's retries within it are stored once), and JetStream
		// refuses a window longer than the stream's max age.
		v.errorf("store.ack_timeout", "%s: twice it (the EVENTS stream's duplicate window) must not exceed store.retention (%s)", s.AckTimeout, s.Retention)
	}
	if s.MaxBytes < 0 || (s.MaxBytes > 0 && s.MaxBytes < MinStoreMaxBytes) {
		v.errorf("store.max_bytes", "%s is below the smallest size, %s (0 chooses one from the disk's size)", s.MaxBytes, MinStoreMaxBytes)
	}
	if s.Embedded.Listen != "" {
		v.hostPort("store.embedded.listen", s.Embedded.Listen)
	}
}

// checkNATSURL returns what is wrong with one store.url entry, or "". The
// message shows the URL without its password.
func checkNATSURL(s string) string {
	if s == "" {
		return "empty URL"
	}
	u, err := url.Parse(s)
	if err != nil {
		return "not a valid URL"
	}
	switch u.Scheme {
	case "nats", "tls", "ws", "wss":
	default:
		return fmt.Sprintf("%q is not a nats://, tls://, ws:// or wss:// URL", redact.URL(s))
	}
	if u.Host == "" {
		return fmt.Sprintf("%q has no host", redact.URL(s))
	}
	return ""
}

func (v *validator) endpoints() {
	type first struct {
		index int
		line  int
	}
	names := map[string]first{}
	for i, ep := range v.c.Endpoints {
		if ep.Name != "" {
			if _, dup := names[ep.Name]; !dup {
				names[ep.Name] = first{i, ep.Line}
			}
		}
	}
	keys := map[Secret]int{}
	seenNames := map[string]bool{}
	for i := range v.c.Endpoints {
		ep := &v.c.Endpoints[i]
		p := fmt.Sprintf("endpoints[%d]", i)
		switch {
		case ep.Name == "":
			v.errorf(p+".name", "required")
		case !nameRE.MatchString(ep.Name):
			v.errorf(p+".name", "%q must be 1 to 64 letters, digits, '-' or '_', starting with a letter or digit", ep.Name)
		case seenNames[ep.Name]:
			f := names[ep.Name]
			v.errorf(p+".name", "duplicate endpoint name %q (endpoints[%d], line %d)", ep.Name, f.index, f.line)
		}
		seenNames[ep.Name] = true
		if ep.Key != "" {
			// Never show the key: it is as secret as a password.
			k := ep.Key.Reveal()
			switch {
			case len(k) < MinKeyLength:
				v.errorf(p+".key", "too short: use at least %d characters (e.g. from `openssl rand -hex 16`)", MinKeyLength)
			case !keyRE.MatchString(k):
				v.errorf(p+".key", "may hold only letters, digits, '-' and '_', to be safe in a URL path")
			}
			if j, dup := keys[ep.Key]; dup {
				v.errorf(p+".key", "same key as endpoints[%d]", j)
			} else {
				keys[ep.Key] = i
			}
			if f, clash := names[k]; clash {
				v.errorf(p+".key", "same as the name of endpoints[%d]: keys and names share /hooks/", f.index)
			}
		}
		switch {
		case ep.Provider == "":
			v.errorf(p+".provider", "required")
		case !v.opts.Providers(ep.Provider):
			v.errorf(p+".provider", "unknown provider %q", ep.Provider)
		}
		for j, s := range ep.Secrets {
			if s == "" {
				v.errorf(fmt.Sprintf("%s.secrets[%d]", p, j), "empty secret")
			}
		}
		hasSecrets := len(ep.Secrets) > 0 || len(ep.SecretFiles) > 0
		switch {
		case v.anySkipped(p+".secrets", p+".secrets_file", p+".insecure"):
			// Already reported: what was meant is unknown.
		case !hasSecrets && !ep.Insecure:
			v.errorf(p, "no secrets: set secrets (or secrets_file), or insecure: true to accept unauthenticated deliveries")
		case hasSecrets && ep.Insecure:
			v.errorf(p+".insecure", "true, but secrets are set: remove one or the other")
		}
		for j, a := range ep.AllowIPs {
			if !isAddrOrPrefix(a) && !slices.Contains(PresetNames(), a) {
				v.errorf(fmt.Sprintf("%s.allow_ips[%d]", p, j), "%q is not an IP address, CIDR prefix or preset name", a)
			}
		}
		switch {
		case ep.MaxBody <= 0:
			v.errorf(p+".max_body", "must be greater than 0")
		case ep.MaxBody > MaxMaxBody:
			v.errorf(p+".max_body", "%s is more than the limit of %s", ep.MaxBody, MaxMaxBody)
		}
		if ep.RateLimit.PerSecond < 0 {
			v.errorf(p+".rate_limit.per_second", "must not be negative")
		}
		if ep.RateLimit.Burst < 0 {
			v.errorf(p+".rate_limit.burst", "must not be negative")
		}
		if ep.Tolerance < 0 {
			v.errorf(p+".tolerance", "must not be negative")
		}
		if ep.LegacySHA1 && ep.Provider != "github" {
			v.errorf(p+".legacy_sha1", "only for provider github")
		}
		v.generic(p, ep)
		v.hookBlocks(p, ep)
	}
}

// generic checks the generic provider's block.
func (v *validator) generic(p string, ep *Endpoint) {
	g := ep.Generic
	if ep.Provider != "generic" {
		if g != nil {
			v.errorf(p+".generic", "only for provider generic")
		}
		return
	}
	if g == nil {
		if !ep.Insecure && !v.anySkipped(p+".generic", p+".insecure") {
			v.errorf(p, "provider generic needs a generic block (signature_header, token_header, token_query or basic_auth), or insecure: true")
		}
		return
	}
	p += ".generic"
	if g.SignatureHeader == "" && g.TokenHeader == "" && g.TokenQuery == "" && !g.BasicAuth && !ep.Insecure {
		v.errorf(p, "set at least one of signature_header, token_header, token_query, basic_auth")
	}
	for _, h := range []struct{ key, value string }{
		{"signature_header", g.SignatureHeader},
		{"token_header", g.TokenHeader},
		{"event_header", g.EventHeader},
		{"delivery_header", g.DeliveryHeader},
	} {
		if h.value != "" && !headerRE.MatchString(h.value) {
			v.errorf(p+"."+h.key, "%q is not a valid HTTP header name", h.value)
		}
	}
	switch g.Algorithm {
	case "sha1", "sha256", "sha512":
	default:
		v.errorf(p+".algorithm", "%q is not one of sha1, sha256, sha512", g.Algorithm)
	}
	switch g.Encoding {
	case "hex", "base64":
	default:
		v.errorf(p+".encoding", "%q is not one of hex, base64", g.Encoding)
	}
}

func (v *validator) triggers() {
	firsts := map[string]int{}
	for i := range v.c.Triggers {
		t := &v.c.Triggers[i]
		p := fmt.Sprintf("triggers[%d]", i)
		switch first, dup := firsts[t.Name]; {
		case t.Name == "":
			v.errorf(p+".name", "required")
		case !nameRE.MatchString(t.Name):
			v.errorf(p+".name", "%q must be 1 to 64 letters, digits, '-' or '_', starting with a letter or digit", t.Name)
		case dup:
			v.errorf(p+".name", "duplicate trigger name %q (triggers[%d], line %d)", t.Name, first, v.c.Triggers[first].Line)
		default:
			firsts[t.Name] = i
		}
		var actions []string
		for _, a := range []struct {
			key string
			set bool
		}{{"http", t.HTTP != nil}, {"exec", t.Exec != nil}, {"nats", t.NATS != nil}, {"log", t.Log != nil}} {
			if a.set {
				actions = append(actions, a.key)
			}
		}
		switch len(actions) {
		case 0:
			if v.anySkipped(p+".http", p+".exec", p+".nats", p+".log") {
				break
			}
			v.errorf(p, "no action: set one of http, exec, nats, log")
		case 1:
		default:
			v.errorf(p+"."+actions[1], "more than one action (%s): set exactly one", strings.Join(actions, ", "))
		}
		if t.Concurrency < 1 {
			v.errorf(p+".concurrency", "must be at least 1")
		}
		v.retry(p+".retry", &t.Retry)
		switch {
		case t.HTTP != nil:
			v.httpAction(p+".http", t.HTTP)
		case t.Exec != nil:
			v.execAction(p+".exec", t.Exec)
		case t.NATS != nil:
			v.natsAction(p+".nats", t.NATS)
		case t.Log != nil:
			v.logAction(p+".log", t.Log)
		}
	}
}

// natsAction checks a nats block; the action parses the subject
// (required) and the URL.
func (v *validator) natsAction(p string, n *NATSAction) {
	v.headerNames(join(p, "headers"), n.Headers)
}

// logAction checks a log block.
func (v *validator) logAction(p string, l *LogAction) {
	v.oneOf(join(p, "format"), l.Format, DefaultLogFormat, "json")
}

// retry checks a trigger's retry policy.
func (v *validator) retry(p string, r *Retry) {
	for _, f := range []struct {
		key string
		neg bool
	}{{"max_attempts", r.MaxAttempts < 0}, {"initial", r.Initial < 0}, {"max", r.Max < 0}, {"max_age", r.MaxAge < 0}} {
		if f.neg {
			v.errorf(join(p, f.key), "must not be negative")
		}
	}
	if r.Max > 0 && r.Initial > 0 && r.Max < r.Initial {
		v.errorf(join(p, "max"), "%s is below initial (%s)", r.Max, r.Initial)
	}
}

// httpAction checks what can be checked of an http block on its own; the
// action checks the URL (required) and the headers it reserves.
func (v *validator) httpAction(p string, h *HTTPAction) {
	v.oneOf(join(p, "format"), h.Format, "cloudevents", "binary", "original")
	v.oneOf(join(p, "method"), strings.ToUpper(h.Method), "POST", "PUT", "PATCH")
	if h.Timeout < 0 {
		v.errorf(join(p, "timeout"), "must not be negative")
	}
	for i, s := range h.RetryOn {
		if s < 400 || s > 499 {
			v.errorf(fmt.Sprintf("%s[%d]", join(p, "retry_on"), i), "%d is not a 4xx status (5xx, 408 and 429 are always retried)", s)
		}
	}
	v.headerNames(join(p, "headers"), h.Headers)
}

// execAction checks an exec block; the action checks the command
// (required) and the directory against the machine.
func (v *validator) execAction(p string, e *ExecAction) {
	if e.Timeout < 0 {
		v.errorf(join(p, "timeout"), "must not be negative")
	}
	if e.OutputLimit < 0 {
		v.errorf(join(p, "output_limit"), "must not be negative")
	} else if e.OutputLimit > GiB {
		v.errorf(join(p, "output_limit"), "%s is more than 1GiB", e.OutputLimit)
	}
	if e.Coalesce && e.Serialize == "" {
		v.errorf(join(p, "coalesce"), "needs serialize: coalescing keeps the newest waiting event of a serialize key")
	}
}

// headerNames checks the names of a block's extra headers.
func (v *validator) headerNames(p string, h map[string]Secret) {
	for name := range h {
		if !headerRE.MatchString(name) {
			v.errorf(join(p, name), "%q is not a valid HTTP header name", name)
		}
	}
}

// oneOf checks that s, the value at path, is one of allowed.
func (v *validator) oneOf(path, s string, allowed ...string) {
	if !slices.Contains(allowed, s) {
		v.errorf(path, "%q is not one of %s", s, strings.Join(allowed, ", "))
	}
}

// validAdminHost reports whether s is an admin.hosts entry: "*", a host
// name (optionally "*." before it) or an IP address (IPv6 with or without
// brackets), without a port.
func validAdminHost(s string) bool {
	if s == "*" {
		return true
	}
	if a := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"); a != "" {
		if _, err := netip.ParseAddr(a); err == nil {
			return true
		}
	}
	s = strings.TrimPrefix(s, "*.")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
