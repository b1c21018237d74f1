// Package route compiles the CEL expressions of triggers, once, when the
// configuration is loaded, and evaluates them against stored events.
//
// An expression sees four variables:
//
//   - event: the normalized fields (data.normalized): event.kind, event.action,
//     event.branch, event.repository.full_name, event.pull_request.number, ...
//   - body: the forge's payload as it was received (data.body)
//   - header: the request headers (credentials redacted), map of lists of strings
//   - ce: the CloudEvents envelope attributes (id, type, source, subject,
//     time, forge, forgeevent, forgeaction, endpoint)
package route

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

	"github.com/forgehook/forgehook/internal/event"
)

// Env is a CEL environment with forgehook's variables. It is safe for
// concurrent use.
type Env struct {
	env *cel.Env
}

// NewEnv returns the environment every trigger expression is compiled in.
func NewEnv() (*Env, error) {
	env, err := cel.NewEnv(
		cel.Variable("event", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("body", cel.DynType),
		cel.Variable("header", cel.MapType(cel.StringType, cel.ListType(cel.StringType))),
		cel.Variable("ce", cel.MapType(cel.StringType, cel.DynType)),
	)
	if err != nil {
		return nil, fmt.Errorf("route: cel environment: %w", err)
	}
	return &Env{env: env}, nil
}

// Program is one compiled expression.
type Program struct {
	src  string
	prg  cel.Program
	kind *cel.Type
}

// Source returns the expression as written.
func (p *Program) Source() string { return p.src }

// Compile compiles a boolean expression (a trigger's `when`). The error
// gives the line and column of every problem.
func (e *Env) Compile(expr string) (*Program, error) {
	return e.compile(expr, cel.BoolType)
}

// CompileKey compiles an expression whose value is a key (a trigger's
// `serialize`): a string, or any value converted to one.
func (e *Env) CompileKey(expr string) (*Program, error) {
	return e.compile(expr, nil)
}

func (e *Env) compile(expr string, want *cel.Type) (*Program, error) {
	ast, iss := e.env.Compile(expr)
	if iss != nil && iss.Err() != nil {
		return nil, errors.New(strings.TrimSpace(strings.ReplaceAll(iss.Err().Error(), "ERROR: <input>:", "")))
	}
	if want != nil && !ast.OutputType().IsExactType(want) && !ast.OutputType().IsExactType(cel.DynType) {
		return nil, fmt.Errorf("the expression is of type %s, want %s", ast.OutputType(), want)
	}
	prg, err := e.env.Program(ast, cel.EvalOptions(cel.OptOptimize), cel.CostLimit(1_000_000))
	if err != nil {
		return nil, fmt.Errorf("program: %w", err)
	}
	return &Program{src: expr, prg: prg, kind: want}, nil
}

// Activation holds the variables of one event. Build it once per event with
// NewActivation and evaluate every program against it.
type Activation struct {
	vars map[string]any
}

// NewActivation decodes a stored record (its CloudEvents JSON) into the
// variables expressions see.
func NewActivation(raw []byte) (*Activation, error) {
	var rec struct {
		ID              string `json:"id"`
		Source          string `json:"source"`
		Type            string `json:"type"`
		Subject         string `json:"subject"`
		Time            string `json:"time"`
		SpecVersion     string `json:"specversion"`
		DataContentType string `json:"datacontenttype"`
		Forge           string `json:"forge"`
		ForgeEvent      string `json:"forgeevent"`
		ForgeAction     string `json:"forgeaction"`
		Endpoint        string `json:"endpoint"`
		Delivery        string `json:"forgedelivery"`
		Data            struct {
			Header     map[string][]string `json:"header"`
			Body       json.RawMessage     `json:"body"`
			Normalized map[string]any      `json:"normalized"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, fmt.Errorf("route: decode event: %w", err)
	}
	var body any
	if len(rec.Data.Body) > 0 {
		if err := json.Unmarshal(rec.Data.Body, &body); err != nil {
			return nil, fmt.Errorf("route: decode body: %w", err)
		}
	}
	if rec.Data.Header == nil {
		rec.Data.Header = map[string][]string{}
	}
	if rec.Data.Normalized == nil {
		rec.Data.Normalized = map[string]any{}
	}
	ce := map[string]any{
		"id": rec.ID, "source": rec.Source, "type": rec.Type, "subject": rec.Subject, "time": rec.Time,
		"specversion": rec.SpecVersion, "datacontenttype": rec.DataContentType, "forge": rec.Forge,
		"forgeevent": rec.ForgeEvent, "forgeaction": rec.ForgeAction, "endpoint": rec.Endpoint,
		"forgedelivery": rec.Delivery,
	}
	return &Activation{vars: map[string]any{
		"event":  rec.Data.Normalized,
		"body":   body,
		"header": canonicalHeader(rec.Data.Header),
		"ce":     ce,
	}}, nil
}

// canonicalHeader adds lower-case keys next to the canonical ones, so that
// header["x-github-event"] and header["X-Github-Event"] both work.
func canonicalHeader(h map[string][]string) map[string][]string {
	out := make(map[string][]string, 2*len(h))
	for k, v := range h {
		out[k] = v
		out[strings.ToLower(k)] = v
	}
	return out
}

// ActivationFor builds the activation of an event record in memory.
func ActivationFor(ev *event.Event) (*Activation, error) {
	raw, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("route: encode event: %w", err)
	}
	return NewActivation(raw)
}

// Match evaluates a boolean program. A runtime error (a missing map key,
// a type mismatch) is returned, and the caller treats the event as not
// matching.
func (p *Program) Match(a *Activation) (bool, error) {
	v, _, err := p.prg.Eval(a.vars)
	if err != nil {
		return false, err
	}
	b, ok := v.(types.Bool)
	if !ok {
		return false, fmt.Errorf("the expression gave %s, not a bool", v.Type())
	}
	return bool(b), nil
}

// Key evaluates a key program and returns its value as a string.
func (p *Program) Key(a *Activation) (string, error) {
	v, _, err := p.prg.Eval(a.vars)
	if err != nil {
		return "", err
	}
	return keyString(v), nil
}

func keyString(v ref.Val) string {
	if s, ok := v.(types.String); ok {
		return string(s)
	}
	native, err := v.ConvertToNative(anyType)
	if err != nil {
		return fmt.Sprint(v.Value())
	}
	b, err := json.Marshal(native)
	if err != nil {
		return fmt.Sprint(native)
	}
	return string(b)
}
