// Package ingest is the receive path: it routes /hooks/{endpoint}, bounds
// and decodes the request, authenticates it with the endpoint's forge
// scheme, answers pings, normalizes the delivery into the event record,
// and answers 2xx only once the log has acknowledged the event. It is the
// one place where errors become HTTP statuses.
package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/jsonx"
	"github.com/forgehook/forgehook/internal/store"
	"github.com/forgehook/forgehook/internal/verify"
)

// Log is where accepted events go: the store.
type Log interface {
	// Append stores an event and returns once it is durable; see
	// store.Store.Append. data is not retained after Append returns nil:
	// the caller reuses its array at once (ingest's pooled buffers). After
	// an error data may still be read (a publish whose acknowledgement was
	// not awaited may be sent again), so the caller leaves it alone.
	Append(ctx context.Context, endpoint, subject, id, key string, data []byte) (store.Result, error)
	// MarkVerified records an authentic ping.
	MarkVerified(ctx context.Context, endpoint, by string, t time.Time) error
}

// Endpoint is one configured receiver, ready to serve.
type Endpoint struct {
	// Name is the endpoint's name (subjects, logs, the API).
	Name string
	// Path is the URL segment: the name, or the unguessable key.
	Path     string
	Provider forge.Provider
	Secrets  []config.Secret
	Insecure bool
	Allow    verify.Allowlist
	MaxBody  int64
	// RefDedup makes a push or tag event's dedup key RefKey (repository,
	// ref, new head) instead of the delivery id: set on endpoints whose
	// heads recovery polls, so that a synthetic push and the real one are
	// stored once.
	RefDedup bool
	// ExpectTests makes ingest ask Options.Tests whether a push is the
	// test event recovery asked GitLab for (answered as a ping).
	ExpectTests bool

	limiter     *bucket
	credHeaders []string
}

// NewEndpoint builds a serving endpoint from its configuration and provider.
func NewEndpoint(ep *config.Endpoint, p forge.Provider, presets func(string) []string) (*Endpoint, error) {
	e := &Endpoint{
		Name:     ep.Name,
		Path:     ep.Name,
		Provider: p,
		Secrets:  ep.Secrets,
		Insecure: ep.Insecure,
		MaxBody:  int64(ep.MaxBody),
	}
	if ep.Key != "" {
		e.Path = ep.Key.Reveal()
	}
	if e.MaxBody <= 0 {
		e.MaxBody = 25 << 20
	}
	var entries []string
	for _, a := range ep.AllowIPs {
		if presets != nil {
			if p := presets(a); p != nil {
				entries = append(entries, p...)
				continue
			}
		}
		entries = append(entries, a)
	}
	allow, err := verify.ParseAllowlist(entries)
	if err != nil {
		return nil, fmt.Errorf("endpoint %q: allow_ips: %w", ep.Name, err)
	}
	e.Allow = allow
	if ep.RateLimit.PerSecond > 0 {
		e.limiter = newBucket(ep.RateLimit.PerSecond, ep.RateLimit.Burst)
	}
	e.credHeaders = forge.CredentialHeaders(p)
	return e, nil
}

