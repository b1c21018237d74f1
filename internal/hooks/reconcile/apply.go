package reconcile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/hooks"
	"github.com/forgehook/forgehook/internal/store"
)

// Locker is implemented by Records that keep the commands that change
// forges to one at a time across replicas (the store's LockHooks).
type Locker interface {
	LockHooks(ctx context.Context, holder string, ttl time.Duration) (func(), error)
}

// lockTTL bounds how long a command holds the lock should its replica die.
const lockTTL = 15 * time.Minute

// start takes the reconciler's mutex and the store's lock (one command at
// a time, across replicas) and begins a session; release gives both back.
func (r *Reconciler) start(ctx context.Context, req Request) (s *session, release func(), err error) {
	r.mu.Lock()
	unlock, err := r.lock(ctx)
	if err != nil {
		r.mu.Unlock()
		return nil, nil, err
	}
	release = func() {
		unlock()
		r.mu.Unlock()
	}
	if s, err = r.begin(ctx, req); err != nil {
		release()
		return nil, nil, err
	}
	return s, release, nil
}

// lock takes the cross-replica lock when Records has one.
func (r *Reconciler) lock(ctx context.Context) (func(), error) {
	l, ok := r.Records.(Locker)
	if !ok {
		return func() {}, nil
	}
	host, _ := os.Hostname()
	unlock, err := l.LockHooks(ctx, fmt.Sprintf("%s pid %d", host, os.Getpid()), lockTTL)
	if err != nil {
		return nil, fmt.Errorf("reconcile: %w", err)
	}
	return unlock, nil
}

// pingsOnCreate are the forges that send a ping by themselves when a hook
// is created (GitHub): apply does not ask them for another.
var pingsOnCreate = map[string]bool{"github": true}

// Apply carries out the plan: it creates the missing hooks, changes ours
// in place where they differ, records what it applied, and asks the forge
// for a test delivery of each hook it created or changed (unless
// req.Ping is false). It never deletes a hook (prune does) and never
// touches one it does not own.
func (r *Reconciler) Apply(ctx context.Context, req Request) (Plan, error) {
	s, release, err := r.start(ctx, req)
	if err != nil {
		return Plan{}, err
	}
	defer release()
	p := s.plan(ctx, req.Endpoint)
	p.Since = r.now().UTC()
	ping := req.Ping == nil || *req.Ping
	for i := range p.Changes {
		c := &p.Changes[i]
		switch c.Action {
		case ActCreate, ActCannotList:
			s.create(ctx, c, ping)
		case ActUpdate:
			s.update(ctx, c, ping, DefaultGrace)
		case ActInSync:
			c.Done = "unchanged"
		case ActPrune:
			c.Notes = append(c.Notes, "left in place: `forgehook hooks prune` deletes it")
		}
	}
	p.count()
	return p, nil
}

// create registers our hook on c's target and records it.
func (s *session) create(ctx context.Context, c *Change, ping bool) {
	ep := c.ep
	cl, err := s.client(ep.Provider, ep.APIURL, ep.Token)
	if err != nil {
		c.Error = err.Error()
		return
	}
	h, err := cl.Create(ctx, c.Target, s.spec(ep, c.events))
	if err != nil {
		if errors.Is(err, hooks.ErrConflict) && c.Action == ActCannotList {
			c.Error = fmt.Sprintf("%v: a hook with our URL probably exists already; adopt it with `forgehook hooks adopt --endpoint %s --target %s --id ID`", err, ep.Name, c.Target)
		} else {
			c.Error = err.Error()
		}
		s.r.log().Warn("hooks: create refused by the forge", "endpoint", ep.Name, "target", c.Target.String(), "err", err)
		return
	}
	now := s.r.now().UTC()
	rec := store.HookRecord{
		Endpoint: ep.Name, Forge: ep.Provider, APIURL: ep.APIURL, TargetKind: c.Target.Kind, TargetName: c.Target.Name,
		HookID: h.ID, URL: ep.DisplayURL, URLFingerprint: s.fp(ep.URL), Events: c.events, Active: ep.Active,
		SecretFingerprint: s.secretFP(ep), CreatedAt: now, AppliedAt: now,
	}
	c.HookID = h.ID
	if err := s.r.Records.PutHookRecord(ctx, rec); err != nil {
		c.Error = fmt.Sprintf("created hook %s but could not record it (%v): adopt it with `forgehook hooks adopt --endpoint %s --target %s --id %s`", h.ID, err, ep.Name, c.Target, h.ID)
		return
	}
	c.Done = "created"
	s.r.log().Info("hooks: created", "endpoint", ep.Name, "forge", ep.Provider, "target", c.Target.String(), "hook", h.ID)
	if ping {
		if pingsOnCreate[ep.Provider] {
			c.Pinged = true
		} else {
			s.ping(ctx, cl, c)
		}
	}
}

