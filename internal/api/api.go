// Package api is the admin JSON API (/api/v1) served on the admin
// listener, and its Go client used by the CLI.
package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/deliver"
	"github.com/forgehook/forgehook/internal/store"
	"github.com/forgehook/forgehook/internal/throttle"
)

// Events is what the API reads events from: the store. List returns the
// stubs of large events (store.Record.Object); GetSeq and Get return
// whole records.
type Events interface {
	List(ctx context.Context, f store.Filter) ([]store.Record, uint64, error)
	Get(ctx context.Context, id string) (store.Record, error)
	GetSeq(ctx context.Context, seq uint64) (store.Record, error)
	Endpoint(ctx context.Context, endpoint string) (store.EndpointStatus, error)
}

// EndpointInfo describes a configured endpoint for the API; it never holds
// a secret.
type EndpointInfo struct {
	Name     string   `json:"name"`
	Provider string   `json:"provider"`
	Path     string   `json:"path"`
	Secrets  []string `json:"secret_fingerprints"`
	Insecure bool     `json:"insecure"`
	AllowIPs []string `json:"allow_ips,omitempty"`
	// VerifiedAt is when the last authentic ping arrived.
	VerifiedAt *time.Time `json:"verified_at,omitempty"`
	VerifiedBy string     `json:"verified_by,omitempty"`
}

// Server serves /api/v1.
type Server struct {
	// Events is the event source.
	Events Events
	// Token, when set, is the bearer token every request must carry.
	Token config.Secret
	// Endpoints returns the configured endpoints.
	Endpoints func() []EndpointInfo
	// Logger receives one line per failed request.
	Logger *slog.Logger
	// Delivery is the running triggers (nil when none are configured).
	Delivery Delivery
	// Dead is where dead letters are read.
	Dead DeadLetters
	// Views bounds how many requests that read whole stored events run at
	// once; share it with the UI. Nil: no bound.
	Views *Gate
	// Fails counts the failed token guesses per client address; share one
	// between the API, /metrics and the UI's login so that an address gets
	// FailedTokenLimit guesses in all. Nil: the API counts its own.
	Fails *throttle.Failures
	// Hooks is hook management (nil: its routes answer 409).
	Hooks Hooks
	// Relays keeps the relay cursors and follows the events (nil: no
	// relay API). See relay.go.
	Relays Relays
	// RelayTokens are the scoped tokens that Scope serves.
	RelayTokens []RelayToken
	// RelayStreams bounds the relay streams open at once (0:
	// DefaultRelayStreams); RelayHeartbeat is the interval of an idle
	// stream's comments (0: DefaultRelayHeartbeat).
	RelayStreams   int
	RelayHeartbeat time.Duration

	relayOnce  sync.Once
	relayState *relayState
	// Recover is the recovery of missed deliveries (nil: its routes answer 409).
	Recover Recover
}

// Handler returns the API's handler, to be mounted at /api/v1/.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /api/v1/events", s.heavy(s.listEvents))
	mux.Handle("GET /api/v1/events/{id}", s.heavy(s.getEvent))
	mux.Handle("GET /api/v1/facets", s.heavy(s.listFacets))
	mux.Handle("GET /api/v1/events/{id}/body", s.heavy(s.getBody))
	mux.HandleFunc("GET /api/v1/endpoints", s.listEndpoints)
	s.routeDelivery(mux)
	s.routeHooks(mux)
	s.routeRelay(mux)
	s.routeRecover(mux)
	mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API endpoint")
	})
	return s.sameOrigin(s.auth(mux))
}

// heavy runs a handler that reads whole stored events inside s.Views.
func (s *Server) heavy(h http.HandlerFunc) http.Handler { return s.Views.Wrap(h, nil) }

func (s *Server) auth(next http.Handler) http.Handler {
	fails := s.Fails
	if fails == nil {
		fails = throttle.New(FailedTokenLimit, FailedTokenWindow)
	}
	return RequireToken(s.Token, fails, next)
}

// sameOrigin refuses, with 403 and a log line, a state-changing request
// (any method but GET, HEAD and OPTIONS) that a browser sent from another
// origin: its Sec-Fetch-Site is neither same-origin nor none, or, without
// that header, its Origin's host is not the Host. Requests without either
// header (the CLI, curl) pass: they come from no web page.
func (s *Server) sameOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Logger != nil {
			s.Logger.Warn("api: cross-origin request refused", "method", r.Method, "path", r.URL.Path,
				"origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"), "remote", r.RemoteAddr)
		}
		writeError(w, http.StatusForbidden, "cross-origin request refused: the admin API accepts state changes only from its own origin or from non-browser clients")
	}))
	return cop.Handler(next)
}

