// Package hookhttp is the HTTP plumbing shared by the forge clients of
// package hooks: JSON requests and answers, the credential header, the
// mapping of error answers to *hooks.APIError (with the permission each
// forge needs on 401 and 403), paging by Link header or page number, and
// the forges' rate-limit headers, honoured by waiting under the caller's
// context.
//
// A Client never follows a URL to another origin than its API base (a Link
// or "next" URL pointing elsewhere is an error), never puts the credential
// or the query string in a log line or an error, and reads at most MaxBody
// bytes of an answer.
package hookhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/forgehook/forgehook/internal/hooks"
)

// Defaults of a Client.
const (
	// DefaultMaxBody bounds an answer's body.
	DefaultMaxBody = 8 << 20
	// DefaultMaxWait is the longest rate-limit wait a Client sits out by
	// itself; a longer one fails with ErrRateLimited at once.
	DefaultMaxWait = 5 * time.Minute
	// DefaultRetries is how many times one call is retried after a
	// rate-limit answer (429, or 403 with a rate-limit header).
	DefaultRetries = 3
	// DefaultMaxPages bounds the pages one List reads (a forge that loops
	// its paging cannot hold the client forever).
	DefaultMaxPages = 1000
	// defaultTimeout is the timeout of the HTTP client made when none is given.
	defaultTimeout = 30 * time.Second
)

// ErrRateLimited is returned when the forge's rate limit asks for a wait
// longer than MaxWait or past the context's deadline, or is still hit after
// the retries.
var ErrRateLimited = errors.New("rate limited by the forge")

// ErrOrigin is returned when a paging URL points outside the API base.
var ErrOrigin = errors.New("paging URL outside the API origin")

// Client sends JSON calls to one forge's API. Its zero value is not usable:
// build it with New. A Client is safe for concurrent use; it keeps the time
// before which the forge asked it not to call again (remaining 0 with a
// reset time) and every call waits for it.
type Client struct {
	forge   string
	base    *url.URL
	http    *http.Client
	log     *slog.Logger
	auth    func(*http.Request)
	header  http.Header
	maxBody int64
	maxWait time.Duration
	retries int
	// sleep waits d or until ctx is done; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
	now   func() time.Time

	mu        sync.Mutex
	notBefore time.Time // guarded by mu
}

// Config is what New needs.
type Config struct {
	// Forge is the provider id named in errors and log lines.
	Forge string
	// Base is the API base URL (scheme, host and path prefix).
	Base string
	// HTTP is the client used (nil: one with a 30 s timeout).
	HTTP *http.Client
	// Logger gets one debug line per call and an info line per rate-limit wait (nil: discard).
	Logger *slog.Logger
	// Auth sets the credential on each request (nil: none).
	Auth func(*http.Request)
	// Header is set on every request after the defaults (Accept:
	// application/json), e.g. GitHub's Accept and X-GitHub-Api-Version.
	Header http.Header
	// MaxBody, MaxWait, Retries: zero means the defaults above.
	MaxBody int64
	MaxWait time.Duration
	Retries int
	// Sleep replaces the wait used for rate limits (tests); nil uses a timer under ctx.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now replaces the clock (tests); nil uses time.Now.
	Now func() time.Time
}

// New returns a Client for the API at c.Base, or an error when Base is not
// an absolute http or https URL.
func New(c Config) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(c.Base, "/"))
	if err != nil {
		return nil, fmt.Errorf("%s: api_url: %w", c.Forge, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s: api_url %q: want an absolute http or https URL", c.Forge, c.Base)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("%s: api_url %q: no query, fragment or user info allowed", c.Forge, u.Redacted())
	}
	cl := &Client{
		forge: c.Forge, base: u, http: c.HTTP, log: c.Logger, auth: c.Auth, header: c.Header.Clone(),
		maxBody: c.MaxBody, maxWait: c.MaxWait, retries: c.Retries, sleep: c.Sleep, now: c.Now,
	}
	if cl.http == nil {
		cl.http = &http.Client{Timeout: defaultTimeout}
	}
	if cl.log == nil {
		cl.log = slog.New(slog.DiscardHandler)
	}
	if cl.maxBody <= 0 {
		cl.maxBody = DefaultMaxBody
	}
	if cl.maxWait <= 0 {
		cl.maxWait = DefaultMaxWait
	}
	if cl.retries <= 0 {
		cl.retries = DefaultRetries
	}
	if cl.sleep == nil {
		cl.sleep = Sleep
	}
	if cl.now == nil {
		cl.now = time.Now
	}
	return cl, nil
}

