package deliver

import (
	"context"
	"fmt"

	"github.com/forgehook/forgehook/internal/route"
	"github.com/forgehook/forgehook/internal/store"
)

// Pending returns how many events trigger has yet to process (consumer lag
// plus events being retried).
func (r *Runner) Pending(ctx context.Context, name string) (uint64, error) {
	tr, ok := r.triggers[name]
	if !ok {
		return 0, fmt.Errorf("no trigger %q", name)
	}
	if tr.cons == nil {
		return 0, fmt.Errorf("trigger %q not started: %w", name, tr.broken)
	}
	info, err := tr.cons.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.NumPending + uint64(info.NumAckPending), nil
}

// Processed reports whether trigger's consumer has acknowledged every event
// up to and including seq.
func (r *Runner) processed(ctx context.Context, name string, seq uint64) (bool, error) {
	tr := r.triggers[name]
	if tr.cons == nil {
		return false, fmt.Errorf("trigger %q not started: %w", name, tr.broken)
	}
	info, err := tr.cons.Info(ctx)
	if err != nil {
		return false, err
	}
	return info.AckFloor.Stream >= seq, nil
}

// Status is the state of one event on one trigger.
type Status struct {
	Trigger string `json:"trigger"`
	// State is delivered, retrying, dead, superseded, pending (not yet
	// processed) or not_matched.
	State    string          `json:"state"`
	Matches  bool            `json:"matches"`
	Attempts []store.Attempt `json:"attempts"`
}

// EventStatus returns the state of a stored event on every trigger. A
// record that does not decode matches no trigger; its attempts (the dead
// letters of the triggers that met it) are reported all the same.
func (r *Runner) EventStatus(ctx context.Context, rec store.Record, eventID string) ([]Status, error) {
	act, decodeErr := route.NewActivation(rec.Data)
	var out []Status
	for _, name := range r.order {
		tr := r.triggers[name]
		s := Status{Trigger: name}
		if decodeErr == nil {
			s.Matches, _ = tr.match(act, act.Twin())
		}
		atts, err := r.st.Attempts(ctx, name, eventID)
		if err != nil {
			return nil, err
		}
		s.Attempts = atts
		switch {
		case len(atts) > 0:
			switch last := atts[len(atts)-1]; last.Outcome {
			case store.OutcomeFailed:
				s.State = "retrying"
			default:
				s.State = last.Outcome
			}
		case !s.Matches:
			s.State = "not_matched"
		default:
			s.State = "pending"
			if done, err := r.processed(ctx, name, rec.Seq); err == nil && done {
				// Stored before the trigger existed.
				s.State = "not_delivered"
			}
		}
		if s.Attempts == nil {
			s.Attempts = []store.Attempt{}
		}
		out = append(out, s)
	}
	return out, nil
}
