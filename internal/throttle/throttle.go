// Package throttle slows down the guessing of a secret: it counts the
// failed attempts of each client and refuses a client that failed too often
// within a window, until the window ends. The admin login, the admin API's
// bearer token and /metrics share one Failures, so that an address gets one
// allowance of guesses in all.
//
// Memory is bounded: a Failures remembers at most MaxClients clients. Past
// that, a new client's record takes the place of the one whose window
// started first (expired records go first: they are the oldest). No
// failure is ever forgotten wholesale: an attacker who makes many
// addresses fail only pushes out the oldest records, its own among them,
// and each of its addresses still gets no more than the limit.
package throttle

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// MaxClients bounds how many clients a Failures remembers (about 100 bytes
// each).
const MaxClients = 10_000

// Failures counts failed attempts per client key. It is safe for
// concurrent use; the zero value is not usable, call New.
type Failures struct {
	limit  int
	window time.Duration
	max    int

	mu      sync.Mutex
	clients map[string]*record
	// oldest and newest end a list of the records by window start, oldest
	// first: a window's start never changes, and a new window is a new
	// record at the newest end.
	oldest, newest *record
}

type record struct {
	key          string
	count        int
	start        time.Time // of the window, at the first failure
	older, newer *record
}

// New returns a Failures that allows limit failures per client within
// window.
func New(limit int, window time.Duration) *Failures {
	return &Failures{limit: max(1, limit), window: window, max: MaxClients, clients: map[string]*record{}}
}

// Allow reports whether the client key may make an attempt at now; when it
// may not, it also returns how long until it may.
func (f *Failures) Allow(key string, now time.Time) (bool, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.clients[key]
	if !ok {
		return true, 0
	}
	end := r.start.Add(f.window)
	if !now.Before(end) {
		f.remove(r)
		return true, 0
	}
	if r.count < f.limit {
		return true, 0
	}
	return false, end.Sub(now)
}

// Fail records a failed attempt of the client key at now.
func (f *Failures) Fail(key string, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.clients[key]
	if ok && !now.Before(r.start.Add(f.window)) {
		f.remove(r)
		ok = false
	}
	if !ok {
		for f.oldest != nil && (len(f.clients) >= f.max || !now.Before(f.oldest.start.Add(f.window))) {
			f.remove(f.oldest)
		}
		r = &record{key: key, start: now, older: f.newest}
		if f.newest != nil {
			f.newest.newer = r
		} else {
			f.oldest = r
		}
		f.newest = r
		f.clients[key] = r
	}
	r.count++
}

// Succeed forgets the failures of the client key.
func (f *Failures) Succeed(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.clients[key]; ok {
		f.remove(r)
	}
}

// Len returns how many clients f remembers.
func (f *Failures) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.clients)
}

// remove unlinks r and forgets it; f.mu is held.
func (f *Failures) remove(r *record) {
	if r.older != nil {
		r.older.newer = r.newer
	} else {
		f.oldest = r.newer
	}
	if r.newer != nil {
		r.newer.older = r.older
	} else {
		f.newest = r.older
	}
	r.older, r.newer = nil, nil
	delete(f.clients, r.key)
}

// ClientKey returns the key of r's peer: its IPv4 address, or the /64
// network of its IPv6 address (one host commonly holds a whole /64, so
// counting its addresses one by one would multiply its guesses), without
// the port. The admin listener is not meant to sit behind a proxy.
func ClientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
