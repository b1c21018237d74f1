// Package recovery finds the deliveries a forge failed to make to
// forgehook and recovers them (HOOKS.md §6): on GitHub by listing a hook's
// deliveries and redelivering (or fetching and ingesting) those whose guid
// has no OK attempt and is not in forgehook's dedup index; on GitLab by
// listing a hook's failed events and resending them at no more than five a
// minute per hook; on forges without a delivery history (Gitea, Forgejo,
// Gogs, Gitee, GitCode/AtomGit, Bitbucket Cloud and Data Center) by polling
// branch and tag heads and emitting synthetic push events that dedup
// against the real ones.
//
// Recovery runs only for endpoints with a recover: block whose mode is not
// off, on the hooks forgehook owns (the ownership records in the store).
// Plan only reads; Run acts. The server runs Run every recover.every on one
// replica at a time (the caller holds a store lease); nothing runs when the
// server starts.
package recovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/hooks"
	"github.com/forgehook/forgehook/internal/hooks/hookhttp"
	"github.com/forgehook/forgehook/internal/store"
)

// The recovery modes (config.Recover*), and "resend", GitLab's form of
// redeliver.
const (
	ModeRedeliver = config.RecoverRedeliver
	ModeFetch     = config.RecoverFetch
	ModePoll      = config.RecoverPoll
	ModeOff       = config.RecoverOff
)

// Headers that mark what recovery put into the log. Ingest keeps them in
// the stored headers for the trusted entry point and strips them from
// every request that arrives over the network.
const (
	// HeaderRecovered marks a delivery fetched from the forge's API and
	// ingested in-process ("github-fetch").
	HeaderRecovered = "X-Forgehook-Recovered"
	// HeaderSynthetic marks an event made by polling ("poll").
	HeaderSynthetic = "X-Forgehook-Synthetic"
)

// Defaults.
const (
	// GitHubWindow is how long github.com keeps deliveries.
	GitHubWindow = 72 * time.Hour
	// GitHubServerWindow is how long GitHub Enterprise Server keeps them.
	GitHubServerWindow = 7 * 24 * time.Hour
	// GitLabWindow is how long GitLab lists a hook's events.
	GitLabWindow = 7 * 24 * time.Hour
	// DefaultResendPerMinute is GitLab's limit on resends per hook and user.
	DefaultResendPerMinute = 5
	// MaxRedeliveries is how many redeliveries of one GitHub delivery
	// recovery asks for before it gives up on it.
	MaxRedeliveries = 3
)

// Records gives the ownership records of the hooks forgehook manages
// (*store.Store).
type Records interface {
	HookRecords(ctx context.Context) ([]store.HookRecord, error)
}

// Known reports whether a delivery's dedup key is already in the log of an
// endpoint, within the store's dedup window (*store.Store's HasKey).
type Known interface {
	HasKey(ctx context.Context, endpoint, key string) (bool, error)
}

// Ingester stores a delivery that recovery got from the forge's API or
// made by polling, through ingest's own path (normalize, dedup, store) but
// without the network checks: *ingest.Handler's Inject. header and payload
// are the forge's; trusted skips signature verification (the delivery
// came from the forge's API under forgehook's token, or was made by
// forgehook).
type Ingester interface {
	Inject(ctx context.Context, endpoint string, header http.Header, payload []byte, trusted bool) (Injected, error)
}

// Injected is what an Ingester did with a delivery.
type Injected struct {
	// ID is the stored event's id (the original's for a duplicate).
	ID string `json:"id"`
	// Duplicate reports that the delivery's dedup key was already stored.
	Duplicate bool `json:"duplicate"`
}

// State keeps small recovery state that every replica shares: the last
// seen head of each polled ref and the pending GitLab test of a hook being
// re-enabled (a KV bucket in the store, see KVState).
type State interface {
	Get(ctx context.Context, key string) (string, bool, error)
	Put(ctx context.Context, key, value string) error
	Delete(ctx context.Context, key string) error
}

// Endpoint is one endpoint with a recover: block.
type Endpoint struct {
	Name     string
	Provider string
	// APIURL is the forge API base (the manage: block's api_url; empty:
	// the forge's public default where it has one).
	APIURL string
	// Mode is redeliver, fetch or poll.
	Mode  string
	Token config.Secret
	// Every is how often the server runs recovery for the endpoint.
	Every time.Duration
	// Window bounds how far back recovery looks (0: the forge's own
	// retention: GitHubWindow, GitLabWindow).
	Window time.Duration
	// Targets are the manage: block's targets: polling reads their heads
	// even without an ownership record.
	Targets []hooks.Target
}

