package action_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/forgehook/forgehook/internal/action"
	"github.com/forgehook/forgehook/internal/action/actiontest"
)

func TestActionRecordViewsDecodeOnce(t *testing.T) {
	raw := actiontest.Event(t).Record.Raw()
	r := action.NewRecord(raw)
	const n = 8
	evs := make(chan any, 2*n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			ev, err := r.Event()
			if err != nil {
				t.Error(err)
			}
			a, err := r.Attributes()
			if err != nil {
				t.Error(err)
			}
			evs <- ev
			evs <- a
		})
	}
	wg.Wait()
	close(evs)
	seen := map[any]bool{}
	for ev := range evs {
		seen[ev] = true
	}
	if len(seen) != 2 {
		t.Errorf("%d distinct views from %d concurrent calls, want 2 (one whole record, one attributes)", len(seen), n)
	}
	ev, _ := r.Event()
	if h, err := r.Head(); err != nil || h.ID != ev.ID || !h.Time.Equal(ev.Time) || r.ID() != ev.ID {
		t.Errorf("head %+v, %v; want the record's id %q and time %v", h, err, ev.ID, ev.Time)
	}
	if a, _ := r.Attributes(); a.ID != ev.ID || a.Forge != ev.Forge || a.Type != ev.Type || a.Data.Body != nil {
		t.Errorf("attributes %+v", a)
	}
	if &r.Raw()[0] != &raw[0] {
		t.Error("Raw is not the stored bytes")
	}
}

func TestActionRecordErrors(t *testing.T) {
	var none *action.Record
	if _, err := none.Head(); !errors.Is(err, action.ErrNoRecord) {
		t.Errorf("nil Head: %v", err)
	}
	if _, err := none.Event(); !errors.Is(err, action.ErrNoRecord) {
		t.Errorf("nil Event: %v", err)
	}
	if _, err := none.Attributes(); !errors.Is(err, action.ErrNoRecord) {
		t.Errorf("nil Attributes: %v", err)
	}
	if none.ID() != "" || none.Raw() != nil {
		t.Error("nil record has an id or bytes")
	}
	r := action.NewRecord([]byte(`{"id":"x","time":"yesterday"}`))
	for name, err := range map[string]error{
		"head":       func() error { _, err := r.Head(); return err }(),
		"attributes": func() error { _, err := r.Attributes(); return err }(),
		"event":      func() error { _, err := r.Event(); return err }(),
	} {
		if err == nil || errors.Is(err, action.ErrNoRecord) || errors.Unwrap(err) == nil {
			t.Errorf("%s of a record with a bad time: %v, want the wrapped decoding error", name, err)
		}
	}
	if r.ID() != "" {
		t.Errorf("ID of an undecodable record: %q", r.ID())
	}
}
