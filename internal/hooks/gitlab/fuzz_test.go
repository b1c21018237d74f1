package gitlab

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/forgehook/forgehook/internal/hooks"
)

// FuzzGitLabHook decodes arbitrary answers as a hook: events are the known
// booleans that are true, sorted; a temporarily disabled hook is disabled;
// disabled_until is reported only then.
func FuzzGitLabHook(f *testing.F) {
	f.Add([]byte(`{"id":1,"url":"u","push_events":true,"alert_status":"executable"}`))
	f.Add([]byte(`{"id":2,"alert_status":"temporarily_disabled","disabled_until":"2026-12-07T16:00:00Z","tag_push_events":true}`))
	f.Add([]byte(`{"id":"x"}`))
	c, _ := New(hooks.Options{})
	known := append(slices.Clone(projectEvents), groupEvents...)
	f.Fuzz(func(t *testing.T, b []byte) {
		var raw map[string]any
		if json.Unmarshal(b, &raw) != nil {
			return
		}
		h, err := c.decode(raw)
		if err != nil {
			return
		}
		out := h.toHook()
		if !slices.IsSorted(out.Events) || out.Active != (len(out.Events) > 0) {
			t.Fatalf("events %v active %v", out.Events, out.Active)
		}
		for _, e := range out.Events {
			if !slices.Contains(known, e) || raw[e] != true {
				t.Fatalf("event %s not a true known boolean", e)
			}
		}
		if !out.Health.DisabledUntil.IsZero() && raw["alert_status"] != "temporarily_disabled" {
			t.Fatalf("disabled_until reported for %v", raw["alert_status"])
		}
		if (raw["alert_status"] == "disabled" || raw["alert_status"] == "temporarily_disabled") != (out.Health.State == hooks.HealthDisabled) {
			t.Fatalf("alert_status %v -> %s", raw["alert_status"], out.Health.State)
		}
	})
}
