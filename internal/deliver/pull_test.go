package deliver

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// fakePullServer plays the JetStream consumer's side of the pull protocol
// on a plain NATS server: the test sees each pull request and answers it
// with messages and status messages of its choosing.
type fakePullServer struct {
	t    *testing.T
	nc   *nats.Conn // the puller's connection
	test *nats.Conn // the fake consumer's
	reqs chan pullReq
}

type pullReq struct {
	pullRequest
	reply string
}

const fakeNext = "$JS.API.CONSUMER.MSG.NEXT.S.C"

func newFakePullServer(t *testing.T) *fakePullServer {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server did not start")
	}
	t.Cleanup(ns.Shutdown)
	f := &fakePullServer{t: t, reqs: make(chan pullReq, 100)}
	if f.nc, err = nats.Connect(ns.ClientURL(), nats.ReconnectWait(10*time.Millisecond), nats.MaxReconnects(-1)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.nc.Close)
	if f.test, err = nats.Connect(ns.ClientURL()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.test.Close)
	if _, err := f.test.Subscribe(fakeNext, func(m *nats.Msg) {
		var r pullReq
		if err := json.Unmarshal(m.Data, &r.pullRequest); err != nil {
			t.Errorf("pull request %q: %v", m.Data, err)
		}
		r.reply = m.Reply
		f.reqs <- r
	}); err != nil {
		t.Fatal(err)
	}
	if err := f.test.Flush(); err != nil {
		t.Fatal(err)
	}
	return f
}

// next returns the next pull request, failing if none comes within d.
func (f *fakePullServer) next(d time.Duration, what string) pullReq {
	f.t.Helper()
	select {
	case r := <-f.reqs:
		return r
	case <-time.After(d):
		f.t.Fatalf("no pull request within %s %s", d, what)
		return pullReq{}
	}
}

// none fails if a pull request comes within d.
func (f *fakePullServer) none(d time.Duration, what string) {
	f.t.Helper()
	select {
	case r := <-f.reqs:
		f.t.Fatalf("pull request for %d %s", r.Batch, what)
	case <-time.After(d):
	}
}

// send delivers n messages of the stream to reply, from sequence seq.
func (f *fakePullServer) send(reply string, seq, n int) {
	f.t.Helper()
	for i := range n {
		s := seq + i
		// A client may not send a $JS.ACK reply: any reply marks a
		// message of the stream.
		ack := fmt.Sprint("ack.", s)
		if err := f.test.PublishMsg(&nats.Msg{Subject: reply, Reply: ack, Data: []byte(fmt.Sprint(s))}); err != nil {
			f.t.Fatal(err)
		}
	}
	if err := f.test.Flush(); err != nil {
		f.t.Fatal(err)
	}
}

// status sends a status message to reply.
func (f *fakePullServer) status(reply, code, desc string, pending int) {
	f.t.Helper()
	h := nats.Header{"Status": {code}, "Description": {desc}}
	if pending >= 0 {
		h.Set("Nats-Pending-Messages", fmt.Sprint(pending))
		h.Set("Nats-Pending-Bytes", "0")
	}
	if err := f.test.PublishMsg(&nats.Msg{Subject: reply, Header: h}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fakePullServer) start(hb time.Duration, handle func(jetstream.Msg)) *puller {
	f.t.Helper()
	var wg sync.WaitGroup
	p := newPuller(f.nc, fakeNext, "", 8, hb, handle, slog.New(slog.DiscardHandler))
	if err := p.start(&wg); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() {
		p.stop()
		wg.Wait()
	})
	return p
}

// TestDeliverPullRequests: the puller asks again as soon as half of what
// it asked for has arrived, after a request expired owing messages, after
// a leader change and after a reconnect, at once; and when its requests
// went silent (a server gone without a word), within 2.5 heartbeats.
func TestDeliverPullRequests(t *testing.T) {
	f := newFakePullServer(t)
	got := make(chan string, 64)
	f.start(time.Hour, func(m jetstream.Msg) { got <- string(m.Data()) })
	const soon = 2 * time.Second
	r := f.next(soon, "at the start")
	if r.Batch != 8 || r.Heartbeat != time.Hour || r.Expires != pullExpires {
		t.Fatalf("first request %+v, want batch 8, heartbeat 1h, expires %s", r.pullRequest, pullExpires)
	}
	// 3 of 8 received: 5 still owed, more than half; 4 received: ask for 4.
	f.send(r.reply, 1, 3)
	f.none(100*time.Millisecond, "while more than half is still owed")
	f.send(r.reply, 4, 1)
	if r2 := f.next(soon, "when half had arrived"); r2.Batch != 4 {
		t.Errorf("top-up for %d, want 4", r2.Batch)
	}
	for i := 1; i <= 4; i++ {
		select {
		case seq := <-got:
			if want := fmt.Sprint(i); seq != want {
				t.Errorf("handed message %s, want %s (in order)", seq, want)
			}
		case <-time.After(soon):
			t.Fatalf("message %d not handed over", i)
		}
	}
	// A request expires owing 6 of the 8 now asked for: ask for 6.
	f.status(r.reply, "408", "Request Timeout", 6)
	if r3 := f.next(soon, "after a request expired"); r3.Batch != 6 {
		t.Errorf("after the expiry asked for %d, want 6", r3.Batch)
	}
	// A new consumer leader forgets every request.
	f.status(r.reply, "409", "Leadership Change", -1)
	if r4 := f.next(soon, "after a leader change"); r4.Batch != 8 {
		t.Errorf("after a leader change asked for %d, want 8", r4.Batch)
	}
	// A heartbeat changes nothing.
	f.status(r.reply, "100", "Idle Heartbeat", -1)
	f.none(100*time.Millisecond, "after a heartbeat")
	// A reconnect: asked again at once, not after the (hour-long) heartbeats.
	f.nc.ForceReconnect()
	if r5 := f.next(5*time.Second, "after a reconnect"); r5.Batch != 8 {
		t.Errorf("after a reconnect asked for %d, want 8", r5.Batch)
	}
}

// TestDeliverPullSilence: requests that went silent, no message and no
// heartbeat, are asked again within 2.5 heartbeats; while heartbeats come,
// nothing is asked.
func TestDeliverPullSilence(t *testing.T) {
	f := newFakePullServer(t)
	const hb = 200 * time.Millisecond
	f.start(hb, func(jetstream.Msg) {})
	r := f.next(2*time.Second, "at the start")
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(hb)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				f.status(r.reply, "100", "Idle Heartbeat", -1)
			}
		}
	}()
	f.none(5*hb, "while heartbeats came")
	close(stop)
	<-done
	start := time.Now()
	f.next(10*hb, "after the heartbeats stopped")
	if d := time.Since(start); d > 5*hb {
		t.Errorf("asked again %s after the silence began, want within 2.5 heartbeats (%s)", d, hb*5/2)
	}
}
