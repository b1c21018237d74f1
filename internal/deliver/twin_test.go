package deliver

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/route"
	"github.com/forgehook/forgehook/internal/trigger"
)

// TestDeliverSkipsTwins: the create event GitHub sends beside the push of
// a new branch (a twin) does not fire a trigger unless it sets twins:
// true, with or without a when; the push itself fires both; replay and
// status say why.
func TestDeliverSkipsTwins(t *testing.T) {
	tr := benchRunner(t, &config.HTTPAction{URL: "http://127.0.0.1:1/sink"})
	push := githubRecord(t, "push.with-new-branch")
	create := githubRecord(t, "create.payload")
	if !bytes.Contains(create, []byte(`"twin":true`)) || bytes.Contains(push, []byte(`"twin":true`)) {
		t.Fatal("the fixtures are not a twin and a push")
	}
	env, err := route.NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	when, err := env.Compile(`event.repository.name != ""`)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		when      *route.Program
		twins     bool
		raw       []byte
		name      string
		wantTaken bool
	}{
		{nil, false, push, "push", true},
		{nil, false, create, "twin", false},
		{nil, true, create, "twin", true},
		{when, false, push, "push", true},
		{when, false, create, "twin", false},
		{when, true, create, "twin", true},
	} {
		tr.t.When, tr.t.Twins = c.when, c.twins
		m := &fakeMsg{data: c.raw, hdr: nats.Header{}}
		m.md.NumDelivered = 1
		_, ok := tr.prepare(m, false)
		if ok != c.wantTaken {
			t.Errorf("when %v, twins %v, %s: taken %v, want %v", c.when != nil, c.twins, c.name, ok, c.wantTaken)
		}
		if !ok && (m.acks.Load() != 1 || m.naks.Load() != 0) {
			t.Errorf("a skipped %s: %d acks, %d naks; want it acknowledged", c.name, m.acks.Load(), m.naks.Load())
		}
	}

	tr.t.When, tr.t.Twins = nil, false
	targets, skipped, err := tr.r.ReplayEvent(t.Context(), create, "id", "", true)
	if err != nil || len(targets) != 0 || len(skipped) != 1 || skipped[0].Reason != trigger.ReasonTwin {
		t.Errorf("ReplayEvent(twin) = %v, %+v, %v; want skipped as a twin", targets, skipped, err)
	}
	if targets, _, err := tr.r.ReplayEvent(t.Context(), push, "id", "", true); err != nil || len(targets) != 1 {
		t.Errorf("ReplayEvent(push) = %v, %v", targets, err)
	}
	tr.t.Twins = true
	if targets, _, err := tr.r.ReplayEvent(t.Context(), create, "id", "", true); err != nil || len(targets) != 1 {
		t.Errorf("ReplayEvent(twin) with twins: true = %v, %v", targets, err)
	}
}

// lockedBuffer is a log sink safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) lines() []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(l.b.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// TestDeliverWhenErrorsWarn: a when that fails on events (it can then
// never match them) is logged at warn, once a minute, not at debug; a
// when that is false is not logged.
func TestDeliverWhenErrorsWarn(t *testing.T) {
	tr := benchRunner(t, &config.HTTPAction{URL: "http://127.0.0.1:1/sink"})
	var buf lockedBuffer
	tr.log = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	env, _ := route.NewEnv()
	failing, err := env.Compile(`body.no_such_member == "x"`)
	if err != nil {
		t.Fatal(err)
	}
	false_, _ := env.Compile(`event.kind == "release"`)
	push := githubRecord(t, "push.with-new-branch")
	run := func(p *route.Program, n int) {
		tr.t.When = p
		for range n {
			m := &fakeMsg{data: push, hdr: nats.Header{}}
			if _, ok := tr.prepare(m, false); ok {
				t.Fatal("prepare took an event its when does not match")
			}
		}
	}
	run(false_, 3)
	if l := buf.lines(); len(l) != 0 {
		t.Fatalf("a false when logged %v", l)
	}
	run(failing, 5)
	l := buf.lines()
	if len(l) != 1 || l[0]["level"] != "WARN" || !strings.Contains(l[0]["reason"].(string), "no such key: no_such_member") ||
		l[0]["when"] != `body.no_such_member == "x"` {
		t.Fatalf("log lines %v, want one warning", l)
	}
}

// TestDeliverSamplerLetsOneLinePerMinute: the first line goes through,
// then one per evalWarnEvery, with the count held back since.
func TestDeliverSamplerLetsOneLinePerMinute(t *testing.T) {
	var s sampler
	t0 := time.Unix(1_000_000, 0)
	if n, ok := s.allow(t0); !ok || n != 0 {
		t.Fatalf("first: %d, %v", n, ok)
	}
	for i := range 3 {
		if _, ok := s.allow(t0.Add(time.Duration(i+1) * time.Second)); ok {
			t.Fatalf("line %d within the minute went through", i)
		}
	}
	if n, ok := s.allow(t0.Add(evalWarnEvery)); !ok || n != 3 {
		t.Fatalf("after a minute: %d, %v; want 3 held back", n, ok)
	}
	if _, ok := s.allow(t0.Add(evalWarnEvery + time.Second)); ok {
		t.Fatal("the next line went through at once")
	}
}
