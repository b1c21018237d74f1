package store

import (
	"fmt"
	"strconv"
	"time"

	"github.com/forgehook/forgehook/internal/jsonx"
)

// appendJSON appends a as json.Marshal writes it, byte for byte (the tests
// compare the two): an attempt is recorded for every delivery, and the
// reflection-based encoding cost about as much as the rest of the record.
func (a *Attempt) appendJSON(b []byte) ([]byte, error) {
	if y := a.Time.Year(); y < 0 || y > 9999 {
		return nil, fmt.Errorf("store: encode attempt: time year %d outside of [0,9999]", y)
	}
	b = append(b, `{"trigger":`...)
	b = jsonx.AppendString(b, a.Trigger)
	b = append(b, `,"event_id":`...)
	b = jsonx.AppendString(b, a.EventID)
	b = append(b, `,"attempt":`...)
	b = strconv.AppendInt(b, int64(a.Attempt), 10)
	b = append(b, `,"time":`...)
	b = appendJSONTime(b, a.Time)
	b = append(b, `,"duration_ns":`...)
	b = strconv.AppendInt(b, int64(a.Duration), 10)
	b = append(b, `,"outcome":`...)
	b = jsonx.AppendString(b, a.Outcome)
	if a.Status != 0 {
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(a.Status), 10)
	}
	if a.Error != "" {
		b = append(b, `,"error":`...)
		b = jsonx.AppendString(b, a.Error)
	}
	if a.Output != "" {
		b = append(b, `,"output":`...)
		b = jsonx.AppendString(b, a.Output)
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
