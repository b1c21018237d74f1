package ingest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge/forgetest"
	"github.com/forgehook/forgehook/internal/forge/github"
	"github.com/forgehook/forgehook/internal/store"
)

// benchFixture is the GitHub push the ingest benchmarks send (7.4 KB).
const benchFixture = "push.with-new-branch"

// benchPush returns the fixture's headers (without the delivery id) and body.
func benchPush(b *testing.B) (http.Header, []byte) {
	b.Helper()
	fx, err := forgetest.Load(filepath.Join("..", "forge", "github", "testdata", "deliveries", benchFixture+".txtar"))
	if err != nil {
		b.Fatal(err)
	}
	h := fx.Header.Clone()
	h.Del("X-Github-Delivery")
	return h, fx.Body
}

// nopLog acknowledges every event at once, without storing it.
type nopLog struct{ seq atomic.Uint64 }

func (l *nopLog) Append(_ context.Context, _, _, id, _ string, _ []byte) (store.Result, error) {
	return store.Result{ID: id, Seq: l.seq.Add(1)}, nil
}

func (l *nopLog) MarkVerified(context.Context, string, string, time.Time) error { return nil }

// benchHandler returns a handler with one github endpoint "gh" whose secret
// is the fixture's, storing into log (nil: a real embedded store in a
// temporary directory).
func benchHandler(b *testing.B, secret string, log Log) *Handler {
	b.Helper()
	if log == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		st, err := store.Open(ctx, store.Options{DataDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		log = st
	}
	h := New(Options{Log: log})
	ep := config.Endpoint{Name: "gh", Provider: "github", Secrets: []config.Secret{config.Secret(secret)}}
	p, err := github.New(&ep)
	if err != nil {
		b.Fatal(err)
	}
	e, err := NewEndpoint(&ep, p, nil)
	if err != nil {
		b.Fatal(err)
	}
	h.SetEndpoints([]*Endpoint{e})
	return h
}

func benchSecret(b *testing.B) string {
	b.Helper()
	fx, err := forgetest.Load(filepath.Join("..", "forge", "github", "testdata", "deliveries", benchFixture+".txtar"))
	if err != nil {
		b.Fatal(err)
	}
	return fx.Secret
}

// serveOne sends one delivery with a new delivery id through h and fails
// the benchmark unless it is stored as new.
func serveOne(b *testing.B, h http.Handler, hdr http.Header, body []byte, id string) {
	r := httptest.NewRequest(http.MethodPost, "/hooks/gh", bytes.NewReader(body))
	r.Header = hdr.Clone()
	r.Header.Set("X-Github-Delivery", id)
	r.RemoteAddr = "192.0.2.1:1234"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK || bytes.Contains(w.Body.Bytes(), []byte(`"duplicate":true`)) {
		b.Fatalf("status %d: %s", w.Code, w.Body.Bytes())
	}
}

// BenchmarkIngestGitHubPush is the whole receive path of a GitHub push, in
// process (httptest recorder, no sockets), stored in a real embedded
// JetStream with the default durability: route, read, decode, verify,
// normalize, encode, dedup lookup, publish and wait for the ack, index.
func BenchmarkIngestGitHubPush(b *testing.B) {
	hdr, body := benchPush(b)
	h := benchHandler(b, benchSecret(b), nil)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	i := 0
	for b.Loop() {
		i++
		serveOne(b, h, hdr, body, "bench-"+strconv.Itoa(i))
	}
}

// BenchmarkIngestGitHubPushParallel is BenchmarkIngestGitHubPush from
// 8×GOMAXPROCS goroutines at once (c=16 on two cores).
func BenchmarkIngestGitHubPushParallel(b *testing.B) {
	hdr, body := benchPush(b)
	h := benchHandler(b, benchSecret(b), nil)
	var n atomic.Uint64
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			serveOne(b, h, hdr, body, "bench-"+strconv.FormatUint(n.Add(1), 10))
		}
	})
}

// BenchmarkIngestGitHubPushNoStore is the receive path without the store
// (the log acknowledges at once): forgehook's own work per request.
func BenchmarkIngestGitHubPushNoStore(b *testing.B) {
	hdr, body := benchPush(b)
	h := benchHandler(b, benchSecret(b), &nopLog{})
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	i := 0
	for b.Loop() {
		i++
		serveOne(b, h, hdr, body, "bench-"+strconv.Itoa(i))
	}
}

// BenchmarkIngestLoopback serves the handler on a loopback TCP listener
// (net/http server, real store) and sends from 8×GOMAXPROCS keep-alive
// clients: the closest in-process picture of the deployed path, sockets
// included, for profiling (the clients' cost is in the profile too, under
// net/http.(*persistConn) and (*Transport)).
func BenchmarkIngestLoopback(b *testing.B) {
	hdr, body := benchPush(b)
	h := benchHandler(b, benchSecret(b), nil)
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	tr := &http.Transport{MaxIdleConnsPerHost: 1024, MaxConnsPerHost: 1024}
	b.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	url := srv.URL + "/hooks/gh"
	var n atomic.Uint64
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			req.Header = hdr.Clone()
			req.Header.Set("X-Github-Delivery", fmt.Sprintf("bench-%d", n.Add(1)))
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}
