package config

import (
	"time"
)

// Config is forgehook's whole configuration (forgehook.yaml). The YAML keys
// are the public contract documented in docs/configuration.md.
type Config struct {
	// Listen is the ingest listener's address: /hooks/{endpoint}, /healthz, /readyz.
	Listen string `yaml:"listen"`
	// Admin is the admin listener: UI, /api/v1, /metrics.
	Admin Admin `yaml:"admin"`
	// DataDir holds the embedded store and the quick-start's generated key.
	DataDir string `yaml:"data_dir"`
	// Store selects the embedded JetStream or an external NATS cluster.
	Store Store `yaml:"store"`
	// Server holds the ingest listener's timeouts.
	Server Server `yaml:"server"`
	// TrustedProxies lists the addresses (CIDR) of reverse proxies whose
	// X-Forwarded-For header is believed.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// Endpoints are the webhook receivers.
	Endpoints []Endpoint `yaml:"endpoints"`
	// Triggers route stored events to actions.
	Triggers []Trigger `yaml:"triggers"`
	// PublicURL is the base of the URLs registered on the forges by hook
	// management: PublicURL + /hooks/{name or key} (docs/hooks.md).
	PublicURL string `yaml:"public_url"`

	// File is the path the configuration was read from ("" for defaults).
	File string `yaml:"-"`

	// lines maps each decoded path to its line in File.
	lines map[string]int
}

// Admin configures the admin listener.
type Admin struct {
	// Listen is the admin listener's host:port (default 127.0.0.1:8081).
	Listen string `yaml:"listen"`
	// Token is the bearer token the admin listener requires; it is
	// mandatory when Listen is not a loopback address.
	Token Secret `yaml:"token"`
	// TokenFile names a file holding Token; the loader reads it into Token.
	TokenFile string `yaml:"token_file"`
	// Hosts are the Host names, besides localhost, IP address literals and
	// the host of Listen, that the admin listener answers (DNS rebinding
	// defence); "*.example.com" matches the names under example.com, "*"
	// any name.
	Hosts []string `yaml:"hosts"`
}

// Store configures the JetStream log.
type Store struct {
	// URL is empty for the embedded server, else nats://host:port[,nats://...].
	URL string `yaml:"url"`
	// Credentials is a NATS credentials file for an external server.
	Credentials string `yaml:"credentials"`
	// Token is a NATS auth token for an external server.
	Token Secret `yaml:"token"`
	// TokenFile names a file holding Token; the loader reads it into Token.
	TokenFile string `yaml:"token_file"`
	// Replicas of every stream (1 for the embedded server).
	Replicas int `yaml:"replicas"`
	// Retention is how long events are kept (default 168h).
	Retention Duration `yaml:"retention"`
	// DedupWindow is how long a delivery id is remembered (default 72h).
	DedupWindow Duration `yaml:"dedup_window"`
	// Sync is "interval" (default) or "always" (fsync every write).
	Sync string `yaml:"sync"`
	// AckTimeout bounds the wait for the store's acknowledgement (default 5s);
	// past it ingest answers 503.
	AckTimeout Duration `yaml:"ack_timeout"`
	// MaxBytes caps the EVENTS stream's size: past it the oldest events
	// are dropped to make room (logged, and counted in
	// forgehook_store_events_dropped_total). 0 (the default) means the
	// smaller of 10 GiB and half of the data directory's file system
	// (10 GiB for an external server).
	MaxBytes ByteSize `yaml:"max_bytes"`
	// Embedded configures the embedded server.
	Embedded Embedded `yaml:"embedded"`
}

// Embedded configures the in-process NATS server.
type Embedded struct {
	// Listen is empty (no network port, in-process only) or host:port.
	Listen string `yaml:"listen"`
}

// Server holds the ingest listener's timeouts, as in net/http.Server.
type Server struct {
	// ReadHeaderTimeout bounds reading a request's headers (default 10s).
	ReadHeaderTimeout Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request (default 60s).
	ReadTimeout Duration `yaml:"read_timeout"`
	// WriteTimeout bounds handling a request and writing its answer
	// (default 60s).
	WriteTimeout Duration `yaml:"write_timeout"`
	// IdleTimeout bounds a keep-alive connection's wait for the next
	// request (default 120s).
	IdleTimeout Duration `yaml:"idle_timeout"`
	// MaxBodyInFlight bounds the bytes that requests being received hold
	// at once (bodies, a form's payload, records; default 32MiB): past it
	// a request waits up to 2s, then is answered 503 with Retry-After.
	MaxBodyInFlight ByteSize `yaml:"max_body_in_flight"`
	// UnauthenticatedRateLimit limits, per source address, the requests
	// refused before they were authenticated (default 1/s, burst 20): a
	// source past it is answered 429 before its body is read.
	UnauthenticatedRateLimit RateLimit `yaml:"unauthenticated_rate_limit"`
	// MaxConcurrentPerSource bounds, per source address, the requests
	// whose body is being read (default 8): past it a request is answered
	// 429 before its body is read.
	MaxConcurrentPerSource int `yaml:"max_concurrent_per_source"`
	// MinBodyRate is the least average rate, a second, at which a body
	// must arrive once its read has lasted 5s (default 16KiB): a slower one
	// is answered 408 and its connection closed.
	MinBodyRate ByteSize `yaml:"min_body_rate"`
}

