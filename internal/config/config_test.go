package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// testProviders is the forge registry the tests load against.
func testProviders(id string) bool {
	switch id {
	case "github", "gitlab", "gitea", "forgejo", "gogs", "gitee", "bitbucket", "bitbucket-server",
		"coding", "atomgit", "dockerhub", "harbor", "generic":
		return true
	}
	return false
}

// testOptions returns Options that read env and files from maps, never from
// the process or the disk.
func testOptions(env, files map[string]string) Options {
	return Options{
		Providers: testProviders,
		Getenv: func(k string) (string, bool) {
			v, ok := env[k]
			return v, ok
		},
		ReadFile: func(name string) ([]byte, error) {
			if v, ok := files[name]; ok {
				return []byte(v), nil
			}
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		},
	}
}

// errorLines returns the lines of err, or nil for a nil error, failing the
// test if err is not Errors.
func errorLines(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error is %T, not Errors: %v", err, err)
	}
	return strings.Split(err.Error(), "\n")
}

// valid is a minimal endpoint block that is clean, for tables to extend.
const valid = `endpoints:
  - name: ok
    provider: github
    secrets: [s3cret]
`

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		yaml  string
		env   map[string]string
		files map[string]string
		want  []string
	}{
		{
			name: "unknown provider",
			yaml: `listen: ":8080"
admin:
  listen: "127.0.0.1:8081"
data_dir: ./data
endpoints:
  - name: acme
    provider: gihub
    secrets: [x]
`,
			want: []string{`f.yaml:7: endpoints[0].provider: unknown provider "gihub"`},
		},
		{
			name: "unknown keys with suggestions",
			yaml: "listn: \":8080\"\nstore:\n  sinc: always\n  frobnicate: 1\n" + valid + "    secret: [x]\n",
			want: []string{
				`f.yaml:1: listn: unknown key (did you mean "listen"?)`,
				`f.yaml:3: store.sinc: unknown key (did you mean "sync"?)`,
				`f.yaml:4: store.frobnicate: unknown key`,
				`f.yaml:9: endpoints[0].secret: unknown key (did you mean "secrets"?)`,
			},
		},
		{
			name: "wrong types",
			yaml: "listen: [1]\nstore:\n  replicas: three\n  retention: {a: 1}\nendpoints:\n  - name: x\n    provider: github\n    secrets: s3cret\n    insecure: yes\n    rate_limit: {per_second: fast, burst: 1.5}\ntriggers: {}\n",
			want: []string{
				`f.yaml:1: listen: expected a string, got a list`,
				`f.yaml:3: store.replicas: expected an integer, got "three"`,
				`f.yaml:4: store.retention: expected a duration, got a mapping`,
				`f.yaml:8: endpoints[0].secrets: expected a list, got a string`,
				`f.yaml:9: endpoints[0].insecure: expected true or false, got "yes"`,
				`f.yaml:10: endpoints[0].rate_limit.per_second: expected a number, got "fast"`,
				`f.yaml:10: endpoints[0].rate_limit.burst: expected an integer, got "1.5"`,
				`f.yaml:11: triggers: expected a list, got a mapping`,
			},
		},
		{
			name: "duplicate keys",
			yaml: "store:\n  sync: always\n  sync: interval\n" + valid + "    provider: gitlab\n",
			want: []string{
				`f.yaml:3: store.sync: duplicate key (first at line 2)`,
				`f.yaml:8: endpoints[0].provider: duplicate key (first at line 6)`,
			},
		},
		{
			name: "syntax error",
			yaml: "listen: \":8080\"\nendpoints: [\n",
			want: []string{`f.yaml:2: syntax error: did not find expected node content`},
		},
		{
			name: "not a mapping",
			yaml: "- listen\n",
			want: []string{`f.yaml:1: expected a mapping, got a list`},
		},
		{
			name: "two documents",
			yaml: "listen: \":8080\"\n---\nlisten: \":9090\"\n",
			want: []string{`f.yaml:2: only one YAML document is allowed`},
		},
		{
			name: "unsupported tag",
			yaml: "data_dir: !!binary ZGF0YQ==\n",
			want: []string{`f.yaml:1: data_dir: unsupported tag !!binary`},
		},
		{
			name: "alias that contains itself",
			yaml: valid + "triggers:\n  - name: t\n    http: &h {url: \"http://x\", headers: *h}\n",
			want: []string{`f.yaml:7: triggers[0].http.headers: anchor "h" contains itself`},
		},
		{
			name: "listeners",
			yaml: "listen: \"8080\"\nadmin:\n  listen: \"127.0.0.1:99999\"\n",
			want: []string{
				`f.yaml:1: listen: "8080" is not host:port (such as ":8080" or "127.0.0.1:8081")`,
				`f.yaml:3: admin.listen: port "99999" is not a number from 0 to 65535`,
			},
		},
		{
			name: "admin token required beyond loopback",
			yaml: "admin:\n  listen: \":8081\"\n",
			want: []string{`f.yaml:2: admin.token: required when admin.listen is not a loopback address (":8081"): the admin API reads and replays events; set admin.token or admin.token_file, or listen on 127.0.0.1`},
		},
		{
			name: "admin hosts",
			yaml: "admin:\n  hosts: [\"forgehook.example.com\", \"*.internal\", \"*\", \"10.0.0.1\", \"[::1]\", \"http://x\", \"x.example:8081\", \"\", \"-a.example\"]\n",
			want: []string{
				`f.yaml:2: admin.hosts[5]: "http://x" is not a host name, an IP address, "*.domain" or "*" (no scheme, no port)`,
				`f.yaml:2: admin.hosts[6]: "x.example:8081" is not a host name, an IP address, "*.domain" or "*" (no scheme, no port)`,
				`f.yaml:2: admin.hosts[7]: "" is not a host name, an IP address, "*.domain" or "*" (no scheme, no port)`,
				`f.yaml:2: admin.hosts[8]: "-a.example" is not a host name, an IP address, "*.domain" or "*" (no scheme, no port)`,
			},
		},
		{
			name: "admin and ingest on one address",
			yaml: "listen: \"127.0.0.1:8080\"\nadmin:\n  listen: \"127.0.0.1:8080\"\n",
			want: []string{`f.yaml:3: admin.listen: same address as listen ("127.0.0.1:8080")`},
		},
		{
			name: "store",
			yaml: `store:
  replicas: 3
  retention: -1h
  dedup_window: 7days
  sync: fsync
  ack_timeout: 0s
  token: t
  embedded:
    listen: nowhere
`,
			want: []string{
				`f.yaml:2: store.replicas: 3 replicas need an external NATS cluster (store.url); the embedded server is a single node`,
				`f.yaml:3: store.retention: must be greater than 0`,
				`f.yaml:4: store.dedup_window: invalid duration "7days" (write a number and a unit: 30s, 5m, 72h, 7d)`,
				`f.yaml:5: store.sync: "fsync" is not one of interval, always`,
				`f.yaml:7: store.token: only used with an external server (store.url)`,
				`f.yaml:9: store.embedded.listen: "nowhere" is not host:port (such as ":8080" or "127.0.0.1:8081")`,
			},
		},
		{
			name: "store ack_timeout past half the retention",
			yaml: "store:\n  retention: 10s\n  ack_timeout: 6s\n",
			want: []string{`f.yaml:3: store.ack_timeout: 6s: twice it (the EVENTS stream's duplicate window) must not exceed store.retention (10s)`},
		},
		{
			name: "store url",
			yaml: "store:\n  url: \"nats://a:4222,http://user:pw@b:80?token=t,tls://\"\n  replicas: 6\n",
			want: []string{
				`f.yaml:2: store.url: entry 2: "http://xxxxx@b:80?token=xxxxx" is not a nats://, tls://, ws:// or wss:// URL`,
				`f.yaml:2: store.url: entry 3: "tls:" has no host`,
				`f.yaml:3: store.replicas: 6 is not from 1 to 5`,
			},
		},
		{
			name: "trusted proxies",
			yaml: "trusted_proxies: [10.0.0.0/8, 10.0.0.0/33, proxy]\n",
			want: []string{
				`f.yaml:1: trusted_proxies[1]: "10.0.0.0/33" is not an IP address or CIDR prefix`,
				`f.yaml:1: trusted_proxies[2]: "proxy" is not an IP address or CIDR prefix`,
			},
		},
		{
			name: "server timeouts",
			yaml: "server:\n  read_timeout: -5s\n  idle_timeout: 30\n",
			want: []string{
				`f.yaml:2: server.read_timeout: must not be negative`,
				`f.yaml:3: server.idle_timeout: invalid duration "30" (write a number and a unit: 30s, 5m, 72h, 7d)`,
			},
		},
		{
			name: "server limits",
			yaml: "server:\n  unauthenticated_rate_limit:\n    per_second: -1\n  max_concurrent_per_source: -2\n  min_body_rate: -1\n",
			want: []string{
				`f.yaml:3: server.unauthenticated_rate_limit.per_second: must be greater than 0`,
				`f.yaml:4: server.max_concurrent_per_source: must be greater than 0`,
				`f.yaml:5: server.min_body_rate: invalid size "-1": write a number of bytes, optionally with a unit: B, KiB, MiB, GiB, TiB (powers of 1024) or KB, MB, GB, TB (powers of 1000)`,
			},
		},
		{
			name: "endpoint names",
			yaml: `endpoints:
  - provider: github
    insecure: true
  - name: "-bad"
    provider: github
    insecure: true
  - name: dup
    provider: github
    insecure: true
  - name: dup
    provider: github
    insecure: true
`,
			want: []string{
				`f.yaml:2: endpoints[0].name: required`,
				`f.yaml:4: endpoints[1].name: "-bad" must be 1 to 64 letters, digits, '-' or '_', starting with a letter or digit`,
				`f.yaml:10: endpoints[3].name: duplicate endpoint name "dup" (endpoints[2], line 7)`,
			},
		},
		{
			name: "endpoint keys",
			yaml: `endpoints:
  - name: a
    key: short
    provider: github
    insecure: true
  - name: b
    key: "not/safe/in/a/path!"
    provider: github
    insecure: true
  - name: c
    key: 0123456789abcdef
    provider: github
    insecure: true
  - name: 0123456789abcdefgh
    key: 0123456789abcdef
    provider: github
    insecure: true
  - name: e
    key: 0123456789abcdefgh
    provider: github
    insecure: true
`,
			want: []string{
				`f.yaml:3: endpoints[0].key: too short: use at least 16 characters (e.g. from ` + "`openssl rand -hex 16`)",
				`f.yaml:7: endpoints[1].key: may hold only letters, digits, '-' and '_', to be safe in a URL path`,
				`f.yaml:15: endpoints[3].key: same key as endpoints[2]`,
				`f.yaml:19: endpoints[4].key: same as the name of endpoints[3]: keys and names share /hooks/`,
			},
		},
		{
			name: "endpoint secrets",
			yaml: `endpoints:
  - name: none
    provider: gitlab
  - name: both
    provider: gitlab
    secrets: [x]
    insecure: true
  - name: empty
    provider: gitea
    secrets: ["", x]
  - provider: github
`,
			want: []string{
				`f.yaml:2: endpoints[0]: no secrets: set secrets (or secrets_file), or insecure: true to accept unauthenticated deliveries`,
				`f.yaml:7: endpoints[1].insecure: true, but secrets are set: remove one or the other`,
				`f.yaml:10: endpoints[2].secrets[0]: empty secret`,
				`f.yaml:11: endpoints[3].name: required`,
				`f.yaml:11: endpoints[3]: no secrets: set secrets (or secrets_file), or insecure: true to accept unauthenticated deliveries`,
			},
		},
		{
			name: "endpoint limits",
			yaml: `endpoints:
  - name: a
    provider: ""
    secrets: [x]
    allow_ips: [192.30.252.0/22, "2001:db8::1", github-hooks]
    max_body: 2GiB
    rate_limit: {per_second: -1, burst: -2}
    tolerance: -5m
  - name: b
    provider: gitlab
    secrets: [x]
    max_body: 25 MB/s
    legacy_sha1: true
`,
			want: []string{
				`f.yaml:3: endpoints[0].provider: required`,
				`f.yaml:5: endpoints[0].allow_ips[2]: "github-hooks" is not an IP address, CIDR prefix or preset name`,
				`f.yaml:6: endpoints[0].max_body: 2GiB is more than the limit of 1GiB`,
				`f.yaml:7: endpoints[0].rate_limit.per_second: must not be negative`,
				`f.yaml:7: endpoints[0].rate_limit.burst: must not be negative`,
				`f.yaml:8: endpoints[0].tolerance: must not be negative`,
				`f.yaml:12: endpoints[1].max_body: invalid size "25 MB/s": write a number of bytes, optionally with a unit: B, KiB, MiB, GiB, TiB (powers of 1024) or KB, MB, GB, TB (powers of 1000)`,
				`f.yaml:13: endpoints[1].legacy_sha1: only for provider github`,
			},
		},
		{
			name: "generic",
			yaml: `endpoints:
  - name: a
    provider: github
    secrets: [x]
    generic: {token_header: X-Token}
  - name: b
    provider: generic
    secrets: [x]
  - name: c
    provider: generic
    secrets: [x]
    generic:
      algorithm: md5
      encoding: base32
  - name: d
    provider: generic
    secrets: [x]
    generic:
      signature_header: "X Sig"
  - name: e
    provider: generic
    insecure: true
`,
			want: []string{
				`f.yaml:5: endpoints[0].generic: only for provider generic`,
				`f.yaml:6: endpoints[1]: provider generic needs a generic block (signature_header, token_header, token_query or basic_auth), or insecure: true`,
				`f.yaml:12: endpoints[2].generic: set at least one of signature_header, token_header, token_query, basic_auth`,
				`f.yaml:13: endpoints[2].generic.algorithm: "md5" is not one of sha1, sha256, sha512`,
				`f.yaml:14: endpoints[2].generic.encoding: "base32" is not one of hex, base64`,
				`f.yaml:19: endpoints[3].generic.signature_header: "X Sig" is not a valid HTTP header name`,
			},
		},
		{
			name: "triggers",
			yaml: valid + `triggers:
  - when: 'true'
    log: {}
  - name: two
    http: {url: "https://x"}
    exec: {command: [a]}
  - name: none
  - name: two
    log:
    concurrency: -1
  - name: "bad name"
    nats: {subject: x}
`,
			want: []string{
				`f.yaml:6: triggers[0].name: required`,
				`f.yaml:10: triggers[1].exec: more than one action (http, exec): set exactly one`,
				`f.yaml:11: triggers[2]: no action: set one of http, exec, nats, log`,
				`f.yaml:12: triggers[3].name: duplicate trigger name "two" (triggers[1], line 8)`,
				`f.yaml:14: triggers[3].concurrency: must be at least 1`,
				`f.yaml:15: triggers[4].name: "bad name" must be 1 to 64 letters, digits, '-' or '_', starting with a letter or digit`,
			},
		},
		{
			name: "environment",
			yaml: "admin:\n  listen: \"${ADMIN_ADDR}\"\n  token: \"${ADMIN_TOKEN}\"\n" + valid + "    max_body: ${MAX_BODY:-2GiB}\n    allow_ips: [\"${BAD\"]\n",
			env:  map[string]string{"ADMIN_ADDR": "0.0.0.0:8081"},
			want: []string{
				`f.yaml:3: admin.token: environment variable ADMIN_TOKEN is not set (use ${ADMIN_TOKEN:-default} for a fallback)`,
				`f.yaml:8: endpoints[0].max_body: 2GiB is more than the limit of 1GiB`,
				`f.yaml:9: endpoints[0].allow_ips[0]: malformed ${...} reference (write ${NAME} or ${NAME:-default}; $$ is a literal $)`,
			},
		},
		{
			name:  "secret files",
			files: map[string]string{"/run/secrets/empty": "\n", "/run/secrets/token": "tok\n"},
			yaml: `admin:
  token: direct
  token_file: /run/secrets/token
store:
  url: nats://n:4222
  token_file: /run/secrets/missing
endpoints:
  - name: a
    provider: github
    key: 0123456789abcdef
    key_file: /run/secrets/token
    secrets_file:
      - /run/secrets/empty
      - /run/secrets/absent
`,
			want: []string{
				`f.yaml:3: admin.token_file: set either token or token_file, not both`,
				`f.yaml:6: store.token_file: cannot read "/run/secrets/missing": file does not exist`,
				`f.yaml:11: endpoints[0].key_file: set either key or key_file, not both`,
				`f.yaml:13: endpoints[0].secrets_file[0]: "/run/secrets/empty" is empty`,
				`f.yaml:14: endpoints[0].secrets_file[1]: cannot read "/run/secrets/absent": file does not exist`,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("f.yaml", []byte(tc.yaml), testOptions(tc.env, tc.files))
			got := errorLines(t, err)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if c != nil {
				t.Errorf("Parse returned a Config with errors")
			}
		})
	}
}

