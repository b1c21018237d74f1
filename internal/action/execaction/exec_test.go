//go:build unix

package execaction

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/forgehook/forgehook/internal/action"
	"github.com/forgehook/forgehook/internal/action/actiontest"
	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
)

// patience bounds every wait of these tests; runs take milliseconds.
const patience = 10 * time.Second

// script writes an executable sh script to a new temporary directory and
// returns its path.
func script(t testing.TB, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "run.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// newExec builds an exec action and closes it at the end of the test.
func newExec(t testing.TB, block map[string]any, log *slog.Logger) *Exec {
	t.Helper()
	a, err := build(block, action.Env{Logger: log})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e := a.(*Exec)
	t.Cleanup(func() { e.Close() })
	return e
}

// testEvent is a push to acme/app main.
func testEvent(id string) *event.Event {
	ev := &event.Event{
		ID: id, Forge: "github", ForgeEvent: "push", Endpoint: "acme-github",
		Time: time.Date(2026, 11, 23, 8, 25, 20, 0, time.UTC),
		Data: event.Data{
			Header: map[string][]string{"X-GitHub-Event": {"push"}},
			Body:   json.RawMessage(`{"ref":"refs/heads/main"}`),
			Normalized: event.Fields{
				Kind: event.KindPush, Forge: "github",
				Repository: event.Repository{FullName: "acme/app", Name: "app", Owner: "acme"},
				Ref:        "refs/heads/main", Branch: "main",
				Before: "6113728f27ae82c7b1a177c8d03f9e96e0adf246", After: "59b20b8d5c6ff8d09518454d4dd8b7b30f095ab5",
			},
		},
	}
	ev.Envelope()
	return ev
}

// input offers ev to trigger "t" as its first attempt.
func input(t testing.TB, ev *event.Event, key string) action.Input {
	t.Helper()
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return action.Input{Record: action.NewRecord(raw), Trigger: "t", Attempt: 1, Key: key}
}

// waitFor polls cond until it holds, failing the test after patience.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(patience); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// readPID waits for a script to write a pid to path.
func readPID(t testing.TB, path string) int {
	t.Helper()
	var pid int
	waitFor(t, path, func() bool {
		b, err := os.ReadFile(path)
		if err != nil || !bytes.HasSuffix(b, []byte("\n")) {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil
	})
	return pid
}

// gone reports whether pid has exited: no such process, or a zombie that
// its new parent has not reaped yet (a container's pid 1 may never reap).
func gone(pid int) bool {
	if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
		return true
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && b[i+2] == 'Z'
}

// waitGone fails the test unless every pid exits within a short poll.
func waitGone(t testing.TB, pids ...int) {
	t.Helper()
	for _, pid := range pids {
		waitFor(t, fmt.Sprintf("pid %d to exit", pid), func() bool { return gone(pid) })
	}
}

func TestExecSuccess(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("FORGEHOOK_TEST_LEAK", "must-not-leak")
	t.Setenv("LANG", "C.UTF-8")
	t.Setenv("TMPDIR", dir)
	sh := script(t, `
cat > "$OUT/stdin"
env > "$OUT/env"
fail() { echo "$1" >&2; exit 9; }
[ "$FORGEHOOK_EVENT_ID" = ev-1 ] || fail "FORGEHOOK_EVENT_ID=$FORGEHOOK_EVENT_ID"
[ "$FORGEHOOK_REF" = refs/heads/main ] || fail "FORGEHOOK_REF=$FORGEHOOK_REF"
[ "$FORGEHOOK_PR_NUMBER" = "" ] || fail "FORGEHOOK_PR_NUMBER=$FORGEHOOK_PR_NUMBER"
[ "$(pwd)" = "$OUT" ] || fail "pwd=$(pwd)"
[ -z "$FORGEHOOK_TEST_LEAK" ] || fail "leaked"
echo "deployed $FORGEHOOK_REPOSITORY@$FORGEHOOK_BRANCH"
`)
	e := newExec(t, map[string]any{
		"command": []any{sh},
		"dir":     dir,
		"env":     map[string]any{"OUT": dir, "EXTRA": 42},
	}, nil)
	in := input(t, testEvent("ev-1"), "")
	in.Attempt = 3
	res, err := e.Do(t.Context(), in)
	if err != nil {
		t.Fatalf("Do: %v (output %q)", err, res.Output)
	}
	if want := (action.Result{Output: "deployed acme/app@main\n"}); res != want {
		t.Errorf("Result = %+v, want %+v", res, want)
	}
	stdin, err := os.ReadFile(filepath.Join(dir, "stdin"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stdin, in.Record.Raw()) {
		t.Errorf("stdin = %q, want the record %q", stdin, in.Record.Raw())
	}

	envText, err := os.ReadFile(filepath.Join(dir, "env"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for line := range strings.Lines(string(envText)) {
		k, v, _ := strings.Cut(strings.TrimSuffix(line, "\n"), "=")
		switch k {
		case "PWD", "OLDPWD", "SHLVL", "_": // set by the shell itself
			continue
		}
		got[k] = v
	}
	want := map[string]string{
		"PATH": os.Getenv("PATH"), "LANG": "C.UTF-8", "TMPDIR": dir,
		"OUT": dir, "EXTRA": "42",
		"FORGEHOOK_EVENT_ID": "ev-1", "FORGEHOOK_KIND": "push", "FORGEHOOK_ACTION": "",
		"FORGEHOOK_FORGE": "github", "FORGEHOOK_FORGE_EVENT": "push", "FORGEHOOK_ENDPOINT": "acme-github",
		"FORGEHOOK_REPOSITORY": "acme/app", "FORGEHOOK_REF": "refs/heads/main",
		"FORGEHOOK_BRANCH": "main", "FORGEHOOK_TAG": "",
		"FORGEHOOK_BEFORE":    "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
		"FORGEHOOK_AFTER":     "59b20b8d5c6ff8d09518454d4dd8b7b30f095ab5",
		"FORGEHOOK_PR_NUMBER": "", "FORGEHOOK_TRIGGER": "t", "FORGEHOOK_ATTEMPT": "3",
	}
	if h := os.Getenv("HOME"); h != "" {
		want["HOME"] = h
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %q (set %v), want %q", k, g, ok, v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected variable %s in the command's environment", k)
		}
	}
}

func TestExecPullRequestNumber(t *testing.T) {
	sh := script(t, `echo "pr=$FORGEHOOK_PR_NUMBER kind=$FORGEHOOK_KIND action=$FORGEHOOK_ACTION"`)
	e := newExec(t, map[string]any{"command": []any{sh}}, nil)
	ev := testEvent("ev-pr")
	ev.Data.Normalized.Kind = event.KindPullRequest
	ev.Data.Normalized.Action = "opened"
	ev.Data.Normalized.PullRequest.Number = 42
	res, err := e.Do(t.Context(), input(t, ev, ""))
	if err != nil || res.Output != "pr=42 kind=pull_request action=opened\n" {
		t.Errorf("Do = %+v, %v", res, err)
	}
}

func TestExecVariablesFromRecord(t *testing.T) {
	// The variables come from the stored bytes, decoded once.
	sh := script(t, `echo "id=$FORGEHOOK_EVENT_ID pr=$FORGEHOOK_PR_NUMBER kind=$FORGEHOOK_KIND repo=$FORGEHOOK_REPOSITORY endpoint=$FORGEHOOK_ENDPOINT"`)
	e := newExec(t, map[string]any{"command": []any{sh}}, nil)
	ev := testEvent("ev-raw")
	ev.Data.Normalized.Kind = event.KindPullRequest
	ev.Data.Normalized.PullRequest.Number = 7
	res, err := e.Do(t.Context(), input(t, ev, ""))
	if want := "id=ev-raw pr=7 kind=pull_request repo=acme/app endpoint=acme-github\n"; err != nil || res.Output != want {
		t.Errorf("Do = %+v, %v; want output %q", res, err, want)
	}
}

func TestExecExitCode(t *testing.T) {
	sh := script(t, "echo compiling\necho 'error: boom' >&2\nexit 3\n")
	e := newExec(t, map[string]any{"command": []any{sh}}, nil)
	res, err := e.Do(t.Context(), input(t, testEvent("ev-1"), ""))
	if err == nil || err.Error() != "exit status 3" {
		t.Fatalf("err = %v, want exit status 3", err)
	}
	if want := (action.Result{Retry: true, Status: 3, Output: "compiling\nerror: boom\n"}); res != want {
		t.Errorf("Result = %+v, want %+v", res, want)
	}
}

func TestExecKilledBySignal(t *testing.T) {
	sh := script(t, "kill -SEGV $$\n")
	e := newExec(t, map[string]any{"command": []any{sh}}, nil)
	res, err := e.Do(t.Context(), input(t, testEvent("ev-1"), ""))
	if err == nil || !strings.HasPrefix(err.Error(), "killed by signal ") || !res.Retry || res.Status != 0 {
		t.Errorf("Do = %+v, %v; want a retryable killed by signal", res, err)
	}
}

func TestExecStartFailure(t *testing.T) {
	sh := script(t, "exit 0\n")
	e := newExec(t, map[string]any{"command": []any{sh, "arg"}}, nil)
	if err := os.Chmod(sh, 0o644); err != nil { // after New resolved it
		t.Fatal(err)
	}
	res, err := e.Do(t.Context(), input(t, testEvent("ev-1"), ""))
	if !errors.Is(err, os.ErrPermission) || !strings.HasPrefix(err.Error(), "start: ") {
		t.Errorf("err = %v, want start: ... permission denied", err)
	}
	if res.Retry {
		t.Errorf("Retry = true for a command that cannot start")
	}
}

// TestExecTimeoutKillsGroup checks that a timeout ends the command and the
// children it started in the background.
func TestExecTimeoutKillsGroup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sh := script(t, `sleep 60 &
echo $! > "$D/child"
echo $$ > "$D/leader"
echo started
sleep 60
`)
	e := newExec(t, map[string]any{"command": []any{sh}, "timeout": "1s", "env": map[string]any{"D": dir}}, nil)
	start := time.Now()
	res, err := e.Do(t.Context(), input(t, testEvent("ev-1"), ""))
	took := time.Since(start)
	var te *TimeoutError
	if !errors.As(err, &te) || !errors.Is(err, context.DeadlineExceeded) || err.Error() != "timed out after 1s" {
		t.Fatalf("err = %v, want timed out after 1s", err)
	}
	if !res.Retry || res.Status != 0 || res.Output != "started\n" {
		t.Errorf("Result = %+v", res)
	}
	if took > 4*time.Second {
		t.Errorf("Do took %v after a 1s timeout", took)
	}
	waitGone(t, readPID(t, filepath.Join(dir, "leader")), readPID(t, filepath.Join(dir, "child")))
}

// TestExecKillAfterGrace checks SIGKILL for a group that ignores SIGTERM.
func TestExecKillAfterGrace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sh := script(t, `trap '' TERM
sleep 60 &
echo $! > "$D/child"
echo $$ > "$D/leader"
while :; do sleep 0.05; done
`)
	e := newExec(t, map[string]any{"command": []any{sh}, "timeout": "300ms", "env": map[string]any{"D": dir}}, nil)
	e.grace = 300 * time.Millisecond
	start := time.Now()
	_, err := e.Do(t.Context(), input(t, testEvent("ev-1"), ""))
	if took := time.Since(start); took < 600*time.Millisecond || took > 5*time.Second {
		t.Errorf("Do took %v; want the timeout plus the grace (600ms), and not much more", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want a timeout", err)
	}
	waitGone(t, readPID(t, filepath.Join(dir, "leader")), readPID(t, filepath.Join(dir, "child")))
}

// TestExecCancel checks that a cancelled ctx stops a running command.
func TestExecCancel(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sh := script(t, `sleep 60 &
echo $! > "$D/child"
echo $$ > "$D/leader"
wait
`)
	e := newExec(t, map[string]any{"command": []any{sh}, "env": map[string]any{"D": dir}}, nil)
	ctx, cancel := context.WithCancel(t.Context())
	type result struct {
		res action.Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := e.Do(ctx, input(t, testEvent("ev-1"), ""))
		done <- result{res, err}
	}()
	leader := readPID(t, filepath.Join(dir, "leader"))
	child := readPID(t, filepath.Join(dir, "child"))
	cancel()
	select {
	case r := <-done:
		if !errors.Is(r.err, context.Canceled) || !strings.HasPrefix(r.err.Error(), "stopped: ") || !r.res.Retry {
			t.Errorf("Do = %+v, %v; want a retryable stopped: context canceled", r.res, r.err)
		}
	case <-time.After(patience):
		t.Fatal("Do did not return after its ctx was cancelled")
	}
	waitGone(t, leader, child)
}

// TestExecClose checks that Close stops running commands and later calls.
func TestExecClose(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sh := script(t, `echo $$ > "$D/leader"
sleep 60
`)
	e := newExec(t, map[string]any{"command": []any{sh}, "env": map[string]any{"D": dir}}, nil)
	done := make(chan error, 1)
	go func() {
		_, err := e.Do(t.Context(), input(t, testEvent("ev-1"), ""))
		done <- err
	}()
	leader := readPID(t, filepath.Join(dir, "leader"))
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if !gone(leader) { // Close waited for Do, which waited for the process
		t.Error("Close returned before the running command ended")
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("running Do: err = %v, want ErrClosed", err)
		}
	case <-time.After(patience):
		t.Fatal("the running Do did not return")
	}
	if res, err := e.Do(t.Context(), input(t, testEvent("ev-2"), "")); !errors.Is(err, ErrClosed) || !res.Retry {
		t.Errorf("Do after Close = %+v, %v; want a retryable ErrClosed", res, err)
	}
}

// TestExecLeftoverChildren checks that processes a successful command
// leaves behind in its group are ended, without waiting for the grace
// although they hold the output open.
func TestExecLeftoverChildren(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sh := script(t, `sleep 60 &
echo $! > "$D/child"
echo bye
`)
	e := newExec(t, map[string]any{"command": []any{sh}, "env": map[string]any{"D": dir}}, nil)
	start := time.Now()
	res, err := e.Do(t.Context(), input(t, testEvent("ev-1"), ""))
	if err != nil || res.Output != "bye\n" {
		t.Errorf("Do = %+v, %v", res, err)
	}
	if took := time.Since(start); took > KillGrace/2 {
		t.Errorf("Do took %v: it waited for the grace", took)
	}
	waitGone(t, readPID(t, filepath.Join(dir, "child")))
}

// TestExecIgnoresStdin checks that a command that does not read a large
// record on stdin still succeeds.
func TestExecIgnoresStdin(t *testing.T) {
	sh := script(t, "exit 0\n")
	e := newExec(t, map[string]any{"command": []any{sh}}, nil)
	in := input(t, testEvent("ev-1"), "")
	in.Record = action.NewRecord(bytes.Repeat([]byte("x"), 4<<20))
	if res, err := e.Do(t.Context(), in); err != nil {
		t.Errorf("Do = %+v, %v", res, err)
	}
}

// TestExecDoIgnoresKey: the delivery loop serializes the runs of a key,
// so two runs with one key overlap when called at once, and Coalesce
// reports the block's setting.
func TestExecDoIgnoresKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := newExec(t, map[string]any{
		"command": []any{script(t, "touch \"$D/$FORGEHOOK_EVENT_ID\"\nwhile [ ! -e \"$D/k1\" ] || [ ! -e \"$D/k2\" ]; do sleep 0.01; done\n")},
		"env":     map[string]any{"D": dir}, "serialize": "event.ref", "coalesce": true,
	}, nil)
	if !e.Coalesce() {
		t.Error("Coalesce() = false with coalesce: true")
	}
	errs := make(chan error, 2)
	for _, id := range []string{"k1", "k2"} {
		in := input(t, testEvent(id), "k")
		go func() {
			_, err := e.Do(t.Context(), in)
			errs <- err
		}()
	}
	for range 2 {
		select {
		case err := <-errs:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(patience):
			t.Fatal("runs of one key waited for each other inside the action")
		}
	}
	if plain := newExec(t, map[string]any{"command": []any{script(t, "true\n")}}, nil); plain.Coalesce() {
		t.Error("Coalesce() = true by default")
	}
}

