// Package reconcile compares the hooks the configuration asks for (the
// manage: blocks) with the hooks on the forges and with forgehook's
// ownership records, and carries out the operator's commands: plan, apply,
// prune, adopt, rotate and list (docs/hooks.md).
//
// Its rules (HOOKS.md §2): it is only ever run by an operator's command,
// never when the server starts or stops; it matches a hook by its recorded
// id and by the exact URL, never by host; it reads every page of a list; it
// changes a hook in place and never deletes and recreates one; it never
// touches a hook it does not own (it reports it and offers adopt); it
// compares secrets by a keyed fingerprint of what it applied; it works on
// one forge host at a time; a 401 or 403 from a forge stops the work on
// that target with an error naming the permission needed.
package reconcile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/hooks"
	"github.com/forgehook/forgehook/internal/store"
)

// Records is where ownership records and the secret fingerprint key are
// kept: the store.
type Records interface {
	HookRecords(ctx context.Context) ([]store.HookRecord, error)
	PutHookRecord(ctx context.Context, r store.HookRecord) error
	DeleteHookRecord(ctx context.Context, endpoint, kind, name string) error
	Fingerprinter(ctx context.Context) (func(secret string) string, error)
}

// NewClientFunc builds a forge client (internal/hooks/all.New).
type NewClientFunc func(provider string, o hooks.Options) (hooks.Client, error)

// DefaultGrace is how long the secret replaced by a rotation is still to be
// accepted: GitHub's redelivery horizon (HOOKS.md §2.8).
const DefaultGrace = 72 * time.Hour

// Endpoint is one managed endpoint as the configuration asks for it.
type Endpoint struct {
	Name     string
	Provider string
	APIURL   string
	Token    config.Secret
	// URL is the URL the forge must call (it may hold the endpoint key);
	// DisplayURL the same with the key shown as "<key>".
	URL        string
	DisplayURL string
	Targets    []hooks.Target
	Events     []string
	Active     bool
	// Secrets are the endpoint's secrets; the first is the one pushed.
	Secrets []config.Secret
}

// FromConfig returns the managed endpoints of c: those with a manage:
// block, and no other.
func FromConfig(c *config.Config) []Endpoint {
	var out []Endpoint
	for i := range c.Endpoints {
		ep := &c.Endpoints[i]
		m := ep.Manage
		if m == nil {
			continue
		}
		u := c.HookURL(ep)
		disp := u
		if ep.Key != "" {
			disp = strings.TrimSuffix(u, ep.Key.Reveal()) + "<key>"
		}
		e := Endpoint{
			Name: ep.Name, Provider: ep.Provider, APIURL: m.APIURL, Token: m.Token,
			URL: u, DisplayURL: disp, Events: m.Events, Active: m.IsActive(), Secrets: ep.Secrets,
		}
		if len(e.Events) == 0 {
			e.Events = []string{"push"}
		}
		for _, t := range m.Targets {
			k, n := t.Kind()
			e.Targets = append(e.Targets, hooks.Target{Kind: k, Name: n})
		}
		out = append(out, e)
	}
	return out
}

// The actions of a plan's lines.
const (
	ActCreate     = "create"      // + no hook: create one
	ActUpdate     = "update"      // ~ our hook differs: change it in place
	ActInSync     = "in_sync"     // = our hook is as configured
	ActForeign    = "foreign"     // ! a hook with our URL we do not own: adopt?
	ActCannotList = "cannot_list" // ? the forge refuses to list hooks
	ActPrune      = "prune"       // - an owned hook whose target or endpoint left the configuration
	ActManual     = "manual"      // the forge has no hook API: manual steps
	ActError      = "error"       // the forge could not be asked
)

