package natsaction

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/forgehook/forgehook/internal/action"
	"github.com/forgehook/forgehook/internal/action/actiontest"
	"github.com/forgehook/forgehook/internal/event"
)

// runServer starts a real NATS server on a random loopback port, with
// JetStream in a temporary directory when js is set. opt may change the
// options first.
func runServer(t *testing.T, js bool, opt func(*server.Options)) *server.Server {
	t.Helper()
	o := &server.Options{
		Host:      "127.0.0.1",
		Port:      -1,
		JetStream: js,
		StoreDir:  t.TempDir(),
		NoSigs:    true,
		NoLog:     true,
	}
	if opt != nil {
		opt(o)
	}
	s, err := server.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server did not start")
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

// connect returns a client connection to s.
func connect(t *testing.T, s *server.Server, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// newNATS builds a nats action or fails the test.
func newNATS(t *testing.T, block map[string]any, env action.Env) *Action {
	t.Helper()
	a, err := build(block, env)
	if err != nil {
		t.Fatalf("New(%v): %v", block, err)
	}
	t.Cleanup(func() { _ = a.(*Action).Close() })
	return a.(*Action)
}

// addStream creates a stream capturing subjects.
func addStream(t *testing.T, nc *nats.Conn, name string, subjects ...string) jetstream.Stream {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: name, Subjects: subjects})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// ctx returns a context that ends with the test, bounded.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestNATSActionJetStream(t *testing.T) {
	s := runServer(t, true, nil)
	nc := connect(t, s)
	st := addStream(t, nc, "OUT", "out.>")
	a := newNATS(t, map[string]any{"subject": "out.{endpoint}.{forge}.{kind}"}, action.Env{NATS: nc})
	in := actiontest.Event(t)

	res, err := a.Do(ctx(t), in)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if res.Retry || res.Output != "stored in stream OUT, sequence 1" {
		t.Errorf("Result = %+v", res)
	}
	m, err := st.GetMsg(ctx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "out.acme-github.github.push" {
		t.Errorf("subject %q", m.Subject)
	}
	if string(m.Data) != string(in.Record.Raw()) {
		t.Error("the message is not the stored record")
	}
	for k, want := range map[string]string{
		HeaderMsgID:       in.Record.ID() + "." + actiontest.Trigger,
		HeaderEventID:     in.Record.ID(),
		HeaderContentType: ContentType,
	} {
		if got := m.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}

	// A retried attempt of the same trigger is stored once.
	in.Attempt = 2
	res, err = a.Do(ctx(t), in)
	if err != nil || !strings.Contains(res.Output, "duplicate") {
		t.Errorf("retry: %+v, %v; want a duplicate acknowledgement", res, err)
	}
	// Another trigger's is a new message.
	in.Trigger = "other"
	if _, err := a.Do(ctx(t), in); err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 2 {
		t.Errorf("stream has %d messages, want 2", info.State.Msgs)
	}
}

func TestNATSActionCore(t *testing.T) {
	for _, js := range []bool{true, false} {
		t.Run(fmt.Sprintf("jetstream=%v", js), func(t *testing.T) {
			s := runServer(t, js, nil)
			nc := connect(t, s)
			subConn := connect(t, s)
			sub, err := subConn.SubscribeSync("events.>")
			if err != nil {
				t.Fatal(err)
			}
			if err := subConn.Flush(); err != nil {
				t.Fatal(err)
			}
			a := newNATS(t, map[string]any{"subject": "events.{kind}", "headers": map[string]any{"X-Tenant": "acme"}}, action.Env{NATS: nc})
			in := actiontest.Event(t)
			res, err := a.Do(ctx(t), in)
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			if res.Output != "published to events.push (core NATS, no stream)" {
				t.Errorf("Output %q", res.Output)
			}
			// A sentinel published after the action's message arrives
			// right after it: the subscriber got the message once.
			if err := nc.Publish("events.sentinel", nil); err != nil {
				t.Fatal(err)
			}
			m, err := sub.NextMsg(5 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if m.Subject != "events.push" || string(m.Data) != string(in.Record.Raw()) || m.Reply != "" {
				t.Errorf("got %s (reply %q), want the record on events.push with no reply subject", m.Subject, m.Reply)
			}
			if m.Header.Get("X-Tenant") != "acme" || m.Header.Get(HeaderEventID) != in.Record.ID() {
				t.Errorf("headers %v", m.Header)
			}
			if m, err := sub.NextMsg(5 * time.Second); err != nil || m.Subject != "events.sentinel" {
				t.Errorf("next message %v, %v; want the sentinel (the event was delivered twice?)", m, err)
			}
		})
	}
}

// TestNATSActionArgo: format argo publishes Argo Events' event shape
// (event.Argo of the stored record) as application/json.
func TestNATSActionArgo(t *testing.T) {
	s := runServer(t, false, nil)
	nc := connect(t, s)
	sub, err := nc.SubscribeSync("argo.>")
	if err != nil {
		t.Fatal(err)
	}
	a := newNATS(t, map[string]any{"subject": "argo.{forge}", "format": "argo"}, action.Env{NATS: nc})
	in := actiontest.Event(t)
	if _, err := a.Do(ctx(t), in); err != nil {
		t.Fatalf("Do: %v", err)
	}
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	want, err := event.Argo(actiontest.Decoded(t, in))
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "argo.github" || string(m.Data) != string(want) || m.Header.Get(HeaderContentType) != "application/json" {
		t.Errorf("got %s %q, want the Argo envelope as application/json:\n%s\n%s", m.Subject, m.Header.Get(HeaderContentType), m.Data, want)
	}
	if _, err := build(map[string]any{"subject": "a", "format": "yaml"}, action.Env{NATS: nc}); err == nil {
		t.Errorf("format yaml accepted")
	}
}

func TestNATSActionLookupCache(t *testing.T) {
	s := runServer(t, true, nil)
	nc := connect(t, s)
	a := newNATS(t, map[string]any{"subject": "late.{forge}"}, action.Env{NATS: nc})
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	a.now = func() time.Time { return now }
	in := actiontest.Event(t)
	if res, err := a.Do(ctx(t), in); err != nil || !strings.Contains(res.Output, "core NATS") {
		t.Fatalf("no stream: %+v, %v", res, err)
	}
	st := addStream(t, nc, "LATE", "late.>")
	// Within LookupTTL the answer "no stream" is kept; the stream still
	// captures the core publish.
	in.Trigger = "t2"
	if res, err := a.Do(ctx(t), in); err != nil || !strings.Contains(res.Output, "core NATS") {
		t.Fatalf("within the TTL: %+v, %v", res, err)
	}
	now = now.Add(LookupTTL)
	in.Trigger = "t3"
	if res, err := a.Do(ctx(t), in); err != nil || res.Output != "stored in stream LATE, sequence 2" {
		t.Fatalf("after the TTL: %+v, %v; want a JetStream acknowledgement", res, err)
	}
	// The stream is deleted while its answer is kept: the JetStream
	// publish finds no responder, and the action falls back to core NATS.
	if err := st.Purge(ctx(t)); err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	if err := js.DeleteStream(ctx(t), "LATE"); err != nil {
		t.Fatal(err)
	}
	in.Trigger = "t4"
	if res, err := a.Do(ctx(t), in); err != nil || !strings.Contains(res.Output, "core NATS") {
		t.Fatalf("stream deleted: %+v, %v; want a core publish", res, err)
	}
}

func TestNATSActionOwnConnection(t *testing.T) {
	const pw = "nats-password-42"
	s := runServer(t, true, func(o *server.Options) { o.Username, o.Password = "fh", pw })
	u := strings.Replace(s.ClientURL(), "nats://", "nats://fh:"+pw+"@", 1)
	watcher := connect(t, s, nats.UserInfo("fh", pw))
	addStream(t, watcher, "OWN", "own.>")
	a := newNATS(t, map[string]any{"subject": "own.x", "url": u}, action.Env{})

	// Concurrent first uses share one connection attempt.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			in := actiontest.Event(t)
			in.Trigger = fmt.Sprintf("t%d", i)
			_, err := a.Do(ctx(t), in)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Do: %v", err)
		}
	}
	js, _ := jetstream.New(watcher)
	st, _ := js.Stream(ctx(t), "OWN")
	if info, err := st.Info(ctx(t)); err != nil || info.State.Msgs != 8 {
		t.Fatalf("stream: %v, %v; want 8 messages", info, err)
	}
	own := a.own
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if !own.IsClosed() {
		t.Error("Close did not close the action's connection")
	}
	res, err := a.Do(ctx(t), actiontest.Event(t))
	if !errors.Is(err, errClosed) || res.Retry {
		t.Errorf("Do after Close: %+v, %v", res, err)
	}

	// A wrong password: retried, and the password is never shown.
	bad := strings.Replace(u, pw, "wrong-"+pw, 1)
	b := newNATS(t, map[string]any{"subject": "own.x", "url": bad}, action.Env{})
	c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	res, err = b.Do(c, actiontest.Event(t))
	if err == nil || !res.Retry {
		t.Errorf("wrong password: %+v, %v; want a retried failure", res, err)
	}
	actiontest.AssertNoSecret(t, pw, err, res)
}

