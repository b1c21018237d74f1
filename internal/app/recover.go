package app

import (
	"context"
	"net/http"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/ingest"
	"github.com/forgehook/forgehook/internal/recovery"
	"github.com/forgehook/forgehook/internal/store"
)

// recoverLease is the store lease under which one replica runs recovery.
const recoverLease = "recover"

// newRecoverer builds the recovery of missed deliveries for the endpoints
// with a recover: block. It calls no forge by itself: Run does, from the
// admin API (forgehook recover run) or from runRecovery's loop, every
// recover.every, never at start.
func (a *App) newRecoverer(st *store.Store, cfg *config.Config) *recovery.Recoverer {
	return recovery.New(recovery.Options{
		Records: st, Known: st, Ingest: injector{a.ingest}, State: st.RecoverState(),
		Observer: a.metrics, Logger: a.log,
	}, recovery.FromConfig(cfg))
}

// recoverEndpoint sets what an endpoint's recover: block asks of ingest:
// polled endpoints dedup pushes by repository, ref and head (so the real
// webhook of a push polling found is a duplicate); GitLab endpoints with
// recovery recognize the test event sent to re-enable a hook.
func recoverEndpoint(ep *config.Endpoint, ie *ingest.Endpoint) {
	r := ep.Recover
	if r == nil || r.Mode == "" || r.Mode == config.RecoverOff {
		return
	}
	ie.RefDedup = r.Mode == config.RecoverPoll
	ie.ExpectTests = ep.Provider == "gitlab"
}

// runRecovery runs recovery's loop under the store's lease (one replica at
// a time) while some endpoint has a recover: block, until ctx ends; the
// returned channel is closed when everything it started has stopped.
// Without such an endpoint no lease is taken (a reload may add one: it is
// looked for every recoverCheck).
func (a *App) runRecovery(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		type job struct {
			stop    context.CancelFunc
			stopped chan struct{}
		}
		var cur *job
		halt := func() {
			if cur != nil {
				cur.stop()
				<-cur.stopped
				cur = nil
			}
		}
		defer halt()
		t := time.NewTicker(recoverCheck)
		defer t.Stop()
		for {
			want := len(a.recoverer.Endpoints()) > 0
			switch {
			case want && cur == nil:
				j := &job{stopped: make(chan struct{})}
				var jctx context.Context
				jctx, j.stop = context.WithCancel(ctx)
				cur = j
				go func() {
					defer close(j.stopped)
					a.store.RunSingleton(jctx, recoverLease, 30*time.Second, a.recoverer.Loop)
				}()
			case !want && cur != nil:
				halt()
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return done
}

// recoverCheck is how often runRecovery looks for endpoints with a
// recover: block.
const recoverCheck = 30 * time.Second

// injector gives recovery ingest's in-process entry point.
type injector struct{ h *ingest.Handler }

// Inject implements recovery.Ingester.
func (i injector) Inject(ctx context.Context, endpoint string, header http.Header, payload []byte, trusted bool) (recovery.Injected, error) {
	r, err := i.h.Inject(ctx, endpoint, header, payload, trusted)
	return recovery.Injected{ID: r.ID, Duplicate: r.Duplicate}, err
}