// Symbol returns the one-character sign of an action in the plan.
func Symbol(action string) string {
	switch action {
	case ActCreate:
		return "+"
	case ActUpdate:
		return "~"
	case ActInSync:
		return "="
	case ActForeign:
		return "!"
	case ActCannotList:
		return "?"
	case ActPrune:
		return "-"
	case ActManual:
		return "*"
	}
	return "x"
}

// Change is one line of a plan: what forgehook would do, or did, for one
// (endpoint, target).
type Change struct {
	Endpoint string       `json:"endpoint"`
	Forge    string       `json:"forge"`
	APIURL   string       `json:"api_url,omitempty"`
	Target   hooks.Target `json:"target"`
	Action   string       `json:"action"`
	// HookID is our hook's id, when there is one.
	HookID string `json:"hook_id,omitempty"`
	// Fields are what an update changes: url, events, active, secret.
	Fields []string `json:"fields,omitempty"`
	// URL is the URL (endpoint key hidden); Events the forge's names.
	URL    string   `json:"url"`
	Events []string `json:"events,omitempty"`
	// Foreign are the ids of hooks with our URL that we do not own.
	Foreign []string `json:"foreign,omitempty"`
	// Health is the forge's view of our hook.
	Health *hooks.Health `json:"health,omitempty"`
	// Notes say more: the permission missing, how to adopt, a rotation's
	// state.
	Notes []string `json:"notes,omitempty"`
	// Steps are the manual steps for a forge without a hook API.
	Steps []string `json:"steps,omitempty"`
	// Error is why the target could not be planned or applied.
	Error string `json:"error,omitempty"`
	// Done is set by apply, prune, adopt and rotate: what was carried out
	// ("created", "updated", "deleted", "adopted", "rotated", "unchanged").
	Done string `json:"done,omitempty"`
	// Pinged is set when apply asked the forge for a test delivery.
	Pinged bool `json:"pinged,omitempty"`

	// ep and rec carry what apply needs; never sent.
	ep  *Endpoint
	rec *store.HookRecord
	// events are the native names the spec carries.
	events []string
}

// Pending reports whether the change is one apply or prune would carry out.
func (c Change) Pending() bool {
	switch c.Action {
	case ActCreate, ActUpdate, ActCannotList, ActPrune:
		return true
	}
	return false
}

// Plan is the answer of plan, apply, prune, adopt and rotate.
type Plan struct {
	Changes []Change `json:"changes"`
	// Pending counts the changes that apply or prune would carry out;
	// Errors the targets that could not be planned or changed.
	Pending int `json:"pending"`
	Errors  int `json:"errors"`
	// Since is when apply started: a ping stored after it answers it.
	Since time.Time `json:"since,omitzero"`
}

func (p *Plan) count() {
	p.Pending, p.Errors = 0, 0
	for _, c := range p.Changes {
		if c.Pending() && c.Done == "" {
			p.Pending++
		}
		if c.Error != "" {
			p.Errors++
		}
	}
}

// Observer receives the health of every hook a command looked at: the seam
// for metrics and the Hooks page.
type Observer func(endpoint string, t hooks.Target, h hooks.Health)

// Reconciler carries out the hook commands. One command runs at a time.
type Reconciler struct {
	// Endpoints returns the managed endpoints of the running configuration.
	Endpoints func() []Endpoint
	// Records is the store.
	Records Records
	// NewClient builds a forge client.
	NewClient NewClientFunc
	// HTTP is the client the forge clients use (nil: theirs).
	HTTP *http.Client
	// Logger receives one line per change made.
	Logger *slog.Logger
	// Observe, when set, receives the health of each hook seen.
	Observe Observer
	// Now is the clock (nil: time.Now).
	Now func() time.Time

	mu sync.Mutex
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Reconciler) log() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Request selects what a command works on.
type Request struct {
	// Endpoint limits the command to one endpoint ("" all).
	Endpoint string `json:"endpoint,omitempty"`
	// Target limits adopt to one target ("kind:name"; "" all).
	Target string `json:"target,omitempty"`
	// HookID names the hook to adopt when several share our URL.
	HookID string `json:"hook_id,omitempty"`
	// Grace is rotate's grace period ("" the default, 72h).
	Grace string `json:"grace,omitempty"`
	// Ping asks apply to request a test delivery from the forge for each
	// hook it created or changed (default true through the API).
	Ping *bool `json:"ping,omitempty"`
}

