// Package metrics holds forgehook's Prometheus metrics: what ingest
// accepted and rejected, what was stored, what the triggers delivered, how
// far each trigger lags, and whether the store is up. Names and labels are
// documented in docs/operations.md.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/forgehook/forgehook/internal/ingest"
	"github.com/forgehook/forgehook/internal/store"
)

// Metrics is one process's set of metrics, on a registry of its own.
type Metrics struct {
	reg *prometheus.Registry

	requests       *prometheus.CounterVec
	ingestDuration *prometheus.HistogramVec
	stored         *prometheus.CounterVec
	duplicates     *prometheus.CounterVec
	pings          *prometheus.CounterVec
	attempts       *prometheus.CounterVec
	attemptSeconds *prometheus.HistogramVec
	deliveryDelay  *prometheus.HistogramVec
	dead           *prometheus.CounterVec
	recovery       recoveryMetrics

	mu       sync.Mutex // guards counts and triggers
	counts   map[string]*EndpointCounts
	triggers map[string]*TriggerCounts
}

// TriggerCounts are one trigger's attempt outcomes since the process
// started, for the UI.
type TriggerCounts struct {
	Delivered, Failed, Dead, Superseded uint64
}

// EndpointCounts are one endpoint's request counts since the process
// started, for the UI.
type EndpointCounts struct {
	Accepted   uint64            `json:"accepted"`
	Duplicates uint64            `json:"duplicates"`
	Pings      uint64            `json:"pings"`
	Rejected   map[string]uint64 `json:"rejected"` // by reason
	LastEvent  time.Time         `json:"last_event,omitzero"`
}

