package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/forgehook/forgehook/internal/action/httpaction"
	"github.com/forgehook/forgehook/internal/api"
	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/all"
	"github.com/forgehook/forgehook/internal/redact"
)

// forwarder relays one endpoint's events from a remote forgehook to a
// local target: `forgehook forward`.
type forwarder struct {
	client   *api.Client
	name     string
	endpoint string
	target   string // the local URL
	since    time.Duration
	secret   string
	skip     bool
	local    *http.Client
	out      io.Writer
	signers  map[string]forge.Signer
	registry *forge.Registry
	now      func() time.Time

	// delivered is the sequence of the last event this process delivered
	// (2xx, or skipped); acked the last the server confirmed. An event
	// delivered but not acked (the ack failed) is acked, not re-sent,
	// when the server sends it again after a reconnect.
	delivered, acked uint64
	minWait, maxWait time.Duration
}

func runForward(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "forward")
	admin := env.Getenv("FORGEHOOK_ADMIN")
	var tokenFile, secretFile string
	f := &forwarder{out: env.Stdout, now: time.Now, minWait: 500 * time.Millisecond, maxWait: 30 * time.Second}
	var token string
	fs.StringVar(&admin, "admin", admin, "the remote forgehook's admin URL, e.g. https://gw.example ($FORGEHOOK_ADMIN)")
	fs.StringVar(&token, "token", token, "a relay token of the endpoint, or the admin token ($FORGEHOOK_RELAY_TOKEN, else $FORGEHOOK_ADMIN_TOKEN)")
	fs.StringVar(&tokenFile, "token-file", "", "read the token from this file")
	fs.StringVar(&f.endpoint, "endpoint", "", "the endpoint whose events to relay (required)")
	fs.StringVar(&f.target, "to", "", "the local URL to send each delivery to, e.g. http://localhost:3000/webhook (required)")
	fs.StringVar(&f.name, "name", "", "the relay's name: the server keeps one cursor per name (default: this host's name)")
	fs.DurationVar(&f.since, "since", 0, "for a relay the server does not know yet: start with the events stored this long ago (e.g. 1h); default: the next event")
	fs.StringVar(&f.secret, "secret", "", "re-sign each delivery with this secret in the forge's own scheme ($FORGEHOOK_FORWARD_SECRET)")
	fs.StringVar(&secretFile, "secret-file", "", "read --secret from this file")
	fs.BoolVar(&f.skip, "skip-failed", false, "when the local target fails (non-2xx or unreachable), print it and go on instead of retrying")
	timeout := fs.Duration("timeout", 30*time.Second, "how long the local target may take to answer")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	// Secrets from the environment are read after the flags, so that
	// -h never prints them as defaults.
	if token == "" && tokenFile == "" {
		token = cmpOr(env.Getenv("FORGEHOOK_RELAY_TOKEN"), env.Getenv("FORGEHOOK_ADMIN_TOKEN"))
	}
	if f.secret == "" && secretFile == "" {
		f.secret = env.Getenv("FORGEHOOK_FORWARD_SECRET")
	}
	var err error
	if token, err = readFlagFile(token, tokenFile, "token"); err != nil {
		return err
	}
	if f.secret, err = readFlagFile(f.secret, secretFile, "secret"); err != nil {
		return err
	}
	if err := f.check(admin, *timeout); err != nil {
		return err
	}
	f.client = &api.Client{BaseURL: admin, Token: token, HTTP: &http.Client{Timeout: 30 * time.Second}}
	f.local = &http.Client{
		Timeout: *timeout,
		// A redirect is the target's answer, printed as such.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	f.registry = all.Registry()
	f.signers = map[string]forge.Signer{}
	return f.run(ctx)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// readFlagFile returns the content of file when it is set (an error when
// val is set too), else val.
func readFlagFile(val, file, name string) (string, error) {
	if file == "" {
		return val, nil
	}
	if val != "" {
		return "", fmt.Errorf("%w: set --%s or --%s-file, not both", errUsage, name, name)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("--%s-file: %w", name, err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// check validates the flags.
func (f *forwarder) check(admin string, timeout time.Duration) error {
	if f.endpoint == "" {
		return fmt.Errorf("%w: --endpoint is required", errUsage)
	}
	for _, u := range []struct{ flag, val string }{{"--admin", admin}, {"--to", f.target}} {
		if u.val == "" {
			return fmt.Errorf("%w: %s is required", errUsage, u.flag)
		}
		p, err := url.Parse(u.val)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fmt.Errorf("%w: %s %q: want an http:// or https:// URL", errUsage, u.flag, redact.URL(u.val))
		}
	}
	if f.name == "" {
		h, _ := os.Hostname()
		f.name = relayName(h)
	}
	if !validRelayName(f.name) {
		return fmt.Errorf("%w: --name %q: 1 to 64 letters, digits, '-' or '_', starting with a letter or digit", errUsage, f.name)
	}
	if f.since < 0 {
		return fmt.Errorf("%w: --since must be positive", errUsage)
	}
	if timeout <= 0 {
		return fmt.Errorf("%w: --timeout must be positive", errUsage)
	}
	return nil
}

func validRelayName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i, c := range s {
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if !alnum && (i == 0 || c != '-' && c != '_') {
			return false
		}
	}
	return true
}

// relayName makes a relay name of a host name: its first label, with
// every other character than letters, digits, '-' and '_' replaced.
func relayName(host string) string {
	host, _, _ = strings.Cut(host, ".")
	b := []byte(host)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			b[i] = '-'
		}
	}
	s := strings.TrimLeft(string(b), "-_")
	if len(s) > 64 {
		s = s[:64]
	}
	if s == "" {
		return "relay"
	}
	return s
}