func TestNATSActionUnreachable(t *testing.T) {
	s := runServer(t, false, nil)
	u := s.ClientURL()
	s.Shutdown()
	s.WaitForShutdown()
	a := newNATS(t, map[string]any{"subject": "x", "url": u}, action.Env{})
	start := time.Now()
	c, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	res, err := a.Do(c, actiontest.Event(t))
	if err == nil || !res.Retry {
		t.Errorf("unreachable: %+v, %v; want a retried failure", res, err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("Do took %v", d)
	}
}

func TestNATSActionCancel(t *testing.T) {
	s := runServer(t, true, nil)
	nc := connect(t, s)
	a := newNATS(t, map[string]any{"subject": "x"}, action.Env{NATS: nc})
	c, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := a.Do(c, actiontest.Event(t))
	if !errors.Is(err, context.Canceled) || !res.Retry {
		t.Errorf("cancelled: %+v, %v; want a retried failure wrapping context.Canceled", res, err)
	}
}

func TestNATSActionMaxPayload(t *testing.T) {
	for _, js := range []bool{true, false} {
		s := runServer(t, js, func(o *server.Options) { o.MaxPayload = 512 })
		nc := connect(t, s)
		if js {
			addStream(t, nc, "SMALL", "small")
		}
		a := newNATS(t, map[string]any{"subject": "small"}, action.Env{NATS: nc})
		res, err := a.Do(ctx(t), actiontest.Event(t))
		if !errors.Is(err, nats.ErrMaxPayload) || res.Retry {
			t.Errorf("jetstream=%v: %+v, %v; want ErrMaxPayload without Retry", js, res, err)
		}
	}
}

func TestNATSActionNoConnection(t *testing.T) {
	a := newNATS(t, map[string]any{"subject": "x"}, action.Env{})
	res, err := a.Do(ctx(t), actiontest.Event(t))
	if !errors.Is(err, errNoConn) || res.Retry {
		t.Errorf("%+v, %v; want errNoConn without Retry", res, err)
	}
}

func TestNATSActionSubject(t *testing.T) {
	a := newNATS(t, map[string]any{"subject": "hooks.{endpoint}.{forge}.{kind}.done"}, action.Env{})
	in := actiontest.Event(t)
	ev := actiontest.Decoded(t, in)
	ev.Endpoint = "a.b *>c"
	ev.Forge = ""
	ev.Data.Normalized.Forge = "github"
	ev.Data.Normalized.Kind = ""
	ev.Type = "dev.forgehook.tag"
	if got, want := a.subjectFor(ev), "hooks.a_b___c.github.tag.done"; got != want {
		t.Errorf("subject %q, want %q", got, want)
	}
	ev.Type = ""
	if got, want := a.subjectFor(ev), "hooks.a_b___c.github._.done"; got != want {
		t.Errorf("subject %q, want %q", got, want)
	}
	// A rendered subject under forgehook's own streams is refused.
	b := newNATS(t, map[string]any{"subject": "{endpoint}.event.x"}, action.Env{})
	in = actiontest.Edit(t, in, func(ev *event.Event) { ev.Endpoint = "forgehook" })
	if res, err := b.Do(ctx(t), in); err == nil || res.Retry || !strings.Contains(err.Error(), "loop") {
		t.Errorf("%+v, %v; want a refusal without Retry", res, err)
	}
}

func TestNATSActionConfig(t *testing.T) {
	for _, tc := range []struct {
		block map[string]any
		err   string
	}{
		{map[string]any{"subject": "a.b"}, ""},
		{map[string]any{"subject": "a.{endpoint}.{forge}.{kind}", "url": "nats://u:p@h:4222, tls://h2:4222"}, ""},
		{map[string]any{}, "subject: required"},
		{map[string]any{"subject": "a.{repo}"}, "subject: unknown placeholder {repo} (use {endpoint}, {forge} or {kind})"},
		{map[string]any{"subject": "a.{kind"}, "subject: \"a.{kind\" has a { without a }"},
		{map[string]any{"subject": "a.kind}"}, "has a } without a {"},
		{map[string]any{"subject": "a.*"}, "has a wildcard"},
		{map[string]any{"subject": "a.>"}, "has a wildcard"},
		{map[string]any{"subject": "a..b"}, "has an empty token"},
		{map[string]any{"subject": ".a"}, "has an empty token"},
		{map[string]any{"subject": "a b"}, "has a space"},
		{map[string]any{"subject": "forgehook.event.{endpoint}"}, "forgehook's own stream"},
		{map[string]any{"subject": "forgehook.dead.x"}, "forgehook's own stream"},
		{map[string]any{"subject": "a", "url": "http://h:4222"}, `url: entry 1: scheme "http" is not nats, tls, ws or wss`},
		{map[string]any{"subject": "a", "url": "nats://h:1,"}, "url: entry 2 is empty"},
		{map[string]any{"subject": "a", "url": "nats://u:secret-pw@h:x"}, "url: entry 1 is not a URL"},
		{map[string]any{"subject": "a", "headers": map[string]any{"Nats-Msg-Id": "x"}}, `headers: "Nats-Msg-Id" is set by the action`},
		{map[string]any{"subject": "a", "headers": map[string]any{"a:b": "x"}}, `headers.a:b: "a:b" is not a valid HTTP header name`},
		{map[string]any{"subject": "a", "headers": map[string]any{"X": "a\nb"}}, "contains a line break"},
		{map[string]any{"subject": "a", "stream": "X"}, "stream: unknown key"},
	} {
		_, err := build(tc.block, action.Env{})
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("New(%v) = %v, want %q", tc.block, err, tc.err)
		}
		if err != nil {
			actiontest.AssertNoSecret(t, "secret-pw", err)
		}
	}
}

