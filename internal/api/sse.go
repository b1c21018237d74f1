package api

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// SSEEvent is one dispatched server-sent event.
//
// Spec: https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
type SSEEvent struct {
	// ID is the last event ID as the stream set it (it persists across
	// events until an id field changes it).
	ID string
	// Event is the event type ("message" when the stream named none).
	Event string
	// Data is the data lines joined with "\n".
	Data string
}

// ErrSSETooLarge means an event's data, or one line, grew past the
// reader's limit.
var ErrSSETooLarge = errors.New("server-sent event too large")

// SSEReader parses a text/event-stream as the HTML standard interprets
// it: lines end with CRLF, LF or CR; a line starting with ':' is a
// comment; "field: value" loses one space after the colon, a line without
// a colon is a field with an empty value; data lines accumulate; a blank
// line dispatches the event when it has data (an empty data buffer only
// resets the event type); an id holding NUL is ignored; a leading byte
// order mark is skipped; unknown fields and an event cut by the end of
// the stream are dropped. It is not safe for concurrent use.
type SSEReader struct {
	sc     *bufio.Scanner
	max    int
	skipLF bool // the last line ended with CR: a LF right after belongs to it
	first  bool // the next line is the stream's first
	data   []byte
	hasD   bool
	event  string
	id     string
	// Comments counts the comment lines read (heartbeats).
	Comments int
}

// NewSSEReader reads events from r; no line and no event's data may
// exceed max bytes (0: 64 MiB), else Next returns ErrSSETooLarge.
func NewSSEReader(r io.Reader, max int) *SSEReader {
	if max <= 0 {
		max = 64 << 20
	}
	s := &SSEReader{max: max, first: true}
	s.sc = bufio.NewScanner(r)
	s.sc.Buffer(make([]byte, 0, min(64<<10, max+2)), max+2)
	s.sc.Split(s.split)
	return s
}

// split cuts lines at CRLF, LF or CR. A CR ends its line at once (the
// stream may pause after it); a LF that follows is skipped then.
func (s *SSEReader) split(data []byte, atEOF bool) (int, []byte, error) {
	start := 0
	if s.skipLF && len(data) > 0 {
		s.skipLF = false
		if data[0] == '\n' {
			start = 1
		}
	}
	if i := bytes.IndexAny(data[start:], "\r\n"); i >= 0 {
		i += start
		s.skipLF = data[i] == '\r'
		return i + 1, data[start:i], nil
	}
	if atEOF {
		// A line without its end: the standard drops it with the event.
		return len(data), nil, nil
	}
	return start, nil, nil
}

// Next returns the next event. At the end of the stream it returns
// io.EOF (or the reader's error); past the limit, ErrSSETooLarge.
func (s *SSEReader) Next() (SSEEvent, error) {
	for s.sc.Scan() {
		line := s.sc.Bytes()
		if s.first {
			s.first = false
			line = bytes.TrimPrefix(line, []byte("\xEF\xBB\xBF"))
		}
		if len(line) == 0 {
			ev, ok := s.dispatch()
			if ok {
				return ev, nil
			}
			continue
		}
		if line[0] == ':' {
			s.Comments++
			continue
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			value = bytes.TrimPrefix(value, []byte(" "))
		}
		switch string(field) {
		case "event":
			s.event = string(value)
		case "data":
			if len(s.data)+len(value)+1 > s.max {
				return SSEEvent{}, ErrSSETooLarge
			}
			s.data = append(s.data, value...)
			s.data = append(s.data, '\n')
			s.hasD = true
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				s.id = string(value)
			}
		}
	}
	if err := s.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return SSEEvent{}, ErrSSETooLarge
		}
		return SSEEvent{}, err
	}
	return SSEEvent{}, io.EOF
}

// dispatch ends the current event at a blank line.
func (s *SSEReader) dispatch() (SSEEvent, bool) {
	defer func() { s.data, s.hasD, s.event = s.data[:0], false, "" }()
	if !s.hasD {
		return SSEEvent{}, false
	}
	ev := SSEEvent{ID: s.id, Event: s.event, Data: string(s.data[:len(s.data)-1])}
	if ev.Event == "" {
		ev.Event = "message"
	}
	if cap(s.data) > 1<<20 {
		s.data = nil // after a large event, do not keep its buffer
	}
	return ev, true
}
