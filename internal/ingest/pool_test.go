package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/store"
)

func TestIngestBufPoolSizes(t *testing.T) {
	var p bufPool
	for _, n := range []int{0, 1, 1023, 1024, 1025, 4096, 8193, maxPooled - 1, maxPooled, maxPooled + 1, 3 << 20} {
		bp := p.get(n)
		if len(*bp) != 0 || cap(*bp) < n {
			t.Errorf("get(%d): len %d cap %d", n, len(*bp), cap(*bp))
		}
		if n <= maxPooled && cap(*bp) >= 2*n && cap(*bp) > 1<<minPooledShift {
			t.Errorf("get(%d): capacity %d, more than the next power of two", n, cap(*bp))
		}
		*bp = append(*bp, "dirty"...)
		p.put(bp)
	}
	// A buffer that grew past its class goes to the class it now fills.
	b := make([]byte, 0, 3000)
	p.put(&b)
	for range 100 {
		if bp := p.get(2048); cap(*bp) < 2048 || len(*bp) != 0 {
			t.Fatalf("get(2048) after put of a 3000-byte buffer: len %d cap %d", len(*bp), cap(*bp))
		}
	}
}

// pooledCase is one request of TestIngestPooledBuffersAreNotShared.
type pooledCase struct {
	delivery string
	hdr      http.Header
	body     string // as sent
	payload  string // the JSON stored: body, or a form's payload field
	status   int    // the answer's
	stored   bool
}

// TestIngestPooledBuffersAreNotShared sends deliveries of many sizes
// (pooled and not), form-encoded ones, pings and rejected ones from many
// goroutines at once into a real store, and checks that every observer
// saw its own body and every stored record is whole and its own: a body or
// record buffer given back to the pool while still in use would show up as
// another delivery's bytes.
func TestIngestPooledBuffersAreNotShared(t *testing.T) {
	var cases []*pooledCase
	for i := range 240 {
		id := fmt.Sprintf("d-%03d", i)
		size := []int{10, 900, 1500, 3000, 7000, 20000, 70000, 300000}[i%8]
		payload := fmt.Sprintf(`{"ref":"refs/heads/b%d","delivery":%q,"pad":%q}`, i, id, strings.Repeat(string(rune('a'+i%26)), size))
		c := &pooledCase{delivery: id, body: payload, payload: payload, status: 200, stored: true}
		c.hdr = ghHeaders("push", id, []byte(payload))
		switch i % 5 {
		case 1: // form-encoded
			c.body = "payload=" + url.QueryEscape(payload)
			c.hdr = ghHeaders("push", id, []byte(c.body))
			c.hdr.Set("Content-Type", "application/x-www-form-urlencoded")
		case 2: // rejected after reading the body
			c.hdr.Set("X-Hub-Signature-256", "sha256=00")
			c.status, c.stored = 401, false
		case 3: // a ping: read, answered, not stored
			c.hdr = ghHeaders("ping", id, []byte(payload))
			c.stored = false
		}
		cases = append(cases, c)
	}
	byID := map[string]*pooledCase{}
	for _, c := range cases {
		byID[c.delivery] = c
	}

	h, st := newTestHandler(t, config.Endpoint{Name: "gh", Provider: "github", Secrets: []config.Secret{secret}, MaxBody: 1 << 20})
	var mu sync.Mutex
	var observed []string
	h.opts.Observe = func(o Outcome) {
		c := byID[o.Delivery]
		if c == nil || o.Record == nil {
			return
		}
		// The record's body points into the pooled request buffer, valid
		// during this call. (The pause lets other requests run: one would
		// take the buffer if it were back in the pool already.)
		time.Sleep(time.Millisecond)
		if got := string(o.Record.Data.Body); got != c.payload {
			mu.Lock()
			observed = append(observed, fmt.Sprintf("%s: observer saw a body of %d bytes, want its own %d", c.delivery, len(got), len(c.payload)))
			mu.Unlock()
		}
	}

	work := make(chan *pooledCase)
	var wg sync.WaitGroup
	ids := map[string]string{} // delivery id -> event id, under mu
	for range 16 {
		wg.Go(func() {
			for c := range work {
				r := do(h, "POST", "/hooks/gh", c.hdr.Clone(), c.body, "")
				id, _ := r.body["id"].(string)
				if r.status != c.status || (c.stored && (id == "" || id == c.delivery)) {
					t.Errorf("%s: %d %v, want %d with an event id of forgehook's", c.delivery, r.status, r.body, c.status)
				}
				mu.Lock()
				ids[c.delivery] = id
				mu.Unlock()
			}
		})
	}
	for _, c := range cases {
		work <- c
	}
	close(work)
	wg.Wait()
	for _, m := range observed {
		t.Error(m)
	}

	ctx := context.Background()
	for _, c := range cases {
		rec, err := st.Get(ctx, ids[c.delivery])
		if !c.stored {
			if err == nil && ids[c.delivery] != "" {
				t.Errorf("%s: stored, want not", c.delivery)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: not stored: %v", c.delivery, err)
			continue
		}
		var ev event.Event
		if err := json.Unmarshal(rec.Data, &ev); err != nil {
			t.Errorf("%s: stored record does not decode: %v", c.delivery, err)
			continue
		}
		if ev.ID != ids[c.delivery] || ev.Delivery != c.delivery || !bytes.Equal(ev.Data.Body, []byte(c.payload)) {
			t.Errorf("%s: stored record is id %q, delivery %q, body of %d bytes (want its own, %d)", c.delivery, ev.ID, ev.Delivery, len(ev.Data.Body), len(c.payload))
		}
	}
}

// keepingLog fails every other Append and keeps the data of the failed
// ones, as the store's client may after an ack timeout.
type keepingLog struct {
	mu    sync.Mutex
	n     int
	kept  [][]byte // the slices Append was given
	saved [][]byte // copies made at the call
}

func (l *keepingLog) Append(_ context.Context, _, _, id, _ string, data []byte) (store.Result, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	if l.n%2 == 0 {
		return store.Result{ID: id}, nil
	}
	l.kept = append(l.kept, data)
	l.saved = append(l.saved, bytes.Clone(data))
	return store.Result{}, context.DeadlineExceeded
}

func (l *keepingLog) MarkVerified(context.Context, string, string, time.Time) error { return nil }

// TestIngestLeavesARecordBufferAfterAFailedAppend checks that the buffer
// of a record whose Append failed is never given back to the pool: the
// store's client may still hold it and send it again.
func TestIngestLeavesARecordBufferAfterAFailedAppend(t *testing.T) {
	log := &keepingLog{}
	h, _ := newTestHandler(t, config.Endpoint{Name: "gh", Provider: "github", Secrets: []config.Secret{secret}})
	h.opts.Log = log
	for i := range 100 {
		payload := []byte(fmt.Sprintf(`{"ref":"refs/heads/main","n":%d,"pad":%q}`, i, strings.Repeat("x", 2000+i)))
		r := do(h, "POST", "/hooks/gh", ghHeaders("push", fmt.Sprintf("k-%d", i), payload), string(payload), "")
		if want := []int{503, 200}[i%2]; r.status != want {
			t.Fatalf("request %d: %d %v, want %d", i, r.status, r.body, want)
		}
	}
	for i := range log.kept {
		if !bytes.Equal(log.kept[i], log.saved[i]) {
			t.Fatalf("the record of failed Append %d was overwritten after the request: its buffer went back to the pool", i)
		}
	}
}