// ErrUnknownEndpoint means the request named an endpoint that is not
// managed in the running configuration.
var ErrUnknownEndpoint = errors.New("no managed endpoint of that name (an endpoint needs a manage: block)")

// session holds what one command caches: clients per (forge, api_url,
// token) and the fingerprint function.
type session struct {
	r       *Reconciler
	fp      func(string) string
	clients map[string]hooks.Client
	records []store.HookRecord
	eps     []Endpoint
}

func (r *Reconciler) begin(ctx context.Context, req Request) (*session, error) {
	if r.Records == nil || r.NewClient == nil || r.Endpoints == nil {
		return nil, errors.New("reconcile: hook management is not set up in this server")
	}
	eps := r.Endpoints()
	if req.Endpoint != "" {
		i := slices.IndexFunc(eps, func(e Endpoint) bool { return e.Name == req.Endpoint })
		if i < 0 {
			return nil, fmt.Errorf("reconcile: endpoint %q: %w", req.Endpoint, ErrUnknownEndpoint)
		}
	}
	fp, err := r.Records.Fingerprinter(ctx)
	if err != nil {
		return nil, fmt.Errorf("reconcile: %w", err)
	}
	recs, err := r.Records.HookRecords(ctx)
	if err != nil {
		return nil, fmt.Errorf("reconcile: %w", err)
	}
	return &session{r: r, fp: fp, clients: map[string]hooks.Client{}, records: recs, eps: eps}, nil
}

// client returns the forge client for (provider, apiURL, token).
func (s *session) client(provider, apiURL string, token config.Secret) (hooks.Client, error) {
	key := provider + "\x00" + apiURL + "\x00" + s.fp(token.Reveal())
	if c, ok := s.clients[key]; ok {
		return c, nil
	}
	c, err := s.r.NewClient(provider, hooks.Options{APIURL: apiURL, Token: token.Reveal(), HTTP: s.r.HTTP, Logger: s.r.log()})
	if err != nil {
		return nil, fmt.Errorf("forge client %s: %w", provider, err)
	}
	s.clients[key] = c
	return c, nil
}

// record returns our record of (endpoint, target).
func (s *session) record(endpoint string, t hooks.Target) *store.HookRecord {
	for i := range s.records {
		rc := &s.records[i]
		if rc.Endpoint == endpoint && rc.TargetKind == t.Kind && rc.TargetName == t.Name {
			return rc
		}
	}
	return nil
}

// host returns the host of an API URL, for ordering the work by forge host.
func host(apiURL string) string {
	u, err := url.Parse(apiURL)
	if err != nil {
		return apiURL
	}
	return u.Host
}

// Plan compares the configuration, the records and the forges, and
// changes nothing.
func (r *Reconciler) Plan(ctx context.Context, req Request) (Plan, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, err := r.begin(ctx, req)
	if err != nil {
		return Plan{}, err
	}
	p := s.plan(ctx, req.Endpoint)
	return p, nil
}

// plan builds the plan of every managed endpoint (or one), ordered by
// forge host so that the work runs one host at a time, then the prunes.
func (s *session) plan(ctx context.Context, only string) Plan {
	var p Plan
	eps := slices.Clone(s.eps)
	slices.SortStableFunc(eps, func(a, b Endpoint) int { return cmp.Compare(host(a.APIURL), host(b.APIURL)) })
	for i := range eps {
		ep := &eps[i]
		if only != "" && ep.Name != only {
			continue
		}
		for _, t := range ep.Targets {
			p.Changes = append(p.Changes, s.planTarget(ctx, ep, t))
		}
	}
	p.Changes = append(p.Changes, s.prunes(only)...)
	p.count()
	return p
}

