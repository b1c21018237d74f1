package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/recovery"
)

// Recover is the recovery of missed deliveries as the API sees it.
type Recover interface {
	// Plan lists what Run would recover, changing nothing.
	Plan(ctx context.Context, req recovery.Request) (recovery.Report, error)
	// Run recovers it.
	Run(ctx context.Context, req recovery.Request) (recovery.Report, error)
}

func (s *Server) routeRecover(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/recover/plan", s.planRecover)
	mux.Handle("POST /api/v1/recover/run", requireJSON(s.runRecover))
}

func (s *Server) needRecover(w http.ResponseWriter) bool {
	if s.Recover == nil {
		writeError(w, http.StatusConflict, "recovery is not available in this server")
		return false
	}
	return true
}

func (s *Server) recoverError(w http.ResponseWriter, r *http.Request, status int, msg string, err error) {
	if s.Logger != nil {
		s.Logger.Warn("api: recover", "path", r.URL.Path, "status", status, "err", err)
	}
	writeError(w, status, msg)
}

func (s *Server) planRecover(w http.ResponseWriter, r *http.Request) {
	if !s.needRecover(w) {
		return
	}
	req := recovery.Request{Endpoint: r.URL.Query().Get("endpoint")}
	if v := r.URL.Query().Get("since"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			s.recoverError(w, r, http.StatusBadRequest, "bad since: want a duration such as 24h", err)
			return
		}
		req.Since = config.Duration(d)
	}
	s.recoverDo(w, r, s.Recover.Plan, req)
}

func (s *Server) runRecover(w http.ResponseWriter, r *http.Request) {
	if !s.needRecover(w) {
		return
	}
	var req recovery.Request
	if r.ContentLength != 0 {
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			s.recoverError(w, r, http.StatusBadRequest, "bad recover request: "+err.Error(), err)
			return
		}
	}
	if req.Since < 0 {
		s.recoverError(w, r, http.StatusBadRequest, "bad since: negative", nil)
		return
	}
	s.recoverDo(w, r, s.Recover.Run, req)
}

func (s *Server) recoverDo(w http.ResponseWriter, r *http.Request, op func(context.Context, recovery.Request) (recovery.Report, error), req recovery.Request) {
	rep, err := op(r.Context(), req)
	switch {
	case errors.Is(err, recovery.ErrUnknownEndpoint):
		s.recoverError(w, r, http.StatusNotFound, err.Error(), err)
	case err != nil:
		s.recoverError(w, r, http.StatusInternalServerError, err.Error(), err)
	default:
		writeJSON(w, http.StatusOK, rep)
	}
}

// RecoverPlan asks the server what recovery would do.
func (c *Client) RecoverPlan(ctx context.Context, endpoint string, since time.Duration) (*recovery.Report, error) {
	q := url.Values{}
	if endpoint != "" {
		q.Set("endpoint", endpoint)
	}
	if since > 0 {
		q.Set("since", since.String())
	}
	p := "/api/v1/recover/plan"
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	var out recovery.Report
	return &out, c.get(ctx, p, &out)
}

// RecoverRun asks the server to recover now.
func (c *Client) RecoverRun(ctx context.Context, req recovery.Request) (*recovery.Report, error) {
	var out recovery.Report
	return &out, c.do(ctx, http.MethodPost, "/api/v1/recover/run", req, &out)
}
