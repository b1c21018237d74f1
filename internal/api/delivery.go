package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/forgehook/forgehook/internal/deliver"
	"github.com/forgehook/forgehook/internal/route"
	"github.com/forgehook/forgehook/internal/store"
	"github.com/forgehook/forgehook/internal/trigger"
)

// Delivery is the running triggers, as the API sees them.
type Delivery interface {
	EventStatus(ctx context.Context, rec store.Record, eventID string) ([]deliver.Status, error)
	ReplayEvent(ctx context.Context, raw []byte, eventID, trigger string, dryRun bool) ([]string, []deliver.Skip, error)
	ReplayDead(ctx context.Context, seq uint64, dryRun bool) (store.DeadLetter, error)
	Triggers() []string
	Trigger(name string) (*trigger.Trigger, bool)
	Pending(ctx context.Context, name string) (uint64, error)
}

// DeadLetters is where the API reads dead letters: the store.
type DeadLetters interface {
	ListDead(ctx context.Context, trigger string, before uint64, limit int) ([]store.DeadLetter, uint64, error)
	GetDead(ctx context.Context, seq uint64) (store.DeadLetter, error)
}

func (s *Server) routeDelivery(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/triggers", s.listTriggers)
	mux.Handle("GET /api/v1/dead", s.heavy(s.listDead))
	mux.Handle("GET /api/v1/dead/{seq}", s.heavy(s.getDead))
	mux.Handle("POST /api/v1/dead/{seq}/replay", requireJSON(s.replayDead))
	mux.Handle("POST /api/v1/events/{id}/replay", requireJSON(s.replayEvent))
	mux.Handle("POST /api/v1/replay", requireJSON(s.heavy(s.replayRange).ServeHTTP))
}

// TriggerInfo describes a configured trigger.
type TriggerInfo struct {
	Name        string `json:"name"`
	Action      string `json:"action"`
	When        string `json:"when"`
	Serialize   string `json:"serialize,omitempty"`
	Concurrency int    `json:"concurrency"`
	MaxAttempts int    `json:"max_attempts"`
	// Pending is how many events the trigger has yet to process.
	Pending uint64 `json:"pending"`
	// Twins is set when the trigger takes the twins of pushes too.
	Twins bool `json:"twins"`
}

func (s *Server) listTriggers(w http.ResponseWriter, r *http.Request) {
	out := []TriggerInfo{}
	if s.Delivery != nil {
		for _, name := range s.Delivery.Triggers() {
			t, _ := s.Delivery.Trigger(name)
			ti := TriggerInfo{Name: name, Action: t.Kind, Concurrency: t.Concurrency, MaxAttempts: t.Retry.MaxAttempts, Twins: t.Twins}
			if t.When != nil {
				ti.When = t.When.Source()
			}
			if t.Serialize != nil {
				ti.Serialize = t.Serialize.Source()
			}
			ti.Pending, _ = s.Delivery.Pending(r.Context(), name)
			out = append(out, ti)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"triggers": out})
}

// DeadList is the answer of GET /api/v1/dead.
type DeadList struct {
	Dead []store.DeadLetter `json:"dead"`
	Next string             `json:"next,omitempty"`
}

func (s *Server) listDead(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, before, ok := paging(w, q.Get("limit"), q.Get("before"))
	if !ok {
		return
	}
	list, next, err := s.Dead.ListDead(r.Context(), q.Get("trigger"), before, limit)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	out := DeadList{Dead: list}
	if out.Dead == nil {
		out.Dead = []store.DeadLetter{}
	}
	for i := range out.Dead {
		out.Dead[i].Event, _ = EventJSON(out.Dead[i].Event)
	}
	if next != 0 {
		out.Next = strconv.FormatUint(next, 10)
	}
	writeJSON(w, http.StatusOK, out)
}

func paging(w http.ResponseWriter, limitS, beforeS string) (int, uint64, bool) {
	limit := 0
	var before uint64
	if limitS != "" {
		n, err := strconv.Atoi(limitS)
		if err != nil || n < 1 || n > 500 {
			writeError(w, http.StatusBadRequest, "limit must be a number from 1 to 500")
			return 0, 0, false
		}
		limit = n
	}
	if beforeS != "" {
		n, err := strconv.ParseUint(beforeS, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, "before must be a cursor from a previous page")
			return 0, 0, false
		}
		before = n
	}
	return limit, before, true
}

func seqParam(w http.ResponseWriter, r *http.Request) (uint64, bool) {
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil || seq == 0 {
		writeError(w, http.StatusBadRequest, "a dead letter is named by its sequence number")
		return 0, false
	}
	return seq, true
}

func (s *Server) getDead(w http.ResponseWriter, r *http.Request) {
	seq, ok := seqParam(w, r)
	if !ok {
		return
	}
	d, err := s.Dead.GetDead(r.Context(), seq)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	d.Event, _ = EventJSON(d.Event)
	writeJSON(w, http.StatusOK, d)
}

// ReplayRequest is the body of the replay endpoints. Every field is optional.
type ReplayRequest struct {
	// Trigger re-drives through this trigger only; empty: every trigger
	// whose `when` matches.
	Trigger string `json:"trigger,omitempty"`
	// DryRun lists what would be sent without sending it.
	DryRun bool `json:"dry_run,omitempty"`
	// Since and Until bound the events' store times (POST /api/v1/replay).
	Since time.Time `json:"since,omitzero"`
	Until time.Time `json:"until,omitzero"`
	// When is a CEL expression selecting events (POST /api/v1/replay).
	When string `json:"when,omitempty"`
}

