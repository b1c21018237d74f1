package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// sink is the end-to-end receiver: the target of forgehook's http trigger,
// in the benchmark's process. For every delivered event it records the
// time from ingest (the CloudEvent's time attribute, which forgehook sets
// when the request arrives) to delivery.
type sink struct {
	srv  *http.Server
	ln   net.Listener
	errc chan error

	mu        sync.Mutex // guards the fields below
	conns     uint64     // connections accepted
	delivered uint64
	bad       uint64
	last      time.Time
	hist      *hist
}

func startSink() (*sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{ln: ln, errc: make(chan error, 1), hist: new(hist)}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, ConnState: s.connState}
	go func() { s.errc <- s.srv.Serve(ln) }()
	return s, nil
}

// URL returns the address triggers deliver to.
func (s *sink) URL() string { return "http://" + s.ln.Addr().String() + "/sink" }

func (s *sink) close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if serr := <-s.errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// connState counts new connections: a sender that keeps its connections
// alive opens few.
func (s *sink) connState(_ net.Conn, st http.ConnState) {
	if st == http.StateNew {
		s.mu.Lock()
		s.conns++
		s.mu.Unlock()
	}
}

// timeAttr starts the time attribute in a structured CloudEvent.
const timeAttr = `"time":"`

// ServeHTTP records one delivery and answers 204.
func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	now := time.Now()
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	t, ok := eventTime(body)
	s.mu.Lock()
	if ok {
		s.delivered++
		s.last = now
		s.hist.Record(now.Sub(t))
	} else {
		s.bad++
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// eventTime returns a structured CloudEvent's time attribute. The envelope
// attributes precede data in forgehook's records, so the first "time"
// member is the envelope's; other producers are decoded in full.
func eventTime(body []byte) (time.Time, bool) {
	if i := bytes.Index(body, []byte(timeAttr)); i >= 0 {
		rest := body[i+len(timeAttr):]
		if j := bytes.IndexByte(rest, '"'); j >= 0 {
			if t, err := time.Parse(time.RFC3339Nano, string(rest[:j])); err == nil {
				return t, true
			}
		}
	}
	var ev struct {
		Time time.Time `json:"time"`
	}
	if err := json.Unmarshal(body, &ev); err != nil || ev.Time.IsZero() {
		return time.Time{}, false
	}
	return ev.Time, true
}

// sinkSnapshot is the sink's counters at one moment.
type sinkSnapshot struct {
	Conns, Delivered, Bad uint64
	Last                  time.Time
}

func (s *sink) snapshot() sinkSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sinkSnapshot{s.conns, s.delivered, s.bad, s.last}
}

// takeHist returns the latencies recorded since the last call.
func (s *sink) takeHist() *hist {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hist
	s.hist = new(hist)
	return h
}
