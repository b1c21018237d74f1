// Package execaction implements the exec action: for each event it runs a
// command (an argv list, no shell) with the event record on stdin and the
// FORGEHOOK_* variables in its environment. Exit code 0 is success; a
// non-zero exit or a timeout is a failure worth retrying.
//
// Each run is a process group of its own. A timeout, a cancelled context or
// Close sends SIGTERM to the whole group and SIGKILL after KillGrace, so
// that the command's children end with it; processes of the group still
// running when the command exits are ended the same way (a daemon that must
// outlive its run has to leave the group, with setsid).
//
// The delivery loop (package deliver) runs the events of one serialize key
// one at a time and in order, retries included; with coalesce (see
// Exec.Coalesce) it also skips the older of the events waiting for a key.
//
// The environment of a command is deliberately small: PATH, HOME, LANG and
// TMPDIR from forgehook's own environment, the block's env, then the
// FORGEHOOK_* variables. forgehook's environment typically holds the
// secrets its configuration refers to as ${VAR}; a command gets only those
// its block passes on by name (env: {TOKEN: "${DEPLOY_TOKEN}"}).
package execaction

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/forgehook/forgehook/internal/action"
	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
)

// ErrClosed is the cause of the error of a run that Close stopped, and the
// error of Do after Close.
var ErrClosed = errors.New("exec action closed")

// drainWait bounds the wait for the end of a run's output once its process
// group has been killed: only a process that left the group can hold the
// output open longer.
const drainWait = 500 * time.Millisecond

// Exec is the exec action of one trigger. Its methods are safe for
// concurrent use.
type Exec struct {
	s     *settings
	log   *slog.Logger
	grace time.Duration // between SIGTERM and SIGKILL; KillGrace but in tests

	wg sync.WaitGroup // one per Do in progress

	mu      sync.Mutex                         // guards the fields below; the only lock
	runs    map[uint64]context.CancelCauseFunc // Do calls in progress, for Close
	nextRun uint64
	closed  bool
}

var (
	_ action.Action    = (*Exec)(nil)
	_ action.Closer    = (*Exec)(nil)
	_ action.Coalescer = (*Exec)(nil)
)

// New builds an exec action from a trigger's exec block (see
// docs/actions.md). It resolves command[0] at once: a program that cannot
// be found, or is not executable, is an error, as is a dir that is not a
// directory. Every error starts with the key it is about. env.Logger may be
// nil.
func New(block *config.ExecAction, env action.Env) (action.Action, error) {
	if !supported {
		return nil, fmt.Errorf("exec: needs Unix process groups, not available on %s: %w", runtime.GOOS, errors.ErrUnsupported)
	}
	s, err := parse(block, os.Getenv)
	if err != nil {
		return nil, err
	}
	log := env.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Exec{
		s:     s,
		log:   log,
		grace: KillGrace,
		runs:  map[uint64]context.CancelCauseFunc{},
	}, nil
}

// Coalesce reports the block's coalesce setting: with a serialize key, of
// the events waiting for their key only the newest runs.
func (e *Exec) Coalesce() bool { return e.s.coalesce }

// Do runs the command once for in and returns when the command and the
// processes of its group have ended. It does not modify in.Raw, which the
// command reads on stdin. It does not look at in.Key: the delivery loop
// serializes the runs of a key.
//
// A nil error is success: exit code 0. Errors: a non-zero exit
// (Result.Status holds the code) or death by a signal, a timeout, and ctx
// ending are retryable (Result.Retry); a command that cannot be started is
// not. Result.Output is the tail of the combined stdout and stderr, with the
// values of credential-like env variables masked.
func (e *Exec) Do(ctx context.Context, in action.Input) (action.Result, error) {
	ctx, done, err := e.begin(ctx)
	if err != nil {
		return action.Result{Retry: true}, err
	}
	defer done()
	return e.run(ctx, in)
}

