// Package action defines what a trigger does with a matching event: the
// Action interface that each action kind (http, exec, nats, log) implements
// in a package of its own, and the Input and Result they exchange with the
// delivery loop (package deliver), which owns retries, dead letters and the
// record of attempts.
package action

import (
	"context"
	"time"
)

// Input is one event offered to an action.
type Input struct {
	// Record is the event: its bytes as stored and its decoded views,
	// each decoded at most once (see Record). Actions must not modify it.
	Record *Record
	// Trigger is the trigger's name.
	Trigger string
	// Attempt counts from 1.
	Attempt int
	// Key is the trigger's serialize key for this event ("" when the
	// trigger has none). The delivery loop never runs two events of one
	// key at once, nor a later one before an earlier one is done (retries
	// included); actions need not serialize themselves.
	Key string
}

// Result describes one attempt, for the record of attempts and the retry
// decision.
type Result struct {
	// Retry reports that a failure is transient and worth another attempt
	// (network errors, 408, 429, 5xx, a timeout, a non-zero exit). It is
	// ignored on success.
	Retry bool
	// RetryAfter is the wait the target asked for (HTTP Retry-After), 0 for none.
	RetryAfter time.Duration
	// Status is the HTTP status or the process exit code (0 when none).
	Status int
	// Output is a bounded excerpt of the response body or the process
	// output (at most OutputLimit bytes).
	Output string
	// Superseded reports that the action skipped this event because a
	// newer one replaced it. It counts as a success. (Coalesced events of
	// a serialize key never reach the action: see Coalescer.)
	Superseded bool
}

// OutputLimit bounds Result.Output.
const OutputLimit = 4096

// Action performs one trigger's work for one event. Do must return when
// ctx is done. A nil error is success; a non-nil error is a failed attempt,
// retried when Result.Retry is set. Implementations are safe for
// concurrent use and never put a secret in an error, a log line or Output.
type Action interface {
	Do(ctx context.Context, in Input) (Result, error)
}

// Coalescer is implemented by actions that may skip events of a serialize
// key: when Coalesce returns true, of the events waiting for their key
// only the newest runs, and the delivery loop records the older ones as
// superseded without offering them to the action.
type Coalescer interface {
	Coalesce() bool
}

// Closer is implemented by actions that hold resources (connections,
// running processes) to release when the trigger stops.
type Closer interface {
	Close() error
}

// Excerpt returns at most OutputLimit bytes of b, cut at a rune boundary,
// with a marker when it was cut.
func Excerpt(b []byte) string {
	if len(b) <= OutputLimit {
		return string(b)
	}
	cut := OutputLimit
	for cut > 0 && b[cut]&0xC0 == 0x80 {
		cut--
	}
	return string(b[:cut]) + "\n[... truncated]"
}
