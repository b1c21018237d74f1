// Package app wires forgehook's parts together: the store, the ingest
// handler, the admin API and the listeners. It owns every goroutine it
// starts and stops them all in Run's return.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/forgehook/forgehook/internal/action"
	"github.com/forgehook/forgehook/internal/activity"
	"github.com/forgehook/forgehook/internal/api"
	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/deliver"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/ingest"
	"github.com/forgehook/forgehook/internal/metrics"
	"github.com/forgehook/forgehook/internal/recovery"
	"github.com/forgehook/forgehook/internal/store"
	"github.com/forgehook/forgehook/internal/throttle"
	"github.com/forgehook/forgehook/internal/trigger"
	"github.com/forgehook/forgehook/internal/verify"
	"github.com/forgehook/forgehook/internal/web"
)

// Options are the parts of the environment the app uses.
type Options struct {
	// Logger receives structured logs.
	Logger *slog.Logger
	// Stdout receives the quick-start's one line per event (nil: none).
	Stdout io.Writer
	// Registry holds the forge providers.
	Registry *forge.Registry
	// Presets resolves named allow_ips presets (nil: none).
	Presets func(string) []string
}

// App is a running forgehook.
type App struct {
	opts  Options
	log   *slog.Logger
	store *store.Store

	mu  sync.Mutex // guards cfg and eps
	cfg *config.Config
	eps []api.EndpointInfo

	metrics *metrics.Metrics
	// activity counts events and delivery outcomes per minute for the UI's charts.
	activity *activity.Recorder

	runMu    sync.Mutex // guards runner and triggers
	runner   *deliver.Runner
	triggers []*trigger.Trigger // the runner's: their actions are closed after it stops
	runCtx   context.Context

	ingest    *ingest.Handler
	recoverer *recovery.Recoverer // nil until New has the store
	ingestLn  net.Listener
	adminLn   net.Listener
	ingestSrv *http.Server
	adminSrv  *http.Server
}

