package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/recovery"
)

// runRecover is "forgehook recover plan|run": what the forges failed to
// deliver, and its recovery, through the admin API.
func runRecover(ctx context.Context, env *Env, args []string) error {
	const use = "forgehook recover plan|run [--endpoint E] [--since 24h] [--reenable] [--json]"
	if len(args) == 0 || (args[0] != "plan" && args[0] != "run") {
		return fmt.Errorf("%w: %s", errUsage, use)
	}
	run := args[0] == "run"
	f, ep := hooksFlags(env, "recover "+args[0])
	since := f.Duration("since", 0, "look back only this far (default: the forge's retention, or recover.window)")
	var reenable *bool
	if run {
		reenable = f.Bool("reenable", false, "re-enable GitLab hooks the forge disabled, with a test event kept away from triggers")
	}
	if err := parse(f.FlagSet, args[1:]); err != nil {
		return err
	}
	if *since < 0 {
		return fmt.Errorf("%w: --since must not be negative", errUsage)
	}
	c := hooksClient(f)
	var rep *recovery.Report
	var err error
	if run {
		rep, err = c.RecoverRun(ctx, recovery.Request{Endpoint: *ep, Since: config.Duration(*since), Reenable: *reenable})
	} else {
		rep, err = c.RecoverPlan(ctx, *ep, *since)
	}
	if err != nil {
		return err
	}
	if f.json {
		if err := printJSON(env, rep); err != nil {
			return err
		}
	} else {
		printReport(env.Stdout, rep)
	}
	return reportStatus(rep)
}

// reportStatus is the exit status: 1 when a hook or endpoint could not be
// read or a delivery not recovered, 2 for a plan with missing deliveries,
// else 0.
func reportStatus(rep *recovery.Report) error {
	failed := 0
	for _, it := range rep.Items {
		if it.Status == recovery.StatusFailed {
			failed++
		}
	}
	switch {
	case len(rep.Errors) > 0 || failed > 0:
		return &exitError{code: 1, msg: fmt.Sprintf("%d error(s), %d delivery(ies) not recovered", len(rep.Errors), failed)}
	case !rep.Run && rep.Missing > 0:
		return &exitError{code: 2}
	}
	return nil
}

// printReport writes the hooks' health, then one line per missing
// delivery, then the errors and a summary.
func printReport(w io.Writer, rep *recovery.Report) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, h := range rep.Hooks {
		extra := h.AlertStatus
		if !h.DisabledUntil.IsZero() {
			extra += " until " + h.DisabledUntil.Format(time.RFC3339)
		}
		if h.Reenabled {
			extra += " (test request sent to re-enable)"
		}
		fmt.Fprintf(tw, "hook %s\t%s\t%s\t%s\t%s\n", h.Endpoint, h.Target, h.HookID, h.State, extra)
	}
	_ = tw.Flush()
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, it := range rep.Items {
		at := "-"
		if !it.At.IsZero() {
			at = it.At.Format(time.RFC3339)
		}
		line := fmt.Sprintf("%s %s\t%s\t%s %s\t%s\t%s\t%s", it.Status, it.Endpoint, it.Target, it.Mode, it.ID, dash(it.Key), dash(it.Event), at)
		if it.Error != "" {
			line += "\t" + it.Error
		}
		fmt.Fprintln(tw, line)
	}
	_ = tw.Flush()
	for _, e := range rep.Errors {
		fmt.Fprintln(w, "error: "+e)
	}
	verb := "would be recovered"
	if rep.Run {
		verb = "recovered"
	}
	if rep.Missing == 0 && len(rep.Errors) == 0 {
		fmt.Fprintln(w, "nothing missing")
		return
	}
	n := rep.Missing
	if rep.Run {
		n = rep.Recovered
	}
	fmt.Fprintf(w, "%d missing, %d %s, %d error(s)\n", rep.Missing, n, verb, len(rep.Errors))
}
