package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/forgehook/forgehook/internal/verify"
)

// scrape reads /metrics with the Prometheus text parser.
func scrape(t *testing.T, admin, token string) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest("GET", admin+"/metrics", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mf, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return mf
}

// value sums the samples of family whose labels include want.
func value(mf map[string]*dto.MetricFamily, family string, want map[string]string) float64 {
	f := mf[family]
	if f == nil {
		return -1
	}
	var sum float64
	for _, m := range f.Metric {
		ok := true
		for k, v := range want {
			found := false
			for _, l := range m.Label {
				if l.GetName() == k && l.GetValue() == v {
					found = true
				}
			}
			ok = ok && found
		}
		if !ok {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum
}

func TestE2EMetricsCountWhatWasSent(t *testing.T) {
	rc := newReceiver(t)
	rc.fail.Store(1)
	dir := t.TempDir()
	cfg, ingest, admin := writeConfigToken(t, dir, "metrics-admin-token", fmt.Sprintf(`endpoints:
  - name: gh
    provider: github
    secrets: ["s"]
triggers:
  - name: fwd
    http: {url: %q}
    retry: {initial: 100ms, max: 200ms}
`, rc.URL))
	srv := start(t, cfg, ingest, admin)
	for i := range 3 {
		sendPush(t, ingest, "gh", "s", fmt.Sprintf("m-%d", i))
	}
	sendPush(t, ingest, "gh", "s", "m-0") // a redelivery
	for range 2 {
		body := []byte(`{"ref":"refs/heads/main"}`)
		status, _, _ := post(context.Background(), ingest+"/hooks/gh", hdr("Content-Type", "application/json", "X-GitHub-Event", "push",
			"X-Hub-Signature-256", verify.Sign(verify.SHA256, verify.Hex, "sha256=", []byte("wrong"), body)), body)
		if status != 401 {
			t.Fatalf("bad signature: %d", status)
		}
	}
	ping := []byte(`{"zen":"hi","hook_id":1}`)
	status, _, _ := post(context.Background(), ingest+"/hooks/gh", hdr("Content-Type", "application/json", "X-GitHub-Event", "ping", "X-GitHub-Delivery", "p1",
		"X-Hub-Signature-256", verify.Sign(verify.SHA256, verify.Hex, "sha256=", []byte("s"), ping)), ping)
	if status != 200 {
		t.Fatalf("ping: %d", status)
	}
	waitFor(t, 15*time.Second, "3 deliveries", func() bool {
		mf := scrape(t, admin, "metrics-admin-token")
		return value(mf, "forgehook_delivery_attempts_total", map[string]string{"trigger": "fwd", "outcome": "delivered"}) == 3
	})
	mf := scrape(t, admin, "metrics-admin-token")
	checks := []struct {
		family string
		labels map[string]string
		want   float64
	}{
		{"forgehook_ingest_requests_total", map[string]string{"endpoint": "gh", "status": "200"}, 5},
		{"forgehook_ingest_requests_total", map[string]string{"endpoint": "gh", "status": "401", "reason": "invalid signature or token"}, 2},
		{"forgehook_events_stored_total", map[string]string{"endpoint": "gh", "forge": "github", "kind": "push"}, 3},
		{"forgehook_events_duplicate_total", map[string]string{"endpoint": "gh"}, 1},
		{"forgehook_pings_total", map[string]string{"endpoint": "gh"}, 1},
		{"forgehook_ingest_duration_seconds", map[string]string{"endpoint": "gh"}, 7},
		{"forgehook_delivery_attempts_total", map[string]string{"trigger": "fwd", "outcome": "failed"}, 1},
		{"forgehook_delivery_latency_seconds", map[string]string{"trigger": "fwd"}, 3},
		{"forgehook_dead_letters_total", map[string]string{"trigger": "fwd"}, -1}, // none yet: no series
		{"forgehook_store_up", nil, 1},
		{"forgehook_trigger_pending", map[string]string{"trigger": "fwd"}, 0},
	}
	for _, c := range checks {
		if got := value(mf, c.family, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.family, c.labels, got, c.want)
		}
	}
	// Without the token, /metrics is closed.
	resp, err := http.Get(admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("/metrics without the admin token: %d, want 401", resp.StatusCode)
	}
	srv.stop()
}