// Forge returns the provider id the client was built for.
func (c *Client) Forge() string { return c.forge }

// Base returns the API base URL (without a trailing slash).
func (c *Client) Base() string { return c.base.String() }

// Call is one request.
type Call struct {
	// Op names the call in errors ("list hooks on repo:acme/app").
	Op string
	// Method is the HTTP method.
	Method string
	// Path is appended to the API base; its segments must already be
	// escaped (url.PathEscape), so "group%2Fproject" stays one segment.
	// An absolute URL (a Link "next") is used as is after an origin check.
	Path string
	// Query is added to the URL.
	Query url.Values
	// Body, when not nil, is sent as JSON.
	Body any
	// Out, when not nil, receives the JSON answer of a 2xx status.
	Out any
	// Permission is named in the APIError of a 401 or 403.
	Permission string
	// HiddenAs404 marks forges that answer 404 where the credential may
	// not see the resource (GitHub): the APIError of a 404 then carries
	// Permission too, and its message says so.
	HiddenAs404 bool
}

// Response is what a call returned besides its decoded body.
type Response struct {
	// Status is the HTTP status of the answer.
	Status int
	// Header holds the answer's headers.
	Header http.Header
	// Body is the raw answer (at most MaxBody bytes).
	Body []byte
}

// Do sends the call, waiting first when an earlier answer exhausted the
// rate limit, and retrying after a rate-limit answer (Retry-After, or a
// reset time) as long as the wait fits MaxWait and ctx. A non-2xx answer is
// a *hooks.APIError; a transport error is wrapped with the op (never with
// the URL, which may carry a token in its query).
func (c *Client) Do(ctx context.Context, call Call) (*Response, error) {
	u, err := c.url(call)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", c.forge, call.Op, err)
	}
	var body []byte
	if call.Body != nil {
		body, err = json.Marshal(call.Body)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: encode request: %w", c.forge, call.Op, err)
		}
	}
	for attempt := 0; ; attempt++ {
		if err := c.waitGate(ctx, call.Op); err != nil {
			return nil, err
		}
		resp, err := c.once(ctx, call, u, body)
		if err != nil {
			return nil, err
		}
		wait, limited := RateLimitWait(resp.Status, resp.Header, c.now())
		if !limited {
			if resp.Status/100 != 2 {
				return resp, c.apiError(call, resp)
			}
			if call.Out != nil && signInPage(resp) {
				// Azure DevOps answers a refused PAT with 203 and its sign-in page.
				resp.Status = http.StatusUnauthorized
				e := c.apiError(call, resp).(*hooks.APIError)
				e.Message = "the forge answered a sign-in page: the credential was refused"
				return resp, e
			}
			if call.Out != nil && len(bytes.TrimSpace(resp.Body)) > 0 {
				if err := json.Unmarshal(resp.Body, call.Out); err != nil {
					return resp, fmt.Errorf("%s: %s: decode answer: %w", c.forge, call.Op, err)
				}
			}
			return resp, nil
		}
		if attempt >= c.retries {
			return resp, fmt.Errorf("%s: %s: %w after %d retries: %w", c.forge, call.Op, ErrRateLimited, attempt, c.apiError(call, resp))
		}
		if err := c.pause(ctx, call.Op, wait); err != nil {
			return resp, err
		}
	}
}

// url builds the request URL of a call.
func (c *Client) url(call Call) (*url.URL, error) {
	var u *url.URL
	var err error
	if strings.HasPrefix(call.Path, "http://") || strings.HasPrefix(call.Path, "https://") {
		u, err = url.Parse(call.Path)
		if err != nil {
			return nil, fmt.Errorf("paging URL: %w", err)
		}
		if !SameOrigin(c.base, u) {
			return nil, fmt.Errorf("%w: %s://%s", ErrOrigin, u.Scheme, u.Host)
		}
	} else {
		u, err = url.Parse(c.base.String() + call.Path)
		if err != nil {
			return nil, fmt.Errorf("path: %w", err)
		}
	}
	if len(call.Query) > 0 {
		q := u.Query()
		for k, vs := range call.Query {
			q[k] = vs
		}
		u.RawQuery = q.Encode()
	}
	return u, nil
}

