// Package httpaction implements the http action: it sends each event to an
// HTTP endpoint, as a CloudEvent in structured mode (the stored record, the
// default) or binary mode, optionally signed with Standard Webhooks
// headers; or, with format original, as the forge's own delivery re-signed
// in the forge's scheme with the target's secret, so that a tool that
// expects a GitHub or GitLab webhook gets one.
//
// One Do is one HTTP request. 2xx succeeds. Network errors, timeouts, 408,
// 429 and 5xx fail with Retry set (and RetryAfter from a Retry-After
// header); other statuses fail without it, except those listed in
// retry_on. Redirects are not followed: a 3xx fails without Retry and its
// error names the Location.
//
// Every request carries the event id (X-Forgehook-Event-Id; also ce-id in
// binary mode and webhook-id when signed), so that the receiver can drop
// the duplicates that at-least-once delivery implies.
package httpaction

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"slices"
	"strings"
	"time"

	"github.com/forgehook/forgehook/internal/action"
	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/redact"
	"github.com/forgehook/forgehook/internal/verify"
)

// The values of the format key.
const (
	// FormatCloudEvents sends the stored record as a structured-mode
	// CloudEvent (Content-Type application/cloudevents+json).
	FormatCloudEvents = "cloudevents"
	// FormatBinary sends a binary-mode CloudEvent: the record's data as
	// the body, every envelope attribute in a ce-* header.
	FormatBinary = "binary"
	// FormatOriginal sends the forge's own body and headers, re-signed
	// with the action's secret in the forge's own scheme.
	FormatOriginal = "original"
	// FormatArgo sends the event in Argo Events' shape ({"context": ...,
	// "data": {"header": ..., "body": ...}}, event.Argo), signed like the
	// CloudEvents formats.
	FormatArgo = "argo"
)

// DefaultTimeout bounds one request when the timeout key is not set.
const DefaultTimeout = 30 * time.Second

// UserAgent is the User-Agent of every request.
const UserAgent = "forgehook"

// HeaderEventID carries the event id on every request.
const HeaderEventID = "X-Forgehook-Event-Id"

// Action is an http action. It is immutable after New and safe for
// concurrent use.
type Action struct {
	url     *url.URL
	rawURL  string // url as text, for each request
	target  string // the URL through redact.URL, for messages
	format  string
	secret  config.Secret
	swKey   []byte // the Standard Webhooks key of secret
	headers http.Header
	timeout time.Duration
	// errTimeout ends an attempt at the timeout; it wraps
	// context.DeadlineExceeded.
	errTimeout error
	retryOn    []int
	method     string
	signer     func(forgeID string) forge.Signer
	client     *http.Client
	now        func() time.Time
}

var (
	_ action.Action = (*Action)(nil)
	_ action.Closer = (*Action)(nil)
)