// Endpoint is one webhook receiver: /hooks/{name} or /hooks/{key}.
type Endpoint struct {
	// Name identifies the endpoint in URLs (unless Key is set), logs,
	// subjects and the API. Letters, digits, '-' and '_'.
	Name string `yaml:"name"`
	// Key, when set, is the unguessable path segment that replaces the
	// name in the URL: /hooks/{key}.
	Key Secret `yaml:"key"`
	// KeyFile names a file holding Key; the loader reads it into Key.
	KeyFile string `yaml:"key_file"`
	// Provider is the forge id (github, gitlab, gitea, forgejo, gogs, generic, ...).
	Provider string `yaml:"provider"`
	// Secrets: any may match, for rotation.
	Secrets []Secret `yaml:"secrets"`
	// SecretFiles names files that each hold one more secret; the loader
	// appends their contents to Secrets.
	SecretFiles []string `yaml:"secrets_file"`
	// Insecure must be true for an endpoint without secrets.
	Insecure bool `yaml:"insecure"`
	// AllowIPs restricts the client address (CIDR prefixes or presets).
	AllowIPs []string `yaml:"allow_ips"`
	// MaxBody caps the request body (default 25MiB).
	MaxBody ByteSize `yaml:"max_body"`
	// RateLimit caps requests per second (0: none) with a burst.
	RateLimit RateLimit `yaml:"rate_limit"`
	// Tolerance is the accepted clock skew for signed timestamps (Standard
	// Webhooks: default 5m).
	Tolerance Duration `yaml:"tolerance"`
	// LegacySHA1 accepts GitHub's X-Hub-Signature (HMAC-SHA1) when no
	// X-Hub-Signature-256 is sent. Off by default.
	LegacySHA1 bool `yaml:"legacy_sha1"`
	// Generic configures the generic provider's scheme.
	Generic *Generic `yaml:"generic"`
	// Manage, when present, lets `forgehook hooks` manage this endpoint's
	// hooks on the forge (hooks.go); absent, the endpoint is listen-only
	// and never causes a call to a forge.
	Manage *Manage `yaml:"manage"`
	// Recover, when present, configures the recovery of deliveries the
	// forge failed to make (hooks.go).
	Recover *Recover `yaml:"recover"`

	// Line is the line of the endpoint in the file, for messages.
	Line int `yaml:"-"`
}

// Generic configures the generic provider: an HMAC signature header, a
// static token in a header or query parameter, or HTTP Basic auth. Every
// configured scheme that the request uses is checked; at least one must
// be configured.
type Generic struct {
	// SignatureHeader is the header carrying an HMAC of the body.
	SignatureHeader string `yaml:"signature_header"`
	// Algorithm is the HMAC's hash: sha1, sha256 (default), sha512.
	Algorithm string `yaml:"algorithm"`
	// Encoding is the signature's encoding: hex (default), base64.
	Encoding string `yaml:"encoding"`
	// Prefix precedes the encoded signature, e.g. "sha256=".
	Prefix string `yaml:"prefix"`
	// TokenHeader is a header carrying one of the secrets as is.
	TokenHeader string `yaml:"token_header"`
	// TokenQuery is a query parameter carrying one of the secrets as is.
	TokenQuery string `yaml:"token_query"`
	// BasicAuth checks HTTP Basic credentials against the secrets, each
	// written "user:password".
	BasicAuth bool `yaml:"basic_auth"`
	// EventHeader names the header that holds the event name, if any.
	EventHeader string `yaml:"event_header"`
	// DeliveryHeader names the header that holds a delivery id, if any.
	DeliveryHeader string `yaml:"delivery_header"`
}

// RateLimit is a token bucket.
type RateLimit struct {
	// PerSecond is the sustained rate of requests; 0 means no limit.
	PerSecond float64 `yaml:"per_second"`
	// Burst is the bucket's size: requests allowed at once.
	Burst int `yaml:"burst"`
}

