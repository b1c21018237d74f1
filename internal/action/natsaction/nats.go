// Package natsaction implements the nats action: it publishes each event's
// record, the CloudEvents JSON exactly as stored, to a NATS subject, on the
// store's connection or on a NATS server of its own.
//
// The message carries the headers Nats-Msg-Id (the event id, a dot and the
// trigger name, so that a retried attempt is stored once by a stream within
// its duplicate window), Forgehook-Event-Id and Content-Type
// (application/cloudevents+json).
//
// # JetStream or core NATS
//
// Before publishing to a subject, the action asks JetStream which stream,
// if any, captures it (the answer is kept for LookupTTL). When a stream
// does, the message is published through JetStream and Do waits for the
// stream's acknowledgement: a nil error means the event is stored, and a
// duplicate acknowledgement counts as success. When no stream does, or the
// server has no JetStream, the message is published with core NATS and Do
// waits for the server to have received it (a flush): core NATS keeps no
// copy, and a subscriber that is not listening misses it.
//
// The action does not simply try a JetStream publish first and fall back
// to core NATS on failure: a JetStream publish is a request, so on a
// subject that core subscribers listen to but no stream captures, they
// would get the message and the publish would still wait for an
// acknowledgement that never comes, then publish it again.
//
// Every failure is retried (Result.Retry), except a message larger than
// the server's maximum payload, a subject that is forgehook's own, and an
// action with no connection to use.
package natsaction

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/forgehook/forgehook/internal/action"
	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/redact"
)

// Header names the action sets.
const (
	HeaderMsgID       = "Nats-Msg-Id"
	HeaderEventID     = "Forgehook-Event-Id"
	HeaderContentType = "Content-Type"
)

// ContentType is the Content-Type header of every message of the default
// format: the payload is a structured-mode CloudEvent. Format argo sends
// application/json.
const ContentType = "application/cloudevents+json"

// LookupTTL is how long the answer to "which stream captures this
// subject" is kept.
const LookupTTL = 30 * time.Second

// DefaultWait bounds an attempt whose context has no deadline.
const DefaultWait = 30 * time.Second

// maxLookups bounds the subjects whose stream lookup is kept.
const maxLookups = 1024

// reservedPrefixes are the subjects of forgehook's own streams (EVENTS,
// DEAD): publishing an event there would store it as a new delivery, and
// a trigger that matches it would publish it again, without end.
var reservedPrefixes = []string{"forgehook.event.", "forgehook.dead."}

// Action is a nats action. It is safe for concurrent use.
type Action struct {
	subject  []part
	url      string // "" for the store's connection
	target   string // url through redact.URLs, for messages
	headers  nats.Header
	argo     bool // format argo: Argo Events' event shape
	sharedNC *nats.Conn
	sharedJS jetstream.JetStream
	now      func() time.Time

	// mu guards closed and ready. The connection of its own (own, ownJS,
	// ownErr) is written once, before ready is closed.
	mu     sync.Mutex
	closed bool
	ready  chan struct{}
	own    *nats.Conn
	ownJS  jetstream.JetStream
	ownErr error

	lookups lookupCache
}

var (
	_ action.Action = (*Action)(nil)
	_ action.Closer = (*Action)(nil)
)

// New returns the nats action that c (decoded and checked by package
// config) configures. Errors are action.KeyErrors naming the key
// at fault and never show the url's credentials. New does no I/O: with a
// url, the connection is made by the first Do. A missing connection (no
// url, and env.NATS nil) is reported by Do, without Retry.
func New(c *config.NATSAction, env action.Env) (action.Action, error) {
	a := &Action{url: strings.TrimSpace(c.URL), sharedNC: env.NATS, now: time.Now}
	switch c.Format {
	case "", "cloudevents":
	case "argo":
		a.argo = true
	default:
		return nil, action.KeyErrorf("format", "%q is not one of cloudevents, argo", c.Format)
	}
	var err error
	if a.subject, err = parseSubject(c.Subject); err != nil {
		return nil, err
	}
	if a.url != "" {
		if err = checkURLs(a.url); err != nil {
			return nil, err
		}
		a.target = redact.URLs(a.url)
	} else if a.sharedNC != nil {
		if a.sharedJS, err = jetstream.New(a.sharedNC); err != nil {
			return nil, fmt.Errorf("jetstream: %w", err)
		}
		a.target = "the store's connection"
	}
	if a.headers, err = checkHeaders(c.Headers); err != nil {
		return nil, err
	}
	a.lookups.ttl = LookupTTL
	return a, nil
}