// FromConfig returns the endpoints of c with a recover: block whose mode is
// not off, and no other.
func FromConfig(c *config.Config) []Endpoint {
	var out []Endpoint
	for i := range c.Endpoints {
		ep := &c.Endpoints[i]
		r := ep.Recover
		if r == nil || r.Mode == "" || r.Mode == ModeOff {
			continue
		}
		e := Endpoint{Name: ep.Name, Provider: ep.Provider, Mode: r.Mode, Token: r.Token, Every: r.Every.D(), Window: r.Window.D()}
		if m := ep.Manage; m != nil {
			e.APIURL = m.APIURL
			for _, t := range m.Targets {
				k, n := t.Kind()
				e.Targets = append(e.Targets, hooks.Target{Kind: k, Name: n})
			}
		}
		out = append(out, e)
	}
	return out
}

// Item is one delivery recovery found missing (or, for poll, one changed
// head), and what became of it.
type Item struct {
	Endpoint string `json:"endpoint"`
	Forge    string `json:"forge"`
	Target   string `json:"target"`
	HookID   string `json:"hook_id,omitempty"`
	// Mode is redeliver, fetch, resend (GitLab) or poll.
	Mode string `json:"mode"`
	// ID is the forge's id of the attempt acted on (GitHub delivery id,
	// GitLab hook event id), or the ref for poll.
	ID string `json:"id"`
	// Key is the dedup key: GitHub guid, GitLab Idempotency-Key, or the
	// new head for poll.
	Key    string    `json:"key"`
	Event  string    `json:"event,omitempty"`
	Action string    `json:"action,omitempty"`
	At     time.Time `json:"at,omitzero"`
	// Attempts is how many failed attempts the forge reports.
	Attempts int `json:"attempts,omitempty"`
	// Status is "missing" in a plan; after a run "recovered", "duplicate",
	// "given_up" or "failed".
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// The statuses of an Item.
const (
	StatusMissing   = "missing"
	StatusRecovered = "recovered"
	StatusDuplicate = "duplicate"
	StatusGivenUp   = "given_up"
	StatusFailed    = "failed"
)

// HookState is a hook's health as recovery saw it.
type HookState struct {
	Endpoint      string    `json:"endpoint"`
	Forge         string    `json:"forge"`
	Target        string    `json:"target"`
	HookID        string    `json:"hook_id"`
	State         string    `json:"state"`
	AlertStatus   string    `json:"alert_status,omitempty"`
	DisabledUntil time.Time `json:"disabled_until,omitzero"`
	// Reenabled reports that a test request was sent to re-enable it.
	Reenabled bool   `json:"reenabled,omitempty"`
	Error     string `json:"error,omitempty"`
}

// Report is the outcome of one Plan or Run.
type Report struct {
	Run      bool        `json:"run"`
	Started  time.Time   `json:"started"`
	Finished time.Time   `json:"finished"`
	Items    []Item      `json:"items"`
	Hooks    []HookState `json:"hooks"`
	// Errors are the failures that stopped recovery of one hook or
	// endpoint (the others went on).
	Errors    []string `json:"errors,omitempty"`
	Missing   int      `json:"missing"`
	Recovered int      `json:"recovered"`
}

// Request selects what a Plan or Run covers.
type Request struct {
	// Endpoint, when set, limits recovery to that endpoint.
	Endpoint string `json:"endpoint,omitempty"`
	// Since, when set, narrows the window (never widens the forge's).
	Since config.Duration `json:"since,omitempty"`
	// Reenable asks Run to re-enable GitLab hooks the forge disabled.
	Reenable bool `json:"reenable,omitempty"`
}

// ErrUnknownEndpoint is returned for a Request naming an endpoint without
// a recover: block.
var ErrUnknownEndpoint = errors.New("no such endpoint with a recover: block")

// Observer receives the counts of one endpoint's run, for metrics.
type Observer interface {
	// Recovered counts missing and recovered deliveries by endpoint and mode.
	Recovered(endpoint, mode string, missing, recovered int)
	// Health sets the number of the endpoint's hooks in each state.
	Health(endpoint string, states map[string]int)
}

// Options configure a Recoverer.
type Options struct {
	Records Records
	Known   Known
	Ingest  Ingester
	State   State
	// Observer, when set, gets each endpoint's counts after a Run.
	Observer Observer
	// HTTP is the client for forge calls (nil: a 30 s timeout client).
	HTTP   *http.Client
	Logger *slog.Logger
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Sleep waits d or until ctx ends (nil: a timer); tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// ResendPerMinute bounds GitLab resends per hook (default 5).
	ResendPerMinute int
}

// Recoverer plans and runs recovery. It is safe for concurrent use: Plan
// and Run calls are serialized (run, held for a whole run, which may last
// minutes), eps and last are guarded by mu (held briefly, never while
// calling a forge), and the per-hook resend buckets (guarded by bmu)
// outlive a run. Lock order: run, then mu or bmu (never both).
type Recoverer struct {
	o Options

	run     sync.Mutex // serializes Plan and Run
	mu      sync.Mutex // guards eps and last
	eps     []Endpoint
	last    map[string]Report
	bmu     sync.Mutex
	buckets map[string]*bucket // guarded by bmu
}

// New returns a Recoverer for eps.
func New(o Options, eps []Endpoint) *Recoverer {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = hookhttp.Sleep
	}
	if o.ResendPerMinute <= 0 {
		o.ResendPerMinute = DefaultResendPerMinute
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	return &Recoverer{o: o, eps: eps, last: map[string]Report{}, buckets: map[string]*bucket{}}
}

// SetEndpoints replaces the endpoints (configuration reload).
func (r *Recoverer) SetEndpoints(eps []Endpoint) {
	r.mu.Lock()
	r.eps = eps
	r.mu.Unlock()
}

// Endpoints returns the endpoints with a recover: block.
func (r *Recoverer) Endpoints() []Endpoint {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.eps)
}

