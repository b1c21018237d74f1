package app

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/store"
)

// ErrStoreLoss means CheckStore found acknowledged events missing.
var ErrStoreLoss = errors.New("acknowledged events are missing from the log")

// CheckStore examines the embedded store of cfg's data directory while no
// forgehook runs on it (see store.Check) and writes a report to w. It
// returns ErrStoreLoss when acknowledged events are missing, and the
// store's *store.LockedError when a process holds the directory.
func CheckStore(ctx context.Context, cfg *config.Config, w io.Writer) error {
	rep, err := store.Check(ctx, store.Options{
		URL:         cfg.Store.URL,
		DataDir:     cfg.DataDir,
		Retention:   cfg.Store.Retention.D(),
		DedupWindow: cfg.Store.DedupWindow.D(),
		MaxBytes:    int64(cfg.Store.MaxBytes),
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "data directory %s: not in use\n", rep.DataDir)
	for _, s := range rep.Streams {
		fmt.Fprintf(w, "stream %-30s %9d messages %12d bytes  seq %d..%d  %d gaps  %d consumers\n",
			s.Name, s.Messages, s.Bytes, s.FirstSeq, s.LastSeq, s.Gaps, s.Consumers)
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "embedded server: %s\n", p)
	}
	l := rep.Loss
	fmt.Fprintf(w, "index: %d live events indexed; EVENTS holds seq %d..%d\n", l.Indexed, l.FirstSeq, l.LastSeq)
	if l.Events > 0 {
		fmt.Fprintf(w, "LOSS: %d acknowledged events are missing from EVENTS (%d past its last sequence, %d in gaps, %d before its first)\n",
			l.Events, l.Tail, l.Gaps, l.Head)
		return fmt.Errorf("%s: %w (%d)", rep.DataDir, ErrStoreLoss, l.Events)
	}
	fmt.Fprintln(w, "ok: every indexed event is in EVENTS")
	return nil
}
