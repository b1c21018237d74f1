package web

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/action"
	"github.com/forgehook/forgehook/internal/activity"
	"github.com/forgehook/forgehook/internal/api"
	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/deliver"
	"github.com/forgehook/forgehook/internal/forge/github"
	"github.com/forgehook/forgehook/internal/ingest"
	"github.com/forgehook/forgehook/internal/store"
	"github.com/forgehook/forgehook/internal/trigger"
	"github.com/forgehook/forgehook/internal/verify"
)

const (
	hookSecret = "web-test-hook-secret"
	adminToken = "web-test-admin-token-0123456789"
)

// fixture is a real embedded store fed through the real ingest path, real
// triggers delivering to a real HTTP receiver, and the UI on top.
type fixture struct {
	t      *testing.T
	st     *store.Store
	ingest *ingest.Handler
	runner *deliver.Runner
	ui     *Handler

	status atomic.Int64 // the receiver's answer
	mu     sync.Mutex
	hits   []string // event ids received
}

type fixtureOpts struct {
	token    string
	triggers bool
}

func newFixture(t *testing.T, o fixtureOpts) *fixture {
	t.Helper()
	f := &fixture{t: t}
	f.status.Store(200)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		f.mu.Lock()
		f.hits = append(f.hits, r.Header.Get("X-Forgehook-Event-Id"))
		f.mu.Unlock()
		w.WriteHeader(int(f.status.Load()))
		fmt.Fprintf(w, "receiver says %d", f.status.Load())
	}))
	t.Cleanup(rc.Close)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.st = st

	ep := config.Endpoint{Name: "gh", Provider: "github", Secrets: []config.Secret{hookSecret}}
	p, err := github.New(&ep)
	if err != nil {
		t.Fatal(err)
	}
	ie, err := ingest.NewEndpoint(&ep, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Events take their delivery id as their id here, for readable URLs in
	// the tests (forgehook's own ids are UUIDv7s).
	// The activity chart counts as the app feeds it: new events stored,
	// and every attempt's outcome per trigger.
	act := activity.New(time.Now().Add(-2 * time.Hour))
	f.ingest = ingest.New(ingest.Options{Log: st, AckTimeout: 5 * time.Second,
		NewID: func(_ time.Time, delivery string) string { return delivery },
		Observe: func(o ingest.Outcome) {
			if o.Status == http.StatusOK && !o.Duplicate && !o.Ping {
				act.Add("events", time.Now())
			}
		}})
	f.ingest.SetEndpoints([]*ingest.Endpoint{ie})
	infos := []api.EndpointInfo{
		{Name: "gh", Provider: "github", Path: ingest.Prefix + "gh", Secrets: []string{config.Secret(hookSecret).Fingerprint()}},
		{Name: "quick", Provider: "auto", Path: ingest.Prefix + "<key>", Secrets: []string{config.Secret("other").Fingerprint()}},
	}

	opts := Options{
		Events: st, Dead: st, Token: config.Secret(o.token),
		Endpoints: func() []api.EndpointInfo { return append([]api.EndpointInfo(nil), infos...) },
		Logger:    slog.New(slog.DiscardHandler),
		IngestURL: "http://[::]:8080",
		Activity:  act.Last,
		Totals:    st.Totals,
	}
	if o.triggers {
		cfg := &config.Config{Triggers: []config.Trigger{
			{Name: "deploy", When: `event.kind == "push" && event.branch == "main"`, HTTP: &config.HTTPAction{URL: rc.URL},
				Retry: config.Retry{MaxAttempts: 2, Initial: config.Duration(50 * time.Millisecond), Max: config.Duration(100 * time.Millisecond)}},
			{Name: "tags", When: `event.kind == "tag"`, Log: &config.LogAction{}},
		}}
		ts, err := trigger.Build(cfg, action.Env{Logger: slog.New(slog.DiscardHandler), Stdout: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		r, err := deliver.Start(context.Background(), st, ts, deliver.Options{Observe: func(a store.Attempt, _ time.Time) {
			act.Add(a.Trigger+"/"+a.Outcome, time.Now())
		}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(r.Stop)
		f.runner = r
		opts.Delivery = r
	}
	f.ui = New(opts)
	return f
}

// push sends a signed GitHub push through the ingest handler.
func (f *fixture) push(id, message string) {
	f.t.Helper()
	body := fmt.Sprintf(`{"ref":"refs/heads/main","before":"%040d","after":"%040d","repository":{"full_name":"acme/app","html_url":"https://github.com/acme/app"},"commits":[{"id":"%040d","message":%q}],"sender":{"login":"octocat"}}`, 1, 2, 2, message)
	r := httptest.NewRequest(http.MethodPost, "/hooks/gh", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-GitHub-Event", "push")
	r.Header.Set("X-GitHub-Delivery", id)
	r.Header.Set("X-Hub-Signature-256", verify.Sign(verify.SHA256, verify.Hex, "sha256=", []byte(hookSecret), []byte(body)))
	w := httptest.NewRecorder()
	f.ingest.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		f.t.Fatalf("ingest %s: %d %s", id, w.Code, w.Body)
	}
}

func (f *fixture) hitCount(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, h := range f.hits {
		if h == id {
			n++
		}
	}
	return n
}

// state returns the event's state on trigger deploy.
func (f *fixture) state(id string) string {
	f.t.Helper()
	rec, err := f.st.Get(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	st, err := f.runner.EventStatus(context.Background(), rec, id)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, s := range st {
		if s.Trigger == "deploy" {
			return s.State
		}
	}
	return ""
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// client is a browser: it keeps cookies and sends same-origin headers.
type client struct {
	t       *testing.T
	h       http.Handler
	cookies map[string]*http.Cookie
}

func newClient(t *testing.T, h http.Handler) *client {
	return &client{t: t, h: h, cookies: map[string]*http.Cookie{}}
}

type answer struct {
	code int
	body string
	hdr  http.Header
}

func (c *client) do(method, target string, form url.Values, hdr ...string) answer {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, target, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			r.Header.Del(hdr[i])
		} else {
			r.Header.Set(hdr[i], hdr[i+1])
		}
	}
	for _, ck := range c.cookies {
		r.AddCookie(ck)
	}
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, r)
	for _, ck := range w.Result().Cookies() {
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck
		}
	}
	return answer{w.Code, w.Body.String(), w.Header()}
}

func (c *client) get(target string) answer { c.t.Helper(); return c.do(http.MethodGet, target, nil) }

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token of a page's forms.
func (c *client) csrf(page string) string {
	c.t.Helper()
	a := c.get(page)
	m := csrfField.FindStringSubmatch(a.body)
	if a.code != 200 || m == nil {
		c.t.Fatalf("GET %s: %d, no CSRF field:\n%s", page, a.code, a.body)
	}
	return m[1]
}

func (c *client) login() {
	c.t.Helper()
	a := c.do(http.MethodPost, "/login", url.Values{"token": {adminToken}, "next": {"/events"}})
	if a.code != http.StatusSeeOther || a.hdr.Get("Location") != "/events" {
		c.t.Fatalf("login: %d %s", a.code, a.hdr.Get("Location"))
	}
}

func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	missing := false
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s: missing %q", what, w)
			missing = true
		}
	}
	if missing {
		t.Logf("%s body:\n%s", what, body)
	}
}

