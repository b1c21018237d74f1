// Package logaction implements the log action: it prints one line per
// event to the process's standard output, the quick-start's echo. It never
// fails.
//
// The text format (the default) is
//
//	<time> <event id> <forge>/<forgeevent> <kind> [<action>] <repo> <ref> trigger=<name>
//
// where time is the event's time in RFC 3339 (UTC), action is left out when
// the event has none, ref is the subject (pulls/42) when the event has no
// ref, and an empty value prints as "-". A value with spaces, quotes or
// control characters is printed Go-quoted, so a line is always one line.
// The json format prints the same fields as one JSON object per line.
package logaction

import (
	"bytes"
	"context"
	"encoding/json"

	"io"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/forgehook/forgehook/internal/action"
	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
)

// The values of the format key.
const (
	// FormatText prints a space-separated line.
	FormatText = "text"
	// FormatJSON prints a JSON object per line.
	FormatJSON = "json"
)

// Action is a log action. It is safe for concurrent use: lines of
// concurrent events are written whole, one Write each.
type Action struct {
	json bool
	mu   sync.Mutex // serializes writes to w
	w    io.Writer
	now  func() time.Time
}

var _ action.Action = (*Action)(nil)

// New returns the log action that c (checked by package config)
// configures. It prints to env.Stdout; with none, it prints nowhere. It
// never fails.
func New(c *config.LogAction, env action.Env) (action.Action, error) {
	// config checks the format (text or json).
	a := &Action{w: env.Stdout, now: time.Now, json: c.Format == FormatJSON}
	if a.w == nil {
		a.w = io.Discard
	}
	return a, nil
}

// Line is one printed event, the object of the json format.
type Line struct {
	Time       time.Time `json:"time"`
	ID         string    `json:"id"`
	Forge      string    `json:"forge"`
	ForgeEvent string    `json:"forgeevent"`
	Kind       string    `json:"kind"`
	Action     string    `json:"action,omitempty"`
	Repository string    `json:"repository"`
	Ref        string    `json:"ref"`
	Trigger    string    `json:"trigger"`
}

// Do prints in's line. It always succeeds: a failed write is not worth a
// retry, and Result.Output holds the line either way. ctx is not used.
func (a *Action) Do(ctx context.Context, in action.Input) (action.Result, error) {
	l := a.line(in)
	var b []byte
	if a.json {
		b, _ = json.Marshal(l) // Line always encodes
		b = append(b, '\n')
	} else {
		b = text(l)
	}
	a.mu.Lock()
	_, _ = a.w.Write(b)
	a.mu.Unlock()
	return action.Result{Output: string(bytes.TrimSuffix(b, []byte("\n")))}, nil
}

// line gathers what is printed of in.
func (a *Action) line(in action.Input) Line {
	ev, err := in.Record.Event()
	if err != nil {
		ev = new(event.Event) // print what can be read: the trigger
	}
	f := &ev.Data.Normalized
	l := Line{
		Time:       ev.Time.UTC(),
		ID:         ev.ID,
		Forge:      ev.Forge,
		ForgeEvent: ev.ForgeEvent,
		Kind:       string(f.Kind),
		Action:     f.Action,
		Repository: f.Repository.FullName,
		Ref:        f.Ref,
		Trigger:    in.Trigger,
	}
	if l.Time.IsZero() {
		l.Time = a.now().UTC()
	}
	if l.Forge == "" {
		l.Forge = f.Forge
	}
	if l.Kind == "" {
		l.Kind = strings.TrimPrefix(ev.Type, event.TypePrefix)
	}
	if l.Ref == "" {
		l.Ref = ev.Subject
	}
	return l
}

// text formats l as a text line, with its newline.
func text(l Line) []byte {
	b := make([]byte, 0, 160)
	b = l.Time.AppendFormat(b, time.RFC3339)
	b = append(b, ' ')
	b = appendValue(b, l.ID)
	b = append(b, ' ')
	b = appendValue(b, l.Forge)
	b = append(b, '/')
	b = appendValue(b, l.ForgeEvent)
	b = append(b, ' ')
	b = appendValue(b, l.Kind)
	if l.Action != "" {
		b = append(b, ' ')
		b = appendValue(b, l.Action)
	}
	b = append(b, ' ')
	b = appendValue(b, l.Repository)
	b = append(b, ' ')
	b = appendValue(b, l.Ref)
	b = append(b, " trigger="...)
	b = appendValue(b, l.Trigger)
	return append(b, '\n')
}

// appendValue appends s: "-" when empty, Go-quoted when it holds a space,
// a quote, a control or non-printable character or invalid UTF-8.
func appendValue(b []byte, s string) []byte {
	if s == "" {
		return append(b, '-')
	}
	if !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool {
		return r == '"' || r == '\\' || unicode.IsSpace(r) || !unicode.IsPrint(r)
	}) >= 0 {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}
