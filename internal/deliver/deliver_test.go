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
	if !bytes.Equal(in.Record.Raw(), raw) || in.Record.ID() != want.ID || in.Trigger != "sink" || in.Attempt != 2 {
		t.Errorf("input: id %q, trigger %q, attempt %d, %d bytes; want %q, sink, 2, the %d stored bytes",
			in.Record.ID(), in.Trigger, in.Attempt, len(in.Record.Raw()), want.ID, len(raw))
	}
	ev, err := in.Record.Event()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*ev, want) {
		t.Errorf("Record.Event() = %+v\nwant %+v", *ev, want)
	}
	if again, _ := in.Record.Event(); again != ev {
		t.Error("the record was decoded twice")
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
		if j.head().ID != ev.ID || !j.head().Time.Equal(ev.Time) {
			t.Errorf("prepare(%s): id %q, time %v; want %q, %v", rec, j.head().ID, j.head().Time, ev.ID, ev.Time)
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

// TestDeliverPrepareDecodesOnlyTheHead: prepare, for a trigger without
// when, decodes the record's id and time and nothing more (the whole
// record costs some 80 allocations).
func TestDeliverPrepareDecodesOnlyTheHead(t *testing.T) {
	tr := benchRunner(t, &config.HTTPAction{URL: "http://127.0.0.1:1/sink"})
	m := &fakeMsg{data: benchRecord(t), hdr: nats.Header{}}
	m.md.NumDelivered = 1
	if n := testing.AllocsPerRun(20, func() {
		if _, ok := tr.prepare(m, false); !ok {
			t.Fatal("prepare refused the event")
		}
	}); n > 10 {
		t.Errorf("prepare makes %v allocations, want at most 10", n)
	}
}

// FuzzDeliverEnvelope checks that the views of a record that prepare and
// the actions read agree with the whole record: each decodes exactly when
// an event.Event does, with the same members, whichever is decoded first.
func FuzzDeliverEnvelope(f *testing.F) {
	for _, rec := range envelopeRecords {
		f.Add([]byte(rec), false)
	}
	// The head reads the twin flag too.
	for _, rec := range []string{
		`{"id":"t","time":"2026-11-23T08:25:20Z","data":{"normalized":{"kind":"tag","twin":true}}}`,
		`{"id":"t","time":"2026-11-23T08:25:20Z","data":{"normalized":{"twin":"yes"}}}`,
		`{"id":"t","time":"2026-11-23T08:25:20Z","data":{"normalized":5}}`,
	} {
		f.Add([]byte(rec), false)
		f.Add([]byte(rec), true)
	}
	f.Fuzz(func(t *testing.T, rec []byte, wholeFirst bool) {
		var ev event.Event
		errEv := jsonx.Unmarshal(rec, &ev)
		r := action.NewRecord(rec)
		if wholeFirst {
			_, _ = r.Event()
		}
		head, errHead := r.Head()
		attrs, errAttrs := r.Attributes()
		whole, errWhole := r.Event()
		if (errEv == nil) != (errHead == nil) || (errEv == nil) != (errAttrs == nil) || (errEv == nil) != (errWhole == nil) {
			t.Fatalf("event.Event: %v; head: %v; attributes: %v; whole: %v", errEv, errHead, errAttrs, errWhole)
		}
		if errEv != nil {
			return
		}
		if head.ID != ev.ID || !head.Time.Equal(ev.Time) || head.Twin != ev.Data.Normalized.Twin ||
			head.Time.Format(time.RFC3339Nano) != ev.Time.Format(time.RFC3339Nano) {
			t.Fatalf("head %q %v, event %q %v", head.ID, head.Time, ev.ID, ev.Time)
		}
		noData := ev
		noData.Data = event.Data{}
		if !reflect.DeepEqual(*attrs, noData) {
			t.Fatalf("attributes %+v, want %+v", *attrs, noData)
		}
		if !reflect.DeepEqual(*whole, ev) {
			t.Fatalf("whole %+v, want %+v", *whole, ev)
		}
	})
}
