// Package trigger builds the triggers of a configuration: it compiles each
// trigger's CEL expressions, constructs its action and reads its retry
// policy, reporting every problem at once with the trigger's file line. It
// touches no store: `forgehook config check` uses it as `serve` does.
package trigger

import (
	"errors"
	"fmt"
	"time"

	"github.com/forgehook/forgehook/internal/action"
	"github.com/forgehook/forgehook/internal/action/execaction"
	"github.com/forgehook/forgehook/internal/action/httpaction"
	"github.com/forgehook/forgehook/internal/action/logaction"
	"github.com/forgehook/forgehook/internal/action/natsaction"
	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/route"
)

// Retry is a trigger's retry policy.
type Retry struct {
	// MaxAttempts is the number of attempts before the event is
	// dead-lettered (default 10).
	MaxAttempts int
	// Initial is the first backoff (default 1s); each next one doubles,
	// up to Max (default 1h).
	Initial, Max time.Duration
	// MaxAge dead-letters an event whose first attempt is older than this,
	// whatever the attempt count (0: no limit).
	MaxAge time.Duration
}

// Trigger is one configured trigger, ready to run.
type Trigger struct {
	Name string
	// When selects events; nil matches all.
	When *route.Program
	// Serialize computes the key under which runs never overlap; nil for none.
	Serialize *route.Program
	// Twins is set when the trigger takes the twins of pushes (events
	// whose normalized twin is true), which triggers skip by default:
	// see SkipsTwin.
	Twins bool
	// Kind is the action kind: http, exec, nats or log.
	Kind        string
	Action      action.Action
	Retry       Retry
	Concurrency int
}

// ReasonTwin is why a trigger skips a twin: the create or delete event a
// forge sends beside the push of the same ref.
const ReasonTwin = "twin (the create or delete sent beside a push of the same ref; set twins: true to take it)"

// SkipsTwin reports whether t skips an event whose normalized twin flag is
// twin: it does unless it sets twins: true, so that one git push fires
// it once.
func (t *Trigger) SkipsTwin(twin bool) bool { return twin && !t.Twins }

// Check compiles cfg's triggers and discards them: it is the config
// loader's Options.Check, so that `config check` and start-up report
// expression and action errors with the rest.
func Check(cfg *config.Config) config.Errors {
	ts, err := Build(cfg, action.Env{})
	Close(ts)
	var fe config.Errors
	if errors.As(err, &fe) {
		return fe
	}
	if err != nil {
		return config.Errors{{File: cfg.File, Field: "triggers", Msg: err.Error()}}
	}
	return nil
}

// Build compiles every trigger of cfg, whose blocks package config has
// decoded, defaulted and validated. The error is a config.Errors that
// lists every problem as file:line: triggers[i].field: trigger "name":
// message, at the line of the key at fault.
func Build(cfg *config.Config, env action.Env) ([]*Trigger, error) {
	renv, err := route.NewEnv()
	if err != nil {
		return nil, err
	}
	var out []*Trigger
	var errs config.Errors
	for i := range cfg.Triggers {
		// A configuration built in code may lack its defaults: config's
		// own, applied to a copy.
		tc := cfg.Triggers[i].Clone()
		tc.ApplyDefaults()
		p := fmt.Sprintf("triggers[%d]", i)
		at := func(field string, err error) {
			var ke *action.KeyError
			if errors.As(err, &ke) {
				field += "." + ke.Key
				err = ke.Err
			}
			errs = append(errs, config.FieldError{File: cfg.File, Line: cfg.Line(p + "." + field), Field: p + "." + field, Msg: fmt.Sprintf("trigger %q: %v", tc.Name, err)})
		}
		t := &Trigger{Name: tc.Name, Concurrency: max(1, tc.Concurrency), Twins: tc.Twins}
		if tc.When != "" {
			p, err := renv.Compile(tc.When)
			if err != nil {
				at("when", err)
			}
			t.When = p
		}
		var a action.Action
		switch {
		case tc.HTTP != nil:
			t.Kind = "http"
			a, err = httpaction.New(tc.HTTP, env)
		case tc.Exec != nil:
			t.Kind = "exec"
			if tc.Exec.Serialize != "" {
				p, err := renv.CompileKey(tc.Exec.Serialize)
				if err != nil {
					at("exec.serialize", err)
				}
				t.Serialize = p
			}
			a, err = execaction.New(tc.Exec, env)
		case tc.NATS != nil:
			t.Kind = "nats"
			a, err = natsaction.New(tc.NATS, env)
		case tc.Log != nil:
			t.Kind = "log"
			a, err = logaction.New(tc.Log, env)
		default:
			at("action", errors.New("no action (http, exec, nats or log)"))
			continue
		}
		if err != nil {
			at(t.Kind, err)
		}
		t.Action = a
		r := tc.Retry
		t.Retry = Retry{MaxAttempts: r.MaxAttempts, Initial: r.Initial.D(), Max: r.Max.D(), MaxAge: r.MaxAge.D()}
		out = append(out, t)
	}
	if len(errs) > 0 {
		Close(out)
		return nil, errs
	}
	return out, nil
}

// Close releases the actions' resources.
func Close(ts []*Trigger) {
	for _, t := range ts {
		if c, ok := t.Action.(action.Closer); ok {
			_ = c.Close()
		}
	}
}
