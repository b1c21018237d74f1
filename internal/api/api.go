// Package api is the admin JSON API (/api/v1) served on the admin
// listener, and its Go client used by the CLI.
package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/deliver"
	"github.com/forgehook/forgehook/internal/store"
	"github.com/forgehook/forgehook/internal/throttle"
)

// Events is what the API reads events from: the store.
type Events interface {
	List(ctx context.Context, f store.Filter) ([]store.Record, uint64, error)
	Get(ctx context.Context, id string) (store.Record, error)
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
}

// Handler returns the API's handler, to be mounted at /api/v1/.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/events", s.listEvents)
	mux.HandleFunc("GET /api/v1/events/{id}", s.getEvent)
	mux.HandleFunc("GET /api/v1/endpoints", s.listEndpoints)
	s.routeDelivery(mux)
	mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API endpoint")
	})
	return s.auth(mux)
}

func (s *Server) auth(next http.Handler) http.Handler { return RequireToken(s.Token, next) }

// FailedTokenLimit requests with a missing or bad token from one address
// within FailedTokenWindow make RequireToken answer that address 429 until
// the window ends.
const (
	FailedTokenLimit  = 10
	FailedTokenWindow = time.Minute
)

// RequireToken wraps next so that, when token is set, every request must
// carry it as a bearer token (401 otherwise). The comparison is
// constant-time; an address that sent too many bad tokens is refused with
// 429 and Retry-After for a while (FailedTokenLimit, FailedTokenWindow).
func RequireToken(token config.Secret, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	fails := throttle.New(FailedTokenLimit, FailedTokenWindow)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		client, now := throttle.ClientKey(r), time.Now()
		if ok, wait := fails.Allow(client, now); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
			writeError(w, http.StatusTooManyRequests, "too many requests with a bad token from this address")
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token.Reveal())) != 1 {
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
	Seq    uint64          `json:"seq"`
	Stored time.Time       `json:"stored"`
	Event  json.RawMessage `json:"event"`
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
	if err := json.Unmarshal(r.Data, &f); err != nil {
		return Summary{}, false
	}
	n := f.Data.Normalized
	return Summary{
		ID: f.ID, Seq: r.Seq, Time: f.Time, Stored: r.Stored, Endpoint: f.Endpoint, Forge: f.Forge,
		ForgeEvent: f.ForgeEvent, Kind: n.Kind, Action: n.Action, Repository: n.Repository.FullName,
		Ref: n.Ref, Subject: f.Subject, Delivery: f.Delivery,
	}, true
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.Filter{Endpoint: q.Get("endpoint"), Forge: q.Get("forge"), Kind: q.Get("kind")}
	for _, tok := range []string{f.Endpoint, f.Forge, f.Kind} {
		if strings.ContainsAny(tok, ".*> ") {
			writeError(w, http.StatusBadRequest, "filters may not contain '.', '*', '>' or spaces")
			return
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			writeError(w, http.StatusBadRequest, "limit must be a number from 1 to 500")
			return
		}
		f.Limit = n
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, "before must be a cursor from a previous page")
			return
		}
		f.Before = n
	}
	if repo := q.Get("repository"); repo != "" {
		f.Match = func(rec store.Record) bool {
			sum, ok := summarize(rec)
			return ok && strings.EqualFold(sum.Repository, repo)
		}
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
	d := EventDetail{Seq: rec.Seq, Stored: rec.Stored, Event: rec.Data, Triggers: []deliver.Status{}}
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

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// Error is the body of every failed API answer.
type Error struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, Error{Error: msg})
}
