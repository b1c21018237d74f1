package recovery

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge/all"
	"github.com/forgehook/forgehook/internal/ingest"
	"github.com/forgehook/forgehook/internal/store"
)

const testSecret = "recover-test-secret"

// env is a real embedded store, an ingest handler with one endpoint on
// it, and a fake clock.
type env struct {
	st  *store.Store
	h   *ingest.Handler
	ep  *ingest.Endpoint
	mu  sync.Mutex
	now time.Time
	eps []Endpoint // set by the setups that build a recoverer
}

func (e *env) recovererEndpoints() []Endpoint { return e.eps }

func newEnv(t *testing.T, name, provider string, tweak func(*ingest.Endpoint)) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{st: st, now: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	e.h = ingest.New(ingest.Options{Log: st, Now: e.clock, AckTimeout: 5 * time.Second, Tests: ExpectedTests{State: st.RecoverState()}})
	cep := config.Endpoint{Name: name, Provider: provider, Secrets: []config.Secret{testSecret}}
	p, err := all.Registry().New(&cep)
	if err != nil {
		t.Fatal(err)
	}
	ep, err := ingest.NewEndpoint(&cep, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tweak != nil {
		tweak(ep)
	}
	e.ep = ep
	e.h.SetEndpoints([]*ingest.Endpoint{ep})
	return e
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

// sleep advances the fake clock instead of waiting.
func (e *env) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
	return nil
}

// injector adapts *ingest.Handler to Ingester.
type injector struct{ h *ingest.Handler }

func (i injector) Inject(ctx context.Context, endpoint string, header http.Header, payload []byte, trusted bool) (Injected, error) {
	r, err := i.h.Inject(ctx, endpoint, header, payload, trusted)
	return Injected{ID: r.ID, Duplicate: r.Duplicate}, err
}

func (e *env) recoverer(t *testing.T, eps ...Endpoint) *Recoverer {
	t.Helper()
	return New(Options{Records: e.st, Known: e.st, Ingest: injector{e.h}, State: e.st.RecoverState(),
		Now: e.clock, Sleep: e.sleep}, eps)
}

// post sends a delivery to the ingest handler as a forge would.
func (e *env) post(t *testing.T, hdr http.Header, body string) map[string]any {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, ingest.Prefix+e.ep.Path, strings.NewReader(body))
	r.Header = hdr
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("ingest answered %d: %s", w.Code, w.Body)
	}
	return decodeMap(t, w.Body.Bytes())
}

func (e *env) record(t *testing.T, r store.HookRecord) {
	t.Helper()
	if err := e.st.PutHookRecord(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

func (e *env) known(t *testing.T, endpoint, key string) bool {
	t.Helper()
	ok, err := e.st.HasKey(context.Background(), endpoint, key)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// calls records the requests a fake forge received.
type calls struct {
	mu   sync.Mutex
	list []string
	at   []time.Time
}

func (c *calls) add(s string, at time.Time) {
	c.mu.Lock()
	c.list = append(c.list, s)
	c.at = append(c.at, at)
	c.mu.Unlock()
}

func (c *calls) with(prefix string) ([]string, []time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	var at []time.Time
	for i, s := range c.list {
		if strings.HasPrefix(s, prefix) {
			out = append(out, s)
			at = append(at, c.at[i])
		}
	}
	return out, at
}