// New opens the store, builds the endpoints and binds both listeners. The
// caller must call Run (which serves and cleans up) or Close.
func New(ctx context.Context, cfg *config.Config, opts Options) (*App, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	a := &App{opts: opts, log: opts.Logger, cfg: cfg, metrics: metrics.New(), activity: activity.New(time.Now())}
	trusted, err := verify.ParseAllowlist(cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("trusted_proxies: %w", err)
	}
	st, err := store.Open(ctx, store.Options{
		URL:         cfg.Store.URL,
		Credentials: cfg.Store.Credentials,
		Token:       cfg.Store.Token.Reveal(),
		DataDir:     cfg.DataDir,
		Listen:      cfg.Store.Embedded.Listen,
		Replicas:    cfg.Store.Replicas,
		Retention:   cfg.Store.Retention.D(),
		DedupWindow: cfg.Store.DedupWindow.D(),
		AckTimeout:  cfg.Store.AckTimeout.D(),
		SyncAlways:  cfg.Store.Sync == "always",
		MaxBytes:    int64(cfg.Store.MaxBytes),
		Logger:      opts.Logger,
	})
	if err != nil {
		return nil, err
	}
	a.store = st
	evHeaders, dlHeaders := opts.Registry.IDHeaders()
	a.ingest = ingest.New(ingest.Options{
		Log:            st,
		Logger:         opts.Logger,
		AckTimeout:     cfg.Store.AckTimeout.D(),
		TrustedProxies: trusted,
		Observe:        a.observeIngest,
		// Reload does not change these two: they hold the state of
		// requests in flight.
		MaxBodyInFlight: int64(cfg.Server.MaxBodyInFlight),
		Unauthenticated: cfg.Server.UnauthenticatedRateLimit,
		// Nor these: they bound body reads in flight.
		MaxConcurrentPerSource: cfg.Server.MaxConcurrentPerSource,
		MinBodyRate:            int64(cfg.Server.MinBodyRate),
		ReadTimeout:            cfg.Server.ReadTimeout.D(),
		EventHeaders:           evHeaders,
		DeliveryHeaders:        dlHeaders,
		Tests:                  recovery.ExpectedTests{State: st.RecoverState()},
	})
	a.recoverer = a.newRecoverer(st, cfg)
	if err := a.setEndpoints(cfg); err != nil {
		a.Close()
		return nil, err
	}
	if a.ingestLn, err = net.Listen("tcp", cfg.Listen); err != nil {
		a.Close()
		return nil, fmt.Errorf("listen %s: %w", cfg.Listen, err)
	}
	if a.adminLn, err = net.Listen("tcp", cfg.Admin.Listen); err != nil {
		a.Close()
		return nil, fmt.Errorf("admin listen %s: %w", cfg.Admin.Listen, err)
	}
	a.ingestSrv = &http.Server{
		Handler:           a.ingestMux(),
		ReadHeaderTimeout: cfg.Server.ReadHeaderTimeout.D(),
		ReadTimeout:       cfg.Server.ReadTimeout.D(),
		WriteTimeout:      cfg.Server.WriteTimeout.D(),
		IdleTimeout:       cfg.Server.IdleTimeout.D(),
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn),
	}
	a.runCtx = context.WithoutCancel(ctx)
	if err := a.startTriggers(cfg); err != nil {
		a.Close()
		return nil, err
	}
	// One count of bad admin tokens per address, for the API, /metrics
	// and the login page alike.
	adminFails := throttle.New(api.FailedTokenLimit, api.FailedTokenWindow)
	// At most api.ViewSlots admin requests hold whole stored events at once.
	adminViews := api.NewGate(api.ViewSlots, api.ViewWait)
	apiSrv := &api.Server{Events: st, Dead: st, Delivery: delivery{a}, Token: cfg.Admin.Token, Endpoints: a.endpointInfos, Logger: opts.Logger, Fails: adminFails, Views: adminViews}
	apiSrv.Hooks = a.hookManager(st)
	apiSrv.Relays = st
	for _, rt := range cfg.Admin.RelayTokens {
		apiSrv.RelayTokens = append(apiSrv.RelayTokens, api.RelayToken{Name: rt.Name, Token: rt.Token, Endpoint: rt.Endpoint})
	}
	apiSrv.Recover = a.recoverer
	adminMux := http.NewServeMux()
	adminMux.Handle("/api/v1/", apiSrv.Handler())
	a.metrics.Watch(delivery{a}, st)
	adminMux.Handle("GET /metrics", api.RequireToken(cfg.Admin.Token, adminFails, a.metrics.Handler()))
	adminMux.HandleFunc("GET /healthz", a.healthz)
	adminMux.HandleFunc("GET /readyz", a.readyz)
	adminMux.HandleFunc("POST /hooks/{endpoint}", a.wrongListener)
	adminMux.Handle("/", web.New(web.Options{
		Events: st, Dead: st, Delivery: delivery{a}, Endpoints: a.endpointInfos,
		Token: cfg.Admin.Token, Logger: opts.Logger, IngestURL: "http://" + a.IngestAddr(),
		Forges: forgeIDs(opts.Registry), Fails: adminFails, Views: adminViews,
		EndpointCounts: func(name string) (web.EndpointCounts, bool) {
			c := a.metrics.Counts(name)
			return web.EndpointCounts{Accepted: c.Accepted + c.Duplicates, Duplicates: c.Duplicates, Rejected: c.Rejected},
				c.Accepted+c.Duplicates+c.Pings > 0 || len(c.Rejected) > 0
		},
		Activity:    a.activity.Last,
		Totals:      st.Totals,
		HookRecords: st,
		Recovery:    a.recoverer.Last,
		TriggerCounts: func(name string) (web.TriggerCounts, bool) {
			c, ok := a.metrics.Trigger(name)
			broken := a.brokenTriggers()[name]
			return web.TriggerCounts{Delivered: c.Delivered, Failed: c.Failed, Dead: c.Dead, Broken: broken}, ok || broken != ""
		},
	}))
	a.adminSrv = &http.Server{
		Handler:           api.AllowHosts(api.NewHosts(cfg.Admin.Hosts, cfg.Admin.Listen), opts.Logger, apiSrv.Scope(adminMux)),
		ReadHeaderTimeout: 10 * time.Second,
		// Bounded in time too: a request body (a replay) is at most 1 MiB,
		// and the largest answer is one stored body (max_body).
		ReadTimeout:  time.Minute,
		WriteTimeout: 5 * time.Minute,
		IdleTimeout:  2 * time.Minute,
		ErrorLog:     slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn),
	}
	return a, nil
}

func (a *App) setEndpoints(cfg *config.Config) error {
	var eps []*ingest.Endpoint
	var infos []api.EndpointInfo
	var errs []error
	for i := range cfg.Endpoints {
		ep := &cfg.Endpoints[i]
		p, err := a.opts.Registry.New(ep)
		if err != nil {
			errs = append(errs, fmt.Errorf("endpoint %q: %w", ep.Name, err))
			continue
		}
		ie, err := ingest.NewEndpoint(ep, p, a.opts.Presets)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		recoverEndpoint(ep, ie)
		eps = append(eps, ie)
		info := api.EndpointInfo{Name: ep.Name, Provider: ep.Provider, Path: ingest.Prefix + ie.Path, Insecure: ep.Insecure, AllowIPs: ep.AllowIPs}
		if ep.Key != "" {
			info.Path = ingest.Prefix + "<key>"
		}
		for _, s := range ep.Secrets {
			info.Secrets = append(info.Secrets, s.Fingerprint())
		}
		infos = append(infos, info)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	a.ingest.SetEndpoints(eps)
	if a.recoverer != nil {
		a.recoverer.SetEndpoints(recovery.FromConfig(cfg))
	}
	a.mu.Lock()
	a.cfg, a.eps = cfg, infos
	a.mu.Unlock()
	return nil
}

func (a *App) endpointInfos() []api.EndpointInfo {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]api.EndpointInfo(nil), a.eps...)
}

