package deliver

import (
	"context"
	"fmt"
)

// Settled returns the EVENTS sequence up to which every trigger has
// processed every event (the lowest of the consumers' acknowledgement
// floors): an event at or below it without any recorded attempt matched
// no trigger. It is 0 while a trigger is not started.
func (r *Runner) Settled(ctx context.Context) (uint64, error) {
	var floor uint64
	for i, name := range r.order {
		tr := r.triggers[name]
		if tr.cons == nil {
			return 0, fmt.Errorf("trigger %q not started: %w", name, tr.broken)
		}
		info, err := tr.cons.Info(ctx)
		if err != nil {
			return 0, fmt.Errorf("trigger %q: %w", name, err)
		}
		if i == 0 || info.AckFloor.Stream < floor {
			floor = info.AckFloor.Stream
		}
	}
	return floor, nil
}