// part is a piece of a subject template: literal text, or a placeholder
// when field is set.
type part struct {
	text  string
	field string
}

// parseSubject checks the subject key and splits it into parts.
func parseSubject(s string) ([]part, error) {
	if strings.TrimSpace(s) == "" {
		return nil, action.KeyErrorf("subject", "required")
	}
	var parts []part
	rest := s
	for rest != "" {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			parts = append(parts, part{text: rest})
			break
		}
		if i > 0 {
			parts = append(parts, part{text: rest[:i]})
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return nil, action.KeyErrorf("subject", "%q has a { without a }", s)
		}
		name := rest[i+1 : i+j]
		switch name {
		case "endpoint", "forge", "kind":
		default:
			return nil, action.KeyErrorf("subject", "unknown placeholder {%s} (use {endpoint}, {forge} or {kind})", name)
		}
		parts = append(parts, part{field: name})
		rest = rest[i+j+1:]
	}
	sample := render(parts, func(string) string { return "x" })
	if strings.Contains(sample, "}") {
		return nil, action.KeyErrorf("subject", "%q has a } without a {", s)
	}
	if msg := checkSubject(sample); msg != "" {
		return nil, action.KeyErrorf("subject", "%q %s", s, msg)
	}
	return parts, nil
}

// render joins parts, with value giving each placeholder's text.
func render(parts []part, value func(field string) string) string {
	var b strings.Builder
	for _, p := range parts {
		if p.field == "" {
			b.WriteString(p.text)
		} else {
			b.WriteString(value(p.field))
		}
	}
	return b.String()
}

// checkSubject returns what is wrong with s as a subject to publish to,
// or "".
func checkSubject(s string) string {
	for _, tok := range strings.Split(s, ".") {
		switch {
		case tok == "":
			return "has an empty token (a leading, trailing or double dot)"
		case tok == "*" || tok == ">" || strings.ContainsAny(tok, "*>"):
			return "has a wildcard: messages are published to one subject"
		case strings.IndexFunc(tok, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0:
			return "has a space or a control character"
		}
	}
	for _, p := range reservedPrefixes {
		if strings.HasPrefix(s, p) {
			return fmt.Sprintf("is under %s>, forgehook's own stream: publishing there would loop", p)
		}
	}
	return ""
}

// token makes v usable as one subject token: '.', wildcards, spaces and
// control characters become '_', and "" becomes "_".
func token(v string) string {
	if v == "" {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		if r == '.' || r == '*' || r == '>' || r <= ' ' || r == 0x7f {
			return '_'
		}
		return r
	}, v)
}

// subjectFor renders the subject of ev.
func (a *Action) subjectFor(ev *event.Event) string {
	return render(a.subject, func(field string) string {
		switch field {
		case "endpoint":
			return token(ev.Endpoint)
		case "forge":
			f := ev.Forge
			if f == "" {
				f = ev.Data.Normalized.Forge
			}
			return token(f)
		default:
			k := string(ev.Data.Normalized.Kind)
			if k == "" {
				k = strings.TrimPrefix(ev.Type, event.TypePrefix)
			}
			return token(k)
		}
	})
}

// checkURLs reports, as an error naming the url key, what is wrong with
// the comma-separated NATS URLs s, without showing their credentials.
func checkURLs(s string) error {
	for i, raw := range strings.Split(s, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			return action.KeyErrorf("url", "entry %d is empty", i+1)
		}
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return action.KeyErrorf("url", "entry %d is not a URL (nats://host:port)", i+1)
		}
		switch u.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			return action.KeyErrorf("url", "entry %d: scheme %q is not nats, tls, ws or wss", i+1, u.Scheme)
		}
	}
	return nil
}

