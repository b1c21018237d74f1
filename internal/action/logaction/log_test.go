package logaction

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/action"
	"github.com/forgehook/forgehook/internal/action/actiontest"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge/forgetest"
	"github.com/forgehook/forgehook/internal/forge/github"
)

func newLog(t *testing.T, block map[string]any, w *bytes.Buffer) action.Action {
	t.Helper()
	a, err := build(block, action.Env{Stdout: w})
	if err != nil {
		t.Fatalf("New(%v): %v", block, err)
	}
	return a
}

// pullRequest returns the input of GitHub's documented pull_request
// "opened" delivery.
func pullRequest(t *testing.T) action.Input {
	t.Helper()
	f, err := forgetest.Load(filepath.Join("..", "..", "forge", "github", "testdata", "deliveries", "pull_request.opened.docs.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := github.New(nil)
	return actiontest.Record(t, p, "acme-github", f.Header, f.Body)
}

func TestLogActionText(t *testing.T) {
	var out bytes.Buffer
	a := newLog(t, nil, &out)
	push := actiontest.Event(t)
	push.Trigger = "echo"
	pr := pullRequest(t)
	pr.Trigger = "echo"
	for _, in := range []action.Input{push, pr} {
		res, err := a.Do(context.Background(), in)
		if err != nil {
			t.Fatalf("Do: %v", err)
		}
		if !strings.HasSuffix(out.String(), res.Output+"\n") {
			t.Errorf("Output %q is not the printed line", res.Output)
		}
	}
	want := "2026-11-23T08:25:20Z " + push.Record.ID() + " github/push push created Codertocat/Hello-World refs/heads/master trigger=echo\n" +
		"2026-11-23T08:25:20Z " + pr.Record.ID() + " github/pull_request pull_request opened Codertocat/Hello-World pulls/2 trigger=echo\n"
	if out.String() != want {
		t.Errorf("printed\n%s\nwant\n%s", out.String(), want)
	}
}

func TestLogActionTextQuoting(t *testing.T) {
	var out bytes.Buffer
	a := newLog(t, map[string]any{"format": "text"}, &out)
	in := actiontest.Edit(t, actiontest.Event(t), func(ev *event.Event) {
		ev.Data.Normalized.Ref = "refs/heads/evil branch\nINJECTED"
		ev.Data.Normalized.Repository.FullName = ""
		ev.Time = time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	})
	in.Trigger = "t"
	if _, err := a.Do(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	want := "2026-01-02T02:04:05Z " + in.Record.ID() + ` github/push push created - "refs/heads/evil branch\nINJECTED" trigger=t` + "\n"
	if out.String() != want {
		t.Errorf("printed %q, want %q", out.String(), want)
	}
}

func TestLogActionJSON(t *testing.T) {
	var out bytes.Buffer
	a := newLog(t, map[string]any{"format": "json"}, &out)
	in := pullRequest(t)
	if _, err := a.Do(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "\n"); n != 1 || !strings.HasSuffix(out.String(), "\n") {
		t.Fatalf("printed %d lines, want 1: %q", n, out.String())
	}
	var got Line
	dec := json.NewDecoder(&out)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	want := Line{
		Time: actiontest.Received, ID: in.Record.ID(), Forge: "github", ForgeEvent: "pull_request",
		Kind: "pull_request", Action: "opened", Repository: "Codertocat/Hello-World", Ref: "pulls/2", Trigger: actiontest.Trigger,
	}
	if got != want {
		t.Errorf("line %+v, want %+v", got, want)
	}
}

func TestLogActionUndecodable(t *testing.T) {
	var out bytes.Buffer
	a := newLog(t, nil, &out)
	res, err := a.Do(context.Background(), action.Input{Record: action.NewRecord([]byte("not json"))})
	if err != nil {
		t.Fatalf("Do never fails: %v", err)
	}
	if !strings.HasSuffix(out.String(), " - -/- - - - trigger=-\n") {
		t.Errorf("empty input printed %q (Output %q)", out.String(), res.Output)
	}
}

func TestLogActionNoStdout(t *testing.T) {
	a, err := build(nil, action.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Do(context.Background(), actiontest.Event(t)); err != nil {
		t.Fatal(err)
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, bytes.ErrTooLarge }

func TestLogActionNeverFails(t *testing.T) {
	a, err := build(map[string]any{"format": "json"}, action.Env{Stdout: failWriter{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if res, err := a.Do(ctx, actiontest.Event(t)); err != nil || res.Output == "" {
		t.Errorf("Do = %+v, %v; want success with the line as Output", res, err)
	}
}

func TestLogActionConcurrent(t *testing.T) {
	var out bytes.Buffer // not safe for concurrent use: the action must serialize
	a := newLog(t, nil, &out)
	in := actiontest.Event(t)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 20 {
				_, _ = a.Do(context.Background(), in)
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 320 {
		t.Fatalf("%d lines, want 320", len(lines))
	}
	for _, l := range lines {
		if l != lines[0] {
			t.Fatalf("interleaved line %q", l)
		}
	}
}

func TestLogActionConfig(t *testing.T) {
	for _, tc := range []struct {
		block map[string]any
		err   string
	}{
		{nil, ""},
		{map[string]any{}, ""},
		{map[string]any{"format": "text"}, ""},
		{map[string]any{"format": "json"}, ""},
		{map[string]any{"format": "xml"}, `format: "xml" is not one of text, json`},
		{map[string]any{"level": "info"}, "level: unknown key"},
	} {
		_, err := build(tc.block, action.Env{})
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("New(%v) = %v, want %q", tc.block, err, tc.err)
		}
	}
}

// build decodes block as the configuration loader would and builds the
// action from it.
func build(block map[string]any, env action.Env) (action.Action, error) {
	return actiontest.Build(block, env, New)
}
