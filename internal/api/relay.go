package api

// The relay API: `forgehook forward` follows one endpoint's events as a
// stream of server-sent events and acknowledges each one after its local
// target answered; the server keeps each relay's cursor in the store.
//
//	GET  /api/v1/relay/{name}/stream?endpoint=E[&since=1h]  text/event-stream
//	POST /api/v1/relay/{name}/ack?endpoint=E  {"seq": N}
//	GET  /api/v1/relay/{name}?endpoint=E     the cursor
//
// A relay token (admin.relay_tokens) may call these three for its own
// endpoint and nothing else: Scope answers it 403 anywhere else.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/store"
)

// Relays is what the relay API reads and writes: the store.
type Relays interface {
	OpenRelay(ctx context.Context, endpoint, name string, start store.RelayStart) (store.RelayCursor, bool, error)
	Relay(ctx context.Context, endpoint, name string) (store.RelayCursor, error)
	AckRelay(ctx context.Context, endpoint, name string, seq uint64) (store.RelayCursor, error)
	FollowRelay(ctx context.Context, endpoint string, c store.RelayCursor, o store.FollowOptions, fn func(store.Record) error) error
}

// RelayToken is a scoped token: it may only stream and acknowledge the
// events of Endpoint.
type RelayToken struct {
	// Name identifies the token in logs.
	Name     string
	Token    config.Secret
	Endpoint string
}

// Defaults of the relay streams.
const (
	// DefaultRelayStreams is how many relay streams one server serves at
	// once; one more is answered 503 with Retry-After.
	DefaultRelayStreams = 16
	// DefaultRelayHeartbeat is how often an idle stream carries a comment,
	// so that both sides notice a dead connection.
	DefaultRelayHeartbeat = 15 * time.Second
	// RelayWriteTimeout bounds each write to a relay: a relay that reads
	// nothing for that long is disconnected (it resumes from its cursor).
	RelayWriteTimeout = 30 * time.Second
	// maxSince is the longest --since: no event is kept longer than the
	// store's retention anyway.
	maxSince = 366 * 24 * time.Hour
)

// SSE event types of a relay stream.
const (
	// RelayEventDelivery carries one stored event (a RelayEvent).
	RelayEventDelivery = "delivery"
	// RelayEventCursor opens every stream: the cursor (a RelayCursor)
	// the stream resumes after.
	RelayEventCursor = "cursor"
	// RelayEventGap says that events after the cursor expired before the
	// relay took them (a RelayGap).
	RelayEventGap = "gap"
)

// RelayEvent is the data of a delivery message: what a relay needs to
// re-send the forge's delivery. Body holds the forge's body byte for byte
// when it is JSON on one line; otherwise (a pretty-printed body, which
// server-sent events cannot carry on one data line) BodyBase64 holds it.
type RelayEvent struct {
	// Seq is the event's sequence in EVENTS: what the relay acknowledges.
	Seq         uint64              `json:"seq"`
	ID          string              `json:"id"`
	Delivery    string              `json:"delivery,omitempty"`
	Endpoint    string              `json:"endpoint"`
	Forge       string              `json:"forge"`
	ForgeEvent  string              `json:"forgeevent"`
	ForgeAction string              `json:"forgeaction,omitempty"`
	Stored      time.Time           `json:"stored"`
	Header      map[string][]string `json:"header"`
	Body        json.RawMessage     `json:"body,omitempty"`
	BodyBase64  []byte              `json:"body_base64,omitempty"`
}

// RawBody returns the forge's body: Body or the decoded BodyBase64.
func (e *RelayEvent) RawBody() []byte {
	if e.BodyBase64 != nil {
		return e.BodyBase64
	}
	return e.Body
}

// RelayCursor is where a relay stands (GET /api/v1/relay/{name} and the
// answer of an ack).
type RelayCursor = store.RelayCursor

// RelayGap is the data of a gap message.
type RelayGap struct {
	// First is the first sequence still stored: the events between the
	// cursor and First expired (store.retention) before the relay came.
	First uint64 `json:"first"`
}

// RelayAck is the body of POST /api/v1/relay/{name}/ack.
type RelayAck struct {
	Seq uint64 `json:"seq"`
}

// relayState is the server's state of the relay streams.
type relayState struct {
	slots chan struct{}
	mu    sync.Mutex
	live  map[string]*liveStream // endpoint + "\x00" + name -> the stream serving it
	sums  [][sha256.Size]byte    // of RelayTokens, in order
	mux   *http.ServeMux         // the relay routes alone, for relay tokens
}

type liveStream struct{ cancel context.CancelCauseFunc }