// update changes our hook in place and records it; a changed secret keeps
// the previous one's fingerprint and the end of its grace.
func (s *session) update(ctx context.Context, c *Change, ping bool, grace time.Duration) {
	ep := c.ep
	cl, err := s.client(ep.Provider, ep.APIURL, ep.Token)
	if err != nil {
		c.Error = err.Error()
		return
	}
	if rp, ok := cl.(hooks.SecretReplacer); ok && slices.Contains(c.Fields, "secret") {
		s.replace(ctx, cl, rp, c, ping, grace)
		return
	}
	h, err := cl.Update(ctx, c.Target, c.HookID, s.spec(ep, c.events))
	if err != nil {
		c.Error = err.Error()
		s.r.log().Warn("hooks: update refused by the forge", "endpoint", ep.Name, "target", c.Target.String(), "hook", c.HookID, "err", err)
		return
	}
	if h.ID != "" && h.ID != c.HookID {
		// Never expected: an update keeps the id. Record what the forge says.
		c.Notes = append(c.Notes, fmt.Sprintf("the forge answered the update of hook %s with hook %s", c.HookID, h.ID))
		c.HookID = h.ID
	}
	if err := s.r.Records.PutHookRecord(ctx, s.applied(c, c.HookID, grace)); err != nil {
		c.Error = fmt.Sprintf("updated hook %s but could not record it: %v", c.HookID, err)
		return
	}
	c.Done = "updated"
	s.r.log().Info("hooks: updated", "endpoint", ep.Name, "forge", ep.Provider, "target", c.Target.String(), "hook", c.HookID, "fields", c.Fields)
	if ping {
		s.ping(ctx, cl, c)
	}
}

// applied returns c's record as it is once the configuration's hook is on
// the forge with id, noting a secret rotation.
func (s *session) applied(c *Change, id string, grace time.Duration) store.HookRecord {
	ep := c.ep
	now := s.r.now().UTC()
	rec := *c.rec
	rec.Forge, rec.APIURL, rec.HookID = ep.Provider, ep.APIURL, id
	rec.URL, rec.URLFingerprint, rec.Events, rec.Active = ep.DisplayURL, s.fp(ep.URL), c.events, ep.Active
	if newFP := s.secretFP(ep); newFP != rec.SecretFingerprint {
		if rec.SecretFingerprint != "" {
			rec.PreviousSecretFingerprint, rec.GraceUntil = rec.SecretFingerprint, now.Add(grace)
			if !s.configured(ep, rec.PreviousSecretFingerprint) {
				c.Notes = append(c.Notes, "the secret replaced is no longer among the endpoint's secrets: deliveries the forge signed with it and retries or redelivers will be refused")
			} else {
				c.Notes = append(c.Notes, fmt.Sprintf("rotation: keep the old secret among the endpoint's secrets until %s", rec.GraceUntil.Format(time.RFC3339)))
			}
		}
		rec.SecretFingerprint = newFP
	}
	rec.AppliedAt = now
	return rec
}

// replace changes a hook whose forge cannot change a secret in place
// (hooks.SecretReplacer: Gitea, Forgejo, Gogs): the client creates the new
// hook, then deletes the old one, so there is no gap; the new id is
// recorded.
func (s *session) replace(ctx context.Context, cl hooks.Client, rp hooks.SecretReplacer, c *Change, ping bool, grace time.Duration) {
	ep, old := c.ep, c.HookID
	h, err := rp.ReplaceForSecret(ctx, c.Target, old, s.spec(ep, c.events))
	if h.ID == "" {
		c.Error = fmt.Sprintf("the forge cannot change a hook's secret in place, and creating its replacement failed: %v (hook %s unchanged)", err, old)
		return
	}
	c.HookID = h.ID
	if perr := s.r.Records.PutHookRecord(ctx, s.applied(c, h.ID, grace)); perr != nil {
		c.Error = fmt.Sprintf("created hook %s to replace hook %s (the forge cannot change a secret in place) but could not record it (%v): adopt it with `forgehook hooks adopt --endpoint %s --target %s --id %s`", h.ID, old, perr, ep.Name, c.Target, h.ID)
		return
	}
	c.Notes = slices.DeleteFunc(c.Notes, func(n string) bool { return n == noteReplace })
	c.Notes = append(c.Notes, fmt.Sprintf("the forge cannot change a hook's secret in place: hook %s replaced by hook %s (created first, then the old one deleted)", old, h.ID))
	if err != nil && !errors.Is(err, hooks.ErrNotFound) {
		c.Error = fmt.Sprintf("%v: delete hook %s on the forge by hand", err, old)
		return
	}
	c.Done = "updated"
	s.r.log().Info("hooks: replaced for a new secret", "endpoint", ep.Name, "forge", ep.Provider, "target", c.Target.String(), "old", old, "hook", h.ID, "fields", c.Fields)
	if ping {
		s.ping(ctx, cl, c)
	}
}