// New returns the http action that c configures; c is decoded, defaulted
// and checked by package config (Trigger.ApplyDefaults, Validate). New
// checks what it alone knows (the URL, the headers it reserves); its errors
// are action.KeyErrors and never show a secret or a header value.
// env.Signer is used by format original; env.Logger and env.Stdout are not
// used.
func New(c *config.HTTPAction, env action.Env) (action.Action, error) {
	a := &Action{
		format:  c.Format,
		secret:  c.Secret,
		timeout: c.Timeout.D(),
		retryOn: slices.Clone(c.RetryOn),
		method:  strings.ToUpper(c.Method),
		signer:  env.Signer,
		now:     time.Now,
	}
	if a.format == "" || a.method == "" || a.timeout <= 0 {
		return nil, errors.New("http: block without its defaults (config.HTTPAction.ApplyDefaults)")
	}
	var err error
	if a.url, err = parseTarget(c.URL); err != nil {
		return nil, err
	}
	a.rawURL = a.url.String()
	a.target = redact.URL(a.url.String())
	if a.secret != "" {
		a.swKey = verify.StandardWebhooksKey(a.secret.Reveal())
	}
	if a.headers, err = checkHeaders(c.Headers); err != nil {
		return nil, err
	}
	a.errTimeout = fmt.Errorf("no response within %s: %w", a.timeout, context.DeadlineExceeded)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// Keep a connection per concurrent delivery to the one host a trigger
	// targets (the default of 2 would make most deliveries dial).
	tr.MaxIdleConnsPerHost = 256
	tr.MaxIdleConns = 256
	// Write a request's head and body in one system call: with the
	// default 4 KiB buffer, a typical record (8 to 30 KB) took two writes
	// and a copy buffer allocated per request.
	tr.WriteBufferSize = writeBufferSize
	a.client = &http.Client{
		Transport: tr,
		// Redirects are failures: following one would send the event,
		// and its signature, to an address nobody configured.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return a, nil
}

// parseTarget checks the url key.
func parseTarget(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, action.KeyErrorf("url", "required")
	}
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL, which may hold credentials
		}
		return nil, action.KeyErrorf("url", "not a valid URL: %w", err)
	}
	switch u.Scheme {
	case "http", "https":
	default:
		return nil, action.KeyErrorf("url", "scheme %q is not http or https", u.Scheme)
	}
	if u.Host == "" {
		return nil, action.KeyErrorf("url", "no host")
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// reservedHeaders are set by the action and cannot be configured.
var reservedHeaders = []string{
	"Host", "Content-Length", "Content-Type", "Content-Encoding", "Transfer-Encoding",
	"Connection", "Keep-Alive", "Te", "Trailer", "Upgrade", "Proxy-Connection",
	"User-Agent", HeaderEventID,
}

// checkHeaders turns the headers key into request headers, refusing those
// the action sets (config has checked the names' syntax). Values are never
// shown: they may be credentials.
func checkHeaders(in map[string]config.Secret) (http.Header, error) {
	h := make(http.Header, len(in))
	names := make([]string, 0, len(in))
	for k := range in {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		c := http.CanonicalHeaderKey(k)
		lc := strings.ToLower(c)
		if slices.Contains(reservedHeaders, c) || strings.HasPrefix(lc, "ce-") || strings.HasPrefix(lc, "webhook-") {
			return nil, action.KeyErrorf("headers", "%q is set by the action and cannot be configured", k)
		}
		if _, dup := h[c]; dup {
			return nil, action.KeyErrorf("headers", "%q is given twice", k)
		}
		if strings.ContainsAny(in[k].Reveal(), "\r\n\x00") {
			return nil, action.KeyErrorf("headers", "the value of %q contains a line break or NUL", k)
		}
		h.Set(c, in[k].Reveal())
	}
	return h, nil
}

// Close releases the action's idle connections.
func (a *Action) Close() error {
	a.client.CloseIdleConnections()
	return nil
}

// writeBufferSize is the size of each connection's write buffer: a
// request whose head and body fit in it is sent with one write.
const writeBufferSize = 32 << 10

// drainLimit bounds how much of a response body beyond the excerpt is read
// so that its connection can be reused.
const drainLimit = 64 << 10

// Do sends in once. It returns when the response has been read, the
// timeout has passed or ctx is done, whichever comes first. The error
// names the method and the redacted URL, never the secret; Result.Output
// is an excerpt of the response body. See the package documentation for
// which failures are retried.
func (a *Action) Do(ctx context.Context, in action.Input) (action.Result, error) {
	if err := context.Cause(ctx); err != nil {
		return action.Result{Retry: true}, fmt.Errorf("%s %s: %w", a.method, a.target, err)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, a.timeout, a.errTimeout)
	defer cancel()
	req, err := a.request(ctx, in)
	if err != nil {
		return action.Result{}, fmt.Errorf("%s %s: %w", a.method, a.target, err)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL, which may hold credentials
		}
		if errors.Is(context.Cause(ctx), a.errTimeout) && !errors.Is(err, a.errTimeout) {
			err = fmt.Errorf("%w (%w)", a.errTimeout, err)
		}
		return action.Result{Retry: true}, fmt.Errorf("%s %s: %w", a.method, a.target, err)
	}
	defer resp.Body.Close()
	var body []byte
	if resp.Body != http.NoBody { // a 204, or a Content-Length of 0
		body, _ = io.ReadAll(io.LimitReader(resp.Body, action.OutputLimit+1))
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
	}
	res := action.Result{Status: resp.StatusCode, Output: action.Excerpt(body)}
	switch code := resp.StatusCode; {
	case code >= 200 && code <= 299:
		return res, nil
	case code >= 300 && code <= 399:
		loc := "no Location"
		if l, err := resp.Location(); err == nil {
			loc = "to " + redact.URL(l.String())
		}
		return res, fmt.Errorf("%s %s: %w: %s %s (redirects are not followed: set url to the final address)",
			a.method, a.target, ErrRedirect, resp.Status, loc)
	default:
		res.Retry = Retryable(code, a.retryOn)
		if res.Retry {
			res.RetryAfter, _ = ParseRetryAfter(resp.Header.Get("Retry-After"), a.now())
		}
		return res, fmt.Errorf("%s %s: %w: %s", a.method, a.target, ErrStatus, resp.Status)
	}
}

// ErrStatus is wrapped by the error of an attempt that got a response with
// a status other than 2xx or 3xx.
var ErrStatus = errors.New("target answered")

// ErrRedirect is wrapped by the error of an attempt that got a 3xx.
var ErrRedirect = errors.New("target redirected")

// Retryable reports whether a failure with HTTP status code is worth
// another attempt: 408, 429, 5xx, and any status in extra.
func Retryable(code int, extra []int) bool {
	switch {
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests:
		return true
	case code >= 500 && code <= 599:
		return true
	}
	return slices.Contains(extra, code)
}