// requireJSON wraps every state-changing route: it refuses with 415 a
// request whose body is not declared application/json, empty bodies
// included. A browser sends that content type across origins only after a
// CORS preflight, which the API never grants.
func requireJSON(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, "a "+r.Method+" to the admin API needs Content-Type: application/json")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// FailedTokenLimit requests with a missing or bad token from one address
// within FailedTokenWindow make RequireToken answer that address 429 until
// the window ends.
const (
	FailedTokenLimit  = 10
	FailedTokenWindow = time.Minute
)

// RequireToken wraps next so that, when token is set, every request must
// carry it as a bearer token (401 otherwise). The comparison is
// constant-time over SHA-256 digests, so that neither the token nor its
// length leaks; every bad token counts in fails, and an address fails
// refuses is answered 429 with Retry-After. Share fails between every
// handler that checks the admin token (New(FailedTokenLimit,
// FailedTokenWindow)).
func RequireToken(token config.Secret, fails *throttle.Failures, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	want := sha256.Sum256([]byte(token.Reveal()))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		client, now := throttle.ClientKey(r), time.Now()
		if ok, wait := fails.Allow(client, now); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
			writeError(w, http.StatusTooManyRequests, "too many requests with a bad token from this address")
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(got))
		if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			fails.Fail(client, now)
			w.Header().Set("WWW-Authenticate", `Bearer realm="forgehook"`)
			writeError(w, http.StatusUnauthorized, "missing or bad bearer token")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Summary is one row of the event list.
type Summary struct {
	ID         string    `json:"id"`
	Seq        uint64    `json:"seq"`
	Time       time.Time `json:"time"`
	Stored     time.Time `json:"stored"`
	Endpoint   string    `json:"endpoint"`
	Forge      string    `json:"forge"`
	ForgeEvent string    `json:"forgeevent"`
	Kind       string    `json:"kind"`
	Action     string    `json:"action"`
	Repository string    `json:"repository"`
	Ref        string    `json:"ref,omitempty"`
	Subject    string    `json:"subject,omitempty"`
	Delivery   string    `json:"delivery,omitempty"`
}

// EventList is the answer of GET /api/v1/events.
type EventList struct {
	Events []Summary `json:"events"`
	// Next is the cursor for the following page ("" when there is none).
	Next string `json:"next,omitempty"`
}

// EventDetail is the answer of GET /api/v1/events/{id}.
type EventDetail struct {
	Seq    uint64    `json:"seq"`
	Stored time.Time `json:"stored"`
	// Event is the stored record, compact, with every byte that is not
	// UTF-8 replaced by U+FFFD; null when the record is not JSON or nests
	// deeper than the API renders (EventError says why).
	Event json.RawMessage `json:"event"`
	// EventError, when set, says why Event is null.
	EventError string `json:"event_error,omitempty"`
	// BodyURL is where the forge's body is served byte for byte as stored.
	BodyURL string `json:"body_url,omitempty"`
	// Triggers holds the event's state and attempts on every trigger.
	Triggers []deliver.Status `json:"triggers"`
}

// summaryFields is the part of a stored event a summary needs.
type summaryFields struct {
	ID         string    `json:"id"`
	Time       time.Time `json:"time"`
	Subject    string    `json:"subject"`
	Endpoint   string    `json:"endpoint"`
	Forge      string    `json:"forge"`
	ForgeEvent string    `json:"forgeevent"`
	Delivery   string    `json:"forgedelivery"`
	Data       struct {
		Normalized struct {
			Kind       string `json:"kind"`
			Action     string `json:"action"`
			Ref        string `json:"ref"`
			Repository struct {
				FullName string `json:"full_name"`
			} `json:"repository"`
		} `json:"normalized"`
	} `json:"data"`
}

func summarize(r store.Record) (Summary, bool) {
	var f summaryFields
	if err := json.Unmarshal(StripBody(r.Data), &f); err != nil {
		return Summary{}, false
	}
	n := f.Data.Normalized
	for _, p := range []*string{&f.ID, &f.Subject, &f.Endpoint, &f.Forge, &f.ForgeEvent, &f.Delivery,
		&n.Kind, &n.Action, &n.Ref, &n.Repository.FullName} {
		*p = clip(*p, maxSummaryText)
	}
	return Summary{
		ID: f.ID, Seq: r.Seq, Time: f.Time, Stored: r.Stored, Endpoint: f.Endpoint, Forge: f.Forge,
		ForgeEvent: f.ForgeEvent, Kind: n.Kind, Action: n.Action, Repository: n.Repository.FullName,
		Ref: n.Ref, Subject: f.Subject, Delivery: f.Delivery,
	}, true
}

// maxSummaryText bounds each text of a Summary, so that a page of the
// event list stays bounded whatever the stored events hold.
const maxSummaryText = 1 << 10

