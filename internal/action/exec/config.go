package execaction

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/forgehook/forgehook/internal/action"
	"github.com/forgehook/forgehook/internal/config"
)

// Defaults of the exec block.
const (
	// DefaultTimeout bounds one run when the block sets no timeout.
	DefaultTimeout = 10 * time.Minute
	// DefaultOutputLimit is how much of a run's combined output (its tail)
	// is kept in memory when the block sets no output_limit.
	DefaultOutputLimit = 64 * config.KiB
	// KillGrace is how long a process group has to exit after SIGTERM
	// before it is sent SIGKILL.
	KillGrace = 5 * time.Second
)

// baseEnv names the variables of forgehook's own environment that a
// command inherits. Everything else must be passed explicitly with the
// block's env (for example FOO: "${FOO}"), so that forgehook's own secrets,
// which it reads from its environment through ${VAR} in the configuration,
// never reach a command by accident.
var baseEnv = [...]string{"PATH", "HOME", "LANG", "TMPDIR"}

// reservedEnv are the variables set for every run; the block may not set
// them.
var reservedEnv = [...]string{
	"FORGEHOOK_EVENT_ID", "FORGEHOOK_KIND", "FORGEHOOK_ACTION", "FORGEHOOK_FORGE",
	"FORGEHOOK_FORGE_EVENT", "FORGEHOOK_ENDPOINT", "FORGEHOOK_REPOSITORY", "FORGEHOOK_REF",
	"FORGEHOOK_BRANCH", "FORGEHOOK_TAG", "FORGEHOOK_BEFORE", "FORGEHOOK_AFTER",
	"FORGEHOOK_PR_NUMBER", "FORGEHOOK_TRIGGER", "FORGEHOOK_ATTEMPT",
}

// minSecretLen is the shortest value of a credential-like env variable that
// is masked in the output: masking shorter values ("1", "yes") would only
// garble it.
const minSecretLen = 4

// block is the exec block as written. Values that may come from ${VAR}
// expansion (and so arrive as strings) are decoded by hand.
type block struct {
	Command     json.RawMessage            `json:"command"`
	Dir         string                     `json:"dir"`
	Env         map[string]json.RawMessage `json:"env"`
	Timeout     json.RawMessage            `json:"timeout"`
	OutputLimit json.RawMessage            `json:"output_limit"`
	Coalesce    json.RawMessage            `json:"coalesce"`
}

// settings is a parsed exec block. It holds the values of the block's env,
// which may be credentials: it is never printed or logged.
type settings struct {
	path        string   // command[0] resolved to an absolute path
	args        []string // argv as written
	dir         string   // absolute working directory, "" for forgehook's
	env         []string // KEY=VALUE: the base variables, then the block's
	secrets     [][]byte // values of credential-like env keys, masked in output
	timeout     time.Duration
	outputLimit int
	coalesce    bool
}

