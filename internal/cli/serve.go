package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/forgehook/forgehook/internal/app"
	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge/all"
	"github.com/forgehook/forgehook/internal/trigger"
	"github.com/forgehook/forgehook/internal/verify"
)

func runServe(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "serve")
	cfgPath := fs.String("config", "", "configuration file (default ./forgehook.yaml if it exists, else the quick-start)")
	dataDir := fs.String("data-dir", "", "data directory (overrides data_dir)")
	listen := fs.String("listen", "", "ingest listener address (overrides listen)")
	adminListen := fs.String("admin-listen", "", "admin listener address (overrides admin.listen)")
	publicURL := fs.String("public-url", "", "the quick-start's public base URL as forges reach it (https://hooks.example.com); default the listen address")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if err := parse(fs, args); err != nil {
		return err
	}
	log, err := newLogger(env.Stderr, *logFormat, *logLevel)
	if err != nil {
		return err
	}
	reg := all.Registry()
	path := *cfgPath
	if path == "" {
		if _, err := os.Stat("forgehook.yaml"); err == nil {
			path = "forgehook.yaml"
		}
	}
	var cfg *config.Config
	quick := path == ""
	if quick {
		cfg = config.Default()
	} else {
		cfg, err = config.Load(path, config.Options{Providers: reg.Has, Check: trigger.Check})
		if err != nil {
			return err
		}
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	if *adminListen != "" {
		cfg.Admin.Listen = *adminListen
	}
	if quick {
		if err := quickStart(env, cfg, *publicURL); err != nil {
			return err
		}
	}
	// The flags may have changed what the file said (a non-loopback admin
	// address needs a token): check the result as a whole.
	if err := cfg.Validate(config.Options{Providers: reg.Has, Check: trigger.Check}); err != nil {
		return err
	}
	a, err := app.New(ctx, cfg, app.Options{Logger: log, Stdout: env.Stdout, Registry: reg, Presets: verify.PresetPrefixes})
	if err != nil {
		return err
	}
	return a.Run(ctx)
}

// quickState is what the quick-start keeps in the data directory.
type quickState struct {
	Key    string `json:"key"`
	Secret string `json:"secret"`
}

// quickStart adds the quick-start endpoint to cfg: provider auto, an
// unguessable key in the path and a generated secret, both kept in
// data_dir/quickstart.json (mode 0600). The secret is printed only when it
// is generated. publicURL, when set, is the base of the printed URL (the
// address forges reach, behind a proxy or a tunnel).
func quickStart(env *Env, cfg *config.Config, publicURL string) error {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("quick-start: data dir: %w", err)
	}
	file := filepath.Join(cfg.DataDir, "quickstart.json")
	var st quickState
	fresh := false
	b, err := os.ReadFile(file)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &st); err != nil || st.Key == "" || st.Secret == "" {
			return fmt.Errorf("quick-start: %s is damaged; remove it to generate a new key and secret", file)
		}
	case errors.Is(err, fs.ErrNotExist):
		st = quickState{Key: randomToken(24), Secret: randomToken(24)}
		b, _ := json.MarshalIndent(st, "", "  ")
		if err := os.WriteFile(file, append(b, '\n'), 0o600); err != nil {
			return fmt.Errorf("quick-start: %w", err)
		}
		fresh = true
	default:
		return fmt.Errorf("quick-start: %w", err)
	}
	cfg.Endpoints = append(cfg.Endpoints, config.Endpoint{
		Name:     "quickstart",
		Key:      config.Secret(st.Key),
		Provider: "auto",
		Secrets:  []config.Secret{config.Secret(st.Secret)},
	})
	cfg.Triggers = append(cfg.Triggers, config.Trigger{Name: "echo", Log: &config.LogAction{}})
	cfg.ApplyDefaults()
	local := false
	base := strings.TrimRight(publicURL, "/")
	if base == "" {
		host, port, _ := net.SplitHostPort(cfg.Listen)
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		local = true
		base = "http://" + net.JoinHostPort(host, port)
	} else if u, err := neturl.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: --public-url %q: want http(s)://host[:port][/path]", errUsage, publicURL)
	}
	url := base + "/hooks/" + st.Key
	w := env.Stdout
	fmt.Fprintln(w, "forgehook quick-start: no configuration file, one endpoint that detects the forge.")
	fmt.Fprintf(w, "  Payload URL:  %s\n", url)
	if fresh {
		fmt.Fprintf(w, "  Secret:       %s\n", st.Secret)
		fmt.Fprintf(w, "                (shown this once; kept in %s)\n", file)
	} else {
		fmt.Fprintf(w, "  Secret:       kept in %s\n", file)
	}
	fmt.Fprintln(w, "  Give both to GitHub (content type JSON or form), GitLab (as the secret token), Gitea, Forgejo, Gogs,")
	fmt.Fprintln(w, "  Gitee (as the signing key), AtomGit, coding.net or Bitbucket: the forge of each delivery is detected.")
	if local {
		fmt.Fprintln(w, "  The forge must be able to reach this URL. A forge on another machine cannot reach localhost:")
		fmt.Fprintln(w, "  give it this machine's address, or run with --public-url https://your.host (a reverse proxy")
		fmt.Fprintln(w, "  or tunnel to the listen port). A Gitea or Forgejo on this machine refuses loopback targets")
		fmt.Fprintln(w, "  unless its app.ini allows them ([webhook] ALLOWED_HOST_LIST = loopback).")
	}
	fmt.Fprintln(w, "  One line per event follows (the log of each request goes to stderr). Write forgehook.yaml for more\n  (docs/configuration.md).")
	return nil
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
