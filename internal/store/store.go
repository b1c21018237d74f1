// Package store is forgehook's durable log: NATS JetStream, either an
// in-process server with file storage in the data directory (the default)
// or an external NATS cluster reached through the same code path. It owns
// the streams and buckets whose names are part of the public contract
// (docs/events.md lists them, and TestStoreContractMatchesDocs holds the
// list to what a real store creates): the EVENTS, ATTEMPTS, DEAD and REPLAY
// streams, the forgehook_endpoints KV bucket and the forgehook_bodies object
// store.
//
// Lookups by delivery key (dedup), by event id and of attempts go through
// hash tables on disk in the data directory (package seqindex), fed by a
// headers-only tail of the streams so that every replica sees what the
// others stored. The embedded server's data directory is locked for one
// process; its write failures, damage and size limits are watched (see
// health.go and limits.go).
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/forgehook/forgehook/internal/redact"
	"github.com/forgehook/forgehook/internal/store/seqindex"
)

// Names of the streams and buckets. They are part of the public contract.
const (
	EventsStream    = "EVENTS"
	EventsSubject   = "forgehook.event"
	EndpointsBucket = "forgehook_endpoints"

	// EventIDHeader carries the event id on every message in EVENTS.
	EventIDHeader = "Forgehook-Event-Id"
)

// ErrNotReady means the store is not connected or its streams are not yet
// in place; ingest answers 503.
var ErrNotReady = errors.New("store not ready")

// ErrNotFound means no stored event has the requested id.
var ErrNotFound = errors.New("event not found")

// Options configures Open.
type Options struct {
	// URL is empty for the embedded server, else a comma-separated list of
	// nats:// URLs.
	URL string
	// Credentials is a NATS credentials file; Token a NATS auth token.
	Credentials string
	Token       string
	// DataDir holds the embedded server's files (DataDir/jetstream).
	DataDir string
	// Listen, for the embedded server, is "" (in-process only) or host:port.
	Listen string
	// Replicas of every stream.
	Replicas int
	// Retention is how long events are kept.
	Retention time.Duration
	// DedupWindow is how long a delivery key is remembered.
	DedupWindow time.Duration
	// AckTimeout is ingest's bound on an Append (store.ack_timeout):
	// Append sends again within it (retry.go), and EVENTS's own
	// duplicate window is at least twice it.
	AckTimeout time.Duration
	// SyncAlways makes the embedded server fsync every write.
	SyncAlways bool
	// MaxPayload is the largest event the embedded server accepts.
	MaxPayload int32
	// MaxBytes caps the EVENTS stream's size; past it the oldest events
	// are dropped. 0: the smaller of 10 GiB and half of the data
	// directory's file system (10 GiB for an external server).
	MaxBytes int64
	// Logger receives the store's log lines.
	Logger *slog.Logger
}

// Store is an open connection to the log. Its methods are safe for
// concurrent use.
type Store struct {
	opts Options
	log  *slog.Logger
	ns   *server.Server // nil for an external server
	nc   *nats.Conn
	js   jetstream.JetStream

	mu        sync.RWMutex // guards the handles below, set once ready
	events    jetstream.Stream
	endpoints jetstream.KeyValue
	obj       jetstream.ObjectStore // created on first use
	hooks     jetstream.KeyValue    // forgehook_hooks, created on first use (hooks.go)

	lock      *dirLock               // the data directory's, embedded server only
	jsConfig  server.JetStreamConfig // the embedded JetStream's, to restart it
	health    writeHealth            // whether writes fail now
	drops     dropCounter            // events dropped by MaxBytes
	dropsMine atomic.Bool            // this replica counts the drops (lease.go)
	// legitFirst is EVENTS's first sequence as the limits left it, read
	// at the start: the events before it are not lost.
	legitFirst uint64
	lossMu     sync.Mutex      // guards loss
	loss       Loss            // what the start found missing
	dedup      *seqindex.Index // delivery key -> sequence, for the dedup window
	ids        *seqindex.Index // event id -> sequence, for the retention
	attempts   *seqindex.Index // trigger + event id -> ATTEMPTS sequences
	catchUps   catchUps        // indexes catching up with the streams (catchup.go)

	ctx    context.Context // the store's own lifetime, cancelled by Close
	cancel context.CancelFunc
	done   chan struct{}
	wg     sync.WaitGroup
}