// parse decodes and checks an exec block, taking the base variables from
// getenv. Each error starts with the key it is about.
func parse(raw map[string]any, getenv func(string) string) (*settings, error) {
	var b block
	if err := action.Decode(raw, &b); err != nil {
		return nil, err
	}
	s := &settings{timeout: DefaultTimeout, outputLimit: int(DefaultOutputLimit)}

	var err error
	if s.args, err = argv(b.Command); err != nil {
		return nil, err
	}
	if b.Dir != "" {
		if s.dir, err = filepath.Abs(b.Dir); err != nil {
			return nil, fmt.Errorf("dir: %w", err)
		}
		fi, err := os.Stat(s.dir)
		if err != nil {
			return nil, fmt.Errorf("dir: %w", err)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("dir: %s is not a directory", s.dir)
		}
	}
	extra, err := envVars(b.Env)
	if err != nil {
		return nil, err
	}
	for _, name := range baseEnv {
		if v, ok := extra[name]; ok {
			s.env = append(s.env, name+"="+v)
			delete(extra, name)
		} else if v := getenv(name); v != "" {
			s.env = append(s.env, name+"="+v)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(extra)) {
		s.env = append(s.env, name+"="+extra[name])
		if v := extra[name]; len(v) >= minSecretLen && sensitiveKey(name) {
			s.secrets = append(s.secrets, []byte(v))
		}
	}
	// Longest first, so that a secret containing another is masked whole.
	slices.SortStableFunc(s.secrets, func(a, b []byte) int { return len(b) - len(a) })
	pathList := getenv("PATH")
	if v, ok := lookup(s.env, "PATH"); ok {
		pathList = v
	}
	if s.path, err = resolve(s.args[0], s.dir, pathList); err != nil {
		return nil, fmt.Errorf("command: %w", err)
	}

	if text, ok, err := scalar(b.Timeout); err != nil {
		return nil, fmt.Errorf("timeout: %w", err)
	} else if ok {
		d, err := config.ParseDuration(text)
		switch {
		case err != nil:
			return nil, fmt.Errorf("timeout: %w", err)
		case d < 0:
			return nil, fmt.Errorf("timeout: must not be negative")
		case d > 0:
			s.timeout = d.D()
		}
	}
	if text, ok, err := scalar(b.OutputLimit); err != nil {
		return nil, fmt.Errorf("output_limit: %w", err)
	} else if ok {
		n, err := config.ParseByteSize(text)
		switch {
		case err != nil:
			return nil, fmt.Errorf("output_limit: %w", err)
		case n > 1*config.GiB:
			return nil, fmt.Errorf("output_limit: %s is more than 1GiB", n)
		case n > 0:
			s.outputLimit = int(n)
		}
	}
	if text, ok, err := scalar(b.Coalesce); err != nil {
		return nil, fmt.Errorf("coalesce: %w", err)
	} else if ok {
		switch strings.ToLower(text) {
		case "true":
			s.coalesce = true
		case "false", "":
		default:
			return nil, fmt.Errorf("coalesce: %q is not true or false", text)
		}
	}
	return s, nil
}

// argv decodes command: a non-empty list of scalars, the first non-empty.
func argv(raw json.RawMessage) ([]string, error) {
	if isNull(raw) {
		return nil, errors.New("command: required: the program and its arguments as a list, e.g. [./deploy.sh, production]")
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, errors.New("command: must be a list (the program and its arguments; there is no shell)")
	}
	if len(items) == 0 {
		return nil, errors.New("command: must name a program")
	}
	args := make([]string, len(items))
	for i, it := range items {
		v, ok, err := scalar(it)
		if err != nil || !ok {
			return nil, fmt.Errorf("command[%d]: must be a string", i)
		}
		if strings.IndexByte(v, 0) >= 0 {
			return nil, fmt.Errorf("command[%d]: contains a NUL byte", i)
		}
		args[i] = v
	}
	if args[0] == "" {
		return nil, errors.New("command[0]: must name a program")
	}
	return args, nil
}

// envVars decodes env: a mapping of variable names to scalars.
func envVars(raw map[string]json.RawMessage) (map[string]string, error) {
	out := make(map[string]string, len(raw))
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		switch {
		case name == "" || strings.ContainsAny(name, "=\x00"):
			return nil, fmt.Errorf("env: %q is not a valid variable name", name)
		case slices.Contains(reservedEnv[:], name):
			return nil, fmt.Errorf("env.%s: reserved: forgehook sets it for every run", name)
		}
		v, ok, err := scalar(raw[name])
		if err != nil {
			return nil, fmt.Errorf("env.%s: %w", name, err)
		}
		if !ok {
			return nil, fmt.Errorf("env.%s: needs a value (write \"\" for an empty one)", name)
		}
		if strings.IndexByte(v, 0) >= 0 {
			return nil, fmt.Errorf("env.%s: contains a NUL byte", name)
		}
		out[name] = v
	}
	return out, nil
}

// scalar returns the text of a JSON string, number or boolean; ok is false
// for an absent or null value. Objects and arrays are errors.
func scalar(raw json.RawMessage) (text string, ok bool, err error) {
	raw = bytes.TrimSpace(raw)
	if isNull(raw) {
		return "", false, nil
	}
	switch raw[0] {
	case '"':
		if err := json.Unmarshal(raw, &text); err != nil {
			return "", false, err
		}
		return text, true, nil
	case '{', '[':
		return "", false, errors.New("must be a single value, not a mapping or a list")
	}
	return string(raw), true, nil // number, true or false: the literal as written
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// resolve finds the program to run. A name with a slash is a path, relative
// to dir (or to forgehook's working directory); a bare name is looked up in
// pathList, whose relative entries are skipped.
func resolve(name, dir, pathList string) (string, error) {
	if strings.Contains(name, "/") {
		p := name
		if !filepath.IsAbs(p) && dir != "" {
			p = filepath.Join(dir, p)
		}
		p, err := filepath.Abs(p)
		if err != nil {
			return "", err
		}
		if _, err := exec.LookPath(p); err != nil {
			return "", err
		}
		return p, nil
	}
	for _, d := range filepath.SplitList(pathList) {
		if !filepath.IsAbs(d) {
			continue
		}
		if p, err := exec.LookPath(filepath.Join(d, name)); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%q: executable file not found in PATH", name)
}

// lookup returns the value of name in a KEY=VALUE list.
func lookup(env []string, name string) (string, bool) {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// sensitiveKey reports whether an env variable's name suggests a
// credential; the same words as the configuration's redaction.
func sensitiveKey(k string) bool {
	k = strings.ToLower(k)
	for _, s := range []string{"secret", "token", "password", "passwd", "authorization", "credential", "api_key", "api-key", "apikey", "private_key", "cookie"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}