func (a *App) ingestMux() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(ingest.Prefix, a.ingest)
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.HandleFunc("GET /readyz", a.readyz)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"not found: webhooks go to /hooks/{endpoint}"}`, http.StatusNotFound)
	})
	return mux
}

func (a *App) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"status":"ok"}`+"\n")
}

// observeIngest feeds the metrics and, for each new event stored, the
// UI's activity chart.
func (a *App) observeIngest(o ingest.Outcome) {
	a.metrics.ObserveIngest(o)
	if o.Status == http.StatusOK && !o.Duplicate && !o.Ping {
		a.activity.Add("events", time.Now())
	}
}

// observeAttempt feeds the metrics and the UI's per-trigger chart.
func (a *App) observeAttempt(at store.Attempt, eventTime time.Time) {
	a.metrics.ObserveAttempt(at, eventTime)
	a.activity.Add(at.Trigger+"/"+at.Outcome, time.Now())
}

// wrongListener answers a webhook sent to the admin listener: 404 with a
// hint naming the ingest listener, in JSON as forges show it in their
// delivery logs (not the UI's HTML page).
func (a *App) wrongListener(w http.ResponseWriter, r *http.Request) {
	msg := "this is forgehook's admin listener: webhooks go to the ingest listener (listen: " + a.cfg.Listen + "), at /hooks/" + r.PathValue("endpoint")
	a.log.Warn("webhook sent to the admin listener", "endpoint", r.PathValue("endpoint"), "remote", r.RemoteAddr, "hint", "ingest listens on "+a.cfg.Listen)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusNotFound)
	b, _ := json.Marshal(map[string]string{"error": msg})
	_, _ = w.Write(append(b, '\n'))
}

// readyz answers 503 with the reason while the store cannot take events
// (not connected, or its writes fail: a full disk), else 200. Its details
// name what works only in part: triggers that did not start, and
// acknowledged events the start found missing from the log.
func (a *App) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "application/json")
	var ans struct {
		Status  string `json:"status"`
		Reason  string `json:"reason,omitempty"`
		Details struct {
			BrokenTriggers map[string]string `json:"broken_triggers,omitempty"`
			EventsLost     uint64            `json:"events_lost,omitempty"`
		} `json:"details,omitzero"`
	}
	ans.Status = "ready"
	ans.Details.BrokenTriggers = a.brokenTriggers()
	ans.Details.EventsLost = a.store.Loss().Events
	if len(ans.Details.BrokenTriggers) == 0 {
		ans.Details.BrokenTriggers = nil
	}
	err := a.store.Ready(ctx)
	if err == nil {
		err = a.store.CaughtUp() // an index rebuilding would miss redeliveries
	}
	if err != nil {
		ans.Status, ans.Reason = "not ready", err.Error()
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	b, _ := json.Marshal(ans)
	_, _ = w.Write(append(b, '\n'))
}

// brokenTriggers names the triggers that did not start, with the reason.
func (a *App) brokenTriggers() map[string]string {
	if r := a.currentRunner(); r != nil {
		return r.Broken()
	}
	return map[string]string{}
}

// startTriggers builds cfg's triggers and starts delivering to them,
// replacing the running ones.
func (a *App) startTriggers(cfg *config.Config) error {
	reg := a.opts.Registry
	env := action.Env{
		Logger: a.log,
		Stdout: a.opts.Stdout,
		NATS:   a.store.Conn(),
		Signer: func(id string) forge.Signer {
			p, err := reg.New(&config.Endpoint{Name: "signer", Provider: id})
			if err != nil {
				return nil
			}
			s, _ := p.(forge.Signer)
			return s
		},
	}
	ts, err := trigger.Build(cfg, env)
	if err != nil {
		return err
	}
	if err := a.store.Ready(a.runCtx); err != nil && len(ts) > 0 {
		// An external store still coming up: deliveries start on reload
		// or restart. Ingest does not depend on them.
		a.log.Warn("triggers not started: store not ready", "err", err)
		trigger.Close(ts)
		return nil
	}
	r, err := deliver.Start(a.runCtx, a.store, ts, deliver.Options{Logger: a.log, Observe: a.observeAttempt})
	if err != nil {
		trigger.Close(ts)
		return err
	}
	a.runMu.Lock()
	old, oldTs := a.runner, a.triggers
	a.runner, a.triggers = r, ts
	a.runMu.Unlock()
	stopRunner(old, oldTs)
	return nil
}

