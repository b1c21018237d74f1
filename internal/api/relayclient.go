package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RelayOptions selects a relay stream.
type RelayOptions struct {
	// Name is the relay's name; Endpoint the endpoint it follows.
	Name, Endpoint string
	// Since, for a relay the server does not know yet, starts it at the
	// events stored that long ago (0: at the next event stored).
	Since time.Duration
	// LastEventID is sent as Last-Event-ID: for a relay the server does
	// not know, the stream starts after it. The server's cursor wins.
	LastEventID uint64
	// Idle ends the stream when nothing (not even a heartbeat) arrived
	// for that long (0: 45 s, three heartbeats).
	Idle time.Duration
	// MaxEvent bounds one event's size (0: 64 MiB).
	MaxEvent int
}

// RelayStream is an open relay stream. Close it when done.
type RelayStream struct {
	// Cursor is where the server resumed: the stream holds the events of
	// the endpoint stored after Cursor.Acked (or since Cursor.Since).
	Cursor RelayCursor
	body   io.ReadCloser
	sse    *SSEReader
	cancel context.CancelFunc
	idle   *idleReader
}

// RelayMessage is one message of a relay stream: a delivery (Event set)
// or a gap (Gap set).
type RelayMessage struct {
	Event *RelayEvent
	Gap   *RelayGap
}

// OpenRelay connects to the relay stream of o.Name and o.Endpoint. The
// stream lasts until ctx ends, Close, or the connection breaks; c.HTTP's
// Timeout does not apply to it (its transport is used). A non-2xx answer
// is a *StatusError.
func (c *Client) OpenRelay(ctx context.Context, o RelayOptions) (*RelayStream, error) {
	v := url.Values{"endpoint": {o.Endpoint}}
	if o.Since > 0 {
		v.Set("since", o.Since.String())
	}
	ctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.relayURL(o.Name, "/stream", v), nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("api: %w", err)
	}
	req.Header.Set("Accept", "text/event-stream")
	if o.LastEventID != 0 {
		req.Header.Set("Last-Event-ID", strconv.FormatUint(o.LastEventID, 10))
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if c.HTTP != nil {
		hc.Transport = c.HTTP.Transport
	}
	resp, err := hc.Do(req)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("api: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		defer cancel()
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var e Error
		_ = json.Unmarshal(b, &e)
		if e.Error == "" {
			e.Error = strings.TrimSpace(string(b))
		}
		return nil, &StatusError{Status: resp.StatusCode, Message: e.Error}
	}
	idle := o.Idle
	if idle <= 0 {
		idle = 3 * DefaultRelayHeartbeat
	}
	ir := newIdleReader(resp.Body, idle, cancel)
	s := &RelayStream{body: resp.Body, sse: NewSSEReader(ir, o.MaxEvent), cancel: cancel, idle: ir}
	// The stream opens with the cursor it resumes after.
	ev, err := s.sse.Next()
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("api: relay stream: %w", err)
	}
	if ev.Event != RelayEventCursor {
		s.Close()
		return nil, fmt.Errorf("api: relay stream: opened with %q, want %q", ev.Event, RelayEventCursor)
	}
	if err := json.Unmarshal([]byte(ev.Data), &s.Cursor); err != nil {
		s.Close()
		return nil, fmt.Errorf("api: relay stream: cursor: %w", err)
	}
	return s, nil
}

// Next returns the stream's next message, waiting for one. It returns an
// error when the stream ends (io.EOF), breaks, idles past its limit, or
// carries a message that is not a relay message.
func (s *RelayStream) Next() (RelayMessage, error) {
	for {
		ev, err := s.sse.Next()
		if err != nil {
			if s.idle.expired() {
				return RelayMessage{}, fmt.Errorf("api: relay stream: nothing received for %s", s.idle.d)
			}
			return RelayMessage{}, err
		}
		switch ev.Event {
		case RelayEventDelivery:
			var e RelayEvent
			if err := json.Unmarshal([]byte(ev.Data), &e); err != nil {
				return RelayMessage{}, fmt.Errorf("api: relay stream: event %s: %w", ev.ID, err)
			}
			if e.Seq == 0 || strconv.FormatUint(e.Seq, 10) != ev.ID {
				return RelayMessage{}, fmt.Errorf("api: relay stream: event id %q does not match its sequence %d", ev.ID, e.Seq)
			}
			return RelayMessage{Event: &e}, nil
		case RelayEventGap:
			var g RelayGap
			if err := json.Unmarshal([]byte(ev.Data), &g); err != nil {
				return RelayMessage{}, fmt.Errorf("api: relay stream: gap: %w", err)
			}
			return RelayMessage{Gap: &g}, nil
		}
		// Another event type: from a newer server; skipped.
	}
}

// Close ends the stream.
func (s *RelayStream) Close() error {
	s.cancel()
	s.idle.stop()
	return s.body.Close()
}

// AckRelay acknowledges that the relay delivered the event of sequence
// seq, and returns the cursor as it then stands.
func (c *Client) AckRelay(ctx context.Context, name, endpoint string, seq uint64) (*RelayCursor, error) {
	var out RelayCursor
	path := strings.TrimPrefix(c.relayURL(name, "/ack", url.Values{"endpoint": {endpoint}}), strings.TrimRight(c.BaseURL, "/"))
	return &out, c.do(ctx, http.MethodPost, path, RelayAck{Seq: seq}, &out)
}

// Relay returns the cursor of a relay.
func (c *Client) Relay(ctx context.Context, name, endpoint string) (*RelayCursor, error) {
	var out RelayCursor
	path := strings.TrimPrefix(c.relayURL(name, "", url.Values{"endpoint": {endpoint}}), strings.TrimRight(c.BaseURL, "/"))
	return &out, c.get(ctx, path, &out)
}

func (c *Client) relayURL(name, suffix string, q url.Values) string {
	return strings.TrimRight(c.BaseURL, "/") + "/api/v1/relay/" + url.PathEscape(name) + suffix + "?" + q.Encode()
}

// idleReader cancels a stream when a read waited d for a byte.
type idleReader struct {
	r     io.Reader
	d     time.Duration
	t     *time.Timer
	mu    sync.Mutex
	fired bool
}

// The clock runs only while a Read waits: the time the caller spends
// between reads (delivering an event to a slow target) is not idleness.
func newIdleReader(r io.Reader, d time.Duration, cancel context.CancelFunc) *idleReader {
	ir := &idleReader{r: r, d: d}
	ir.t = time.AfterFunc(d, func() {
		ir.mu.Lock()
		ir.fired = true
		ir.mu.Unlock()
		cancel()
	})
	ir.t.Stop()
	return ir
}

func (ir *idleReader) Read(p []byte) (int, error) {
	ir.t.Reset(ir.d)
	n, err := ir.r.Read(p)
	ir.t.Stop()
	return n, err
}

func (ir *idleReader) expired() bool {
	ir.mu.Lock()
	defer ir.mu.Unlock()
	return ir.fired
}

func (ir *idleReader) stop() { ir.t.Stop() }
