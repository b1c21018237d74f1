package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/forgehook/forgehook/internal/verify"
)

// chromiumPath is Debian's chromium package's launcher.
const chromiumPath = "/usr/bin/chromium"

// screenshotsEnv names the directory (relative to the repository root) the
// browser test saves its screenshots to, and where it writes docs/ui.md's
// pictures: FORGEHOOK_SCREENSHOTS=docs/ui go test ./e2e -run TestUI.
const screenshotsEnv = "FORGEHOOK_SCREENSHOTS"

// needChromium returns the browser's path. Without it the test skips on a
// developer's machine and fails in CI, which must install it.
func needChromium(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: CI must install Debian's chromium package (apt-get install -y chromium)", chromiumPath)
		}
		t.Skipf("%s is missing: apt-get install -y chromium to run the browser test", chromiumPath)
	}
	return chromiumPath
}

// browser starts headless Chromium with a fresh profile, kept off every
// network but loopback, and returns a tab's context.
func browser(t *testing.T, path string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // the test may run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("disable-client-side-phishing-detection", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,AutofillServerCommunication,CertificateTransparencyComponentUpdater"),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		// Nothing but loopback: names do not resolve, and any other
		// address goes to a closed local port.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.Flag("proxy-server", "http://127.0.0.1:9"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first action starts the browser; its context must outlive the test.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// shot is one screenshot and its words in docs/ui.md.
type shot struct {
	file, title, text string
}

// camera saves screenshots into a temporary directory, or into the
// directory FORGEHOOK_SCREENSHOTS names (then it also writes docs/ui.md).
type camera struct {
	t     *testing.T
	ctx   context.Context
	dir   string
	docs  bool
	shots []shot
}

func newCamera(t *testing.T, ctx context.Context) *camera {
	c := &camera{t: t, ctx: ctx, dir: t.TempDir()}
	if d := os.Getenv(screenshotsEnv); d != "" {
		if !filepath.IsAbs(d) {
			d = filepath.Join("..", d) // the test runs in e2e/
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		c.dir, c.docs = d, true
	}
	return c
}

func (c *camera) take(file, title, text string) {
	c.t.Helper()
	png, err := chromedp.Run(c.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		c.t.Fatalf("screenshot %s: %v", file, err)
	}
	if err := os.WriteFile(filepath.Join(c.dir, file), png, 0o644); err != nil {
		c.t.Fatal(err)
	}
	c.shots = append(c.shots, shot{file, title, text})
}

// failed saves what the browser shows when a step fails.
func (c *camera) failed(step string, err error) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	if png, perr := chromedp.Run(ctx, chromedp.CaptureScreenshot()); perr == nil {
		p := filepath.Join(c.t.TempDir(), "failure.png")
		_ = os.WriteFile(p, png, 0o644)
		c.t.Logf("screenshot of the failure: %s", p)
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	body, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
	c.t.Fatalf("%s: %v\nat %s the page reads:\n%s", step, err, loc, body)
}

// do runs browser steps with a deadline, failing the test on error.
func (c *camera) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		c.failed(step, err)
	}
}

// text returns the visible text of the first element sel matches.
func (c *camera) text(step, sel string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		c.failed(step, err)
	}
	return s
}

// sendGitHub sends a signed GitHub delivery and returns the stored event's
// id.
func sendGitHub(t *testing.T, ingest, endpoint, secret, event, id, body string) string {
	t.Helper()
	h := hdr("Content-Type", "application/json", "X-GitHub-Event", event, "X-GitHub-Delivery", id,
		"X-Hub-Signature-256", verify.Sign(verify.SHA256, verify.Hex, "sha256=", []byte(secret), []byte(body)))
	status, ans, err := post(context.Background(), ingest+"/hooks/"+endpoint, h, []byte(body))
	if err != nil || status != 200 {
		t.Fatalf("send %s: %d %+v %v", id, status, ans, err)
	}
	return ans.ID
}

