package deliver

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The pull loop. The JetStream client's Consume keeps, on the client, a
// count of the messages its pull requests still owe, and sends a new
// request when a delivered message takes the count below a threshold; a
// request that is being published at that moment makes it skip that
// check, and none follows if the messages it skipped were the last ones
// owed. The server then holds no request while the client believes it has
// some: nothing is delivered, no heartbeat comes, and only the missing
// heartbeat, 2×15 s later, sends a new request. Under CPU contention that
// window is hit often enough to stop a trigger for 30 s (issue 16; with
// the default trigger the count is 4 messages, so a skip soon owes
// nothing).
//
// puller replaces it. One subscription, for the consumer's life, receives
// the messages and the server's status messages; every change to the count
// of messages asked for and not received (credit) and the decision to ask
// for more are made together under one lock, so no decision is skipped;
// and a request is topped up as soon as the credit falls to half of the
// target, which does not depend on the trigger's concurrency (the server's
// MaxAckPending, not the pull, bounds what this process holds). A request
// lost without an answer (a server that died, a leader elected elsewhere)
// is noticed by the missing idle heartbeats within pullHeartbeat×2.5, and
// a reconnect asks again at once.

const (
	// pullTarget is how many messages the pull requests of one consumer
	// ask for together; more are asked for when half are received.
	pullTarget = 256
	// pullExpires is the life of one pull request; an expired request
	// is answered (408) with what it still owed, and replaced.
	pullExpires = 30 * time.Second
	// pullHeartbeat is the idle heartbeat asked of the server for each
	// waiting request.
	pullHeartbeat = time.Second
)

// pullRequest is the body of a JetStream pull request ($JS.API.CONSUMER.MSG.NEXT).
type pullRequest struct {
	Batch     int           `json:"batch"`
	Expires   time.Duration `json:"expires,omitempty"`
	Heartbeat time.Duration `json:"idle_heartbeat,omitempty"`
	Group     string        `json:"group,omitempty"`
	PinID     string        `json:"id,omitempty"`
}

// puller keeps pull requests outstanding on one durable consumer and
// hands the messages, in the order they arrive, to handle, one at a time.
type puller struct {
	nc      *nats.Conn
	subject string // the consumer's pull request subject
	group   string // priority group, if the consumer has any
	target  int
	expires time.Duration
	hb      time.Duration
	handle  func(jetstream.Msg)
	log     *slog.Logger

	sub    *nats.Subscription
	status chan nats.Status
	msgs   chan *nats.Msg // user messages on their way to handle
	done   chan struct{}  // closed by stop
	once   sync.Once

	mu       sync.Mutex // guards the fields below
	credit   int        // messages asked for and neither received nor given up by the server
	lastSeen time.Time  // last message of any kind from the server, or the last request after a silence
	pin      string     // pinned client id the server gave this process
	lastErr  string     // last error logged, to log a repeated one only at debug
}

// startPuller subscribes and sends the first pull request. wg counts its
// goroutines: they end after stop.
func startPuller(js jetstream.JetStream, stream, consumer, group string, handle func(jetstream.Msg), log *slog.Logger, wg *sync.WaitGroup) (*puller, error) {
	nc := js.Conn()
	prefix := js.Options().APIPrefix
	if prefix == "" {
		prefix = jetstream.DefaultAPIPrefix
	}
	p := newPuller(nc, prefix+"CONSUMER.MSG.NEXT."+stream+"."+consumer, group, pullTarget, pullHeartbeat, handle, log.With("consumer", consumer))
	return p, p.start(wg)
}

func newPuller(nc *nats.Conn, subject, group string, target int, hb time.Duration, handle func(jetstream.Msg), log *slog.Logger) *puller {
	return &puller{
		nc: nc, subject: subject, group: group, target: target, expires: pullExpires, hb: hb, handle: handle,
		log: log, msgs: make(chan *nats.Msg, 2*target), done: make(chan struct{}),
	}
}