// Open starts the embedded server (when opts.URL is empty) or connects to
// the external one, and creates or updates the streams and buckets. For an
// external server that is not reachable yet, Open returns a Store that keeps
// trying in the background and reports ErrNotReady until it succeeds; ctx
// bounds only the embedded server's start.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.DataDir == "" {
		return nil, errors.New("store: a data directory is required (it holds the indexes, and the embedded server's files)")
	}
	if opts.Replicas < 1 {
		opts.Replicas = 1
	}
	if opts.Retention <= 0 {
		opts.Retention = 7 * 24 * time.Hour
	}
	if opts.DedupWindow <= 0 {
		opts.DedupWindow = 72 * time.Hour
	}
	if opts.MaxPayload <= 0 {
		opts.MaxPayload = 32 << 20
	}
	s := &Store{opts: opts, log: opts.Logger, done: make(chan struct{})}
	s.health.kick = make(chan struct{}, 1)
	s.health.restarted = make(chan struct{}, 1)
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	if opts.URL == "" {
		l, err := lockDir(opts.DataDir)
		if err != nil {
			return nil, err
		}
		s.lock = l
	}
	if err := s.openIndexes(); err != nil {
		s.lock.release()
		return nil, err
	}
	s.opts.MaxBytes = s.eventsMaxBytes()
	var err error
	if opts.URL == "" {
		err = s.startEmbedded(ctx)
	} else {
		err = s.connectExternal()
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	if s.nc.IsConnected() {
		s.checkLoss(ctx)
	}
	ectx, ecancel := context.WithTimeout(ctx, 5*time.Second)
	err = s.ensure(ectx)
	ecancel()
	if err != nil {
		if s.ns != nil && !isStorageError(err.Error()) {
			s.Close()
			return nil, err
		}
		if s.ns != nil {
			// A full disk at start: serve, not ready, and recover once
			// space is back (the health loop and the retries below).
			s.noteWriteError(time.Now(), err.Error(), true)
		}
		s.log.Warn("store: streams not ready, retrying in the background", "err", err)
		s.wg.Add(1)
		go s.ensureLoop()
	}
	if s.ns != nil && err == nil {
		s.awaitCaughtUp(ctx, 10*time.Second)
		s.dropStaleLeases(ctx)
	}
	s.wg.Add(1)
	go s.healthLoop()
	if s.ns != nil && err == nil {
		s.wg.Add(1)
		go s.verifyLoop()
	}
	s.wg.Add(1)
	go s.dropLoop()
	if s.ns == nil {
		s.wg.Add(1)
		go s.countDropsOnce()
	}
	return s, nil
}

func (s *Store) startEmbedded(ctx context.Context) error {
	dir := filepath.Join(s.opts.DataDir, "jetstream")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("store: data dir: %w", err)
	}
	o := &server.Options{
		ServerName: "forgehook",
		JetStream:  true,
		StoreDir:   dir,
		NoSigs:     true,
		MaxPayload: s.opts.MaxPayload,
		SyncAlways: s.opts.SyncAlways,
		// An explicit reservation, not JetStream's default of 75% of
		// the disk's free space at start, which a restart on a fuller
		// disk makes smaller than what the streams already hold.
		JetStreamMaxStore: s.maxStore(),
	}
	if s.opts.Listen == "" {
		o.DontListen = true
	} else {
		host, port, err := net.SplitHostPort(s.opts.Listen)
		if err != nil {
			return fmt.Errorf("store: embedded listen %q: %w", s.opts.Listen, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return fmt.Errorf("store: embedded listen %q: bad port", s.opts.Listen)
		}
		o.Host, o.Port = host, p
	}
	ns, err := server.NewServer(o)
	if err != nil {
		return fmt.Errorf("store: embedded server: %w", err)
	}
	// The server's warnings and errors (a damaged block file, a write
	// error) go to forgehook's log.
	ns.SetLoggerV2(natsLogger{log: s.log.With("component", "nats"), s: s}, false, false, false)
	s.jsConfig = server.JetStreamConfig{StoreDir: dir, MaxStore: o.JetStreamMaxStore, SyncAlways: o.SyncAlways}
	go ns.Start()
	deadline := 30 * time.Second
	if d, ok := ctx.Deadline(); ok {
		deadline = time.Until(d)
	}
	if !ns.ReadyForConnections(deadline) {
		ns.Shutdown()
		return errors.New("store: embedded server did not start in time")
	}
	s.ns = ns
	nc, err := nats.Connect("", nats.InProcessServer(ns), nats.Name("forgehook"), nats.MaxReconnects(-1))
	if err != nil {
		return fmt.Errorf("store: connect to embedded server: %w", err)
	}
	s.nc = nc
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("store: jetstream: %w", err)
	}
	s.js = js
	return nil
}

