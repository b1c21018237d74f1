package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// loadSpec is one closed-loop run: conc workers, each with its own
// keep-alive connection, each sending the next request as soon as the
// previous answer is read, until the duration is over.
type loadSpec struct {
	// Addr is the server's host:port; Path the request path.
	Addr, Path string
	// Payload is the signed delivery to send.
	Payload *payload
	// Conc is the number of workers (connections).
	Conc int
	// Duration is how long workers start new requests.
	Duration time.Duration
	// Nonce and Run make every delivery id of the benchmark unique.
	Nonce uint32
	Run   uint16
	// Progress, when set, is incremented on every answered request.
	Progress *atomic.Uint64
}

// loadResult is what one run measured.
type loadResult struct {
	OK       uint64        // 200 answers
	Failed   uint64        // other answers and connection errors
	Dups     uint64        // 200 answers that said duplicate: true
	Elapsed  time.Duration // from the start to the last answer
	Hist     *hist         // latency of the 200 answers
	FirstErr error
}

// RPS returns the rate of 200 answers.
func (r *loadResult) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.OK) / r.Elapsed.Seconds()
}

// requestTimeout bounds one request; a server that does not answer in time
// counts as a failure and the connection is replaced.
const requestTimeout = 15 * time.Second

// maxFailures stops a worker whose server keeps failing.
const maxFailures = 1000

// runLoad runs spec and returns its measurements. It returns an error only
// when no connection could be made; failed requests are counted.
func runLoad(ctx context.Context, spec loadSpec) (*loadResult, error) {
	workers := make([]*worker, spec.Conc)
	for i := range workers {
		w, err := newWorker(spec, i)
		if err != nil {
			for _, w := range workers[:i] {
				w.close()
			}
			return nil, err
		}
		workers[i] = w
	}
	start := time.Now()
	deadline := start.Add(spec.Duration)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.loop(ctx, deadline)
		}()
	}
	wg.Wait()
	res := &loadResult{Hist: new(hist)}
	var last time.Time
	for _, w := range workers {
		w.close()
		res.OK += w.ok
		res.Failed += w.failed
		res.Dups += w.dups
		res.Hist.Merge(&w.hist)
		if w.last.After(last) {
			last = w.last
		}
		if res.FirstErr == nil {
			res.FirstErr = w.firstErr
		}
	}
	if !last.IsZero() {
		res.Elapsed = last.Sub(start)
	}
	return res, nil
}

// worker is one connection of a closed-loop run. Its request is built once;
// only the delivery id changes in place, so a request costs one write.
type worker struct {
	spec loadSpec
	id   int
	conn net.Conn
	br   *bufio.Reader
	req  []byte
	idAt int // offset of the 36-byte delivery id in req
	seq  uint64
	resp []byte
	hist hist
	ok   uint64
	dups uint64
	last time.Time

	failed   uint64
	firstErr error
}

func newWorker(spec loadSpec, id int) (*worker, error) {
	w := &worker{spec: spec, id: id, resp: make([]byte, 0, 512)}
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\n", spec.Path, spec.Addr)
	b.WriteString("Accept: */*\r\nContent-Type: application/json\r\nUser-Agent: GitHub-Hookshot/forgehook-bench\r\n")
	b.WriteString("X-GitHub-Event: push\r\nX-GitHub-Hook-ID: 482191050\r\n")
	b.WriteString("X-GitHub-Hook-Installation-Target-ID: 186853002\r\nX-GitHub-Hook-Installation-Target-Type: repository\r\n")
	fmt.Fprintf(&b, "X-Hub-Signature-256: %s\r\nContent-Length: %d\r\nX-GitHub-Delivery: ", spec.Payload.Signature, len(spec.Payload.Body))
	w.idAt = b.Len()
	b.WriteString("00000000-0000-0000-0000-000000000000\r\n\r\n")
	b.Write(spec.Payload.Body)
	w.req = b.Bytes()
	if err := w.dial(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *worker) dial() error {
	c, err := net.DialTimeout("tcp", w.spec.Addr, 5*time.Second)
	if err != nil {
		return err
	}
	w.conn = c
	if w.br == nil {
		w.br = bufio.NewReaderSize(c, 4096)
	} else {
		w.br.Reset(c)
	}
	return nil
}

func (w *worker) close() {
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
}

// setID writes the next delivery id, UUID-shaped: nonce-run-worker-seq.
func (w *worker) setID() {
	w.seq++
	var raw [16]byte
	raw[0], raw[1], raw[2], raw[3] = byte(w.spec.Nonce>>24), byte(w.spec.Nonce>>16), byte(w.spec.Nonce>>8), byte(w.spec.Nonce)
	raw[4], raw[5] = byte(w.spec.Run>>8), byte(w.spec.Run)
	raw[6], raw[7] = byte(w.id>>8), byte(w.id)
	for i := range 8 {
		raw[8+i] = byte(w.seq >> (56 - 8*i))
	}
	d := w.req[w.idAt : w.idAt+36]
	hex.Encode(d[0:8], raw[0:4])
	hex.Encode(d[9:13], raw[4:6])
	hex.Encode(d[14:18], raw[6:8])
	hex.Encode(d[19:23], raw[8:10])
	hex.Encode(d[24:36], raw[10:16])
}

func (w *worker) fail(err error) {
	w.failed++
	if w.firstErr == nil {
		w.firstErr = err
	}
}

func (w *worker) loop(ctx context.Context, deadline time.Time) {
	for ctx.Err() == nil && w.failed < maxFailures {
		t0 := time.Now()
		if !t0.Before(deadline) {
			return
		}
		if w.conn == nil {
			if err := w.dial(); err != nil {
				w.fail(err)
				time.Sleep(10 * time.Millisecond)
				continue
			}
		}
		w.setID()
		status, keep, err := w.roundTrip(t0)
		now := time.Now()
		if err != nil {
			w.fail(err)
			w.close()
			continue
		}
		w.last = now
		if status == 200 {
			w.ok++
			w.hist.Record(now.Sub(t0))
			if bytes.Contains(w.resp, []byte(`"duplicate":true`)) {
				w.dups++
			}
			if w.spec.Progress != nil {
				w.spec.Progress.Add(1)
			}
		} else {
			w.fail(fmt.Errorf("status %d: %.200s", status, w.resp))
		}
		if !keep {
			w.close()
		}
	}
}

// roundTrip writes the request and reads the answer into w.resp. It reads
// HTTP/1.1 answers with a Content-Length, which both servers send for
// their small bodies.
func (w *worker) roundTrip(t0 time.Time) (status int, keep bool, err error) {
	if err := w.conn.SetDeadline(t0.Add(requestTimeout)); err != nil {
		return 0, false, err
	}
	if _, err := w.conn.Write(w.req); err != nil {
		return 0, false, err
	}
	line, err := w.br.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, false, fmt.Errorf("bad status line %q", line)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, false, fmt.Errorf("bad status line %q", line)
	}
	keep = line[7] == '1'
	length := -1
	for {
		h, err := w.br.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return 0, false, fmt.Errorf("bad header line %q", h)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil {
				return 0, false, fmt.Errorf("bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Connection")) && bytes.EqualFold(value, []byte("close")):
			keep = false
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return 0, false, errors.New("chunked answers are not supported by the load generator")
		}
	}
	if length < 0 {
		return 0, false, errors.New("answer without Content-Length")
	}
	if cap(w.resp) < length {
		w.resp = make([]byte, length)
	}
	w.resp = w.resp[:length]
	if _, err := io.ReadFull(w.br, w.resp); err != nil {
		return 0, false, err
	}
	return status, keep, nil
}
