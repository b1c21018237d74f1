package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/store"
)

const (
	relayAdminToken = "admin-token-for-relay-tests"
	relayTok        = "relay-token-for-endpoint-gh"
)

// newRelayServer serves the API, scoped, over a real store holding
// events of the endpoints gh and other (gh: seqs 1, 3, 5; other: 2, 4).
func newRelayServer(t *testing.T, streams int) (*httptest.Server, *store.Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := &Server{Events: st, Dead: st, Relays: st, Token: relayAdminToken, RelayStreams: streams,
		RelayHeartbeat: 50 * time.Millisecond,
		RelayTokens:    []RelayToken{{Name: "laptop", Token: relayTok, Endpoint: "gh"}},
		Endpoints: func() []EndpointInfo {
			return []EndpointInfo{{Name: "gh", Provider: "github"}, {Name: "other", Provider: "github"}}
		}}
	srv := httptest.NewServer(s.Scope(s.Handler()))
	t.Cleanup(srv.Close)
	for i := range 5 {
		ep := []string{"gh", "other"}[i%2]
		appendRelayEvent(t, st, ep, i)
	}
	return srv, st
}

func appendRelayEvent(t *testing.T, st *store.Store, ep string, i int) {
	t.Helper()
	id := fmt.Sprintf("ev-%d", i)
	rec := fmt.Sprintf(`{"specversion":"1.0","id":%q,"endpoint":%q,"forge":"github","forgeevent":"push","forgedelivery":"d-%d","data":{"header":{"X-Github-Event":["push"]},"body":{"n":%d,"s":"<&>"},"normalized":{"kind":"push"}}}`, id, ep, i, i)
	if _, err := st.Append(context.Background(), ep, store.Subject(ep, "github", "push"), id, id, []byte(rec)); err != nil {
		t.Fatal(err)
	}
}

func nextEvent(t *testing.T, s *RelayStream) *RelayEvent {
	t.Helper()
	m, err := s.Next()
	if err != nil || m.Event == nil {
		t.Fatalf("next relay message: %+v %v", m, err)
	}
	return m.Event
}