// stopRunner stops r, then closes its triggers' actions: their idle
// connections (an http action's to its receiver, a nats action's own) and
// processes would otherwise outlive the runner, at every reload.
func stopRunner(r *deliver.Runner, ts []*trigger.Trigger) {
	if r != nil {
		r.Stop()
	}
	trigger.Close(ts)
}

func (a *App) currentRunner() *deliver.Runner {
	a.runMu.Lock()
	defer a.runMu.Unlock()
	return a.runner
}

// stopTriggers stops the running triggers and closes their actions.
func (a *App) stopTriggers() {
	a.runMu.Lock()
	r, ts := a.runner, a.triggers
	a.runMu.Unlock()
	stopRunner(r, ts)
}

// IngestAddr returns the ingest listener's address.
func (a *App) IngestAddr() string { return a.ingestLn.Addr().String() }

// AdminAddr returns the admin listener's address.
func (a *App) AdminAddr() string { return a.adminLn.Addr().String() }

// Run serves until ctx is done, reloading the configuration file on
// SIGHUP, then shuts down gracefully: in-flight requests finish (up to
// 10 s), then the store closes.
func (a *App) Run(ctx context.Context) error {
	errc := make(chan error, 2)
	go func() { errc <- serve(a.ingestSrv, a.ingestLn) }()
	go func() { errc <- serve(a.adminSrv, a.adminLn) }()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	recCtx, recStop := context.WithCancel(ctx)
	recDone := a.runRecovery(recCtx)
	a.log.Info("forgehook serving", "ingest", a.IngestAddr(), "admin", a.AdminAddr(), "store", storeName(a.cfg))
	var runErr error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err := <-errc:
			runErr = err
			break loop
		case <-hup:
			a.reload()
		case <-a.store.Restarted():
			// The embedded JetStream restarted after a write error (a
			// full disk): start the triggers' consumers again at once.
			a.mu.Lock()
			cfg := a.cfg
			a.mu.Unlock()
			if err := a.startTriggers(cfg); err != nil {
				a.log.Error("triggers not restarted after the store's recovery", "err", err)
			}
		}
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = a.ingestSrv.Shutdown(sctx)
	_ = a.adminSrv.Shutdown(sctx)
	recStop()
	<-recDone
	a.stopTriggers()
	a.store.Close()
	a.log.Info("forgehook stopped")
	return runErr
}

func serve(s *http.Server, ln net.Listener) error {
	if err := s.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func storeName(cfg *config.Config) string {
	if cfg.Store.URL == "" {
		return "embedded"
	}
	return "external"
}

// reload re-reads the configuration file and swaps the endpoints. Changes
// to listeners and the store need a restart and are reported.
func (a *App) reload() {
	a.mu.Lock()
	file := a.cfg.File
	a.mu.Unlock()
	if file == "" {
		a.log.Warn("reload: no configuration file (quick-start); nothing to reload")
		return
	}
	cfg, err := config.Load(file, config.Options{Providers: a.opts.Registry.Has, Check: trigger.Check})
	if err != nil {
		a.log.Error("reload: configuration rejected, keeping the running one", "err", err)
		return
	}
	if err := a.setEndpoints(cfg); err != nil {
		a.log.Error("reload: endpoints rejected, keeping the running ones", "err", err)
		return
	}
	if err := a.startTriggers(cfg); err != nil {
		a.log.Error("reload: triggers rejected, keeping the running ones", "err", err)
		return
	}
	a.log.Info("reload: configuration applied", "endpoints", len(cfg.Endpoints), "triggers", len(cfg.Triggers))
}

// Close releases what New acquired, for callers that do not Run.
func (a *App) Close() {
	if a.ingestLn != nil {
		a.ingestLn.Close()
	}
	if a.adminLn != nil {
		a.adminLn.Close()
	}
	a.stopTriggers()
	if a.store != nil {
		a.store.Close()
	}
}

// forgeIDs returns the ids an event's forge can have: the registry's,
// without auto, which detects one of the others.
func forgeIDs(r *forge.Registry) []string {
	if r == nil {
		return nil
	}
	var ids []string
	for _, id := range r.Names() {
		if id != "auto" {
			ids = append(ids, id)
		}
	}
	return ids
}
