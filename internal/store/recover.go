package store

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// RecoverBucket is the KV bucket of recovery's shared state: the last seen
// head of each polled ref and the GitLab test events being waited for.
const RecoverBucket = "forgehook_recover"

// HasKey reports whether a delivery with dedup key key was stored for
// endpoint within the dedup window: what Append would answer as a
// duplicate. Recovery uses it to skip what forgehook already has.
func (s *Store) HasKey(ctx context.Context, endpoint, key string) (bool, error) {
	if key == "" {
		return false, nil
	}
	h, err := s.handles()
	if err != nil {
		return false, err
	}
	_, found, err := s.find(ctx, h, s.dedup, dedupKey(endpoint, key), jetstream.MsgIDHeader)
	if err != nil {
		return false, fmt.Errorf("store: dedup lookup: %w", err)
	}
	return found, nil
}

// RecoverState is recovery's shared state in the RecoverBucket, created
// at its first use. Its zero value is not usable: get it from
// Store.RecoverState.
type RecoverState struct {
	s  *Store
	mu sync.Mutex
	kv jetstream.KeyValue // guarded by mu; nil until made
}

// RecoverState returns recovery's shared state.
func (s *Store) RecoverState() *RecoverState { return &RecoverState{s: s} }

func (r *RecoverState) bucket(ctx context.Context) (jetstream.KeyValue, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.kv != nil {
		return r.kv, nil
	}
	kv, err := r.s.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: RecoverBucket, Description: "forgehook recovery state (polled heads, expected test events)",
		History: 1, Storage: jetstream.FileStorage, Replicas: r.s.opts.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("store: bucket %s: %w", RecoverBucket, err)
	}
	r.kv = kv
	return kv, nil
}

// Get returns the value of key, and false when it has none. key must be a
// valid KV key (letters, digits, "-", "_", "=", ".").
func (r *RecoverState) Get(ctx context.Context, key string) (string, bool, error) {
	kv, err := r.bucket(ctx)
	if err != nil {
		return "", false, err
	}
	e, err := kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("store: %s get %s: %w", RecoverBucket, key, err)
	}
	return string(e.Value()), true, nil
}

// Put sets key to value.
func (r *RecoverState) Put(ctx context.Context, key, value string) error {
	kv, err := r.bucket(ctx)
	if err != nil {
		return err
	}
	if _, err := kv.PutString(ctx, key, value); err != nil {
		return fmt.Errorf("store: %s put %s: %w", RecoverBucket, key, err)
	}
	return nil
}

// Delete removes key (no error when it has no value).
func (r *RecoverState) Delete(ctx context.Context, key string) error {
	kv, err := r.bucket(ctx)
	if err != nil {
		return err
	}
	if err := kv.Delete(ctx, key); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("store: %s delete %s: %w", RecoverBucket, key, err)
	}
	return nil
}
