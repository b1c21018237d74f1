package deliver

import (
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// keepAlive tells JetStream that a message is still being worked on
// (InProgress, which restarts its AckWait) every AckWait/3 while its
// action runs. It is a timer re-armed after each signal: most actions end
// well before the first one, and a timer costs less than a goroutine with
// a ticker per delivery.
type keepAlive struct {
	mu      sync.Mutex // guards the fields, held while signalling
	m       jetstream.Msg
	period  time.Duration
	t       *time.Timer
	stopped bool
}

// start starts signalling that m is in progress every period until stop.
// Starting a keepAlive that is already signalling does nothing; one that
// was stopped stays stopped.
func (k *keepAlive) start(m jetstream.Msg, period time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.t != nil {
		return
	}
	k.m, k.period = m, period
	k.t = time.AfterFunc(period, k.signal)
}

func (k *keepAlive) signal() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.stopped {
		return
	}
	_ = k.m.InProgress()
	k.t.Reset(k.period)
}

// stop ends the signals: none is sent once stop has returned. It may be
// called more than once, and on a keepAlive never started.
func (k *keepAlive) stop() {
	k.mu.Lock()
	k.stopped = true
	if k.t != nil {
		k.t.Stop()
	}
	k.mu.Unlock()
}