// SameOrigin reports whether u has the scheme and host of base, and a path
// under base's path: the only URLs a Client sends its credential to.
func SameOrigin(base, u *url.URL) bool {
	if u == nil || !strings.EqualFold(u.Scheme, base.Scheme) || !strings.EqualFold(u.Host, base.Host) || u.User != nil {
		return false
	}
	p := strings.TrimRight(base.EscapedPath(), "/")
	return p == "" || u.EscapedPath() == p || strings.HasPrefix(u.EscapedPath(), p+"/")
}

// once sends one request and reads its answer.
func (c *Client) once(ctx context.Context, call Call, u *url.URL, body []byte) (*Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, call.Method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: build request: %w", c.forge, call.Op, redactURLError(err))
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	if c.auth != nil {
		c.auth(req)
	}
	start := c.now()
	res, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", c.forge, call.Op, redactURLError(err))
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, c.maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %s: read answer: %w", c.forge, call.Op, redactURLError(err))
	}
	c.log.Debug("forge call", "forge", c.forge, "op", call.Op, "method", call.Method, "path", u.EscapedPath(), "status", res.StatusCode, "duration", c.now().Sub(start))
	if int64(len(raw)) > c.maxBody {
		return nil, fmt.Errorf("%s: %s: answer larger than %d bytes", c.forge, call.Op, c.maxBody)
	}
	resp := &Response{Status: res.StatusCode, Header: res.Header, Body: raw}
	if until, ok := Exhausted(res.Header, c.now()); ok && res.StatusCode/100 == 2 {
		c.mu.Lock()
		if until.After(c.notBefore) {
			c.notBefore = until
		}
		c.mu.Unlock()
	}
	return resp, nil
}

// redactURLError drops the URL from a *url.Error (its query may hold a token).
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// waitGate waits until the time an earlier answer said the limit resets.
func (c *Client) waitGate(ctx context.Context, op string) error {
	c.mu.Lock()
	d := c.notBefore.Sub(c.now())
	c.mu.Unlock()
	if d <= 0 {
		return nil
	}
	return c.pause(ctx, op, d)
}

// pause waits d under ctx, or fails at once when d exceeds MaxWait or the
// ctx deadline.
func (c *Client) pause(ctx context.Context, op string, d time.Duration) error {
	if d > c.maxWait {
		return fmt.Errorf("%s: %s: %w: the forge asks for a wait of %s, more than %s", c.forge, op, ErrRateLimited, d.Round(time.Second), c.maxWait)
	}
	if dl, ok := ctx.Deadline(); ok && c.now().Add(d).After(dl) {
		return fmt.Errorf("%s: %s: %w: the forge asks for a wait of %s, past the deadline", c.forge, op, ErrRateLimited, d.Round(time.Second))
	}
	c.log.Info("forge rate limit: waiting", "forge", c.forge, "op", op, "wait", d)
	if err := c.sleep(ctx, d); err != nil {
		return fmt.Errorf("%s: %s: waiting for the rate limit: %w", c.forge, op, err)
	}
	return nil
}

// Sleep waits d, or until ctx is done and then returns its cause: the
// wait of a rate limit or a pacing between calls to a forge.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// apiError builds the *hooks.APIError of an answer.
func (c *Client) apiError(call Call, resp *Response) error {
	e := &hooks.APIError{Forge: c.forge, Op: call.Op, Status: resp.Status, Message: Message(resp.Body)}
	if resp.Status == http.StatusUnauthorized || resp.Status == http.StatusForbidden {
		e.Permission = call.Permission
	}
	if resp.Status == http.StatusNotFound && call.HiddenAs404 {
		e.Permission = call.Permission
		e.Message = strings.TrimPrefix(e.Message+"; ", "; ") + "the forge also answers 404 when the credential may not see the resource: it needs " + call.Permission
	}
	return e
}

// maxMessage bounds the forge message kept in an APIError.
const maxMessage = 300

// Message extracts a short human message from an error answer: the
// "message", "error_description", "error" (string or {message}), "errors"
// or "detail" field of a JSON body, else the start of the text. The result
// is one line of at most 300 bytes of valid UTF-8.
func Message(body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return ""
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) == nil {
		var parts []string
		for _, k := range []string{"message", "error_description", "error", "errors", "detail", "msg"} {
			raw, ok := m[k]
			if !ok {
				continue
			}
			if s := rawText(raw); s != "" && !slices.Contains(parts, s) {
				parts = append(parts, s)
			}
			if len(parts) == 2 {
				break
			}
		}
		if len(parts) > 0 {
			return shorten(strings.Join(parts, ": "))
		}
	}
	if body[0] == '{' || body[0] == '[' {
		return shorten(string(body))
	}
	if body[0] == '<' { // an HTML error page says nothing useful
		return ""
	}
	return shorten(string(body))
}