func TestExecOutput(t *testing.T) {
	t.Run("combined in order", func(t *testing.T) {
		sh := script(t, "echo out1\necho err1 >&2\necho out2\n")
		e := newExec(t, map[string]any{"command": []any{sh}}, nil)
		res, err := e.Do(t.Context(), input(t, testEvent("ev-1"), ""))
		if err != nil || res.Output != "out1\nerr1\nout2\n" {
			t.Errorf("Do = %+v, %v", res, err)
		}
	})
	t.Run("tail of a long output", func(t *testing.T) {
		sh := script(t, "head -c 200000 /dev/zero | tr '\\0' x\necho\necho END >&2\n")
		e := newExec(t, map[string]any{"command": []any{sh}}, nil)
		res, err := e.Do(t.Context(), input(t, testEvent("ev-1"), ""))
		if err != nil {
			t.Fatal(err)
		}
		want := truncMarker + strings.Repeat("x", action.OutputLimit-len(truncMarker)-5) + "\nEND\n"
		if res.Output != want {
			t.Errorf("Output (%d bytes) = %.40q...%q, want %d bytes", len(res.Output), res.Output, res.Output[max(0, len(res.Output)-10):], len(want))
		}
	})
	t.Run("output_limit", func(t *testing.T) {
		sh := script(t, "i=0; while [ $i -lt 300 ]; do echo \"line $i\"; i=$((i+1)); done\n")
		e := newExec(t, map[string]any{"command": []any{sh}, "output_limit": "100"}, nil)
		res, err := e.Do(t.Context(), input(t, testEvent("ev-1"), ""))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(res.Output, truncMarker) || len(res.Output) != len(truncMarker)+100 || !strings.HasSuffix(res.Output, "\nline 299\n") {
			t.Errorf("Output = %q, want the marker and the last 100 bytes", res.Output)
		}
	})
	t.Run("cut at a rune", func(t *testing.T) {
		// 3-byte runes: the 4080-byte window starts inside one.
		sh := script(t, "i=0; while [ $i -lt 2000 ]; do printf '€'; i=$((i+1)); done\n")
		e := newExec(t, map[string]any{"command": []any{sh}}, nil)
		res, err := e.Do(t.Context(), input(t, testEvent("ev-1"), ""))
		if err != nil {
			t.Fatal(err)
		}
		body, ok := strings.CutPrefix(res.Output, truncMarker)
		if !ok || len(res.Output) > action.OutputLimit || strings.Trim(body, "€") != "" {
			t.Errorf("Output = %q", res.Output)
		}
	})
}

