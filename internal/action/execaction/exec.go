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
// processes of its group have ended. The command reads the record's
// stored bytes on stdin. It does not look at in.Key: the delivery loop
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

// run runs the command once: start it, wait for it, end what is left of
// its process group, and turn how it ended into a result.
func (e *Exec) run(ctx context.Context, in action.Input) (action.Result, error) {
	timeout := &TimeoutError{After: e.s.timeout}
	runCtx, cancel := context.WithTimeoutCause(ctx, e.s.timeout, timeout)
	defer cancel()
	p, err := e.start(runCtx, in)
	if err != nil {
		switch {
		case errors.Is(err, errPipe):
			return action.Result{Retry: true}, err
		case ctx.Err() != nil:
			return action.Result{Retry: true}, fmt.Errorf("stopped: %w", context.Cause(ctx))
		case runCtx.Err() != nil:
			return action.Result{Retry: true}, timeout
		}
		return action.Result{}, err
	}
	waitErr := p.cmd.Wait()
	took := time.Since(p.started)
	stopped, timedOut := ctx.Err() != nil, runCtx.Err() != nil
	held := p.end(e.grace)

	b, cut := p.out.Bytes()
	b = mask(b, e.s.secrets)
	res := action.Result{Output: excerpt(b, cut)}
	switch {
	case waitErr == nil:
	case stopped:
		res.Retry, err = true, fmt.Errorf("stopped: %w", context.Cause(ctx))
	case timedOut:
		res.Retry, err = true, timeout
	default:
		res.Retry = true
		res.Status, err = exitError(waitErr)
	}
	e.logRun(ctx, in, p, held, took, err, b)
	return res, err
}

// errPipe is wrapped by the error of a run whose pipes could not be made.
var errPipe = errors.New("pipe")

// process is one started run of the command.
type process struct {
	cmd     *exec.Cmd
	pid     int
	started time.Time
	termAt  *atomic.Int64 // when Cancel sent SIGTERM, in Unix nanoseconds
	stdinW  *os.File      // the command's stdin, written by a goroutine
	outR    *os.File      // the command's stdout and stderr, read into out
	out     *tail
	wrote   chan struct{} // closed when the record has been written to stdin
	read    chan struct{} // closed when the output has been read to its end
}

// start starts the command for in, bound to ctx (the run's, with its
// timeout), with the record on its stdin and its output read into a tail.
// An error wraps errPipe when the pipes could not be made, else it is the
// error of starting.
func (e *Exec) start(ctx context.Context, in action.Input) (*process, error) {
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("stdin %w: %w", errPipe, err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		stdinR.Close()
		stdinW.Close()
		return nil, fmt.Errorf("output %w: %w", errPipe, err)
	}

	// The pipes are ours, not os/exec's, so that Wait returns as soon as
	// the command exits even if its children hold them open; we then end
	// the children and read the output to its end.
	cmd := exec.CommandContext(ctx, e.s.path, e.s.args[1:]...)
	cmd.Args[0] = e.s.args[0]
	cmd.Dir = e.s.dir
	cmd.Env = e.environ(in)
	cmd.Stdin = stdinR
	cmd.Stdout = outW
	cmd.Stderr = outW
	cmd.SysProcAttr = procAttr()
	p := &process{cmd: cmd, termAt: new(atomic.Int64), stdinW: stdinW, outR: outR,
		out: &tail{limit: e.s.outputLimit}, wrote: make(chan struct{}), read: make(chan struct{})}
	cmd.Cancel = func() error {
		p.termAt.Store(time.Now().UnixNano())
		return terminate(cmd.Process.Pid)
	}
	cmd.WaitDelay = e.grace // then os/exec kills the leader itself

	p.started = time.Now()
	err = cmd.Start()
	stdinR.Close()
	outW.Close()
	if err != nil {
		stdinW.Close()
		outR.Close()
		return nil, fmt.Errorf("start: %w", err)
	}
	p.pid = cmd.Process.Pid
	raw := in.Record.Raw()
	go func() {
		defer close(p.wrote)
		_, _ = stdinW.Write(raw) // EPIPE when the command does not read it all
		stdinW.Close()
	}()
	go func() {
		defer close(p.read)
		_, _ = io.CopyBuffer(p.out, outR, make([]byte, 32<<10))
	}()
	return p, nil
}

// end ends what is left of the process group once the command has exited,
// and waits for both of its pipes' goroutines: SIGTERM, then SIGKILL once
// grace since the first SIGTERM is over or, earlier, once nothing holds
// the output open any more. held reports that a process outside the group
// kept the output open, which was then closed under it.
func (p *process) end(grace time.Duration) (held bool) {
	deadline := time.Now().Add(grace)
	if t := p.termAt.Load(); t != 0 {
		deadline = time.Unix(0, t).Add(grace)
	}
	groupGone := errors.Is(terminate(p.pid), os.ErrProcessDone)
	timer := time.NewTimer(time.Until(deadline))
	select {
	case <-p.read:
	case <-timer.C:
	}
	timer.Stop()
	if !groupGone {
		_ = kill(p.pid)
	}
	select {
	case <-p.read:
	case <-time.After(drainWait):
		held = true
		p.outR.Close()
		<-p.read
	}
	p.outR.Close()
	p.stdinW.Close()
	<-p.wrote
	return held
}

// exitError returns the exit code and the error of a command whose Wait
// failed other than by its context: a non-zero exit or death by a signal.
func exitError(waitErr error) (status int, err error) {
	var ee *exec.ExitError
	if !errors.As(waitErr, &ee) {
		return 0, fmt.Errorf("wait: %w", waitErr)
	}
	if sig, ok := signaled(ee.ProcessState); ok {
		return 0, fmt.Errorf("killed by signal %s", sig)
	}
	return ee.ExitCode(), fmt.Errorf("exit status %d", ee.ExitCode())
}

// logRun logs a run: a warning when a process outside its group held its
// output (held), and at debug level its result and output (b, masked).
func (e *Exec) logRun(ctx context.Context, in action.Input, p *process, held bool, took time.Duration, err error, b []byte) {
	if held {
		e.log.LogAttrs(ctx, slog.LevelWarn, "exec: a process outside the run's group kept its output open; output closed",
			slog.String("trigger", in.Trigger), slog.String("event", in.Record.ID()), slog.Int("pid", p.pid))
	}
	if !e.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	result := "ok"
	if err != nil {
		result = err.Error()
	}
	e.log.LogAttrs(ctx, slog.LevelDebug, "exec: run",
		slog.String("trigger", in.Trigger), slog.String("event", in.Record.ID()),
		slog.Int("attempt", in.Attempt), slog.Int("pid", p.pid),
		slog.Duration("took", took), slog.String("result", result),
		slog.Int64("output_bytes", p.out.total), slog.String("output", string(b)))
}

// environ returns the environment of a run: the base and block variables,
// then the FORGEHOOK_* ones. NUL bytes, which no environment can hold, are
// dropped from event values.
// A record that does not decode leaves the event's variables empty.
func (e *Exec) environ(in action.Input) []string {
	var ev event.Event
	if rec, err := in.Record.Event(); err == nil {
		ev = *rec
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
