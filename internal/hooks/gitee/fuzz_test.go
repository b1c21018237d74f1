package gitee

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/forgehook/forgehook/internal/hooks"
)

// FuzzGiteeHook decodes arbitrary answers as a hook: the password never
// reaches the Hook, events are sorted, the health follows result_code.
func FuzzGiteeHook(f *testing.F) {
	f.Add([]byte(`{"id":1,"url":"u","password":"PW-MARK","result_code":503,"result":"not found","push_events":true}`))
	f.Add([]byte(`{"id":2,"password":"PW-MARK","result_code":200}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var h hook
		if json.Unmarshal(b, &h) != nil {
			return
		}
		out := h.toHook()
		// The password, whatever else the answer holds, never reaches the Hook.
		var raw map[string]any
		if json.Unmarshal(b, &raw) == nil {
			raw["password"] = "\x00password-mark"
			if b2, err := json.Marshal(raw); err == nil {
				var h2 hook
				if json.Unmarshal(b2, &h2) == nil && strings.Contains(fmt.Sprintf("%+v", h2.toHook()), "password-mark") {
					t.Fatalf("the password reached the hook: %+v", h2.toHook())
				}
			}
		}
		if !slices.IsSorted(out.Events) || out.Active != (len(out.Events) > 0) {
			t.Fatalf("events %v active %v", out.Events, out.Active)
		}
		code := 0
		if h.ResultCode != nil {
			code = *h.ResultCode
		}
		want := hooks.HealthFailing
		switch {
		case code == 0:
			want = hooks.HealthUnknown
		case code >= 200 && code < 300:
			want = hooks.HealthOK
		}
		if out.Health.State != want {
			t.Fatalf("result_code %d: state %s", code, out.Health.State)
		}
	})
}
