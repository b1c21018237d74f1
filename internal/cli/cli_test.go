package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func runMain(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCLIConfigCheck(t *testing.T) {
	good := writeFile(t, "good.yaml", `endpoints:
  - name: gh
    provider: github
    secrets: ["x"]
triggers:
  - name: echo
    when: 'event.kind == "push"'
    log: {}
`)
	code, out, _ := runMain(t, "config", "check", good)
	if code != 0 || !strings.Contains(out, "ok (1 endpoints, 1 triggers)") {
		t.Fatalf("good config: exit %d, %q", code, out)
	}
	bad := writeFile(t, "bad.yaml", `endpoints:
  - name: gh
    provider: gihub
    secrets: ["hunter2-secret"]
  - name: open
    provider: github
triggers:
  - name: deploy
    when: 'event.kind == '
    log: {}
  - name: typo
    when: 'evnt.kind == "push"'
    http: {url: "https://example.com/hook", formt: cloudevents}
  - name: field
    when: 'event.kind == "push" && event.brnch == "main"'
    log: {}
  - name: type
    log: {}
    when: 'event.kind == 1'
`)
	code, out, _ = runMain(t, "config", "check", bad)
	if code != 1 {
		t.Fatalf("bad config: exit %d, want 1\n%s", code, out)
	}
	for _, want := range []string{
		`bad.yaml:3: endpoints[0].provider: unknown provider "gihub"`,
		`bad.yaml:5: endpoints[1]`,
		`bad.yaml:9: triggers[0].when: trigger "deploy"`,
		`bad.yaml:12: triggers[1].when: trigger "typo"`,
		`undeclared reference to 'evnt'`,
		`bad.yaml:13: triggers[1].http.formt: unknown key (did you mean "format"?)`,
		`bad.yaml:15: triggers[2].when: trigger "field": 1:30: undefined field 'brnch'`,
		`bad.yaml:19: triggers[3].when: trigger "type": 1:12: found no matching overload for '_==_' applied to '(string, int)'`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("config check output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hunter2-secret") {
		t.Errorf("config check printed a secret:\n%s", out)
	}
	if code, _, _ := runMain(t, "config", "check"); code != 2 {
		t.Errorf("config check without a file: exit %d, want 2", code)
	}
}

func TestCLIRouteTest(t *testing.T) {
	cfg := writeFile(t, "f.yaml", `endpoints:
  - name: gh
    provider: github
    secrets: ["x"]
triggers:
  - name: main-pushes
    when: 'event.kind == "push" && event.branch == "main"'
    log: {}
  - name: tags
    when: 'event.kind == "tag"'
    log: {}
  - name: everything
    log: {}
`)
	ev := writeFile(t, "ev.json", `{"specversion":"1.0","id":"e1","type":"dev.forgehook.push","source":"/x","forge":"github",
"data":{"header":{},"body":{"ref":"refs/heads/main"},"normalized":{"kind":"push","branch":"main","ref":"refs/heads/main"}}}`)
	code, out, errOut := runMain(t, "route", "test", "--config", cfg, "--event", ev)
	if code != 0 {
		t.Fatalf("route test: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"MATCH     main-pushes", "NO MATCH  tags", "MATCH     everything",
		"             false event.kind == \"tag\"\n                   event.kind = \"push\"\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("route test output lacks %q:\n%s", want, out)
		}
	}
}

// TestCLIRouteTestExplains: route test says which operand of a when was
// false, with the fields it read, and that a twin is skipped by the
// triggers that do not set twins: true.
func TestCLIRouteTestExplains(t *testing.T) {
	cfg := writeFile(t, "f.yaml", `triggers:
  - name: release-tags
    when: 'event.kind == "tag" && event.tag.startsWith("v") && !event.deleted'
    log: {}
  - name: main-or-tags
    when: 'event.branch == "main" || event.kind == "tag" && has(body.nothing)'
    log: {}
  - name: all-twins
    twins: true
    log: {}
  - name: all
    log: {}
`)
	ev := writeFile(t, "ev.json", `{"specversion":"1.0","id":"e1","type":"dev.forgehook.tag","source":"/x","forge":"gitea",
"data":{"header":{},"body":{"ref":"r1.0"},"normalized":{"kind":"tag","tag":"r1.0","ref":"refs/tags/r1.0","twin":true}}}`)
	code, out, errOut := runMain(t, "route", "test", "--config", cfg, "--event", ev)
	if code != 0 {
		t.Fatalf("route test: exit %d\n%s%s", code, out, errOut)
	}
	want := `NO MATCH  release-tags: skipped: twin (the create or delete sent beside a push of the same ref; set twins: true to take it)
NO MATCH  main-or-tags: skipped: twin (the create or delete sent beside a push of the same ref; set twins: true to take it)
MATCH     all-twins (no when: every event)
NO MATCH  all: skipped: twin (the create or delete sent beside a push of the same ref; set twins: true to take it)
`
	if out != want {
		t.Errorf("route test of a twin:\n%s\nwant\n%s", out, want)
	}

	// The same event, not a twin.
	ev = writeFile(t, "ev2.json", strings.Replace(mustRead(t, ev), `"twin":true`, `"twin":false`, 1))
	_, out, _ = runMain(t, "route", "test", "--config", cfg, "--event", ev)
	want = `NO MATCH  release-tags: event.kind == "tag" && event.tag.startsWith("v") && !event.deleted
             true  event.kind == "tag"
                   event.kind = "tag"
          && false event.tag.startsWith("v")
                   event.tag = "r1.0"
          && true  !event.deleted
                   event.deleted = false
NO MATCH  main-or-tags: event.branch == "main" || event.kind == "tag" && has(body.nothing)
             false event.branch == "main"
                   event.branch = ""
          || false event.kind == "tag" && has(body.nothing)
                   event.kind = "tag"
                   body.nothing = error: no such key: nothing
MATCH     all-twins (no when: every event)
MATCH     all (no when: every event)
`
	if out != want {
		t.Errorf("route test:\n%s\nwant\n%s", out, want)
	}
}

func mustRead(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCLIUsage(t *testing.T) {
	if code, _, _ := runMain(t); code != 2 {
		t.Errorf("no args: exit %d, want 2", code)
	}
	if code, _, errOut := runMain(t, "nope"); code != 2 || !strings.Contains(errOut, `unknown command "nope"`) {
		t.Errorf("unknown command: exit %d %q", code, errOut)
	}
	if code, out, _ := runMain(t, "version"); code != 0 || !strings.HasPrefix(out, "forgehook ") {
		t.Errorf("version: %d %q", code, out)
	}
}

// TestCLIVersionPrintsVersionCommitAndGo checks the three lines of
// `forgehook version`, with the commit and version set at build time as the
// release configuration sets them.
func TestCLIVersionPrintsVersionCommitAndGo(t *testing.T) {
	oldV, oldC := Version, Commit
	Version, Commit = "v1.2.3", "0123456789abcdef"
	defer func() { Version, Commit = oldV, oldC }()
	code, out, _ := runMain(t, "version")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	want := []string{"forgehook v1.2.3\n", "commit 0123456789abcdef\n", "go " + runtime.Version() + " "}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("version output %q lacks %q", out, w)
		}
	}
}
