package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/all"
	"github.com/forgehook/forgehook/internal/forge/forgetest"
	"github.com/forgehook/forgehook/internal/verify"
)

// forges returns the forges whose fixtures the end-to-end test sends, each
// to an endpoint of its own: every forge forgehook ships.
func forges() []forge.Descriptor { return all.Forges() }

const endpointsYAML = `endpoints:
%s`

// endpointsConfig gives each provider an endpoint whose secrets are the
// suite's signing secret and every secret its recorded fixtures were
// signed with: several secrets per endpoint, as in a rotation.
func endpointsConfig(t *testing.T) string {
	var b strings.Builder
	for _, d := range forges() {
		p := d.ID
		secrets := []string{fmt.Sprintf("%q", forgetest.TestSecret)}
		seen := map[string]bool{}
		fixtures, err := forgetest.LoadForge("..", d)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fixtures {
			if f.Secret != "" && !seen[f.Secret] {
				seen[f.Secret] = true
				secrets = append(secrets, fmt.Sprintf("%q", f.Secret))
			}
		}
		fmt.Fprintf(&b, "  - name: %s\n    provider: %s\n    secrets: [%s]\n", p, p, strings.Join(secrets, ", "))
	}
	return fmt.Sprintf(endpointsYAML, b.String())
}

// signed returns the headers and body to send for a fixture: as recorded
// when it carries its own signature, else signed with forgetest.TestSecret
// by the provider's own signer.
func signed(t *testing.T, p forge.Provider, f *forgetest.Fixture) (http.Header, []byte) {
	t.Helper()
	h := f.Header.Clone()
	if f.Secret != "" {
		return h, f.Body
	}
	payload, _, err := f.Payload()
	if err != nil {
		t.Fatal(err)
	}
	p.(forge.Signer).Sign(h, payload, forgetest.TestSecret, time.Now())
	return h, f.Body
}