// rawText renders a JSON value as text: strings as is, objects by their
// "message" or "context" field, arrays by their first element, other values
// compactly.
func rawText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o map[string]json.RawMessage
	if json.Unmarshal(raw, &o) == nil {
		for _, k := range []string{"message", "detail"} {
			if v, ok := o[k]; ok {
				return rawText(v)
			}
		}
	}
	var a []json.RawMessage
	if json.Unmarshal(raw, &a) == nil {
		if len(a) == 0 {
			return ""
		}
		return rawText(a[0])
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) == nil {
		return b.String()
	}
	return string(raw)
}

// shorten makes s one line of at most maxMessage bytes of valid UTF-8.
func shorten(s string) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= maxMessage {
		return s
	}
	cut := maxMessage
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// RateLimitWait reads a rate-limit answer: it reports limited for a 429,
// and for a 403 that carries Retry-After or a remaining count of 0 (GitHub's
// primary and secondary limits answer 403), and how long to wait before the
// retry: Retry-After (seconds or an HTTP date), else the reset time of
// X-RateLimit-Reset / RateLimit-Reset (epoch seconds, or seconds from now
// when small), else one minute for a 429 without a hint. A 503 with
// Retry-After is also limited.
func RateLimitWait(status int, h http.Header, now time.Time) (time.Duration, bool) {
	ra, hasRA := RetryAfter(h, now)
	switch status {
	case http.StatusTooManyRequests:
	case http.StatusForbidden:
		if !hasRA {
			if rem, ok := remaining(h); !ok || rem != 0 {
				return 0, false
			}
		}
	case http.StatusServiceUnavailable:
		if !hasRA {
			return 0, false
		}
	default:
		return 0, false
	}
	if hasRA {
		return ra, true
	}
	if until, ok := reset(h, now); ok {
		return max(until.Sub(now), 0), true
	}
	return time.Minute, true
}

// Exhausted reports the reset time when the headers say no request remains
// (x-ratelimit-remaining / RateLimit-Remaining 0 and a reset time).
func Exhausted(h http.Header, now time.Time) (time.Time, bool) {
	rem, ok := remaining(h)
	if !ok || rem != 0 {
		return time.Time{}, false
	}
	return reset(h, now)
}

// RetryAfter parses Retry-After as delay seconds or an HTTP date; a date in
// the past is a zero wait. Negative or unparsable values are absent.
func RetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 || n > maxHeaderSeconds {
			return 0, false
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// maxHeaderSeconds caps delays read from headers (about 31 years) so a
// conversion to time.Duration cannot overflow.
const maxHeaderSeconds = 1 << 30

// remaining reads x-ratelimit-remaining or RateLimit-Remaining.
func remaining(h http.Header) (int64, bool) {
	for _, k := range []string{"X-RateLimit-Remaining", "RateLimit-Remaining"} {
		if v := strings.TrimSpace(h.Get(k)); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return 0, false
			}
			return n, true
		}
	}
	return 0, false
}

// reset reads x-ratelimit-reset or RateLimit-Reset: epoch seconds (GitHub,
// GitLab, Azure DevOps), or, for values below a year's seconds, a delay in
// seconds (the IETF RateLimit header draft).
func reset(h http.Header, now time.Time) (time.Time, bool) {
	for _, k := range []string{"X-RateLimit-Reset", "RateLimit-Reset"} {
		v := strings.TrimSpace(h.Get(k))
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || n > 1<<40 {
			return time.Time{}, false
		}
		if n < 365*24*3600 {
			return now.Add(time.Duration(n) * time.Second), true
		}
		return time.Unix(n, 0), true
	}
	return time.Time{}, false
}

// signInPage reports a 2xx answer that is an HTML page where JSON was
// expected (a login redirect followed, or Azure DevOps' 203).
func signInPage(resp *Response) bool {
	ct := strings.ToLower(resp.Header.Get("Content-Type"))
	b := bytes.TrimSpace(resp.Body)
	return strings.HasPrefix(ct, "text/html") || (resp.Status == http.StatusNonAuthoritativeInfo && len(b) > 0 && b[0] == '<')
}
