package config

import "time"

// The defaults that ApplyDefaults fills in. They are part of the documented
// contract (docs/configuration.md).
const (
	DefaultListen            = ":8080"
	DefaultAdminListen       = "127.0.0.1:8081"
	DefaultDataDir           = "./forgehook-data"
	DefaultReplicas          = 1
	DefaultRetention         = Duration(168 * time.Hour)
	DefaultDedupWindow       = Duration(72 * time.Hour)
	DefaultSync              = SyncInterval
	DefaultAckTimeout        = Duration(5 * time.Second)
	DefaultReadHeaderTimeout = Duration(10 * time.Second)
	DefaultReadTimeout       = Duration(60 * time.Second)
	DefaultWriteTimeout      = Duration(60 * time.Second)
	DefaultIdleTimeout       = Duration(120 * time.Second)
	DefaultMaxBody           = 25 * MiB
	DefaultMaxBodyInFlight   = 32 * MiB
	DefaultConcurrency       = 1
	DefaultGenericAlgorithm  = "sha256"
	DefaultGenericEncoding   = "hex"
	// The defaults of a trigger's retry block.
	DefaultMaxAttempts  = 10
	DefaultRetryInitial = Duration(time.Second)
	DefaultRetryMax     = Duration(time.Hour)
	// The defaults of the action blocks.
	DefaultHTTPFormat      = "cloudevents"
	DefaultHTTPMethod      = "POST"
	DefaultHTTPTimeout     = Duration(30 * time.Second)
	DefaultExecTimeout     = Duration(10 * time.Minute)
	DefaultExecOutputLimit = 64 * KiB
	DefaultLogFormat       = "text"
)

// DefaultUnauthenticatedRateLimit is server.unauthenticated_rate_limit's
// default: a source may fail authentication 20 times at once, then once a
// second.
var DefaultUnauthenticatedRateLimit = RateLimit{PerSecond: 1, Burst: 20}

// The defaults of the ingest listener's limits on slow bodies.
const (
	// DefaultMaxConcurrentPerSource is server.max_concurrent_per_source's
	// default.
	DefaultMaxConcurrentPerSource = 8
	// DefaultMinBodyRate is server.min_body_rate's default, a second.
	DefaultMinBodyRate = 16 * KiB
)

// Values of Store.Sync.
const (
	// SyncInterval lets JetStream flush to disk periodically: an ack
	// survives a crash of the process, not a loss of power.
	SyncInterval = "interval"
	// SyncAlways fsyncs every write before the ack.
	SyncAlways = "always"
)

// Default returns a configuration with every default applied and no
// endpoints or triggers, the base of the quick-start.
func Default() *Config {
	c := &Config{}
	c.ApplyDefaults()
	return c
}

// ApplyDefaults fills every unset field (the zero value: 0, "" or an empty
// duration or size) with its default. It is idempotent. Endpoint.Tolerance
// stays 0, which lets each provider choose its own.
func (c *Config) ApplyDefaults() {
	setDefault(&c.Listen, DefaultListen)
	setDefault(&c.Admin.Listen, DefaultAdminListen)
	setDefault(&c.DataDir, DefaultDataDir)
	setDefault(&c.Store.Replicas, DefaultReplicas)
	setDefault(&c.Store.Retention, DefaultRetention)
	setDefault(&c.Store.DedupWindow, DefaultDedupWindow)
	setDefault(&c.Store.Sync, DefaultSync)
	setDefault(&c.Store.AckTimeout, DefaultAckTimeout)
	setDefault(&c.Server.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	setDefault(&c.Server.ReadTimeout, DefaultReadTimeout)
	setDefault(&c.Server.WriteTimeout, DefaultWriteTimeout)
	setDefault(&c.Server.IdleTimeout, DefaultIdleTimeout)
	setDefault(&c.Server.MaxBodyInFlight, DefaultMaxBodyInFlight)
	setDefault(&c.Server.UnauthenticatedRateLimit, DefaultUnauthenticatedRateLimit)
	setDefault(&c.Server.MaxConcurrentPerSource, DefaultMaxConcurrentPerSource)
	setDefault(&c.Server.MinBodyRate, DefaultMinBodyRate)
	for i := range c.Endpoints {
		ep := &c.Endpoints[i]
		setDefault(&ep.MaxBody, DefaultMaxBody)
		if ep.Generic != nil {
			setDefault(&ep.Generic.Algorithm, DefaultGenericAlgorithm)
			setDefault(&ep.Generic.Encoding, DefaultGenericEncoding)
		}
		if ep.Recover != nil {
			ep.Recover.ApplyDefaults()
		}
	}
	for i := range c.Triggers {
		c.Triggers[i].ApplyDefaults()
	}
}

// ApplyDefaults fills every unset field of the trigger, its retry policy
// and its action block with its default. It is idempotent.
func (t *Trigger) ApplyDefaults() {
	setDefault(&t.Concurrency, DefaultConcurrency)
	t.Retry.ApplyDefaults()
	if t.HTTP != nil {
		t.HTTP.ApplyDefaults()
	}
	if t.Exec != nil {
		t.Exec.ApplyDefaults()
	}
	if t.Log != nil {
		t.Log.ApplyDefaults()
	}
}

// Clone returns a copy of t whose action block is its own, so that
// applying defaults to it leaves t as it is.
func (t *Trigger) Clone() *Trigger {
	c := *t
	if t.HTTP != nil {
		h := *t.HTTP
		c.HTTP = &h
	}
	if t.Exec != nil {
		e := *t.Exec
		c.Exec = &e
	}
	if t.NATS != nil {
		n := *t.NATS
		c.NATS = &n
	}
	if t.Log != nil {
		l := *t.Log
		c.Log = &l
	}
	return &c
}

// ApplyDefaults fills the unset fields of a retry policy.
func (r *Retry) ApplyDefaults() {
	setDefault(&r.MaxAttempts, DefaultMaxAttempts)
	setDefault(&r.Initial, DefaultRetryInitial)
	setDefault(&r.Max, DefaultRetryMax)
}

// ApplyDefaults fills the unset fields of an http block.
func (h *HTTPAction) ApplyDefaults() {
	setDefault(&h.Format, DefaultHTTPFormat)
	setDefault(&h.Method, DefaultHTTPMethod)
	setDefault(&h.Timeout, DefaultHTTPTimeout)
}

// ApplyDefaults fills the unset fields of an exec block.
func (e *ExecAction) ApplyDefaults() {
	setDefault(&e.Timeout, DefaultExecTimeout)
	setDefault(&e.OutputLimit, DefaultExecOutputLimit)
}

// ApplyDefaults fills the unset fields of a log block.
func (l *LogAction) ApplyDefaults() {
	setDefault(&l.Format, DefaultLogFormat)
}

// setDefault sets *p to def when *p is the zero value.
func setDefault[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}