// Trigger routes matching events to one action (package trigger builds it,
// package deliver runs it); see docs/actions.md.
type Trigger struct {
	// Name identifies the trigger (its durable consumer, dead letters,
	// the API). Letters, digits, '-' and '_'.
	Name string `yaml:"name"`
	// When is a CEL expression over the event; empty matches every event.
	When string `yaml:"when"`
	// HTTP, Exec, NATS and Log are the action blocks; exactly one is
	// non-nil. A key given with no value ("log:") is an empty, non-nil
	// block.
	HTTP *HTTPAction `yaml:"http"`
	Exec *ExecAction `yaml:"exec"`
	NATS *NATSAction `yaml:"nats"`
	Log  *LogAction  `yaml:"log"`
	// Retry is the retry policy.
	Retry Retry `yaml:"retry"`
	// Concurrency is how many events the action handles at once (default 1).
	Concurrency int `yaml:"concurrency"`
	// Line is the line of the trigger in the file, for messages.
	Line int `yaml:"-"`
}

// Retry is a trigger's retry policy.
type Retry struct {
	// MaxAttempts is the number of attempts before an event is
	// dead-lettered (default 10).
	MaxAttempts int `yaml:"max_attempts"`
	// Initial is the first backoff (default 1s); each next one doubles,
	// up to Max (default 1h).
	Initial Duration `yaml:"initial"`
	Max     Duration `yaml:"max"`
	// MaxAge dead-letters an event whose first attempt is older than this,
	// whatever the attempt count (0: no limit).
	MaxAge Duration `yaml:"max_age"`
}

// HTTPAction is the http action's block (package action/httpaction).
type HTTPAction struct {
	// URL is the target, http or https (required). Userinfo in it is sent
	// as HTTP Basic credentials and never shown.
	URL string `yaml:"url"`
	// Format is cloudevents (default), binary or original.
	Format string `yaml:"format"`
	// Secret signs each request: Standard Webhooks headers for the
	// CloudEvents formats, the forge's own scheme for original.
	Secret Secret `yaml:"secret"`
	// SecretFile names a file holding Secret; the loader reads it into
	// Secret.
	SecretFile string `yaml:"secret_file"`
	// Headers are extra request headers. Their values may be credentials
	// and are never shown.
	Headers map[string]Secret `yaml:"headers"`
	// Timeout bounds one request, from connecting to reading the
	// response (default 30s).
	Timeout Duration `yaml:"timeout"`
	// RetryOn lists more statuses (4xx) whose failures are retried.
	RetryOn []int `yaml:"retry_on"`
	// Method is POST (default), PUT or PATCH.
	Method string `yaml:"method"`
}

// ExecAction is the exec action's block (package action/execaction).
type ExecAction struct {
	// Command is the program and its arguments (required); no shell.
	Command []string `yaml:"command"`
	// Dir is the working directory (default: forgehook's).
	Dir string `yaml:"dir"`
	// Env are more variables for the command. Their values may be
	// credentials and are never shown; those of credential-like names
	// are masked in the captured output.
	Env map[string]Secret `yaml:"env"`
	// Timeout bounds one run (default 10m).
	Timeout Duration `yaml:"timeout"`
	// OutputLimit is how much of a run's output (its tail) is kept
	// (default 64KiB, at most 1GiB).
	OutputLimit ByteSize `yaml:"output_limit"`
	// Serialize is a CEL expression whose value keys runs that never
	// overlap; empty for none.
	Serialize string `yaml:"serialize"`
	// Coalesce, with Serialize, runs only the newest waiting event of a
	// key.
	Coalesce bool `yaml:"coalesce"`
}

// NATSAction is the nats action's block (package action/natsaction).
type NATSAction struct {
	// Subject is the subject to publish to (required). It may contain the
	// placeholders {endpoint}, {forge} and {kind}.
	Subject string `yaml:"subject"`
	// URL is another NATS server (nats://[user:pass@]host:port, several
	// separated by commas); empty means the store's connection.
	URL string `yaml:"url"`
	// Headers are extra message headers. Their values are never shown.
	Headers map[string]Secret `yaml:"headers"`
}

// LogAction is the log action's block (package action/logaction).
type LogAction struct {
	// Format is text (default) or json.
	Format string `yaml:"format"`
}

// Duration is a time.Duration written as "30s", "72h", or with days, "7d"
// (see ParseDuration).
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// ByteSize is a size in bytes written as 1048576, "512KiB", "25MiB", "1GiB"
// (or KB, MB, GB as powers of 1000; see ParseByteSize).
type ByteSize int64