func (p *puller) start(wg *sync.WaitGroup) error {
	sub, err := p.nc.Subscribe(p.nc.NewInbox(), p.receive)
	if err != nil {
		return fmt.Errorf("pull: subscribe: %w", err)
	}
	// The server sends at most what was asked for; never drop any.
	_ = sub.SetPendingLimits(-1, -1)
	p.sub = sub
	p.status = p.nc.StatusChanged(nats.CONNECTED, nats.RECONNECTING)
	p.mu.Lock()
	p.lastSeen = time.Now()
	n := p.topUpLocked()
	p.mu.Unlock()
	p.request(n)
	wg.Add(2)
	go func() {
		defer wg.Done()
		p.deliver()
	}()
	go func() {
		defer wg.Done()
		p.watch()
	}()
	return nil
}

// stop ends the subscription and the goroutines. Messages received and not
// yet handed over are negatively acknowledged, for a prompt redelivery.
// It may be called more than once.
func (p *puller) stop() {
	p.once.Do(func() {
		close(p.done)
		_ = p.sub.Unsubscribe()
		p.nc.RemoveStatusListener(p.status)
	})
}

// receive is the subscription's handler: it runs for each message from
// the server, one at a time, in order.
func (p *puller) receive(m *nats.Msg) {
	code, desc, status := statusOf(m)
	p.mu.Lock()
	p.lastSeen = time.Now()
	if m.Reply != "" && !status {
		// A message of the stream: it comes out of the credit.
		p.credit = max(0, p.credit-1)
		if id := m.Header.Get("Nats-Pin-Id"); id != "" {
			p.pin = id
		}
		n := p.topUpLocked()
		p.mu.Unlock()
		p.request(n)
		select {
		case p.msgs <- m:
		case <-p.done:
			_ = m.Nak()
		}
		return
	}
	now := false // ask again now, rather than at the next watch tick
	switch code {
	case "100": // idle heartbeat: the requests are alive
	case "408", "409":
		if left := m.Header.Get("Nats-Pending-Messages"); left != "" {
			// A request ended (expired, or completed by size) and
			// owed this many.
			if n, err := strconv.Atoi(left); err == nil {
				p.credit = max(0, p.credit-n)
				now = true
			}
		} else if code == "409" {
			// Leadership change, consumer deleted, a limit exceeded:
			// every request of this consumer is gone.
			p.credit = 0
			if desc == "Leadership Change" {
				now = true
			} else {
				p.logLocked("deliver: pull request refused", code+" "+desc)
			}
		}
	case "423": // another process holds the pin: wait for it to go
		p.pin, p.credit = "", 0
	default: // 400, 503 no responders (no leader yet), 404...
		p.credit = 0
		p.logLocked("deliver: pull request refused", code+" "+desc)
	}
	n := 0
	if now {
		n = p.topUpLocked()
	}
	p.mu.Unlock()
	p.request(n)
}

// statusOf returns a status message's code and description.
func statusOf(m *nats.Msg) (code, desc string, ok bool) {
	if len(m.Data) != 0 || m.Header == nil {
		return "", "", false
	}
	code = m.Header.Get("Status")
	return code, m.Header.Get("Description"), code != ""
}

// topUpLocked returns how many messages to ask for now (0: none), and
// counts them in the credit. p.mu is held.
func (p *puller) topUpLocked() int {
	if p.credit > p.target/2 {
		return 0
	}
	n := p.target - p.credit
	p.credit = p.target
	return n
}

// request sends a pull request for n messages (none when n is 0). A
// request that cannot be sent is taken out of the credit; the next watch
// tick asks again.
func (p *puller) request(n int) {
	if n <= 0 {
		return
	}
	select {
	case <-p.done:
		// Stopped: a request now would deliver to no one.
		return
	default:
	}
	p.mu.Lock()
	body, err := json.Marshal(pullRequest{Batch: n, Expires: p.expires, Heartbeat: p.hb, Group: p.group, PinID: p.pin})
	p.mu.Unlock()
	if err == nil {
		err = p.nc.PublishRequest(p.subject, p.sub.Subject, body)
	}
	if err != nil {
		p.mu.Lock()
		p.credit = max(0, p.credit-n)
		p.logLocked("deliver: pull request not sent", err.Error())
		p.mu.Unlock()
	}
}