// Options configures a Handler.
type Options struct {
	Log    Log
	Logger *slog.Logger
	// AckTimeout bounds the wait for the log's acknowledgement (default 5s).
	AckTimeout time.Duration
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies verify.Allowlist
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Observe, when set, is called once per request after the answer is
	// decided: for metrics and the quick-start's one line per event.
	Observe func(Outcome)
	// MaxBodyInFlight bounds the bytes that requests hold at once (body
	// buffers, a form's unescaped payload, encoded records): past it a
	// request waits up to BusyWait for room, then is answered 503 with
	// Retry-After. 0: DefaultMaxBodyInFlight; negative: no bound.
	MaxBodyInFlight int64
	// BusyWait is how long a request waits for room in MaxBodyInFlight
	// (default 2s).
	BusyWait time.Duration
	// Unauthenticated limits, per source address, the requests refused
	// before they were authenticated (a bad or missing signature, an
	// unknown endpoint key, an address not allowed, a malformed or
	// incomplete body; not 429 or 503): a source past it is answered 429
	// with Retry-After before its body is read. PerSecond 0 turns it off.
	Unauthenticated config.RateLimit
	// MaxSources bounds the source addresses Unauthenticated remembers
	// (default DefaultMaxSources).
	MaxSources int
	// MaxConcurrentPerSource bounds, per source address (an IPv6 address
	// by its /64), the requests whose body is being read, none of them
	// authenticated yet: past it a request is answered 429 with
	// Retry-After before its body is read. 0:
	// DefaultMaxConcurrentPerSource; negative: no bound.
	MaxConcurrentPerSource int
	// MinBodyRate is the least average rate, in bytes a second, at which a
	// body must arrive once its read has lasted MinBodyRateGrace: a slower
	// one is cut, answered 408 and its connection closed. 0:
	// DefaultMinBodyRate; negative: none.
	MinBodyRate int64
	// MinBodyRateGrace is how long a body read may last before MinBodyRate
	// applies (default DefaultMinBodyRateGrace).
	MinBodyRateGrace time.Duration
	// ReadTimeout is the server's read_timeout: MinBodyRate's deadlines
	// never go past it (0: none).
	ReadTimeout time.Duration
	// NewID returns the id of a new event received at now whose forge
	// delivery id is delivery ("" when it sent none). The default is a
	// UUIDv7 at now, whatever the delivery id: ids are forgehook's own,
	// unique in the store. Tests may set it for readable ids; it must not
	// return an id twice.
	NewID func(now time.Time, delivery string) string
	// EventHeaders and DeliveryHeaders name the headers in which forges
	// send their event name and delivery id (forge.Registry.IDHeaders):
	// the log line of a request refused before its provider read it
	// names them from there, so it can be matched with the forge's
	// delivery log.
	EventHeaders, DeliveryHeaders []string
	// Tests, when set, knows the test events recovery expects (endpoints
	// with ExpectTests).
	Tests Tests
}

// DefaultMaxBodyInFlight is the default of Options.MaxBodyInFlight.
const DefaultMaxBodyInFlight = 32 << 20

// MaxDeliveryID is the longest delivery id (and dedup key) ingest accepts:
// forges send UUIDs or short numbers; a longer one is refused (400).
const MaxDeliveryID = 256

// Outcome describes one handled request, for observers.
type Outcome struct {
	Endpoint  string
	Forge     string
	Event     string
	Delivery  string
	Status    int
	Reason    string
	Duplicate bool
	Ping      bool
	Duration  time.Duration
	// Record is the stored event (nil unless stored or duplicate). Its
	// Data.Body is in the request's buffer, which is reused once Observe
	// returns: it is valid only during the call, and an observer that keeps
	// it must copy it.
	Record *event.Event
}

// Handler serves /hooks/{endpoint}. Its endpoint table can be swapped at
// run time (configuration reload) with SetEndpoints.
type Handler struct {
	opts      Options
	log       *slog.Logger
	endpoints atomic.Pointer[map[string]*Endpoint]
	bufs      bufPool
	budget    *budget
	sources   *sourceLimiter
	readers   *readers
	reads     reads
	// cuts samples the log lines of bodies cut for being too slow: one a
	// second, with the count of those left out since, so that an attack
	// of slow bodies does not flood the log (metrics count every one).
	cuts logSampler
}

