package deliver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/forgehook/forgehook/internal/action"
	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/jsonx"
	"github.com/forgehook/forgehook/internal/store"
)

// checkFor polls f every 5ms until it returns nil or d has passed, then
// fails with f's last error.
func checkFor(t *testing.T, d time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestDeliverKeepAlive(t *testing.T) {
	m := &fakeMsg{}
	var k keepAlive
	k.start(m, 5*time.Millisecond)
	checkFor(t, 5*time.Second, func() error {
		if m.wips.Load() < 3 {
			return errString("fewer than 3 InProgress while the action runs")
		}
		return nil
	})
	k.stop()
	n := m.wips.Load()
	time.Sleep(30 * time.Millisecond) // six periods: a timer left armed would fire
	if got := m.wips.Load(); got != n {
		t.Errorf("%d InProgress after stop", got-n)
	}

	// An action that ends before the first period sends none.
	m = &fakeMsg{}
	var quick keepAlive
	quick.start(m, time.Hour)
	quick.stop()
	if m.wips.Load() != 0 {
		t.Error("InProgress sent for a quick action")
	}
}

// captureAction records the inputs it gets and succeeds.
type captureAction struct {
	mu  sync.Mutex
	ins []action.Input
}

func (c *captureAction) Do(_ context.Context, in action.Input) (action.Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ins = append(c.ins, in)
	return action.Result{Status: 200}, nil
}

func TestDeliverInputIsTheStoredRecord(t *testing.T) {
	tr := benchRunner(t, &config.HTTPAction{URL: "http://127.0.0.1:1/sink"})
	capture := &captureAction{}
	tr.t.Action = capture
	raw := benchRecord(t)
	var want event.Event
	if err := jsonx.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	m := &fakeMsg{data: bytes.Clone(raw), hdr: nats.Header{}}
	m.md.NumDelivered = 2
	m.md.Sequence.Stream = 7
	j, ok := tr.prepare(m, false)
	if !ok {
		t.Fatal("prepare refused the event")
	}
	tr.run(j, nil)

	if len(capture.ins) != 1 {
		t.Fatalf("the action ran %d times", len(capture.ins))
	}
	in := capture.ins[0]
	if in.Event != nil {
		t.Error("the delivery loop decoded the whole record")
	}
	if !bytes.Equal(in.Raw, raw) || in.ID != want.ID || in.EventID() != want.ID || in.Trigger != "sink" || in.Attempt != 2 {
		t.Errorf("input: id %q, trigger %q, attempt %d, %d bytes; want %q, sink, 2, the %d stored bytes",
			in.ID, in.Trigger, in.Attempt, len(in.Raw), want.ID, len(raw))
	}
	ev, err := in.Record()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*ev, want) {
		t.Errorf("Record() = %+v\nwant %+v", *ev, want)
	}
	if m.acks.Load() != 1 || m.naks.Load() != 0 {
		t.Errorf("%d acks, %d naks or terms; want 1 ack", m.acks.Load(), m.naks.Load())
	}
	checkFor(t, 5*time.Second, func() error {
		atts, err := tr.r.st.Attempts(context.Background(), "sink", want.ID)
		if err != nil {
			return err
		}
		if len(atts) != 1 || atts[0].Outcome != store.OutcomeDelivered || atts[0].Status != 200 || atts[0].Attempt != 2 {
			return errString("attempts recorded: " + string(mustJSON(t, atts)))
		}
		return nil
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// envelopeRecords are records that decode, or fail to, in the ways a
// stored record can: the delivery loop must refuse exactly those that do
// not decode as an event.Event.
var envelopeRecords = []string{
	`{"id":"a","time":"2026-11-23T08:25:20.123456789Z","data":{"body":{"x":[1,2]}}}`,
	`{"id":"a","time":"2026-11-23T08:25:20Z","data":{"header":5,"body":"s"}}`, // a member of the wrong type is skipped
	`{"ID":"upper","Time":"2026-11-23T08:25:20Z"}`,
	`{"id":"first","id":"last"}`,
	`{"id":7,"time":null}`,
	`{"id":"a","time":"yesterday"}`,
	`{"id":"a","time":5}`,
	`{"id":"a","data":{"body":{"x":}}}`,
	`{"id":"a"} trailing`,
	`not json`,
	`[]`,
	`null`,
	``,
}

// TestDeliverUndecodableRecordsAreDeadLettered: a record that does not
// decode is dead-lettered with the decoding error and acknowledged, never
// skipped in silence; one that decodes goes on with its id and time.
func TestDeliverUndecodableRecordsAreDeadLettered(t *testing.T) {
	tr := benchRunner(t, &config.HTTPAction{URL: "http://127.0.0.1:1/sink"})
	var observed []store.Attempt
	tr.r.observe = func(a store.Attempt, _ time.Time) { observed = append(observed, a) }
	wantDead := map[string]bool{}
	for i, rec := range envelopeRecords {
		var ev event.Event
		wantOK := jsonx.Unmarshal([]byte(rec), &ev) == nil
		m := &fakeMsg{data: []byte(rec), hdr: nats.Header{}}
		m.md.NumDelivered = 1
		m.md.Sequence.Stream = uint64(100 + i)
		j, ok := tr.prepare(m, false)
		if ok != wantOK {
			t.Errorf("prepare(%s) = %v, want %v", rec, ok, wantOK)
			continue
		}
		if !ok {
			if m.acks.Load() != 1 || m.naks.Load() != 0 {
				t.Errorf("prepare(%s): %d acks, %d naks or terms; want it dead-lettered and acknowledged", rec, m.acks.Load(), m.naks.Load())
			}
			wantDead[fmt.Sprintf("seq-%d", 100+i)] = true
			continue
		}
		if j.env.ID != ev.ID || !j.env.Time.Equal(ev.Time) {
			t.Errorf("prepare(%s): id %q, time %v; want %q, %v", rec, j.env.ID, j.env.Time, ev.ID, ev.Time)
		}
	}
	dead, _, err := tr.r.st.ListDead(context.Background(), "sink", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dead {
		if !wantDead[d.EventID] || !strings.HasPrefix(d.Error, "undecodable event: ") || d.Trigger != "sink" {
			t.Errorf("dead letter %+v", d)
		}
		delete(wantDead, d.EventID)
	}
	if len(wantDead) != 0 {
		t.Errorf("not dead-lettered: %v", wantDead)
	}
	if len(observed) != len(dead) {
		t.Errorf("%d attempts observed for %d dead letters", len(observed), len(dead))
	}
	for _, a := range observed {
		if a.Outcome != store.OutcomeDead || !strings.HasPrefix(a.Error, "undecodable event: ") {
			t.Errorf("observed %+v", a)
		}
	}
}

// FuzzDeliverEnvelope checks that the envelope prepare decodes agrees with
// the whole record: it decodes exactly when an event.Event does, with the
// same id and time.
func FuzzDeliverEnvelope(f *testing.F) {
	for _, rec := range envelopeRecords {
		f.Add([]byte(rec))
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		var ev event.Event
		var env envelope
		errEv, errEnv := jsonx.Unmarshal(rec, &ev), jsonx.Unmarshal(rec, &env)
		if (errEv == nil) != (errEnv == nil) {
			t.Fatalf("event.Event: %v; envelope: %v", errEv, errEnv)
		}
		if errEv == nil && (env.ID != ev.ID || !env.Time.Equal(ev.Time) ||
			env.Time.Format(time.RFC3339Nano) != ev.Time.Format(time.RFC3339Nano)) {
			t.Fatalf("envelope %q %v, event %q %v", env.ID, env.Time, ev.ID, ev.Time)
		}
	})
}