// backoff returns the wait before retry n (1, 2, ...): exponential from
// minWait to maxWait, with half of it random.
func (f *forwarder) backoff(n int) time.Duration {
	d := f.minWait
	for i := 1; i < n && d < f.maxWait; i++ {
		d *= 2
	}
	d = min(d, f.maxWait)
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// errFatal marks an error that reconnecting cannot cure.
var errFatal = errors.New("fatal")

// run relays until ctx ends (nil) or a fatal error.
func (f *forwarder) run(ctx context.Context) error {
	f.printf("forgehook forward: relay %q of endpoint %q from %s to %s", f.name, f.endpoint, redact.URL(f.client.BaseURL), redact.URL(f.target))
	fails := 0
	for {
		st, err := f.client.OpenRelay(ctx, api.RelayOptions{Name: f.name, Endpoint: f.endpoint, Since: f.since, LastEventID: f.acked})
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			var se *api.StatusError
			if errors.As(err, &se) {
				switch se.Status {
				case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
					return fmt.Errorf("the server refused the relay: %d: %s", se.Status, se.Message)
				}
			}
			fails++
			wait := f.backoff(fails)
			f.printf("cannot connect: %v; retrying in %s", err, wait.Round(time.Millisecond))
			if sleep(ctx, wait) != nil {
				return nil
			}
			continue
		}
		fails = 0
		if c := st.Cursor; c.Acked == 0 && !c.Since.IsZero() {
			f.printf("connected: relaying the events stored since %s", c.Since.Local().Format(time.RFC3339))
		} else {
			f.printf("connected: relaying the events stored after #%d", c.Acked)
		}
		err = f.pump(ctx, st)
		st.Close()
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, errFatal) {
			return err
		}
		fails++
		wait := f.backoff(fails)
		f.printf("disconnected: %v; reconnecting in %s", err, wait.Round(time.Millisecond))
		if sleep(ctx, wait) != nil {
			return nil
		}
	}
}

