package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/forgehook/forgehook/internal/hooks/reconcile"
	"github.com/forgehook/forgehook/internal/store"
)

// Hooks is hook management as the API sees it: the reconciler. Every call
// is an operator's command; the server makes none by itself.
type Hooks interface {
	Plan(ctx context.Context, req reconcile.Request) (reconcile.Plan, error)
	Apply(ctx context.Context, req reconcile.Request) (reconcile.Plan, error)
	Prune(ctx context.Context, req reconcile.Request) (reconcile.Plan, error)
	Adopt(ctx context.Context, req reconcile.Request) (reconcile.Plan, error)
	Rotate(ctx context.Context, req reconcile.Request) (reconcile.Plan, error)
	List(ctx context.Context, req reconcile.Request) ([]reconcile.Listed, error)
}

// HookList is the answer of GET /api/v1/hooks.
type HookList struct {
	Hooks []reconcile.Listed `json:"hooks"`
}

func (s *Server) routeHooks(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/hooks", s.listHooks)
	mux.HandleFunc("GET /api/v1/hooks/plan", s.planHooks)
	for name, op := range map[string]func(Hooks) func(context.Context, reconcile.Request) (reconcile.Plan, error){
		"apply":  func(h Hooks) func(context.Context, reconcile.Request) (reconcile.Plan, error) { return h.Apply },
		"prune":  func(h Hooks) func(context.Context, reconcile.Request) (reconcile.Plan, error) { return h.Prune },
		"adopt":  func(h Hooks) func(context.Context, reconcile.Request) (reconcile.Plan, error) { return h.Adopt },
		"rotate": func(h Hooks) func(context.Context, reconcile.Request) (reconcile.Plan, error) { return h.Rotate },
	} {
		mux.Handle("POST /api/v1/hooks/"+name, requireJSON(func(w http.ResponseWriter, r *http.Request) {
			if !s.needHooks(w) {
				return
			}
			var req reconcile.Request
			if r.ContentLength != 0 {
				dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&req); err != nil {
					s.hooksLog(r, "bad request", err)
					writeError(w, http.StatusBadRequest, "bad hooks request: "+err.Error())
					return
				}
			}
			p, err := op(s.Hooks)(r.Context(), req)
			if err != nil {
				s.hooksError(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, p)
		}))
	}
}

func (s *Server) needHooks(w http.ResponseWriter) bool {
	if s.Hooks == nil {
		writeError(w, http.StatusConflict, "hook management is not available in this server")
		return false
	}
	return true
}

func (s *Server) hooksLog(r *http.Request, what string, err error) {
	if s.Logger != nil {
		s.Logger.Warn("api: hooks: "+what, "path", r.URL.Path, "err", err)
	}
}

func (s *Server) hooksError(w http.ResponseWriter, r *http.Request, err error) {
	s.hooksLog(r, "failed", err)
	switch {
	case errors.Is(err, reconcile.ErrUnknownEndpoint):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, store.ErrHooksBusy):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, store.ErrNotReady):
		writeError(w, http.StatusServiceUnavailable, "store not ready: the ownership records cannot be read")
	default:
		writeError(w, http.StatusInternalServerError, err.Error())
	}
}

