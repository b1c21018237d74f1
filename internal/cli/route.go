package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/forgehook/forgehook/internal/action"
	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge/all"
	"github.com/forgehook/forgehook/internal/route"
	"github.com/forgehook/forgehook/internal/trigger"
)

// runRoute implements `forgehook route test`: which triggers of a
// configuration match an event, and why.
func runRoute(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || args[0] != "test" {
		return fmt.Errorf("%w: forgehook route test --config FILE (--event FILE | --id ID)", errUsage)
	}
	f, _ := adminFlags(env, "route test")
	cfgPath := f.String("config", "forgehook.yaml", "configuration whose triggers to test")
	evFile := f.String("event", "", "a stored event (CloudEvents JSON, e.g. from 'forgehook events show --json')")
	id := f.String("id", "", "a stored event's id, read from the running server")
	if err := parse(f.FlagSet, args[1:]); err != nil {
		return err
	}
	if (*evFile == "") == (*id == "") {
		return fmt.Errorf("%w: give --event FILE or --id ID", errUsage)
	}
	cfg, err := config.Load(*cfgPath, config.Options{Providers: all.Registry().Has, Check: trigger.Check})
	if err != nil {
		fmt.Fprintln(env.Stdout, err)
		return fmt.Errorf("%s: configuration has errors", *cfgPath)
	}
	triggers, err := trigger.Build(cfg, action.Env{})
	if err != nil {
		fmt.Fprintln(env.Stdout, err)
		return fmt.Errorf("%s: configuration has errors", *cfgPath)
	}
	defer trigger.Close(triggers)
	var raw []byte
	if *evFile != "" {
		if raw, err = os.ReadFile(*evFile); err != nil {
			return err
		}
		raw = unwrapDetail(raw)
	} else {
		d, err := f.client().GetEvent(ctx, *id)
		if err != nil {
			return err
		}
		raw = d.Event
	}
	act, err := route.NewActivation(raw)
	if err != nil {
		return err
	}
	for _, t := range triggers {
		printRoute(env.Stdout, t, act)
	}
	return nil
}

// printRoute prints whether trigger t takes the event of act and why:
// skipped as a twin; or the value of its when, and when it does not
// match, the value of each top-level && / || operand with the event
// fields it reads.
func printRoute(w io.Writer, t *trigger.Trigger, act *route.Activation) {
	if t.SkipsTwin(act.Twin()) {
		fmt.Fprintf(w, "NO MATCH  %s: skipped: %s\n", t.Name, trigger.ReasonTwin)
		return
	}
	if t.When == nil {
		fmt.Fprintf(w, "MATCH     %s (no when: every event)\n", t.Name)
	} else {
		x := t.When.Explain(act)
		if x.Value == "true" {
			fmt.Fprintf(w, "MATCH     %s: %s\n", t.Name, t.When.Source())
		} else {
			fmt.Fprintf(w, "NO MATCH  %s: %s\n", t.Name, t.When.Source())
			if strings.HasPrefix(x.Value, "error: ") {
				fmt.Fprintf(w, "          evaluation failed: %s\n", strings.TrimPrefix(x.Value, "error: "))
			}
			for i, term := range x.Terms {
				op := ""
				if i > 0 {
					op = x.Op
				}
				fmt.Fprintf(w, "          %-2s %-5s %s\n", op, term.Value, term.Source)
				for _, r := range term.Reads {
					fmt.Fprintf(w, "%19s%s = %s\n", "", r.Path, r.Value)
				}
			}
			return
		}
	}
	if t.Serialize != nil {
		k, err := t.Serialize.Key(act)
		fmt.Fprintf(w, "          serialize key %q %v\n", k, errString(err))
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return "(" + err.Error() + ")"
}

// unwrapDetail accepts the API's event detail ({"event": {...}}) as well
// as a bare event.
func unwrapDetail(raw []byte) []byte {
	var d struct {
		Event json.RawMessage `json:"event"`
		Spec  string          `json:"specversion"`
	}
	if json.Unmarshal(raw, &d) == nil && d.Spec == "" && len(d.Event) > 0 {
		return d.Event
	}
	return raw
}