func provider(t *testing.T, id string) forge.Provider {
	t.Helper()
	p, err := all.Registry().New(&config.Endpoint{Name: id, Provider: id})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestE2EEveryFixtureStoredListedAndDeduplicated(t *testing.T) {
	dir := t.TempDir()
	cfg, ingest, admin := writeConfig(t, dir, endpointsConfig(t))
	srv := start(t, cfg, ingest, admin)
	ctx := context.Background()

	type sent struct{ id, forge string }
	var stored []sent
	// Some fixtures reuse a capture's delivery id under another forge's
	// headers; an id read back may then be either forge's event.
	forgesOf := map[string]map[string]bool{}
	counts := map[string]int{}
	for _, d := range forges() {
		id := d.ID
		p := provider(t, id)
		fixtures, err := forgetest.LoadForge("..", d)
		if err != nil {
			t.Fatal(err)
		}
		if len(fixtures) == 0 {
			t.Fatalf("%s: no fixtures", id)
		}
		for _, f := range fixtures {
			h, body := signed(t, p, f)
			url := ingest + "/hooks/" + id
			if f.Query != "" {
				url += "?" + f.Query
			}
			status, ans, err := post(ctx, url, h, body)
			if err != nil {
				t.Fatal(err)
			}
			if status != 200 {
				t.Errorf("%s/%s: status %d (%s), want 200", id, f.Name, status, ans.Error)
				continue
			}
			counts[id]++
			if ans.Ping {
				continue
			}
			if ans.ID == "" {
				t.Errorf("%s/%s: 200 without an event id", id, f.Name)
				continue
			}
			if !ans.Duplicate {
				stored = append(stored, sent{ans.ID, id})
				if forgesOf[ans.ID] == nil {
					forgesOf[ans.ID] = map[string]bool{}
				}
				forgesOf[ans.ID][id] = true
			}
		}
	}
	t.Logf("sent fixtures per provider: %v; %d events stored", counts, len(stored))

	ids := eventIDs(t, admin)
	for _, s := range stored {
		if !ids[s.id] {
			t.Errorf("event %s (%s) answered 200 but not listed", s.id, s.forge)
		}
	}
	// Every stored event reads back whole, with its forge and a redacted header.
	for _, s := range stored {
		resp, err := http.Get(admin + "/api/v1/events/" + s.id)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			Event struct {
				SpecVersion string `json:"specversion"`
				Forge       string `json:"forge"`
				Type        string `json:"type"`
				Data        struct {
					Header map[string][]string `json:"header"`
				} `json:"data"`
			} `json:"event"`
		}
		err = json.NewDecoder(resp.Body).Decode(&d)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET event %s: %d %v", s.id, resp.StatusCode, err)
		}
		if !forgesOf[s.id][d.Event.Forge] || d.Event.SpecVersion != "1.0" || !strings.HasPrefix(d.Event.Type, "dev.forgehook.") {
			t.Errorf("event %s: forge %q specversion %q type %q", s.id, d.Event.Forge, d.Event.SpecVersion, d.Event.Type)
		}
		for k, v := range d.Event.Data.Header {
			lk := strings.ToLower(k)
			if (strings.Contains(lk, "signature") || strings.Contains(lk, "token") || lk == "authorization") && v[0] != "[redacted]" {
				t.Errorf("event %s: header %s stored as %q, want [redacted]", s.id, k, v[0])
			}
		}
	}

	// The same delivery twice is stored once.
	p := provider(t, "github")
	fixtures, _ := forgetest.LoadDir(filepath.Join("..", "internal", "forge", "github", "testdata", "deliveries"))
	var f *forgetest.Fixture
	for _, x := range fixtures {
		if x.Header.Get("X-GitHub-Event") == "push" {
			f = x
			break
		}
	}
	h, body := signed(t, p, f)
	h.Set("X-GitHub-Delivery", "e2e-redelivered-0001")
	_, first, _ := post(ctx, ingest+"/hooks/github", h, body)
	status, again, _ := post(ctx, ingest+"/hooks/github", h, body)
	if status != 200 || !again.Duplicate || again.ID != first.ID || first.Duplicate {
		t.Fatalf("redelivery: first %+v, again %d %+v; want the second a duplicate of the first", first, status, again)
	}
	before := len(eventIDs(t, admin))
	_, _, _ = post(ctx, ingest+"/hooks/github", h, body)
	if after := len(eventIDs(t, admin)); after != before {
		t.Fatalf("a third copy changed the event count from %d to %d", before, after)
	}

	// The CLI reads the same events through the admin API.
	out, err := exec.Command(binary, "events", "list", "--admin", admin, "--forge", "github", "--limit", "5").CombinedOutput()
	if err != nil || !strings.Contains(string(out), first.ID) {
		t.Fatalf("forgehook events list: %v\n%s", err, out)
	}
	out, err = exec.Command(binary, "events", "show", "--admin", admin, first.ID).CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"normalized"`) {
		t.Fatalf("forgehook events show: %v\n%s", err, out)
	}
	srv.stop()
}

func TestE2EBadInputStatuses(t *testing.T) {
	dir := t.TempDir()
	cfg, ingest, admin := writeConfig(t, dir, `endpoints:
  - name: gh
    provider: github
    secrets: ["s1"]
    max_body: 1KiB
  - name: limited
    provider: github
    secrets: ["s1"]
    rate_limit: {per_second: 0.001, burst: 1}
  - name: fenced
    provider: github
    secrets: ["s1"]
    allow_ips: ["192.0.2.0/24"]
