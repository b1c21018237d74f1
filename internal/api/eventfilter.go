package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/forgehook/forgehook/internal/store"
)

// maxFilterValue bounds the length of one filter value, in bytes.
const maxFilterValue = 1024

// ErrBadFilter is wrapped by every error ParseEventFilter returns.
var ErrBadFilter = errors.New("bad filter")

// FilterParams lists the query parameters of GET /api/v1/events that
// select events (besides limit and before), in the order the docs give.
func FilterParams() []string {
	return []string{"endpoint", "forge", "kind", "action", "repository", "ref", "branch", "actor", "delivery", "outcome", "since", "until"}
}

// ParseEventFilter reads the event filters of a list's query: endpoint,
// forge, kind, action, repository, ref, branch, actor, delivery (the
// forge's delivery id), outcome (delivered, failed, dead, superseded,
// not_matched), since and until (RFC 3339, since inclusive, until
// exclusive), limit (1 to 500) and before (a cursor). Values are trimmed
// of spaces. An error wraps ErrBadFilter and says what is wrong, for a
// 400. The caller sets Filter.Settled for not_matched.
func ParseEventFilter(q url.Values) (store.Filter, error) {
	get := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	f := store.Filter{
		Endpoint: get("endpoint"), Forge: get("forge"), Kind: get("kind"), Action: get("action"),
		Repository: get("repository"), Ref: get("ref"), Branch: get("branch"), Actor: get("actor"),
		Delivery: get("delivery"), Outcome: get("outcome"),
	}
	for _, tok := range []string{f.Endpoint, f.Forge, f.Kind} {
		if strings.ContainsAny(tok, ".*> ") {
			return f, fmt.Errorf("%w: filters endpoint, forge and kind may not contain '.', '*', '>' or spaces", ErrBadFilter)
		}
	}
	for _, k := range FilterParams() {
		if len(q.Get(k)) > maxFilterValue {
			return f, fmt.Errorf("%w: %s is longer than %d bytes", ErrBadFilter, k, maxFilterValue)
		}
	}
	for _, tm := range []struct {
		key string
		dst *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := get(tm.key); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return f, fmt.Errorf("%w: %s must be an RFC 3339 time (2026-12-07T10:00:00Z)", ErrBadFilter, tm.key)
			}
			*tm.dst = t
		}
	}
	if v := get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return f, fmt.Errorf("%w: limit must be a number from 1 to 500", ErrBadFilter)
		}
		f.Limit = n
	}
	if v := get("before"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return f, fmt.Errorf("%w: before must be a cursor from a previous page", ErrBadFilter)
		}
		f.Before = n
	}
	if err := store.CheckFilter(f); err != nil {
		return f, fmt.Errorf("%w: %v", ErrBadFilter, err)
	}
	return f, nil
}

// settler is what a Delivery may offer: the sequence up to which every
// trigger has processed every event.
type settler interface {
	Settled(ctx context.Context) (uint64, error)
}

// Settled returns the sequence for store.Filter.Settled: every event when
// no trigger runs (d is nil), else what the triggers have processed (0
// when d cannot tell).
func Settled(ctx context.Context, d Delivery) uint64 {
	if d == nil || len(d.Triggers()) == 0 {
		return math.MaxUint64
	}
	if st, ok := d.(settler); ok {
		if seq, err := st.Settled(ctx); err == nil {
			return seq
		}
	}
	return 0
}

// FacetSource is what the facets read: the store.
type FacetSource interface {
	EventFacets(now time.Time, window time.Duration, top int, settled uint64) store.Facets
}

// FacetList is the answer of GET /api/v1/facets.
type FacetList struct {
	Facets []store.Facets `json:"facets"`
}

// FacetWindows are the windows GET /api/v1/facets and the events page
// count over: the last hour and the last day.
func FacetWindows() []time.Duration { return []time.Duration{time.Hour, 24 * time.Hour} }

// facetTop is how many values of each field the facets list.
const facetTop = 10

func (s *Server) listFacets(w http.ResponseWriter, r *http.Request) {
	src, ok := s.Events.(FacetSource)
	if !ok {
		writeError(w, http.StatusNotFound, "no event index")
		return
	}
	out := FacetList{}
	now := time.Now()
	settled := Settled(r.Context(), s.Delivery)
	for _, win := range FacetWindows() {
		out.Facets = append(out.Facets, src.EventFacets(now, win, facetTop, settled))
	}
	writeJSON(w, http.StatusOK, out)
}

// badFilter answers 400 with the reason, and logs it.
func (s *Server) badFilter(w http.ResponseWriter, r *http.Request, err error) {
	if s.Logger != nil {
		s.Logger.Info("api: bad request", "path", r.URL.Path, "status", http.StatusBadRequest, "reason", err.Error())
	}
	writeError(w, http.StatusBadRequest, strings.TrimPrefix(err.Error(), ErrBadFilter.Error()+": "))
}