func TestConfigAllErrorsAtOnce(t *testing.T) {
	// Four problems of four kinds (validation, type, unknown key, unset
	// variable), found in different passes, reported together in line order.
	const doc = `store:
  sync: sometimes
endpoints:
  - name: acme
    provider: github
    secrets: ["${MISSING_SECRET}"]
    max_body: lots
triggers:
  - name: t
    log: {}
    retries: 3
`
	_, err := Parse("f.yaml", []byte(doc), testOptions(nil, nil))
	want := []string{
		`f.yaml:2: store.sync: "sometimes" is not one of interval, always`,
		`f.yaml:6: endpoints[0].secrets[0]: environment variable MISSING_SECRET is not set (use ${MISSING_SECRET:-default} for a fallback)`,
		`f.yaml:7: endpoints[0].max_body: invalid size "lots": write a number of bytes, optionally with a unit: B, KiB, MiB, GiB, TiB (powers of 1024) or KB, MB, GB, TB (powers of 1000)`,
		`f.yaml:11: triggers[0].retries: unknown key (did you mean "retry"?)`,
	}
	if got := errorLines(t, err); !reflect.DeepEqual(got, want) {
		t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var errs Errors
	errors.As(err, &errs)
	for i, fe := range errs {
		if fe.File != "f.yaml" || fe.Line == 0 || fe.Field == "" {
			t.Errorf("errs[%d] = %+v: want file, line and field", i, fe)
		}
	}
	var fe FieldError
	if !errors.As(err, &fe) || fe.Field != "store.sync" {
		t.Errorf("errors.As(FieldError) = %+v, want the first problem", fe)
	}
}

func TestConfigExpandEnv(t *testing.T) {
	env := map[string]string{"A": "alpha", "EMPTY": "", "N": "3"}
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "plain", want: "plain"},
		{in: "${A}", want: "alpha"},
		{in: "x-${A}-${N}", want: "x-alpha-3"},
		{in: "${EMPTY}", want: ""},
		{in: "${UNSET:-fallback}", want: "fallback"},
		{in: "${EMPTY:-fallback}", want: "fallback"},
		{in: "${A:-fallback}", want: "alpha"},
		{in: "${UNSET:-}", want: ""},
		{in: "$${A}", want: "${A}"},
		{in: "$$", want: "$"},
		{in: "pa$$word", want: "pa$word"},
		{in: "pa$word", want: "pa$word"},
		{in: "cost: 5$", want: "cost: 5$"},
		{in: "$$$${A}", want: "$${A}"},
		{in: "$$${A}", want: "$alpha"},
		{in: "${UNSET}", err: "environment variable UNSET is not set (use ${UNSET:-default} for a fallback)"},
		{in: "${A", err: errBadReference.Error()},
		{in: "${}", err: errBadReference.Error()},
		{in: "${1A}", err: errBadReference.Error()},
		{in: "${A B}", err: errBadReference.Error()},
	} {
		got, err := expandEnv(tc.in, getenv)
		switch {
		case tc.err != "" && (err == nil || err.Error() != tc.err):
			t.Errorf("expandEnv(%q) error = %v, want %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("expandEnv(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestConfigEnvInParse(t *testing.T) {
	const doc = `listen: "${LISTEN:-:9000}"
data_dir: "$${HOME}/data"
store:
  replicas: ${REPLICAS}
  url: ${NATS_URL}
endpoints:
  - name: ${NAME}
    provider: github
    secrets: ["${SECRET}", "literal$$dollar"]
triggers:
  - name: t
    http: {url: "https://${HOST}/hook", headers: {X-Env: "${NAME}"}}
`
	env := map[string]string{"REPLICAS": "3", "NATS_URL": "nats://a:4222,nats://b:4222", "NAME": "acme", "SECRET": "s1", "HOST": "deployer"}
	c, err := Parse("f.yaml", []byte(doc), testOptions(env, nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != ":9000" || c.DataDir != "${HOME}/data" || c.Store.Replicas != 3 || c.Store.URL != env["NATS_URL"] {
		t.Errorf("listen %q data_dir %q replicas %d url %q", c.Listen, c.DataDir, c.Store.Replicas, c.Store.URL)
	}
	ep := c.Endpoints[0]
	if ep.Name != "acme" || len(ep.Secrets) != 2 || ep.Secrets[0].Reveal() != "s1" || ep.Secrets[1].Reveal() != "literal$dollar" {
		t.Errorf("endpoint %q secrets %d", ep.Name, len(ep.Secrets))
	}
	if got := c.Triggers[0].HTTP.URL; got != "https://deployer/hook" {
		t.Errorf("http.url = %v", got)
	}
	if got := c.Triggers[0].HTTP.Headers["X-Env"].Reveal(); got != "acme" {
		t.Errorf("http.headers.X-Env = %v", got)
	}
}

func TestConfigSecretFiles(t *testing.T) {
	const doc = `admin:
  listen: "0.0.0.0:8081"
  token_file: /run/secrets/admin
store:
  url: nats://n:4222
  token_file: /run/secrets/nats
endpoints:
  - name: a
    provider: github
    key_file: /run/secrets/key
    secrets: [from-yaml]
    secrets_file: [/run/secrets/new, /run/secrets/crlf]
  - name: b
    provider: gitlab
    secrets_file: [/run/secrets/only]
`
	files := map[string]string{
		"/run/secrets/admin": "admin-token\n",
		"/run/secrets/nats":  "nats-token",
		"/run/secrets/key":   "0123456789abcdef0123\n",
		"/run/secrets/new":   "new-secret\n\n",
		"/run/secrets/crlf":  "crlf-secret\r\n",
		"/run/secrets/only":  "only one\n",
	}
	c, err := Parse("f.yaml", []byte(doc), testOptions(nil, files))
	if err != nil {
		t.Fatal(err)
	}
	reveal := func(ss []Secret) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.Reveal())
		}
		return out
	}
	if got := c.Admin.Token.Reveal(); got != "admin-token" {
		t.Errorf("admin.token = %q", got)
	}
	if got := c.Store.Token.Reveal(); got != "nats-token" {
		t.Errorf("store.token = %q", got)
	}
	if got := c.Endpoints[0].Key.Reveal(); got != "0123456789abcdef0123" {
		t.Errorf("endpoints[0].key = %q", got)
	}
	if got, want := reveal(c.Endpoints[0].Secrets), []string{"from-yaml", "new-secret", "crlf-secret"}; !reflect.DeepEqual(got, want) {
		t.Errorf("endpoints[0].secrets = %q, want %q", got, want)
	}
	if got, want := reveal(c.Endpoints[1].Secrets), []string{"only one"}; !reflect.DeepEqual(got, want) {
		t.Errorf("endpoints[1].secrets = %q, want %q", got, want)
	}
	if c.Admin.TokenFile != "/run/secrets/admin" {
		t.Errorf("admin.token_file = %q, want it kept", c.Admin.TokenFile)
	}
}

func TestConfigDefaults(t *testing.T) {
	d := Default()
	want := &Config{
		Listen:  ":8080",
		Admin:   Admin{Listen: "127.0.0.1:8081"},
		DataDir: "./forgehook-data",
		Store: Store{
			Replicas:    1,
			Retention:   Duration(168 * time.Hour),
			DedupWindow: Duration(72 * time.Hour),
			Sync:        "interval",
			AckTimeout:  Duration(5 * time.Second),
		},
		Server: Server{
			ReadHeaderTimeout:        Duration(10 * time.Second),
			ReadTimeout:              Duration(60 * time.Second),
			WriteTimeout:             Duration(60 * time.Second),
			IdleTimeout:              Duration(120 * time.Second),
			MaxBodyInFlight:          32 * MiB,
			UnauthenticatedRateLimit: RateLimit{PerSecond: 1, Burst: 20},
			MaxConcurrentPerSource:   8,
			MinBodyRate:              16 * KiB,
		},
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("Default() = %+v\nwant %+v", d, want)
	}
	if err := d.Validate(Options{}); err != nil {
		t.Errorf("Default().Validate: %v", err)
	}

	// An empty file, and one with only comments, are the defaults.
	for _, doc := range []string{"", "# nothing yet\n", "---\n", "~\n"} {
		c, err := Parse("f.yaml", []byte(doc), testOptions(nil, nil))
		if err != nil {
			t.Fatalf("Parse(%q): %v", doc, err)
		}
		c.File, c.lines = "", nil
		if !reflect.DeepEqual(c, want) {
			t.Errorf("Parse(%q) = %+v, want the defaults", doc, c)
		}
	}

	// Per endpoint and trigger; an explicit value is kept; 0 means the default.
	const doc = `store:
  replicas: 0
  retention: 24h
endpoints:
  - name: a
    provider: github
    secrets: [x]
  - name: b
    provider: generic
    secrets: [x]
    max_body: 1KB
    generic: {token_header: X-Token}
triggers:
  - name: t
    log: {}
  - name: u
    log: {}
    concurrency: 8
`
	c, err := Parse("f.yaml", []byte(doc), testOptions(nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Store.Replicas != 1 || c.Store.Retention.D() != 24*time.Hour {
		t.Errorf("store = %+v", c.Store)
	}
	if c.Endpoints[0].MaxBody != 25*MiB || c.Endpoints[0].Tolerance != 0 || c.Endpoints[1].MaxBody != 1000 {
		t.Errorf("max_body %d, %d; tolerance %v", c.Endpoints[0].MaxBody, c.Endpoints[1].MaxBody, c.Endpoints[0].Tolerance)
	}
	if g := c.Endpoints[1].Generic; g.Algorithm != "sha256" || g.Encoding != "hex" {
		t.Errorf("generic = %+v", g)
	}
	if c.Triggers[0].Concurrency != 1 || c.Triggers[1].Concurrency != 8 {
		t.Errorf("concurrency %d, %d", c.Triggers[0].Concurrency, c.Triggers[1].Concurrency)
	}
	if c.Endpoints[0].Line != 5 || c.Endpoints[1].Line != 8 || c.Triggers[0].Line != 14 || c.Triggers[1].Line != 16 {
		t.Errorf("lines: endpoints %d %d, triggers %d %d", c.Endpoints[0].Line, c.Endpoints[1].Line, c.Triggers[0].Line, c.Triggers[1].Line)
	}
	before := fmt.Sprintf("%+v", *c)
	c.ApplyDefaults()
	if after := fmt.Sprintf("%+v", *c); after != before {
		t.Errorf("ApplyDefaults is not idempotent:\n%s\n%s", before, after)
	}
}

func TestConfigNoSecretLeak(t *testing.T) {
	const secret = "hunter2-very-secret"
	// The secret appears as a literal, through the environment and through
	// files, in every secret field, next to problems in the same fields.
	const doc = `listen: nowhere
admin:
  listen: "0.0.0.0:8081"
  token: hunter2-very-secret
  token_file: /run/secrets/admin
store:
  token: ${SECRET}
  url: "http://admin:hunter2-very-secret@nats:4222,nats://hunter2-very-secret@x:4222"
endpoints:
  - name: a
    provider: gihub
    key: "hunter2-very-secret!"
    secrets: [hunter2-very-secret, "${SECRET}", {x: hunter2-very-secret}]
    secrets_file: [/run/secrets/s]
    insecure: true
  - name: b
    provider: github
    key: hunter2-very-secret
    key_file: /run/secrets/s
    secrets: hunter2-very-secret
  - name: c
    provider: github
    key: ${SECRET}
    secrets: ["${SECRET}"]
  - name: d
    provider: github
    key: ${SECRET}
    secrets: ["${SECRET}${NOPE}", "${SECRET"]
triggers:
  - name: t
    http: {url: "https://u:hunter2-very-secret@x/?token=hunter2-very-secret", secret: hunter2-very-secret}
    exec: {command: [x], env: {API_TOKEN: hunter2-very-secret}}
`
	opts := testOptions(map[string]string{"SECRET": secret}, map[string]string{"/run/secrets/admin": secret, "/run/secrets/s": secret + "\n"})
	_, err := Parse("f.yaml", []byte(doc), opts)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if strings.Contains(msg, "hunter2") {
		t.Errorf("error leaks the secret:\n%s", msg)
	}
	if n := len(strings.Split(msg, "\n")); n < 12 {
		t.Errorf("only %d problems found:\n%s", n, msg)
	}

	// A clean config with the same secrets: Redacted, %v and %+v hide them.
	const clean = `admin:
  listen: "0.0.0.0:8081"
  token: hunter2-very-secret
store:
  url: "nats://admin:hunter2-very-secret@nats:4222,nats://hunter2-very-secret@x:4222"
  token: ${SECRET}
endpoints:
  - name: a
    provider: github
    key: ${SECRET}
    secrets: [hunter2-very-secret]
    secrets_file: [/run/secrets/s]
triggers:
  - name: t
    http:
      url: "https://u:hunter2-very-secret@x/?token=hunter2-very-secret&q=1"
      secret: hunter2-very-secret
      headers: {Authorization: "Bearer hunter2-very-secret"}
  - name: e
    exec: {command: [x], env: {API_TOKEN: hunter2-very-secret, PLAIN: hunter2-very-secret}}
`
	c, err := Parse("f.yaml", []byte(clean), opts)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]string{
		"Redacted": string(out),
		"%v":       fmt.Sprintf("%v", c.Endpoints),
		"%+v":      fmt.Sprintf("%+v", c.Admin),
		"%#v":      fmt.Sprintf("%#v", c.Store.Token),
	} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("%s leaks the secret:\n%s", name, s)
		}
	}
	if !strings.Contains(string(out), "token: <secret>") || !strings.Contains(string(out), "nats://xxxxx@nats:4222,nats://xxxxx@x:4222") ||
		!strings.Contains(string(out), "url: https://xxxxx@x/?token=xxxxx&q=xxxxx") {
		t.Errorf("Redacted:\n%s", out)
	}
}

func TestConfigDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		str  string
	}{
		{"30s", 30 * time.Second, "30s"},
		{"72h", 72 * time.Hour, "72h"},
		{"1h30m", 90 * time.Minute, "1h30m"},
		{"7d", 7 * 24 * time.Hour, "168h"},
		{"1d12h", 36 * time.Hour, "36h"},
		{"1.5d", 36 * time.Hour, "36h"},
		{"0", 0, "0s"},
		{"0d", 0, "0s"},
		{"-1h", -time.Hour, "-1h"},
		{"-2d", -48 * time.Hour, "-48h"},
		{" 5m ", 5 * time.Minute, "5m"},
		{"250ms", 250 * time.Millisecond, "250ms"},
		{"1m0.5s", 60500 * time.Millisecond, "1m0.5s"},
	} {
		d, err := ParseDuration(tc.in)
		if err != nil || d.D() != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tc.in, d.D(), err, tc.want)
			continue
		}
		if d.String() != tc.str {
			t.Errorf("Duration(%v).String() = %q, want %q", tc.want, d.String(), tc.str)
		}
		if back, err := ParseDuration(d.String()); err != nil || back != d {
			t.Errorf("ParseDuration(%q) = %v, %v: does not round-trip", d.String(), back, err)
		}
	}
	for _, in := range []string{"", "30", "7days", "d", "7dd", "1d-2h", "h", "7w", "--1h", "1e3d", "99999999999d", "1d99999999999h", ".d"} {
		if d, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, d.D())
		}
	}
}

func TestConfigByteSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ByteSize
		str  string
	}{
		{"0", 0, "0"},
		{"1048576", 1 << 20, "1MiB"},
		{"512KiB", 512 << 10, "512KiB"},
		{"25MiB", 25 << 20, "25MiB"},
		{"1GiB", 1 << 30, "1GiB"},
		{"2TiB", 2 << 40, "2TiB"},
		{"10MB", 10_000_000, "10MB"},
		{"1KB", 1000, "1KB"},
		{"3GB", 3_000_000_000, "3GB"},
		{"1.5KiB", 1536, "1536"},
		{"25 mib", 25 << 20, "25MiB"},
		{"100B", 100, "100"},
		{"1023", 1023, "1023"},
	} {
		b, err := ParseByteSize(tc.in)
		if err != nil || b != tc.want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", tc.in, b, err, tc.want)
			continue
		}
		if b.String() != tc.str {
			t.Errorf("ByteSize(%d).String() = %q, want %q", b, b.String(), tc.str)
		}
		if back, err := ParseByteSize(b.String()); err != nil || back != b {
			t.Errorf("ParseByteSize(%q) = %d, %v: does not round-trip", b.String(), back, err)
		}
	}
	for _, in := range []string{"", "MiB", "-1", "25M", "25 MB/s", "1.2.3KB", "ten", "9999999999999999999", "9999999TiB", "0x10"} {
		if b, err := ParseByteSize(in); err == nil {
			t.Errorf("ParseByteSize(%q) = %d, want an error", in, b)
		}
	}
}

