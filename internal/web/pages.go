package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/forgehook/forgehook/internal/activity"
	"github.com/forgehook/forgehook/internal/api"
	"github.com/forgehook/forgehook/internal/deliver"
	"github.com/forgehook/forgehook/internal/store"
)

// pageSize is the number of events or dead letters per page.
const pageSize = 50

// statusScanLimit bounds how many stored events one page examines when it
// filters by delivery status (each needs the triggers' state).
const statusScanLimit = 1000

// kinds returns the canonical event kinds (DESIGN.md section 2).
func kinds() []string {
	return []string{"push", "tag", "pull_request", "comment", "issue", "release", "pipeline", "registry", "ping", "other"}
}

// forges returns the provider ids offered as forge filter suggestions.
func eventURL(id string) string { return "/events/" + url.PathEscape(id) }

// eventFilter is the events list's query.
type eventFilter struct {
	Endpoint, Forge, Kind, Repository, Status string
	Before                                    uint64
	indexedFilter                             // facets.go
}

func (f eventFilter) values() url.Values {
	v := url.Values{}
	m := map[string]string{"endpoint": f.Endpoint, "forge": f.Forge, "kind": f.Kind, "repository": f.Repository, "status": f.Status}
	f.indexedFilter.set(m)
	for k, s := range m {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// url returns the list's URL with this filter, before cursor, and extra.
func (f eventFilter) url(before uint64, extra ...string) string {
	v := f.values()
	if before != 0 {
		v.Set("before", strconv.FormatUint(before, 10))
	}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	if len(v) == 0 {
		return "/events"
	}
	return "/events?" + v.Encode()
}

// Active reports whether any filter is set.
func (f eventFilter) Active() bool { return len(f.values()) > 0 }

type eventsData struct {
	Filter      eventFilter
	Rows        []row
	Older       string // URL of the next (older) page, "" when none
	Newest      string // URL of the first page, "" on it
	Live        string // fragment URL for live refresh ("" past the first page)
	Endpoints   []string
	Kinds       []string
	Forges      []string
	Statuses    []string
	HasTriggers bool
	Partial     bool // a status filter stopped at its scan limit
	Outcomes    []string
	Facets      []facetWindow // facets.go
	// Chart is the events received per minute over the last hour ("" when
	// not counted).
	Chart template.HTML
	// ChartNote says since when the chart counts, when that is within the hour.
	ChartNote string
}

func (h *Handler) eventsPage(w http.ResponseWriter, r *http.Request, s session) {
	q := r.URL.Query()
	f := eventFilter{
		Endpoint: strings.TrimSpace(q.Get("endpoint")), Forge: strings.TrimSpace(q.Get("forge")),
		Kind: strings.TrimSpace(q.Get("kind")), Repository: strings.TrimSpace(q.Get("repository")),
		Status: strings.TrimSpace(q.Get("status")),
	}
	f.indexedFilter = indexedFilter{Action: strings.TrimSpace(q.Get("action")), Branch: strings.TrimSpace(q.Get("branch")),
		Actor: strings.TrimSpace(q.Get("actor")), Delivery: strings.TrimSpace(q.Get("delivery")),
		Outcome: strings.TrimSpace(q.Get("outcome")), Since: strings.TrimSpace(q.Get("since")), Until: strings.TrimSpace(q.Get("until"))}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			h.fail(w, r, http.StatusBadRequest, "Bad cursor", "before must be a cursor from a previous page.")
			return
		}
		f.Before = n
	}
	ctx := r.Context()
	statuses := map[uint64][]deliver.Status{}
	var statusErr error
	sf := store.Filter{Endpoint: f.Endpoint, Forge: f.Forge, Kind: f.Kind, Repository: f.Repository, Before: f.Before, Limit: pageSize}
	if err := f.indexedFilter.apply(ctx, &sf, h.opts.Delivery); err != nil {
		h.fail(w, r, http.StatusBadRequest, "Bad filter", err.Error())
		return
	}
	if f.Status != "" {
		sf.ScanLimit = statusScanLimit
		sf.Match = func(rec store.Record) bool {
			fields, ok := parseRecord(rec)
			if !ok {
				return false
			}
			if f.Repository != "" && !strings.EqualFold(fields.Data.Normalized.Repository.FullName, f.Repository) {
				return false
			}
			if f.Status == "" {
				return true
			}
			st, err := h.eventStatus(ctx, rec, fields.ID)
			if err != nil {
				statusErr = err
				return false
			}
			statuses[rec.Seq] = st
			return overall(st) == f.Status
		}
	}
	recs, next, err := h.opts.Events.List(ctx, sf)
	if err == nil {
		err = statusErr
	}
	if err != nil {
		h.storeFail(w, r, err)
		return
	}
	d := eventsData{
		Filter: f, Kinds: kinds(), Forges: h.opts.Forges, Statuses: statusOptions(),
		HasTriggers: h.hasTriggers(), Partial: f.Status != "" && next != 0 && len(recs) < pageSize,
		Outcomes: outcomeOptions(),
	}
	if q.Get("fragment") != "rows" {
		d.Facets = h.facets(ctx, f)
	}
	for _, ep := range h.endpoints() {
		d.Endpoints = append(d.Endpoints, ep.Name)
	}
	for _, rec := range recs {
		fields, ok := parseRecord(rec)
		if !ok {
			continue
		}
		rw := newRow(rec, fields)
		st, ok := statuses[rec.Seq]
		if !ok {
			if st, err = h.eventStatus(ctx, rec, fields.ID); err != nil {
				h.storeFail(w, r, err)
				return
			}
		}
		rw.Triggers, rw.Status = st, overall(st)
		d.Rows = append(d.Rows, rw)
	}
	if next != 0 {
		d.Older = f.url(next)
	}
	if f.Before != 0 {
		d.Newest = f.url(0)
	} else {
		d.Live = f.url(0, "fragment", "rows")
	}
	if q.Get("fragment") == "rows" {
		h.render(w, r, http.StatusOK, "events", "live", view{Data: d})
		return
	}
	if h.opts.Activity != nil && f.Before == 0 {
		win := h.opts.Activity(time.Now(), "events")
		d.Chart = barChart{Title: "Events received per minute, last hour", Start: win.Start, Step: time.Minute,
			Series: []series{{Name: "events", Values: win.Series["events"]}}}.SVG()
		d.ChartNote = sinceNote(win)
	}
	h.render(w, r, http.StatusOK, "events", "layout", h.newView(w, r, s, "Events", "events", d))
}

