package cli

import (
	"context"
	"fmt"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge/all"
	"github.com/forgehook/forgehook/internal/trigger"
)

func runConfig(_ context.Context, env *Env, args []string) error {
	if len(args) == 0 || args[0] != "check" {
		return fmt.Errorf("%w: forgehook config check [--print] FILE", errUsage)
	}
	fs := newFlagSet(env, "config check")
	print := fs.Bool("print", false, "print the configuration with defaults applied and secrets hidden")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: forgehook config check [--print] FILE", errUsage)
	}
	reg := all.Registry()
	cfg, err := config.Load(fs.Arg(0), config.Options{Providers: reg.Has, Check: trigger.Check})
	if err != nil {
		fmt.Fprintln(env.Stdout, err)
		return fmt.Errorf("%s: configuration has errors", fs.Arg(0))
	}
	var errs []error
	for i := range cfg.Endpoints {
		if _, err := reg.New(&cfg.Endpoints[i]); err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: endpoints[%d]: %w", fs.Arg(0), cfg.Endpoints[i].Line, i, err))
		}
	}
	if len(errs) > 0 {
		for _, e := range errs {
			fmt.Fprintln(env.Stdout, e)
		}
		return fmt.Errorf("%s: configuration has errors", fs.Arg(0))
	}
	if *print {
		b, err := cfg.Redacted()
		if err != nil {
			return err
		}
		_, _ = env.Stdout.Write(b)
		return nil
	}
	fmt.Fprintf(env.Stdout, "%s: ok (%d endpoints, %d triggers)\n", fs.Arg(0), len(cfg.Endpoints), len(cfg.Triggers))
	return nil
}
