package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/forgehook/forgehook/internal/api"
	"github.com/forgehook/forgehook/internal/deliver"
)

func adminFlags(env *Env, name string) (*flagSetWithClient, error) {
	fs := newFlagSet(env, name)
	f := &flagSetWithClient{FlagSet: fs}
	def := env.Getenv("FORGEHOOK_ADMIN")
	if def == "" {
		def = "http://127.0.0.1:8081"
	}
	fs.StringVar(&f.url, "admin", def, "admin API base URL ($FORGEHOOK_ADMIN)")
	fs.StringVar(&f.token, "token", env.Getenv("FORGEHOOK_ADMIN_TOKEN"), "admin bearer token ($FORGEHOOK_ADMIN_TOKEN)")
	fs.BoolVar(&f.json, "json", false, "print JSON")
	return f, nil
}

func runEvents(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: forgehook events list|show|replay", errUsage)
	}
	switch args[0] {
	case "list":
		return eventsList(ctx, env, args[1:])
	case "show":
		return eventsShow(ctx, env, args[1:])
	case "replay":
		return eventsReplay(ctx, env, args[1:])
	}
	return fmt.Errorf("%w: forgehook events list|show|replay, not %q", errUsage, args[0])
}

func eventsList(ctx context.Context, env *Env, args []string) error {
	f, _ := adminFlags(env, "events list")
	var q api.ListQuery
	f.StringVar(&q.Endpoint, "endpoint", "", "only this endpoint")
	f.StringVar(&q.Forge, "forge", "", "only this forge")
	f.StringVar(&q.Kind, "kind", "", "only this kind (push, tag, pull_request, ...)")
	f.StringVar(&q.Repository, "repository", "", "only this repository (owner/name, any case)")
	f.StringVar(&q.Action, "action", "", "only this action (opened, merged, ...)")
	f.StringVar(&q.Ref, "ref", "", "only this ref (refs/heads/main)")
	f.StringVar(&q.Branch, "branch", "", "only this branch (main)")
	f.StringVar(&q.Actor, "actor", "", "only events by this actor (login, any case)")
	f.StringVar(&q.Delivery, "delivery", "", "only the event with this forge delivery id")
	f.StringVar(&q.Outcome, "outcome", "", "only events whose attempts had this outcome: delivered, failed, dead, superseded, not_matched")
	f.StringVar(&q.Since, "since", "", "only events stored at or after this time (RFC 3339)")
	f.StringVar(&q.Until, "until", "", "only events stored before this time (RFC 3339)")
	f.IntVar(&q.Limit, "limit", 50, "at most this many events")
	f.StringVar(&q.Before, "before", "", "cursor from a previous page")
	if err := parse(f.FlagSet, args); err != nil {
		return err
	}
	list, err := f.client().ListEvents(ctx, q)
	if err != nil {
		return err
	}
	if f.json {
		return printJSON(env, list)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tID\tENDPOINT\tFORGE\tEVENT\tKIND\tACTION\tREPOSITORY\tREF")
	for _, e := range list.Events {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.Local().Format(time.DateTime), e.ID, e.Endpoint, e.Forge,
			e.ForgeEvent, e.Kind, dash(e.Action), dash(e.Repository), dash(e.Ref))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if list.Next != "" {
		fmt.Fprintf(env.Stderr, "more: forgehook events list%s --before %s\n", filterArgs(q), list.Next)
	}
	return nil
}

// filterArgs returns the flags that repeat q's filters (and limit), each
// preceded by a space, for the next page's command line.
func filterArgs(q api.ListQuery) string {
	var b strings.Builder
	for _, kv := range [][2]string{
		{"endpoint", q.Endpoint}, {"forge", q.Forge}, {"kind", q.Kind}, {"action", q.Action},
		{"repository", q.Repository}, {"ref", q.Ref}, {"branch", q.Branch}, {"actor", q.Actor},
		{"delivery", q.Delivery}, {"outcome", q.Outcome}, {"since", q.Since}, {"until", q.Until},
	} {
		if kv[1] == "" {
			continue
		}
		v := kv[1]
		if strings.ContainsAny(v, " \t'\"\\$`") {
			v = strconv.Quote(v)
		}
		fmt.Fprintf(&b, " --%s %s", kv[0], v)
	}
	if q.Limit != 50 {
		fmt.Fprintf(&b, " --limit %d", q.Limit)
	}
	return b.String()
}

func eventsShow(ctx context.Context, env *Env, args []string) error {
	f, _ := adminFlags(env, "events show")
	if err := parse(f.FlagSet, args); err != nil {
		return err
	}
	if f.NArg() != 1 {
		return fmt.Errorf("%w: forgehook events show [flags] ID", errUsage)
	}
	d, err := f.client().GetEvent(ctx, f.Arg(0))
	if err != nil {
		return err
	}
	if f.json {
		return printJSON(env, d)
	}
	fmt.Fprintf(env.Stdout, "seq %d, stored %s\n", d.Seq, d.Stored.Local().Format(time.RFC3339))
	printTriggers(env, d.Triggers)
	if d.EventError != "" {
		// The server would not render it (too deep): its bytes are a
		// download.
		return fmt.Errorf("event %s: %s; its body as stored: GET /api/v1/events/%s/body", f.Arg(0), d.EventError, url.PathEscape(f.Arg(0)))
	}
	// Indent the server's bytes as they are: no decoding into a tree (its
	// memory and time grow with the event's nesting), members in stored
	// order.
	var buf bytes.Buffer
	if err := json.Indent(&buf, d.Event, "", "  "); err != nil {
		return fmt.Errorf("event %s: the server answered invalid JSON: %w", f.Arg(0), err)
	}
	buf.WriteByte('\n')
	_, err = env.Stdout.Write(buf.Bytes())
	return err
}

// printTriggers prints the event's state on each trigger and every attempt
// made, oldest first: what `events show` is mostly asked for.
func printTriggers(env *Env, ts []deliver.Status) {
	if len(ts) == 0 {
		fmt.Fprintln(env.Stdout, "triggers: none configured")
		return
	}
	fmt.Fprintln(env.Stdout, "triggers:")
	for _, t := range ts {
		fmt.Fprintf(env.Stdout, "  %-24s %s", t.Trigger, t.State)
		if n := len(t.Attempts); n > 0 {
			fmt.Fprintf(env.Stdout, " (%d attempt%s)", n, plural(n))
		}
		fmt.Fprintln(env.Stdout)
		for _, a := range t.Attempts {
			line := fmt.Sprintf("    #%-3d %s  %-10s", a.Attempt, a.Time.Local().Format(time.RFC3339), a.Outcome)
			if a.Status != 0 {
				line += fmt.Sprintf(" %3d", a.Status)
			}
			line += " " + a.Duration.Round(time.Millisecond).String()
			if a.Replay {
				line += " (replay)"
			}
			if a.Error != "" {
				line += "  " + oneLine(a.Error, 160)
			}
			if !a.NextAttempt.IsZero() {
				line += "  next " + a.NextAttempt.Local().Format(time.RFC3339)
			}
			fmt.Fprintln(env.Stdout, line)
		}
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func printJSON(env *Env, v any) error {
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func eventsReplay(ctx context.Context, env *Env, args []string) error {
	f, _ := adminFlags(env, "events replay")
	var req api.ReplayRequest
	var since, until string
	f.StringVar(&req.Trigger, "trigger", "", "only this trigger (default: every trigger whose when matches)")
	f.BoolVar(&req.DryRun, "dry-run", false, "list what would be sent, send nothing")
	f.StringVar(&since, "since", "", "replay every event stored since this time (RFC 3339) instead of one ID")
	f.StringVar(&until, "until", "", "with --since: up to this time (default now)")
	f.StringVar(&req.When, "when", "", "with --since: only events this CEL expression matches")
	if err := parse(f.FlagSet, args); err != nil {
		return err
	}
	var res *api.ReplayResult
	var err error
	switch {
	case since != "" && f.NArg() == 0:
		if req.Since, err = time.Parse(time.RFC3339, since); err != nil {
			return fmt.Errorf("%w: --since: %v", errUsage, err)
		}
		if until != "" {
			if req.Until, err = time.Parse(time.RFC3339, until); err != nil {
				return fmt.Errorf("%w: --until: %v", errUsage, err)
			}
		}
		res, err = f.client().ReplayRange(ctx, req)
	case since == "" && f.NArg() == 1:
		res, err = f.client().ReplayEvent(ctx, f.Arg(0), req)
	default:
		return fmt.Errorf("%w: forgehook events replay [--trigger T] [--dry-run] ID, or --since TIME [--until TIME] [--when CEL]", errUsage)
	}
	if err != nil {
		return err
	}
	return printReplay(env, f.json, res)
}

func printReplay(env *Env, asJSON bool, res *api.ReplayResult) error {
	if asJSON {
		return printJSON(env, res)
	}
	verb := "replayed"
	if res.DryRun {
		verb = "would replay"
	}
	n := 0
	for _, r := range res.Replayed {
		if len(r.Triggers) == 0 {
			fmt.Fprintf(env.Stdout, "%s: no trigger matches\n", r.EventID)
		} else {
			n++
			fmt.Fprintf(env.Stdout, "%s %s to %s\n", verb, r.EventID, strings.Join(r.Triggers, ", "))
		}
		for _, s := range r.Skipped {
			fmt.Fprintf(env.Stdout, "  skipped %s: %s\n", s.Trigger, s.Reason)
		}
	}
	fmt.Fprintf(env.Stdout, "%d events\n", n)
	return nil
}
