package trigger_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/forgehook/forgehook/internal/action"
	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/trigger"
)

// TestTriggerErrorsAtTheirKey: every problem of an action block, whether
// the loader's decoder, its validation or the action itself finds it, is
// reported at the line of the key at fault, all at once.
func TestTriggerErrorsAtTheirKey(t *testing.T) {
	const doc = `endpoints:
  - name: e
    provider: github
    insecure: true
triggers:
  - name: a
    http:
      url: "ftp://x/"
      format: xml
      timeout: soon
      headers: {Content-Length: "1"}
  - name: b
    exec:
      command: [./no-such-program-here]
      coalesce: true
    retry:
      initial: 1m
      max: 1s
  - name: c
    nats:
      subject: "a.{nope}"
      extra: 1
  - name: d
    log: {format: yaml}
`
	_, err := config.Parse("f.yaml", []byte(doc), config.Options{Check: trigger.Check})
	var fes config.Errors
	if !errors.As(err, &fes) {
		t.Fatalf("Parse: %v", err)
	}
	var got []string
	for _, fe := range fes {
		got = append(got, fe.Error())
	}
	want := []string{
		`f.yaml:8: triggers[0].http.url: trigger "a": scheme "ftp" is not http or https`,
		`f.yaml:9: triggers[0].http.format: "xml" is not one of cloudevents, binary, original`,
		`f.yaml:10: triggers[0].http.timeout: invalid duration "soon"`,
		`f.yaml:14: triggers[1].exec.command: trigger "b": exec: `,
		`f.yaml:15: triggers[1].exec.coalesce: needs serialize`,
		`f.yaml:18: triggers[1].retry.max: 1s is below initial (1m)`,
		`f.yaml:21: triggers[2].nats.subject: trigger "c": unknown placeholder {nope}`,
		`f.yaml:22: triggers[2].nats.extra: unknown key`,
		`f.yaml:24: triggers[3].log.format: "yaml" is not one of text, json`,
	}
	if len(got) != len(want) {
		t.Errorf("%d problems, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			if strings.HasPrefix(g, w) {
				found = true
			}
		}
		if !found {
			t.Errorf("missing %q in\n%s", w, strings.Join(got, "\n"))
		}
	}
}

// TestTriggerDefaults: a trigger built in code gets config's defaults.
func TestTriggerDefaults(t *testing.T) {
	ts, err := trigger.Build(&config.Config{Triggers: []config.Trigger{{Name: "t", HTTP: &config.HTTPAction{URL: "http://127.0.0.1:1/"}}}}, actionEnv())
	if err != nil {
		t.Fatal(err)
	}
	defer trigger.Close(ts)
	r := ts[0].Retry
	if r.MaxAttempts != config.DefaultMaxAttempts || r.Initial != config.DefaultRetryInitial.D() || r.Max != config.DefaultRetryMax.D() || ts[0].Concurrency != 1 {
		t.Errorf("retry %+v concurrency %d", r, ts[0].Concurrency)
	}
}

func actionEnv() action.Env { return action.Env{} }

// TestTriggerTypeErrorsAtWhen: a misspelled field of the record and a
// comparison of mismatched types are configuration errors at the line
// of when (what `config check` and start-up report), and twins is read.
func TestTriggerTypeErrorsAtWhen(t *testing.T) {
	const doc = `triggers:
  - name: a
    when: 'event.brnch == "main"'
    log:
  - name: b
    log:
    when: event.kind == 1
  - name: c
    when: |
      event.kind == "push" &&
        event.repository.fullname == "acme/app"
    log:
  - name: d
    when: 'event.kind == "tag" && !event.deleted'
    twins: true
    log:
  - name: e
    twins: maybe
    log:
`
	_, err := config.Parse("f.yaml", []byte(doc), config.Options{Check: trigger.Check})
	var fes config.Errors
	if !errors.As(err, &fes) {
		t.Fatalf("Parse: %v", err)
	}
	var got []string
	for _, fe := range fes {
		got = append(got, fe.Error())
	}
	want := []string{
		`f.yaml:3: triggers[0].when: trigger "a": 1:6: undefined field 'brnch'`,
		`f.yaml:7: triggers[1].when: trigger "b": 1:12: found no matching overload for '_==_' applied to '(string, int)'`,
		`f.yaml:9: triggers[2].when: trigger "c": 2:19: undefined field 'fullname'`,
		`f.yaml:18: triggers[4].twins: `,
	}
	if len(got) != len(want) {
		t.Errorf("%d problems, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || strings.HasPrefix(g, w)
		}
		if !found {
			t.Errorf("missing %q in\n%s", w, strings.Join(got, "\n"))
		}
	}

	cfg, err := config.Parse("f.yaml", []byte(`triggers:
  - {name: a, when: 'event.kind == "tag"', log: }
  - {name: b, when: 'event.kind == "tag"', twins: true, log: }
`), config.Options{Check: trigger.Check})
	if err != nil {
		t.Fatal(err)
	}
	ts, err := trigger.Build(cfg, actionEnv())
	if err != nil {
		t.Fatal(err)
	}
	defer trigger.Close(ts)
	if !ts[0].SkipsTwin(true) || ts[0].SkipsTwin(false) || ts[1].SkipsTwin(true) || ts[1].Twins != true {
		t.Errorf("SkipsTwin: a %v/%v, b %v", ts[0].SkipsTwin(true), ts[0].SkipsTwin(false), ts[1].SkipsTwin(true))
	}
}
