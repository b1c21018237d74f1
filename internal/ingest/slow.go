package ingest

import (
	"errors"
	"fmt"
	"math"
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

// slowReadAfter is how long a body read lasts before it counts as slow,
// towards its source's cap: a delivery's body arrives in milliseconds, so
// a forge that sends many at once from one address (or a proxy that
// forwards everyone's) is never capped, while bodies that trickle are.
const slowReadAfter = time.Second

// readers tracks, per source address (an IPv6 address by its /64), the
// requests whose body is being read: none is authenticated yet. A source
// with max reads that have lasted slowAfter or longer is answered 429
// before another body of its is read. A source is in the table only while
// it has a body being read, so the table never holds more entries than the
// requests it tracks (each of which holds far more: a connection, a
// goroutine, a buffer), and nothing is ever forgotten wholesale. It is
// safe for concurrent use; a nil *readers counts nothing.
type readers struct {
	max       int
	slowAfter time.Duration // 0: every read counts at once

	mu    sync.Mutex
	items map[netip.Prefix]reading
}

type reading struct {
	starts  []time.Time // of the reads in progress
	refused time.Time   // when a refusal of it was last logged
}

func newReaders(maxPerSource int) *readers {
	if maxPerSource <= 0 {
		return nil
	}
	return &readers{max: maxPerSource, slowAfter: slowReadAfter, items: map[netip.Prefix]reading{}}
}

// acquire records a body read from a starting at now, unless a has max
// slow reads in progress already: then it returns false, and whether to
// log the refusal (once a second per source, so that a flood does not
// flood the log too). A successful acquire must be followed by one release
// with the same a and now.
func (l *readers) acquire(a netip.Addr, now time.Time) (ok, logIt bool) {
	if l == nil || !a.IsValid() {
		return true, false
	}
	k := sourceKey(a)
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.items[k]
	slow := 0
	for _, t := range s.starts {
		if now.Sub(t) >= l.slowAfter {
			slow++
		}
	}
	if slow >= l.max {
		if logIt = now.Sub(s.refused) >= time.Second; logIt {
			s.refused = now
			l.items[k] = s
		}
		return false, logIt
	}
	s.starts = append(s.starts, now)
	l.items[k] = s
	return true, false
}

// release ends the body read from a that acquire recorded at start.
func (l *readers) release(a netip.Addr, start time.Time) {
	if l == nil || !a.IsValid() {
		return
	}
	k := sourceKey(a)
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.items[k]
	if !ok {
		return
	}
	for i, t := range s.starts {
		if t.Equal(start) {
			s.starts = append(s.starts[:i], s.starts[i+1:]...)
			break
		}
	}
	if len(s.starts) == 0 {
		delete(l.items, k)
	} else {
		l.items[k] = s
	}
}

// len returns how many sources have a body being read.
func (l *readers) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.items)
}

// errTooSlow means a body came slower than the minimum body rate, or was
// the slowest when the body budget was full: ingest answers 408 and closes
// the connection.
var errTooSlow = errors.New("body sent too slowly")

// shedAge is how long a body read must have lasted before it may be shed
// for a waiting request: its average rate means something by then.
const shedAge = time.Second

// shedRetry is how often a request waiting for room in the body budget
// looks again for a slow body to shed.
const shedRetry = 100 * time.Millisecond

// pace holds one body read to the minimum body rate: once the read has
// lasted grace, the bytes received must average at least rate a second. It
// does so with the connection's read deadline, moved before each read to
// the moment the average would fall under the rate if nothing more came,
// and never past the end of read_timeout: no goroutine, no timer. Time the
// request spends waiting for room in the body budget is not the client's
// and does not count. A nil pace, or one whose connection has no read
// deadline (a test's ResponseRecorder), enforces nothing.
//
// While it reads, the pace is in its handler's table of body reads, from
// which a request that waits for room in the budget sheds the slowest
// (see reads.shed).
type pace struct {
	rc    *http.ResponseController
	rate  float64       // bytes a second
	grace time.Duration // before the rate applies
	end   time.Time     // read_timeout's end, zero for none
	set   time.Time     // the deadline last set
	// slow is true when the deadline last set is the rate's, not
	// read_timeout's.
	slow bool

	mu       sync.Mutex
	start    time.Time // of the read, moved on by the budget's waits
	received int64
	reading  bool // false once the read is over: never cut then
	waiting  bool // for room in the budget: not the client's time
	shed     bool // cut for a waiting request
}

// newPace returns the pace of a body read starting at now (read_timeout
// counts from a little earlier: the request's first byte), in h's table
// of body reads until its finish.
func (h *Handler) newPace(w http.ResponseWriter, now time.Time) *pace {
	p := &pace{rc: http.NewResponseController(w), grace: h.opts.MinBodyRateGrace, start: now, reading: true}
	if h.opts.MinBodyRate > 0 {
		p.rate = float64(h.opts.MinBodyRate)
	}
	if h.opts.ReadTimeout > 0 {
		p.end = now.Add(h.opts.ReadTimeout)
	}
	h.reads.add(p)
	return p
}