func TestConfigUnmarshalYAML(t *testing.T) {
	// Duration and ByteSize also decode with the yaml package directly.
	var v struct {
		D Duration `yaml:"d"`
		B ByteSize `yaml:"b"`
	}
	if err := yamlUnmarshal([]byte("d: 7d\nb: 25MiB\n"), &v); err != nil || v.D.D() != 168*time.Hour || v.B != 25*MiB {
		t.Errorf("got %v %v, %v", v.D, v.B, err)
	}
	if err := yamlUnmarshal([]byte("d: 7 days\n"), &v); err == nil || !strings.Contains(err.Error(), `line 1: invalid duration "7 days"`) {
		t.Errorf("bad duration: %v", err)
	}
	if err := yamlUnmarshal([]byte("b: [1]\n"), &v); err == nil || !strings.Contains(err.Error(), "line 1: expected a size, got a list") {
		t.Errorf("bad size: %v", err)
	}
}

func TestConfigExample(t *testing.T) {
	env := map[string]string{
		"FORGEHOOK_ADMIN_TOKEN": "admin-token",
		"GITHUB_HOOK_SECRET":    "gh-secret",
		"GITLAB_HOOK_KEY":       "k3y-0123456789abcdef",
		"GITLAB_HOOK_TOKEN":     "gl-token",
		"REGISTRY_HOOK_SECRET":  "reg-secret",
		"OUT_SECRET":            "out-secret",
	}
	files := map[string]string{"/run/secrets/gitlab-hook-token-next": "gl-token-next\n"}
	data, err := os.ReadFile(filepath.Join("testdata", "example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse("example.yaml", data, testOptions(env, files))
	if err != nil {
		t.Fatalf("example.yaml:\n%v", err)
	}
	if len(c.Endpoints) != 3 || len(c.Triggers) != 3 {
		t.Fatalf("%d endpoints, %d triggers", len(c.Endpoints), len(c.Triggers))
	}
	if got := c.Endpoints[1].Secrets; len(got) != 2 || got[1].Reveal() != "gl-token-next" {
		t.Errorf("gitlab secrets: %d", len(got))
	}
	if c.Store.DedupWindow.D() != 72*time.Hour || c.Endpoints[2].MaxBody != MiB || c.Triggers[0].Concurrency != 4 {
		t.Errorf("dedup %v, max_body %v, concurrency %d", c.Store.DedupWindow, c.Endpoints[2].MaxBody, c.Triggers[0].Concurrency)
	}
	if err := c.Validate(testOptions(nil, nil)); err != nil {
		t.Errorf("re-validate: %v", err)
	}
	// Without the environment, every reference is reported.
	_, err = Parse("example.yaml", data, testOptions(nil, files))
	if n := len(errorLines(t, err)); n != len(env) {
		t.Errorf("without env: %d errors, want %d:\n%v", n, len(env), err)
	}
}

func TestConfigLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "forgehook.yaml")
	if err := os.WriteFile(path, []byte(valid+"    max_body: 1MiB\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path, Options{Providers: testProviders})
	if err != nil {
		t.Fatal(err)
	}
	if c.File != path || c.Endpoints[0].MaxBody != MiB {
		t.Errorf("file %q, max_body %v", c.File, c.Endpoints[0].MaxBody)
	}
	_, err = Load(filepath.Join(dir, "missing.yaml"), Options{})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
	if err := os.WriteFile(path, []byte("listen: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(path, Options{})
	if got, want := fmt.Sprint(err), path+`:1: listen: "1" is not host:port (such as ":8080" or "127.0.0.1:8081")`; got != want {
		t.Errorf("Load: %q, want %q", got, want)
	}
}

func TestConfigValidate(t *testing.T) {
	// A configuration built in code: the quick-start's shape.
	c := Default()
	c.Endpoints = append(c.Endpoints, Endpoint{Name: "quick", Key: "0123456789abcdef0123", Provider: "github", Secrets: []Secret{"s"}})
	c.Triggers = append(c.Triggers, Trigger{Name: "echo", Log: &LogAction{}})
	c.ApplyDefaults()
	if err := c.Validate(Options{Providers: testProviders}); err != nil {
		t.Fatal(err)
	}
	c.Endpoints = append(c.Endpoints, Endpoint{Name: "quick", Provider: "nope", Line: 12, MaxBody: MiB, Insecure: true})
	err := c.Validate(Options{Providers: testProviders})
	want := []string{
		`line 12: endpoints[1].name: duplicate endpoint name "quick" (endpoints[0], line 0)`,
		`line 12: endpoints[1].provider: unknown provider "nope"`,
	}
	if got := errorLines(t, err); !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestConfigAnchors(t *testing.T) {
	const doc = `x-common: &common
  provider: github
  allow_ips: [192.30.252.0/22]
endpoints:
  - <<: *common
    name: a
    secrets: [x]
  - <<: *common
    name: b
    provider: gitlab
    secrets: [y]
`
	// x-common is not a known key: anchors must live inside known keys.
	_, err := Parse("f.yaml", []byte(doc), testOptions(nil, nil))
	if got, want := fmt.Sprint(err), `f.yaml:1: x-common: unknown key`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	const doc2 = `endpoints:
  - &a
    name: a
    provider: github
    secrets: [x]
    allow_ips: &ips [192.30.252.0/22, 140.82.112.0/20]
  - <<: *a
    name: b
    provider: gitlab
  - name: c
    provider: gitea
    insecure: true
    allow_ips: *ips
`
	c, err := Parse("f.yaml", []byte(doc2), testOptions(nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	b := c.Endpoints[1]
	if b.Name != "b" || b.Provider != "gitlab" || len(b.Secrets) != 1 || len(b.AllowIPs) != 2 || len(c.Endpoints[2].AllowIPs) != 2 {
		t.Errorf("merged endpoint %+v", b)
	}
}

// yamlUnmarshal is yaml.Unmarshal, kept apart so the tests above read as
// the loader's API.
func yamlUnmarshal(data []byte, v any) error { return yaml.Unmarshal(data, v) }

func TestConfigAliasBomb(t *testing.T) {
	// Nine levels of ten aliases would be 10^9 values. Every block is
	// typed, so a list of lists is refused for its type before any alias
	// in it is expanded: a few errors, at once.
	var b strings.Builder
	b.WriteString("triggers:\n  - name: t\n    log:\n      a: &a [x, x, x, x, x, x, x, x, x, x]\n")
	for c := 'b'; c <= 'i'; c++ {
		prev := string(c - 1)
		fmt.Fprintf(&b, "      %c: &%c [%s]\n", c, c, strings.TrimSuffix(strings.Repeat("*"+prev+", ", 10), ", "))
	}
	_, err := Parse("f.yaml", []byte(b.String()), testOptions(nil, nil))
	lines := errorLines(t, err)
	if len(lines) != 9 || lines[0] != "f.yaml:4: triggers[0].log.a: unknown key (did you mean \"format\"?)" && lines[0] != "f.yaml:4: triggers[0].log.a: unknown key" {
		t.Errorf("errors: %q", lines)
	}

	// Where a list is expected, each use of an alias still counts.
	b.Reset()
	b.WriteString("trusted_proxies: &p [")
	b.WriteString(strings.TrimSuffix(strings.Repeat("10.0.0.1, ", 1000), ", "))
	b.WriteString("]\nendpoints:\n")
	for i := range 120 {
		fmt.Fprintf(&b, "  - {name: e%d, provider: github, insecure: true, allow_ips: *p}\n", i)
	}
	_, err = Parse("f.yaml", []byte(b.String()), testOptions(nil, nil))
	lines = errorLines(t, err)
	if len(lines) != 1 || !strings.Contains(lines[0], "document too large: more than 100000 values, counting each use of an alias") {
		t.Errorf("errors: %q", lines)
	}
}
