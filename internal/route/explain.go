package route

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/operators"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
)

// Explanation tells a person why a condition has its value on one event:
// `forgehook route test` prints it for each trigger.
type Explanation struct {
	// Value is the condition's value: "true", "false", or "error: " and
	// the evaluation error.
	Value string
	// Op joins the terms at the top of the condition: "&&", "||", or ""
	// when the condition is one term.
	Op string
	// Terms are the operands of the top-level && (or ||) chain, in
	// order, each evaluated on its own, also past the one that decided
	// the condition.
	Terms []Term
}

// Term is one top-level operand of a condition.
type Term struct {
	// Source is the term as CEL prints it back from its parse (spacing
	// and parentheses normalized).
	Source string
	// Value is the term's value, as Explanation.Value.
	Value string
	// Reads are the paths of the variables that the term reads
	// (event.branch, body.ref, header["x-github-event"], ...), each with
	// its value on the event, in order of first appearance.
	Reads []Read
}

// Read is one variable path read by a term and its value on the event.
type Read struct {
	Path, Value string
}

// maxExplainValue bounds a value printed by Explain.
const maxExplainValue = 160

// Explain evaluates p on a, and each top-level operand of p and each
// variable path it reads on its own, to show why p has its value. It
// compiles the parts again: it is meant for `route test`, not for the
// delivery path.
func (p *Program) Explain(a *Activation) Explanation {
	var x Explanation
	if p.kind != nil {
		// A when: its value as Match gives it (a dyn that is not a bool
		// is an error).
		ok, err := p.Match(a)
		x.Value = strconv.FormatBool(ok)
		if err != nil {
			x.Value = "error: " + err.Error()
		}
	} else {
		x.Value = p.valueString(p.prg, a)
	}
	if p.ast == nil {
		return x
	}
	native := p.ast.NativeRep()
	info := native.SourceInfo()
	root := native.Expr()
	var terms []ast.Expr
	if root.Kind() == ast.CallKind {
		switch fn := root.AsCall().FunctionName(); fn {
		case operators.LogicalAnd, operators.LogicalOr:
			x.Op = strings.Trim(fn, "_")
			terms = flatten(root, fn, nil)
		}
	}
	if terms == nil {
		terms = []ast.Expr{root}
	}
	for _, t := range terms {
		src, err := cel.ExprToString(t, info)
		if err != nil {
			src = "?"
		}
		term := Term{Source: src, Value: p.eval(src, a)}
		if len(terms) == 1 {
			term.Value = x.Value
		}
		seen := map[string]bool{}
		for _, path := range reads(t, nil, nil) {
			if !seen[path] {
				seen[path] = true
				term.Reads = append(term.Reads, Read{Path: path, Value: p.eval(path, a)})
			}
		}
		x.Terms = append(x.Terms, term)
	}
	return x
}

// flatten returns the operands of the chain of calls of fn at e.
func flatten(e ast.Expr, fn string, out []ast.Expr) []ast.Expr {
	if e.Kind() == ast.CallKind && e.AsCall().FunctionName() == fn {
		for _, arg := range e.AsCall().Args() {
			out = flatten(arg, fn, out)
		}
		return out
	}
	return append(out, e)
}

// variables are the names of the variables an expression sees.
var variables = map[string]bool{"event": true, "body": true, "header": true, "ce": true}

// reads returns the longest paths of fields and constant indexes rooted
// at a variable (event.pull_request.number, header["x-a"][0]) that e
// reads, skipping the names a comprehension binds (shadowed).
func reads(e ast.Expr, shadowed map[string]bool, out []string) []string {
	if path, ok := varPath(e, shadowed); ok {
		return append(out, path)
	}
	switch e.Kind() {
	case ast.SelectKind:
		return reads(e.AsSelect().Operand(), shadowed, out)
	case ast.CallKind:
		c := e.AsCall()
		if c.IsMemberFunction() {
			out = reads(c.Target(), shadowed, out)
		}
		for _, arg := range c.Args() {
			out = reads(arg, shadowed, out)
		}
	case ast.ListKind:
		for _, el := range e.AsList().Elements() {
			out = reads(el, shadowed, out)
		}
	case ast.MapKind:
		for _, en := range e.AsMap().Entries() {
			me := en.AsMapEntry()
			out = reads(me.Key(), shadowed, out)
			out = reads(me.Value(), shadowed, out)
		}
	case ast.StructKind:
		for _, f := range e.AsStruct().Fields() {
			out = reads(f.AsStructField().Value(), shadowed, out)
		}
	case ast.ComprehensionKind:
		c := e.AsComprehension()
		out = reads(c.IterRange(), shadowed, out)
		inner := map[string]bool{c.IterVar(): true, c.AccuVar(): true}
		if c.HasIterVar2() {
			inner[c.IterVar2()] = true
		}
		for k := range shadowed {
			inner[k] = true
		}
		for _, sub := range []ast.Expr{c.AccuInit(), c.LoopCondition(), c.LoopStep(), c.Result()} {
			out = reads(sub, inner, out)
		}
	}
	return out
}

// varPath returns e as a path of fields and constant indexes rooted at a
// variable, if it is one.
func varPath(e ast.Expr, shadowed map[string]bool) (string, bool) {
	switch e.Kind() {
	case ast.IdentKind:
		name := e.AsIdent()
		return name, variables[name] && !shadowed[name]
	case ast.SelectKind:
		s := e.AsSelect()
		base, ok := varPath(s.Operand(), shadowed)
		return base + "." + s.FieldName(), ok
	case ast.CallKind:
		c := e.AsCall()
		if c.FunctionName() != operators.Index || len(c.Args()) != 2 || c.Args()[1].Kind() != ast.LiteralKind {
			return "", false
		}
		base, ok := varPath(c.Args()[0], shadowed)
		if !ok {
			return "", false
		}
		switch v := c.Args()[1].AsLiteral().(type) {
		case types.String:
			return base + "[" + strconv.Quote(string(v)) + "]", true
		case types.Int:
			return base + "[" + strconv.FormatInt(int64(v), 10) + "]", true
		}
	}
	return "", false
}

// eval compiles src (a part of p) and evaluates it on a, as a string.
func (p *Program) eval(src string, a *Activation) string {
	ast, iss := p.env.env.Compile(src)
	if iss != nil && iss.Err() != nil {
		return "error: " + iss.Err().Error()
	}
	prg, err := p.env.env.Program(ast, cel.CostLimit(1_000_000))
	if err != nil {
		return "error: " + err.Error()
	}
	return p.valueString(prg, a)
}

// valueString evaluates prg on a and prints its value for a person: a
// string quoted, anything else as JSON, cut to maxExplainValue bytes.
func (p *Program) valueString(prg cel.Program, a *Activation) string {
	v, _, err := prg.Eval(a)
	if err != nil {
		return "error: " + err.Error()
	}
	return shorten(printValue(v))
}

func printValue(v ref.Val) string {
	if s, ok := v.(types.String); ok {
		return strconv.Quote(string(s))
	}
	return keyString(v)
}

// shorten cuts s to maxExplainValue bytes, on a character boundary.
func shorten(s string) string {
	if len(s) <= maxExplainValue {
		return s
	}
	cut := maxExplainValue
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