// enter takes a stream slot, waiting at most wait (and while ctx lasts).
func (rs *relayState) enter(ctx context.Context, wait time.Duration) bool {
	select {
	case rs.slots <- struct{}{}:
		return true
	default:
	}
	if wait <= 0 {
		return false
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case rs.slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

// errReplaced ends a stream whose relay connected again.
var errReplaced = errors.New("relay: the same relay connected again")

func (s *Server) relay() *relayState {
	s.relayOnce.Do(func() {
		n := s.RelayStreams
		if n <= 0 {
			n = DefaultRelayStreams
		}
		rs := &relayState{slots: make(chan struct{}, n), live: map[string]*liveStream{}}
		for _, t := range s.RelayTokens {
			rs.sums = append(rs.sums, sha256.Sum256([]byte(t.Token.Reveal())))
		}
		rs.mux = http.NewServeMux()
		s.routeRelay(rs.mux)
		rs.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusForbidden, "a relay token may only relay its endpoint")
		})
		s.relayState = rs
	})
	return s.relayState
}

func (s *Server) routeRelay(mux *http.ServeMux) {
	if s.Relays == nil {
		return
	}
	mux.HandleFunc("GET /api/v1/relay/{name}/stream", s.relayStream)
	mux.Handle("POST /api/v1/relay/{name}/ack", requireJSON(s.relayAck))
	mux.HandleFunc("GET /api/v1/relay/{name}", s.relayCursor)
}

// Scope wraps the whole admin listener's handler: a request whose bearer
// token is one of RelayTokens is served by the relay routes alone, for
// that token's endpoint, and answered 403 anywhere else (the UI, /metrics,
// every other API route, another endpoint's relay). Other requests go to
// next, which checks the admin token. Tokens are compared in constant
// time over their SHA-256 digests, every relay token each time.
func (s *Server) Scope(next http.Handler) http.Handler {
	if len(s.RelayTokens) == 0 {
		return next
	}
	rs := s.relay()
	scoped := s.sameOrigin(rs.mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		sum := sha256.Sum256([]byte(got))
		match := -1
		for i := range rs.sums {
			if subtle.ConstantTimeCompare(sum[:], rs.sums[i][:]) == 1 {
				match = i
			}
		}
		if match < 0 {
			next.ServeHTTP(w, r)
			return
		}
		tok := s.RelayTokens[match]
		if !strings.HasPrefix(r.URL.Path, "/api/v1/relay/") || r.URL.Query().Get("endpoint") != tok.Endpoint {
			s.logWarn("api: relay token refused outside its scope", "token", tok.Name, "method", r.Method,
				"path", r.URL.Path, "endpoint", r.URL.Query().Get("endpoint"), "remote", r.RemoteAddr)
			writeError(w, http.StatusForbidden, "this token may only relay the events of endpoint "+strconv.Quote(tok.Endpoint))
			return
		}
		scoped.ServeHTTP(w, r)
	})
}

func (s *Server) logWarn(msg string, args ...any) {
	if s.Logger != nil {
		s.Logger.Warn(msg, args...)
	}
}

// relayNameRE is the syntax of relay names: that of endpoint names.
var relayNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// relayTarget checks the request's relay name and endpoint, answering 400
// or 404 when they are wrong.
func (s *Server) relayTarget(w http.ResponseWriter, r *http.Request) (endpoint, name string, ok bool) {
	name, endpoint = r.PathValue("name"), r.URL.Query().Get("endpoint")
	if !relayNameRE.MatchString(name) {
		writeError(w, http.StatusBadRequest, "a relay name is 1 to 64 letters, digits, '-' or '_', starting with a letter or digit")
		return "", "", false
	}
	if endpoint == "" {
		writeError(w, http.StatusBadRequest, "the endpoint query parameter is required")
		return "", "", false
	}
	var known bool
	if s.Endpoints != nil {
		known = slices.ContainsFunc(s.Endpoints(), func(e EndpointInfo) bool { return e.Name == endpoint })
	}
	if !known {
		writeError(w, http.StatusNotFound, "no such endpoint")
		return "", "", false
	}
	return endpoint, name, true
}

func (s *Server) relayError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, store.ErrRelayNotFound):
		writeError(w, http.StatusNotFound, "no such relay: it is created when it first connects to its stream")
	case errors.Is(err, store.ErrRelayAhead):
		writeError(w, http.StatusBadRequest, err.Error())
	default:
		s.storeError(w, r, err)
	}
}

