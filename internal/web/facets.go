package web

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/forgehook/forgehook/internal/api"
	"github.com/forgehook/forgehook/internal/store"
)

// outcomeOptions are the outcomes the events list filters by (the event
// index's): an attempt on some trigger had it, or none did.
func outcomeOptions() []string {
	return []string{"delivered", "failed", "dead", "superseded", "not_matched"}
}

// indexedFilter is the part of the events list's query that the event
// index answers beyond endpoint, forge, kind and repository.
type indexedFilter struct {
	Action, Branch, Actor, Delivery, Outcome, Since, Until string
}

func (f indexedFilter) set(v map[string]string) {
	for k, s := range map[string]string{"action": f.Action, "branch": f.Branch, "actor": f.Actor,
		"delivery": f.Delivery, "outcome": f.Outcome, "since": f.Since, "until": f.Until} {
		if s != "" {
			v[k] = s
		}
	}
}

// formTime parses a time from the filter form: RFC 3339, or the
// datetime-local form (2026-12-07T10:00), read as UTC.
func formTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time (2026-12-07T10:00, UTC, or RFC 3339)", s)
}

// apply sets f's conditions on sf, checked as the API checks them.
func (f indexedFilter) apply(ctx context.Context, sf *store.Filter, d api.Delivery) error {
	sf.Action, sf.Branch, sf.Actor, sf.Delivery, sf.Outcome = f.Action, f.Branch, f.Actor, f.Delivery, f.Outcome
	var err error
	if sf.Since, err = formTime(f.Since); err != nil {
		return fmt.Errorf("since: %w", err)
	}
	if sf.Until, err = formTime(f.Until); err != nil {
		return fmt.Errorf("until: %w", err)
	}
	if err := store.CheckFilter(*sf); err != nil {
		return err
	}
	if f.Outcome == "not_matched" {
		sf.Settled = api.Settled(ctx, d)
	}
	return nil
}

// facetItem is one value of a facet, with the list's URL filtered by it.
type facetItem struct {
	Value string
	Count int
	URL   string
}

// facetGroup is one field's values.
type facetGroup struct {
	Name  string
	Items []facetItem
}

// facetWindow is what the events of one window hold.
type facetWindow struct {
	Label  string
	Events int
	Groups []facetGroup
}

// facets counts the events of the last hour and day for the facets box
// beside the filters (nil without an event index). Each value links to
// the list filtered by it, on top of filter f.
func (h *Handler) facets(ctx context.Context, f eventFilter) []facetWindow {
	src, ok := h.opts.Events.(api.FacetSource)
	if !ok {
		return nil
	}
	now := time.Now()
	settled := api.Settled(ctx, h.opts.Delivery)
	var out []facetWindow
	for _, win := range api.FacetWindows() {
		fc := src.EventFacets(now, win, 5, settled)
		fw := facetWindow{Label: "Last " + strings.TrimSuffix(strings.TrimSuffix(win.String(), "0s"), "0m"), Events: fc.Events}
		if win == time.Hour {
			fw.Label = "Last hour"
		} else if win == 24*time.Hour {
			fw.Label = "Last day"
		}
		for _, g := range []struct {
			name, key string
			vals      []store.Facet
		}{
			{"Repositories", "repository", fc.Repositories}, {"Kinds", "kind", fc.Kinds},
			{"Endpoints", "endpoint", fc.Endpoints}, {"Outcomes", "outcome", fc.Outcomes},
		} {
			grp := facetGroup{Name: g.name}
			for _, v := range g.vals {
				if v.Count == 0 {
					continue
				}
				grp.Items = append(grp.Items, facetItem{Value: v.Value, Count: v.Count, URL: f.url(0, g.key, v.Value)})
			}
			fw.Groups = append(fw.Groups, grp)
		}
		out = append(out, fw)
	}
	return out
}
