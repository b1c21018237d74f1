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
	"net/url"
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
}

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
	h := &Handler{opts: opts, log: opts.Logger}
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
	// body is the request's pooled body buffer. Everything that may point
	// into it (the request, the record's Data.Body in o) is done with once
	// the request is answered and observed; it is not given back if a
	// panic cuts this short.
	var body *[]byte
	res, err := h.serve(w, r, start, &o, &body)
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
		}
		h.logLine(r, &o, he.Err)
		h.writeJSON(w, he.Status, nil, he.Reason)
	} else {
		o.Status = http.StatusOK
		h.logLine(r, &o, nil)
		h.writeJSON(w, http.StatusOK, &res, "")
	}
	if h.opts.Observe != nil {
		h.opts.Observe(o)
	}
	if body != nil {
		h.bufs.put(body)
	}
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

// bodyBufSize is the size of the buffer to read a body of the announced
// contentLength into: that length plus one byte to see the end, so that
// the read never grows the buffer; for an unknown (or huge) length, a
// small buffer that the read grows.
func bodyBufSize(contentLength int64) int {
	if contentLength < 0 || contentLength > 64<<20 {
		return 0
	}
	return int(contentLength) + 1
}

// readBody reads the whole of r into *bp, from its start, growing the
// buffer as io.ReadAll does when it fills (only when the length was not
// announced: net/http stops at Content-Length). The reader enforces
// max_body.
func readBody(r io.Reader, bp *[]byte) error {
	b := (*bp)[:0]
	defer func() { *bp = b }()
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// serve handles one request up to its answer. It reads the body into a
// pooled buffer that it leaves in *body, for ServeHTTP to give back.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, now time.Time, o *Outcome, body **[]byte) (answer, error) {
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
	switch r.Method {
	case http.MethodPost:
	case http.MethodGet, http.MethodHead:
		// Some forges probe the URL before saving a hook.
		return answer{Endpoint: ep.Name, Status: "ready"}, nil
	default:
		return answer{}, fail(http.StatusMethodNotAllowed, "method not allowed", fmt.Errorf("method %s", r.Method))
	}

	// 2. Limit.
	if ep.limiter != nil {
		if ok, wait := ep.limiter.take(now); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
			return answer{}, fail(http.StatusTooManyRequests, "rate limit exceeded", nil)
		}
	}
	if r.ContentLength > ep.MaxBody {
		return answer{}, fail(http.StatusRequestEntityTooLarge, "body too large", fmt.Errorf("content-length %d > max_body %d", r.ContentLength, ep.MaxBody))
	}
	*body = h.bufs.get(bodyBufSize(r.ContentLength))
	if err := readBody(http.MaxBytesReader(w, r.Body, ep.MaxBody), *body); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return answer{}, err
		}
		return answer{}, fail(http.StatusBadRequest, "could not read body", err)
	}

	// 3. Decode. Nothing below keeps a reference into the body beyond
	// the request: providers and jsonx copy the strings they decode, a
	// form's payload is a copy, and the record is encoded into its own
	// buffer (Outcome.Record's Data.Body does point into it; see there).
	req := &forge.Request{
		Header:   r.Header,
		Body:     **body,
		Received: now,
	}
	if r.URL.RawQuery != "" {
		req.Query = r.URL.Query() // else nil: an empty url.Values
	}
	if err := decode(req, r.Header.Get("Content-Type")); err != nil {
		return answer{}, err
	}

	// 4. Authenticate.
	peer, _ := netip.ParseAddrPort(r.RemoteAddr)
	req.RemoteAddr = verify.ClientAddr(peer.Addr(), r.Header.Values("X-Forwarded-For"), h.opts.TrustedProxies)
	if ep.Allow.Len() > 0 && !ep.Allow.Contains(req.RemoteAddr) {
		return answer{}, fmt.Errorf("%w: %s", verify.ErrAddressNotAllowed, req.RemoteAddr)
	}
	if len(ep.Secrets) > 0 {
		if err := ep.Provider.Verify(req, ep.Secrets); err != nil {
			return answer{}, err
		}
	} else if !ep.Insecure {
		return answer{}, verify.ErrNoSecret
	}

	// 5. Identify.
	m, err := forge.InspectRequest(ep.Provider, r.Header, req.Payload)
	if err != nil {
		return answer{}, err
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
	rec := h.bufs.get(ev.EncodedLen())
	data, err := ev.AppendEncode(*rec)
	if err != nil {
		return answer{}, fail(http.StatusInternalServerError, "could not encode event", err)
	}
	key := m.DedupKey
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

// decode fills req.Payload from the body according to the content type.
func decode(req *forge.Request, contentType string) error {
	mt := contentType
	if contentType != "" && contentType != "application/json" {
		// The usual value needs no parsing (the parser allocates a map
		// for the parameters).
		var err error
		mt, _, err = mime.ParseMediaType(contentType)
		if err != nil {
			return fail(http.StatusUnsupportedMediaType, "unsupported content type", err)
		}
	}
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "text/json" ||
		(mt == "" && len(req.Body) > 0 && (req.Body[0] == '{' || req.Body[0] == '[')):
		req.Payload = req.Body
	case mt == "application/x-www-form-urlencoded":
		v, err := url.ParseQuery(string(req.Body))
		if err != nil {
			return fail(http.StatusBadRequest, "malformed form body", err)
		}
		if !v.Has("payload") {
			return fail(http.StatusBadRequest, "form body has no payload field", nil)
		}
		req.Payload = []byte(v.Get("payload"))
		req.Form = true
	default:
		return fail(http.StatusUnsupportedMediaType, "unsupported content type", fmt.Errorf("content type %q", contentType))
	}
	if len(req.Payload) == 0 {
		return fail(http.StatusBadRequest, "empty payload", nil)
	}
	if !jsonx.Valid(req.Payload) {
		return fail(http.StatusBadRequest, "payload is not valid JSON", nil)
	}
	return nil
}

// record builds the event record.
func (h *Handler) record(ep *Endpoint, req *forge.Request, m forge.Meta, f event.Fields) *event.Event {
	body := req.Payload
	if rd, ok := ep.Provider.(forge.Redactor); ok {
		body = rd.Redact(body)
	}
	ev := &event.Event{
		ID:          m.Delivery,
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
	if ev.ID == "" {
		ev.ID = newUUIDv7(req.Received)
	}
	ev.Envelope()
	return ev
}