// New returns the metrics, registered with the Go and process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), counts: map[string]*EndpointCounts{}, triggers: map[string]*TriggerCounts{}}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "forgehook_ingest_requests_total",
		Help: "Webhook requests received, by endpoint, forge, HTTP status and reason (empty on success).",
	}, []string{"endpoint", "forge", "status", "reason"})
	m.ingestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "forgehook_ingest_duration_seconds",
		Help:    "Time from a webhook request's arrival to its answer, including the wait for the store.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"endpoint"})
	m.stored = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "forgehook_events_stored_total",
		Help: "Events stored in the log, by endpoint, forge and kind.",
	}, []string{"endpoint", "forge", "kind"})
	m.duplicates = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "forgehook_events_duplicate_total",
		Help: "Redeliveries recognized and not stored again, by endpoint.",
	}, []string{"endpoint"})
	m.pings = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "forgehook_pings_total",
		Help: "Authentic ping and test deliveries answered, by endpoint.",
	}, []string{"endpoint"})
	m.attempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "forgehook_delivery_attempts_total",
		Help: "Delivery attempts, by trigger and outcome (delivered, failed, dead, superseded).",
	}, []string{"trigger", "outcome"})
	m.attemptSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "forgehook_delivery_attempt_duration_seconds",
		Help:    "Duration of one delivery attempt (the action's run), by trigger.",
		Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
	}, []string{"trigger"})
	m.deliveryDelay = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "forgehook_delivery_latency_seconds",
		Help:    "Time from an event's arrival to its successful delivery, by trigger (retries included).",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5, 30, 120, 600, 3600},
	}, []string{"trigger"})
	m.dead = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "forgehook_dead_letters_total",
		Help: "Events given up and dead-lettered, by trigger.",
	}, []string{"trigger"})
	m.reg.MustRegister(m.requests, m.ingestDuration, m.stored, m.duplicates, m.pings,
		m.attempts, m.attemptSeconds, m.deliveryDelay, m.dead,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.recovery = newRecoveryMetrics(m.reg)
	return m
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveIngest records one handled webhook request.
func (m *Metrics) ObserveIngest(o ingest.Outcome) {
	ep := o.Endpoint
	if ep == "" {
		ep = "_unknown"
	}
	m.requests.WithLabelValues(ep, o.Forge, strconv.Itoa(o.Status), o.Reason).Inc()
	if o.Endpoint == "" {
		return
	}
	m.ingestDuration.WithLabelValues(ep).Observe(o.Duration.Seconds())
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.counts[ep]
	if c == nil {
		c = &EndpointCounts{Rejected: map[string]uint64{}}
		m.counts[ep] = c
	}
	switch {
	case o.Status >= 400:
		c.Rejected[o.Reason]++
	case o.Ping:
		c.Pings++
		m.pings.WithLabelValues(ep).Inc()
	case o.Duplicate:
		c.Duplicates++
		m.duplicates.WithLabelValues(ep).Inc()
	case o.Record != nil:
		c.Accepted++
		c.LastEvent = o.Record.Time
		m.stored.WithLabelValues(ep, o.Record.Forge, string(o.Record.Data.Normalized.Kind)).Inc()
	}
}

// Counts returns a copy of an endpoint's counts.
func (m *Metrics) Counts(endpoint string) EndpointCounts {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.counts[endpoint]
	if c == nil {
		return EndpointCounts{Rejected: map[string]uint64{}}
	}
	out := *c
	out.Rejected = make(map[string]uint64, len(c.Rejected))
	for k, v := range c.Rejected {
		out.Rejected[k] = v
	}
	return out
}

// Trigger returns a copy of a trigger's counts and whether it has any.
func (m *Metrics) Trigger(name string) (TriggerCounts, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	tc := m.triggers[name]
	if tc == nil {
		return TriggerCounts{}, false
	}
	return *tc, true
}

// ObserveAttempt records one delivery attempt of an event that arrived at
// eventTime.
func (m *Metrics) ObserveAttempt(a store.Attempt, eventTime time.Time) {
	m.attempts.WithLabelValues(a.Trigger, a.Outcome).Inc()
	m.mu.Lock()
	tc := m.triggers[a.Trigger]
	if tc == nil {
		tc = &TriggerCounts{}
		m.triggers[a.Trigger] = tc
	}
	switch a.Outcome {
	case store.OutcomeDelivered:
		tc.Delivered++
	case store.OutcomeFailed:
		tc.Failed++
	case store.OutcomeDead:
		tc.Dead++
	case store.OutcomeSuperseded:
		tc.Superseded++
	}
	m.mu.Unlock()
	m.attemptSeconds.WithLabelValues(a.Trigger).Observe(a.Duration.Seconds())
	switch a.Outcome {
	case store.OutcomeDelivered:
		if !eventTime.IsZero() && !a.Replay {
			m.deliveryDelay.WithLabelValues(a.Trigger).Observe(time.Since(eventTime).Seconds())
		}
	case store.OutcomeDead:
		m.dead.WithLabelValues(a.Trigger).Inc()
	}
}

// Pending reports a trigger's lag.
type Pending interface {
	Triggers() []string
	Pending(ctx context.Context, name string) (uint64, error)
}

// Lagging reports, at each scrape, how long a trigger's oldest waiting
// event has waited and when the trigger last finished an attempt. The
// Pending given to Watch may implement it.
type Lagging interface {
	// TriggerLag returns the age of the trigger's oldest event not yet
	// settled (0 when none waits) and when it last finished an attempt
	// (or started, if it has made none).
	TriggerLag(ctx context.Context, name string) (oldest time.Duration, lastAttempt time.Time, err error)
}

// Ready reports the store's health.
type Ready interface {
	Ready(ctx context.Context) error
}

// Watch registers collectors that ask, at each scrape, for every trigger's
// pending count and for the store's health.
func (m *Metrics) Watch(p Pending, r Ready) {
	m.reg.MustRegister(&liveCollector{p: p, r: r})
}

var (
	pendingDesc = prometheus.NewDesc("forgehook_trigger_pending",
		"Events a trigger has yet to process: consumer lag plus events awaiting a retry.", []string{"trigger"}, nil)
	oldestDesc = prometheus.NewDesc("forgehook_trigger_oldest_waiting_seconds",
		"Age of the oldest event a trigger has not settled (delivered, dead-lettered or skipped); 0 when none waits.", []string{"trigger"}, nil)
	lastAttemptDesc = prometheus.NewDesc("forgehook_trigger_last_attempt_timestamp_seconds",
		"Unix time a trigger last finished an attempt, or started if it has made none.", []string{"trigger"}, nil)
	storeUpDesc = prometheus.NewDesc("forgehook_store_up",
		"1 when the store is connected, its streams exist and it takes writes, else 0.", nil, nil)
	writeFailingDesc = prometheus.NewDesc("forgehook_store_write_failing",
		"1 while the store refuses writes (disk full, a write error, its size limit), else 0.", nil, nil)
	droppedDesc = prometheus.NewDesc("forgehook_store_events_dropped_total",
		"Events dropped, oldest first, to keep the EVENTS stream under store.max_bytes.", nil, nil)
	lostDesc = prometheus.NewDesc("forgehook_store_events_lost",
		"Acknowledged events that the start found missing from the log (damaged or removed files).", nil, nil)
	maxBytesDesc = prometheus.NewDesc("forgehook_store_max_bytes",
		"The EVENTS stream's size limit in force (store.max_bytes, or the one chosen from the disk's size).", nil, nil)
)

// StoreHealth is what the store tells about its writes and its data, at
// each scrape.
type StoreHealth interface {
	WriteStatus() store.WriteStatus
	DroppedEvents() uint64
	Loss() store.Loss
	MaxBytes() int64
}

type liveCollector struct {
	p Pending
	r Ready
}

func (c *liveCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- pendingDesc
	if _, ok := c.p.(Lagging); ok {
		ch <- oldestDesc
		ch <- lastAttemptDesc
	}
	ch <- storeUpDesc
	if _, ok := c.r.(StoreHealth); ok {
		ch <- writeFailingDesc
		ch <- droppedDesc
		ch <- lostDesc
		ch <- maxBytesDesc
	}
}

func (c *liveCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	up := 1.0
	if err := c.r.Ready(ctx); err != nil {
		up = 0
	}
	ch <- prometheus.MustNewConstMetric(storeUpDesc, prometheus.GaugeValue, up)
	if h, ok := c.r.(StoreHealth); ok {
		failing := 0.0
		if h.WriteStatus().Failing {
			failing = 1
		}
		ch <- prometheus.MustNewConstMetric(writeFailingDesc, prometheus.GaugeValue, failing)
		ch <- prometheus.MustNewConstMetric(droppedDesc, prometheus.CounterValue, float64(h.DroppedEvents()))
		ch <- prometheus.MustNewConstMetric(lostDesc, prometheus.GaugeValue, float64(h.Loss().Events))
		ch <- prometheus.MustNewConstMetric(maxBytesDesc, prometheus.GaugeValue, float64(h.MaxBytes()))
	}
	for _, t := range c.p.Triggers() {
		n, err := c.p.Pending(ctx, t)
		if err != nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(n), t)
		if l, ok := c.p.(Lagging); ok {
			oldest, last, err := l.TriggerLag(ctx, t)
			if err != nil {
				continue
			}
			ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, oldest.Seconds(), t)
			ch <- prometheus.MustNewConstMetric(lastAttemptDesc, prometheus.GaugeValue, float64(last.UnixNano())/1e9, t)
		}
	}
}