// Last returns the report of the last Run of each endpoint on this
// replica (by endpoint name).
func (r *Recoverer) Last() map[string]Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]Report, len(r.last))
	for k, v := range r.last {
		out[k] = v
	}
	return out
}

// Plan lists what Run would recover, changing nothing (poll reads heads
// but stores none).
func (r *Recoverer) Plan(ctx context.Context, req Request) (Report, error) {
	return r.do(ctx, req, false)
}

// Run recovers what Plan lists: it redelivers, fetches, resends or
// synthesizes each missing delivery, and with req.Reenable re-enables
// disabled GitLab hooks.
func (r *Recoverer) Run(ctx context.Context, req Request) (Report, error) {
	return r.do(ctx, req, true)
}

func (r *Recoverer) do(ctx context.Context, req Request, run bool) (Report, error) {
	r.run.Lock()
	defer r.run.Unlock()
	rep := Report{Run: run, Started: r.o.Now().UTC(), Items: []Item{}, Hooks: []HookState{}}
	var eps []Endpoint
	for _, e := range r.Endpoints() {
		if req.Endpoint == "" || e.Name == req.Endpoint {
			eps = append(eps, e)
		}
	}
	if req.Endpoint != "" && len(eps) == 0 {
		return rep, fmt.Errorf("recover: endpoint %q: %w", req.Endpoint, ErrUnknownEndpoint)
	}
	recs, err := r.o.Records.HookRecords(ctx)
	if err != nil {
		return rep, fmt.Errorf("recover: ownership records: %w", err)
	}
	for _, e := range eps {
		er := r.endpoint(ctx, e, recs, req, run)
		rep.Items = append(rep.Items, er.Items...)
		rep.Hooks = append(rep.Hooks, er.Hooks...)
		rep.Errors = append(rep.Errors, er.Errors...)
		if run {
			er.Started, er.Finished, er.Run = rep.Started, r.o.Now().UTC(), true
			er.count()
			r.mu.Lock()
			r.last[e.Name] = er
			r.mu.Unlock()
			r.observe(e, er)
		}
	}
	rep.count()
	rep.Finished = r.o.Now().UTC()
	return rep, nil
}

func (rep *Report) count() {
	rep.Missing, rep.Recovered = 0, 0
	for _, it := range rep.Items {
		rep.Missing++
		if it.Status == StatusRecovered {
			rep.Recovered++
		}
	}
}

func (r *Recoverer) observe(e Endpoint, rep Report) {
	if r.o.Observer == nil {
		return
	}
	mode := e.Mode
	if e.Provider == "gitlab" && mode != ModePoll {
		mode = "resend"
	}
	r.o.Observer.Recovered(e.Name, mode, rep.Missing, rep.Recovered)
	states := map[string]int{hooks.HealthOK: 0, hooks.HealthFailing: 0, hooks.HealthDisabled: 0, hooks.HealthUnknown: 0}
	for _, h := range rep.Hooks {
		states[h.State]++
	}
	r.o.Observer.Health(e.Name, states)
}

