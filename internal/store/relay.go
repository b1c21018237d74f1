package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Relays. `forgehook forward` follows one endpoint's events through the
// admin API and acknowledges each one after its local target answered.
// The server keeps each relay's cursor (the stream sequence of the last
// acknowledged event) in the KV bucket forgehook_relays, replicated like
// every other bucket, so that a relay resumes where it stopped whichever
// replica it reconnects to. A cursor lives as long as the events do
// (store.retention after its last use): past that, the events it pointed
// into are gone too.
const (
	RelaysBucket = "forgehook_relays"
)

// ErrRelayNotFound means no relay of that name follows that endpoint.
var ErrRelayNotFound = errors.New("relay not found")

// ErrRelayAhead means an acknowledged sequence is beyond the last stored
// event.
var ErrRelayAhead = errors.New("acknowledged sequence is beyond the last stored event")

// RelayCursor is where a relay stands.
type RelayCursor struct {
	// Endpoint is the endpoint the relay follows; Name the relay's name.
	Endpoint string `json:"endpoint"`
	Name     string `json:"name"`
	// Acked is the stream sequence of the last event the relay
	// acknowledged, or of the last event stored before the relay started
	// (the relay then receives what is stored after). 0 with Since set:
	// the relay starts at the first event stored at or after Since.
	Acked uint64 `json:"acked"`
	// Since is the start time of a relay created with one, until its
	// first acknowledgement.
	Since time.Time `json:"since,omitzero"`
	// Created is when the relay first connected; Updated when it last
	// connected or acknowledged.
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// RelayStart says where a new relay starts: after sequence After when it
// is not 0, else at Since when it is not zero, else after the last event
// stored now.
type RelayStart struct {
	After uint64
	Since time.Time
}

func relayKey(endpoint, name string) string { return hashKey(endpoint + "\x00" + name) }

func (s *Store) ensureRelays(ctx context.Context) (jetstream.KeyValue, error) {
	kv, err := s.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      RelaysBucket,
		Description: "forgehook relay cursors (forgehook forward)",
		History:     1,
		TTL:         s.opts.Retention,
		Storage:     jetstream.FileStorage,
		Replicas:    s.opts.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("store: bucket %s: %w", RelaysBucket, err)
	}
	return kv, nil
}

func (s *Store) relayBucket() (jetstream.KeyValue, jetstream.Stream, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.relays == nil || s.events == nil {
		return nil, nil, ErrNotReady
	}
	return s.relays, s.events, nil
}