// configured reports whether a secret of ep has the fingerprint fp.
func (s *session) configured(ep *Endpoint, fp string) bool {
	return slices.ContainsFunc(ep.Secrets, func(sec config.Secret) bool { return s.fp(sec.Reveal()) == fp })
}

// ping asks the forge for a test delivery of c's hook.
func (s *session) ping(ctx context.Context, cl hooks.Client, c *Change) {
	err := cl.Ping(ctx, c.Target, c.HookID)
	switch {
	case err == nil:
		c.Pinged = true
	case errors.Is(err, hooks.ErrUnsupported):
	default:
		c.Notes = append(c.Notes, "the forge refused a test delivery: "+err.Error())
	}
}

// Prune deletes the owned hooks whose target or endpoint left the
// configuration, and their records. It deletes nothing else: not a hook
// it does not own, not one still configured.
func (r *Reconciler) Prune(ctx context.Context, req Request) (Plan, error) {
	s, release, err := r.start(ctx, Request{})
	if err != nil {
		return Plan{}, err
	}
	defer release()
	p := Plan{Changes: s.prunes(req.Endpoint)}
	for i := range p.Changes {
		c := &p.Changes[i]
		tok, ok := s.tokenFor(c.Endpoint, c.Forge, c.APIURL)
		if !ok {
			c.Error = fmt.Sprintf("no managed endpoint of forge %s at %q is left in the configuration to lend its manage token: delete hook %s by hand, then run prune again", c.Forge, c.APIURL, c.HookID)
			continue
		}
		cl, err := s.client(c.Forge, c.APIURL, tok)
		if err != nil {
			c.Error = err.Error()
			continue
		}
		err = cl.Delete(ctx, c.Target, c.HookID)
		switch {
		case errors.Is(err, hooks.ErrNotFound):
			c.Notes = append(c.Notes, "already gone from the forge")
		case err != nil:
			c.Error = err.Error()
			continue
		}
		if err := r.Records.DeleteHookRecord(ctx, c.Endpoint, c.Target.Kind, c.Target.Name); err != nil {
			c.Error = err.Error()
			continue
		}
		c.Done = "deleted"
		r.log().Info("hooks: pruned", "endpoint", c.Endpoint, "forge", c.Forge, "target", c.Target.String(), "hook", c.HookID)
	}
	p.count()
	return p, nil
}

// Adopt takes ownership of hooks with our exact URL that forgehook does
// not own (req.Target and req.HookID choose among them): it records them,
// without changing them; the next apply brings them in line (their secret
// is unknown to forgehook, so apply pushes it).
func (r *Reconciler) Adopt(ctx context.Context, req Request) (Plan, error) {
	s, release, err := r.start(ctx, req)
	if err != nil {
		return Plan{}, err
	}
	defer release()
	p := s.plan(ctx, req.Endpoint)
	var out []Change
	for _, c := range p.Changes {
		if req.Target != "" && c.Target.String() != req.Target {
			continue
		}
		if c.Action == ActCannotList && req.HookID != "" {
			// Without the permission to list, the hook named is read by
			// its id, and adopted only if its URL is exactly ours.
			c.Foreign = nil
			if cl, err := s.client(c.ep.Provider, c.ep.APIURL, c.ep.Token); err != nil {
				c.Error = err.Error()
			} else if h, err := cl.Get(ctx, c.Target, req.HookID); err != nil {
				c.Error = err.Error()
			} else if h.URL != c.ep.URL {
				c.Error = fmt.Sprintf("hook %s on %s does not have our URL", req.HookID, c.Target)
			} else {
				c.Foreign = []string{h.ID}
			}
			if c.Error != "" {
				out = append(out, c)
				continue
			}
		} else if c.Action != ActForeign {
			continue
		}
		id := req.HookID
		switch {
		case id != "" && !slices.Contains(c.Foreign, id):
			c.Error = fmt.Sprintf("hook %s is not a hook with our URL on %s (those are: %v)", id, c.Target, c.Foreign)
		case id == "" && len(c.Foreign) > 1:
			c.Error = fmt.Sprintf("several hooks with our URL (%v): name one with --id", c.Foreign)
		case id == "":
			id = c.Foreign[0]
		}
		if c.Error == "" {
			now := r.now().UTC()
			rec := store.HookRecord{
				Endpoint: c.Endpoint, Forge: c.Forge, APIURL: c.APIURL, TargetKind: c.Target.Kind, TargetName: c.Target.Name,
				HookID: id, URL: c.URL, Adopted: true, CreatedAt: now, AppliedAt: now,
			}
			if err := r.Records.PutHookRecord(ctx, rec); err != nil {
				c.Error = err.Error()
			} else {
				c.HookID, c.Done = id, "adopted"
				c.Notes = append(c.Notes, "recorded as ours, unchanged: run apply to bring it in line (its secret is pushed)")
				r.log().Info("hooks: adopted", "endpoint", c.Endpoint, "target", c.Target.String(), "hook", id)
			}
		}
		out = append(out, c)
	}
	p = Plan{Changes: out}
	p.count()
	return p, nil
}

