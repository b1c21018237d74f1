package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/verify"
)

// indexPage is one page of GET /api/v1/events, as the index test reads it.
type indexPage struct {
	Events []struct {
		ID         string `json:"id"`
		Seq        uint64 `json:"seq"`
		Repository string `json:"repository"`
		Delivery   string `json:"delivery"`
	} `json:"events"`
	Next string `json:"next"`
}

// listFiltered pages through GET /api/v1/events?query, failing on a page
// that is short with a cursor, and returns the deliveries in list order.
func listFiltered(t *testing.T, admin, query string) []string {
	t.Helper()
	var out []string
	before := ""
	for range 1000 {
		u := admin + "/api/v1/events?limit=20&" + query
		if before != "" {
			u += "&before=" + before
		}
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		var p indexPage
		err = json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %v", u, resp.StatusCode, err)
		}
		if p.Next != "" && len(p.Events) < 20 {
			t.Fatalf("GET %s: a page of %d events with a cursor", u, len(p.Events))
		}
		for _, e := range p.Events {
			out = append(out, e.Delivery)
		}
		if p.Next == "" {
			return out
		}
		before = p.Next
	}
	t.Fatal("too many pages")
	return nil
}

// TestCrashEventIndexSurvivesKill9AndLoss stores 800 GitHub deliveries
// through the real binary, then checks the indexed filters (a rare
// repository, a common one paged in order, a delivery id, an actor, and
// the CLI's flags); again after a kill -9 (the index's file is reloaded
// and the stream after its checkpoint read again), and after a kill -9
// with the index's files deleted (rebuilt from the stream).
func TestCrashEventIndexSurvivesKill9AndLoss(t *testing.T) {
	dir := t.TempDir()
	cfg, ingest, admin := writeConfig(t, dir, `endpoints:
  - name: gh
    provider: github
    secrets: ["index-secret"]
`)
	srv := start(t, cfg, ingest, admin)
	const n = 800
	type sent struct{ delivery, repo, actor string }
	all := make([]sent, n)
	stored := map[string]string{} // delivery -> event id
	var mu sync.Mutex
	// post sends deliveries from to to-1 with 4 senders.
	post4 := func(from, to int) {
		t.Helper()
		var next atomic.Int64
		next.Store(int64(from))
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= to {
						return
					}
					s := sent{delivery: fmt.Sprintf("idx-%04d", i), repo: fmt.Sprintf("acme/app-%d", i%12), actor: fmt.Sprintf("dev%d", i%7)}
					if i%300 == 123 {
						s.repo = "rare/one"
					}
					body := []byte(fmt.Sprintf(`{"ref":"refs/heads/main","after":"%040d","repository":{"full_name":%q},"sender":{"login":%q},"n":%d}`, i+1, s.repo, s.actor, i))
					h := hdr("Content-Type", "application/json", "X-GitHub-Event", "push", "X-GitHub-Delivery", s.delivery,
						"X-Hub-Signature-256", verify.Sign(verify.SHA256, verify.Hex, "sha256=", []byte("index-secret"), body))
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					status, ans, err := post(ctx, ingest+"/hooks/gh", h, body)
					cancel()
					if err != nil || status != 200 {
						errs <- fmt.Errorf("delivery %d: %d %v", i, status, err)
						return
					}
					mu.Lock()
					all[i] = s
					stored[s.delivery] = ans.ID
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	// Most of the events, then a save of the index (every 10 s), then the
	// rest: after the kill -9 below, the stream runs ahead of the file.
	post4(0, n-150)
	eix := filepath.Join(dir, "data", "index", "events.eix")
	waitFor(t, 20*time.Second, "the event index saved", func() bool { _, err := os.Stat(eix); return err == nil })
	post4(n-150, n)

	// The stream's order: every event, newest first, by the unfiltered list.
	order := listFiltered(t, admin, "")
	if len(order) != n {
		t.Fatalf("an unfiltered list holds %d events, want %d", len(order), n)
	}
	byDelivery := map[string]sent{}
	for _, s := range all {
		byDelivery[s.delivery] = s
	}
	want := func(keep func(sent) bool) []string {
		var out []string
		for _, d := range order {
			if keep(byDelivery[d]) {
				out = append(out, d)
			}
		}
		return out
	}
	check := func(stage string) {
		t.Helper()
		for _, c := range []struct {
			query string
			keep  func(sent) bool
		}{
			{"repository=RARE/one", func(s sent) bool { return s.repo == "rare/one" }},
			{"repository=acme/app-5", func(s sent) bool { return s.repo == "acme/app-5" }},
			{"delivery=idx-0777", func(s sent) bool { return s.delivery == "idx-0777" }},
			{"actor=dev3&repository=acme/app-3", func(s sent) bool { return s.actor == "dev3" && s.repo == "acme/app-3" }},
			{"kind=push&branch=main&outcome=not_matched", func(sent) bool { return true }},
		} {
			w := want(c.keep)
			if len(w) == 0 {
				t.Fatalf("%s: the test's data holds no match for %s", stage, c.query)
			}
			if got := listFiltered(t, admin, c.query); !slices.Equal(got, w) {
				t.Fatalf("%s: ?%s: %d events, want %d (first %v, want %v)", stage, c.query, len(got), len(w), got[:min(3, len(got))], w[:min(3, len(w))])
			}
		}
		out, err := runCLI("events", "list", "--admin", admin, "--json", "--repository", "rare/one")
		if err != nil {
			t.Fatalf("%s: events list --repository: %v\n%s", stage, err, out)
		}
		var p indexPage
		if err := json.Unmarshal([]byte(out), &p); err != nil || len(p.Events) != 3 || p.Next != "" {
			t.Fatalf("%s: events list --repository rare/one: %v %s", stage, err, out)
		}
	}
	check("stored")

	// kill -9: the index's file, saved before the last events, is
	// reloaded and the stream after its checkpoint read again.
	srv.kill()
	srv = start(t, cfg, ingest, admin)
	check("after kill -9")

	// kill -9 and the index's files gone: rebuilt from the stream.
	srv.kill()
	for _, f := range []string{"events.eix", "delivery.idx"} {
		if err := os.Remove(filepath.Join(dir, "data", "index", f)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	srv = start(t, cfg, ingest, admin)
	check("after kill -9 and the index deleted")
	srv.stop()
	if _, err := os.Stat(eix); err != nil {
		t.Errorf("no index file after a clean stop: %v", err)
	}
}