// endpoint recovers one endpoint; its errors go into the report.
func (r *Recoverer) endpoint(ctx context.Context, e Endpoint, recs []store.HookRecord, req Request, run bool) Report {
	var rep Report
	log := r.o.Logger.With("endpoint", e.Name, "forge", e.Provider, "mode", e.Mode)
	window := e.Window
	if since := req.Since.D(); since > 0 && (window == 0 || since < window) {
		window = since
	}
	var owned []store.HookRecord
	for _, rec := range recs {
		if rec.Endpoint == e.Name {
			owned = append(owned, rec)
		}
	}
	fail := func(what string, err error) {
		log.Warn("recover: "+what, "err", err)
		rep.Errors = append(rep.Errors, fmt.Sprintf("endpoint %q: %s: %v", e.Name, what, err))
	}
	switch {
	case e.Mode == ModePoll:
		p, err := r.poller(e)
		if err != nil {
			fail("poll", err)
			return rep
		}
		targets := slices.Clone(e.Targets)
		for _, rec := range owned {
			t := hooks.Target{Kind: rec.TargetKind, Name: rec.TargetName}
			if !slices.Contains(targets, t) {
				targets = append(targets, t)
			}
		}
		for _, t := range targets {
			items, err := p.poll(ctx, t, run)
			rep.Items = append(rep.Items, items...)
			if err != nil {
				fail("poll "+t.String(), err)
			}
		}
	case e.Provider == "github":
		g, err := r.github(e)
		if err != nil {
			fail("github", err)
			return rep
		}
		if window == 0 {
			window = GitHubWindow
		}
		for _, rec := range owned {
			t := hooks.Target{Kind: rec.TargetKind, Name: rec.TargetName}
			items, hs, err := g.recover(ctx, t, rec.HookID, window, run)
			rep.Items = append(rep.Items, items...)
			rep.Hooks = append(rep.Hooks, hs)
			if err != nil {
				fail("hook "+rec.HookID+" on "+t.String(), err)
			}
		}
	case e.Provider == "gitlab":
		g, err := r.gitlab(e)
		if err != nil {
			fail("gitlab", err)
			return rep
		}
		if window == 0 {
			window = GitLabWindow
		}
		for _, rec := range owned {
			t := hooks.Target{Kind: rec.TargetKind, Name: rec.TargetName}
			items, hs, err := g.recover(ctx, t, rec.HookID, window, run, req.Reenable)
			rep.Items = append(rep.Items, items...)
			rep.Hooks = append(rep.Hooks, hs)
			if err != nil {
				fail("hook "+rec.HookID+" on "+t.String(), err)
			}
		}
	default:
		fail("mode "+e.Mode, fmt.Errorf("%w: forge %s has no delivery history to %s from: use mode poll", hooks.ErrUnsupported, e.Provider, e.Mode))
	}
	for i := range rep.Items {
		if rep.Items[i].Status == StatusFailed {
			log.Warn("recover: delivery not recovered", "target", rep.Items[i].Target, "id", rep.Items[i].ID, "err", rep.Items[i].Error)
		}
	}
	return rep
}

// Loop runs Run for each endpoint every its recover.every until ctx ends.
// The caller runs it under the store's lease (one replica at a time); the
// first run comes one period after Loop starts, never at once.
func (r *Recoverer) Loop(ctx context.Context) {
	next := map[string]time.Time{}
	for {
		now := r.o.Now()
		wait := time.Minute
		for _, e := range r.Endpoints() {
			every := e.Every
			if every <= 0 {
				every = config.DefaultRecoverEvery.D()
			}
			at, ok := next[e.Name]
			if !ok {
				next[e.Name] = now.Add(every)
				continue
			}
			if !now.Before(at) {
				if _, err := r.Run(ctx, Request{Endpoint: e.Name}); err != nil && ctx.Err() == nil {
					r.o.Logger.Warn("recover: run", "endpoint", e.Name, "err", err)
				}
				next[e.Name] = r.o.Now().Add(every)
				at = next[e.Name]
			}
			wait = min(wait, max(at.Sub(now), time.Second))
		}
		if err := r.o.Sleep(ctx, wait); err != nil {
			return
		}
	}
}