// New returns a Handler with no endpoints.
func New(opts Options) *Handler {
	if opts.AckTimeout <= 0 {
		opts.AckTimeout = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBodyInFlight == 0 {
		opts.MaxBodyInFlight = DefaultMaxBodyInFlight
	}
	if opts.BusyWait <= 0 {
		opts.BusyWait = 2 * time.Second
	}
	if opts.MaxConcurrentPerSource == 0 {
		opts.MaxConcurrentPerSource = DefaultMaxConcurrentPerSource
	}
	if opts.MinBodyRate == 0 {
		opts.MinBodyRate = DefaultMinBodyRate
	}
	if opts.MinBodyRateGrace <= 0 {
		opts.MinBodyRateGrace = DefaultMinBodyRateGrace
	}
	if opts.NewID == nil {
		opts.NewID = func(now time.Time, _ string) string { return newUUIDv7(now) }
	}
	h := &Handler{opts: opts, log: opts.Logger, budget: newBudget(opts.MaxBodyInFlight),
		sources: newSourceLimiter(opts.Unauthenticated.PerSecond, opts.Unauthenticated.Burst, opts.MaxSources),
		readers: newReaders(opts.MaxConcurrentPerSource)}
	h.budget.shed = h.reads.shed
	empty := map[string]*Endpoint{}
	h.endpoints.Store(&empty)
	return h
}

// SetEndpoints replaces the endpoint table.
func (h *Handler) SetEndpoints(eps []*Endpoint) {
	m := make(map[string]*Endpoint, len(eps))
	for _, e := range eps {
		m[e.Path] = e
	}
	h.endpoints.Store(&m)
}

// Prefix is the URL path prefix the handler serves.
const Prefix = "/hooks/"

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.opts.Now()
	o := Outcome{}
	if len(r.TransferEncoding) > 0 {
		// A chunked request may have carried a Content-Length too (net/http
		// drops it before the handler sees it): a sign of request
		// smuggling through a proxy that read the other length. Whatever
		// follows on this connection is not trusted to be a request.
		w.Header().Set("Connection", "close")
	}
	peer, _ := netip.ParseAddrPort(r.RemoteAddr)
	// st holds the request's share of the body budget and its pooled body
	// buffer. Everything that may point into them (the request, the
	// record's Data.Body in o) is done with once the request is answered
	// and observed; neither is given back if a panic cuts this short.
	st := reqState{
		client: verify.ClientAddr(peer.Addr(), r.Header.Values("X-Forwarded-For"), h.opts.TrustedProxies),
		rs:     reservation{b: h.budget, wait: h.opts.BusyWait},
	}
	res, err := h.serve(w, r, start, &o, &st)
	o.Duration = time.Since(start)
	if err != nil {
		he := classify(err)
		o.Status, o.Reason = he.Status, he.Reason
		switch he.Status {
		case http.StatusMethodNotAllowed:
			w.Header().Set("Allow", "POST, GET, HEAD")
		case http.StatusUnauthorized:
			// Clients that send Basic credentials from the hook URL only
			// after a challenge (Apache HttpClient, Gerrit) need one.
			w.Header().Set("WWW-Authenticate", `Basic realm="forgehook"`)
		case http.StatusServiceUnavailable:
			if errors.Is(err, errBusy) {
				w.Header().Set("Retry-After", "1")
			}
		case http.StatusRequestTimeout:
			// The rest of the body may still come: the connection is
			// not read again.
			w.Header().Set("Connection", "close")
		}
		if !st.authenticated && he.Status != http.StatusTooManyRequests && he.Status != http.StatusServiceUnavailable {
			// A request refused before it was authenticated (a wrong
			// endpoint key, a bad signature, a body that never came
			// whole) counts against its source; the server's own load
			// (503) and this limit itself (429) do not.
			h.sources.fail(st.client, start)
		}
		if he.Status == http.StatusRequestTimeout && errors.Is(he.Err, errTooSlow) && !st.quiet {
			if ok, skipped := h.cuts.take(start); !ok {
				st.quiet = true
			} else if skipped > 0 {
				he.Err = fmt.Errorf("%w (and %d more bodies cut since the last line)", he.Err, skipped)
			}
		}
		if !st.quiet {
			h.logLine(r, &o, he.Err)
		}
		h.writeJSON(w, he.Status, nil, he.Reason)
	} else {
		o.Status = http.StatusOK
		h.logLine(r, &o, nil)
		h.writeJSON(w, http.StatusOK, &res, "")
	}
	if h.opts.Observe != nil {
		h.opts.Observe(o)
	}
	if st.body != nil {
		h.bufs.put(st.body)
	}
	st.rs.release()
}

// reqState is what ServeHTTP and serve share about one request.
type reqState struct {
	client        netip.Addr // the client's address, after trusted proxies
	rs            reservation
	body          *[]byte // the pooled body buffer, nil until read
	authenticated bool
	quiet         bool // no log line: one of a flood's refusals
}

func (h *Handler) logLine(r *http.Request, o *Outcome, err error) {
	level := slog.LevelInfo
	switch {
	case o.Status >= 500:
		level = slog.LevelError
	case o.Status >= 400:
		level = slog.LevelWarn
	}
	if !h.log.Enabled(r.Context(), level) {
		return
	}
	if o.Status >= 400 && o.Event == "" && o.Delivery == "" {
		o.Event, o.Delivery = firstHeader(r.Header, h.opts.EventHeaders), firstHeader(r.Header, h.opts.DeliveryHeaders)
	}
	// Typed attributes in a fixed array: no boxing of each value.
	var buf [10]slog.Attr
	attrs := append(buf[:0],
		slog.String("endpoint", o.Endpoint), slog.String("forge", o.Forge), slog.String("event", o.Event),
		slog.String("delivery", o.Delivery), slog.Int("status", o.Status),
		slog.Duration("duration", o.Duration.Round(time.Microsecond)))
	if o.Reason != "" {
		attrs = append(attrs, slog.String("reason", o.Reason))
	}
	if err != nil {
		attrs = append(attrs, slog.String("err", err.Error()))
	}
	if o.Duplicate {
		attrs = append(attrs, slog.Bool("duplicate", true))
	}
	if o.Ping {
		attrs = append(attrs, slog.Bool("ping", true))
	}
	h.log.LogAttrs(r.Context(), level, "ingest", attrs...)
}

