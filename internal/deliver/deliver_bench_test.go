package deliver

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/forgehook/forgehook/internal/action"
	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/forgetest"
	"github.com/forgehook/forgehook/internal/forge/github"
	"github.com/forgehook/forgehook/internal/store"
	"github.com/forgehook/forgehook/internal/trigger"
)

// benchRecord returns the stored record of the GitHub push fixture
// push.with-new-branch (a 7.4 KB body), as ingest encodes it: the event
// of the end-to-end benchmark.
func benchRecord(tb testing.TB) []byte {
	tb.Helper()
	return githubRecord(tb, "push.with-new-branch")
}

// githubRecord returns the stored record of a GitHub fixture, as ingest
// writes it.
func githubRecord(tb testing.TB, name string) []byte {
	tb.Helper()
	fx, err := forgetest.Load(filepath.Join("..", "forge", "github", "testdata", "deliveries", name+".txtar"))
	if err != nil {
		tb.Fatal(err)
	}
	p, err := github.New(&config.Endpoint{Name: "gh", Provider: "github"})
	if err != nil {
		tb.Fatal(err)
	}
	m, err := forge.InspectRequest(p, fx.Header, fx.Body)
	if err != nil {
		tb.Fatal(err)
	}
	f, err := p.Normalize(m, fx.Body)
	if err != nil {
		tb.Fatal(err)
	}
	ev := &event.Event{
		ID:          m.Delivery,
		Time:        time.Now().UTC(),
		Forge:       f.Forge,
		ForgeEvent:  m.Event,
		ForgeAction: f.ForgeAction,
		Endpoint:    "gh",
		Delivery:    m.Delivery,
		Data:        event.Data{Header: event.RedactHeader(fx.Header), Body: fx.Body, Normalized: f},
	}
	ev.Envelope()
	raw, err := ev.Encode()
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

// fakeMsg is a JetStream message that was never sent: it lets a benchmark
// drive prepare and run without a consumer. Acknowledgements are counted.
type fakeMsg struct {
	md   jetstream.MsgMetadata
	data []byte
	hdr  nats.Header
	acks atomic.Int64
	naks atomic.Int64
	wips atomic.Int64
}

var _ jetstream.Msg = (*fakeMsg)(nil)

func (m *fakeMsg) Metadata() (*jetstream.MsgMetadata, error) { md := m.md; return &md, nil }
func (m *fakeMsg) Data() []byte                              { return m.data }
func (m *fakeMsg) Headers() nats.Header                      { return m.hdr }
func (m *fakeMsg) Subject() string                           { return store.EventsSubject + ".gh" }
func (m *fakeMsg) Reply() string                             { return "" }
func (m *fakeMsg) Ack() error                                { m.acks.Add(1); return nil }
func (m *fakeMsg) DoubleAck(context.Context) error           { m.acks.Add(1); return nil }
func (m *fakeMsg) Nak() error                                { m.naks.Add(1); return nil }
func (m *fakeMsg) NakWithDelay(time.Duration) error          { m.naks.Add(1); return nil }
func (m *fakeMsg) InProgress() error                         { m.wips.Add(1); return nil }
func (m *fakeMsg) Term() error                               { m.naks.Add(1); return nil }
func (m *fakeMsg) TermWithReason(string) error               { m.naks.Add(1); return nil }

// benchRunner returns a runner of one trigger named "sink" whose action is
// built from the http block, on a real embedded store, without consumers.
// The trigger's logger writes JSON lines to io.Discard at info level, as
// the server's does.
func benchRunner(tb testing.TB, block *config.HTTPAction) *runner {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, store.Options{DataDir: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	ts, err := trigger.Build(&config.Config{Triggers: []config.Trigger{{Name: "sink", HTTP: block}}},
		action.Env{Logger: log, Stdout: io.Discard})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { trigger.Close(ts) })
	r := &Runner{st: st, log: log, triggers: map[string]*runner{}}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	tb.Cleanup(r.cancel)
	t := ts[0]
	tr := &runner{t: t, r: r, log: log.With("trigger", t.Name), sem: make(chan struct{}, 1),
		lastErr: map[string]string{}, keys: map[string]*keyQueue{}}
	r.triggers[t.Name] = tr
	r.order = []string{t.Name}
	return tr
}

// BenchmarkDeliverHTTP is the delivery side of the end-to-end benchmark
// for one event: prepare (decode, filter) and run (the http action in
// cloudevents format to a bare receiver in the same process, the attempt
// record, the ack and the log line) of the stored record of an 8 KB GitHub
// push. Serial runs one event at a time (its time is a latency);
// Parallel runs 64 at once, as the trigger of the end-to-end benchmark
// does, so that its time per event is the CPU the machine spends on one
// when nothing else runs; cpu-ns/op is the CPU time the process spent per
// event.
func BenchmarkDeliverHTTP(b *testing.B) {
	b.Run("Serial", func(b *testing.B) { benchDeliverHTTP(b, 0) })
	b.Run("Parallel", func(b *testing.B) { benchDeliverHTTP(b, 64) })
}

func benchDeliverHTTP(b *testing.B, conc int) {
	var got atomic.Int64
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		got.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(rc.Close)
	tr := benchRunner(b, &config.HTTPAction{URL: rc.URL + "/sink"})
	raw := benchRecord(b)
	idAt := bytes.Index(raw, []byte(`"id":"`)) + len(`"id":"`)
	idLen := bytes.IndexByte(raw[idAt:], '"')
	var acks, seq atomic.Int64
	deliver := func(m *fakeMsg) {
		// Each event has an id of its own, as in the store (the attempts
		// index keys on it): the last 16 characters of the id are
		// replaced with a sequence number.
		n := seq.Add(1)
		m.md.Sequence.Stream = uint64(n)
		id := m.data[idAt : idAt+idLen]
		for i := len(id) - 1; i >= len(id)-16; i-- {
			id[i] = "0123456789abcdef"[n&15]
			n >>= 4
		}
		j, ok := tr.prepare(m, false)
		if !ok {
			b.Error("prepare refused the event")
			return
		}
		tr.run(j, nil)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	cpu := processCPU()
	if conc == 0 {
		m := &fakeMsg{data: bytes.Clone(raw), hdr: nats.Header{}}
		m.md.NumDelivered = 1
		for b.Loop() {
			deliver(m)
		}
		acks.Add(m.acks.Load())
	} else {
		// RunParallel starts GOMAXPROCS × parallelism goroutines.
		b.SetParallelism(max(1, conc/runtime.GOMAXPROCS(0)))
		b.RunParallel(func(pb *testing.PB) {
			m := &fakeMsg{data: bytes.Clone(raw), hdr: nats.Header{}}
			m.md.NumDelivered = 1
			for pb.Next() {
				deliver(m)
			}
			acks.Add(m.acks.Load())
		})
	}
	b.StopTimer()
	// The CPU the whole process (deliveries, receiver, store) spent per
	// event: less sensitive than ns/op to other work on the machine.
	b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
	if n := got.Load(); n != int64(b.N) || acks.Load() != int64(b.N) {
		b.Fatalf("%d deliveries and %d acks for %d events", n, acks.Load(), b.N)
	}
}

// BenchmarkDeliverPrepare is prepare alone (decode and filter) of the
// stored record of an 8 KB GitHub push, for a trigger without when.
func BenchmarkDeliverPrepare(b *testing.B) {
	tr := benchRunner(b, &config.HTTPAction{URL: "http://127.0.0.1:1/sink"})
	raw := benchRecord(b)
	m := &fakeMsg{data: raw, hdr: nats.Header{}}
	m.md.NumDelivered = 1
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, ok := tr.prepare(m, false); !ok {
			b.Fatal("prepare refused the event")
		}
	}
}
