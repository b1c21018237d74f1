package route

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/all"
	"github.com/forgehook/forgehook/internal/forge/forgetest"
)

// fixtureEvent builds the activation of a real fixture's record, as
// ingest would store it.
func fixtureEvent(t testing.TB, forgeID, name string) *Activation {
	t.Helper()
	a, err := NewActivation(fixtureRecord(t, forgeID, name))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// fixtureRecord builds the stored record of a real fixture, as ingest
// would.
func fixtureRecord(t testing.TB, forgeID, name string) []byte {
	t.Helper()
	p, err := all.Registry().New(&config.Endpoint{Name: "ep", Provider: forgeID})
	if err != nil {
		t.Fatal(err)
	}
	f, err := forgetest.Load(filepath.Join("..", "forge", forgeID, "testdata", "deliveries", name+".txtar"))
	if err != nil {
		t.Fatal(err)
	}
	req := forgetest.Request(t, f, time.Now())
	m, err := forge.InspectRequest(p, req.Header, req.Payload)
	if err != nil {
		t.Fatal(err)
	}
	fields, err := p.Normalize(m, req.Payload)
	if err != nil {
		t.Fatal(err)
	}
	ev := &event.Event{ID: "x", Endpoint: "ep", Forge: fields.Forge, ForgeEvent: m.Event, ForgeAction: fields.ForgeAction,
		Data: event.Data{Header: event.RedactHeader(req.Header), Body: req.Payload, Normalized: fields}}
	ev.Envelope()
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestRouteExpressionsOverRealEvents(t *testing.T) {
	env, err := NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	ghTag := fixtureEvent(t, "github", "push.payload")            // deletion of refs/tags/simple-tag
	glMR := fixtureEvent(t, "gitlab", "merge_request")            // MR !1 opened into master
	giteaTag := fixtureEvent(t, "gitea", "capture-05-push-tag")   // tag v0.1 pushed, real capture
	giteaPush := fixtureEvent(t, "gitea", "capture-02-push-main") // real capture
	cases := []struct {
		expr string
		a    *Activation
		want bool
	}{
		{`event.kind == "tag" && event.deleted`, ghTag, true},
		{`event.kind == "push"`, ghTag, false},
		{`event.repository.full_name.startsWith("Codertocat/")`, ghTag, true},
		{`ce.forge == "github" && ce.type == "dev.forgehook.tag"`, ghTag, true},
		{`header["x-github-event"][0] == "push"`, ghTag, true},
		{`event.kind == "pull_request" && event.action in ["opened", "updated"]`, glMR, true},
		{`event.pull_request.target_branch == "master" && event.pull_request.number == 1`, glMR, true},
		{`body.object_attributes.state == "opened"`, glMR, true},
		{`event.kind == "tag" && event.tag.matches("^v[0-9]+\\.[0-9]+$") && !event.deleted`, giteaTag, true},
		{`event.forge in ["gitea", "forgejo"] && event.kind == "push" && event.branch != ""`, giteaPush, true},
		{`size(event.commits) > 0 && event.commits.exists(c, c.message.contains("hello"))`, giteaPush, true},
		{`has(body.pusher) && body.pusher.login == "nobody"`, giteaPush, false},
	}
	for _, c := range cases {
		p, err := env.Compile(c.expr)
		if err != nil {
			t.Errorf("%s: compile: %v", c.expr, err)
			continue
		}
		got, err := p.Match(c.a)
		if err != nil {
			t.Errorf("%s: eval: %v", c.expr, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s = %v, want %v", c.expr, got, c.want)
		}
	}
}

func TestRouteCompileErrorsHavePositions(t *testing.T) {
	env, _ := NewEnv()
	for _, c := range []struct{ expr, want string }{
		{`event.kind == `, "1:"},
		{`event.kind = "push"`, "1:"},
		{`evnt.kind == "push"`, "undeclared reference to 'evnt'"},
		{`1 + 2`, "want bool"},
		{`"push"`, "want bool"},
		{"event.kind == \"push\" &&\n  event.branch ==", "2:"},
	} {
		_, err := env.Compile(c.expr)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Compile(%q) = %v, want an error containing %q", c.expr, err, c.want)
		}
	}
	// A runtime error (a missing key) is an error, which callers treat as no match.
	p, err := env.Compile(`body.no_such_field == "x"`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Match(fixtureEvent(t, "gitlab", "push")); err == nil {
		t.Errorf("missing field: no error")
	}
}

func TestRouteKey(t *testing.T) {
	env, _ := NewEnv()
	p, err := env.CompileKey(`event.repository.full_name + ":" + event.branch`)
	if err != nil {
		t.Fatal(err)
	}
	k, err := p.Key(fixtureEvent(t, "gitea", "capture-02-push-main"))
	if err != nil || !strings.HasPrefix(k, "peer/demo:") {
		t.Fatalf("Key = %q, %v", k, err)
	}
	p, _ = env.CompileKey(`event.pull_request.number`)
	if k, _ := p.Key(fixtureEvent(t, "gitlab", "merge_request")); k != "1" {
		t.Fatalf("numeric key = %q, want 1", k)
	}
}

// TestRouteCookbookCompiles checks that every expression in the CEL
// cookbook (docs/cel.md, in ```cel blocks) compiles to a bool.
func TestRouteCookbookCompiles(t *testing.T) {
	blocks := cookbook(t)
	if len(blocks) < 10 {
		t.Fatalf("only %d cel blocks in docs/cel.md", len(blocks))
	}
	env, _ := NewEnv()
	for _, blk := range blocks {
		if _, err := env.Compile(blk); err != nil {
			t.Errorf("docs/cel.md: %q: %v", blk, err)
		}
	}
}

func TestRouteNonBoolResultIsAnError(t *testing.T) {
	env, _ := NewEnv()
	if _, err := env.Compile(`event.kind`); err == nil || !strings.Contains(err.Error(), "of type string, want bool") {
		t.Fatalf("Compile(event.kind) = %v, want a type error", err)
	}
	p, err := env.Compile(`body.ref`) // dyn: checked when evaluated
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Match(fixtureEvent(t, "gitlab", "push")); err == nil || !strings.Contains(err.Error(), "not a bool") {
		t.Fatalf("Match(body.ref) = %v, want a not-a-bool error", err)
	}
}

func TestActivationDecodesTheBodyOnlyForExpressionsThatReadIt(t *testing.T) {
	env, err := NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	// A record whose body cannot be decoded: an expression on event still
	// works; one on body fails and does not match.
	raw := []byte(`{"id":"x","type":"dev.forgehook.push","data":{"header":{},"body":{"a":,"normalized":{"kind":"push"}}}`)
	if _, err := NewActivation(raw); err == nil {
		t.Fatal("NewActivation accepted a record that is not JSON")
	}
	raw = []byte(`{"id":"x","type":"dev.forgehook.push","data":{"header":{"X-A":["1"]},"body":{"n":[1,2,3]},"normalized":{"kind":"push"}}}`)
	act, err := NewActivation(raw)
	if err != nil {
		t.Fatal(err)
	}
	kind, err := env.Compile(`event.kind == "push" && ce.type != "" && size(header) > 0`)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := kind.Match(act); !ok || err != nil {
		t.Fatalf("event expression = %v, %v", ok, err)
	}
	if act.bodyVal != nil {
		t.Fatal("body decoded for an expression that does not read it")
	}
	for expr, want := range map[string]bool{
		`event.kind == "push"`:           true,
		`ce.id == "x"`:                   true,
		`header["x-a"][0] == "1"`:        true,
		`size(body.n) == 3`:              true,
		`body.n[2] == 3 && ce.id == "x"`: true,
	} {
		p, err := env.Compile(expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		if got, err := p.Match(act); got != want || err != nil {
			t.Errorf("%s = %v, %v; want %v", expr, got, err, want)
		}
	}
}
