package store

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Ownership records of forgehook's own hooks on the forges (docs/hooks.md).
// They live in the KV bucket forgehook_hooks, replicated with the rest of
// the store, one record per (endpoint, target) under
// "hook.<endpoint>.<kind>.<base64url(target name)>", beside one
// per-installation key ("fingerprint-key") that keys the fingerprints of
// the secrets applied. The bucket is created on first use: a listen-only
// installation never has it.
const (
	HooksBucket = "forgehook_hooks"
	// hookKeyPrefix starts every record's key.
	hookKeyPrefix = "hook."
	// fingerprintKey is the key of the per-installation fingerprint key.
	fingerprintKey = "fingerprint-key"
)

// HookRecord says that forgehook owns one hook on a forge: it created it,
// or the operator adopted it. Nothing in it is a secret: the secret applied
// is kept only as a keyed fingerprint.
type HookRecord struct {
	// Endpoint is the forgehook endpoint the hook delivers to.
	Endpoint string `json:"endpoint"`
	// Forge is the provider id (gitea, github, ...).
	Forge string `json:"forge"`
	// APIURL is the forge API base the hook was made through.
	APIURL string `json:"api_url"`
	// TargetKind and TargetName name the repository, organization, ...
	TargetKind string `json:"target_kind"`
	TargetName string `json:"target_name"`
	// HookID is the forge's id of the hook.
	HookID string `json:"hook_id"`
	// URL is the URL registered, with an endpoint key shown as "<key>".
	URL string `json:"url"`
	// URLFingerprint is the keyed fingerprint of the URL registered (which
	// may hold the endpoint key).
	URLFingerprint string `json:"url_fingerprint"`
	// Events are the forge's event names applied.
	Events []string `json:"events"`
	// Active is the active flag applied.
	Active bool `json:"active"`
	// SecretFingerprint is the keyed fingerprint (FingerprintSecret) of the
	// secret applied; "" when none was.
	SecretFingerprint string `json:"secret_fingerprint,omitempty"`
	// PreviousSecretFingerprint is the fingerprint of the secret applied
	// before the last rotation, and GraceUntil the end of the grace during
	// which it is still to be accepted (zero: no rotation pending).
	PreviousSecretFingerprint string    `json:"previous_secret_fingerprint,omitempty"`
	GraceUntil                time.Time `json:"grace_until,omitzero"`
	// Adopted is true when the hook was made by someone else and adopted.
	Adopted bool `json:"adopted,omitempty"`
	// CreatedAt is when the record was first written; AppliedAt when the
	// hook was last created, changed or adopted through forgehook.
	CreatedAt time.Time `json:"created_at"`
	AppliedAt time.Time `json:"applied_at"`
}

// hookKey returns the KV key of the record of (endpoint, kind, name).
func hookKey(endpoint, kind, name string) string {
	return hookKeyPrefix + endpoint + "." + kind + "." + base64.RawURLEncoding.EncodeToString([]byte(name))
}

// validHookKeyPart reports whether s can be a token of a record's key.
func validHookKeyPart(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// hooksKV returns the forgehook_hooks bucket, creating it on first use.
func (s *Store) hooksKV(ctx context.Context) (jetstream.KeyValue, error) {
	if _, err := s.handles(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	kv := s.hooks
	s.mu.RUnlock()
	if kv != nil {
		return kv, nil
	}
	kv, err := s.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      HooksBucket,
		Description: "forgehook's ownership records of its hooks on the forges",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    s.opts.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("store: bucket %s: %w", HooksBucket, err)
	}
	s.mu.Lock()
	s.hooks = kv
	s.mu.Unlock()
	return kv, nil
}

// HookRecords returns every ownership record, sorted by endpoint, target
// kind and name.
func (s *Store) HookRecords(ctx context.Context) ([]HookRecord, error) {
	kv, err := s.hooksKV(ctx)
	if err != nil {
		return nil, err
	}
	lister, err := kv.ListKeysFiltered(ctx, hookKeyPrefix+">")
	if err != nil {
		return nil, fmt.Errorf("store: list hook records: %w", err)
	}
	var keys []string
	for k := range lister.Keys() {
		keys = append(keys, k)
	}
	var out []HookRecord
	for _, k := range keys {
		e, err := kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("store: hook record %s: %w", k, err)
		}
		var r HookRecord
		if err := json.Unmarshal(e.Value(), &r); err != nil {
			return nil, fmt.Errorf("store: hook record %s: %w", k, err)
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b HookRecord) int {
		return strings.Compare(a.Endpoint+"\x00"+a.TargetKind+"\x00"+a.TargetName, b.Endpoint+"\x00"+b.TargetKind+"\x00"+b.TargetName)
	})
	return out, nil
}