// eventStatus returns an event's state on every trigger (none without
// triggers).
func (h *Handler) eventStatus(ctx context.Context, rec store.Record, id string) ([]deliver.Status, error) {
	if h.opts.Delivery == nil {
		return nil, nil
	}
	if rec.Object != "" {
		// A listed large event is its stub; the triggers' when may read
		// its body: read it whole, one event at a time.
		whole, err := h.opts.Events.GetSeq(ctx, rec.Seq)
		if err != nil {
			return nil, fmt.Errorf("event %s: %w", id, err)
		}
		rec = whole
	}
	st, err := h.opts.Delivery.EventStatus(ctx, rec, id)
	if err != nil {
		return nil, fmt.Errorf("event %s: delivery status: %w", id, err)
	}
	return st, nil
}

func (h *Handler) hasTriggers() bool {
	return h.opts.Delivery != nil && len(h.opts.Delivery.Triggers()) > 0
}

func (h *Handler) endpoints() []api.EndpointInfo {
	if h.opts.Endpoints == nil {
		return nil
	}
	return h.opts.Endpoints()
}

// triggerView is one trigger's state for an event on the detail page.
type triggerView struct {
	deliver.Status
	// Kind is the trigger's action kind ("" when it is no longer configured).
	Kind string
}

type eventData struct {
	Row      row
	N        normalized
	Detail   detail
	Triggers []triggerView
	// HasTriggers reports whether any trigger is configured.
	HasTriggers bool
	Commits     int
	ReplayURL   string
	BodyURL     string // the body as stored, for download
	Live        string // fragment URL while a trigger is still working
}

