package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/forgehook/forgehook/internal/deliver"
	"github.com/forgehook/forgehook/internal/store"
	"github.com/forgehook/forgehook/internal/trigger"
)

// delivery gives the API the runner of the moment: a reload replaces it.
type delivery struct{ a *App }

var errNoTriggers = errors.New("no triggers are running")

func (d delivery) EventStatus(ctx context.Context, rec store.Record, id string) ([]deliver.Status, error) {
	if r := d.a.currentRunner(); r != nil {
		return r.EventStatus(ctx, rec, id)
	}
	return []deliver.Status{}, nil
}

func (d delivery) ReplayEvent(ctx context.Context, raw []byte, id, t string, dry bool) ([]string, []deliver.Skip, error) {
	if r := d.a.currentRunner(); r != nil {
		return r.ReplayEvent(ctx, raw, id, t, dry)
	}
	return nil, nil, fmt.Errorf("%w: %w", deliver.ErrUnknownTrigger, errNoTriggers)
}

func (d delivery) ReplayDead(ctx context.Context, seq uint64, dry bool) (store.DeadLetter, error) {
	if r := d.a.currentRunner(); r != nil {
		return r.ReplayDead(ctx, seq, dry)
	}
	return store.DeadLetter{}, fmt.Errorf("%w: %w", deliver.ErrUnknownTrigger, errNoTriggers)
}

func (d delivery) Triggers() []string {
	if r := d.a.currentRunner(); r != nil {
		return r.Triggers()
	}
	return nil
}

func (d delivery) Trigger(name string) (*trigger.Trigger, bool) {
	if r := d.a.currentRunner(); r != nil {
		return r.Trigger(name)
	}
	return nil, false
}

func (d delivery) Pending(ctx context.Context, name string) (uint64, error) {
	if r := d.a.currentRunner(); r != nil {
		return r.Pending(ctx, name)
	}
	return 0, errNoTriggers
}

// TriggerLag is metrics.Lagging and the UI's oldest waiting event.
func (d delivery) TriggerLag(ctx context.Context, name string) (time.Duration, time.Time, error) {
	if r := d.a.currentRunner(); r != nil {
		return r.TriggerLag(ctx, name)
	}
	return 0, time.Time{}, errNoTriggers
}
