package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// recoveryMetrics are the recovery of missed deliveries' metrics.
type recoveryMetrics struct {
	health    *prometheus.GaugeVec
	missing   *prometheus.CounterVec
	recovered *prometheus.CounterVec
}

func newRecoveryMetrics(reg *prometheus.Registry) recoveryMetrics {
	r := recoveryMetrics{
		health: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "forgehook_hooks_health",
			Help: "Owned hooks by endpoint and health state (ok, failing, disabled, unknown) as the last recovery run saw them.",
		}, []string{"endpoint", "state"}),
		missing: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "forgehook_recover_missing_total",
			Help: "Deliveries recovery found missing (failed on the forge and not stored), by endpoint and mode (redeliver, fetch, resend, poll).",
		}, []string{"endpoint", "mode"}),
		recovered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "forgehook_recover_recovered_total",
			Help: "Missing deliveries recovery redelivered, fetched, resent or synthesized, by endpoint and mode.",
		}, []string{"endpoint", "mode"}),
	}
	reg.MustRegister(r.health, r.missing, r.recovered)
	return r
}

// Recovered counts one recovery run's missing and recovered deliveries
// (recover.Observer). A delivery still missing at the next run counts
// again: the rate of missing_total is the rate of failed runs' findings.
func (m *Metrics) Recovered(endpoint, mode string, missing, recovered int) {
	m.recovery.missing.WithLabelValues(endpoint, mode).Add(float64(missing))
	m.recovery.recovered.WithLabelValues(endpoint, mode).Add(float64(recovered))
}

// Health sets the number of the endpoint's owned hooks in each state
// (recover.Observer).
func (m *Metrics) Health(endpoint string, states map[string]int) {
	for state, n := range states {
		m.recovery.health.WithLabelValues(endpoint, state).Set(float64(n))
	}
}