// pump delivers the stream's events one by one, in order, acknowledging
// each after the local target took it.
func (f *forwarder) pump(ctx context.Context, st *api.RelayStream) error {
	for {
		m, err := st.Next()
		if err != nil {
			return err
		}
		if m.Gap != nil {
			f.printf("WARNING: events stored before #%d expired on the server before this relay took them", m.Gap.First)
			continue
		}
		ev := m.Event
		if ev.Seq > f.delivered {
			if err := f.deliver(ctx, ev); err != nil {
				return err
			}
			f.delivered = ev.Seq
		}
		c, err := f.client.AckRelay(ctx, f.name, f.endpoint, ev.Seq)
		if err != nil {
			return fmt.Errorf("acknowledge #%d: %w", ev.Seq, err)
		}
		f.acked = c.Acked
	}
}

// deliver sends ev to the local target until it answers 2xx (or, with
// --skip-failed, once), printing every attempt.
func (f *forwarder) deliver(ctx context.Context, ev *api.RelayEvent) error {
	what := fmt.Sprintf("#%d %s", ev.Seq, describe(ev))
	for attempt := 1; ; attempt++ {
		req, err := f.request(ctx, ev)
		if err != nil {
			return fmt.Errorf("%w: %s: %v", errFatal, what, err)
		}
		t0 := time.Now()
		resp, err := f.local.Do(req)
		lat := time.Since(t0)
		var outcome string
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				f.printf("%s -> %s in %s", what, resp.Status, roundLatency(lat))
				return nil
			}
			outcome = resp.Status
		} else {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			outcome = "error: " + redact.URLs(err.Error())
		}
		if f.skip {
			f.printf("%s -> %s in %s: skipped (--skip-failed)", what, outcome, roundLatency(lat))
			return nil
		}
		wait := f.backoff(attempt)
		f.printf("%s -> %s in %s; retrying in %s (attempt %d)", what, outcome, roundLatency(lat), wait.Round(time.Millisecond), attempt)
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// request builds the forge's own delivery of ev for the local target: its
// own headers and exact body, re-signed with --secret in its own scheme
// (as the http action's format original does).
func (f *forwarder) request(ctx context.Context, ev *api.RelayEvent) (*http.Request, error) {
	e := &event.Event{ID: ev.ID, Forge: ev.Forge, Endpoint: ev.Endpoint,
		Data: event.Data{Header: ev.Header, Body: ev.RawBody()}}
	h := httpaction.OriginalHeaders(e)
	var s forge.Signer
	if f.secret != "" {
		s = f.signer(ev.Forge)
	}
	if err := httpaction.SignOriginal(h, e, s, f.secret, f.now()); err != nil {
		return nil, fmt.Errorf("re-sign: %w (forward without --secret)", err)
	}
	h.Set(httpaction.HeaderEventID, ev.ID)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.target, bytes.NewReader(e.Data.Body))
	if err != nil {
		return nil, errors.New("cannot build the request to --to")
	}
	req.Header = h
	return req, nil
}

// signer returns the signer of forge id (nil if it cannot sign).
func (f *forwarder) signer(id string) forge.Signer {
	if s, ok := f.signers[id]; ok {
		return s
	}
	var s forge.Signer
	if p, err := f.registry.New(&config.Endpoint{Name: "forward", Provider: id}); err == nil {
		s, _ = p.(forge.Signer)
	}
	f.signers[id] = s
	return s
}

func describe(ev *api.RelayEvent) string {
	s := ev.Forge + " " + ev.ForgeEvent
	if ev.ForgeAction != "" {
		s += "/" + ev.ForgeAction
	}
	if ev.Delivery != "" {
		s += " (delivery " + ev.Delivery + ")"
	}
	return s
}

func roundLatency(d time.Duration) time.Duration {
	if d < time.Millisecond {
		return d.Round(time.Microsecond)
	}
	return d.Round(time.Millisecond)
}

func (f *forwarder) printf(format string, args ...any) {
	fmt.Fprintf(f.out, "%s %s\n", f.now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
