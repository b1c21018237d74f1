package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/forgehook/forgehook/internal/app"
	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge/all"
	"github.com/forgehook/forgehook/internal/trigger"
)

const storeUsage = "forgehook store check [--config FILE] [--data-dir DIR]"

// runStore runs "store check": an offline check of a stopped forgehook's
// data directory. It exits 1 when events are missing or the directory is
// in use.
func runStore(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || args[0] != "check" {
		return fmt.Errorf("%w: %s", errUsage, storeUsage)
	}
	fs := newFlagSet(env, "store check")
	cfgFile := fs.String("config", "", "configuration file (default ./forgehook.yaml when it exists)")
	dataDir := fs.String("data-dir", "", "data directory (overrides data_dir)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("%w: %s", errUsage, storeUsage)
	}
	if *cfgFile == "" {
		if _, err := os.Stat("forgehook.yaml"); err == nil {
			*cfgFile = "forgehook.yaml"
		}
	}
	cfg := config.Default()
	if *cfgFile != "" {
		reg := all.Registry()
		c, err := config.Load(*cfgFile, config.Options{Providers: reg.Has, Check: trigger.Check})
		if err != nil {
			return err
		}
		cfg = c
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	return app.CheckStore(ctx, cfg, env.Stdout)
}