// clip cuts s to at most n bytes on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	f, err := ParseEventFilter(r.URL.Query())
	if err != nil {
		s.badFilter(w, r, err)
		return
	}
	if f.Outcome == "not_matched" {
		f.Settled = Settled(r.Context(), s.Delivery)
	}
	recs, next, err := s.Events.List(r.Context(), f)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	out := EventList{Events: make([]Summary, 0, len(recs))}
	for _, rec := range recs {
		if sum, ok := summarize(rec); ok {
			out.Events = append(out.Events, sum)
		}
	}
	if next != 0 {
		out.Next = strconv.FormatUint(next, 10)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) {
	rec, err := s.Events.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	d := EventDetail{Seq: rec.Seq, Stored: rec.Stored, Triggers: []deliver.Status{},
		BodyURL: "/api/v1/events/" + url.PathEscape(r.PathValue("id")) + "/body"}
	d.Event, d.EventError = EventJSON(rec.Data)
	if s.Delivery != nil {
		st, err := s.Delivery.EventStatus(r.Context(), rec, r.PathValue("id"))
		if err != nil {
			s.storeError(w, r, err)
			return
		}
		d.Triggers = st
	}
	writeJSON(w, http.StatusOK, d)
}

// EventJSON renders a stored record for an API answer: compact, valid
// JSON and valid UTF-8 (see AppendJSON). For a record that is not JSON or
// nests deeper than MaxBodyDepth below its body, it returns nil and the
// reason, for EventDetail.EventError.
func EventJSON(raw []byte) (json.RawMessage, string) {
	out, err := AppendJSON(nil, raw, Render{MaxDepth: maxEventDepth})
	switch {
	case errors.Is(err, ErrTooDeep):
		return nil, "the stored event nests deeper than " + strconv.Itoa(MaxBodyDepth) + " levels: its body is served as stored at body_url"
	case err != nil:
		return nil, "the stored event is not valid JSON: its body is served as stored at body_url"
	}
	return out, ""
}

// getBody serves the forge's body of an event byte for byte as stored, as
// a download: the one view of an event that is not bounded, since it is
// exactly what the forge sent (at most the endpoint's max_body).
func (s *Server) getBody(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	rec, err := s.Events.Get(r.Context(), id)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	body, ok := BodyOf(rec.Data)
	if !ok {
		writeError(w, http.StatusNotFound, "the stored event has no body")
		return
	}
	ServeBody(w, id, body)
}

// BodyOf returns data.body of a stored record as stored (see Member).
func BodyOf(record []byte) ([]byte, bool) {
	data, ok := Member(record, "data")
	if !ok {
		return nil, false
	}
	return Member(data, "body")
}

// ServeBody writes body as a download named after the event id: the exact
// bytes, with no sniffing and no rendering by the browser.
func ServeBody(w http.ResponseWriter, id string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": "forgehook-" + id + "-body.json"}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func (s *Server) listEndpoints(w http.ResponseWriter, r *http.Request) {
	var eps []EndpointInfo
	if s.Endpoints != nil {
		eps = s.Endpoints()
	}
	for i := range eps {
		st, err := s.Events.Endpoint(r.Context(), eps[i].Name)
		if err != nil {
			s.storeError(w, r, err)
			return
		}
		if !st.VerifiedAt.IsZero() {
			t := st.VerifiedAt
			eps[i].VerifiedAt, eps[i].VerifiedBy = &t, st.VerifiedBy
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"endpoints": eps})
}

func (s *Server) storeError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "event not found")
	case errors.Is(err, store.ErrNotReady):
		writeError(w, http.StatusServiceUnavailable, "store not ready")
	default:
		if s.Logger != nil {
			s.Logger.Error("api: store", "path", r.URL.Path, "err", err)
		}
		writeError(w, http.StatusInternalServerError, "store error")
	}
}

// writeJSON writes v as the answer: indented while the indented answer
// stays within MaxPretty bytes, compact past that, so that no stored body
// can make an answer grow beyond its own size.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	out := []byte(`{"error":"internal error: the answer could not be encoded"}` + "\n")
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
	} else if pretty, err := indentAnswer(b.Bytes()); err == nil {
		out = append(pretty, '\n')
	} else if utf8.Valid(b.Bytes()) {
		out = b.Bytes()
	} else if compact, err := AppendJSON(nil, b.Bytes(), Render{MaxDepth: maxAnswerDepth}); err == nil {
		// RawMessage members pass encoding/json unchecked for UTF-8:
		// compact still replaces what is not.
		out = compact
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

// indentAnswer indents an answer while it fits in MaxPretty bytes (an
// answer already larger never does: it is not tried).
func indentAnswer(b []byte) ([]byte, error) {
	if len(b) > MaxPretty {
		return nil, ErrTooLarge
	}
	return AppendJSON(nil, b, Render{Indent: "  ", MaxOut: MaxPretty, MaxDepth: maxAnswerDepth})
}

// maxAnswerDepth is encoding/json's own nesting limit: whatever it
// encoded, writeJSON renders.
const maxAnswerDepth = 10000

// Error is the body of every failed API answer.
type Error struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, Error{Error: msg})
}
