// Package actiontest holds what the tests of every action kind share: a
// realistic input built from a real forge delivery (Event, Record), the
// check that a secret leaks into no error, output or log line
// (AssertNoSecret), and the conformance suite that every HTTP-like action
// passes (Run), after alertmanager's notify/test: 2xx succeeds, 5xx, 408
// and 429 are retried, other 4xx are not, Retry-After is honoured, an
// unreachable target is retried and a cancelled context ends the attempt
// at once.
package actiontest

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/forgehook/forgehook/internal/action"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/github"
)

// Received is the time at which Event and Record pretend the delivery
// arrived; it is the record's time.
var Received = time.Date(2026, 11, 23, 8, 25, 20, 0, time.UTC)

// Trigger is the trigger name of the inputs Event and Record build.
const Trigger = "actiontest"

// Endpoint is the endpoint name of the record Event builds.
const Endpoint = "acme-github"

// HookSecret is the secret Event signs its GitHub delivery with before the
// record redacts the signature; an action must never send it on.
const HookSecret = "actiontest-github-hook-secret"

// githubPush is a real GitHub push delivery to refs/heads/master with one
// commit (octokit/webhooks-examples, MIT; see the file's comment).
//
//go:embed testdata/github-push.txtar
var githubPush []byte

// Event returns the input of a realistic event: a GitHub push of one
// commit to refs/heads/master of Codertocat/Hello-World, received on
// endpoint Endpoint and signed with HookSecret, as ingest stores it (the
// signature headers redacted). Each call returns a new Input that the
// caller may modify.
func Event(t testing.TB) action.Input {
	t.Helper()
	a := txtar.Parse(githubPush)
	h := http.Header{}
	var body []byte
	for _, f := range a.Files {
		switch f.Name {
		case "headers":
			for line := range strings.SplitSeq(string(f.Data), "\n") {
				if k, v, ok := strings.Cut(line, ":"); ok {
					h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
				}
			}
		case "body":
			body = bytes.TrimSuffix(f.Data, []byte("\n"))
		}
	}
	p, err := github.New(nil)
	if err != nil {
		t.Fatalf("actiontest: github provider: %v", err)
	}
	p.(forge.Signer).Sign(h, body, HookSecret, Received)
	return Record(t, p, Endpoint, h, body)
}

// Record returns the input that a trigger would receive for one delivery
// of provider p to the named endpoint, with headers h and body body (JSON,
// or a form whose payload= field is the JSON), built as ingest builds the
// stored record: credential headers redacted, the provider's normalized
// fields, the envelope, and the record's JSON. The delivery is not
// verified. The record's time is Received; its id is the forge's delivery
// id, or one derived from the body when the forge sends none.
func Record(t testing.TB, p forge.Provider, endpoint string, h http.Header, body []byte) action.Input {
	t.Helper()
	payload := body
	if strings.HasPrefix(strings.ToLower(h.Get("Content-Type")), "application/x-www-form-urlencoded") {
		v, err := url.ParseQuery(string(body))
		if err != nil {
			t.Fatalf("actiontest: form body: %v", err)
		}
		payload = []byte(v.Get("payload"))
	}
	m, err := forge.InspectRequest(p, h, payload)
	if err != nil {
		t.Fatalf("actiontest: %s: inspect: %v", p.Name(), err)
	}
	f, err := p.Normalize(m, payload)
	if err != nil {
		t.Fatalf("actiontest: %s: normalize: %v", p.Name(), err)
	}
	stored := payload
	if rd, ok := p.(forge.Redactor); ok {
		stored = rd.Redact(stored)
	}
	var extra []string
	if hn, ok := p.(forge.HeaderNamer); ok {
		extra = hn.CredentialHeaders()
	}
	ev := &event.Event{
		ID:          m.Delivery,
		Time:        Received,
		Forge:       f.Forge,
		ForgeEvent:  m.Event,
		ForgeAction: f.ForgeAction,
		Endpoint:    endpoint,
		Delivery:    m.Delivery,
		Data: event.Data{
			Header:     event.RedactHeader(h, extra...),
			Body:       stored,
			Normalized: f,
		},
	}
	if ev.ID == "" {
		ev.ID = "actiontest-" + strconv.FormatUint(fnv64(payload), 16)
	}
	ev.Envelope()
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatalf("actiontest: encode record: %v", err)
	}
	return action.Input{Record: action.NewRecord(raw), Trigger: Trigger, Attempt: 1}
}

// Decoded returns in's record decoded anew with encoding/json: a copy the
// caller may modify, unlike the view in.Record.Event returns.
func Decoded(t testing.TB, in action.Input) *event.Event {
	t.Helper()
	ev := new(event.Event)
	if err := json.Unmarshal(in.Record.Raw(), ev); err != nil {
		t.Fatalf("actiontest: decode record: %v", err)
	}
	return ev
}

// Edit returns in with its record replaced by the encoding of in's event
// after change has modified it.
func Edit(t testing.TB, in action.Input, change func(ev *event.Event)) action.Input {
	t.Helper()
	ev := Decoded(t, in)
	change(ev)
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatalf("actiontest: encode record: %v", err)
	}
	in.Record = action.NewRecord(raw)
	return in
}

// fnv64 is the FNV-1a hash of b, for stable made-up ids.
func fnv64(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// AssertNoSecret fails t when secret, or its URL-, base64- or
// quote-escaped form, appears in any of things: an error (its message and
// its %+v and %#v forms), an action.Result (its Output and every field), a
// string, a []byte, a fmt.Stringer (such as the *bytes.Buffer a test
// logger writes to), a func() string, or anything else in its %+v and %#v
// forms. Nil things are skipped. The failure message never shows the
// secret. An empty secret is a mistake in the test and fails it.
func AssertNoSecret(t testing.TB, secret string, things ...any) {
	t.Helper()
	if secret == "" {
		t.Fatal("actiontest.AssertNoSecret: empty secret")
	}
	forms := map[string]string{"plain": secret}
	for name, f := range map[string]string{
		"url-query-escaped": url.QueryEscape(secret),
		"url-path-escaped":  url.PathEscape(secret),
		"quoted":            strings.Trim(strconv.Quote(secret), `"`),
		"base64":            base64.StdEncoding.EncodeToString([]byte(secret)),
	} {
		if f != secret {
			forms[name] = f
		}
	}
	for i, thing := range things {
		text := render(thing)
		for name, f := range forms {
			if strings.Contains(text, f) {
				t.Errorf("actiontest: thing %d (%T) contains the secret (%s)", i, thing, name)
			}
		}
	}
}

// render returns every textual form of thing that AssertNoSecret checks.
func render(thing any) string {
	switch v := thing.(type) {
	case nil:
		return ""
	case error:
		return v.Error() + "\n" + fmt.Sprintf("%+v\n%#v", v, v)
	case action.Result:
		return v.Output + "\n" + fmt.Sprintf("%+v", v)
	case *action.Result:
		if v == nil {
			return ""
		}
		return v.Output + "\n" + fmt.Sprintf("%+v", *v)
	case string:
		return v
	case []byte:
		return string(v)
	case fmt.Stringer:
		return v.String()
	case func() string:
		return v()
	}
	return fmt.Sprintf("%+v\n%#v", thing, thing)
}