// checkHeaders validates the headers key.
func checkHeaders(in map[string]config.Secret) (nats.Header, error) {
	h := nats.Header{}
	for k, v := range in {
		if k == "" || strings.IndexFunc(k, func(r rune) bool { return r <= ' ' || r == ':' || r >= 0x7f }) >= 0 {
			return nil, action.KeyErrorf("headers", "%q is not a valid header name", k)
		}
		for _, r := range []string{HeaderMsgID, HeaderEventID, HeaderContentType} {
			if strings.EqualFold(k, r) {
				return nil, action.KeyErrorf("headers", "%q is set by the action and cannot be configured", k)
			}
		}
		if strings.ContainsAny(v.Reveal(), "\r\n") {
			return nil, action.KeyErrorf("headers", "the value of %q contains a line break", k)
		}
		h.Set(k, v.Reveal())
	}
	return h, nil
}

// Close closes the connection the action made, if any, after waiting for
// a connection attempt in progress. It does not close the store's
// connection. Do fails after Close.
func (a *Action) Close() error {
	a.mu.Lock()
	a.closed = true
	ready := a.ready
	a.mu.Unlock()
	if ready == nil {
		return nil
	}
	<-ready
	if a.own != nil {
		a.own.Close()
	}
	return nil
}

// errNoConn is the error of an action that has no connection to use.
var errNoConn = errors.New("no connection: set url, or run with the store's connection")

// errClosed is the error of Do after Close.
var errClosed = errors.New("action closed")

// conn returns the connection to publish on, making the action's own on
// first use. The connection attempt runs in a goroutine that Close waits
// for, so that Do can return when ctx is done.
func (a *Action) conn(ctx context.Context) (*nats.Conn, jetstream.JetStream, error) {
	if a.url == "" {
		if a.sharedNC == nil {
			return nil, nil, errNoConn
		}
		return a.sharedNC, a.sharedJS, nil
	}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil, nil, errClosed
	}
	if a.ready == nil {
		a.ready = make(chan struct{})
		go a.connect(a.ready)
	}
	ready := a.ready
	a.mu.Unlock()
	select {
	case <-ready:
	case <-ctx.Done():
		return nil, nil, fmt.Errorf("connect to %s: %w", a.target, context.Cause(ctx))
	}
	if a.ownErr != nil {
		return nil, nil, a.ownErr
	}
	return a.own, a.ownJS, nil
}

// connect makes the action's own connection and closes ready. The
// connection reconnects for ever; while it is down, publishing fails
// rather than buffering (ReconnectBufSize -1), so that a failed attempt
// is not also sent later.
func (a *Action) connect(ready chan struct{}) {
	defer close(ready)
	nc, err := nats.Connect(a.url,
		nats.Name("forgehook action"),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectBufSize(-1),
		nats.Timeout(5*time.Second),
	)
	if err != nil {
		a.ownErr = fmt.Errorf("connect to %s: %w", a.target, err)
		return
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		a.ownErr = fmt.Errorf("jetstream: %w", err)
		return
	}
	a.own, a.ownJS = nc, js
}