func TestNATSActionRecordView(t *testing.T) {
	// The subject and the headers come from the record's attributes, or
	// from the whole record when they lack the forge or the type: either
	// way the subject is the one the whole record gives.
	a := newNATS(t, map[string]any{"subject": "hooks.{endpoint}.{forge}.{kind}"}, action.Env{})
	for _, change := range []func(ev *event.Event){
		func(*event.Event) {},
		func(ev *event.Event) {
			ev.Endpoint, ev.Forge, ev.Data.Normalized.Forge = "a.b *>c", "", "gitea"
			ev.Data.Normalized.Kind, ev.Type = "", "dev.forgehook.tag"
		},
		func(ev *event.Event) { ev.Type = "" },
	} {
		in := actiontest.Edit(t, actiontest.Event(t), change)
		whole := actiontest.Decoded(t, in)
		ev, got, err := record(in)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(in.Record.Raw()) || ev.ID != whole.ID {
			t.Errorf("record: id %q, %d bytes; want %q and the %d stored bytes", ev.ID, len(got), whole.ID, len(in.Record.Raw()))
		}
		if s, want := a.subjectFor(ev), a.subjectFor(whole); s != want {
			t.Errorf("subject from the view %q, from the whole record %q", s, want)
		}
	}
	for _, raw := range []string{`{"id":"x","time":"yesterday"}`, `{"forge":"github","type":"dev.forgehook.push","time":"2026-01-02T03:04:05Z"}`} {
		if _, _, err := record(action.Input{Record: action.NewRecord([]byte(raw))}); err == nil {
			t.Errorf("record %s was accepted", raw)
		}
	}
	if _, _, err := record(action.Input{}); !errors.Is(err, action.ErrNoRecord) {
		t.Errorf("empty input: %v, want ErrNoRecord", err)
	}
}

// build decodes block as the configuration loader would and builds the
// action from it.
func build(block map[string]any, env action.Env) (action.Action, error) {
	return actiontest.Build(block, env, New)
}
