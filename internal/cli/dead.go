package cli

import (
	"context"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/forgehook/forgehook/internal/api"
)

func runDead(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: forgehook dead list|replay", errUsage)
	}
	switch args[0] {
	case "list":
		return deadList(ctx, env, args[1:])
	case "replay":
		return deadReplay(ctx, env, args[1:])
	}
	return fmt.Errorf("%w: forgehook dead list|replay, not %q", errUsage, args[0])
}

func deadList(ctx context.Context, env *Env, args []string) error {
	f, _ := adminFlags(env, "dead list")
	trigger := f.String("trigger", "", "only this trigger's dead letters")
	limit := f.Int("limit", 50, "at most this many")
	before := f.String("before", "", "cursor from a previous page")
	if err := parse(f.FlagSet, args); err != nil {
		return err
	}
	list, err := f.client().ListDead(ctx, *trigger, *before, *limit)
	if err != nil {
		return err
	}
	if f.json {
		return printJSON(env, list)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTIME\tTRIGGER\tEVENT\tATTEMPTS\tERROR")
	for _, d := range list.Dead {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\n", d.Seq, d.Time.Local().Format(time.DateTime), d.Trigger, d.EventID, d.Attempts, oneLine(d.Error, 80))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if list.Next != "" {
		fmt.Fprintf(env.Stderr, "more: forgehook dead list --before %s\n", list.Next)
	}
	return nil
}

func oneLine(s string, n int) string {
	out := []rune{}
	for _, r := range s {
		if r == '\n' || r == '\r' {
			r = ' '
		}
		out = append(out, r)
		if len(out) == n {
			return string(out) + "…"
		}
	}
	return string(out)
}

func deadReplay(ctx context.Context, env *Env, args []string) error {
	f, _ := adminFlags(env, "dead replay")
	all := f.Bool("all", false, "replay every dead letter (of --trigger, when given)")
	trigger := f.String("trigger", "", "with --all: only this trigger's dead letters")
	dry := f.Bool("dry-run", false, "list what would be replayed, replay nothing")
	if err := parse(f.FlagSet, args); err != nil {
		return err
	}
	seqs := f.Args()
	if *all == (len(seqs) > 0) {
		return fmt.Errorf("%w: forgehook dead replay [--dry-run] SEQ..., or --all [--trigger T]", errUsage)
	}
	c := f.client()
	if *all {
		list, err := c.ListDead(ctx, *trigger, "", 500)
		if err != nil {
			return err
		}
		for _, d := range list.Dead {
			seqs = append(seqs, strconv.FormatUint(d.Seq, 10))
		}
	}
	res := &api.ReplayResult{DryRun: *dry}
	for _, s := range seqs {
		r, err := c.ReplayDead(ctx, s, *dry)
		if err != nil {
			return fmt.Errorf("dead letter %s: %w", s, err)
		}
		res.Replayed = append(res.Replayed, r.Replayed...)
	}
	return printReplay(env, f.json, res)
}
