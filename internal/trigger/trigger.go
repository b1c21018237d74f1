// Package trigger builds the triggers of a configuration: it compiles each
// trigger's CEL expressions, constructs its action and reads its retry
// policy, reporting every problem at once with the trigger's file line. It
// touches no store: `forgehook config check` uses it as `serve` does.
package trigger

import (
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/forgehook/forgehook/internal/action"
	execaction "github.com/forgehook/forgehook/internal/action/exec"
	httpaction "github.com/forgehook/forgehook/internal/action/http"
	logaction "github.com/forgehook/forgehook/internal/action/log"
	natsaction "github.com/forgehook/forgehook/internal/action/nats"
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
	// Kind is the action kind: http, exec, nats or log.
	Kind        string
	Action      action.Action
	Retry       Retry
	Concurrency int
}

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

// Build compiles every trigger of cfg. The error is a config.Errors that
// lists every problem as file:line: triggers[i].field: trigger "name": message.
func Build(cfg *config.Config, env action.Env) ([]*Trigger, error) {
	renv, err := route.NewEnv()
	if err != nil {
		return nil, err
	}
	var out []*Trigger
	var errs config.Errors
	for i := range cfg.Triggers {
		tc := &cfg.Triggers[i]
		at := func(field string, err error) {
			errs = append(errs, config.FieldError{File: cfg.File, Line: tc.Line, Field: fmt.Sprintf("triggers[%d].%s", i, field), Msg: fmt.Sprintf("trigger %q: %v", tc.Name, err)})
		}
		t := &Trigger{Name: tc.Name, Concurrency: max(1, tc.Concurrency)}
		if tc.When != "" {
			p, err := renv.Compile(tc.When)
			if err != nil {
				at("when", err)
			}
			t.When = p
		}
		var block map[string]any
		var newAction func(map[string]any, action.Env) (action.Action, error)
		switch {
		case tc.HTTP != nil:
			t.Kind, block, newAction = "http", tc.HTTP, httpaction.New
		case tc.Exec != nil:
			t.Kind, block, newAction = "exec", maps.Clone(tc.Exec), execaction.New
			if s, ok := block["serialize"]; ok {
				delete(block, "serialize")
				expr, _ := s.(string)
				p, err := renv.CompileKey(expr)
				if err != nil {
					at("exec.serialize", err)
				}
				t.Serialize = p
			}
		case tc.NATS != nil:
			t.Kind, block, newAction = "nats", tc.NATS, natsaction.New
		case tc.Log != nil:
			t.Kind, block, newAction = "log", tc.Log, logaction.New
		default:
			at("action", errors.New("no action (http, exec, nats or log)"))
			continue
		}
		a, err := newAction(block, env)
		if err != nil {
			at(t.Kind, err)
		}
		t.Action = a
		r, err := retryPolicy(tc.Retry)
		if err != nil {
			at("retry", err)
		}
		t.Retry = r
		out = append(out, t)
	}
	if len(errs) > 0 {
		Close(out)
		return nil, errs
	}
	return out, nil
}

func retryPolicy(block map[string]any) (Retry, error) {
	var rc struct {
		MaxAttempts int             `json:"max_attempts"`
		Initial     config.Duration `json:"initial"`
		Max         config.Duration `json:"max"`
		MaxAge      config.Duration `json:"max_age"`
	}
	if block != nil {
		if err := action.Decode(block, &rc); err != nil {
			return Retry{}, err
		}
	}
	r := Retry{MaxAttempts: rc.MaxAttempts, Initial: rc.Initial.D(), Max: rc.Max.D(), MaxAge: rc.MaxAge.D()}
	if r.MaxAttempts < 0 || r.Initial < 0 || r.Max < 0 || r.MaxAge < 0 {
		return Retry{}, errors.New("values must not be negative")
	}
	if r.MaxAttempts == 0 {
		r.MaxAttempts = 10
	}
	if r.Initial == 0 {
		r.Initial = time.Second
	}
	if r.Max == 0 {
		r.Max = time.Hour
	}
	if r.Max < r.Initial {
		return Retry{}, fmt.Errorf("max (%s) is below initial (%s)", r.Max, r.Initial)
	}
	return r, nil
}

// Close releases the actions' resources.
func Close(ts []*Trigger) {
	for _, t := range ts {
		if c, ok := t.Action.(action.Closer); ok {
			_ = c.Close()
		}
	}
}