// adminGet reads an admin API answer with the bearer token.
func adminGet(t *testing.T, admin, token, path string, out any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, admin+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// TestUIOperatorFixesAnOutage drives the real binary's UI in headless
// Chromium: log in, find the event, see its failed attempts, replay its
// dead letter once the downstream is back, and see it delivered.
func TestUIOperatorFixesAnOutage(t *testing.T) {
	chromium := needChromium(t)
	const (
		token  = "ui-test-admin-token-4b1f0c"
		secret = "ui-test-hook-secret"
	)
	rc := newReceiver(t)
	rc.down.Store(true) // the downstream is out: every delivery fails with 500

	dir := t.TempDir()
	ports := freePorts(t, 2)
	ip, ap := ports[0], ports[1]
	ingest, admin := fmt.Sprintf("http://127.0.0.1:%d", ip), fmt.Sprintf("http://127.0.0.1:%d", ap)
	cfg := fmt.Sprintf(`listen: 127.0.0.1:%d
admin:
  listen: 127.0.0.1:%d
  token: %s
data_dir: %s
endpoints:
  - name: acme-github
    provider: github
    secrets: [%q]
triggers:
  - name: deploy
    when: 'event.kind == "push" && event.branch == "main"'
    http: {url: %q}
    retry: {max_attempts: 2, initial: 100ms, max: 1s}
  - name: release-notes
    when: 'event.kind == "tag"'
    log: {}
`, ip, ap, token, filepath.Join(dir, "data"), secret, rc.URL)
	cfgPath := filepath.Join(dir, "forgehook.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	start(t, cfgPath, ingest, admin)

	// Three deliveries: a tag (delivered to release-notes), a pull request
	// (no trigger wants it) and the push to main that the outage kills.
	repo := `"repository":{"full_name":"acme/app","name":"app","html_url":"https://github.com/acme/app","clone_url":"https://github.com/acme/app.git","default_branch":"main","owner":{"login":"acme"}},"sender":{"login":"octocat"}`
	const (
		sha1 = "4f1d2c8e0b7a96d35e21c0f8a9b6d7e3c2a1f0e9"
		sha2 = "9fceb02d0ae598e95dc970b74767f19372d61af8"
	)
	sendGitHub(t, ingest, "acme-github", secret, "push", "ui-tag",
		fmt.Sprintf(`{"ref":"refs/tags/v1.4.0","before":"%040d","after":%q,"commits":[],%s}`, 0, sha1, repo))
	sendGitHub(t, ingest, "acme-github", secret, "pull_request", "ui-pr",
		`{"action":"opened","number":42,"pull_request":{"number":42,"title":"Add the dashboard","state":"open","html_url":"https://github.com/acme/app/pull/42","head":{"ref":"feature/dashboard","sha":"`+strings.Repeat("5", 40)+`"},"base":{"ref":"main"},"merged":false,"user":{"login":"octocat"}},`+repo+`}`)
	pushID := sendGitHub(t, ingest, "acme-github", secret, "push", "ui-push",
		fmt.Sprintf(`{"ref":"refs/heads/main","before":%q,"after":%q,"commits":[{"id":%q,"message":"Ship the dashboard","author":{"name":"Mona","email":"mona@example.com"}}],"head_commit":{"id":%q},%s}`, sha1, sha2, sha2, sha2, repo))

	// Wait until its retries ran out (2 attempts, 100ms apart).
	waitFor(t, 10*time.Second, "the push's dead letter", func() bool {
		var dl struct {
			Dead []struct {
				EventID string `json:"event_id"`
			} `json:"dead"`
		}
		adminGet(t, admin, token, "/api/v1/dead", &dl)
		return len(dl.Dead) == 1 && dl.Dead[0].EventID == pushID
	})

	ctx := browser(t, chromium)
	cam := newCamera(t, ctx)
	var dmu sync.Mutex
	var dialogs []string
	dctx, stopDialogs := context.WithCancel(ctx)
	dialogsDone := make(chan struct{})
	events := chromedp.Events(dctx, page.JavascriptDialogOpening)
	go func() {
		defer close(dialogsDone)
		for ev, err := range events {
			if err != nil {
				return
			}
			dmu.Lock()
			dialogs = append(dialogs, ev.Message)
			dmu.Unlock()
			_, _ = chromedp.Call(dctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	t.Cleanup(func() { stopDialogs(); <-dialogsDone })

	// 1. Every page needs the token: the browser lands on the login page.
	cam.do("open the UI", chromedp.Navigate(admin+"/events"), chromedp.WaitVisible(chromedp.ID("token")))
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(loc, "/login?next=%2Fevents") {
		t.Fatalf("without a session the UI is at %s, want the login page", loc)
	}
	cam.do("type a wrong token", chromedp.SendKeys(chromedp.ID("token"), "not-the-token"), chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.CSS(".flash-error")))
	cam.do("type the token", chromedp.SendKeys(chromedp.ID("token"), token))
	cam.take("login.png", "Login", "With `admin.token` set, every page needs a session. The login page takes the admin "+
		"token; the browser keeps a signed session cookie (HttpOnly, SameSite=Strict, Secure over TLS), never the token "+
		"itself. A wrong token is refused with 401. Without a token (the default loopback admin listener) there is no login.")

	// 2. The events list shows the event the test sent.
	cam.do("log in", chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.CSS(`a.event-link[href="/events/`+pushID+`"]`)))
	if c, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.cookie")); c != "" {
		t.Errorf("page script can read cookies %q: the session cookie must be HttpOnly", c)
	}
	// A delivery that arrives while the list is open shows up by itself.
	lateID := sendGitHub(t, ingest, "acme-github", secret, "push", "ui-late",
		fmt.Sprintf(`{"ref":"refs/tags/v1.4.1","before":"%040d","after":%q,"commits":[],%s}`, 0, sha2, repo))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`!!document.querySelector('a.event-link[href="/events/`+lateID+`"]')`,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		cam.failed("the live refresh shows a new event", err)
	}
	if st := cam.text("read the live status", "#live-status"); !strings.Contains(st, "updated") {
		t.Errorf("live status %q", st)
	}
	list := cam.text("read the list", "table.events")
	for _, want := range []string{"dead", "delivered", "not matched", "acme/app", "refs/heads/main", "refs/tags/v1.4.0", "pull request · opened"} {
		if !strings.Contains(list, want) {
			t.Errorf("events list lacks %q:\n%s", want, list)
		}
	}
	if !strings.Contains(list, " pushed ") || !strings.Contains(list, "PR #") {
		t.Errorf("events list lacks the one-line summaries (\"... pushed ...\", \"PR #...\"):\n%s", list)
	}
	// The chart of the last hour draws the events received, as SVG bars.
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('figure.activity svg.chart rect.s-events').length`)); err != nil || n == 0 {
		t.Errorf("the events chart draws %d bars (%v)", n, err)
	}
	cam.take("events.png", "Events", "Each event on one line in the same words for every forge (\"alice pushed 3 commits to main: ...\", "+
		"\"PR #12 opened: ...\"), with its kind, forge event and short sha beneath; above, a chart of the events received per "+
		"minute over the last hour. Newest first, with the delivery state of each event across its triggers: "+
		"green *delivered*, amber *retrying*, red *dead*, blue *pending*, grey when no trigger wants it. "+
		"Filters by endpoint, forge, kind, repository and status; *Older →* pages back. While the tab is visible the "+
		"table refreshes itself every few seconds (it pauses in a hidden tab); without JavaScript it is a plain page.")

	// 3. Its detail page shows the failed attempts.
	cam.do("open the event", chromedp.Click(chromedp.CSS(`a.event-link[href="/events/`+pushID+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`article.trigger[data-trigger="deploy"] table.attempts`)))
	deploy := cam.text("read the attempts", `article.trigger[data-trigger="deploy"]`)
	for _, want := range []string{"dead", "failed", "HTTP 500", "target answered: 500", "receiver says 500"} {
		if !strings.Contains(deploy, want) {
			t.Errorf("deploy's attempts lack %q:\n%s", want, deploy)
		}
	}
	cam.take("event-failed.png", "Event detail: a failed delivery", "Per trigger: its state and every attempt, with its time "+
		"(relative and absolute), duration, outcome, HTTP status or exit code, error and an excerpt of the answer. "+
		"*Replay to deploy* re-drives the event through one trigger, *Replay to all matching triggers* through every "+
		"trigger whose `when` matches; both ask first. Below: the normalized fields, the CloudEvent attributes, the "+
		"headers as received (credentials and signatures stored as `[redacted]`) and the forge's body, pretty-printed.")
	cam.do("scroll to the headers", chromedp.ScrollIntoView(chromedp.ID("headers")))
	cam.take("event-body.png", "Event detail: attributes, headers and body", "The same page further down: the "+
		"CloudEvent attributes, the headers as received with the signature redacted, and the payload as the forge "+
		"sent it, indented for reading.")

	// 4. The dead letter waits on the Dead letters page.
	cam.do("open the dead letters", chromedp.Click(chromedp.CSS(`nav.main a[href="/dead"]`)),
		chromedp.WaitVisible(chromedp.CSS("table.dead")))
	dead := cam.text("read the dead letters", "table.dead")
	if !strings.Contains(dead, pushID) || !strings.Contains(dead, "deploy") || !strings.Contains(dead, "500") {
		t.Errorf("dead letters:\n%s", dead)
	}
	cam.take("dead.png", "Dead letters", "Events whose delivery to a trigger ran out of retries, with the trigger, the "+
		"number of attempts and the last error. *Replay* sends one again; tick several (or the header box for all) and "+
		"*Replay selected*. A replayed dead letter leaves the list; its event gets fresh retries.")

	// 5. The downstream is back: replay, confirming the dialog.
	rc.down.Store(false)
	cam.do("replay the dead letter", chromedp.Click(chromedp.CSS("button.replay-one")),
		chromedp.WaitVisible(chromedp.CSS(".flash-ok")))
	if flash := cam.text("read the flash", ".flash-ok"); !strings.Contains(flash, "Replayed 1 dead letter: "+pushID+" → deploy") {
		t.Errorf("flash after the replay: %q", flash)
	}
	dmu.Lock()
	asked := strings.Join(dialogs, "|")
	dmu.Unlock()
	if !strings.Contains(asked, "Replay "+pushID+" to deploy?") {
		t.Errorf("the replay did not ask first; dialogs: %q", asked)
	}
	cam.take("dead-replayed.png", "Dead letters after a replay", "Every state change is a form post that comes back "+
		"to the page with a message (and is refused without the page's CSRF token or from another site).")
	waitFor(t, 10*time.Second, "the replay to reach the receiver", func() bool {
		h := rc.hitsFor(pushID)
		return len(h) == 3 && h[2].status == 200
	})

	// 6. The event is delivered now.
	deadline := time.Now().Add(10 * time.Second)
	for {
		cam.do("open the event again", chromedp.Navigate(admin+"/events/"+pushID), chromedp.WaitVisible(chromedp.ID("event-status")))
		if cam.text("read the state", "#event-status") == "delivered" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the event is not shown delivered after the replay")
		}
		time.Sleep(200 * time.Millisecond)
	}
	deploy = cam.text("read the attempts", `article.trigger[data-trigger="deploy"]`)
	if !strings.Contains(deploy, "replay") || !strings.Contains(deploy, "HTTP 200") {
		t.Errorf("the replayed attempt is not shown:\n%s", deploy)
	}
	cam.take("event-delivered.png", "Event detail after the replay", "The third attempt, marked *replay*, was delivered: "+
		"the event is green again.")

	// 7. The configuration at a glance.
	cam.do("open the endpoints", chromedp.Click(chromedp.CSS(`nav.main a[href="/endpoints"]`)),
		chromedp.WaitVisible(chromedp.CSS(`article.endpoint[data-endpoint="acme-github"]`)))
	eps := cam.text("read the endpoints", "main")
	if strings.Contains(eps, secret) || !strings.Contains(eps, "github") {
		t.Errorf("endpoints page:\n%s", eps)
	}
	if v, _ := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("input.url"))); v != ingest+"/hooks/acme-github" {
		t.Errorf("URL to paste %q, want %s", v, ingest+"/hooks/acme-github")
	}
	cam.take("endpoints.png", "Endpoints", "The URL to paste into each forge (an endpoint named by a secret key shows "+
		"`/hooks/<key>`), the provider, a fingerprint of each secret (never the secret), whether a ping verified it and "+
		"when, the last event, the events the store holds for it (they survive restarts, and the page says since when) "+
		"and the requests since the server started.")
	cam.do("open the triggers", chromedp.Click(chromedp.CSS(`nav.main a[href="/triggers"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-trigger="deploy"]`)))
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('td.trigger-chart svg.chart rect.s-delivered, td.trigger-chart svg.chart rect.s-dead').length`)); err != nil || n == 0 {
		t.Errorf("the triggers' charts draw %d outcome bars (%v)", n, err)
	}
	cam.take("triggers.png", "Triggers", "Each trigger's CEL expression, action, retry budget and pending count "+
		"(events not yet processed, retries included), a chart of its delivery outcomes per minute over the last hour "+
		"(green delivered, amber failed and retried, red dead), the attempts and dead letters the store holds (they survive "+
		"restarts; the page says since when), the counts since the server started, and a link to its dead letters.")

	cam.do("log out", chromedp.Click(chromedp.CSS("form.logout button")), chromedp.WaitVisible(chromedp.ID("token")))
	cam.do("a page after logout", chromedp.Navigate(admin+"/dead"), chromedp.WaitVisible(chromedp.ID("token")))

	if cam.docs {
		writeUIDoc(t, cam)
	}
}

// writeUIDoc writes docs/ui.md around the screenshots.
func writeUIDoc(t *testing.T, cam *camera) {
	t.Helper()
	rel, err := filepath.Rel(filepath.Join("..", "docs"), cam.dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(`# The web UI

