package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"regexp"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// LeasesBucket is the KV bucket that holds the leases of singleton work
// (RunSingleton): one key per job, whose value names the holder. Its name is
// part of the public contract.
const LeasesBucket = "forgehook_leases"

// leaseMarkerTTL is how long the bucket keeps the marker the server
// leaves when a lease expires: a taker that finds it knows that the last
// holder stopped renewing rather than released (LeaseOptions.Grace).
const leaseMarkerTTL = 5 * time.Minute

// LeaseOptions configures RunLeased.
type LeaseOptions struct {
	// TTL is how long the lease outlives its holder's last renewal: the
	// longest time, after a holder dies, before another replica takes
	// over. The holder renews every TTL/4, and gives the job up (cancels
	// its ctx) once TTL*3/4 passed without a renewal, before the lease can
	// expire on the server. At least 2 s (1 s is the server's resolution);
	// 0 means 10 s.
	TTL time.Duration
	// Grace, when the lease was taken after it expired (its last holder
	// died or lost the store without releasing it), delays the job by
	// this long after the takeover, while the lease is held and renewed:
	// what the dead holder left in flight settles first (a JetStream
	// consumer's unacknowledged messages come back after its AckWait). A
	// lease that was released, or never held, runs the job at once.
	Grace time.Duration
	// OnChange, when set, is called with true when this call starts to
	// hold the lease and with false when it stops (for logs and tests).
	OnChange func(held bool)
}

// RunSingleton runs job on one forgehook replica at a time, cluster-wide:
// only while this call holds the lease called name in the store (the
// forgehook_leases KV bucket). It is RunLeased with LeaseOptions{TTL: ttl}.
//
// The contract, for every user of singleton work (retention sweeps, the
// ownership of serialized triggers, hook drift checks and recovery):
//   - RunSingleton blocks until ctx ends; run it on a goroutine you wait
//     for. It returns after job has returned and the lease was released.
//   - job runs with a ctx that ends when the lease is lost (not renewed
//     within TTL*3/4: the store is unreachable, or another replica took
//     it) or when ctx ends. job must return promptly once its ctx ends,
//     and must not act after that: another replica may hold the lease.
//   - When job returns while the lease is still held, the lease is
//     released and job runs again the next time this replica takes it
//     (possibly at once): a periodic job should loop inside job.
//   - When the holder dies, another replica takes over within ttl (plus
//     its poll, at most 1 s). On a graceful stop (ctx ends) the lease is
//     released at once and another replica takes over within 1 s.
//   - name may be any string; each distinct name is one lease.
//
// With the embedded store (a single node) the lease is held as well: the
// code path is the same, and there is never a contender.
func (s *Store) RunSingleton(ctx context.Context, name string, ttl time.Duration, job func(ctx context.Context)) {
	s.RunLeased(ctx, name, LeaseOptions{TTL: ttl}, job)
}

// holderID names one RunLeased call: the host and process (for an
// operator reading the bucket), and a random part unique to the call.
func holderID() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), rand.Text()[:10])
}

// leaseKeyOK is what a KV key may hold.
var leaseKeyOK = regexp.MustCompile(`^[-_=a-zA-Z0-9]+(\.[-_=a-zA-Z0-9]+)*$`)

// leaseKey maps a lease name to its key in the bucket.
func leaseKey(name string) string {
	if leaseKeyOK.MatchString(name) && len(name) <= 200 {
		return name
	}
	return "h." + hashKey(name)
}

// lease is one RunLeased call's hold on its key.
type lease struct {
	s       *Store
	subject string
	holder  string // unique to this call: a reload's new runner waits for the old one
	ttl     time.Duration
	rev     uint64    // the key's last sequence, when held
	renewed time.Time // when the last successful write started
}

