package route

import (
	"reflect"
	"strings"
	"testing"
)

// TestRouteExplainSaysWhichTermFailed: each top-level operand is
// evaluated on its own with the values of the fields it reads.
func TestRouteExplainSaysWhichTermFailed(t *testing.T) {
	env, _ := NewEnv()
	mr := fixtureEvent(t, "gitlab", "merge_request") // MR !1 opened into master
	p, err := env.Compile(`event.kind == "pull_request" && event.action in ["merged", "closed"] && (event.pull_request.target_branch == "main" || ce.endpoint == "ep") && !has(body.nothing)`)
	if err != nil {
		t.Fatal(err)
	}
	x := p.Explain(mr)
	want := Explanation{Value: "false", Op: "&&", Terms: []Term{
		{Source: `event.kind == "pull_request"`, Value: "true", Reads: []Read{{"event.kind", `"pull_request"`}}},
		{Source: `event.action in ["merged", "closed"]`, Value: "false", Reads: []Read{{"event.action", `"opened"`}}},
		{Source: `event.pull_request.target_branch == "main" || ce.endpoint == "ep"`, Value: "true", Reads: []Read{
			{"event.pull_request.target_branch", `"master"`}, {"ce.endpoint", `"ep"`}}},
		{Source: `!has(body.nothing)`, Value: "true", Reads: []Read{{"body.nothing", "error: no such key: nothing"}}},
	}}
	if !reflect.DeepEqual(x, want) {
		t.Errorf("Explain =\n%+v\nwant\n%+v", x, want)
	}

	// A comprehension's own variables are not reads; indexes are.
	p, err = env.Compile(`event.commits.exists(c, c.message.contains("x")) || header["x-gitlab-event"][0] == "Merge Request Hook"`)
	if err != nil {
		t.Fatal(err)
	}
	x = p.Explain(mr)
	if x.Value != "true" || x.Op != "||" || len(x.Terms) != 2 {
		t.Fatalf("Explain = %+v", x)
	}
	if got := x.Terms[0]; got.Source != `event.commits.exists(c, c.message.contains("x"))` || got.Value != "false" ||
		!reflect.DeepEqual(got.Reads, []Read{{"event.commits", "[]"}}) {
		t.Errorf("term 0 = %+v", got)
	}
	if got := x.Terms[1]; got.Value != "true" || !reflect.DeepEqual(got.Reads, []Read{{`header["x-gitlab-event"][0]`, `"Merge Request Hook"`}}) {
		t.Errorf("term 1 = %+v", got)
	}

	// One term; a long value is cut.
	p, _ = env.Compile(`size(body.object_attributes.description) > 100000`)
	x = p.Explain(mr)
	if x.Op != "" || len(x.Terms) != 1 || x.Terms[0].Value != "false" || len(x.Terms[0].Reads) != 1 {
		t.Fatalf("Explain = %+v", x)
	}
	p, _ = env.Compile(`body.object_attributes.last_commit.message == ""`)
	x = p.Explain(mr)
	if r := x.Terms[0].Reads[0]; !strings.HasPrefix(r.Value, `"`) || len(r.Value) > maxExplainValue+len("…") {
		t.Errorf("read %+v", r)
	}
	p, _ = env.Compile(`body.object_attributes == {}`)
	if r := p.Explain(mr).Terms[0].Reads[0]; !strings.HasSuffix(r.Value, "…") || len(r.Value) > maxExplainValue+len("…") {
		t.Errorf("long read %+v", r)
	}
}
