// Package web is forgehook's operator UI on the admin listener: server
// rendered HTML (html/template), its templates, stylesheet and script
// embedded in the binary. It reads the same interfaces as the admin API
// (internal/api) directly, without an HTTP round trip, and every page reads
// without JavaScript; the small script only refreshes live views and asks
// before a replay.
//
// Every state change is a POST form protected against cross-site requests
// (a per-session CSRF token and the browser's Sec-Fetch-Site/Origin
// headers) that redirects back with a flash message (post/redirect/get).
// When an admin token is configured every page needs a session, opened on
// the login page; see auth.go for the design.
package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/forgehook/forgehook/internal/activity"
	"github.com/forgehook/forgehook/internal/api"
	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/recovery"
	"github.com/forgehook/forgehook/internal/store"
	"github.com/forgehook/forgehook/internal/throttle"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// EndpointCounts are one endpoint's request counters since the process
// started, as the metrics know them.
type EndpointCounts struct {
	// Accepted counts the deliveries stored (duplicates included).
	Accepted uint64
	// Duplicates counts the deliveries already stored before.
	Duplicates uint64
	// Rejected counts the refused requests by reason ("bad signature",
	// "address not allowed", "too large", ...).
	Rejected map[string]uint64
}

// TriggerCounts are one trigger's delivery counters since the process
// started, as the metrics know them.
type TriggerCounts struct {
	Delivered uint64
	Failed    uint64
	Dead      uint64
	// Broken, when not empty, is why the trigger did not start.
	Broken string
}

// Options is what the UI reads and how it behaves. Events and Dead are
// required; the rest may be left zero.
type Options struct {
	// Events is the event source (the store).
	Events api.Events
	// Dead is where dead letters are read (the store).
	Dead api.DeadLetters
	// Delivery is the running triggers; nil when none are configured.
	Delivery api.Delivery
	// Endpoints returns the configured endpoints (never their secrets).
	Endpoints func() []api.EndpointInfo
	// Token, when set, is the admin token that opens a session on the
	// login page. Empty: no login (a loopback admin listener).
	Token config.Secret
	// Logger receives one line per state change and per failure.
	Logger *slog.Logger
	// IngestURL is the ingest listener's base URL, e.g.
	// "http://[::]:8080"; the endpoints page shows it followed by each
	// endpoint's path. An unspecified host (0.0.0.0, ::, empty) is
	// replaced by the host the browser used to reach the UI.
	IngestURL string
	// Forges are the forge ids offered by the events list's filter (the
	// registry's; nil: none offered).
	Forges []string
	// EndpointCounts, when set, returns an endpoint's request counters
	// (false when it has none): the metrics' hook.
	EndpointCounts func(endpoint string) (EndpointCounts, bool)
	// TriggerCounts, when set, returns a trigger's delivery counters
	// (false when it has none): the metrics' hook.
	TriggerCounts func(trigger string) (TriggerCounts, bool)
	// Totals, when set, returns the counts the store keeps (events per
	// endpoint, attempts and dead letters per trigger, and since when):
	// the Endpoints and Triggers pages show them, so that they survive
	// restarts.
	Totals func(ctx context.Context) (store.Totals, error)
	// Activity, when set, returns the per-minute counts of the last hour
	// (activity.Recorder.Last): series "events" for the events received,
	// "<trigger>/<outcome>" for delivery attempts. The Events and Triggers
	// pages chart them.
	Activity func(now time.Time, names ...string) activity.Window
	// HookRecords, when set, gives the Hooks page the owned hooks (the store).
	HookRecords HookRecords
	// Recovery, when set, returns each endpoint's last recovery run on
	// this replica (recovery.Recoverer.Last).
	Recovery func() map[string]recovery.Report
	// Views bounds how many pages that read whole stored events render at
	// once; share the admin API's. Nil: no bound.
	Views *api.Gate
	// Fails counts failed logins per client address; share the admin API's
	// so that an address gets one allowance of token guesses in all. Nil:
	// the UI counts its own (failedLoginLimit a minute).
	Fails *throttle.Failures
	// SessionTTL is how long a login lasts (default 12h).
	SessionTTL time.Duration
	// RefreshInterval is how often live views poll (default 5s).
	RefreshInterval time.Duration
	// Now is the clock (default time.Now); tests set it.
	Now func() time.Time
}

// Handler serves the UI. It is safe for concurrent use.
type Handler struct {
	opts    Options
	log     *slog.Logger
	mux     *http.ServeMux
	pages   map[string]*template.Template
	static  http.Handler
	assets  map[string]string // static file name -> URL with a content version
	keys    keys
	cop     *http.CrossOriginProtection
	revoked revocations
	fails   *throttle.Failures // failed logins per client address
	// started is when the handler was built: the counts kept in memory
	// (requests, outcomes since start) begin then.
	started time.Time
}

// failedLoginLimit failed logins from one address within failedLoginWindow
// make the login page refuse that address (429) until the window ends.
const (
	failedLoginLimit  = 10
	failedLoginWindow = time.Minute
)

