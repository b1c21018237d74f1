package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Large events. A record larger than what the server accepts in one message
// is kept whole in the object store bucket forgehook_bodies, and the message
// in EVENTS carries the record with data.body set to null, a
// data.bodyref naming the object, and the header Forgehook-Object. Readers
// in forgehook (the API, the triggers) see the whole record either way.
const (
	ObjectBucket = "forgehook_bodies"
	ObjectHeader = "Forgehook-Object"
	// messageHeadroom is kept free under the server's max payload for
	// the message's headers.
	messageHeadroom = 8 << 10
)

func (s *Store) objects(ctx context.Context) (jetstream.ObjectStore, error) {
	s.mu.RLock()
	obj := s.obj
	s.mu.RUnlock()
	if obj != nil {
		return obj, nil
	}
	obj, err := s.js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      ObjectBucket,
		Description: "forgehook events too large for one message",
		TTL:         s.opts.Retention,
		Storage:     jetstream.FileStorage,
		Replicas:    s.opts.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("store: object bucket: %w", err)
	}
	s.mu.Lock()
	s.obj = obj
	s.mu.Unlock()
	return obj, nil
}

// tooLarge reports whether data must go to the object store.
func (s *Store) tooLarge(data []byte) bool {
	return int64(len(data)) > s.nc.MaxPayload()-messageHeadroom
}

// offload stores data in the object store under name and returns the stub
// record to publish in its place.
func (s *Store) offload(ctx context.Context, name string, data []byte) ([]byte, error) {
	obj, err := s.objects(ctx)
	if err != nil {
		return nil, err
	}
	chunk := uint32(min(128<<10, s.nc.MaxPayload()-messageHeadroom))
	meta := jetstream.ObjectMeta{Name: name, Opts: &jetstream.ObjectMetaOptions{ChunkSize: chunk}}
	if _, err := obj.Put(ctx, meta, bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("store: put large event: %w", err)
	}
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("store: large event: %w", err)
	}
	var d map[string]json.RawMessage
	if err := json.Unmarshal(rec["data"], &d); err != nil {
		return nil, fmt.Errorf("store: large event data: %w", err)
	}
	d["body"] = json.RawMessage("null")
	ref, _ := json.Marshal(ObjectBucket + "/" + name)
	d["bodyref"] = ref
	if rec["data"], err = json.Marshal(d); err != nil {
		return nil, err
	}
	return json.Marshal(rec)
}

// Resolve returns the whole record of a message from EVENTS (or REPLAY,
// DEAD): data itself, or the object its Forgehook-Object header names.
func (s *Store) Resolve(ctx context.Context, h nats.Header, data []byte) ([]byte, error) {
	name := h.Get(ObjectHeader)
	if name == "" {
		return data, nil
	}
	obj, err := s.objects(ctx)
	if err != nil {
		return nil, err
	}
	b, err := obj.GetBytes(ctx, name)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, fmt.Errorf("store: large event %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: get large event %s: %w", name, err)
	}
	return b, nil
}

func (s *Store) record(ctx context.Context, m *jetstream.RawStreamMsg) (Record, error) {
	data, err := s.Resolve(ctx, m.Header, m.Data)
	if err != nil {
		return Record{}, err
	}
	return Record{Seq: m.Sequence, Subject: m.Subject, Stored: m.Time, Data: data}, nil
}
