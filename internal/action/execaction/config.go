package execaction

import (
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

// KillGrace is how long a process group has to exit after SIGTERM before
// it is sent SIGKILL. The block's defaults are package config's
// (DefaultExecTimeout, DefaultExecOutputLimit).
const KillGrace = 5 * time.Second

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

// parse checks an exec block, decoded and defaulted by package config,
// against the machine (the program, the directory), taking the base
// variables from getenv. Each error is an action.KeyError.
func parse(b *config.ExecAction, getenv func(string) string) (*settings, error) {
	s := &settings{timeout: b.Timeout.D(), outputLimit: int(b.OutputLimit), coalesce: b.Coalesce}
	if s.timeout <= 0 || s.outputLimit <= 0 {
		return nil, errors.New("exec: block without its defaults (config.ExecAction.ApplyDefaults)")
	}
	if len(b.Command) == 0 || b.Command[0] == "" {
		return nil, action.KeyErrorf("command", "required: the program and its arguments as a list, e.g. [./deploy.sh, production]")
	}
	for i, a := range b.Command {
		if strings.IndexByte(a, 0) >= 0 {
			return nil, action.KeyErrorf(fmt.Sprintf("command[%d]", i), "contains a NUL byte")
		}
	}
	s.args = slices.Clone(b.Command)
	var err error
	if b.Dir != "" {
		if s.dir, err = filepath.Abs(b.Dir); err != nil {
			return nil, action.KeyErrorf("dir", "%w", err)
		}
		fi, err := os.Stat(s.dir)
		if err != nil {
			return nil, action.KeyErrorf("dir", "%w", err)
		}
		if !fi.IsDir() {
			return nil, action.KeyErrorf("dir", "%s is not a directory", s.dir)
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
		if v := extra[name]; len(v) >= minSecretLen && config.SensitiveKey(name) {
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
		return nil, action.KeyErrorf("command", "%w", err)
	}
	return s, nil
}

// envVars checks the names and values of env.
func envVars(in map[string]config.Secret) (map[string]string, error) {
	out := make(map[string]string, len(in))
	for _, name := range slices.Sorted(maps.Keys(in)) {
		switch {
		case name == "" || strings.ContainsAny(name, "=\x00"):
			return nil, action.KeyErrorf("env", "%q is not a valid variable name", name)
		case slices.Contains(reservedEnv[:], name):
			return nil, action.KeyErrorf("env."+name, "reserved: forgehook sets it for every run")
		}
		v := in[name].Reveal()
		if strings.IndexByte(v, 0) >= 0 {
			return nil, action.KeyErrorf("env."+name, "contains a NUL byte")
		}
		out[name] = v
	}
	return out, nil
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