// Replayed is one event sent (or, in a dry run, to be sent) to triggers.
type Replayed struct {
	EventID  string   `json:"event_id"`
	Triggers []string `json:"triggers"`
	// Skipped are the triggers the event was not sent to because their
	// when does not match it: every replay evaluates when.
	Skipped []deliver.Skip `json:"skipped,omitempty"`
}

// ReplayResult is the answer of the replay endpoints.
type ReplayResult struct {
	DryRun   bool       `json:"dry_run"`
	Replayed []Replayed `json:"replayed"`
}

func decodeReplay(w http.ResponseWriter, r *http.Request) (ReplayRequest, bool) {
	var req ReplayRequest
	if r.ContentLength != 0 {
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeError(w, http.StatusBadRequest, "bad replay request: "+err.Error())
			return req, false
		}
	}
	if q := r.URL.Query(); q.Get("dry_run") == "true" {
		req.DryRun = true
	}
	return req, true
}

func (s *Server) needDelivery(w http.ResponseWriter) bool {
	if s.Delivery == nil {
		writeError(w, http.StatusConflict, "no triggers are configured")
		return false
	}
	return true
}

func (s *Server) replayError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, deliver.ErrUnknownTrigger):
		writeError(w, http.StatusBadRequest, err.Error())
		return
	case errors.Is(err, deliver.ErrNoMatch), errors.Is(err, deliver.ErrUndecodable):
		// The request is well formed, but the event's state refuses it.
		if s.Logger != nil {
			s.Logger.Info("api: replay refused", "path", r.URL.Path, "err", err)
		}
		writeError(w, http.StatusConflict, err.Error())
		return
	}
	s.storeError(w, r, err)
}

func (s *Server) replayEvent(w http.ResponseWriter, r *http.Request) {
	req, ok := decodeReplay(w, r)
	if !ok || !s.needDelivery(w) {
		return
	}
	id := r.PathValue("id")
	rec, err := s.Events.Get(r.Context(), id)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	targets, skipped, err := s.Delivery.ReplayEvent(r.Context(), rec.Data, id, req.Trigger, req.DryRun)
	if err != nil {
		s.replayError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ReplayResult{DryRun: req.DryRun, Replayed: []Replayed{{EventID: id, Triggers: nonNil(targets), Skipped: skipped}}})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *Server) replayDead(w http.ResponseWriter, r *http.Request) {
	req, ok := decodeReplay(w, r)
	if !ok || !s.needDelivery(w) {
		return
	}
	seq, ok := seqParam(w, r)
	if !ok {
		return
	}
	d, err := s.Delivery.ReplayDead(r.Context(), seq, req.DryRun)
	if err != nil {
		s.replayError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ReplayResult{DryRun: req.DryRun, Replayed: []Replayed{{EventID: d.EventID, Triggers: []string{d.Trigger}}}})
}

// maxRangeReplay bounds one range replay.
const maxRangeReplay = 10000

func (s *Server) replayRange(w http.ResponseWriter, r *http.Request) {
	req, ok := decodeReplay(w, r)
	if !ok || !s.needDelivery(w) {
		return
	}
	if req.Since.IsZero() {
		writeError(w, http.StatusBadRequest, "since is required (RFC 3339 time)")
		return
	}
	until := req.Until
	if until.IsZero() {
		until = time.Now()
	}
	var filter *route.Program
	var act func(raw []byte) (*route.Activation, error) = route.NewActivation
	if req.When != "" {
		env, err := route.NewEnv()
		if err != nil {
			s.storeError(w, r, err)
			return
		}
		filter, err = env.Compile(req.When)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("when: %v", err))
			return
		}
	}
	out := ReplayResult{DryRun: req.DryRun, Replayed: []Replayed{}}
	var before uint64
	for {
		recs, next, err := s.Events.List(r.Context(), store.Filter{Before: before, Limit: 500, ScanLimit: 5000})
		if err != nil {
			s.storeError(w, r, err)
			return
		}
		done := next == 0
		for _, rec := range recs {
			if rec.Stored.Before(req.Since) {
				done = true
				break
			}
			if rec.Stored.After(until) {
				continue
			}
			if rec.Object != "" {
				// A list holds the stubs of large events: the when and
				// the replay need the whole event, read one at a time.
				whole, err := s.Events.GetSeq(r.Context(), rec.Seq)
				if errors.Is(err, store.ErrNotFound) {
					continue // expired since it was listed
				}
				if err != nil {
					s.storeError(w, r, err)
					return
				}
				rec = whole
			}
			if filter != nil {
				a, err := act(rec.Data)
				if err != nil {
					continue
				}
				if ok, _ := filter.Match(a); !ok {
					continue
				}
			}
			sum, ok := summarize(rec)
			if !ok {
				continue
			}
			targets, skipped, err := s.Delivery.ReplayEvent(r.Context(), rec.Data, sum.ID, req.Trigger, req.DryRun)
			switch {
			case errors.Is(err, deliver.ErrNoMatch):
				// The named trigger does not take this event: say so
				// and go on with the range.
				out.Replayed = append(out.Replayed, Replayed{EventID: sum.ID, Triggers: []string{}, Skipped: skipped})
			case errors.Is(err, deliver.ErrUndecodable):
				continue
			case err != nil:
				s.replayError(w, r, err)
				return
			case len(targets) > 0:
				out.Replayed = append(out.Replayed, Replayed{EventID: sum.ID, Triggers: targets, Skipped: skipped})
			}
			if len(out.Replayed) >= maxRangeReplay {
				done = true
				break
			}
		}
		if done {
			break
		}
		before = next
	}
	writeJSON(w, http.StatusOK, out)
}
