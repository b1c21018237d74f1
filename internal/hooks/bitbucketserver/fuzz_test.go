package bitbucketserver

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/forgehook/forgehook/internal/hooks"
)

// FuzzBitbucketServerWebhook decodes arbitrary answers as a webhook: the
// health is failing exactly when a failure or error is newer than the last
// success, and then names the failure.
func FuzzBitbucketServerWebhook(f *testing.F) {
	if b, err := os.ReadFile("testdata/webhook.json"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"id":1,"statistics":{"lastSuccess":{"finish":5},"lastError":{"finish":4,"result":{"description":"x"}}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var h hook
		if json.Unmarshal(b, &h) != nil {
			return
		}
		out := h.toHook()
		st := h.Statistics
		if st == nil {
			if out.Health.State != hooks.HealthUnknown {
				t.Fatalf("no statistics, state %s", out.Health.State)
			}
			return
		}
		var bad *invocation
		for _, i := range []*invocation{st.LastFailure, st.LastError} {
			if i != nil && (bad == nil || i.Finish > bad.Finish) {
				bad = i
			}
		}
		failing := bad != nil && (st.LastSuccess == nil || bad.Finish > st.LastSuccess.Finish)
		if failing != (out.Health.State == hooks.HealthFailing) {
			t.Fatalf("failing %v, state %s", failing, out.Health.State)
		}
		if failing && out.Health.LastError != bad.Result.Description {
			t.Fatalf("last error %q", out.Health.LastError)
		}
	})
}
