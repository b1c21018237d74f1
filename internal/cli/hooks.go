package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/forgehook/forgehook/internal/api"
	"github.com/forgehook/forgehook/internal/hooks/reconcile"
)

// exitError ends a command with a given exit status; its message, when
// not empty, is printed like any error.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// ExitCode returns the process exit status.
func (e *exitError) ExitCode() int { return e.code }

// hooksTimeout bounds one hooks command's call to the server, which calls
// the forges target after target.
const hooksTimeout = 10 * time.Minute

func runHooks(ctx context.Context, env *Env, args []string) error {
	const use = "forgehook hooks plan|apply|list|prune|adopt|rotate"
	if len(args) == 0 {
		return fmt.Errorf("%w: %s", errUsage, use)
	}
	switch args[0] {
	case "plan":
		return hooksPlan(ctx, env, args[1:])
	case "apply":
		return hooksApply(ctx, env, args[1:])
	case "list":
		return hooksList(ctx, env, args[1:])
	case "prune", "adopt", "rotate":
		return hooksChange(ctx, env, args[0], args[1:])
	}
	return fmt.Errorf("%w: %s, not %q", errUsage, use, args[0])
}

// hooksFlags are the flags every hooks command has.
func hooksFlags(env *Env, name string) (*flagSetWithClient, *string) {
	f, _ := adminFlags(env, "hooks "+name)
	ep := f.String("endpoint", "", "only this endpoint")
	return f, ep
}

func hooksClient(f *flagSetWithClient) *api.Client {
	c := f.client()
	c.HTTP = &http.Client{Timeout: hooksTimeout}
	return c
}

// hooksPlan prints the plan; exit status 0 in sync, 2 changes pending, 1
// on error.
func hooksPlan(ctx context.Context, env *Env, args []string) error {
	f, ep := hooksFlags(env, "plan")
	if err := parse(f.FlagSet, args); err != nil {
		return err
	}
	p, err := hooksClient(f).HooksPlan(ctx, *ep)
	if err != nil {
		return err
	}
	if f.json {
		if err := printJSON(env, p); err != nil {
			return err
		}
	} else {
		printPlan(env.Stdout, p)
	}
	return planStatus(p)
}

// planStatus turns a plan into the exit status: errors 1, pending 2.
func planStatus(p *reconcile.Plan) error {
	switch {
	case p.Errors > 0:
		return &exitError{code: 1, msg: fmt.Sprintf("%d target(s) could not be planned or changed", p.Errors)}
	case p.Pending > 0:
		return &exitError{code: 2}
	}
	return nil
}