// maxLoggedID bounds the event name and delivery id that the log line of
// a refused request copies from its headers: they are the client's words.
const maxLoggedID = 128

// firstHeader returns the first non-empty value among names, cut to
// maxLoggedID bytes.
func firstHeader(h http.Header, names []string) string {
	for _, n := range names {
		if v := h.Get(n); v != "" {
			if len(v) > maxLoggedID {
				v = v[:maxLoggedID]
			}
			return v
		}
	}
	return ""
}

// writeJSON writes an answer: {"error": reason} for a failure, else a.
func (h *Handler) writeJSON(w http.ResponseWriter, status int, a *answer, reason string) {
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	// A pooled buffer: Write does not retain it (io.Writer's contract).
	bp := h.bufs.get(128)
	b := *bp
	if a == nil {
		b = append(b, `{"error":`...)
		b = jsonx.AppendString(b, reason)
	} else {
		b = a.append(b)
	}
	b = append(b, '}', '\n')
	_, _ = w.Write(b)
	*bp = b
	h.bufs.put(bp)
}

// answer is the body of a 200 answer.
type answer struct {
	ID        string `json:"id,omitempty"`
	Duplicate bool   `json:"duplicate"`
	Ping      bool   `json:"ping,omitempty"`
	Endpoint  string `json:"endpoint,omitempty"`
	Status    string `json:"status,omitempty"`
}

// append writes a as encoding/json would (the test compares them), without
// its closing brace.
func (a *answer) append(b []byte) []byte {
	b = append(b, '{')
	if a.ID != "" {
		b = append(b, `"id":`...)
		b = jsonx.AppendString(b, a.ID)
		b = append(b, ',')
	}
	b = append(b, `"duplicate":`...)
	b = strconv.AppendBool(b, a.Duplicate)
	if a.Ping {
		b = append(b, `,"ping":true`...)
	}
	if a.Endpoint != "" {
		b = append(b, `,"endpoint":`...)
		b = jsonx.AppendString(b, a.Endpoint)
	}
	if a.Status != "" {
		b = append(b, `,"status":`...)
		b = jsonx.AppendString(b, a.Status)
	}
	return b
}

// initialBody is the most a body buffer starts with, whatever the
// Content-Length announces: the buffer grows (doubling) with the bytes that
// actually arrive, each growth reserved in the body budget first.
const initialBody = 8 << 10

// readBody reads the whole of r into *bp, from its start. The buffer starts
// at initialBody at most (less for a shorter announced contentLength, -1
// when unknown) and doubles as it fills, up to contentLength+1 or
// maxBody+1 (net/http stops at Content-Length; the reader enforces
// max_body), each growth reserved in rs before it is made. A growth the
// budget cannot hold in time is errBusy. p (nil for none) holds the read to
// the minimum body rate: a body slower than it is cut with errTooSlow; the
// budget's waits do not count against the client.
func (h *Handler) readBody(ctx context.Context, r io.Reader, bp *[]byte, rs *reservation, contentLength, maxBody int64, p *pace) error {
	limit := maxBody + 1
	if contentLength >= 0 {
		limit = min(limit, contentLength+1)
	}
	defer h.finish(p)
	b := (*bp)[:0]
	grow := func(n int64) error {
		t := time.Now()
		p.wait(true, 0)
		err := rs.grow(ctx, n)
		p.wait(false, time.Since(t))
		return err
	}
	if err := grow(int64(cap(b))); err != nil {
		return err
	}
	defer func() { *bp = b }()
	for {
		if len(b) == cap(b) {
			n := min(2*int64(cap(b)), limit)
			if n <= int64(cap(b)) {
				n = 2*int64(cap(b)) + 1
			}
			if err := grow(n); err != nil {
				return err
			}
			nb := make([]byte, len(b), n)
			copy(nb, b)
			old := b
			b = nb
			rs.shrink(int64(cap(old)))
			if cap(old) <= initialBody {
				// Nothing refers to it any more. A larger one is left to
				// the collector: bodies that grow past initialBody and are
				// cut (an attack's) would fill the pool with sizes that
				// only large records take.
				h.bufs.put(&old)
			}
		}
		if err := p.before(int64(len(b))); err != nil {
			return err
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return p.check(err)
		}
	}
}