// RunLeased is RunSingleton with every option; see RunSingleton for the
// contract.
func (s *Store) RunLeased(ctx context.Context, name string, o LeaseOptions, job func(ctx context.Context)) {
	if o.TTL == 0 {
		o.TTL = 10 * time.Second
	}
	o.TTL = max(o.TTL, 2*time.Second)
	l := &lease{s: s, subject: "$KV." + LeasesBucket + "." + leaseKey(name), holder: holderID(), ttl: o.TTL}
	log := s.log.With("lease", name)
	poll := min(o.TTL/4, time.Second)
	var (
		held    bool
		start   time.Time // when job may start (after Grace)
		jobStop context.CancelFunc
		jobDone chan struct{}
		lastWhy string
		setHeld = func(h bool) {
			if h != held && o.OnChange != nil {
				o.OnChange(h)
			}
			held = h
		}
	)
	stopJob := func() {
		if jobStop != nil {
			jobStop()
			<-jobDone
			jobStop, jobDone = nil, nil
		}
	}
	defer func() {
		stopJob()
		if held {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			if err := l.release(rctx); err != nil {
				log.Debug("store: lease not released; it expires by itself", "err", err)
			}
			cancel()
			setHeld(false)
		}
	}()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.done:
			return
		case <-t.C:
		}
		if jobDone != nil {
			select {
			case <-jobDone:
				// The job ended by itself: give the lease back.
				jobStop, jobDone = nil, nil
				rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				_ = l.release(rctx)
				cancel()
				setHeld(false)
				t.Reset(poll)
				continue
			default:
			}
		}
		if !held {
			actx, cancel := context.WithTimeout(ctx, poll+time.Second)
			expired, err := l.acquire(actx)
			cancel()
			if err != nil {
				if why := err.Error(); why != lastWhy && !errors.Is(err, errLeaseHeld) {
					log.Debug("store: lease not taken", "err", err)
					lastWhy = why
				}
				t.Reset(poll)
				continue
			}
			lastWhy = ""
			setHeld(true)
			start = time.Now()
			if expired {
				start = start.Add(o.Grace)
				log.Info("store: lease taken over from a holder that stopped renewing it", "grace", o.Grace)
			}
		} else {
			rctx, cancel := context.WithTimeout(ctx, o.TTL/4)
			err := l.renew(rctx)
			cancel()
			if err != nil {
				lost := errors.Is(err, errLeaseHeld) || time.Since(l.renewed) > o.TTL*3/4
				if lost {
					log.Warn("store: lease lost: its work stops here", "err", err)
					stopJob()
					setHeld(false)
					t.Reset(poll)
					continue
				}
			}
		}
		if jobDone == nil && !time.Now().Before(start) {
			jctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			jobStop, jobDone = cancel, done
			go func() {
				defer close(done)
				job(jctx)
			}()
		}
		next := o.TTL / 4
		if d := time.Until(start); jobDone == nil && d > 0 && d < next {
			next = d
		}
		t.Reset(next)
	}
}

// errLeaseHeld means another holder has the lease.
var errLeaseHeld = errors.New("lease held by another replica")

// ensureLeases creates or updates the leases bucket.
func (s *Store) ensureLeases(ctx context.Context) error {
	if _, err := s.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:         LeasesBucket,
		Description:    "forgehook leases of singleton work",
		History:        1,
		Storage:        jetstream.FileStorage,
		Replicas:       s.opts.Replicas,
		LimitMarkerTTL: leaseMarkerTTL,
	}); err != nil {
		return fmt.Errorf("store: bucket %s: %w", LeasesBucket, err)
	}
	return nil
}

// dropStaleLeases empties the leases bucket of the embedded store at its
// start: the data directory's lock makes this process the store's only
// user, so every lease in it is a dead process's, and waiting out its TTL
// (and a grace) would only delay the work.
func (s *Store) dropStaleLeases(ctx context.Context) {
	st, err := s.js.Stream(ctx, "KV_"+LeasesBucket)
	if err == nil {
		err = st.Purge(ctx)
	}
	if err != nil {
		s.log.Warn("store: stale leases not dropped; they expire by themselves", "err", err)
	}
}