// New returns the UI's handler, to be mounted at "/" on the admin
// listener (more specific routes, /api/v1/ and /metrics, stay theirs). It
// panics if the embedded templates do not parse, which a test catches.
func New(opts Options) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	if opts.RefreshInterval <= 0 {
		opts.RefreshInterval = 5 * time.Second
	}
	h := &Handler{
		started: opts.Now(),
		opts:    opts,
		log:     opts.Logger.With("component", "web"),
		cop:     http.NewCrossOriginProtection(),
		revoked: revocations{m: map[string]time.Time{}},
		fails:   opts.Fails,
	}
	if h.fails == nil {
		h.fails = throttle.New(failedLoginLimit, failedLoginWindow)
	}
	h.keys = deriveKeys(opts.Token)
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(fmt.Sprintf("web: static files: %v", err))
	}
	h.static = http.StripPrefix("/static/", http.FileServerFS(sub))
	h.assets = map[string]string{}
	for _, name := range []string{"app.css", "app.js"} {
		b, err := fs.ReadFile(sub, name)
		if err != nil {
			panic(fmt.Sprintf("web: static file %s: %v", name, err))
		}
		sum := sha256.Sum256(b)
		h.assets[name] = "/static/" + name + "?v=" + hex.EncodeToString(sum[:4])
	}
	if h.pages, err = parsePages(h.funcs()); err != nil {
		panic(fmt.Sprintf("web: templates: %v", err))
	}
	h.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.log.Warn("web: cross-origin request refused", "method", r.Method, "path", r.URL.Path,
			"origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
		h.fail(w, r, http.StatusForbidden, "Cross-origin request refused", "This form must be sent from forgehook's own pages.")
	}))
	h.routes()
	return h
}

func (h *Handler) routes() {
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.HandlerFunc(h.serveStatic))
	mux.HandleFunc("GET /login", h.loginPage)
	mux.Handle("POST /login", h.cop.Handler(http.HandlerFunc(h.login)))
	mux.Handle("POST /logout", h.action(h.logout))
	mux.Handle("GET /{$}", h.page(func(w http.ResponseWriter, r *http.Request, _ session) {
		http.Redirect(w, r, "/events", http.StatusSeeOther)
	}))
	mux.Handle("GET /events", h.heavy(h.page(h.eventsPage)))
	mux.Handle("GET /events/{id}", h.heavy(h.page(h.eventPage)))
	mux.Handle("GET /events/{id}/body", h.heavy(h.page(h.eventBody)))
	mux.Handle("POST /events/{id}/replay", h.action(h.replayEvent))
	mux.Handle("GET /dead", h.heavy(h.page(h.deadPage)))
	mux.Handle("POST /dead/replay", h.action(h.replayDead))
	mux.Handle("GET /endpoints", h.page(h.endpointsPage))
	mux.Handle("GET /triggers", h.page(h.triggersPage))
	mux.Handle("GET /hooks", h.page(h.hooksPage))
	mux.Handle("/", h.page(func(w http.ResponseWriter, r *http.Request, _ session) {
		h.fail(w, r, http.StatusNotFound, "Not found", "There is no page at "+r.URL.Path+".")
	}))
	h.mux = mux
}

// heavy runs a page that reads whole stored events inside opts.Views; a
// page that finds no slot is answered 503 with Retry-After.
func (h *Handler) heavy(next http.Handler) http.Handler {
	return h.opts.Views.Wrap(next, func(w http.ResponseWriter, r *http.Request) {
		h.log.Warn("web: busy: too many pages reading stored events", "path", r.URL.Path, "remote", r.RemoteAddr)
		w.Header().Set("Retry-After", "5")
		h.fail(w, r, http.StatusServiceUnavailable, "Busy", "Too many pages that read stored events are being served right now. Retry in a few seconds.")
	})
}

// ServeHTTP serves the UI with restrictive security headers: no inline
// script or style, no framing, no caching of pages.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) serveStatic(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("v") != "" {
		w.Header().Set("Cache-Control", "public, max-age=86400, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	h.static.ServeHTTP(w, r)
}

// view is what every page template receives.
type view struct {
	Title   string
	Nav     string
	Auth    bool // a token is configured: show the logout button
	CSRF    string
	Flash   *flash
	Assets  map[string]string
	Refresh int // live refresh interval in milliseconds
	Data    any
}

// render executes page's template into a buffer, then writes it with
// status: a template error never leaves half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name, tmpl string, v view) {
	t, ok := h.pages[name]
	if !ok {
		h.log.Error("web: no such page template", "page", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	v.Assets = h.assets
	v.Auth = h.keys.auth
	v.Refresh = int(h.opts.RefreshInterval / time.Millisecond)
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, tmpl, v); err != nil {
		h.log.Error("web: render", "page", name, "path", r.URL.Path, "err", err)
		http.Error(w, "internal error: the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fail renders an error page.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	v := view{Title: title, Data: map[string]any{"Status": status, "Message": msg}}
	if s, ok := h.session(r); ok {
		v.CSRF = h.keys.csrfToken(s.nonce)
	}
	h.render(w, r, status, "error", "layout", v)
}

// revocations holds the sessions ended by a logout until they expire.
type revocations struct {
	mu sync.Mutex
	m  map[string]time.Time // nonce -> expiry
}

const maxRevocations = 10000

func (rv *revocations) revoke(nonce string, exp, now time.Time) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if len(rv.m) >= maxRevocations {
		for n, e := range rv.m {
			if !e.After(now) {
				delete(rv.m, n)
			}
		}
	}
	if len(rv.m) < maxRevocations {
		rv.m[nonce] = exp
	}
}

func (rv *revocations) revoked(nonce string) bool {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	_, ok := rv.m[nonce]
	return ok
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}