`)
	srv := start(t, cfg, ingest, admin)
	ctx := context.Background()
	body := []byte(`{"ref":"refs/heads/main","repository":{"full_name":"a/b"}}`)
	sig := verify.Sign(verify.SHA256, verify.Hex, "sha256=", []byte("s1"), body)
	good := hdr("Content-Type", "application/json", "X-GitHub-Event", "push", "X-GitHub-Delivery", "bad-input-1", "X-Hub-Signature-256", sig)
	cases := []struct {
		name   string
		path   string
		method string
		h      http.Header
		body   []byte
		want   int
	}{
		{"unknown endpoint", "/hooks/nope", "POST", good, body, 404},
		{"wrong method", "/hooks/gh", "PUT", good, body, 405},
		{"too large", "/hooks/gh", "POST", good, make([]byte, 2048), 413},
		{"unsupported type", "/hooks/gh", "POST", hdr("Content-Type", "text/xml", "X-GitHub-Event", "push", "X-Hub-Signature-256", sig), body, 415},
		{"missing signature", "/hooks/gh", "POST", hdr("Content-Type", "application/json", "X-GitHub-Event", "push"), body, 401},
		{"bad signature", "/hooks/gh", "POST", hdr("Content-Type", "application/json", "X-GitHub-Event", "push", "X-Hub-Signature-256", "sha256=00"), body, 401},
		{"address not allowed", "/hooks/fenced", "POST", good, body, 403},
		{"not JSON", "/hooks/gh", "POST", hdr("Content-Type", "application/json", "X-GitHub-Event", "push", "X-Hub-Signature-256", verify.Sign(verify.SHA256, verify.Hex, "sha256=", []byte("s1"), []byte("{nope"))), []byte("{nope"), 400},
		{"not JSON, unsigned", "/hooks/gh", "POST", good, []byte("{nope"), 401},
		{"good", "/hooks/gh", "POST", good, body, 200},
		{"probe", "/hooks/gh", "GET", nil, nil, 200},
		{"rate limit first", "/hooks/limited", "POST", good, body, 200},
		{"rate limit second", "/hooks/limited", "POST", good, body, 429},
	}
	for _, c := range cases {
		req, _ := http.NewRequestWithContext(ctx, c.method, ingest+c.path, strings.NewReader(string(c.body)))
		for k, v := range c.h {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s: status %d, want %d", c.name, resp.StatusCode, c.want)
		}
	}
	// Each rejection is logged with its reason, and no secret is. The log
	// reaches us through a pipe: give the last lines a moment.
	reasons := []string{"unknown endpoint", "body too large", "unsupported content type", "missing signature or token", "invalid signature or token", "source address not allowed", "rate limit exceeded"}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && !strings.Contains(srv.Output(), reasons[len(reasons)-1]) {
		time.Sleep(20 * time.Millisecond)
	}
	out := srv.Output()
	for _, reason := range reasons {
		if !strings.Contains(out, reason) {
			t.Errorf("log has no line with reason %q", reason)
		}
	}
	if strings.Contains(out, `"s1"`) || strings.Contains(out, sig) {
		t.Errorf("log contains a secret or a signature:\n%s", out)
	}
	srv.stop()
}

// TestCrashKill9UnderLoad kills forgehook with SIGKILL while 8 senders post
// continuously, restarts it, and checks that every delivery that was
// answered 2xx is in the log.
func TestCrashKill9UnderLoad(t *testing.T) {
	dir := t.TempDir()
	cfg, ingest, admin := writeConfig(t, dir, `endpoints:
  - name: gh
    provider: github
    secrets: ["crash-secret"]