func (h *Handler) loadEvent(w http.ResponseWriter, r *http.Request) (eventData, bool) {
	id := r.PathValue("id")
	rec, err := h.opts.Events.Get(r.Context(), id)
	if err != nil {
		h.storeFail(w, r, err)
		return eventData{}, false
	}
	fields, _ := parseRecord(rec)
	if fields.ID == "" {
		fields.ID = id
	}
	st, err := h.eventStatus(r.Context(), rec, fields.ID)
	if err != nil {
		h.storeFail(w, r, err)
		return eventData{}, false
	}
	d := eventData{
		Row: newRow(rec, fields), N: fields.Data.Normalized, Detail: decodeDetail(rec.Data),
		HasTriggers: h.hasTriggers(), Commits: len(fields.Data.Normalized.Commits),
		ReplayURL: eventURL(fields.ID) + "/replay", BodyURL: eventURL(id) + "/body",
	}
	d.Row.Triggers, d.Row.Status = st, overall(st)
	working := false
	for _, s := range st {
		tv := triggerView{Status: s}
		if t, ok := h.opts.Delivery.Trigger(s.Trigger); ok && t != nil {
			tv.Kind = t.Kind
		}
		d.Triggers = append(d.Triggers, tv)
		working = working || s.State == statePending || s.State == stateRetrying
	}
	if working {
		d.Live = eventURL(fields.ID) + "?fragment=triggers"
	}
	return d, true
}

func (h *Handler) eventPage(w http.ResponseWriter, r *http.Request, s session) {
	d, ok := h.loadEvent(w, r)
	if !ok {
		return
	}
	if r.URL.Query().Get("fragment") == "triggers" {
		if d.Live == "" {
			// Nothing is in flight any more: the script stops polling.
			w.Header().Set("X-Forgehook-Live", "stop")
		}
		h.render(w, r, http.StatusOK, "event", "triggers", view{CSRF: h.keys.csrfToken(s.nonce), Data: d})
		return
	}
	h.render(w, r, http.StatusOK, "event", "layout", h.newView(w, r, s, "Event "+d.Row.ID, "events", d))
}

// eventBody serves an event's body byte for byte as stored, as a
// download: the page shows at most maxBodyShown bytes of it.
func (h *Handler) eventBody(w http.ResponseWriter, r *http.Request, _ session) {
	id := r.PathValue("id")
	rec, err := h.opts.Events.Get(r.Context(), id)
	if err != nil {
		h.storeFail(w, r, err)
		return
	}
	body, ok := api.BodyOf(rec.Data)
	if !ok {
		h.fail(w, r, http.StatusNotFound, "No body", "This event holds no body.")
		return
	}
	api.ServeBody(w, id, body)
}