// before sets the deadline of the next read, received bytes into the body.
// When the connection has no deadline to set, it turns p off. It returns
// errTooSlow when p was shed.
func (p *pace) before(received int64) error {
	if p == nil || p.rc == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.received = received
	if p.shed {
		return p.tooSlow(nil)
	}
	d, slow := p.end, false
	if p.rate > 0 {
		if r := p.start.Add(max(p.grace, time.Duration(float64(received)/p.rate*float64(time.Second)))); d.IsZero() || r.Before(d) {
			d, slow = r, true
		}
	}
	if d.Equal(p.set) {
		return nil
	}
	if err := p.rc.SetReadDeadline(d); err != nil {
		p.rc = nil // http.ErrNotSupported: nothing to enforce with
		return nil
	}
	p.set, p.slow = d, slow
	return nil
}

// wait marks the start (on) and the end of a wait for room in the budget:
// a wait that is not the client's and moves the start of the read on.
func (p *pace) wait(on bool, d time.Duration) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.waiting = on
	p.start = p.start.Add(d)
}

// finish ends the read: p leaves h's table and is never cut after.
func (h *Handler) finish(p *pace) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.reading = false
	p.mu.Unlock()
	h.reads.remove(p)
}

// check turns the error of a body read into a 408 when the read ran into
// a deadline p set, with the figures for the log.
func (p *pace) check(err error) error {
	if p == nil || p.rc == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.slow && !p.shed {
		return fail(http.StatusRequestTimeout, "body not received within server.read_timeout",
			fmt.Errorf("%d bytes in %s: %w", p.received, time.Since(p.start).Round(time.Millisecond), err))
	}
	return p.tooSlow(err)
}

// tooSlow is p's 408; p.mu is held.
func (p *pace) tooSlow(err error) error {
	took := time.Since(p.start).Round(time.Millisecond)
	if p.shed {
		return fail(http.StatusRequestTimeout, "body sent too slowly",
			fmt.Errorf("%w: %d bytes in %s, the slowest body while others waited for server.max_body_in_flight", errTooSlow, p.received, took))
	}
	return fail(http.StatusRequestTimeout, "body sent too slowly",
		fmt.Errorf("%w: %d bytes in %s, under server.min_body_rate of %.0f bytes/s: %w", errTooSlow, p.received, took, p.rate, err))
}

// reads is the table of the body reads in progress, for shedding. Lock
// order: reads.mu, then a pace's mu. It is safe for concurrent use.
type reads struct {
	mu sync.Mutex
	m  map[*pace]struct{}
}

func (f *reads) add(p *pace) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[*pace]struct{}{}
	}
	f.m[p] = struct{}{}
}

func (f *reads) remove(p *pace) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.m, p)
}

// shed cuts, at now, the body read whose average rate is the lowest among
// those that have lasted shedAge and are not waiting for the budget
// themselves: its read deadline becomes now, and its request is answered
// 408 and releases its bytes. It reports whether it cut one. A request that
// waits for room calls it, so that bodies that trickle in cannot keep the
// budget from deliveries that come whole at once: the slowest body goes
// first, never a fast one while a slow one is left.
func (f *reads) shed(now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	var victim *pace
	slowest := math.Inf(1)
	for p := range f.m {
		p.mu.Lock()
		if p.reading && !p.waiting && !p.shed && p.rc != nil {
			if el := now.Sub(p.start); el >= shedAge {
				if r := float64(p.received) / el.Seconds(); r < slowest {
					victim, slowest = p, r
				}
			}
		}
		p.mu.Unlock()
	}
	if victim == nil {
		return false
	}
	victim.mu.Lock()
	defer victim.mu.Unlock()
	if !victim.reading {
		return false
	}
	victim.shed = true
	// The read is not over: its next read fails at once. (Should its
	// last bytes arrive in this very instant, net/http's read of the
	// connection after the body fails instead, which cancels the
	// request's context: it is answered 503, never a 2xx for nothing.)
	_ = victim.rc.SetReadDeadline(now)
	return true
}

// len returns how many body reads are in progress.
func (f *reads) len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.m)
}

// logSampler lets one event a second through and counts the others. The
// zero value is ready; it is safe for concurrent use.
type logSampler struct {
	mu      sync.Mutex
	last    time.Time
	skipped int
}

// take reports whether the event at now is to be logged and, if it is,
// how many were left out since the last one logged.
func (s *logSampler) take(now time.Time) (ok bool, skipped int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.last.IsZero() && now.Sub(s.last) < time.Second {
		s.skipped++
		return false, 0
	}
	s.last, skipped, s.skipped = now, s.skipped, 0
	return true, skipped
}
