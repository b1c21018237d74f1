package ingest

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"time"
)

// DefaultMaxConcurrentPerSource is the default of
// Options.MaxConcurrentPerSource.
const DefaultMaxConcurrentPerSource = 8

// DefaultMinBodyRate is the default of Options.MinBodyRate, in bytes a
// second.
const DefaultMinBodyRate = 16 << 10

// DefaultMinBodyRateGrace is the default of Options.MinBodyRateGrace.
const DefaultMinBodyRateGrace = 5 * time.Second

// readers counts, per source address (an IPv6 address by its /64), the
// requests whose body is being read: none is authenticated yet. A source at
// max is answered 429 before another body of its is read. A source is in
// the table only while it has a body being read, so the table never holds
// more entries than the requests it counts (each of which holds far more:
// a connection, a goroutine, a buffer), and nothing is ever forgotten
// wholesale. It is safe for concurrent use; a nil *readers counts nothing.
type readers struct {
	max int

	mu    sync.Mutex
	items map[netip.Prefix]*reading
}

type reading struct {
	n       int
	refused time.Time // when a refusal of it was last logged
}

func newReaders(maxPerSource int) *readers {
	if maxPerSource <= 0 {
		return nil
	}
	return &readers{max: maxPerSource, items: map[netip.Prefix]*reading{}}
}

// acquire counts one more body read from a at now, unless a has max
// already: then it returns false, and whether to log the refusal (once a
// second per source, so that a flood does not flood the log too). A
// successful acquire must be followed by one release of the same a.
func (l *readers) acquire(a netip.Addr, now time.Time) (ok, logIt bool) {
	if l == nil || !a.IsValid() {
		return true, false
	}
	k := sourceKey(a)
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.items[k]
	if s == nil {
		s = &reading{}
		l.items[k] = s
	}
	if s.n >= l.max {
		if logIt = now.Sub(s.refused) >= time.Second; logIt {
			s.refused = now
		}
		return false, logIt
	}
	s.n++
	return true, false
}

// release ends one body read from a counted by acquire.
func (l *readers) release(a netip.Addr) {
	if l == nil || !a.IsValid() {
		return
	}
	k := sourceKey(a)
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := l.items[k]; s != nil {
		if s.n--; s.n <= 0 {
			delete(l.items, k)
		}
	}
}

// len returns how many sources have a body being read.
func (l *readers) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.items)
}

// errTooSlow means a body came slower than the minimum body rate: ingest
// answers 408 and closes the connection.
var errTooSlow = errors.New("body sent too slowly")

// pace holds one body read to the minimum body rate: once the read has
// lasted grace, the bytes received must average at least rate a second. It
// does so with the connection's read deadline, moved before each read to
// the moment the average would fall under the rate if nothing more came,
// and never past the end of read_timeout: no goroutine, no timer. Time the
// request spends waiting for room in the body budget is not the client's
// and does not count. A zero pace, or one whose connection has no read
// deadline (a test's ResponseRecorder), enforces nothing.
type pace struct {
	rc    *http.ResponseController
	rate  float64       // bytes a second
	grace time.Duration // before the rate applies
	start time.Time     // of the read, moved on by the budget's waits
	end   time.Time     // read_timeout's end, zero for none
	set   time.Time     // the deadline last set
	// slow is true when the deadline last set is the rate's, not
	// read_timeout's.
	slow bool
}

// newPace returns the pace of a body read starting at now (read_timeout
// counts from a little earlier: the request's first byte).
func (h *Handler) newPace(w http.ResponseWriter, now time.Time) *pace {
	if h.opts.MinBodyRate <= 0 {
		return nil
	}
	p := &pace{rc: http.NewResponseController(w), rate: float64(h.opts.MinBodyRate), grace: h.opts.MinBodyRateGrace, start: now}
	if h.opts.ReadTimeout > 0 {
		p.end = now.Add(h.opts.ReadTimeout)
	}
	return p
}

// before sets the deadline of the next read, received bytes into the body.
// When the connection has no deadline to set, it turns p off.
func (p *pace) before(received int64) {
	if p == nil || p.rc == nil {
		return
	}
	d := p.start.Add(max(p.grace, time.Duration(float64(received)/p.rate*float64(time.Second))))
	p.slow = true
	if !p.end.IsZero() && d.After(p.end) {
		d, p.slow = p.end, false
	}
	if d.Equal(p.set) {
		return
	}
	if err := p.rc.SetReadDeadline(d); err != nil {
		p.rc = nil // http.ErrNotSupported: nothing to enforce with
		return
	}
	p.set = d
}

// pause moves the start of the read on by d, a wait that was not the
// client's.
func (p *pace) pause(d time.Duration) {
	if p != nil {
		p.start = p.start.Add(d)
	}
}

// check turns the error of a body read into errTooSlow (408) when the read
// ran into the deadline p set, with the figures for the log.
func (p *pace) check(err error, received int64) error {
	if p == nil || p.rc == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
		return err
	}
	took := time.Since(p.start).Round(time.Millisecond)
	if !p.slow {
		return fail(http.StatusRequestTimeout, "body not received within server.read_timeout", fmt.Errorf("%d bytes in %s: %w", received, took, err))
	}
	return fail(http.StatusRequestTimeout, "body sent too slowly",
		fmt.Errorf("%w: %d bytes in %s, under server.min_body_rate of %.0f bytes/s: %w", errTooSlow, received, took, p.rate, err))
}