// HookRecord returns the record of (endpoint, kind, name) and whether there
// is one.
func (s *Store) HookRecord(ctx context.Context, endpoint, kind, name string) (HookRecord, bool, error) {
	if !validHookKeyPart(endpoint) || !validHookKeyPart(kind) || name == "" {
		return HookRecord{}, false, fmt.Errorf("store: hook record: bad endpoint %q or target %s:%s", endpoint, kind, name)
	}
	kv, err := s.hooksKV(ctx)
	if err != nil {
		return HookRecord{}, false, err
	}
	e, err := kv.Get(ctx, hookKey(endpoint, kind, name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return HookRecord{}, false, nil
	}
	if err != nil {
		return HookRecord{}, false, fmt.Errorf("store: hook record: %w", err)
	}
	var r HookRecord
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		return HookRecord{}, false, fmt.Errorf("store: hook record: %w", err)
	}
	return r, true, nil
}

// PutHookRecord writes r, replacing the record of its (endpoint, target).
func (s *Store) PutHookRecord(ctx context.Context, r HookRecord) error {
	if !validHookKeyPart(r.Endpoint) || !validHookKeyPart(r.TargetKind) || r.TargetName == "" || r.HookID == "" {
		return fmt.Errorf("store: hook record: needs an endpoint, a target and a hook id (got %q %s:%s %q)", r.Endpoint, r.TargetKind, r.TargetName, r.HookID)
	}
	kv, err := s.hooksKV(ctx)
	if err != nil {
		return err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("store: hook record: %w", err)
	}
	if _, err := kv.Put(ctx, hookKey(r.Endpoint, r.TargetKind, r.TargetName), b); err != nil {
		return fmt.Errorf("store: hook record %s %s:%s: %w", r.Endpoint, r.TargetKind, r.TargetName, err)
	}
	return nil
}

// DeleteHookRecord removes the record of (endpoint, kind, name); removing
// one that does not exist is not an error.
func (s *Store) DeleteHookRecord(ctx context.Context, endpoint, kind, name string) error {
	if !validHookKeyPart(endpoint) || !validHookKeyPart(kind) || name == "" {
		return fmt.Errorf("store: hook record: bad endpoint %q or target %s:%s", endpoint, kind, name)
	}
	kv, err := s.hooksKV(ctx)
	if err != nil {
		return err
	}
	if err := kv.Purge(ctx, hookKey(endpoint, kind, name)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("store: delete hook record %s %s:%s: %w", endpoint, kind, name, err)
	}
	return nil
}

// Fingerprinter returns a function that fingerprints secrets with the
// installation's key: HMAC-SHA256 keyed with 32 random bytes made on first
// use and kept in forgehook_hooks (so every replica computes the same
// fingerprints, and a stolen record cannot be tested against guesses
// without the store). The fingerprint is 32 hex digits; the secret itself
// is never stored.
func (s *Store) Fingerprinter(ctx context.Context) (func(secret string) string, error) {
	kv, err := s.hooksKV(ctx)
	if err != nil {
		return nil, err
	}
	key, err := s.fingerprintKey(ctx, kv)
	if err != nil {
		return nil, err
	}
	return func(secret string) string { return fingerprint(key, secret) }, nil
}

// fingerprint is HMAC-SHA256(key, secret), its first 16 bytes in hex.
func fingerprint(key []byte, secret string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(secret))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// fingerprintKey reads the installation's key, making it when absent; two
// replicas making it at once agree on the first one written.
func (s *Store) fingerprintKey(ctx context.Context, kv jetstream.KeyValue) ([]byte, error) {
	for range 3 {
		e, err := kv.Get(ctx, fingerprintKey)
		if err == nil {
			key, err := base64.StdEncoding.DecodeString(string(e.Value()))
			if err != nil || len(key) < 32 {
				return nil, fmt.Errorf("store: %s in %s is damaged", fingerprintKey, HooksBucket)
			}
			return key, nil
		}
		if !errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil, fmt.Errorf("store: fingerprint key: %w", err)
		}
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		if _, err := kv.Create(ctx, fingerprintKey, []byte(base64.StdEncoding.EncodeToString(key))); err == nil {
			return key, nil
		} else if !errors.Is(err, jetstream.ErrKeyExists) {
			return nil, fmt.Errorf("store: fingerprint key: %w", err)
		}
	}
	return nil, fmt.Errorf("store: fingerprint key: could not be read or made")
}