func getCursor(ctx context.Context, kv jetstream.KeyValue, endpoint, name string) (RelayCursor, uint64, error) {
	e, err := kv.Get(ctx, relayKey(endpoint, name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return RelayCursor{}, 0, ErrRelayNotFound
	}
	if err != nil {
		return RelayCursor{}, 0, fmt.Errorf("store: relay %s/%s: %w", endpoint, name, err)
	}
	var c RelayCursor
	if err := json.Unmarshal(e.Value(), &c); err != nil {
		return RelayCursor{}, 0, fmt.Errorf("store: relay %s/%s: %w", endpoint, name, err)
	}
	if c.Endpoint != endpoint || c.Name != name {
		// A hash collision, or a value written by someone else.
		return RelayCursor{}, 0, fmt.Errorf("store: relay %s/%s: the bucket holds another relay's cursor under its key", endpoint, name)
	}
	return c, e.Revision(), nil
}

// Relay returns the cursor of the relay name of endpoint, or
// ErrRelayNotFound.
func (s *Store) Relay(ctx context.Context, endpoint, name string) (RelayCursor, error) {
	kv, _, err := s.relayBucket()
	if err != nil {
		return RelayCursor{}, err
	}
	c, _, err := getCursor(ctx, kv, endpoint, name)
	return c, err
}

// OpenRelay returns the cursor of the relay name of endpoint, creating it
// at start when there is none (created then reports true); an existing
// cursor wins over start. Opening an existing relay records the time, so
// that a relay in use is not forgotten.
func (s *Store) OpenRelay(ctx context.Context, endpoint, name string, start RelayStart) (c RelayCursor, created bool, err error) {
	kv, events, err := s.relayBucket()
	if err != nil {
		return RelayCursor{}, false, err
	}
	for range 5 {
		c, rev, err := getCursor(ctx, kv, endpoint, name)
		now := time.Now().UTC()
		switch {
		case err == nil:
			c.Updated = now
			b, _ := json.Marshal(c)
			if _, err := kv.Update(ctx, relayKey(endpoint, name), b, rev); err != nil {
				if errors.Is(err, jetstream.ErrKeyExists) {
					continue // changed meanwhile: read it again
				}
				return RelayCursor{}, false, fmt.Errorf("store: relay %s/%s: %w", endpoint, name, err)
			}
			return c, false, nil
		case !errors.Is(err, ErrRelayNotFound):
			return RelayCursor{}, false, err
		}
		c = RelayCursor{Endpoint: endpoint, Name: name, Created: now, Updated: now}
		switch {
		case start.After != 0:
			c.Acked = start.After
		case !start.Since.IsZero():
			c.Since = start.Since.UTC()
		default:
			info, err := events.Info(ctx)
			if err != nil {
				return RelayCursor{}, false, fmt.Errorf("store: stream info: %w", err)
			}
			c.Acked = info.State.LastSeq
		}
		b, _ := json.Marshal(c)
		if _, err := kv.Create(ctx, relayKey(endpoint, name), b); err != nil {
			if errors.Is(err, jetstream.ErrKeyExists) {
				continue // another connection created it: use that one
			}
			return RelayCursor{}, false, fmt.Errorf("store: relay %s/%s: %w", endpoint, name, err)
		}
		return c, true, nil
	}
	return RelayCursor{}, false, fmt.Errorf("store: relay %s/%s: the cursor keeps changing", endpoint, name)
}

// AckRelay moves the cursor of the relay name of endpoint to seq, the
// stream sequence of an event the relay delivered. The cursor never moves
// back: an acknowledgement at or before it changes nothing. It returns the
// cursor as it stands after the call; ErrRelayNotFound when the relay was
// never opened, ErrRelayAhead when seq is beyond the last stored event.
func (s *Store) AckRelay(ctx context.Context, endpoint, name string, seq uint64) (RelayCursor, error) {
	kv, events, err := s.relayBucket()
	if err != nil {
		return RelayCursor{}, err
	}
	for range 5 {
		c, rev, err := getCursor(ctx, kv, endpoint, name)
		if err != nil {
			return RelayCursor{}, err
		}
		if seq <= c.Acked {
			return c, nil
		}
		info, err := events.Info(ctx)
		if err != nil {
			return RelayCursor{}, fmt.Errorf("store: stream info: %w", err)
		}
		if seq > info.State.LastSeq {
			return RelayCursor{}, ErrRelayAhead
		}
		c.Acked, c.Since, c.Updated = seq, time.Time{}, time.Now().UTC()
		b, _ := json.Marshal(c)
		if _, err := kv.Update(ctx, relayKey(endpoint, name), b, rev); err != nil {
			if errors.Is(err, jetstream.ErrKeyExists) {
				continue
			}
			return RelayCursor{}, fmt.Errorf("store: relay %s/%s: %w", endpoint, name, err)
		}
		return c, nil
	}
	return RelayCursor{}, fmt.Errorf("store: relay %s/%s: the cursor keeps changing", endpoint, name)
}

// relayPrefetch bounds how many events a relay's consumer holds ahead of
// the one being sent: each is up to one message (the server's max
// payload), read while the relay's connection drains.
const relayPrefetch = 2

// LargeRelayEvent is the size past which FollowOptions.Large gates an
// event: one stored in the object store, or a message larger than this.
const LargeRelayEvent = 1 << 20

// FollowOptions are FollowRelay's optional hooks.
type FollowOptions struct {
	// Gap, when not nil, is called first when the events just after the
	// cursor have expired, with the first sequence still stored.
	Gap func(first uint64)
	// Large, when not nil, is called before an event larger than
	// LargeRelayEvent (or kept in the object store) is read whole and
	// passed to fn, and the function it returns after fn is done with
	// it: a gate that bounds how many large events are being encoded at
	// once. Its error ends FollowRelay.
	Large func(ctx context.Context) (leave func(), err error)
}

// FollowRelay calls fn with every event of endpoint stored after the
// cursor c (or, for a cursor with Since, at or after that time), in stored
// order and as they are stored, until ctx ends or fn returns an error,
// which it returns; on ctx's end it returns ctx's cause. Records are whole
// (a large event's body is read from the object store) and fn must not
// keep them past its return.
func (s *Store) FollowRelay(ctx context.Context, endpoint string, c RelayCursor, o FollowOptions, fn func(Record) error) error {
	_, events, err := s.relayBucket()
	if err != nil {
		return err
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{EventsSubject + "." + endpoint + ".>"}}
	if c.Acked == 0 && !c.Since.IsZero() {
		cfg.DeliverPolicy = jetstream.DeliverByStartTimePolicy
		t := c.Since
		cfg.OptStartTime = &t
	} else {
		cfg.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
		cfg.OptStartSeq = c.Acked + 1
		info, err := events.Info(ctx)
		if err != nil {
			return fmt.Errorf("store: stream info: %w", err)
		}
		if first := info.State.FirstSeq; o.Gap != nil && c.Acked+1 < first && c.Acked < info.State.LastSeq {
			o.Gap(first)
		}
	}
	cons, err := events.OrderedConsumer(ctx, cfg)
	if err != nil {
		return fmt.Errorf("store: relay consumer: %w", err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(relayPrefetch), jetstream.PullExpiry(pullExpiry), jetstream.PullHeartbeat(pullHeartbeat))
	if err != nil {
		return fmt.Errorf("store: relay consumer: %w", err)
	}
	defer it.Stop()
	for {
		m, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return fmt.Errorf("store: relay consumer: %w", err)
		}
		md, err := m.Metadata()
		if err != nil {
			return fmt.Errorf("store: relay consumer: %w", err)
		}
		leave := func() {}
		if o.Large != nil && (m.Headers().Get(ObjectHeader) != "" || len(m.Data()) > LargeRelayEvent) {
			if leave, err = o.Large(ctx); err != nil {
				return err
			}
		}
		data, err := s.Resolve(ctx, m.Headers(), m.Data())
		if err == nil {
			err = fn(Record{Seq: md.Sequence.Stream, Subject: m.Subject(), Stored: md.Timestamp, Data: data})
		}
		leave()
		if err != nil {
			return err
		}
	}
}
