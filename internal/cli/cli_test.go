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
	for _, want := range []string{"MATCH     main-pushes", "NO MATCH  tags", "MATCH     everything"} {
		if !strings.Contains(out, want) {
			t.Errorf("route test output lacks %q:\n%s", want, out)
		}
	}
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