// Rotate pushes each managed endpoint's first secret to its hooks that
// were given another one, and records the previous secret's fingerprint
// and the end of its grace (req.Grace, default 72h): during the grace the
// operator keeps the old secret among the endpoint's secrets (any of them
// verifies a delivery); after it, plan says which one to remove.
func (r *Reconciler) Rotate(ctx context.Context, req Request) (Plan, error) {
	grace := DefaultGrace
	if req.Grace != "" {
		g, err := time.ParseDuration(req.Grace)
		if err != nil || g < 0 {
			return Plan{}, fmt.Errorf("reconcile: grace %q is not a duration such as 72h", req.Grace)
		}
		grace = g
	}
	s, release, err := r.start(ctx, req)
	if err != nil {
		return Plan{}, err
	}
	defer release()
	p := s.plan(ctx, req.Endpoint)
	var out []Change
	for _, c := range p.Changes {
		if c.Action != ActUpdate && c.Action != ActInSync {
			continue
		}
		if !slices.Contains(c.Fields, "secret") {
			c.Done = "unchanged"
			c.Notes = append(c.Notes, "already has the first secret: to rotate, put the new secret first among the endpoint's secrets, keep the old one after it, reload, and run rotate")
			out = append(out, c)
			continue
		}
		if len(c.ep.Secrets) == 0 {
			c.Error = "the endpoint has no secret to push"
			out = append(out, c)
			continue
		}
		s.update(ctx, &c, req.Ping == nil || *req.Ping, grace)
		if c.Done == "updated" {
			c.Done = "rotated"
		}
		out = append(out, c)
	}
	p = Plan{Changes: out, Since: p.Since}
	p.count()
	return p, nil
}

// Listed is one owned hook with the forge's view of it.
type Listed struct {
	store.HookRecord
	// Health is the forge's view, nil when it could not be read.
	Health *hooks.Health `json:"health,omitempty"`
	// Configured is false when the hook's endpoint or target left the
	// configuration (prune deletes it).
	Configured bool `json:"configured"`
	// Error is why the forge could not be asked.
	Error string `json:"error,omitempty"`
	// LastDelivery is the newest stored event that came from this hook,
	// nil when none was found (see LastDelivery). The API fills it in.
	LastDelivery *LastDelivery `json:"last_delivery,omitempty"`
}

// LastDelivery is the newest stored event of an endpoint whose delivery
// named a hook (GitHub's X-GitHub-Hook-ID, Bitbucket Cloud's X-Hook-UUID).
type LastDelivery struct {
	// At is when the event was received.
	At time.Time `json:"at"`
	// EventID is the stored event's id.
	EventID string `json:"event_id"`
	// Kind is the event's canonical kind (push, pull_request, ...).
	Kind string `json:"kind,omitempty"`
}

// List returns the owned hooks (of one endpoint, or all), each with its
// health as the forge reports it.
func (r *Reconciler) List(ctx context.Context, req Request) ([]Listed, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, err := r.begin(ctx, Request{})
	if err != nil {
		return nil, err
	}
	var out []Listed
	for _, rec := range s.records {
		if req.Endpoint != "" && rec.Endpoint != req.Endpoint {
			continue
		}
		l := Listed{HookRecord: rec}
		t := hooks.Target{Kind: rec.TargetKind, Name: rec.TargetName}
		l.Configured = slices.ContainsFunc(s.eps, func(e Endpoint) bool {
			return e.Name == rec.Endpoint && e.Provider == rec.Forge && e.APIURL == rec.APIURL && slices.Contains(e.Targets, t)
		})
		tok, ok := s.tokenFor(rec.Endpoint, rec.Forge, rec.APIURL)
		if !ok {
			l.Error = "no manage token for this forge in the configuration"
			out = append(out, l)
			continue
		}
		cl, err := s.client(rec.Forge, rec.APIURL, tok)
		if err == nil {
			var h hooks.Hook
			if h, err = cl.Get(ctx, t, rec.HookID); err == nil {
				hl := h.Health
				l.Health = &hl
				if r.Observe != nil {
					r.Observe(rec.Endpoint, t, hl)
				}
			}
		}
		if err != nil {
			l.Error = err.Error()
		}
		out = append(out, l)
	}
	return out, nil
}