func (p *puller) logLocked(msg, err string) {
	level := slog.LevelWarn
	if err == p.lastErr {
		level = slog.LevelDebug
	}
	p.lastErr = err
	p.log.Log(context.Background(), level, msg, "err", err)
}

// deliver hands the messages over, one at a time, in order; at stop it
// negatively acknowledges those not handed over.
func (p *puller) deliver() {
	for {
		select {
		case m := <-p.msgs:
			p.handle(jsMsg{m: m, nc: p.nc})
		case <-p.done:
			for {
				select {
				case m := <-p.msgs:
					_ = m.Nak()
				default:
					return
				}
			}
		}
	}
}

// watch asks again when the connection comes back and when the requests
// went silent: no message and no heartbeat for 2.5 heartbeats while some
// credit is outstanding means the server holds none of them (it died, the
// consumer's leader moved without telling, a request could not be sent).
func (p *puller) watch() {
	t := time.NewTicker(p.hb)
	defer t.Stop()
	status := p.status
	for {
		var lost bool
		select {
		case <-p.done:
			return
		case s, ok := <-status:
			if !ok {
				status = nil
			}
			lost = ok && s == nats.CONNECTED
		case <-t.C:
			// Messages waiting here, not yet read, are not a silence.
			n, _, _ := p.sub.Pending()
			p.mu.Lock()
			lost = p.credit == 0 || (time.Since(p.lastSeen) > p.hb*5/2 && n <= 0 && len(p.msgs) == 0)
			p.mu.Unlock()
		}
		if !lost {
			continue
		}
		p.mu.Lock()
		// Requests that did survive keep delivering to the same
		// subscription: asking twice costs nothing but a waiting request.
		p.credit, p.lastSeen = 0, time.Now()
		n := p.topUpLocked()
		p.mu.Unlock()
		p.request(n)
	}
}

// jsMsg is a message of the consumer as the jetstream package's Msg.
type jsMsg struct {
	m  *nats.Msg
	nc *nats.Conn
}

var _ jetstream.Msg = jsMsg{}

func (j jsMsg) Metadata() (*jetstream.MsgMetadata, error) {
	md, err := j.m.Metadata()
	if err != nil {
		return nil, err
	}
	return &jetstream.MsgMetadata{
		Sequence:     jetstream.SequencePair{Consumer: md.Sequence.Consumer, Stream: md.Sequence.Stream},
		NumDelivered: md.NumDelivered, NumPending: md.NumPending, Timestamp: md.Timestamp,
		Stream: md.Stream, Consumer: md.Consumer, Domain: md.Domain,
	}, nil
}

func (j jsMsg) Data() []byte                           { return j.m.Data }
func (j jsMsg) Headers() nats.Header                   { return j.m.Header }
func (j jsMsg) Subject() string                        { return j.m.Subject }
func (j jsMsg) Reply() string                          { return j.m.Reply }
func (j jsMsg) Ack() error                             { return j.m.Ack() }
func (j jsMsg) DoubleAck(ctx context.Context) error    { return j.m.AckSync(nats.Context(ctx)) }
func (j jsMsg) Nak() error                             { return j.m.Nak() }
func (j jsMsg) NakWithDelay(delay time.Duration) error { return j.m.NakWithDelay(delay) }
func (j jsMsg) InProgress() error                      { return j.m.InProgress() }
func (j jsMsg) Term() error                            { return j.m.Term() }

func (j jsMsg) TermWithReason(reason string) error {
	if j.m.Reply == "" {
		return nats.ErrMsgNoReply
	}
	return j.nc.Publish(j.m.Reply, []byte("+TERM "+reason))
}

// Stop stops the puller (jetstream.ConsumeContext): see stop.
func (p *puller) Stop() { p.stop() }

// Drain is Stop: messages received and not handed over are negatively
// acknowledged rather than handled.
func (p *puller) Drain() { p.stop() }

// Closed is closed once Stop was called.
func (p *puller) Closed() <-chan struct{} { return p.done }

var _ jetstream.ConsumeContext = (*puller)(nil)