func (s *Store) connectExternal() error {
	opts := []nats.Option{
		nats.Name("forgehook"),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.ReconnectWait(250 * time.Millisecond),
		// No reconnect buffer: while disconnected a publish fails at
		// once (503) instead of being sent later, after the sender was
		// told it failed.
		nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			s.log.Warn("store: disconnected", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			s.log.Info("store: reconnected", "server", nc.ConnectedUrlRedacted())
		}),
	}
	if s.opts.Credentials != "" {
		opts = append(opts, nats.UserCredentials(s.opts.Credentials))
	}
	if s.opts.Token != "" {
		opts = append(opts, nats.Token(s.opts.Token))
	}
	nc, err := nats.Connect(s.opts.URL, opts...)
	if err != nil {
		return fmt.Errorf("store: connect %s: %w", redact.URLs(s.opts.URL), err)
	}
	s.nc = nc
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("store: jetstream: %w", err)
	}
	s.js = js
	return nil
}

func (s *Store) ensureLoop() {
	defer s.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
		err := s.ensure(ctx)
		cancel()
		if err == nil {
			s.log.Info("store: streams ready")
			if !s.WriteStatus().Failing { // else the recovery signals
				select {
				case s.health.restarted <- struct{}{}: // the triggers can start now
				default:
				}
			}
			return
		}
	}
}

// dupWindow is JetStream's own Nats-Msg-Id window. It only has to cover
// the moment between the dedup index lookup and the index update (by
// Append, or by the tail for events another replica stored), so it is kept
// short: the server holds about 160 bytes of memory per message inside it.
const dupWindow = 5 * time.Second

func (s *Store) ensure(ctx context.Context) error {
	st, err := s.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        EventsStream,
		Description: "forgehook events (CloudEvents JSON)",
		Subjects:    []string{EventsSubject + ".>"},
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      s.opts.Retention,
		MaxBytes:    s.opts.MaxBytes,
		Storage:     jetstream.FileStorage,
		Replicas:    s.opts.Replicas,
		Duplicates:  dupWindowFor(s.opts.AckTimeout, s.opts.DedupWindow),
		Discard:     jetstream.DiscardOld,
	})
	if err != nil {
		return fmt.Errorf("store: stream %s: %w", EventsStream, err)
	}
	eps, err := s.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      EndpointsBucket,
		Description: "forgehook endpoint status",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    s.opts.Replicas,
	})
	if err != nil {
		return fmt.Errorf("store: bucket %s: %w", EndpointsBucket, err)
	}
	ast, err := s.ensureDelivery(ctx)
	if err != nil {
		return err
	}
	if err := s.ensureLeases(ctx); err != nil {
		return err
	}
	if err := s.startTail(st, ast); err != nil {
		return err
	}
	s.mu.Lock()
	s.events, s.endpoints = st, eps
	s.mu.Unlock()
	return nil
}

type handles struct {
	events    jetstream.Stream
	endpoints jetstream.KeyValue
}

func (s *Store) handles() (handles, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.events == nil {
		return handles{}, ErrNotReady
	}
	return handles{s.events, s.endpoints}, nil
}

// Ready reports nil when the store is connected and its streams exist.
func (s *Store) Ready(ctx context.Context) error {
	h, err := s.handles()
	if err != nil {
		return err
	}
	if !s.nc.IsConnected() {
		return fmt.Errorf("%w: not connected", ErrNotReady)
	}
	if ws := s.WriteStatus(); ws.Failing {
		return fmt.Errorf("%w since %s: %s", ErrWriteFailing, ws.Since.UTC().Format(time.RFC3339), ws.Reason)
	}
	if _, err := h.events.Info(ctx); err != nil {
		return fmt.Errorf("%w: %v", ErrNotReady, err)
	}
	return nil
}

// Conn returns the NATS connection, for components that share it (the
// delivery consumers, the nats action).
func (s *Store) Conn() *nats.Conn { return s.nc }

// JetStream returns the JetStream context.
func (s *Store) JetStream() jetstream.JetStream { return s.js }

// Close drains the connection and stops the embedded server. It is safe to
// call more than once.
func (s *Store) Close() error {
	select {
	case <-s.done:
		return nil
	default:
		close(s.done)
	}
	s.cancel()
	s.wg.Wait()
	if s.nc != nil {
		_ = s.nc.Drain()
		s.nc.Close()
	}
	if s.ns != nil {
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
	}
	if s.dedup != nil {
		_ = s.dedup.Close()
	}
	if s.ids != nil {
		_ = s.ids.Close()
	}
	if s.attempts != nil {
		_ = s.attempts.Close()
	}
	s.lock.release()
	return nil
}