// TestExecMasksSecrets checks that the values of credential-like env
// variables never reach Output, the error or the log.
func TestExecMasksSecrets(t *testing.T) {
	const secret = "hunter2-very-secret"
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sh := script(t, `echo "using $API_TOKEN and $DEPLOY_PASSWORD for $TARGET"; exit 1`)
	e := newExec(t, map[string]any{
		"command": []any{sh},
		"env":     map[string]any{"API_TOKEN": secret, "DEPLOY_PASSWORD": "pw" + secret, "TARGET": "prod"},
	}, log)
	res, err := e.Do(t.Context(), input(t, testEvent("ev-1"), ""))
	if err == nil {
		t.Fatal("no error")
	}
	if want := "using [redacted] and [redacted] for prod\n"; res.Output != want {
		t.Errorf("Output = %q, want %q", res.Output, want)
	}
	if !strings.Contains(logs.String(), "exec: run") {
		t.Errorf("no debug line logged:\n%s", logs.String())
	}
	for name, s := range map[string]string{"error": err.Error(), "log": logs.String(), "output": res.Output} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("%s leaks the secret: %s", name, s)
		}
	}
}

func TestExecConfig(t *testing.T) {
	dir := t.TempDir()
	sh := script(t, "exit 0\n")
	if err := os.WriteFile(filepath.Join(dir, "ci.sh"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "plain"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "my-deployer"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := []any{sh}
	for _, tc := range []struct {
		name  string
		block map[string]any
		want  string // error prefix, "" for none
	}{
		{"minimal", map[string]any{"command": cmd}, ""},
		{"no command", map[string]any{}, "command: required"},
		{"empty command", map[string]any{"command": []any{}}, "command: required"},
		{"string command", map[string]any{"command": "./ci.sh --fast"}, "command: expected a list, got a string"},
		{"empty program", map[string]any{"command": []any{""}}, "command: required"},
		{"list argument", map[string]any{"command": []any{sh, []any{"x"}}}, "command[1]: expected a string, got a list"},
		{"not found", map[string]any{"command": []any{"forgehook-no-such-program"}}, `command: "forgehook-no-such-program": executable file not found in PATH`},
		{"missing path", map[string]any{"command": []any{"./nope.sh"}, "dir": dir}, "command: exec: "},
		{"not executable", map[string]any{"command": []any{"./plain"}, "dir": dir}, "command: exec: "},
		{"relative to dir", map[string]any{"command": []any{"./ci.sh"}, "dir": dir}, ""},
		{"bare name in env PATH", map[string]any{"command": []any{"my-deployer"}, "env": map[string]any{"PATH": bin}}, ""},
		{"bare name in PATH", map[string]any{"command": []any{"sh", "-c", "true"}}, ""},
		{"numbers in argv", map[string]any{"command": []any{"sleep", 5}}, ""},
		{"unknown key", map[string]any{"command": cmd, "shell": true}, "shell: unknown key"},
		{"dir missing", map[string]any{"command": cmd, "dir": filepath.Join(dir, "nope")}, "dir: stat "},
		{"dir is a file", map[string]any{"command": cmd, "dir": filepath.Join(dir, "plain")}, "dir: "},
		{"timeout", map[string]any{"command": cmd, "timeout": "30m"}, ""},
		{"timeout days", map[string]any{"command": cmd, "timeout": "1d"}, ""},
		{"timeout bad", map[string]any{"command": cmd, "timeout": "soon"}, `timeout: invalid duration "soon"`},
		{"timeout bare number", map[string]any{"command": cmd, "timeout": 30}, `timeout: invalid duration "30"`},
		{"timeout negative", map[string]any{"command": cmd, "timeout": "-1s"}, "timeout: must not be negative"},
		{"output_limit", map[string]any{"command": cmd, "output_limit": "1MiB"}, ""},
		{"output_limit bytes", map[string]any{"command": cmd, "output_limit": 2048}, ""},
		{"output_limit bad", map[string]any{"command": cmd, "output_limit": "lots"}, `output_limit: invalid size "lots"`},
		{"output_limit negative", map[string]any{"command": cmd, "output_limit": -1}, `output_limit: invalid size "-1"`},
		{"output_limit huge", map[string]any{"command": cmd, "output_limit": "2GiB"}, "output_limit: 2GiB is more than 1GiB"},
		{"output_limit list", map[string]any{"command": cmd, "output_limit": []any{1}}, "output_limit: expected a size, got a list"},
		{"env values", map[string]any{"command": cmd, "env": map[string]any{"A": "x", "N": 1, "B": true, "E": ""}}, ""},
		{"env list", map[string]any{"command": cmd, "env": []any{"A=1"}}, "env: expected a mapping, got a list"},
		{"env nested", map[string]any{"command": cmd, "env": map[string]any{"A": map[string]any{"b": 1}}}, "env.A: expected a string, got a mapping"},
		{"env null", map[string]any{"command": cmd, "env": map[string]any{"A": nil}}, "env.A: needs a value"},
		{"env bad name", map[string]any{"command": cmd, "env": map[string]any{"A=B": "x"}}, `env: "A=B" is not a valid variable name`},
		{"env reserved", map[string]any{"command": cmd, "env": map[string]any{"FORGEHOOK_REF": "x"}}, "env.FORGEHOOK_REF: reserved"},
		{"env forgehook other", map[string]any{"command": cmd, "env": map[string]any{"FORGEHOOK_ADMIN_TOKEN": "x"}}, ""},
		{"coalesce", map[string]any{"command": cmd, "serialize": "event.ref", "coalesce": true}, ""},
		{"coalesce without serialize", map[string]any{"command": cmd, "coalesce": true}, "coalesce: needs serialize"},
		{"coalesce from ${VAR}", map[string]any{"command": cmd, "serialize": "event.ref", "coalesce": "True"}, ""},
		{"coalesce bad", map[string]any{"command": cmd, "coalesce": "yes"}, `coalesce: expected true or false, got "yes"`},
		{"serialize", map[string]any{"command": cmd, "serialize": "event.repository.full_name"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := build(tc.block, action.Env{})
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("New: %v", err)
			case tc.want != "" && err == nil:
				t.Errorf("New: no error, want %q", tc.want)
			case tc.want != "" && !strings.HasPrefix(err.Error(), tc.want):
				t.Errorf("New: %v, want %q...", err, tc.want)
			}
			if a != nil {
				a.(*Exec).Close()
			}
		})
	}
}

func TestExecConfigValues(t *testing.T) {
	sh := script(t, "exit 0\n")
	getenv := func(name string) string {
		return map[string]string{"PATH": "/usr/bin:/bin", "HOME": "/home/fh", "SECRET": "s3cr3t!", "LANG": ""}[name]
	}
	for _, tc := range []struct {
		block map[string]any
		check func(*settings) bool
	}{
		{map[string]any{"command": []any{sh}}, func(s *settings) bool {
			return s.timeout == config.DefaultExecTimeout.D() && s.outputLimit == int(config.DefaultExecOutputLimit) && !s.coalesce && s.dir == "" &&
				slices.Equal(s.env, []string{"PATH=/usr/bin:/bin", "HOME=/home/fh"}) && s.path == sh
		}},
		{map[string]any{"command": []any{sh}, "timeout": "0", "output_limit": 0}, func(s *settings) bool {
			return s.timeout == config.DefaultExecTimeout.D() && s.outputLimit == int(config.DefaultExecOutputLimit) // zero means default
		}},
		{map[string]any{"command": []any{sh}, "timeout": "1h30m", "output_limit": "1 KiB"}, func(s *settings) bool {
			return s.timeout == 90*time.Minute && s.outputLimit == 1024
		}},
		{map[string]any{"command": []any{"sh", "-c", "x"}, "env": map[string]any{"PATH": "/bin", "Z": "1", "A": "2", "MY_TOKEN": "abc", "GH_TOKEN": "abcd"}}, func(s *settings) bool {
			return slices.Equal(s.env, []string{"PATH=/bin", "HOME=/home/fh", "A=2", "GH_TOKEN=abcd", "MY_TOKEN=abc", "Z=1"}) &&
				s.path == "/bin/sh" && slices.Equal(s.args, []string{"sh", "-c", "x"}) &&
				len(s.secrets) == 1 && string(s.secrets[0]) == "abcd" // "abc" is too short to mask
		}},
	} {
		text, err := yaml.Marshal(tc.block)
		if err != nil {
			t.Fatal(err)
		}
		var b config.ExecAction
		if err := config.DecodeBlock("", text, &b, config.Options{}); err != nil {
			t.Fatalf("%v: %v", tc.block, err)
		}
		s, err := parse(&b, getenv)
		if err != nil {
			t.Errorf("%v: %v", tc.block, err)
			continue
		}
		if !tc.check(s) {
			t.Errorf("%v: got %+v", tc.block, *s)
		}
	}
}

func TestExecTail(t *testing.T) {
	for _, limit := range []int{1, 7, 64} {
		tl := &tail{limit: limit}
		var all []byte
		for i := range 200 {
			p := bytes.Repeat([]byte{byte('a' + i%26)}, (i*7)%23)
			p = append(p, byte('0'+i%10))
			n, _ := tl.Write(p)
			if n != len(p) {
				t.Fatalf("Write returned %d, want %d", n, len(p))
			}
			all = append(all, p...)
			got, cut := tl.Bytes()
			want := all[max(0, len(all)-limit):]
			if !bytes.Equal(got, want) || cut != (len(all) > limit) {
				t.Fatalf("limit %d, after %d writes: Bytes = %q, %v; want %q", limit, i+1, got, cut, want)
			}
		}
	}
}

func TestExecExcerpt(t *testing.T) {
	if got := excerpt([]byte("short"), false); got != "short" {
		t.Errorf("excerpt = %q", got)
	}
	if got := excerpt([]byte("short"), true); got != truncMarker+"short" {
		t.Errorf("excerpt of a cut output = %q", got)
	}
	exact := bytes.Repeat([]byte("y"), action.OutputLimit)
	if got := excerpt(exact, false); got != string(exact) {
		t.Errorf("excerpt of %d bytes was changed", len(exact))
	}
	long := append(bytes.Repeat([]byte("y"), 10000), "tail"...)
	if got := excerpt(long, false); len(got) != action.OutputLimit || !strings.HasSuffix(got, "ytail") || !strings.HasPrefix(got, truncMarker) {
		t.Errorf("excerpt of a long output: %d bytes %.30q", len(got), got)
	}
}

func BenchmarkExecTrue(b *testing.B) {
	e := newExec(b, map[string]any{"command": []any{"/bin/true"}}, nil)
	in := input(b, testEvent("ev-1"), "")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Do(b.Context(), in); err != nil {
			b.Fatal(err)
		}
	}
}

// build decodes block as the configuration loader would and builds the
// action from it.
func build(block map[string]any, env action.Env) (action.Action, error) {
	return actiontest.Build(block, env, New)
}
