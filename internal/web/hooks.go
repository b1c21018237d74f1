package web

import (
	"context"
	"net/http"
	"time"

	"github.com/forgehook/forgehook/internal/hooks"
	"github.com/forgehook/forgehook/internal/recovery"
	"github.com/forgehook/forgehook/internal/store"
)

// HookRecords gives the Hooks page the ownership records of the hooks
// forgehook manages (*store.Store).
type HookRecords interface {
	HookRecords(ctx context.Context) ([]store.HookRecord, error)
}

// hookRow is one owned hook on the Hooks page.
type hookRow struct {
	store.HookRecord
	// State is the hook's health as the last recovery run saw it
	// ("unknown" without one).
	State         string
	AlertStatus   string
	DisabledUntil time.Time
	Error         string
}

// recoveryRow is one endpoint's last recovery run.
type recoveryRow struct {
	Endpoint  string
	Finished  time.Time
	Missing   int
	Recovered int
	Errors    []string
}

type hooksData struct {
	Hooks    []hookRow
	Recovery []recoveryRow
	// Managed is false when nothing is managed (listen-only).
	Managed bool
}

// hooksPage lists the owned hooks, their health and each endpoint's last
// recovery run on this replica.
func (h *Handler) hooksPage(w http.ResponseWriter, r *http.Request, s session) {
	var d hooksData
	var last map[string]recovery.Report
	if h.opts.Recovery != nil {
		last = h.opts.Recovery()
	}
	if h.opts.HookRecords != nil {
		recs, err := h.opts.HookRecords.HookRecords(r.Context())
		if err != nil {
			h.storeFail(w, r, err)
			return
		}
		for _, rec := range recs {
			row := hookRow{HookRecord: rec, State: hooks.HealthUnknown}
			t := hooks.Target{Kind: rec.TargetKind, Name: rec.TargetName}.String()
			for _, hs := range last[rec.Endpoint].Hooks {
				if hs.Target == t && hs.HookID == rec.HookID {
					row.State, row.AlertStatus, row.DisabledUntil, row.Error = hs.State, hs.AlertStatus, hs.DisabledUntil, hs.Error
				}
			}
			d.Hooks = append(d.Hooks, row)
		}
	}
	for _, name := range sortedKeys(last) {
		rep := last[name]
		d.Recovery = append(d.Recovery, recoveryRow{Endpoint: name, Finished: rep.Finished, Missing: rep.Missing, Recovered: rep.Recovered, Errors: rep.Errors})
	}
	d.Managed = len(d.Hooks) > 0 || len(d.Recovery) > 0
	h.render(w, r, http.StatusOK, "hooks", "layout", h.newView(w, r, s, "Hooks", "hooks", d))
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