// printPlan writes a plan as one line per target, notes indented below.
func printPlan(w io.Writer, p *reconcile.Plan) {
	if len(p.Changes) == 0 {
		fmt.Fprintln(w, "no managed hooks: no endpoint has a manage: block (listen-only)")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range p.Changes {
		fmt.Fprintf(tw, "%s %s\t%s\t%s\t%s\n", reconcile.Symbol(c.Action), c.Endpoint, c.Target, describeChange(c), dash(c.HookID))
	}
	_ = tw.Flush()
	for _, c := range p.Changes {
		var more []string
		if c.Error != "" {
			more = append(more, "error: "+c.Error)
		}
		more = append(more, c.Notes...)
		for i, s := range c.Steps {
			more = append(more, fmt.Sprintf("step %d: %s", i+1, s))
		}
		if len(more) == 0 {
			continue
		}
		fmt.Fprintf(w, "%s %s:\n", c.Endpoint, c.Target)
		for _, m := range more {
			fmt.Fprintf(w, "    %s\n", m)
		}
	}
	done := map[string]int{}
	var kinds []string
	for _, c := range p.Changes {
		if c.Done != "" {
			if done[c.Done] == 0 {
				kinds = append(kinds, c.Done)
			}
			done[c.Done]++
		}
	}
	if len(kinds) > 0 {
		var parts []string
		for _, k := range kinds {
			parts = append(parts, fmt.Sprintf("%d %s", done[k], k))
		}
		fmt.Fprintf(w, "done: %s\n", strings.Join(parts, ", "))
	}
	switch {
	case p.Pending == 0 && p.Errors == 0:
		if len(kinds) == 0 {
			fmt.Fprintln(w, "in sync")
		}
	default:
		fmt.Fprintf(w, "%d change(s) pending, %d error(s)\n", p.Pending, p.Errors)
	}
}

// describeChange says what a plan line does, or what was done.
func describeChange(c reconcile.Change) string {
	var s string
	switch c.Action {
	case reconcile.ActCreate:
		s = "create " + c.URL + " (" + strings.Join(c.Events, ", ") + ")"
	case reconcile.ActUpdate:
		s = "update (" + strings.Join(c.Fields, ", ") + ")"
	case reconcile.ActInSync:
		s = "in sync"
	case reconcile.ActForeign:
		s = "a hook with our URL we do not own: " + strings.Join(c.Foreign, ", ")
	case reconcile.ActCannotList:
		s = "cannot list (403): would create"
	case reconcile.ActPrune:
		s = "prune (target or endpoint left the configuration)"
	case reconcile.ActManual:
		s = "no hook API: manual steps below"
	default:
		s = "error"
	}
	if c.Health != nil && c.Health.State != "" && c.Health.State != "unknown" {
		s += " [forge: " + c.Health.State
		if c.Health.LastStatus != 0 {
			s += fmt.Sprintf(", last %d", c.Health.LastStatus)
		}
		s += "]"
	}
	if c.Done != "" {
		s += " -> " + c.Done
	}
	return s
}

func hooksApply(ctx context.Context, env *Env, args []string) error {
	f, ep := hooksFlags(env, "apply")
	yes := f.Bool("yes", false, "apply without asking")
	wait := f.Duration("wait", 30*time.Second, "how long to wait for the forge's test delivery (0: do not wait)")
	if err := parse(f.FlagSet, args); err != nil {
		return err
	}
	c := hooksClient(f)
	if !*yes {
		p, err := c.HooksPlan(ctx, *ep)
		if err != nil {
			return err
		}
		printPlan(env.Stdout, p)
		if p.Pending == 0 {
			return planStatus(p)
		}
		if !isTerminal(os.Stdin) {
			return fmt.Errorf("%w: changes pending and no terminal to ask: run with --yes", errUsage)
		}
		fmt.Fprint(env.Stdout, "apply these changes? [y/N] ")
		answer, _ := bufio.NewReader(os.Stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			return &exitError{code: 1, msg: "nothing applied"}
		}
	}
	p, err := c.HooksDo(ctx, "apply", reconcile.Request{Endpoint: *ep})
	if err != nil {
		return err
	}
	if f.json {
		if err := printJSON(env, p); err != nil {
			return err
		}
	} else {
		printPlan(env.Stdout, p)
	}
	unreached := waitPings(ctx, env, c, p, *wait)
	if p.Errors > 0 {
		return planStatus(p)
	}
	if len(unreached) > 0 {
		return &exitError{code: 1, msg: "the forge cannot reach us: no test delivery arrived on " + strings.Join(unreached, ", ")}
	}
	return nil
}

// waitPings waits, up to wait, for a delivery on each endpoint whose hook
// apply pinged (the forge's ping or test delivery: an authentic ping
// recorded on the endpoint, or an event stored, after p.Since). It returns
// the endpoints none arrived on, after telling the operator why that
// usually is.
func waitPings(ctx context.Context, env *Env, c *api.Client, p *reconcile.Plan, wait time.Duration) []string {
	forge := map[string]string{}
	for _, ch := range p.Changes {
		if ch.Pinged {
			forge[ch.Endpoint] = ch.Forge
		}
	}
	if wait <= 0 || len(forge) == 0 {
		return nil
	}
	var waiting []string
	for ep := range forge {
		waiting = append(waiting, ep)
	}
	slices.Sort(waiting)
	fmt.Fprintf(env.Stderr, "waiting up to %s for the forge's test delivery on %s\n", wait, strings.Join(waiting, ", "))
	deadline := time.Now().Add(wait)
	for len(waiting) > 0 && time.Now().Before(deadline) {
		waiting = slices.DeleteFunc(waiting, func(ep string) bool {
			if arrived(ctx, c, ep, p.Since) {
				fmt.Fprintf(env.Stderr, "%s: the forge's test delivery arrived\n", ep)
				return true
			}
			return false
		})
		if len(waiting) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return waiting
		case <-time.After(500 * time.Millisecond):
		}
	}
	for _, ep := range waiting {
		fmt.Fprintf(env.Stderr, "%s: the forge cannot reach us: no delivery arrived within %s of the test delivery.\n", ep, wait)
		switch forge[ep] {
		case "gitea", "forgejo":
			fmt.Fprintln(env.Stderr, "    Gitea and Forgejo deliver only to hosts their app.ini allows: add forgehook's host (or \"loopback\", \"private\") to [webhook] ALLOWED_HOST_LIST and restart the forge.")
		}
		fmt.Fprintln(env.Stderr, "    Check that public_url is reachable from the forge (DNS, firewall, TLS) and the forge's delivery log for the hook.")
	}
	return waiting
}