func (s *Server) planHooks(w http.ResponseWriter, r *http.Request) {
	if !s.needHooks(w) {
		return
	}
	p, err := s.Hooks.Plan(r.Context(), reconcile.Request{Endpoint: r.URL.Query().Get("endpoint")})
	if err != nil {
		s.hooksError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) listHooks(w http.ResponseWriter, r *http.Request) {
	if !s.needHooks(w) {
		return
	}
	l, err := s.Hooks.List(r.Context(), reconcile.Request{Endpoint: r.URL.Query().Get("endpoint")})
	if err != nil {
		s.hooksError(w, r, err)
		return
	}
	if l == nil {
		l = []reconcile.Listed{}
	}
	s.lastDeliveries(r, l)
	writeJSON(w, http.StatusOK, HookList{Hooks: l})
}

// LastDeliveryScan bounds how many of an endpoint's newest stored events
// GET /api/v1/hooks examines to find each owned hook's last delivery; a
// hook whose last delivery is older shows none.
const LastDeliveryScan = 1000

// hookIDHeader names the header by which a forge's delivery names the hook
// that sent it ("" when it sends none that matches the hook's API id).
func hookIDHeader(forge string) string {
	switch forge {
	case "github":
		return "X-GitHub-Hook-ID"
	case "bitbucket":
		return "X-Hook-UUID"
	}
	return ""
}

// hookIDKey is a hook id as compared: Bitbucket's uuid without its braces,
// in lower case.
func hookIDKey(id string) string {
	return strings.ToLower(strings.Trim(strings.TrimSpace(id), "{}"))
}

// lastDeliveries fills in the LastDelivery of each listed hook from the
// newest LastDeliveryScan stored events of its endpoint, one bounded scan
// per endpoint. A store error leaves the hooks without one (logged).
func (s *Server) lastDeliveries(r *http.Request, l []reconcile.Listed) {
	if s.Events == nil {
		return
	}
	// endpoint -> hook id key -> indexes into l
	want := map[string]map[string][]int{}
	for i := range l {
		if hookIDHeader(l[i].Forge) == "" || l[i].HookID == "" {
			continue
		}
		ep := l[i].Endpoint
		if want[ep] == nil {
			want[ep] = map[string][]int{}
		}
		k := hookIDKey(l[i].HookID)
		want[ep][k] = append(want[ep][k], i)
	}
	for ep, ids := range want {
		left, examined := len(ids), 0
		// match returns true, which ends the scan (Limit 1), once every
		// hook's newest event is found or LastDeliveryScan events were
		// examined; the store's own ScanLimit is a second bound.
		match := func(rec store.Record) bool {
			if examined == LastDeliveryScan {
				return true
			}
			examined++
			// A cheap look for the id's bytes first: most events are
			// not decoded.
			found := false
			for k, idx := range ids {
				if idx != nil && (bytes.Contains(rec.Data, []byte(k)) || bytes.Contains(rec.Data, []byte(strings.ToUpper(k)))) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
			var ev struct {
				ID   string    `json:"id"`
				Time time.Time `json:"time"`
				Data struct {
					Header     map[string][]string `json:"header"`
					Normalized struct {
						Kind string `json:"kind"`
					} `json:"normalized"`
				} `json:"data"`
			}
			if json.Unmarshal(rec.Data, &ev) != nil {
				return false
			}
			h := http.Header(ev.Data.Header)
			for _, name := range []string{"X-GitHub-Hook-ID", "X-Hook-UUID"} {
				v := h.Get(name)
				if v == "" {
					continue
				}
				idx, ok := ids[hookIDKey(v)]
				if !ok || idx == nil || hookIDHeader(l[idx[0]].Forge) != name {
					continue
				}
				at := ev.Time
				if at.IsZero() {
					at = rec.Stored
				}
				for _, i := range idx {
					l[i].LastDelivery = &reconcile.LastDelivery{At: at.UTC(), EventID: ev.ID, Kind: ev.Data.Normalized.Kind}
				}
				ids[hookIDKey(v)] = nil // the newest is found; older ones are skipped
				left--
			}
			return left == 0
		}
		if _, _, err := s.Events.List(r.Context(), store.Filter{Endpoint: ep, Limit: 1, ScanLimit: LastDeliveryScan + 1, Match: match}); err != nil {
			s.hooksLog(r, "last deliveries of endpoint "+ep, err)
		}
	}
}

// HooksPlan asks the server for the plan of one endpoint ("" all).
func (c *Client) HooksPlan(ctx context.Context, endpoint string) (*reconcile.Plan, error) {
	var out reconcile.Plan
	q := ""
	if endpoint != "" {
		q = "?endpoint=" + url.QueryEscape(endpoint)
	}
	return &out, c.get(ctx, "/api/v1/hooks/plan"+q, &out)
}

// HooksDo runs apply, prune, adopt or rotate on the server.
func (c *Client) HooksDo(ctx context.Context, op string, req reconcile.Request) (*reconcile.Plan, error) {
	var out reconcile.Plan
	return &out, c.do(ctx, http.MethodPost, "/api/v1/hooks/"+url.PathEscape(op), req, &out)
}

// HooksList returns the owned hooks with their health.
func (c *Client) HooksList(ctx context.Context, endpoint string) ([]reconcile.Listed, error) {
	var out HookList
	q := ""
	if endpoint != "" {
		q = "?endpoint=" + url.QueryEscape(endpoint)
	}
	return out.Hooks, c.get(ctx, "/api/v1/hooks"+q, &out)
}

// Endpoints returns the configured endpoints, with when each last received
// an authentic ping.
func (c *Client) Endpoints(ctx context.Context) ([]EndpointInfo, error) {
	var out struct {
		Endpoints []EndpointInfo `json:"endpoints"`
	}
	return out.Endpoints, c.get(ctx, "/api/v1/endpoints", &out)
}