// Close stops the runs in progress (as a cancelled context would), waits
// for their Do calls to return, and makes later calls fail with ErrClosed.
func (e *Exec) Close() error {
	e.mu.Lock()
	e.closed = true
	for _, cancel := range e.runs {
		cancel(ErrClosed)
	}
	e.mu.Unlock()
	e.wg.Wait()
	return nil
}

// begin registers a Do call with Close and returns its context and the
// function that ends it.
func (e *Exec) begin(ctx context.Context) (context.Context, func(), error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, nil, ErrClosed
	}
	ctx, cancel := context.WithCancelCause(ctx)
	id := e.nextRun
	e.nextRun++
	e.runs[id] = cancel
	e.wg.Add(1)
	return ctx, func() {
		e.mu.Lock()
		delete(e.runs, id)
		e.mu.Unlock()
		cancel(nil)
		e.wg.Done()
	}, nil
}

// TimeoutError is the error of a run that its timeout ended. It matches
// context.DeadlineExceeded with errors.Is.
type TimeoutError struct {
	// After is the timeout.
	After time.Duration
}

// Error returns "timed out after <timeout>".
func (e *TimeoutError) Error() string {
	return "timed out after " + config.Duration(e.After).String()
}

// Unwrap returns context.DeadlineExceeded.
func (e *TimeoutError) Unwrap() error { return context.DeadlineExceeded }

// run runs the command once.
func (e *Exec) run(ctx context.Context, in action.Input) (action.Result, error) {
	// The FORGEHOOK_* variables need the decoded record; the delivery
	// loop passes only the stored bytes. A record that does not decode
	// leaves them empty.
	_, _ = in.Record()
	timeout := &TimeoutError{After: e.s.timeout}
	runCtx, cancel := context.WithTimeoutCause(ctx, e.s.timeout, timeout)
	defer cancel()

	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		return action.Result{Retry: true}, fmt.Errorf("stdin pipe: %w", err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		stdinR.Close()
		stdinW.Close()
		return action.Result{Retry: true}, fmt.Errorf("output pipe: %w", err)
	}

	// The pipes are ours, not os/exec's, so that Wait returns as soon as
	// the command exits even if its children hold them open; we then end
	// the children and read the output to its end.
	cmd := exec.CommandContext(runCtx, e.s.path, e.s.args[1:]...)
	cmd.Args[0] = e.s.args[0]
	cmd.Dir = e.s.dir
	cmd.Env = e.environ(in)
	cmd.Stdin = stdinR
	cmd.Stdout = outW
	cmd.Stderr = outW
	cmd.SysProcAttr = procAttr()
	var termAt atomic.Int64 // when Cancel sent SIGTERM, in Unix nanoseconds
	cmd.Cancel = func() error {
		termAt.Store(time.Now().UnixNano())
		return terminate(cmd.Process.Pid)
	}
	cmd.WaitDelay = e.grace // then os/exec kills the leader itself

	started := time.Now()
	err = cmd.Start()
	stdinR.Close()
	outW.Close()
	if err != nil {
		stdinW.Close()
		outR.Close()
		if ctx.Err() != nil {
			return action.Result{Retry: true}, fmt.Errorf("stopped: %w", context.Cause(ctx))
		}
		if runCtx.Err() != nil {
			return action.Result{Retry: true}, timeout
		}
		return action.Result{}, fmt.Errorf("start: %w", err)
	}
	pid := cmd.Process.Pid

	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		_, _ = stdinW.Write(in.Raw) // EPIPE when the command does not read it all
		stdinW.Close()
	}()
	out := &tail{limit: e.s.outputLimit}
	read := make(chan struct{})
	go func() {
		defer close(read)
		_, _ = io.CopyBuffer(out, outR, make([]byte, 32<<10))
	}()

	waitErr := cmd.Wait()
	took := time.Since(started)
	stopped, timedOut := ctx.Err() != nil, runCtx.Err() != nil

	// End what is left of the group: SIGTERM, then SIGKILL once the grace
	// since the first SIGTERM is over or, earlier, once nothing holds the
	// output open any more.
	deadline := time.Now().Add(e.grace)
	if t := termAt.Load(); t != 0 {
		deadline = time.Unix(0, t).Add(e.grace)
	}
	groupGone := errors.Is(terminate(pid), os.ErrProcessDone)
	grace := time.NewTimer(time.Until(deadline))
	select {
	case <-read:
	case <-grace.C:
	}
	grace.Stop()
	if !groupGone {
		_ = kill(pid)
	}
	held := false
	select {
	case <-read:
	case <-time.After(drainWait):
		held = true
		outR.Close()
		<-read
	}
	outR.Close()
	stdinW.Close()
	<-wrote

	b, cut := out.Bytes()
	b = mask(b, e.s.secrets)
	res := action.Result{Output: excerpt(b, cut)}
	switch {
	case waitErr == nil:
		err = nil
	case stopped:
		res.Retry = true
		err = fmt.Errorf("stopped: %w", context.Cause(ctx))
	case timedOut:
		res.Retry = true
		err = timeout
	default:
		res.Retry = true
		var ee *exec.ExitError
		if errors.As(waitErr, &ee) {
			if sig, ok := signaled(ee.ProcessState); ok {
				err = fmt.Errorf("killed by signal %s", sig)
			} else {
				res.Status = ee.ExitCode()
				err = fmt.Errorf("exit status %d", res.Status)
			}
		} else {
			err = fmt.Errorf("wait: %w", waitErr)
		}
	}

	if held {
		e.log.LogAttrs(ctx, slog.LevelWarn, "exec: a process outside the run's group kept its output open; output closed",
			slog.String("trigger", in.Trigger), slog.String("event", eventID(in)), slog.Int("pid", pid))
	}
	if e.log.Enabled(ctx, slog.LevelDebug) {
		result := "ok"
		if err != nil {
			result = err.Error()
		}
		e.log.LogAttrs(ctx, slog.LevelDebug, "exec: run",
			slog.String("trigger", in.Trigger), slog.String("event", eventID(in)),
			slog.Int("attempt", in.Attempt), slog.Int("pid", pid),
			slog.Duration("took", took), slog.String("result", result),
			slog.Int64("output_bytes", out.total), slog.String("output", string(b)))
	}
	return res, err
}

