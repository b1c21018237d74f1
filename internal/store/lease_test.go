package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// oneServer starts a single JetStream server on a free loopback port.
func oneServer(t *testing.T) string {
	t.Helper()
	o := &server.Options{Host: "127.0.0.1", Port: freePort(t), JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true}
	ns, err := server.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats did not start")
	}
	t.Cleanup(ns.Shutdown)
	return fmt.Sprintf("nats://127.0.0.1:%d", o.Port)
}

// singletonRun records which replica runs a singleton job, and whether
// two ever ran at once.
type singletonRun struct {
	mu      sync.Mutex
	running map[string]bool
	overlap atomic.Bool
	starts  []string
}

func (r *singletonRun) job(who string) func(ctx context.Context) {
	return func(ctx context.Context) {
		r.mu.Lock()
		if len(r.running) > 0 {
			r.overlap.Store(true)
		}
		r.running[who] = true
		r.starts = append(r.starts, who)
		r.mu.Unlock()
		<-ctx.Done()
		r.mu.Lock()
		delete(r.running, who)
		r.mu.Unlock()
	}
}

func (r *singletonRun) who() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for w := range r.running {
		return w
	}
	return ""
}

// TestStoreSingletonOneHolderAndTakeover runs one singleton on two stores
// sharing a server: exactly one runs it; when the holder loses the store
// (its connection closes, no release) it stops the job within the TTL and
// the other takes over after the TTL and the grace; a graceful stop hands
// the lease over at once.
func TestStoreSingletonOneHolderAndTakeover(t *testing.T) {
	url := oneServer(t)
	ctx := context.Background()
	open := func() *Store {
		s, err := Open(ctx, Options{URL: url, DataDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		checkFor(t, 10*time.Second, 50*time.Millisecond, func() error { return s.Ready(ctx) })
		return s
	}
	a, b := open(), open()
	run := &singletonRun{running: map[string]bool{}}
	const ttl = 2 * time.Second
	grace := 500 * time.Millisecond
	var wg sync.WaitGroup
	actx, acancel := context.WithCancel(ctx)
	bctx, bcancel := context.WithCancel(ctx)
	defer acancel()
	defer bcancel()
	var aLost atomic.Int64
	wg.Add(2)
	go func() {
		defer wg.Done()
		a.RunLeased(actx, "sweep.test", LeaseOptions{TTL: ttl, Grace: grace, OnChange: func(held bool) {
			if !held {
				aLost.Store(time.Now().UnixNano())
			}
		}}, run.job("a"))
	}()
	checkFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		if run.who() != "a" {
			return errors.New("a does not run the job")
		}
		return nil
	})
	go func() {
		defer wg.Done()
		b.RunLeased(bctx, "sweep.test", LeaseOptions{TTL: ttl, Grace: grace}, run.job("b"))
	}()
	// b waits while a holds and renews, for longer than the TTL.
	time.Sleep(2 * ttl)
	if w := run.who(); w != "a" {
		t.Fatalf("after 2 TTLs the job runs on %q, want a (renewals keep the lease)", w)
	}
	// a loses the store without releasing: it stops, then b takes over.
	cut := time.Now()
	a.nc.Close()
	checkFor(t, 3*ttl+grace, 20*time.Millisecond, func() error {
		if run.who() != "b" {
			return errors.New("b did not take over")
		}
		return nil
	})
	took := time.Since(cut)
	lostAt := time.Unix(0, aLost.Load())
	if aLost.Load() == 0 || lostAt.Sub(cut) > ttl {
		t.Errorf("a gave the lease up %v after losing the store, want within the TTL %v", lostAt.Sub(cut), ttl)
	}
	// The lease expires a TTL after a's last renewal (at most TTL/4
	// before the cut), and b waits the grace after an expiry.
	if took < ttl*3/4+grace {
		t.Errorf("b took over %v after a's loss, before the TTL %v and the grace %v ran out", took, ttl, grace)
	}
	if run.overlap.Load() {
		t.Fatal("two replicas ran the singleton job at once")
	}
	t.Logf("takeover after a dead holder: %v (ttl %v, grace %v)", took.Round(time.Millisecond), ttl, grace)
	acancel()

	// A graceful stop releases: a third replica takes over within a poll
	// and without the grace.
	c := open()
	cctx, ccancel := context.WithCancel(ctx)
	defer ccancel()
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.RunLeased(cctx, "sweep.test", LeaseOptions{TTL: ttl, Grace: 10 * time.Second}, run.job("c"))
	}()
	time.Sleep(ttl)
	if w := run.who(); w != "b" {
		t.Fatalf("job on %q while b holds the lease", w)
	}
	stop := time.Now()
	bcancel()
	checkFor(t, 3*time.Second, 20*time.Millisecond, func() error {
		if run.who() != "c" {
			return errors.New("c did not take over after b released")
		}
		return nil
	})
	t.Logf("takeover after a release: %v", time.Since(stop).Round(time.Millisecond))
	ccancel()
	wg.Wait()
	if run.overlap.Load() {
		t.Fatal("two replicas ran the singleton job at once")
	}
}

// TestStoreSingletonJobReturns runs again a job that returned while the
// lease was held.
func TestStoreSingletonJobReturns(t *testing.T) {
	s := openEmbedded(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.RunSingleton(ctx, "a name with spaces/and:colons", 2*time.Second, func(ctx context.Context) {
			if n.Add(1) == 2 {
				cancel()
			}
		})
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the job did not run twice within 10 s")
	}
	if n.Load() < 2 {
		t.Fatalf("job ran %d times", n.Load())
	}
}

// TestStoreSingletonEmbeddedRestartDropsStaleLease: a lease left in the
// embedded store by a process that died (here, written with a long TTL)
// does not delay the work after a restart: the store is this process's
// alone.
func TestStoreSingletonEmbeddedRestartDropsStaleLease(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := openEmbedded(t, dir)
	m := nats.NewMsg("$KV." + LeasesBucket + ".trigger.deploy")
	m.Data = []byte("a dead process")
	if _, err := s.js.PublishMsg(ctx, m, jetstream.WithMsgTTL(time.Hour)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openEmbedded(t, dir)
	defer s.Close()
	jctx, cancel := context.WithCancel(ctx)
	ran := make(chan time.Duration, 1)
	t0 := time.Now()
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		s.RunSingleton(jctx, "trigger.deploy", 5*time.Second, func(ctx context.Context) {
			ran <- time.Since(t0)
			<-ctx.Done()
		})
	}()
	defer func() { cancel(); <-stopped }()
	select {
	case d := <-ran:
		t.Logf("ran %v after the restart", d)
	case <-time.After(3 * time.Second):
		t.Fatal("the job waited for a dead process's lease after an embedded restart")
	}
}