func (h *Handler) replayEvent(w http.ResponseWriter, r *http.Request, _ session) {
	id := r.PathValue("id")
	back := eventURL(id)
	trig := r.PostFormValue("trigger")
	if h.opts.Delivery == nil {
		h.setFlash(w, r, "error", "No triggers are configured: there is nothing to replay to.")
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	rec, err := h.opts.Events.Get(r.Context(), id)
	if err != nil {
		h.storeFail(w, r, err)
		return
	}
	targets, _, err := h.opts.Delivery.ReplayEvent(r.Context(), rec.Data, id, trig, false)
	switch {
	case errors.Is(err, deliver.ErrUnknownTrigger), errors.Is(err, deliver.ErrNoMatch), errors.Is(err, deliver.ErrUndecodable):
		h.setFlash(w, r, "error", "Replay refused: "+err.Error())
	case err != nil:
		h.log.Error("web: replay event", "event", id, "trigger", trig, "err", err)
		h.setFlash(w, r, "error", "Replay failed: the store did not accept the request. See the server log.")
	case len(targets) == 0:
		h.setFlash(w, r, "error", "No trigger matches this event: nothing was replayed.")
	default:
		h.log.Info("web: replay event", "event", id, "triggers", strings.Join(targets, ","), "remote", r.RemoteAddr)
		h.setFlash(w, r, "ok", fmt.Sprintf("Replay queued to %s.", strings.Join(targets, ", ")))
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

type deadData struct {
	Trigger     string
	Triggers    []string
	Letters     []store.DeadLetter
	Older       string
	Newest      string
	HasDelivery bool
}

func deadURL(trigger string, before uint64) string {
	v := url.Values{}
	if trigger != "" {
		v.Set("trigger", trigger)
	}
	if before != 0 {
		v.Set("before", strconv.FormatUint(before, 10))
	}
	if len(v) == 0 {
		return "/dead"
	}
	return "/dead?" + v.Encode()
}

func (h *Handler) deadPage(w http.ResponseWriter, r *http.Request, s session) {
	q := r.URL.Query()
	var before uint64
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			h.fail(w, r, http.StatusBadRequest, "Bad cursor", "before must be a cursor from a previous page.")
			return
		}
		before = n
	}
	trig := q.Get("trigger")
	list, next, err := h.opts.Dead.ListDead(r.Context(), trig, before, pageSize)
	if err != nil {
		h.storeFail(w, r, err)
		return
	}
	d := deadData{Trigger: trig, Letters: list, HasDelivery: h.opts.Delivery != nil}
	if h.opts.Delivery != nil {
		d.Triggers = h.opts.Delivery.Triggers()
	}
	if next != 0 {
		d.Older = deadURL(trig, next)
	}
	if before != 0 {
		d.Newest = deadURL(trig, 0)
	}
	h.render(w, r, http.StatusOK, "dead", "layout", h.newView(w, r, s, "Dead letters", "dead", d))
}

// maxReplaySelection bounds the dead letters one form replays.
const maxReplaySelection = 500

// replayDead replays the dead letter named by the button pressed ("one"),
// or every selected one ("sel").
func (h *Handler) replayDead(w http.ResponseWriter, r *http.Request, _ session) {
	back := deadURL(r.PostFormValue("trigger"), 0)
	seqs := r.PostForm["sel"]
	if one := r.PostFormValue("one"); one != "" {
		seqs = []string{one}
	}
	switch {
	case h.opts.Delivery == nil:
		h.setFlash(w, r, "error", "No triggers are configured: dead letters cannot be replayed.")
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	case len(seqs) == 0:
		h.setFlash(w, r, "error", "Select the dead letters to replay first.")
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	case len(seqs) > maxReplaySelection:
		h.setFlash(w, r, "error", fmt.Sprintf("Select at most %d dead letters at once.", maxReplaySelection))
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	var done []string
	var failed []string
	for _, v := range seqs {
		seq, err := strconv.ParseUint(v, 10, 64)
		if err != nil || seq == 0 {
			failed = append(failed, fmt.Sprintf("%q: not a dead letter number", v))
			continue
		}
		d, err := h.opts.Delivery.ReplayDead(r.Context(), seq, false)
		switch {
		case errors.Is(err, store.ErrNotFound):
			failed = append(failed, fmt.Sprintf("#%d: already replayed or expired", seq))
		case errors.Is(err, deliver.ErrUnknownTrigger), errors.Is(err, deliver.ErrNoMatch), errors.Is(err, deliver.ErrUndecodable):
			failed = append(failed, fmt.Sprintf("#%d: %v", seq, err))
		case err != nil:
			h.log.Error("web: replay dead letter", "seq", seq, "err", err)
			failed = append(failed, fmt.Sprintf("#%d: the store did not accept the replay", seq))
		default:
			h.log.Info("web: replay dead letter", "seq", seq, "event", d.EventID, "trigger", d.Trigger, "remote", r.RemoteAddr)
			done = append(done, fmt.Sprintf("%s → %s", d.EventID, d.Trigger))
		}
	}
	msg := ""
	if len(done) > 0 {
		msg = fmt.Sprintf("Replayed %d dead letter%s: %s.", len(done), plural(len(done)), strings.Join(done, ", "))
	}
	if len(failed) > 0 {
		msg = strings.TrimSpace(msg + " Not replayed: " + strings.Join(failed, "; ") + ".")
		h.setFlash(w, r, "error", msg)
	} else {
		h.setFlash(w, r, "ok", msg)
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// endpointView is one row of the endpoints page.
type endpointView struct {
	api.EndpointInfo
	// URL is the address to paste into the forge.
	URL string
	// KeyHidden reports an endpoint named by a secret key, not shown.
	KeyHidden  bool
	Verified   store.EndpointStatus
	Last       *row
	Counts     *EndpointCounts
	Rejections []attribute
	// Stored counts the events the store holds for the endpoint.
	Stored uint64
}

type endpointsData struct {
	Endpoints []endpointView
	Base      string
	HasCounts bool
	// HasTotals says Stored counts come from the store, since StoredSince
	// (the oldest event kept); Started is when the request counts began.
	HasTotals   bool
	StoredSince time.Time
	Started     time.Time
}

// lastEventScan bounds the search for an endpoint's last event.
const lastEventScan = 1000

func (h *Handler) endpointsPage(w http.ResponseWriter, r *http.Request, s session) {
	ctx := r.Context()
	d := endpointsData{Base: h.ingestBase(r), HasCounts: h.opts.EndpointCounts != nil, Started: h.started}
	var tot store.Totals
	if h.opts.Totals != nil {
		var err error
		if tot, err = h.opts.Totals(ctx); err == nil {
			d.HasTotals, d.StoredSince = true, tot.EventsSince
		} else {
			h.log.Warn("web: store totals", "err", err)
		}
	}
	for _, ep := range h.endpoints() {
		v := endpointView{EndpointInfo: ep, URL: d.Base + ep.Path, KeyHidden: strings.Contains(ep.Path, "<key>"), Stored: tot.Events[ep.Name]}
		st, err := h.opts.Events.Endpoint(ctx, ep.Name)
		if err != nil {
			h.storeFail(w, r, err)
			return
		}
		v.Verified = st
		recs, _, err := h.opts.Events.List(ctx, store.Filter{Endpoint: ep.Name, Limit: 1, ScanLimit: lastEventScan})
		if err != nil {
			h.storeFail(w, r, err)
			return
		}
		if len(recs) == 1 {
			if f, ok := parseRecord(recs[0]); ok {
				rw := newRow(recs[0], f)
				v.Last = &rw
			}
		}
		if h.opts.EndpointCounts != nil {
			if c, ok := h.opts.EndpointCounts(ep.Name); ok {
				v.Counts = &c
				for reason, n := range c.Rejected {
					v.Rejections = append(v.Rejections, attribute{reason, strconv.FormatUint(n, 10)})
				}
				sort.Slice(v.Rejections, func(i, j int) bool { return v.Rejections[i].Name < v.Rejections[j].Name })
			}
		}
		d.Endpoints = append(d.Endpoints, v)
	}
	h.render(w, r, http.StatusOK, "endpoints", "layout", h.newView(w, r, s, "Endpoints", "endpoints", d))
}

// ingestBase returns the ingest listener's base URL as a browser should
// see it: an unspecified host becomes the host of the request.
func (h *Handler) ingestBase(r *http.Request) string {
	u, err := url.Parse(h.opts.IngestURL)
	if err != nil || h.opts.IngestURL == "" {
		return ""
	}
	host := u.Hostname()
	addr, perr := netip.ParseAddr(host)
	if host == "" || perr == nil && addr.IsUnspecified() {
		reqHost := r.Host
		if hst, _, err := net.SplitHostPort(reqHost); err == nil {
			reqHost = hst
		}
		if reqHost == "" {
			reqHost = "localhost"
		}
		if u.Port() != "" {
			u.Host = net.JoinHostPort(reqHost, u.Port())
		} else {
			u.Host = reqHost
		}
	}
	return strings.TrimRight(u.String(), "/")
}

// triggerRow is one row of the triggers page.
type triggerRow struct {
	api.TriggerInfo
	PendingKnown bool
	Counts       *TriggerCounts
	// Oldest is how long the oldest waiting event has waited ("" when
	// unknown, "0" when none waits).
	Oldest string
	// Chart is the trigger's delivery outcomes per minute, last hour.
	Chart template.HTML
	// Attempts and Dead are what the store holds for the trigger: the
	// attempts recorded and the dead letters not replayed.
	Attempts, Dead uint64
}

// lagger is the part of Delivery, when it has it, that tells how long a
// trigger's oldest waiting event has waited.
type lagger interface {
	TriggerLag(ctx context.Context, name string) (oldest time.Duration, lastAttempt time.Time, err error)
}

type triggersData struct {
	Triggers  []triggerRow
	HasCounts bool
	// HasTotals says Attempts and Dead come from the store, kept since
	// AttemptsSince and DeadSince; Started is when the other counts began.
	HasTotals                bool
	AttemptsSince, DeadSince time.Time
	Started                  time.Time
	// ChartNote says since when the charts count, when within the hour.
	ChartNote string
}

// sinceNote is the caption of a chart whose counting began within its hour.
func sinceNote(w activity.Window) string {
	if w.Since.After(w.Start) {
		return "counted since the server started at " + w.Since.Local().Format("15:04")
	}
	return ""
}

// outcomeSeries returns the delivery outcomes a trigger's chart stacks.
func outcomeSeries() []string {
	return []string{store.OutcomeDelivered, store.OutcomeFailed, store.OutcomeDead}
}

func (h *Handler) triggersPage(w http.ResponseWriter, r *http.Request, s session) {
	d := triggersData{HasCounts: h.opts.TriggerCounts != nil, Started: h.started}
	var tot store.Totals
	if h.opts.Totals != nil && h.opts.Delivery != nil {
		var err error
		if tot, err = h.opts.Totals(r.Context()); err == nil {
			d.HasTotals, d.AttemptsSince, d.DeadSince = true, tot.AttemptsSince, tot.DeadSince
		} else {
			h.log.Warn("web: store totals", "err", err)
		}
	}
	if h.opts.Delivery != nil {
		for _, name := range h.opts.Delivery.Triggers() {
			t, ok := h.opts.Delivery.Trigger(name)
			if !ok || t == nil {
				continue
			}
			tr := triggerRow{TriggerInfo: api.TriggerInfo{Name: name, Action: t.Kind, Concurrency: t.Concurrency, MaxAttempts: t.Retry.MaxAttempts},
				Attempts: tot.Attempts[name], Dead: tot.Dead[name]}
			if t.When != nil {
				tr.When = t.When.Source()
			}
			if t.Serialize != nil {
				tr.Serialize = t.Serialize.Source()
			}
			n, err := h.opts.Delivery.Pending(r.Context(), name)
			tr.Pending, tr.PendingKnown = n, err == nil
			if l, ok := h.opts.Delivery.(lagger); ok {
				if age, _, err := l.TriggerLag(r.Context(), name); err == nil {
					tr.Oldest = "0"
					if age > 0 {
						tr.Oldest = age.Round(100 * time.Millisecond).String()
					}
				}
			}
			if h.opts.Activity != nil {
				outcomes := outcomeSeries()
				names := make([]string, len(outcomes))
				for i, o := range outcomes {
					names[i] = name + "/" + o
				}
				win := h.opts.Activity(time.Now(), names...)
				c := barChart{Title: "Delivery outcomes of " + name + " per minute, last hour", Start: win.Start, Step: time.Minute}
				for i, o := range outcomes {
					c.Series = append(c.Series, series{Name: o, Values: win.Series[names[i]]})
				}
				tr.Chart = c.SVG()
				d.ChartNote = sinceNote(win)
			}
			if h.opts.TriggerCounts != nil {
				if c, ok := h.opts.TriggerCounts(name); ok {
					tr.Counts = &c
				}
			}
			d.Triggers = append(d.Triggers, tr)
		}
	}
	h.render(w, r, http.StatusOK, "triggers", "layout", h.newView(w, r, s, "Triggers", "triggers", d))
}

// storeFail answers a store error with an error page.
func (h *Handler) storeFail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		h.fail(w, r, http.StatusNotFound, "Not found", "No such event or dead letter: it may have passed the store's retention.")
	case errors.Is(err, store.ErrNotReady):
		h.fail(w, r, http.StatusServiceUnavailable, "Store not ready", "The store is not connected yet; this page will work once it is.")
	default:
		h.log.Error("web: store", "path", r.URL.Path, "err", err)
		h.fail(w, r, http.StatusInternalServerError, "Store error", "The store did not answer. See the server log.")
	}
}