// formToken returns the CSRF token of the browser's session, for pages
// that show no form.
func (c *client) formToken() string {
	c.t.Helper()
	h := c.h.(*Handler)
	if ck := c.cookies[sessionCookie]; ck != nil {
		s, ok := h.keys.parseSession(ck.Value, time.Now())
		if !ok {
			c.t.Fatal("bad session cookie")
		}
		return h.keys.csrfToken(s.nonce)
	}
	ck := c.cookies[csrfCookie]
	if ck == nil {
		c.t.Fatal("no CSRF cookie: load a page first")
	}
	return h.keys.csrfToken(ck.Value)
}

func TestWebPagesRenderRealData(t *testing.T) {
	f := newFixture(t, fixtureOpts{triggers: true})
	f.push("evt-ok", "fix the build")
	waitFor(t, "delivery of evt-ok", func() bool { return f.state("evt-ok") == "delivered" })
	f.status.Store(500)
	f.push("evt-bad", "break it")
	waitFor(t, "dead letter of evt-bad", func() bool { return f.state("evt-bad") == "dead" })

	c := newClient(t, f.ui)
	if a := c.get("/"); a.code != http.StatusSeeOther || a.hdr.Get("Location") != "/events" {
		t.Errorf("GET /: %d %q, want a redirect to /events", a.code, a.hdr.Get("Location"))
	}

	a := c.get("/events")
	if a.code != 200 {
		t.Fatalf("GET /events: %d\n%s", a.code, a.body)
	}
	mustContain(t, "events", a.body, `href="/events/evt-ok"`, `href="/events/evt-bad"`, "acme/app", "refs/heads/main",
		`class="badge s-delivered">delivered<`, `class="badge s-dead">dead<`, `data-live="/events?fragment=rows"`,
		// One readable line per event, with the short sha.
		"octocat pushed 1 commit to main: fix the build", "octocat pushed 1 commit to main: break it", `<code class="sha">0000000</code>`,
		// The chart of events per minute: both in the current minute (or the last two).
		`<svg class="chart"`, "Events received per minute, last hour")
	if !strings.Contains(a.body, ": 2 events</title>") && !strings.Contains(a.body, ": 1 events</title>") {
		t.Errorf("the events chart does not count the two events:\n%s", a.body)
	}
	if i, j := strings.Index(a.body, "evt-bad"), strings.Index(a.body, "evt-ok"); i > j {
		t.Errorf("events are not newest first")
	}
	if h := a.hdr.Get("Content-Security-Policy"); !strings.Contains(h, "script-src 'self'") {
		t.Errorf("CSP %q", h)
	}

	// Filters: by status, kind, repository, endpoint; paging.
	if a := c.get("/events?status=dead"); !strings.Contains(a.body, "evt-bad") || strings.Contains(a.body, `href="/events/evt-ok"`) {
		t.Errorf("status=dead filter:\n%s", a.body)
	}
	if a := c.get("/events?kind=tag"); strings.Contains(a.body, "evt-") || !strings.Contains(a.body, "No events match these filters") {
		t.Errorf("kind=tag filter:\n%s", a.body)
	}
	if a := c.get("/events?repository=ACME/app&endpoint=gh"); !strings.Contains(a.body, "evt-ok") {
		t.Errorf("repository filter is case-insensitive:\n%s", a.body)
	}
	rec, _ := f.st.Get(context.Background(), "evt-bad")
	if a := c.get(fmt.Sprintf("/events?before=%d", rec.Seq)); !strings.Contains(a.body, "evt-ok") || strings.Contains(a.body, `href="/events/evt-bad"`) ||
		!strings.Contains(a.body, "← Newest") || strings.Contains(a.body, "data-live") {
		t.Errorf("second page:\n%s", a.body)
	}
	if a := c.get("/events?before=x"); a.code != http.StatusBadRequest {
		t.Errorf("bad cursor: %d", a.code)
	}

	// The live fragment is the table alone.
	a = c.get("/events?fragment=rows")
	if a.code != 200 || strings.Contains(a.body, "<html") || !strings.Contains(a.body, "evt-ok") {
		t.Errorf("fragment: %d\n%s", a.code, a.body)
	}

	// Detail: attributes, redacted headers, body, normalized, attempts.
	a = c.get("/events/evt-bad")
	if a.code != 200 {
		t.Fatalf("GET /events/evt-bad: %d\n%s", a.code, a.body)
	}
	mustContain(t, "detail", a.body,
		"specversion", "dev.forgehook.push", "X-Hub-Signature-256", `class="redacted">[redacted]`,
		`&#34;message&#34;: &#34;break it&#34;`, "octocat", // body pretty-printed
		`<h3>deploy</h3>`, `class="badge s-dead">dead<`, "HTTP 500", "receiver says 500", `class="badge s-failed">failed<`,
		`<h3>tags</h3>`, "not matched", `name="trigger" value="deploy"`, "Replay to all matching triggers",
	)
	if strings.Contains(a.body, hookSecret) {
		t.Errorf("the detail page shows the hook secret")
	}
	if n := strings.Count(a.body, `<td>1</td>`) + strings.Count(a.body, `<td>2</td>`); n < 2 {
		t.Errorf("want two attempts rows, found %d", n)
	}
	if a := c.get("/events/nope"); a.code != http.StatusNotFound {
		t.Errorf("unknown event: %d", a.code)
	}
	// Nothing in flight: the triggers fragment tells the script to stop.
	if a := c.get("/events/evt-bad?fragment=triggers"); a.code != 200 || a.hdr.Get("X-Forgehook-Live") != "stop" || strings.Contains(a.body, "<html") {
		t.Errorf("triggers fragment: %d %v", a.code, a.hdr)
	}

	a = c.get("/dead")
	mustContain(t, "dead", a.body, "evt-bad", "deploy", "target answered: 500 Internal Server Error", `name="sel"`, `name="one"`, "Replay selected")
	a = c.get("/dead?trigger=tags")
	mustContain(t, "dead for tags", a.body, "No dead letters for tags")

	a = c.get("/endpoints")
	mustContain(t, "endpoints stored", a.body, `<dd data-stored>2 events`, "held by the store, since")
	mustContain(t, "endpoints", a.body, `value="http://example.com:8080/hooks/gh"`, config.Secret(hookSecret).Fingerprint(),
		"/hooks/&lt;key&gt;", "named by a secret key", "not yet", `href="/events/evt-bad"`)
	if strings.Contains(a.body, hookSecret) {
		t.Errorf("the endpoints page shows the secret")
	}
	// A Copy button copies a usable URL: the named endpoint has one, the
	// keyed endpoint (its key hidden) none.
	if !strings.Contains(a.body, `data-copy="http://example.com:8080/hooks/gh"`) || strings.Contains(a.body, `data-copy="http://example.com:8080/hooks/&lt;key&gt;"`) {
		t.Errorf("the Copy buttons: want one for /hooks/gh and none for a hidden key")
	}
	if err := f.st.MarkVerified(context.Background(), "gh", "ping", time.Now().Add(-3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "endpoints after ping", c.get("/endpoints").body, "verified", "<code>ping</code>", "3 min ago")

	a = c.get("/triggers")
	mustContain(t, "triggers", a.body, "deploy", "tags", `event.kind == &#34;push&#34; &amp;&amp; event.branch == &#34;main&#34;`,
		"http", "log", "2 attempts", `href="/dead?trigger=deploy"`,
		"Delivery outcomes of deploy per minute", `class="s-delivered"`, `class="s-dead"`, "<th>Last hour</th>",
		// Counted by the store: evt-ok 1 attempt, evt-bad 2 and a dead letter.
		"Attempts · dead letters", `<td data-totals>3 · <a class="badge s-dead" href="/dead?trigger=deploy">1</a></td>`,
		"what the store holds: attempts since")

	if a := c.get("/nope"); a.code != http.StatusNotFound || !strings.Contains(a.body, "Not found") {
		t.Errorf("unknown page: %d", a.code)
	}
	if a := c.get(c.assetURL("app.css")); a.code != 200 || !strings.Contains(a.hdr.Get("Cache-Control"), "immutable") {
		t.Errorf("stylesheet: %d %v", a.code, a.hdr)
	}
}

func (c *client) assetURL(name string) string {
	c.t.Helper()
	return c.h.(*Handler).assets[name]
}

func TestWebEmptyStates(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	c := newClient(t, f.ui)
	mustContain(t, "events", c.get("/events").body, "No events yet", "forgehook send", "No triggers are configured yet")
	mustContain(t, "dead", c.get("/dead").body, "No dead letters")
	mustContain(t, "triggers", c.get("/triggers").body, "No triggers are configured")
	// An event with no trigger is "stored"; its page says why nothing ran.
	f.push("lonely", "hello")
	mustContain(t, "events", c.get("/events").body, `class="badge s-stored">stored<`)
	mustContain(t, "detail", c.get("/events/lonely").body, "No triggers are configured, so this event is only stored")
	// Replaying without triggers explains itself.
	c.get("/events/lonely")
	tok := c.formToken()
	a := c.do(http.MethodPost, "/events/lonely/replay", url.Values{"csrf": {tok}})
	if a.code != http.StatusSeeOther {
		t.Fatalf("replay without triggers: %d", a.code)
	}
	mustContain(t, "flash", c.get("/events/lonely").body, "No triggers are configured: there is nothing to replay to.")
}

func TestWebEscapesHostilePayload(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	const id = `x"><script>alert(1)</script>`
	body := `{"ref":"refs/heads/<b>main</b>","before":"0","after":"1","repository":{"full_name":"acme/<script>alert(2)</script>","html_url":"https://github.com/acme/app"},` +
		`"commits":[{"id":"1","message":"<script>alert(3)</script><img src=x onerror=alert(4)>"}],"sender":{"login":"<script>alert(5)</script>"}}`
	r := httptest.NewRequest(http.MethodPost, "/hooks/gh", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-GitHub-Event", "push")
	r.Header.Set("X-GitHub-Delivery", id)
	r.Header.Set("User-Agent", `<script>alert(6)</script>`)
	r.Header.Set("X-Hub-Signature-256", verify.Sign(verify.SHA256, verify.Hex, "sha256=", []byte(hookSecret), []byte(body)))
	w := httptest.NewRecorder()
	f.ingest.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("ingest: %d %s", w.Code, w.Body)
	}

	c := newClient(t, f.ui)
	list := c.get("/events")
	for _, bad := range []string{"<script>", "<b>main"} {
		if strings.Contains(list.body, bad) {
			t.Errorf("the list shows %q unescaped:\n%s", bad, list.body)
		}
	}
	mustContain(t, "list", list.body, `href="/events/x%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E"`,
		"acme/&lt;script&gt;alert(2)&lt;/script&gt;", "refs/heads/&lt;b&gt;main&lt;/b&gt;")
	a := c.get("/events/" + url.PathEscape(id))
	if a.code != 200 {
		t.Fatalf("detail: %d\n%s", a.code, a.body)
	}
	for _, bad := range []string{"<script>", "<img src=x", "<b>main"} {
		if strings.Contains(a.body, bad) {
			t.Errorf("the detail page shows %q unescaped", bad)
		}
	}
	mustContain(t, "detail", a.body, "acme/&lt;script&gt;alert(2)&lt;/script&gt;", "&lt;script&gt;alert(5)&lt;/script&gt;",
		"&lt;script&gt;alert(6)&lt;/script&gt;", `x&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;`)
	// The body itself, whatever its JSON escaping, is text in a <pre>.
	d := decodeDetail([]byte(`{"data":{"body":"<script>alert(7)</script>"}}`))
	var buf strings.Builder
	if err := f.ui.pages["event"].ExecuteTemplate(&buf, "layout", view{Assets: f.ui.assets, Data: eventData{Detail: d}}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "<script>alert(7)") || !strings.Contains(buf.String(), "&lt;script&gt;alert(7)&lt;/script&gt;") {
		t.Errorf("a body that is not JSON is not escaped:\n%s", buf.String())
	}
}

func TestWebAuthRequiresLogin(t *testing.T) {
	f := newFixture(t, fixtureOpts{token: adminToken})
	c := newClient(t, f.ui)
	for _, p := range []string{"/events", "/events/x", "/dead", "/endpoints", "/triggers", "/nope"} {
		a := c.get(p)
		if a.code != http.StatusSeeOther || a.hdr.Get("Location") != "/login?next="+url.QueryEscape(p) {
			t.Errorf("GET %s without a session: %d %q, want a redirect to the login page", p, a.code, a.hdr.Get("Location"))
		}
	}
	if a := c.get("/events?fragment=rows"); a.code != http.StatusUnauthorized {
		t.Errorf("fragment without a session: %d, want 401", a.code)
	}
	if a := c.do(http.MethodPost, "/dead/replay", url.Values{"one": {"1"}}); a.code != http.StatusUnauthorized {
		t.Errorf("POST without a session: %d, want 401", a.code)
	}
	// The static files and the login page are open.
	if a := c.get(c.assetURL("app.js")); a.code != 200 {
		t.Errorf("script without a session: %d", a.code)
	}
	a := c.get("/login?next=/dead")
	mustContain(t, "login page", a.body, `type="password"`, `name="next" value="/dead"`)

	// A wrong token: 401, no cookie.
	a = c.do(http.MethodPost, "/login", url.Values{"token": {"wrong"}, "next": {"/dead"}})
	if a.code != http.StatusUnauthorized || len(c.cookies) != 0 || !strings.Contains(a.body, "not the admin token") {
		t.Errorf("wrong token: %d cookies %v", a.code, c.cookies)
	}
	if a := c.do(http.MethodPost, "/login", url.Values{"token": {adminToken[:len(adminToken)-1]}}); a.code != http.StatusUnauthorized {
		t.Errorf("token prefix accepted: %d", a.code)
	}
	// A cross-site login post is refused.
	if a := c.do(http.MethodPost, "/login", url.Values{"token": {adminToken}}, "Sec-Fetch-Site", "cross-site"); a.code != http.StatusForbidden {
		t.Errorf("cross-site login: %d, want 403", a.code)
	}

	// The right token: a session cookie that is not the token.
	a = c.do(http.MethodPost, "/login", url.Values{"token": {adminToken}, "next": {"https://evil.example/"}})
	if a.code != http.StatusSeeOther || a.hdr.Get("Location") != "/events" {
		t.Fatalf("login: %d %q (an off-site next must become /events)", a.code, a.hdr.Get("Location"))
	}
	ck := c.cookies[sessionCookie]
	if ck == nil {
		t.Fatal("no session cookie")
	}
	if strings.Contains(ck.Value, adminToken) || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Secure || ck.Path != "/" {
		t.Errorf("session cookie %+v", ck)
	}
	if a := c.get("/events"); a.code != 200 || !strings.Contains(a.body, "Log out") {
		t.Errorf("GET /events with a session: %d", a.code)
	}
	if a := c.get("/login"); a.code != http.StatusSeeOther {
		t.Errorf("login page with a session: %d, want a redirect", a.code)
	}

	// A tampered or foreign cookie opens nothing.
	good := *ck
	for _, v := range []string{good.Value + "x", strings.Replace(good.Value, good.Value[:2], "99", 1), "1.2.3", adminToken} {
		c.cookies[sessionCookie] = &http.Cookie{Name: sessionCookie, Value: v}
		if a := c.get("/events"); a.code != http.StatusSeeOther {
			t.Errorf("cookie %q: %d, want a redirect to login", v, a.code)
		}
	}
	other := New(Options{Events: f.st, Dead: f.st, Token: "another-token"})
	c.cookies[sessionCookie] = &good
	if a := newClientWith(t, other, c.cookies).get("/events"); a.code != http.StatusSeeOther {
		t.Errorf("a session of another token opens: %d", a.code)
	}

	// Over TLS the cookie is Secure.
	r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader("token="+adminToken))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.TLS = &tls.ConnectionState{}
	w := httptest.NewRecorder()
	f.ui.ServeHTTP(w, r)
	if cks := w.Result().Cookies(); len(cks) != 1 || !cks[0].Secure {
		t.Errorf("cookie over TLS: %+v", cks)
	}

	// Logout ends the session, even for a copy of its cookie.
	tok := c.csrf("/events")
	if a := c.do(http.MethodPost, "/logout", url.Values{"csrf": {tok}}); a.code != http.StatusSeeOther || a.hdr.Get("Location") != "/login" {
		t.Fatalf("logout: %d %q", a.code, a.hdr.Get("Location"))
	}
	if c.cookies[sessionCookie] != nil {
		t.Errorf("logout left the session cookie")
	}
	mustContain(t, "login after logout", c.get("/login").body, "Logged out.")
	c.cookies[sessionCookie] = &good
	if a := c.get("/events"); a.code != http.StatusSeeOther {
		t.Errorf("a logged-out session still opens: %d", a.code)
	}
}