// TestAdminRelayStreamAckResume follows an endpoint from a past time,
// acknowledges, reconnects: the stream resumes after the acknowledged
// event, with the other endpoint's events left out.
func TestAdminRelayStreamAckResume(t *testing.T) {
	srv, st := newRelayServer(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := &Client{BaseURL: srv.URL, Token: relayTok}
	s, err := c.OpenRelay(ctx, RelayOptions{Name: "laptop", Endpoint: "gh", Since: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if s.Cursor.Acked != 0 || s.Cursor.Since.IsZero() {
		t.Errorf("a new relay with since: cursor %+v, want Since set", s.Cursor)
	}
	var seqs []uint64
	for range 3 {
		ev := nextEvent(t, s)
		seqs = append(seqs, ev.Seq)
		if ev.Endpoint != "gh" || ev.Header["X-Github-Event"][0] != "push" || !strings.Contains(string(ev.Body), `"s":"<&>"`) {
			t.Errorf("event %+v: want gh's, with its header and exact body", ev)
		}
	}
	if fmt.Sprint(seqs) != "[1 3 5]" {
		t.Errorf("sequences %v, want [1 3 5]: gh's events in stored order", seqs)
	}
	cur, err := c.AckRelay(ctx, "laptop", "gh", 3)
	if err != nil || cur.Acked != 3 {
		t.Fatalf("ack 3: %+v %v", cur, err)
	}
	if cur, err := c.AckRelay(ctx, "laptop", "gh", 1); err != nil || cur.Acked != 3 {
		t.Errorf("ack 1 after 3: %+v %v: the cursor must not move back", cur, err)
	}
	s.Close()

	// Last-Event-ID does not override the server's cursor.
	s, err = c.OpenRelay(ctx, RelayOptions{Name: "laptop", Endpoint: "gh", LastEventID: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Cursor.Acked != 3 {
		t.Errorf("reconnect: cursor %+v, want acked 3", s.Cursor)
	}
	if ev := nextEvent(t, s); ev.Seq != 5 {
		t.Errorf("after reconnect the first event is #%d, want #5", ev.Seq)
	}
	// An event stored now arrives live.
	appendRelayEvent(t, st, "gh", 6)
	if ev := nextEvent(t, s); ev.Seq != 6 || ev.ID != "ev-6" {
		t.Errorf("live event: %+v, want #6 ev-6", ev)
	}
}

// TestAdminRelayNewStartsNowOrAfterLastEventID: a new relay without since
// starts after the last stored event, or after Last-Event-ID.
func TestAdminRelayNewStartsNowOrAfterLastEventID(t *testing.T) {
	srv, st := newRelayServer(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := &Client{BaseURL: srv.URL, Token: relayAdminToken}
	s, err := c.OpenRelay(ctx, RelayOptions{Name: "fresh", Endpoint: "gh"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Cursor.Acked != 5 {
		t.Errorf("new relay: cursor %+v, want after the last stored event (5)", s.Cursor)
	}
	appendRelayEvent(t, st, "gh", 6)
	if ev := nextEvent(t, s); ev.Seq != 6 {
		t.Errorf("first event #%d, want #6", ev.Seq)
	}
	s.Close()
	s, err = c.OpenRelay(ctx, RelayOptions{Name: "resumer", Endpoint: "gh", LastEventID: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ev := nextEvent(t, s); ev.Seq != 5 {
		t.Errorf("new relay with Last-Event-ID 3: first event #%d, want #5", ev.Seq)
	}
}

// TestAdminRelayTokenScope: a relay token reaches its endpoint's relay
// routes and nothing else (403), while the admin token still works; bad
// requests get their status.
func TestAdminRelayTokenScope(t *testing.T) {
	srv, _ := newRelayServer(t, 0)
	for _, tc := range []struct {
		method, path, token, body string
		want                      int
	}{
		{"GET", "/api/v1/events", relayTok, "", 403},
		{"GET", "/api/v1/events/ev-0", relayTok, "", 403},
		{"GET", "/api/v1/endpoints", relayTok, "", 403},
		{"GET", "/api/v1/relay/laptop?endpoint=other", relayTok, "", 403},
		{"GET", "/api/v1/relay/laptop/stream?endpoint=other", relayTok, "", 403},
		{"POST", "/api/v1/relay/laptop/ack?endpoint=other", relayTok, `{"seq":2}`, 403},
		{"GET", "/api/v1/relay/laptop/stream", relayTok, "", 403},
		{"GET", "/api/v1/relay/laptop?endpoint=gh", relayTok, "", 404}, // not opened yet
		{"POST", "/api/v1/relay/laptop/ack?endpoint=gh", relayTok, `{"seq":1}`, 404},
		{"GET", "/api/v1/events", relayAdminToken, "", 200},
		{"GET", "/api/v1/events", "wrong-token", "", 401},
		{"GET", "/api/v1/relay/bad.name?endpoint=gh", relayAdminToken, "", 400},
		{"GET", "/api/v1/relay/laptop?endpoint=nope", relayAdminToken, "", 404},
		{"GET", "/api/v1/relay/laptop/stream?endpoint=gh&since=-1h", relayTok, "", 400},
		{"GET", "/api/v1/relay/laptop/stream?endpoint=gh&since=soon", relayTok, "", 400},
		{"POST", "/api/v1/relay/laptop/ack?endpoint=gh", relayTok, `{"seq":0}`, 400},
		{"POST", "/api/v1/relay/laptop/ack?endpoint=gh", relayTok, `{"seq":1,"x":2}`, 400},
	} {
		st, body := call(t, tc.method, srv.URL+tc.path, tc.token, tc.body)
		if st != tc.want {
			t.Errorf("%s %s (token %.5s…): %d %s, want %d", tc.method, tc.path, tc.token, st, body, tc.want)
		}
	}
	// An ack without JSON content type: 415.
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/relay/laptop/ack?endpoint=gh", strings.NewReader(`{"seq":1}`))
	req.Header.Set("Authorization", "Bearer "+relayTok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("ack without Content-Type: %d, want 415", resp.StatusCode)
	}
	// Once opened, the relay token acks within the stored range only.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := &Client{BaseURL: srv.URL, Token: relayTok}
	s, err := c.OpenRelay(ctx, RelayOptions{Name: "laptop", Endpoint: "gh", Since: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var se *StatusError
	if _, err := c.AckRelay(ctx, "laptop", "gh", 99); !errors.As(err, &se) || se.Status != 400 {
		t.Errorf("ack beyond the last event: %v, want 400", err)
	}
	if cur, err := c.Relay(ctx, "laptop", "gh"); err != nil || cur.Name != "laptop" || cur.Endpoint != "gh" {
		t.Errorf("cursor: %+v %v", cur, err)
	}
}

// TestAdminRelayStreamsBoundedAndReplaced: past RelayStreams a stream is
// answered 503; the same relay connecting again ends its older stream.
func TestAdminRelayStreamsBoundedAndReplaced(t *testing.T) {
	srv, _ := newRelayServer(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := &Client{BaseURL: srv.URL, Token: relayAdminToken}
	first, err := c.OpenRelay(ctx, RelayOptions{Name: "a", Endpoint: "gh"})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	var se *StatusError
	if _, err := c.OpenRelay(ctx, RelayOptions{Name: "b", Endpoint: "gh"}); !errors.As(err, &se) || se.Status != 503 {
		t.Errorf("a second stream past the bound: %v, want 503", err)
	}
	// Heartbeats keep an idle stream alive past its idle limit.
	idle, err := c.OpenRelay(ctx, RelayOptions{Name: "a", Endpoint: "gh", Idle: 300 * time.Millisecond})
	if err != nil {
		t.Fatalf("the same relay again: %v", err)
	}
	defer idle.Close()
	if _, err := first.Next(); err == nil {
		t.Error("the replaced stream goes on")
	}
	done := make(chan error, 1)
	go func() { _, err := idle.Next(); done <- err }()
	select {
	case err := <-done:
		t.Errorf("an idle stream with heartbeats every 50ms ended: %v", err)
	case <-time.After(time.Second):
	}
}

// TestAdminRelayEventBodyExact: a body travels byte for byte, as JSON on
// one line when it is compact (HTML characters unescaped), else as base64.
func TestAdminRelayEventBodyExact(t *testing.T) {
	for _, body := range []string{`{"a":"<&>","b":[1,2]}`, "{\n  \"a\": 1\n}", `{"a": 1}`, `{"s":"\u2028"}`, "{\"s\":\"\xff\"}"} {
		rec := `{"id":"x","forge":"github","data":{"header":{},"body":` + body + `}}`
		ev, ok := relayEvent(store.Record{Seq: 1, Data: []byte(rec)})
		if !ok {
			t.Fatalf("%q: not a record", body)
		}
		b, err := marshalRelay(ev)
		if err != nil || bytes.ContainsAny(b, "\r\n") {
			t.Fatalf("%q: encoded %q %v: want one line", body, b, err)
		}
		var back RelayEvent
		if err := json.Unmarshal(b, &back); err != nil || string(back.RawBody()) != body {
			t.Errorf("%q: read back %q %v", body, back.RawBody(), err)
		}
	}
}

// TestAdminRelayLargeEventWhole: an event kept in the object store is
// relayed whole, and only inside a slot of the admin views' gate.
func TestAdminRelayLargeEventWhole(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := store.Open(ctx, store.Options{DataDir: t.TempDir(), MaxPayload: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	gate := NewGate(1, time.Second)
	s := &Server{Events: st, Relays: st, Views: gate,
		Endpoints: func() []EndpointInfo { return []EndpointInfo{{Name: "gh"}} }}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	blob := strings.Repeat("x", 100<<10)
	rec := fmt.Sprintf(`{"id":"big","endpoint":"gh","forge":"github","forgeevent":"push","data":{"header":{},"body":{"blob":%q}}}`, blob)
	if _, err := st.Append(ctx, "gh", store.Subject("gh", "github", "push"), "big", "big", []byte(rec)); err != nil {
		t.Fatal(err)
	}
	leave, ok := gate.Enter(ctx) // every slot taken
	if !ok {
		t.Fatal("no slot")
	}
	c := &Client{BaseURL: srv.URL}
	rs, err := c.OpenRelay(ctx, RelayOptions{Name: "dev", Endpoint: "gh", Since: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	got := make(chan RelayMessage, 1)
	go func() { m, _ := rs.Next(); got <- m }()
	select {
	case m := <-got:
		t.Fatalf("the large event was relayed while the gate was full: %+v", m.Event != nil)
	case <-time.After(700 * time.Millisecond):
	}
	leave()
	select {
	case m := <-got:
		if m.Event == nil || string(m.Event.RawBody()) != fmt.Sprintf(`{"blob":%q}`, blob) {
			t.Errorf("large event not relayed whole")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the large event did not come once the gate freed")
	}
}

// FuzzRelayEvent: whatever JSON body a stored record holds, its delivery
// message is one SSE data line that reads back, through SSEReader, as
// the exact body.
func FuzzRelayEvent(f *testing.F) {
	f.Add([]byte(`{"a":"<&>","b":[1,2]}`))
	f.Add([]byte("{\n  \"ref\": \"refs/heads/main\"\r\n}"))
	f.Add([]byte(`"\u2028 \ud800"`))
	f.Add([]byte("[1, 2,\t3]"))
	f.Fuzz(func(t *testing.T, body []byte) {
		if !json.Valid(body) {
			return
		}
		rec := append(append([]byte(`{"id":"x","forge":"github","data":{"header":{"X-A":["1"]},"body":`), body...), "}}"...)
		if !json.Valid(rec) {
			return
		}
		ev, ok := relayEvent(store.Record{Seq: 9, Data: rec})
		if !ok {
			t.Fatalf("%q: not a record", rec)
		}
		b, err := marshalRelay(ev)
		if err != nil {
			t.Fatalf("%q: %v", body, err)
		}
		msgs, err := readAll(strings.NewReader(string(sseMessage(nil, "9", RelayEventDelivery, b))), 0)
		if err != nil || len(msgs) != 1 || msgs[0].ID != "9" {
			t.Fatalf("%q: message read back as %#v %v", body, msgs, err)
		}
		var back RelayEvent
		if err := json.Unmarshal([]byte(msgs[0].Data), &back); err != nil {
			t.Fatalf("%q: %v", body, err)
		}
		// BodyOf returns the body as stored, trimmed of the space around it.
		want, _ := BodyOf(rec)
		if !bytes.Equal(back.RawBody(), want) || back.Seq != 9 || back.Header["X-A"][0] != "1" {
			t.Fatalf("body %q read back as %q", want, back.RawBody())
		}
	})
}