// bucket returns the leases' stream, creating the bucket when needed.
func (l *lease) bucket(ctx context.Context) (jetstream.Stream, error) {
	st, err := l.s.js.Stream(ctx, "KV_"+LeasesBucket)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		if err := l.s.ensureLeases(ctx); err != nil {
			return nil, err
		}
		st, err = l.s.js.Stream(ctx, "KV_"+LeasesBucket)
	}
	if err != nil {
		return nil, fmt.Errorf("store: bucket %s: %w", LeasesBucket, err)
	}
	return st, nil
}

// acquire takes the lease when nobody holds it. expired reports that the
// last holder let it expire instead of releasing it.
func (l *lease) acquire(ctx context.Context) (expired bool, err error) {
	st, err := l.bucket(ctx)
	if err != nil {
		return false, err
	}
	var last uint64
	m, err := st.GetLastMsgForSubject(ctx, l.subject)
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound):
	case err != nil:
		return false, fmt.Errorf("store: lease: %w", err)
	default:
		last = m.Sequence
		op := m.Header.Get("KV-Operation")
		reason := m.Header.Get("Nats-Marker-Reason")
		if op == "" && reason == "" && len(m.Data) > 0 {
			return false, errLeaseHeld
		}
		expired = reason != ""
	}
	if err := l.write(ctx, last); err != nil {
		return false, err
	}
	return expired, nil
}

// renew writes the lease again, which restarts its TTL. A renewal whose
// acknowledgement was lost leaves l.rev behind the key: the key still
// holding this holder's value is renewed from its sequence.
func (l *lease) renew(ctx context.Context) error {
	err := l.write(ctx, l.rev)
	if !errors.Is(err, errLeaseHeld) {
		return err
	}
	st, serr := l.bucket(ctx)
	if serr != nil {
		return err
	}
	m, gerr := st.GetLastMsgForSubject(ctx, l.subject)
	if gerr != nil || m.Header.Get("KV-Operation") != "" || m.Header.Get("Nats-Marker-Reason") != "" || string(m.Data) != l.holder {
		return err
	}
	return l.write(ctx, m.Sequence)
}

// write puts the holder's value on the key if its last sequence is still
// last: compare and set.
func (l *lease) write(ctx context.Context, last uint64) error {
	t0 := time.Now()
	m := nats.NewMsg(l.subject)
	m.Data = []byte(l.holder)
	ack, err := l.s.js.PublishMsg(ctx, m, jetstream.WithExpectLastSequencePerSubject(last), jetstream.WithMsgTTL(l.ttl))
	if err != nil {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
			return errLeaseHeld
		}
		return fmt.Errorf("store: lease: %w", err)
	}
	l.rev, l.renewed = ack.Sequence, t0
	return nil
}

// release deletes the lease if this call still holds it.
func (l *lease) release(ctx context.Context) error {
	m := nats.NewMsg(l.subject)
	m.Header.Set("KV-Operation", "DEL")
	if _, err := l.s.js.PublishMsg(ctx, m, jetstream.WithExpectLastSequencePerSubject(l.rev)); err != nil {
		return fmt.Errorf("store: lease release: %w", err)
	}
	return nil
}

// Clustered reports whether the store is an external NATS server or
// cluster, which several forgehook replicas may share.
func (s *Store) Clustered() bool { return s.ns == nil }

// countDropsOnce makes one replica of a cluster count and report the
// events that store.max_bytes dropped (DroppedEvents, the warning), the
// one holding the lease "store.drops": every replica sees the same drops,
// and a sum over the replicas' metric counts each once.
func (s *Store) countDropsOnce() {
	defer s.wg.Done()
	s.RunSingleton(s.ctx, "store.drops", 10*time.Second, func(ctx context.Context) {
		s.dropsMine.Store(true)
		<-ctx.Done()
		s.dropsMine.Store(false)
	})
}