`)
	srv := start(t, cfg, ingest, admin)
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	acked := map[string]bool{}
	type redelivery struct {
		id      string // the delivery id
		eventID string // the id of the event it stored
		body    []byte
	}
	var order []redelivery // acknowledged, in the order of their answers
	var sent, failed atomic.Int64
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil && i < 100000; i++ {
				id := fmt.Sprintf("crash-%d-%d", w, i)
				body := []byte(fmt.Sprintf(`{"ref":"refs/heads/main","after":"%040d","repository":{"full_name":"acme/app"},"n":%d}`, i, i))
				h := hdr("Content-Type", "application/json", "X-GitHub-Event", "push", "X-GitHub-Delivery", id,
					"X-Hub-Signature-256", verify.Sign(verify.SHA256, verify.Hex, "sha256=", []byte("crash-secret"), body))
				rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
				status, ans, err := post(rctx, ingest+"/hooks/gh", h, body)
				rcancel()
				sent.Add(1)
				if err != nil || status != 200 {
					failed.Add(1)
					if err != nil {
						time.Sleep(10 * time.Millisecond) // the server is down: pace this sender's retries
					}
					continue
				}
				mu.Lock()
				acked[ans.ID] = true
				order = append(order, redelivery{id, ans.ID, body})
				mu.Unlock()
			}
		}()
	}
	// Let the load run until 500 deliveries are acknowledged, then kill
	// without warning.
	waitFor(t, 30*time.Second, "500 acknowledged deliveries", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= 500
	})
	failedBefore := failed.Load()
	srv.kill()
	killed := time.Now()
	// The senders see the kill before they stop.
	waitFor(t, 10*time.Second, "a request failing after the kill", func() bool { return failed.Load() > failedBefore })
	cancel()
	wg.Wait()

	srv2 := start(t, cfg, ingest, admin)
	stored := eventIDs(t, admin)
	lost := 0
	for id := range acked {
		if !stored[id] {
			lost++
			if lost < 10 {
				t.Errorf("delivery %s was answered 200 before the kill but is not in the log", id)
			}
		}
	}
	t.Logf("kill -9 under load: %d requests, %d answered 200, %d failed (during the kill), %d stored after restart, %d lost",
		sent.Load(), len(acked), failed.Load(), len(stored), lost)
	if len(acked) < 100 {
		t.Fatalf("only %d deliveries acknowledged before the kill: the load did not run", len(acked))
	}
	if lost > 0 {
		t.Fatalf("%d acknowledged deliveries lost", lost)
	}
	// The forge redelivers what was answered last before the kill (the
	// dedup index of those lived in memory, or was not yet written) and
	// some older ones: each is recognized as the stored event. It does so
	// after JetStream's own short Nats-Msg-Id window (5 s) has passed, so
	// that only forgehook's index can recognize them.
	time.Sleep(time.Until(killed.Add(6 * time.Second))) // the window is time itself: nothing to poll
	again := order[max(0, len(order)-150):]
	for i := 0; i < len(order)-150; i += max(1, len(order)/50) {
		again = append(again, order[i])
	}
	for _, d := range again {
		h := hdr("Content-Type", "application/json", "X-GitHub-Event", "push", "X-GitHub-Delivery", d.id,
			"X-Hub-Signature-256", verify.Sign(verify.SHA256, verify.Hex, "sha256=", []byte("crash-secret"), d.body))
		status, ans, err := post(context.Background(), ingest+"/hooks/gh", h, d.body)
		if err != nil || status != 200 || !ans.Duplicate || ans.ID != d.eventID {
			t.Fatalf("redelivery of %s after the kill: status %d, %+v, %v; want a duplicate of the stored event", d.id, status, ans, err)
		}
	}
	srv2.stop()
}

func TestE2EQuickStart(t *testing.T) {
	dir := t.TempDir()
	ports := freePorts(t, 2)
	ip, ap := ports[0], ports[1]
	run := func() (*proc, string) {
		s := &proc{t: t, ingest: fmt.Sprintf("http://127.0.0.1:%d", ip), admin: fmt.Sprintf("http://127.0.0.1:%d", ap), exited: make(chan struct{})}
		s.cmd = exec.Command(binary, "serve", "--data-dir", filepath.Join(dir, "data"),
			"--listen", fmt.Sprintf("127.0.0.1:%d", ip), "--admin-listen", fmt.Sprintf("127.0.0.1:%d", ap))
		s.cmd.Dir = dir // no forgehook.yaml here: the quick-start
		s.cmd.Stdout, s.cmd.Stderr = lockedWriter{s}, lockedWriter{s}
		if err := s.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { _ = s.cmd.Wait(); close(s.exited) }()
		t.Cleanup(s.kill)
		s.waitReady(30 * time.Second)
		return s, s.Output()
	}
	s, banner := run()
	url := regexp.MustCompile(`Payload URL:\s+(\S+)`).FindStringSubmatch(banner)
	secret := regexp.MustCompile(`Secret:\s+(\S+)\n`).FindStringSubmatch(banner)
	if url == nil || secret == nil {
		t.Fatalf("quick-start banner lacks the URL or the secret:\n%s", banner)
	}
	hookURL := strings.Replace(url[1], "localhost", "127.0.0.1", 1)
	ctx := context.Background()
	body := []byte(`{"ref":"refs/heads/main","before":"` + strings.Repeat("1", 40) + `","after":"` + strings.Repeat("2", 40) + `","repository":{"full_name":"acme/app","html_url":"https://github.com/acme/app"},"commits":[],"sender":{"login":"octocat"}}`)
	h := hdr("Content-Type", "application/json", "X-GitHub-Event", "push", "X-GitHub-Delivery", "qs-1",
		"X-Hub-Signature-256", verify.Sign(verify.SHA256, verify.Hex, "sha256=", []byte(secret[1]), body))
	status, ans, err := post(ctx, hookURL, h, body)
	if err != nil || status != 200 || ans.ID == "" || ans.ID == "qs-1" {
		t.Fatalf("GitHub push to the quick-start: %d %+v %v", status, ans, err)
	}
	// A Gitea delivery to the same URL is detected as Gitea.
	gh := hdr("Content-Type", "application/json", "X-Gitea-Event", "push", "X-Gitea-Event-Type", "push", "X-GitHub-Event", "push",
		"X-Gitea-Delivery", "qs-2", "X-Gitea-Signature", verify.Sign(verify.SHA256, verify.Hex, "", []byte(secret[1]), body))
	status, ans, err = post(ctx, hookURL, gh, body)
	if err != nil || status != 200 {
		t.Fatalf("Gitea push to the quick-start: %d %+v %v", status, ans, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !(strings.Contains(s.Output(), "github/push push") && strings.Contains(s.Output(), "gitea/push push")) {
		if time.Now().After(deadline) {
			t.Fatalf("no event lines printed:\n%s", s.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.stop()
	// A restart keeps the URL and does not print the secret again.
	s2, banner2 := run()
	if !strings.Contains(banner2, url[1]) || strings.Contains(banner2, secret[1]) {
		t.Fatalf("restart banner: want the same URL and no secret:\n%s", banner2)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "quickstart.json")); err != nil {
		t.Fatal(err)
	}
	s2.stop()
}
