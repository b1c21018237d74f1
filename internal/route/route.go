// Package route compiles the CEL expressions of triggers, once, when the
// configuration is loaded, and evaluates them against stored events.
//
// An expression sees four variables:
//
//   - event: the normalized fields (data.normalized): event.kind, event.action,
//     event.branch, event.repository.full_name, event.pull_request.number, ...
//     It is a typed object, declared from event.Fields (see recordTypes): a
//     misspelled field or a comparison of mismatched types is a compile
//     error, reported when the configuration is loaded.
//   - body: the forge's payload as it was received (data.body), dynamic
//   - header: the request headers (credentials redacted), map of lists of strings
//   - ce: the CloudEvents envelope attributes (id, type, source, subject,
//     time, forge, forgeevent, forgeaction, endpoint)
package route

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/interpreter"

	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/jsonx"
)

// Env is a CEL environment with forgehook's variables. It is safe for
// concurrent use.
type Env struct {
	env *cel.Env
}

// NewEnv returns the environment every trigger expression is compiled in.
func NewEnv() (*Env, error) {
	env, err := cel.NewEnv(
		// The macros (has, exists, ...) are kept in the source
		// information, so that Explain can print the terms as written.
		cel.EnableMacroCallTracking(),
		recordTypes(),
		cel.Variable("event", cel.ObjectType(recordType)),
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
	// env and ast are kept for Explain.
	env *Env
	ast *cel.Ast
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
	return &Program{src: expr, prg: prg, kind: want, env: e, ast: ast}, nil
}

// Activation holds the variables of one event. Build it once per event with
// NewActivation and evaluate every program against it. The variables are
// built when an expression first reads them: most expressions read only
// event, and decoding the whole body into CEL values for them was the
// largest cost of a delivery. It is safe for concurrent use.
type Activation struct {
	rec record

	header, ce sync.Once
	headerVal  map[string][]string
	ceVal      map[string]any

	body    sync.Once
	bodyVal any
}

// record is what NewActivation decodes of a stored record.
type record struct {
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
		Normalized event.Fields        `json:"normalized"`
	} `json:"data"`
}

// NewActivation decodes a stored record (its CloudEvents JSON) into the
// variables expressions see. The body is kept as JSON until an expression
// reads it.
func NewActivation(raw []byte) (*Activation, error) {
	a := &Activation{}
	if err := jsonx.Unmarshal(raw, &a.rec); err != nil {
		return nil, fmt.Errorf("route: decode event: %w", err)
	}
	return a, nil
}

// ResolveName implements interpreter.Activation.
func (a *Activation) ResolveName(name string) (any, bool) {
	switch name {
	case "event":
		// A pointer: the record's fields are read from it in place.
		return &a.rec.Data.Normalized, true
	case "body":
		a.body.Do(func() {
			if len(a.rec.Data.Body) == 0 {
				return
			}
			var v any
			if err := jsonx.Unmarshal(a.rec.Data.Body, &v); err != nil {
				// Stored bodies are valid JSON; should one not be, the
				// expressions that read it fail, and do not match.
				a.bodyVal = types.NewErr("route: decode body: %v", err)
				return
			}
			a.bodyVal = v
		})
		return a.bodyVal, true
	case "header":
		a.header.Do(func() { a.headerVal = canonicalHeader(a.rec.Data.Header) })
		return a.headerVal, true
	case "ce":
		a.ce.Do(func() {
			r := &a.rec
			a.ceVal = map[string]any{
				"id": r.ID, "source": r.Source, "type": r.Type, "subject": r.Subject, "time": r.Time,
				"specversion": r.SpecVersion, "datacontenttype": r.DataContentType, "forge": r.Forge,
				"forgeevent": r.ForgeEvent, "forgeaction": r.ForgeAction, "endpoint": r.Endpoint,
				"forgedelivery": r.Delivery,
			}
		})
		return a.ceVal, true
	}
	return nil, false
}

// Twin reports whether the event is the twin of a push (normalized.twin),
// which triggers skip unless they set twins: true.
func (a *Activation) Twin() bool { return a.rec.Data.Normalized.Twin }

// Parent implements interpreter.Activation: there is none.
func (a *Activation) Parent() interpreter.Activation { return nil }

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
	v, _, err := p.prg.Eval(a)
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
	v, _, err := p.prg.Eval(a)
	if err != nil {
		return "", err
	}
	return keyString(v), nil
}

// keyString returns a string as it is, and any other value as JSON: a
// part of the record (event.repository, event.commits) as the record
// writes it.
func keyString(v ref.Val) string {
	if s, ok := v.(types.String); ok {
		return string(s)
	}
	native, err := v.ConvertToNative(anyType)
	if err != nil {
		// An object of the record: its Go value marshals as in the record.
		native = v.Value()
	}
	b, err := json.Marshal(native)
	if err != nil {
		return fmt.Sprint(native)
	}
	return string(b)
}
