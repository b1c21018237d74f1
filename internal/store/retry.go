package store

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// publishRetry is publish for ingest's appends: it sends msg again, with
// the same Nats-Msg-Id, when an attempt fails in a way a leader election
// or a reconnect explains (no responders, a disconnect, no
// acknowledgement within a part of the ack timeout), until one is
// acknowledged or ctx ends. JetStream's duplicate window (at least twice
// the ack timeout, see dupWindowFor) stores the copies once: an attempt
// that was stored after all makes a later one come back as a duplicate of
// it, which Append tells from a redelivery by its event id. Every
// attempt's acknowledgement is watched until a minute has passed: when
// ctx ends first, late (if not nil) is called with the first that comes.
func (s *Store) publishRetry(ctx context.Context, msg *nats.Msg, late func(*jetstream.PubAck)) (*jetstream.PubAck, error) {
	type result struct {
		ack *jetstream.PubAck
		err error
	}
	results := make(chan result, 64)
	// mu guards returned and acked: once the call has returned, a
	// watcher hands a late acknowledgement to late (once, and only if
	// the call did not return one) instead of to results.
	var (
		mu       sync.Mutex
		returned bool
		acked    bool
		lateOnce sync.Once
	)
	lateAck := func(ack *jetstream.PubAck) {
		if late != nil {
			lateOnce.Do(func() { late(ack) })
		}
	}
	defer func() {
		mu.Lock()
		returned = true
		mu.Unlock()
		// What came back but was not read goes to late too.
		for {
			select {
			case r := <-results:
				if r.err == nil && !acked {
					lateAck(r.ack)
				}
			default:
				return
			}
		}
	}()
	watch := func(f jetstream.PubAckFuture) {
		defer s.wg.Done()
		var r result
		select {
		case r.ack = <-f.Ok():
		case r.err = <-f.Err():
		case <-s.done:
			return
		case <-time.After(time.Minute):
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if returned {
			if r.err == nil && !acked {
				lateAck(r.ack)
			}
			return
		}
		select {
		case results <- r:
		default:
		}
	}
	per := s.attemptTimeout()
	wait := 25 * time.Millisecond
	var lastErr error
	next := time.NewTimer(time.Hour)
	defer next.Stop()
	for {
		// Sent first, then waited for: even a caller whose ctx has
		// already ended gets its one attempt (the late acknowledgement
		// indexes it).
		if f, err := s.js.PublishMsgAsync(msg); err != nil {
			if !retryable(err) {
				return nil, err
			}
			lastErr = err
			next.Reset(wait)
			wait = min(2*wait, 500*time.Millisecond)
		} else {
			s.wg.Add(1)
			go watch(f)
			next.Reset(per)
		}
		// Wait for an answer to any attempt, until the next is due.
		for due := false; !due; {
			select {
			case r := <-results:
				if r.err == nil {
					mu.Lock()
					acked = true
					mu.Unlock()
					return r.ack, nil
				}
				if !retryable(r.err) {
					return nil, r.err
				}
				// Sent again after a short wait, not at once: an
				// election takes a few hundred milliseconds at least.
				lastErr = r.err
				next.Reset(wait)
				wait = min(2*wait, 500*time.Millisecond)
			case <-ctx.Done():
				return nil, causeWith(ctx, lastErr)
			case <-s.done:
				return nil, ErrNotReady
			case <-next.C:
				due = true
			}
		}
	}
}

// causeWith is ctx's cause, with the last attempt's error when there was one.
func causeWith(ctx context.Context, last error) error {
	if last == nil {
		return context.Cause(ctx)
	}
	return errors.Join(context.Cause(ctx), last)
}

// attemptTimeout is how long one attempt of publishRetry waits for its
// acknowledgement before it sends the message again: a quarter of the ack
// timeout, at least half a second.
func (s *Store) attemptTimeout() time.Duration {
	at := s.opts.AckTimeout
	if at <= 0 {
		at = 5 * time.Second
	}
	return max(at/4, 500*time.Millisecond)
}

// dupWindowFor is the EVENTS stream's own duplicate window: at least
// twice the ack timeout, so that every copy publishRetry sends within one
// request is stored once, and at least dupWindow.
func dupWindowFor(ackTimeout, dedupWindow time.Duration) time.Duration {
	return min(max(dupWindow, 2*ackTimeout), max(dedupWindow, 2*ackTimeout))
}

// retryable reports whether a failed publish may succeed when sent
// again: not when the store cannot write (disk full), the message is too
// large, the connection is closed for good, or JetStream refused the
// request itself.
func retryable(err error) bool {
	switch {
	case isStorageError(err.Error()),
		errors.Is(err, nats.ErrConnectionClosed),
		errors.Is(err, nats.ErrMaxPayload),
		errors.Is(err, nats.ErrBadSubject):
		return false
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Code == 0 || apiErr.Code >= 500
	}
	return true
}
