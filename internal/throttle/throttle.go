// Package throttle slows down the guessing of a secret: it counts the
// failed attempts of each client and refuses a client that failed too often
// within a window, until the window ends. The admin login and the admin
// API's bearer token use it.
package throttle

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// maxClients bounds the memory of a Failures: past it, expired records are
// dropped, and if that is not enough, all of them.
const maxClients = 10_000

// Failures counts failed attempts per client key. It is safe for
// concurrent use; the zero value is not usable, call New.
type Failures struct {
	limit  int
	window time.Duration

	mu      sync.Mutex
	clients map[string]record
}

type record struct {
	count int
	start time.Time // of the window, at the first failure
}

// New returns a Failures that allows limit failures per client within
// window.
func New(limit int, window time.Duration) *Failures {
	return &Failures{limit: max(1, limit), window: window, clients: map[string]record{}}
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
		delete(f.clients, key)
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
	if !ok || !now.Before(r.start.Add(f.window)) {
		r = record{start: now}
	}
	r.count++
	if !ok && len(f.clients) >= maxClients {
		for k, old := range f.clients {
			if !now.Before(old.start.Add(f.window)) {
				delete(f.clients, k)
			}
		}
		if len(f.clients) >= maxClients {
			clear(f.clients)
		}
	}
	f.clients[key] = r
}

// Succeed forgets the failures of the client key.
func (f *Failures) Succeed(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.clients, key)
}

// ClientKey returns the address of r's peer without its port: the key of
// a client (the admin listener is not meant to sit behind a proxy).
func ClientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