// Do publishes in's record. It returns when the stream has acknowledged
// the message (JetStream) or the server has received it (core NATS), or
// when ctx is done. Result.Output says which, and where.
func (a *Action) Do(ctx context.Context, in action.Input) (action.Result, error) {
	ev, raw, err := record(in)
	if err != nil {
		return action.Result{}, fmt.Errorf("nats: %w", err)
	}
	subject := a.subjectFor(ev)
	if msg := checkSubject(subject); msg != "" {
		return action.Result{}, fmt.Errorf("nats: subject %q %s", subject, msg)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultWait)
		defer cancel()
	}
	if err := context.Cause(ctx); err != nil {
		return action.Result{Retry: true}, fmt.Errorf("nats: publish to %q: %w", subject, err)
	}
	nc, js, err := a.conn(ctx)
	if err != nil {
		retry := !errors.Is(err, errNoConn) && !errors.Is(err, errClosed)
		return action.Result{Retry: retry}, fmt.Errorf("nats: %w", err)
	}
	if !nc.IsConnected() {
		return action.Result{Retry: true}, fmt.Errorf("nats: publish to %q on %s: %w", subject, a.target, nats.ErrConnectionReconnecting)
	}
	contentType := ContentType
	if a.argo {
		full, err := in.Record.Event()
		if err != nil {
			return action.Result{}, fmt.Errorf("nats: %w", err)
		}
		if raw, err = event.Argo(full); err != nil {
			return action.Result{}, fmt.Errorf("nats: %w", err)
		}
		contentType = "application/json"
	}
	msg := &nats.Msg{Subject: subject, Data: raw, Header: make(nats.Header, len(a.headers)+3)}
	for k, v := range a.headers {
		msg.Header[k] = append([]string(nil), v...)
	}
	msg.Header.Set(HeaderMsgID, ev.ID+"."+in.Trigger)
	msg.Header.Set(HeaderEventID, ev.ID)
	msg.Header.Set(HeaderContentType, contentType)

	stream, err := a.streamFor(ctx, js, subject)
	if err != nil {
		return action.Result{Retry: true}, fmt.Errorf("nats: find the stream of %q: %w", subject, err)
	}
	if stream != "" {
		ack, err := js.PublishMsg(ctx, msg)
		switch {
		case err == nil:
			out := fmt.Sprintf("stored in stream %s, sequence %d", ack.Stream, ack.Sequence)
			if ack.Duplicate {
				out += " (duplicate: already stored)"
			}
			return action.Result{Output: out}, nil
		case errors.Is(err, jetstream.ErrNoStreamResponse):
			// Nothing listens on the subject any more: the stream is
			// gone. Forget it and publish with core NATS.
			a.lookups.forget(subject)
		default:
			return action.Result{Retry: !errors.Is(err, nats.ErrMaxPayload)},
				fmt.Errorf("nats: publish to %q (stream %s): %w", subject, stream, err)
		}
	}
	if err := nc.PublishMsg(msg); err != nil {
		return action.Result{Retry: !errors.Is(err, nats.ErrMaxPayload)}, fmt.Errorf("nats: publish to %q: %w", subject, err)
	}
	if err := nc.FlushWithContext(ctx); err != nil {
		return action.Result{Retry: true}, fmt.Errorf("nats: publish to %q: flush: %w", subject, err)
	}
	return action.Result{Output: fmt.Sprintf("published to %s (core NATS, no stream)", subject)}, nil
}

// streamFor returns the stream that captures subject, "" when none does
// or the server has no JetStream.
func (a *Action) streamFor(ctx context.Context, js jetstream.JetStream, subject string) (string, error) {
	now := a.now()
	if s, ok := a.lookups.get(subject, now); ok {
		return s, nil
	}
	s, err := js.StreamNameBySubject(ctx, subject)
	if err != nil {
		var apiErr *jetstream.APIError
		switch {
		case errors.Is(err, jetstream.ErrStreamNotFound), errors.Is(err, nats.ErrNoResponders):
			s = ""
		case errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeJetStreamNotEnabled ||
			apiErr.ErrorCode == jetstream.JSErrCodeJetStreamNotEnabledForAccount):
			s = ""
		default:
			return "", err
		}
	}
	a.lookups.put(subject, s, now)
	return s, nil
}

// lookupCache keeps the stream of each subject for ttl.
type lookupCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]lookup
}

type lookup struct {
	stream string
	at     time.Time
}

func (c *lookupCache) get(subject string, now time.Time) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.m[subject]
	if !ok || now.Sub(l.at) >= c.ttl || now.Before(l.at) {
		return "", false
	}
	return l.stream, true
}

func (c *lookupCache) put(subject, stream string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxLookups {
		c.m = make(map[string]lookup)
	}
	c.m[subject] = lookup{stream: stream, at: now}
}

func (c *lookupCache) forget(subject string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, subject)
}

// record returns what the subject and the headers read of in's record
// (its context attributes, or the whole record when they lack the forge
// or the type) and its JSON as stored.
func record(in action.Input) (*event.Event, []byte, error) {
	ev, err := in.Record.Attributes()
	if err != nil {
		return nil, nil, err
	}
	if ev.Forge == "" || ev.Type == "" {
		// subjectFor falls back on the normalized forge and kind.
		if ev, err = in.Record.Event(); err != nil {
			return nil, nil, err
		}
	}
	if ev.ID == "" {
		return nil, nil, errors.New("the record has no id")
	}
	return ev, in.Record.Raw(), nil
}