// bodyMode is how a request's payload is found in its body.
type bodyMode int

const (
	modeJSON  bodyMode = iota // the body is the payload
	modeForm                  // the payload is the form's payload field
	modeSniff                 // no content type: JSON if it looks like it
)

// modeOf classifies a request by its content type before its body is read.
func modeOf(contentType string) (bodyMode, error) {
	mt := contentType
	if contentType != "" && contentType != "application/json" {
		// The usual value needs no parsing (the parser allocates a map
		// for the parameters).
		var err error
		mt, _, err = mime.ParseMediaType(contentType)
		if err != nil {
			return 0, fail(http.StatusUnsupportedMediaType, "unsupported content type", err)
		}
	}
	switch {
	case mt == "":
		return modeSniff, nil
	case mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "text/json":
		return modeJSON, nil
	case mt == "application/x-www-form-urlencoded":
		return modeForm, nil
	}
	return 0, fail(http.StatusUnsupportedMediaType, "unsupported content type", fmt.Errorf("content type %q", contentType))
}

// payloadOf finds the payload in req.Body (without decoding a JSON body,
// and with a bounded decode of a form's payload field alone, whose memory
// alloc accounts for) and sets req.Payload and req.Form. It does not check
// that the payload is JSON: that comes after authentication.
func payloadOf(req *forge.Request, mode bodyMode, alloc func(int) ([]byte, error)) error {
	switch mode {
	case modeSniff:
		if len(req.Body) == 0 || (req.Body[0] != '{' && req.Body[0] != '[') {
			return fail(http.StatusUnsupportedMediaType, "unsupported content type", errors.New("no content type, and the body is not JSON"))
		}
		req.Payload = req.Body
	case modeJSON:
		req.Payload = req.Body
	case modeForm:
		p, err := formPayload(req.Body, alloc)
		switch {
		case errors.Is(err, errNoPayloadField):
			return fail(http.StatusBadRequest, "form body has no payload field", nil)
		case errors.Is(err, errBusy):
			return err
		case err != nil:
			return fail(http.StatusBadRequest, "malformed form body", err)
		}
		req.Payload = p
		req.Form = true
	}
	if len(req.Payload) == 0 {
		return fail(http.StatusBadRequest, "empty payload", nil)
	}
	return nil
}

// checkPayload applies the one payload rule (jsonx.CheckPayload) to an
// authenticated payload: what ingest acknowledges, the store, the admin
// views and delivery can all decode.
func checkPayload(payload []byte) error {
	if err := jsonx.CheckPayload(payload); err != nil {
		if errors.Is(err, jsonx.ErrTooDeep) {
			return fail(http.StatusBadRequest, "payload nests deeper than "+strconv.Itoa(jsonx.MaxDepth)+" levels", err)
		}
		return fail(http.StatusBadRequest, "payload is not valid JSON", err)
	}
	return nil
}

