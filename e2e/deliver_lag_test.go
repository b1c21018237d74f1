package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync/atomic"
	"testing"
	"time"
)

// TestDeliverLagVisible is issue 16's lag: while a trigger's receiver
// holds its first delivery, the metrics and the Triggers page show the
// backlog and how long its oldest event has waited; the last attempt
// stays at the start, so the "idle with a backlog" alert would fire; once
// the receiver answers, everything is delivered and nothing waits.
func TestDeliverLagVisible(t *testing.T) {
	release := make(chan struct{})
	var hits atomic.Int64
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		hits.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	dir := t.TempDir()
	cfg, ingest, admin := writeConfig(t, dir, fmt.Sprintf(`endpoints:
  - name: gh
    provider: github
    secrets: ["s"]
triggers:
  - name: lag
    http: {url: %q}
`, rc.URL))
	srv := start(t, cfg, ingest, admin)
	started := float64(time.Now().Add(-time.Minute).Unix())
	for i := range 5 {
		sendPush(t, ingest, "gh", "s", fmt.Sprintf("lag-%d", i))
	}
	lag := map[string]string{"trigger": "lag"}
	waitFor(t, 20*time.Second, "a backlog of 5 whose oldest waited 2 s", func() bool {
		mf := scrape(t, admin, "")
		return value(mf, "forgehook_trigger_pending", lag) == 5 &&
			value(mf, "forgehook_trigger_oldest_waiting_seconds", lag) >= 2
	})
	mf := scrape(t, admin, "")
	if last := value(mf, "forgehook_trigger_last_attempt_timestamp_seconds", lag); last < started || last > float64(time.Now().Unix())-1 {
		t.Errorf("last attempt at %v, want the trigger's start, more than 1 s ago (no attempt has finished)", last)
	}
	resp, err := http.Get(admin + "/triggers")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("triggers page: %d", resp.StatusCode)
	}
	if !regexp.MustCompile(`Oldest waiting`).Match(page) || !regexp.MustCompile(`data-oldest><span class="badge s-retrying">[0-9.]+m?s</span>`).Match(page) {
		t.Errorf("triggers page shows no oldest waiting age:\n%s", page)
	}

	close(release)
	waitFor(t, 20*time.Second, "5 deliveries and nothing waiting", func() bool {
		mf := scrape(t, admin, "")
		return hits.Load() == 5 && value(mf, "forgehook_trigger_pending", lag) == 0 &&
			value(mf, "forgehook_trigger_oldest_waiting_seconds", lag) == 0
	})
	mf = scrape(t, admin, "")
	if last := value(mf, "forgehook_trigger_last_attempt_timestamp_seconds", lag); last < float64(time.Now().Unix())-30 {
		t.Errorf("last attempt at %v, want within the last 30 s", last)
	}
	srv.stop()
}
