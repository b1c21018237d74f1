package deliver

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/forgehook/forgehook/internal/route"
	"github.com/forgehook/forgehook/internal/store"
)

// ErrUnknownTrigger means a replay named a trigger that is not configured.
var ErrUnknownTrigger = errors.New("unknown trigger")

// ErrNoMatch means a replay asked for a trigger whose when does not match
// the event. Every replay evaluates when as a delivery does, so that a
// replay never hands a trigger an event it would not have taken.
var ErrNoMatch = errors.New("the trigger's when does not match the event")

// ErrUndecodable means a replay asked for an event whose record does not
// decode (such an event is dead-lettered, never delivered).
var ErrUndecodable = errors.New("the event's record does not decode")

// Skip is a trigger a replay leaves out, and why.
type Skip struct {
	Trigger string `json:"trigger"`
	// Reason is "when does not match", or "when failed on this event: ..."
	// when the expression could not be evaluated on it.
	Reason string `json:"reason"`
}

// ReplayEvent re-drives a stored event through trigger (when not empty) or
// through every trigger, in both cases only to the triggers whose when
// matches it: it returns those (targets) and the others with the reason
// (skipped). A named trigger that does not match is an error wrapping
// ErrNoMatch, with skipped saying why. The trigger evaluates when again
// when it delivers the replay (a reload may have changed it). With dryRun
// nothing is sent.
func (r *Runner) ReplayEvent(ctx context.Context, raw []byte, eventID, trigger string, dryRun bool) (targets []string, skipped []Skip, err error) {
	names := r.order
	if trigger != "" {
		if _, ok := r.triggers[trigger]; !ok {
			return nil, nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownTrigger, trigger, strings.Join(r.order, ", "))
		}
		names = []string{trigger}
	}
	act, err := route.NewActivation(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("replay event %s: %w: %w", eventID, ErrUndecodable, err)
	}
	for _, name := range names {
		if ok, why := r.triggers[name].match(act, act.Twin()); ok {
			targets = append(targets, name)
		} else {
			skipped = append(skipped, Skip{Trigger: name, Reason: why})
		}
	}
	if trigger != "" && len(targets) == 0 {
		return nil, skipped, fmt.Errorf("replay event %s to trigger %q: %w (%s)", eventID, trigger, ErrNoMatch, skipped[0].Reason)
	}
	if dryRun {
		return targets, skipped, nil
	}
	for _, name := range targets {
		if err := r.st.Replay(ctx, name, eventID, raw); err != nil {
			return nil, nil, err
		}
	}
	return targets, skipped, nil
}

// ReplayDead re-drives a dead letter through its trigger and removes it.
// A dead letter whose trigger's when no longer matches its event is
// refused with an error wrapping ErrNoMatch (one whose record does not
// decode, with ErrUndecodable) and kept.
func (r *Runner) ReplayDead(ctx context.Context, seq uint64, dryRun bool) (store.DeadLetter, error) {
	d, err := r.st.GetDead(ctx, seq)
	if err != nil {
		return store.DeadLetter{}, err
	}
	tr, ok := r.triggers[d.Trigger]
	if !ok {
		return d, fmt.Errorf("%w %q: the dead letter's trigger is no longer configured", ErrUnknownTrigger, d.Trigger)
	}
	act, err := route.NewActivation(d.Event)
	if err != nil {
		return d, fmt.Errorf("replay dead letter %d: %w: %w", seq, ErrUndecodable, err)
	}
	if ok, why := tr.match(act, act.Twin()); !ok {
		return d, fmt.Errorf("replay dead letter %d of event %s to trigger %q: %w (%s)", seq, d.EventID, d.Trigger, ErrNoMatch, why)
	}
	if dryRun {
		return d, nil
	}
	if err := r.st.Replay(ctx, d.Trigger, d.EventID, d.Event); err != nil {
		return d, err
	}
	return d, r.st.RemoveDead(ctx, seq)
}