// serve handles one request up to its answer. It reads the body into a
// pooled buffer that it leaves in st.body, for ServeHTTP to give back,
// reserves the bytes it holds in st.rs, for ServeHTTP to release, and sets
// st.authenticated once the request is. Nothing is decoded before the
// request is authenticated, except a form body's payload field (bounded,
// accounted for): the scheme of some forges signs that field, not the
// body.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, now time.Time, o *Outcome, st *reqState) (answer, error) {
	client, rs := st.client, &st.rs
	// 0. A source whose requests keep failing authentication (or guessing
	// endpoint keys) waits, whatever it asks for.
	if ok, wait, logIt := h.sources.allowed(client, now); !ok {
		st.quiet = !logIt
		w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
		return answer{}, fail(http.StatusTooManyRequests, "too many failed authentications from this address", fmt.Errorf("source %s", client))
	}

	// 1. Route.
	seg, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok || seg == "" || strings.Contains(seg, "/") {
		return answer{}, fail(http.StatusNotFound, "unknown endpoint", nil)
	}
	ep := (*h.endpoints.Load())[seg]
	if ep == nil {
		return answer{}, fail(http.StatusNotFound, "unknown endpoint", nil)
	}
	o.Endpoint, o.Forge = ep.Name, ep.Provider.Name()
	inj, isInj := injectedFrom(r.Context())
	if !isInj {
		stripMarks(r.Header)
	}
	switch r.Method {
	case http.MethodPost:
	case http.MethodGet, http.MethodHead:
		// Some forges probe the URL before saving a hook.
		return answer{Endpoint: ep.Name, Status: "ready"}, nil
	default:
		return answer{}, fail(http.StatusMethodNotAllowed, "method not allowed", fmt.Errorf("method %s", r.Method))
	}

	// 2. Cheap checks, before a byte of the body is read: the source's
	// address, the announced length, the content type.
	if ep.Allow.Len() > 0 && !isInj && !ep.Allow.Contains(client) {
		return answer{}, fmt.Errorf("%w: %s", verify.ErrAddressNotAllowed, client)
	}
	if r.ContentLength > ep.MaxBody {
		return answer{}, fail(http.StatusRequestEntityTooLarge, "body too large", fmt.Errorf("content-length %d > max_body %d", r.ContentLength, ep.MaxBody))
	}
	mode, err := modeOf(r.Header.Get("Content-Type"))
	if err != nil {
		return answer{}, err
	}

	// 3. Read, with memory that follows the bytes received, at most
	// MaxConcurrentPerSource slow bodies at once from one source, none
	// slower than MinBodyRate.
	if ok, logIt := h.readers.acquire(client, now); !ok {
		st.quiet = !logIt
		w.Header().Set("Retry-After", "1")
		return answer{}, fail(http.StatusTooManyRequests, "too many concurrent requests from this address", fmt.Errorf("source %s has %d bodies being read for %s or longer", client, h.readers.max, h.readers.slowAfter))
	}
	initial := initialBody
	if r.ContentLength >= 0 && r.ContentLength < initialBody {
		initial = int(r.ContentLength) + 1
	}
	st.body = h.bufs.get(initial)
	err = h.readBody(r.Context(), http.MaxBytesReader(w, r.Body, ep.MaxBody), st.body, rs, r.ContentLength, ep.MaxBody, h.newPace(w, time.Now()))
	h.readers.release(client, now)
	if err != nil {
		var mbe *http.MaxBytesError
		var he *httpError
		if errors.As(err, &mbe) || errors.Is(err, errBusy) || errors.As(err, &he) {
			return answer{}, err
		}
		return answer{}, fail(http.StatusBadRequest, "could not read body", err)
	}
	// Nothing below keeps a reference into the body beyond the request:
	// providers and jsonx copy the strings they decode, a form's payload
	// is a copy, and the record is encoded into its own buffer
	// (Outcome.Record's Data.Body does point into it; see there).
	req := &forge.Request{
		Header:     r.Header,
		Body:       *st.body,
		Received:   now,
		RemoteAddr: client,
	}
	if r.URL.RawQuery != "" {
		req.Query = r.URL.Query() // else nil: an empty url.Values
	}
	if err := payloadOf(req, mode, func(n int) ([]byte, error) {
		if err := rs.grow(r.Context(), int64(n)); err != nil {
			return nil, err
		}
		return make([]byte, 0, n), nil
	}); err != nil {
		return answer{}, err
	}

	// 4. Authenticate, over the raw bytes the forge signed.
	if isInj && inj.trusted {
		// Recovery vouches for it (inject.go).
	} else if len(ep.Secrets) > 0 {
		if err := ep.Provider.Verify(req, ep.Secrets); err != nil {
			return answer{}, err
		}
	} else if !ep.Insecure {
		return answer{}, verify.ErrNoSecret
	}
	st.authenticated = true
	// Only an authenticated delivery takes the endpoint's token.
	if ep.limiter != nil {
		if ok, wait := ep.limiter.take(now); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
			return answer{}, fail(http.StatusTooManyRequests, "rate limit exceeded", nil)
		}
	}
	if err := checkPayload(req.Payload); err != nil {
		return answer{}, err
	}

	// 5. Identify.
	m, err := forge.InspectRequest(ep.Provider, r.Header, req.Payload)
	if err != nil {
		return answer{}, err
	}
	if len(m.Delivery) > MaxDeliveryID || len(m.DedupKey) > MaxDeliveryID {
		return answer{}, fail(http.StatusBadRequest, "delivery id too long", fmt.Errorf("delivery id of %d bytes > %d", max(len(m.Delivery), len(m.DedupKey)), MaxDeliveryID))
	}
	o.Event, o.Delivery = m.Event, m.Delivery
	if m.Forge != "" {
		o.Forge = m.Forge // detected by provider auto
	}

	// 6. Normalize.
	fields, err := ep.Provider.Normalize(m, req.Payload)
	if err != nil {
		return answer{}, err
	}
	if !m.Ping && ep.ExpectTests && h.opts.Tests != nil && fields.Kind == event.KindPush {
		if ok, err := h.opts.Tests.ConsumeTest(r.Context(), ep.Name, fields.Ref, fields.After, now); err != nil {
			h.log.Warn("ingest: expected test lookup", "endpoint", ep.Name, "err", err)
		} else if ok {
			m.Ping = true // the test recovery sent to re-enable the hook
		}
	}
	if m.Ping || fields.Kind == event.KindPing {
		o.Ping = true
		ctx, cancel := context.WithTimeout(r.Context(), h.opts.AckTimeout)
		defer cancel()
		if err := h.opts.Log.MarkVerified(ctx, ep.Name, m.Event, now); err != nil {
			// The ping is answered anyway: the forge only checks that
			// the URL works, and nothing is lost.
			h.log.Warn("ingest: could not record ping", "endpoint", ep.Name, "err", err)
		}
		return answer{Ping: true, Endpoint: ep.Name}, nil
	}
	ev := h.record(ep, req, m, fields)

	// 7. Persist. The record goes into a pooled buffer that is given back
	// only once Append has returned nil (see Log.Append): after an error
	// (an ack timeout, say) the store's client may still hold the bytes and
	// send them again, so the buffer is left to the garbage collector.
	size := ev.EncodedLen()
	if err := rs.grow(r.Context(), int64(size)); err != nil {
		return answer{}, err
	}
	rec := h.bufs.get(size)
	data, err := ev.AppendEncode(*rec)
	if err != nil {
		return answer{}, fail(http.StatusInternalServerError, "could not encode event", err)
	}
	key := m.DedupKey
	if ep.RefDedup {
		if k := RefKey(m.Event, &fields); k != "" {
			key = k
		}
	}
	if key == "" {
		sum := sha256.Sum256(req.Payload)
		var k [len("sha256:") + 2*sha256.Size]byte
		copy(k[:], "sha256:")
		hex.Encode(k[len("sha256:"):], sum[:])
		key = string(k[:])
	}
	ctx, cancel := context.WithTimeoutCause(r.Context(), h.opts.AckTimeout, errAckTimeout)
	defer cancel()
	res, err := h.opts.Log.Append(ctx, ep.Name, store.Subject(ep.Name, fields.Forge, string(fields.Kind)), ev.ID, key, data)
	if err != nil {
		if c := context.Cause(ctx); c != nil && errors.Is(c, errAckTimeout) {
			err = fmt.Errorf("%w: %w", errAckTimeout, err)
		}
		return answer{}, fail(http.StatusServiceUnavailable, "event not stored, try again", err)
	}
	*rec = data
	h.bufs.put(rec)
	o.Duplicate = res.Duplicate
	ev.ID = res.ID
	o.Record = ev
	return answer{ID: res.ID, Duplicate: res.Duplicate}, nil
}

var errAckTimeout = errors.New("store did not acknowledge in time")

// record builds the event record.
func (h *Handler) record(ep *Endpoint, req *forge.Request, m forge.Meta, f event.Fields) *event.Event {
	body := req.Payload
	if rd, ok := ep.Provider.(forge.Redactor); ok {
		body = rd.Redact(body)
	}
	ev := &event.Event{
		ID:          h.opts.NewID(req.Received, m.Delivery),
		Time:        req.Received.UTC(),
		Forge:       f.Forge,
		ForgeEvent:  m.Event,
		ForgeAction: f.ForgeAction,
		Endpoint:    ep.Name,
		Delivery:    m.Delivery,
		Data: event.Data{
			Header:     event.RedactHeader(req.Header, ep.credHeaders...),
			Body:       body,
			Normalized: f,
		},
	}
	ev.Envelope()
	return ev
}
