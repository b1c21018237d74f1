// Package cli implements forgehook's command line: one file per
// subcommand. Commands that inspect a running server talk to it through the
// admin API (package api), never to the store.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// Env is what a command reads and writes.
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "receive webhooks (without --config and no ./forgehook.yaml: the quick-start)", runServe},
		{"config", "config check FILE: validate a configuration file", runConfig},
		{"events", "events list|show|replay: read and re-drive stored events on a running server", runEvents},
		{"dead", "dead list|replay: dead letters on a running server", runDead},
		{"send", "send [flags] URL: sign and send an example delivery as a forge would (the \"Test hook\" button)", runSend},
		{"hooks", "hooks plan|apply|list|prune|adopt|rotate: manage forgehook's own hooks on the forges (docs/hooks.md)", runHooks},
		{"forward", "forward --admin URL --endpoint E --to URL: relay an endpoint's events from a remote forgehook to a local URL", runForward},
		{"recover", "recover plan|run: deliveries the forges failed to make, and their recovery (docs/hooks.md#recovery)", runRecover},
		{"route", "route test: which triggers of a configuration match an event, and why", runRoute},
		{"store", "store check: examine a stopped forgehook's data directory for lost events", runStore},
		{"version", "print the version", runVersion},
	}
}

// errUsage marks a usage error: exit code 2.
var errUsage = errors.New("usage")

// Main runs the command line args (without the program name) and returns
// the process exit code: 0 success, 1 failure, 2 usage error.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	env := &Env{Stdout: stdout, Stderr: stderr, Getenv: os.Getenv}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(ctx, env, args[1:])
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0
			case errors.As(err, new(*exitError)):
				var ee *exitError
				errors.As(err, &ee)
				if ee.msg != "" {
					fmt.Fprintf(stderr, "forgehook %s: %v\n", c.name, ee.msg)
				}
				return ee.code
			case errors.Is(err, errUsage):
				fmt.Fprintf(stderr, "forgehook %s: %v\n", c.name, err)
				return 2
			default:
				fmt.Fprintf(stderr, "forgehook %s: %v\n", c.name, err)
				return 1
			}
		}
	}
	fmt.Fprintf(stderr, "forgehook: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "forgehook: a self-hosted webhook gateway for git forges")
	fmt.Fprintln(w, "\nUsage: forgehook <command> [flags]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'forgehook <command> -h' for a command's flags.")
}

func newFlagSet(env *Env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("forgehook "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}

// newLogger builds the process logger from --log-format and --log-level.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("%w: --log-level %q: want debug, info, warn or error", errUsage, level)
	}
	o := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "json":
		return slog.New(slog.NewJSONHandler(w, o)), nil
	case "text", "":
		return slog.New(slog.NewTextHandler(w, o)), nil
	}
	return nil, fmt.Errorf("%w: --log-format %q: want json or text", errUsage, format)
}