// planTarget plans one (endpoint, target).
func (s *session) planTarget(ctx context.Context, ep *Endpoint, t hooks.Target) Change {
	c := Change{Endpoint: ep.Name, Forge: ep.Provider, APIURL: ep.APIURL, Target: t, URL: ep.DisplayURL, ep: ep}
	c.rec = s.record(ep.Name, t)
	cl, err := s.client(ep.Provider, ep.APIURL, ep.Token)
	if err != nil {
		c.Action, c.Error = ActError, err.Error()
		return c
	}
	if m, ok := cl.(hooks.Manual); ok {
		c.Action, c.Steps = ActManual, m.Steps(t, s.spec(ep, nil))
		return c
	}
	events, err := cl.Events(ep.Events)
	if err != nil {
		c.Action, c.Error = ActError, fmt.Sprintf("events: %v", err)
		return c
	}
	c.Events, c.events = events, events
	list, err := cl.List(ctx, t)
	switch {
	case errors.Is(err, hooks.ErrPermission) && c.rec != nil:
		// Without the permission to list, the recorded id still works.
		h, gerr := cl.Get(ctx, t, c.rec.HookID)
		if gerr != nil {
			c.Action, c.Error = ActError, gerr.Error()
			return c
		}
		c.Notes = append(c.Notes, "cannot list hooks ("+err.Error()+"); read ours by its recorded id")
		list = []hooks.Hook{h}
	case errors.Is(err, hooks.ErrPermission):
		c.Action = ActCannotList
		c.Notes = append(c.Notes, "cannot list hooks: "+err.Error(),
			"apply will try to create the hook, and report one that already exists as one to adopt")
		return c
	case err != nil:
		c.Action, c.Error = ActError, err.Error()
		return c
	}
	var ours *hooks.Hook
	for i := range list {
		h := &list[i]
		if c.rec != nil && h.ID == c.rec.HookID {
			ours = h
			continue
		}
		if h.URL == ep.URL {
			c.Foreign = append(c.Foreign, h.ID)
		}
	}
	switch {
	case ours != nil:
		c.HookID = ours.ID
		hl := ours.Health
		c.Health = &hl
		if s.r.Observe != nil {
			s.r.Observe(ep.Name, t, hl)
		}
		c.Fields = s.diff(ep, events, ours, c.rec)
		if len(c.Fields) > 0 {
			c.Action = ActUpdate
			if secretReplaced[ep.Provider] && slices.Contains(c.Fields, "secret") {
				c.Notes = append(c.Notes, "the forge cannot change a hook's secret in place: apply creates the new hook, then deletes this one (no gap; the id changes)")
			}
		} else {
			c.Action = ActInSync
		}
		c.Notes = append(c.Notes, s.rotationNotes(ep, c.rec)...)
	case len(c.Foreign) > 0:
		c.Action = ActForeign
		c.Notes = append(c.Notes, fmt.Sprintf("a hook with our URL that forgehook does not own (id %s): adopt it with `forgehook hooks adopt --endpoint %s`, or remove it on the forge", strings.Join(c.Foreign, ", "), ep.Name))
		if c.rec != nil {
			c.Notes = append(c.Notes, fmt.Sprintf("our recorded hook %s is gone from the forge", c.rec.HookID))
		}
	default:
		c.Action = ActCreate
		if c.rec != nil {
			c.Notes = append(c.Notes, fmt.Sprintf("our recorded hook %s is gone from the forge: a new one will be created", c.rec.HookID))
		}
	}
	if len(c.Foreign) > 0 && c.Action != ActForeign {
		c.Notes = append(c.Notes, fmt.Sprintf("also on this target, with our URL and not ours: hook %s (left alone)", strings.Join(c.Foreign, ", ")))
	}
	return c
}

