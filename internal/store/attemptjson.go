package store

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// appendJSON appends a as json.Marshal writes it, byte for byte (the tests
// compare the two): an attempt is recorded for every delivery, and the
// reflection-based encoding cost about as much as the rest of the record.
func (a *Attempt) appendJSON(b []byte) ([]byte, error) {
	if y := a.Time.Year(); y < 0 || y > 9999 {
		return nil, fmt.Errorf("store: encode attempt: time year %d outside of [0,9999]", y)
	}
	b = append(b, `{"trigger":`...)
	b = appendJSONString(b, a.Trigger)
	b = append(b, `,"event_id":`...)
	b = appendJSONString(b, a.EventID)
	b = append(b, `,"attempt":`...)
	b = strconv.AppendInt(b, int64(a.Attempt), 10)
	b = append(b, `,"time":`...)
	b = appendJSONTime(b, a.Time)
	b = append(b, `,"duration_ns":`...)
	b = strconv.AppendInt(b, int64(a.Duration), 10)
	b = append(b, `,"outcome":`...)
	b = appendJSONString(b, a.Outcome)
	if a.Status != 0 {
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(a.Status), 10)
	}
	if a.Error != "" {
		b = append(b, `,"error":`...)
		b = appendJSONString(b, a.Error)
	}
	if a.Output != "" {
		b = append(b, `,"output":`...)
		b = appendJSONString(b, a.Output)
	}
	if !a.NextAttempt.IsZero() {
		if y := a.NextAttempt.Year(); y < 0 || y > 9999 {
			return nil, fmt.Errorf("store: encode attempt: next_attempt year %d outside of [0,9999]", y)
		}
		b = append(b, `,"next_attempt":`...)
		b = appendJSONTime(b, a.NextAttempt)
	}
	if a.Replay {
		b = append(b, `,"replay":true`...)
	}
	return append(b, '}'), nil
}

// appendJSONTime writes t as time.Time's MarshalJSON does. A zone offset
// MarshalJSON refuses (24 hours or more) cannot come from this process's
// clock; the caller checked the year.
func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendJSONString quotes s as json.Marshal does: plain printable ASCII
// without the characters it escapes (quote, backslash, and <, >, & as HTML
// safety) is copied, anything else goes through json.Marshal.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