// arrived reports whether endpoint ep received a ping, or stored an event,
// since t.
func arrived(ctx context.Context, c *api.Client, ep string, t time.Time) bool {
	if eps, err := c.Endpoints(ctx); err == nil {
		for _, e := range eps {
			if e.Name == ep && e.VerifiedAt != nil && !e.VerifiedAt.Before(t) {
				return true
			}
		}
	}
	list, err := c.ListEvents(ctx, api.ListQuery{Endpoint: ep, Limit: 5})
	if err != nil {
		return false
	}
	for _, e := range list.Events {
		if !e.Stored.Before(t) {
			return true
		}
	}
	return false
}

// isTerminal reports whether f is likely a terminal: a character device
// other than the null device (what a service manager or CI gives).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(fi, null) {
		return false
	}
	return true
}

// hooksChange runs prune, adopt or rotate.
func hooksChange(ctx context.Context, env *Env, op string, args []string) error {
	f, ep := hooksFlags(env, op)
	var req reconcile.Request
	switch op {
	case "adopt":
		f.StringVar(&req.Target, "target", "", "only this target (kind:name, such as repo:acme/app)")
		f.StringVar(&req.HookID, "id", "", "the hook to adopt when several have our URL")
	case "rotate":
		f.StringVar(&req.Grace, "grace", "72h", "how long the replaced secret is still to be accepted")
	}
	if err := parse(f.FlagSet, args); err != nil {
		return err
	}
	req.Endpoint = *ep
	p, err := hooksClient(f).HooksDo(ctx, op, req)
	if err != nil {
		return err
	}
	if f.json {
		if err := printJSON(env, p); err != nil {
			return err
		}
	} else if len(p.Changes) == 0 {
		fmt.Fprintf(env.Stdout, "nothing to %s\n", op)
	} else {
		printPlan(env.Stdout, p)
	}
	if p.Errors > 0 {
		return planStatus(p)
	}
	return nil
}

func hooksList(ctx context.Context, env *Env, args []string) error {
	f, ep := hooksFlags(env, "list")
	if err := parse(f.FlagSet, args); err != nil {
		return err
	}
	l, err := hooksClient(f).HooksList(ctx, *ep)
	if err != nil {
		return err
	}
	if f.json {
		return printJSON(env, map[string]any{"hooks": l})
	}
	if len(l) == 0 {
		fmt.Fprintln(env.Stdout, "no hooks owned by forgehook")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENDPOINT\tFORGE\tTARGET\tHOOK\tEVENTS\tACTIVE\tHEALTH\tAPPLIED\tLAST DELIVERY\tURL")
	var errs []error
	for _, h := range l {
		health := "?"
		switch {
		case h.Error != "":
			health = "error"
			errs = append(errs, fmt.Errorf("%s %s:%s: %s", h.Endpoint, h.TargetKind, h.TargetName, h.Error))
		case h.Health != nil && h.Health.State != "":
			health = h.Health.State
		}
		if !h.Configured {
			health += " (not configured: prune)"
		}
		// The newest stored event from this hook ("-": none seen among
		// the endpoint's newest, or a forge that names no hook).
		last := "-"
		if d := h.LastDelivery; d != nil {
			last = d.At.Local().Format(time.DateTime) + " " + dash(d.Kind) + " " + d.EventID
		}
		fmt.Fprintf(tw, "%s\t%s\t%s:%s\t%s\t%s\t%t\t%s\t%s\t%s\t%s\n", h.Endpoint, h.Forge, h.TargetKind, h.TargetName, h.HookID,
			dash(strings.Join(h.Events, ",")), h.Active, health, h.AppliedAt.Local().Format(time.DateTime), last, h.URL)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, e := range errs {
		fmt.Fprintln(env.Stderr, e)
	}
	if len(errs) > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("%d hook(s) could not be read from the forge", len(errs))}
	}
	return nil
}