// diff lists the fields in which our hook differs from the configuration.
func (s *session) diff(ep *Endpoint, events []string, h *hooks.Hook, rec *store.HookRecord) []string {
	var f []string
	if h.URL != ep.URL {
		f = append(f, "url")
	}
	if !sameSet(h.Events, events) {
		f = append(f, "events")
	}
	if h.Active != ep.Active {
		f = append(f, "active")
	}
	if rec == nil || rec.SecretFingerprint != s.secretFP(ep) {
		f = append(f, "secret")
	}
	return f
}

// secretFP is the fingerprint of the secret pushed: the first one, or ""
// for an endpoint without secrets.
func (s *session) secretFP(ep *Endpoint) string {
	if len(ep.Secrets) == 0 {
		return ""
	}
	return s.fp(ep.Secrets[0].Reveal())
}

// rotationNotes tell the operator where a rotation stands.
func (s *session) rotationNotes(ep *Endpoint, rec *store.HookRecord) []string {
	if rec == nil || rec.PreviousSecretFingerprint == "" {
		return nil
	}
	idx := -1
	for i, sec := range ep.Secrets {
		if i > 0 && s.fp(sec.Reveal()) == rec.PreviousSecretFingerprint {
			idx = i
		}
	}
	if idx < 0 {
		return nil // the old secret is gone already
	}
	now := s.r.now()
	if now.Before(rec.GraceUntil) {
		return []string{fmt.Sprintf("rotation: keep secrets[%d] (fingerprint %s) until %s: deliveries signed with it may still arrive", idx, ep.Secrets[idx].Fingerprint(), rec.GraceUntil.UTC().Format(time.RFC3339))}
	}
	return []string{fmt.Sprintf("rotation done: remove secrets[%d] (fingerprint %s) from endpoint %s and reload", idx, ep.Secrets[idx].Fingerprint(), ep.Name)}
}

// prunes lists the owned hooks whose endpoint or target left the
// configuration (or whose endpoint lost its manage: block).
func (s *session) prunes(only string) []Change {
	var out []Change
	for i := range s.records {
		rec := &s.records[i]
		if only != "" && rec.Endpoint != only {
			continue
		}
		t := hooks.Target{Kind: rec.TargetKind, Name: rec.TargetName}
		j := slices.IndexFunc(s.eps, func(e Endpoint) bool { return e.Name == rec.Endpoint })
		if j >= 0 && slices.Contains(s.eps[j].Targets, t) && s.eps[j].Provider == rec.Forge && s.eps[j].APIURL == rec.APIURL {
			continue
		}
		out = append(out, Change{Endpoint: rec.Endpoint, Forge: rec.Forge, APIURL: rec.APIURL, Target: t, Action: ActPrune,
			HookID: rec.HookID, URL: rec.URL, Events: rec.Events, rec: rec})
	}
	return out
}

// tokenFor returns a management token for a forge API, for pruning a hook
// whose endpoint left the configuration: that of an endpoint with the same
// forge and API URL.
func (s *session) tokenFor(endpoint, forge, apiURL string) (config.Secret, bool) {
	for _, e := range s.eps {
		if e.Name == endpoint && e.Provider == forge && e.APIURL == apiURL {
			return e.Token, true
		}
	}
	for _, e := range s.eps {
		if e.Provider == forge && e.APIURL == apiURL {
			return e.Token, true
		}
	}
	return "", false
}

// spec is the hook the configuration asks for.
func (s *session) spec(ep *Endpoint, events []string) hooks.Spec {
	sp := hooks.Spec{URL: ep.URL, Events: events, Active: ep.Active, Description: "managed by forgehook: " + ep.Name}
	if len(ep.Secrets) > 0 {
		sp.Secret = ep.Secrets[0].Reveal()
	}
	return sp
}

// sameSet reports whether a and b hold the same names, in any order.
func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}