func newClientWith(t *testing.T, h http.Handler, cookies map[string]*http.Cookie) *client {
	c := newClient(t, h)
	for k, v := range cookies {
		c.cookies[k] = v
	}
	return c
}

func TestWebSessionExpires(t *testing.T) {
	f := newFixture(t, fixtureOpts{token: adminToken})
	now := time.Now()
	ui := New(Options{Events: f.st, Dead: f.st, Token: adminToken, SessionTTL: time.Hour, Now: func() time.Time { return now }})
	c := newClient(t, ui)
	c.login()
	if a := c.get("/events"); a.code != 200 {
		t.Fatalf("fresh session: %d", a.code)
	}
	now = now.Add(time.Hour + time.Second)
	if a := c.get("/events"); a.code != http.StatusSeeOther {
		t.Errorf("expired session: %d, want a redirect to login", a.code)
	}
}

func TestWebCSRFOnReplay(t *testing.T) {
	f := newFixture(t, fixtureOpts{token: adminToken, triggers: true})
	f.status.Store(500)
	f.push("dead-1", "first")
	f.push("dead-2", "second")
	waitFor(t, "two dead letters", func() bool { return f.state("dead-1") == "dead" && f.state("dead-2") == "dead" })
	list, _, err := f.st.ListDead(context.Background(), "", 0, 10)
	if err != nil || len(list) != 2 {
		t.Fatalf("dead letters: %v %v", list, err)
	}
	seq1, seq2 := list[1].Seq, list[0].Seq // newest first
	if list[1].EventID != "dead-1" {
		seq1, seq2 = seq2, seq1
	}

	c := newClient(t, f.ui)
	c.login()
	tok := c.csrf("/dead")
	one := func(extra ...string) url.Values {
		v := url.Values{"one": {fmt.Sprint(seq1)}}
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		return v
	}
	f.status.Store(200)
	for name, tc := range map[string]struct {
		form url.Values
		hdr  []string
	}{
		"no token":              {form: one()},
		"empty token":           {form: one("csrf", "")},
		"wrong token":           {form: one("csrf", otherFirstChar(tok))},
		"token, other spelling": {form: one("csrf", otherLastBits(tok))},
		"other session":         {form: one("csrf", New(Options{Events: f.st, Dead: f.st, Token: adminToken}).keys.csrfToken(randomToken(nonceLen)))},
		"cross-site":            {form: one("csrf", tok), hdr: []string{"Sec-Fetch-Site", "cross-site"}},
		"foreign origin":        {form: one("csrf", tok), hdr: []string{"Sec-Fetch-Site", "", "Origin", "https://evil.example"}},
		"event: no token":       {form: url.Values{"trigger": {"deploy"}}},
		"event: wrong token":    {form: url.Values{"trigger": {"deploy"}, "csrf": {"AAAA"}}},
		"event: cross-site ok":  {form: url.Values{"trigger": {"deploy"}, "csrf": {tok}}, hdr: []string{"Sec-Fetch-Site", "cross-site"}},
	} {
		target := "/dead/replay"
		if strings.HasPrefix(name, "event:") {
			target = "/events/dead-2/replay"
		}
		if a := c.do(http.MethodPost, target, tc.form, tc.hdr...); a.code != http.StatusForbidden {
			t.Errorf("%s: POST %s answered %d, want 403", name, target, a.code)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if n := f.hitCount("dead-1") + f.hitCount("dead-2"); n != 4 {
		t.Fatalf("refused replays reached the receiver: %d hits, want the 4 original attempts", n)
	}

	// The right token: 303 back to the list, and the replay is delivered.
	a := c.do(http.MethodPost, "/dead/replay", one("csrf", tok))
	if a.code != http.StatusSeeOther || a.hdr.Get("Location") != "/dead" {
		t.Fatalf("replay with the CSRF token: %d %q\n%s", a.code, a.hdr.Get("Location"), a.body)
	}
	waitFor(t, "the replay of dead-1 to be delivered", func() bool { return f.state("dead-1") == "delivered" })
	if n := f.hitCount("dead-1"); n != 3 {
		t.Errorf("dead-1 reached the receiver %d times, want 3 (2 failures, 1 replay)", n)
	}
	page := c.get("/dead")
	mustContain(t, "dead after replay", page.body, "Replayed 1 dead letter: dead-1 → deploy.", "dead-2")
	if strings.Contains(page.body, `href="/events/dead-1"`) {
		t.Errorf("the replayed dead letter is still listed")
	}
	// The flash shows once.
	if strings.Contains(c.get("/dead").body, "Replayed 1 dead letter") {
		t.Errorf("the flash message shows twice")
	}
	// Replaying the same one again says so.
	c.do(http.MethodPost, "/dead/replay", one("csrf", tok))
	mustContain(t, "replay again", c.get("/dead").body, "already replayed or expired")

	// Selected replay, and the per-event replay button.
	a = c.do(http.MethodPost, "/dead/replay", url.Values{"csrf": {tok}, "sel": {fmt.Sprint(seq2)}})
	if a.code != http.StatusSeeOther {
		t.Fatalf("replay selected: %d", a.code)
	}
	waitFor(t, "the replay of dead-2", func() bool { return f.state("dead-2") == "delivered" })
	mustContain(t, "dead after all replays", c.get("/dead").body, "No dead letters")

	a = c.do(http.MethodPost, "/events/dead-2/replay", url.Values{"csrf": {tok}, "trigger": {"deploy"}})
	if a.code != http.StatusSeeOther || a.hdr.Get("Location") != "/events/dead-2" {
		t.Fatalf("event replay: %d %q", a.code, a.hdr.Get("Location"))
	}
	waitFor(t, "the event replay", func() bool { return f.hitCount("dead-2") == 4 })
	mustContain(t, "detail after replay", c.get("/events/dead-2").body, "Replay queued to deploy.", `<span class="chip">replay</span>`)
	c.do(http.MethodPost, "/events/dead-2/replay", url.Values{"csrf": {tok}, "trigger": {"nope"}})
	mustContain(t, "unknown trigger", c.get("/events/dead-2").body, "Replay refused: unknown trigger")
	c.do(http.MethodPost, "/events/dead-2/replay", url.Values{"csrf": {tok}})
	mustContain(t, "replay to all", c.get("/events/dead-2").body, "Replay queued to deploy.")
}

func TestWebNoTokenStillNeedsCSRF(t *testing.T) {
	f := newFixture(t, fixtureOpts{triggers: true})
	f.push("e1", "one")
	c := newClient(t, f.ui)
	// No login page without a token.
	if a := c.get("/login"); a.code != http.StatusSeeOther {
		t.Errorf("login page without a token: %d", a.code)
	}
	// A form post from a browser that never loaded a page has no nonce.
	if a := c.do(http.MethodPost, "/events/e1/replay", url.Values{"csrf": {"x"}}); a.code != http.StatusForbidden {
		t.Errorf("POST without the CSRF cookie: %d, want 403", a.code)
	}
	tok := c.csrf("/events/e1")
	ck := c.cookies[csrfCookie]
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
		t.Fatalf("CSRF cookie %+v", ck)
	}
	if a := c.do(http.MethodPost, "/events/e1/replay", url.Values{"csrf": {"bad"}}); a.code != http.StatusForbidden {
		t.Errorf("wrong CSRF token: %d, want 403", a.code)
	}
	if a := c.do(http.MethodPost, "/events/e1/replay", url.Values{"csrf": {tok}}); a.code != http.StatusSeeOther {
		t.Errorf("right CSRF token: %d, want 303", a.code)
	}
	// Another browser's token does not work with this browser's cookie.
	other := newClient(t, f.ui)
	other.get("/events")
	otherTok := other.formToken()
	if a := c.do(http.MethodPost, "/events/e1/replay", url.Values{"csrf": {otherTok}}); a.code != http.StatusForbidden {
		t.Errorf("another browser's CSRF token: %d, want 403", a.code)
	}
}

func TestWebRelTime(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for d, want := range map[time.Duration]string{
		time.Second: "just now", 42 * time.Second: "42s ago", 5 * time.Minute: "5 min ago", 3 * time.Hour: "3 h ago",
		72 * time.Hour: "3 days ago", -30 * time.Second: "in 30s",
	} {
		if got := relTime(now.Add(-d), now); got != want {
			t.Errorf("relTime(-%s) = %q, want %q", d, got, want)
		}
	}
	if got := relTime(time.Time{}, now); got != "never" {
		t.Errorf("zero time: %q", got)
	}
}

func TestWebSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/dead?trigger=x": "/dead?trigger=x", "": "/events", "//evil.example/": "/events", "/\\evil.example": "/events",
		"https://evil.example/": "/events", "javascript:alert(1)": "/events", "/login?next=/x": "/events",
		"/\t/evil.example": "/events", "/events/a%2Fb": "/events/a%2Fb",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWebIngestBase(t *testing.T) {
	for _, tc := range []struct{ ingest, host, want string }{
		{"http://[::]:8080", "admin.internal:8081", "http://admin.internal:8080"},
		{"http://0.0.0.0:8080", "127.0.0.1:8081", "http://127.0.0.1:8080"},
		{"http://:8080", "[::1]:8081", "http://[::1]:8080"},
		{"https://hooks.example.com", "127.0.0.1:8081", "https://hooks.example.com"},
		{"", "x", ""},
	} {
		h := &Handler{opts: Options{IngestURL: tc.ingest}}
		r := httptest.NewRequest(http.MethodGet, "/endpoints", nil)
		r.Host = tc.host
		if got := h.ingestBase(r); got != tc.want {
			t.Errorf("ingestBase(%q, host %q) = %q, want %q", tc.ingest, tc.host, got, tc.want)
		}
	}
}

func TestWebCountsHooks(t *testing.T) {
	f := newFixture(t, fixtureOpts{triggers: true})
	ui := New(Options{
		Events: f.st, Dead: f.st, Delivery: f.runner,
		Endpoints: func() []api.EndpointInfo {
			return []api.EndpointInfo{{Name: "gh", Provider: "github", Path: "/hooks/gh"}}
		},
		EndpointCounts: func(name string) (EndpointCounts, bool) {
			return EndpointCounts{Accepted: 7, Duplicates: 2, Rejected: map[string]uint64{"bad signature": 3}}, name == "gh"
		},
		TriggerCounts: func(name string) (TriggerCounts, bool) {
			return TriggerCounts{Delivered: 11, Failed: 4, Dead: 1}, name == "deploy"
		},
	})
	c := newClient(t, ui)
	mustContain(t, "endpoints", c.get("/endpoints").body, "7 accepted", "2 duplicate", "bad signature: 3")
	mustContain(t, "triggers", c.get("/triggers").body, "<td>11</td><td>4</td><td>1</td>", ">Delivered</th>")
}

// otherFirstChar returns tok with its first character changed.
func otherFirstChar(tok string) string {
	if tok[0] == 'A' {
		return "B" + tok[1:]
	}
	return "A" + tok[1:]
}

// otherLastBits returns tok with the unused low bits of its last base64
// character set: the same bytes to a lax decoder, another token to us.
func otherLastBits(tok string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, tok[len(tok)-1])
	return tok[:len(tok)-1] + string(alphabet[i|3])
}

func TestWebLoginThrottlesGuessing(t *testing.T) {
	f := newFixture(t, fixtureOpts{token: adminToken})
	now := time.Now()
	ui := New(Options{Events: f.st, Dead: f.st, Token: adminToken, Now: func() time.Time { return now }})
	c := newClient(t, ui)
	for i := range failedLoginLimit {
		if a := c.do(http.MethodPost, "/login", url.Values{"token": {fmt.Sprint("guess-", i)}}); a.code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d, want 401", i+1, a.code)
		}
	}
	// Past the limit even the right token is refused, for the rest of the window.
	a := c.do(http.MethodPost, "/login", url.Values{"token": {adminToken}})
	if a.code != http.StatusTooManyRequests || a.hdr.Get("Retry-After") == "" || len(c.cookies) != 0 {
		t.Fatalf("after %d failures: %d Retry-After %q cookies %v; want 429 and no session", failedLoginLimit, a.code, a.hdr.Get("Retry-After"), c.cookies)
	}
	mustContain(t, "throttled login page", a.body, "Too many failed logins")
	now = now.Add(failedLoginWindow)
	c.login()
}