// environ returns the environment of a run: the base and block variables,
// then the FORGEHOOK_* ones. NUL bytes, which no environment can hold, are
// dropped from event values.
func (e *Exec) environ(in action.Input) []string {
	var ev event.Event
	if in.Event != nil {
		ev = *in.Event
	}
	f := &ev.Data.Normalized
	env := make([]string, 0, len(e.s.env)+len(reservedEnv))
	env = append(env, e.s.env...)
	add := func(name, value string) {
		env = append(env, name+"="+strings.ReplaceAll(value, "\x00", ""))
	}
	add("FORGEHOOK_EVENT_ID", ev.ID)
	add("FORGEHOOK_KIND", string(f.Kind))
	add("FORGEHOOK_ACTION", f.Action)
	add("FORGEHOOK_FORGE", cmp.Or(ev.Forge, f.Forge))
	add("FORGEHOOK_FORGE_EVENT", ev.ForgeEvent)
	add("FORGEHOOK_ENDPOINT", ev.Endpoint)
	add("FORGEHOOK_REPOSITORY", f.Repository.FullName)
	add("FORGEHOOK_REF", f.Ref)
	add("FORGEHOOK_BRANCH", f.Branch)
	add("FORGEHOOK_TAG", f.Tag)
	add("FORGEHOOK_BEFORE", f.Before)
	add("FORGEHOOK_AFTER", f.After)
	pr := ""
	if n := f.PullRequest.Number; n != 0 {
		pr = strconv.FormatInt(n, 10)
	}
	add("FORGEHOOK_PR_NUMBER", pr)
	add("FORGEHOOK_TRIGGER", in.Trigger)
	add("FORGEHOOK_ATTEMPT", strconv.Itoa(in.Attempt))
	return env
}

func eventID(in action.Input) string { return in.EventID() }