func (s *Server) relayCursor(w http.ResponseWriter, r *http.Request) {
	endpoint, name, ok := s.relayTarget(w, r)
	if !ok {
		return
	}
	c, err := s.Relays.Relay(r.Context(), endpoint, name)
	if err != nil {
		s.relayError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) relayAck(w http.ResponseWriter, r *http.Request) {
	endpoint, name, ok := s.relayTarget(w, r)
	if !ok {
		return
	}
	var a RelayAck
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil || a.Seq == 0 {
		writeError(w, http.StatusBadRequest, `the body must be {"seq": N}, N the sequence of a delivered event`)
		return
	}
	c, err := s.Relays.AckRelay(r.Context(), endpoint, name, a.Seq)
	if err != nil {
		s.relayError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// relayStart reads where a new relay starts: since= (a duration back from
// now), else Last-Event-ID (the sequence a relay last received), else now.
func relayStart(r *http.Request, now time.Time) (store.RelayStart, error) {
	var st store.RelayStart
	if v := r.URL.Query().Get("since"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > maxSince {
			return st, fmt.Errorf("since must be a positive duration such as 1h or 30m, at most %s", maxSince)
		}
		st.Since = now.Add(-d)
	}
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return st, errors.New("Last-Event-ID must be the sequence of a relayed event")
		}
		st.After = n
	}
	return st, nil
}

func (s *Server) relayStream(w http.ResponseWriter, r *http.Request) {
	endpoint, name, ok := s.relayTarget(w, r)
	if !ok {
		return
	}
	start, err := relayStart(r, time.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	rs := s.relay()
	// The same relay connecting again (after a network change, before
	// the server noticed the old connection is dead) replaces its older
	// stream, whose slot it then waits for.
	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	key := endpoint + "\x00" + name
	me := &liveStream{cancel: cancel}
	rs.mu.Lock()
	old := rs.live[key]
	if old != nil {
		old.cancel(errReplaced)
	}
	rs.live[key] = me
	rs.mu.Unlock()
	defer func() {
		rs.mu.Lock()
		if rs.live[key] == me {
			delete(rs.live, key)
		}
		rs.mu.Unlock()
	}()
	wait := time.Duration(0)
	if old != nil {
		wait = RelayWriteTimeout
	}
	if !rs.enter(ctx, wait) {
		s.logWarn("api: relay stream refused: all slots in use", "endpoint", endpoint, "relay", name, "slots", cap(rs.slots))
		w.Header().Set("Retry-After", "10")
		writeError(w, http.StatusServiceUnavailable, "too many relay streams are open: retry shortly")
		return
	}
	defer func() { <-rs.slots }()

	cur, created, err := s.Relays.OpenRelay(ctx, endpoint, name, start)
	if err != nil {
		s.relayError(w, r, err)
		return
	}
	rc := http.NewResponseController(w)
	// The admin server's read and write timeouts end any request after a
	// while: a stream lives until either side leaves, its writes bounded
	// one by one instead.
	_ = rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if s.Logger != nil {
		s.Logger.Info("api: relay connected", "endpoint", endpoint, "relay", name, "created", created,
			"after", cur.Acked, "remote", r.RemoteAddr)
	}
	write := func(b []byte) error {
		_ = rc.SetWriteDeadline(time.Now().Add(RelayWriteTimeout))
		if _, err := w.Write(b); err != nil {
			return err
		}
		return rc.Flush()
	}
	cb, _ := json.Marshal(cur)
	if err := write(sseMessage(nil, "", RelayEventCursor, cb)); err != nil {
		return
	}

	// The store's consumer runs beside the writer, one record at a time.
	type item struct {
		rec store.Record
		gap uint64
	}
	items := make(chan item)
	sent := make(chan struct{}, 1)
	done := make(chan error, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		send := func(it item) error {
			select {
			case items <- it:
				return nil
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		}
		done <- s.Relays.FollowRelay(ctx, endpoint, cur, store.FollowOptions{
			Gap: func(first uint64) { _ = send(item{gap: first}) },
			// A large event (past store.LargeRelayEvent, or in the
			// object store) is read whole, encoded and sent inside a
			// slot of the admin views' gate.
			Large: func(ctx context.Context) (func(), error) {
				for {
					if leave, ok := s.Views.Enter(ctx); ok {
						return leave, nil
					}
					if ctx.Err() != nil {
						return nil, context.Cause(ctx)
					}
				}
			},
		}, func(rec store.Record) error {
			// The record is sent before fn returns: the writer below
			// answers on sent once it wrote it.
			if err := send(item{rec: rec}); err != nil {
				return err
			}
			select {
			case <-sent:
				return nil
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		})
	}()
	defer wg.Wait()
	defer cancel(nil)

	hb := s.RelayHeartbeat
	if hb <= 0 {
		hb = DefaultRelayHeartbeat
	}
	tick := time.NewTicker(hb)
	defer tick.Stop()
	var buf []byte
	n := 0
	for {
		var err error
		select {
		case <-ctx.Done():
			s.relayEnded(endpoint, name, n, context.Cause(ctx))
			return
		case err = <-done:
			s.relayEnded(endpoint, name, n, err)
			return
		case <-tick.C:
			err = write([]byte(": heartbeat\n\n"))
		case it := <-items:
			if it.gap != 0 {
				b, _ := json.Marshal(RelayGap{First: it.gap})
				err = write(sseMessage(buf[:0], "", RelayEventGap, b))
				break
			}
			var wrote bool
			buf, wrote, err = s.writeRelayEvent(write, buf, endpoint, name, it.rec)
			if wrote {
				n++
			}
			sent <- struct{}{} // FollowRelay's record is free now
		}
		if err != nil {
			s.relayEnded(endpoint, name, n, err)
			return
		}
	}
}

// writeRelayEvent writes rec as a delivery message, through buf (which it
// returns for reuse); wrote is false for a stored message that is not an
// event record, which is logged and left out.
func (s *Server) writeRelayEvent(write func([]byte) error, buf []byte, endpoint, name string, rec store.Record) (_ []byte, wrote bool, err error) {
	ev, ok := relayEvent(rec)
	if !ok {
		s.logWarn("api: relay: a stored message is not an event record: left out", "endpoint", endpoint, "relay", name, "seq", rec.Seq)
		return buf, false, nil
	}
	b, err := marshalRelay(ev)
	if err != nil {
		s.logWarn("api: relay: encode", "endpoint", endpoint, "relay", name, "seq", rec.Seq, "err", err)
		return buf, false, nil
	}
	buf = sseMessage(buf[:0], strconv.FormatUint(rec.Seq, 10), RelayEventDelivery, b)
	err = write(buf)
	if cap(buf) > 1<<20 {
		buf = nil // do not keep a large event's buffer for the stream's life
	}
	return buf, err == nil, err
}

func (s *Server) relayEnded(endpoint, name string, sent int, err error) {
	if s.Logger == nil {
		return
	}
	reason := "disconnected"
	if err != nil {
		reason = err.Error()
	}
	s.Logger.Info("api: relay stream ended", "endpoint", endpoint, "relay", name, "sent", sent, "reason", reason)
}

// sseMessage appends to dst one server-sent event: id (when not empty),
// event, and data, which must hold no line break.
func sseMessage(dst []byte, id, event string, data []byte) []byte {
	if id != "" {
		dst = append(dst, "id: "...)
		dst = append(dst, id...)
		dst = append(dst, '\n')
	}
	dst = append(dst, "event: "...)
	dst = append(dst, event...)
	dst = append(dst, "\ndata: "...)
	dst = append(dst, data...)
	return append(dst, "\n\n"...)
}

// relayHead is the part of a stored record a RelayEvent needs besides the
// body.
type relayHead struct {
	ID          string `json:"id"`
	Endpoint    string `json:"endpoint"`
	Forge       string `json:"forge"`
	ForgeEvent  string `json:"forgeevent"`
	ForgeAction string `json:"forgeaction"`
	Delivery    string `json:"forgedelivery"`
	Data        struct {
		Header map[string][]string `json:"header"`
	} `json:"data"`
}

// relayEvent builds the delivery message of a stored record; false when
// the record is not one.
func relayEvent(rec store.Record) (RelayEvent, bool) {
	var h relayHead
	if err := json.Unmarshal(StripBody(rec.Data), &h); err != nil || h.ID == "" {
		return RelayEvent{}, false
	}
	ev := RelayEvent{Seq: rec.Seq, ID: h.ID, Delivery: h.Delivery, Endpoint: h.Endpoint, Forge: h.Forge,
		ForgeEvent: h.ForgeEvent, ForgeAction: h.ForgeAction, Stored: rec.Stored, Header: h.Data.Header}
	if ev.Header == nil {
		ev.Header = map[string][]string{}
	}
	body, ok := BodyOf(rec.Data)
	switch {
	case !ok:
	case oneLineJSON(body):
		ev.Body = body
	default:
		ev.BodyBase64 = body
	}
	return ev, true
}

// oneLineJSON reports whether b is valid JSON that an encoder without
// HTML escaping passes on unchanged (no space between its tokens, so no
// line break either): then it travels byte for byte as one SSE data line.
func oneLineJSON(b []byte) bool {
	if !utf8.Valid(b) {
		return false // an SSE stream is UTF-8 text
	}
	var c bytes.Buffer
	if err := json.Compact(&c, b); err != nil {
		return false
	}
	return bytes.Equal(c.Bytes(), b)
}

// marshalRelay encodes v compactly without HTML escaping: a RawMessage
// that oneLineJSON accepts comes out unchanged.
func marshalRelay(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