<!-- Generated by TestUIOperatorFixesAnOutage (e2e/ui_test.go):
     FORGEHOOK_SCREENSHOTS=docs/ui go test ./e2e -run TestUI -->

The admin listener (` + "`admin.listen`" + `, 127.0.0.1:8081 by default) serves a web UI next to the JSON API
and ` + "`/metrics`" + `: open http://127.0.0.1:8081/ in a browser. The pages are server-rendered HTML embedded in the
binary, with no external asset, and read without JavaScript; a small script refreshes live views, asks before
a replay and adds copy buttons.

The screenshots below are taken by the browser test, which drives the real binary in headless Chromium
through a downstream outage and its repair.

## What an operator sees after a downstream outage

While the downstream fails, the events a trigger selects turn amber (*retrying*) and their detail page lists each
failed attempt with the downstream's status and error. When a trigger's retries run out the event turns red
(*dead*) and a dead letter appears. Once the downstream is back, open **Dead letters**, tick the events (or the
header box for all of them), press **Replay selected**, and confirm: each event is sent again with fresh retries,
its dead letter leaves the list, and its state turns green (*delivered*) with the replayed attempt marked *replay*.

## Security

- With ` + "`admin.token`" + ` set, every page needs a login; the session cookie is an HMAC-signed value derived from
  the token (never the token), HttpOnly, SameSite=Strict and Secure over TLS; it lasts 12 hours, and **Log out**
  ends it. Changing the token ends every session.
- Every state change is a POST form carrying a per-session CSRF token, checked in constant time, and refused
  when the browser says it comes from another site (` + "`Sec-Fetch-Site`" + `, ` + "`Origin`" + `). This holds without a
  token too.
- Pages forbid inline scripts and framing (Content-Security-Policy), and everything from a payload is escaped.

`)
	for _, s := range cam.shots {
		fmt.Fprintf(&b, "## %s\n\n![%s](%s)\n\n%s\n\n", s.title, s.title, filepath.ToSlash(filepath.Join(rel, s.file)), s.text)
	}
	if err := os.WriteFile(filepath.Join("..", "docs", "ui.md"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
