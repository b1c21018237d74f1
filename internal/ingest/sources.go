package ingest

import (
	"container/list"
	"math"
	"net/netip"
	"sync"
	"time"
)

// DefaultMaxSources is how many source addresses the limit on
// unauthenticated requests remembers at most.
const DefaultMaxSources = 4096

// sourceLimiter limits the requests that fail authentication, per source
// address: each failure takes a token from the source's bucket, and a
// source whose bucket is empty is answered 429 at the door, before its body
// is read. An IPv6 source counts by its /64, which one host usually holds
// whole. The table holds at most max sources: when it is full, the source
// whose last failure is the oldest is forgotten (it starts again with a
// full bucket), so that memory is bounded and no flood of new addresses
// resets the others at once. It is safe for concurrent use.
type sourceLimiter struct {
	rate  float64
	burst float64
	max   int

	mu    sync.Mutex
	items map[netip.Prefix]*list.Element // of *source
	order list.List                      // most recently failed first
}

type source struct {
	key     netip.Prefix
	tokens  float64
	last    time.Time
	refused time.Time // when a refusal of it was last logged
}

func newSourceLimiter(rate float64, burst, maxSources int) *sourceLimiter {
	if rate <= 0 {
		return nil
	}
	if burst < 1 {
		burst = max(1, int(math.Ceil(rate)))
	}
	if maxSources < 1 {
		maxSources = DefaultMaxSources
	}
	return &sourceLimiter{rate: rate, burst: float64(burst), max: maxSources, items: map[netip.Prefix]*list.Element{}}
}

func sourceKey(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, _ := a.Prefix(bits)
	return p
}

// refill brings s's bucket to now.
func (l *sourceLimiter) refill(s *source, now time.Time) {
	s.tokens = math.Min(l.burst, s.tokens+now.Sub(s.last).Seconds()*l.rate)
	s.last = now
}

// allowed reports whether a request from a may be served at now: it may
// unless a's failures used its bucket up. When not, it returns how long
// until a token comes back, and whether to log the refusal: once a second
// per source, so that a flood does not flood the log too.
func (l *sourceLimiter) allowed(a netip.Addr, now time.Time) (ok bool, wait time.Duration, logIt bool) {
	if l == nil || !a.IsValid() {
		return true, 0, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.items[sourceKey(a)]
	if e == nil {
		return true, 0, false
	}
	s := e.Value.(*source)
	l.refill(s, now)
	if s.tokens >= 1 {
		return true, 0, false
	}
	if logIt = now.Sub(s.refused) >= time.Second; logIt {
		s.refused = now
	}
	return false, time.Duration((1 - s.tokens) / l.rate * float64(time.Second)), logIt
}

// fail takes a token from a's bucket for a failed authentication at now.
func (l *sourceLimiter) fail(a netip.Addr, now time.Time) {
	if l == nil || !a.IsValid() {
		return
	}
	k := sourceKey(a)
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.items[k]
	if e == nil {
		if l.order.Len() >= l.max {
			old := l.order.Back()
			l.order.Remove(old)
			delete(l.items, old.Value.(*source).key)
		}
		e = l.order.PushFront(&source{key: k, tokens: l.burst, last: now})
		l.items[k] = e
	} else {
		l.order.MoveToFront(e)
	}
	s := e.Value.(*source)
	l.refill(s, now)
	s.tokens = math.Max(s.tokens-1, -l.burst) // a bounded debt
}

// len returns how many sources are remembered.
func (l *sourceLimiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.order.Len()
}
