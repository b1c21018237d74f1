package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/forgehook/forgehook/internal/hooks/reconcile"
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
	writeJSON(w, http.StatusOK, HookList{Hooks: l})
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
