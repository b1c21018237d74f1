package httpaction

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ceevent "github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/forgehook/forgehook/internal/action"
	"github.com/forgehook/forgehook/internal/action/actiontest"
	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/forgetest"
	"github.com/forgehook/forgehook/internal/forge/gitea"
	"github.com/forgehook/forgehook/internal/forge/github"
	"github.com/forgehook/forgehook/internal/forge/gitlab"
)

// swSecret is a Standard Webhooks signing secret: "whsec_" and the base64
// of 32 bytes.
var swSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("forgehook-test-key-0123456789abc"))

// signers is the Env.Signer of the tests: the providers' own signers.
func signers(id string) forge.Signer {
	var p forge.Provider
	switch id {
	case github.Name:
		p, _ = github.New(nil)
	case gitlab.Name:
		p, _ = gitlab.New(nil)
	case gitea.Name:
		p, _ = gitea.New(nil)
	default:
		return nil
	}
	return p.(forge.Signer)
}

// captured is one request a receiver got.
type captured struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
	// Request is a copy of the request whose body reads Body again.
	Request *http.Request
}

// receiver starts a server that answers status to every request and
// hands each one over on the returned channel.
func receiver(t testing.TB, status int) (*httptest.Server, <-chan captured) {
	t.Helper()
	ch := make(chan captured, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("receiver: read body: %v", err)
		}
		r2 := r.Clone(context.Background())
		r2.Body = io.NopCloser(bytes.NewReader(body))
		select {
		case ch <- captured{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body, Request: r2}:
		default:
			t.Errorf("receiver: too many requests")
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, "ok %d", status)
	}))
	t.Cleanup(srv.Close)
	return srv, ch
}

// newAction builds an http action from block or fails the test.
func newAction(t testing.TB, block map[string]any) *Action {
	t.Helper()
	a, err := build(block, action.Env{Signer: signers})
	if err != nil {
		t.Fatalf("New(%v): %v", block, err)
	}
	t.Cleanup(func() { _ = a.(*Action).Close() })
	return a.(*Action)
}

// send runs one Do of a built from block against a fresh receiver
// answering 200, and returns what the receiver got.
func send(t *testing.T, block map[string]any, in action.Input) captured {
	t.Helper()
	srv, ch := receiver(t, http.StatusOK)
	block["url"] = srv.URL + "/hook"
	a := newAction(t, block)
	res, err := a.Do(context.Background(), in)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if res.Status != http.StatusOK || res.Output != "ok 200" {
		t.Errorf("Result = %+v, want status 200 and output %q", res, "ok 200")
	}
	select {
	case c := <-ch:
		return c
	default:
		t.Fatal("the receiver got no request")
		return captured{}
	}
}

func TestHTTPActionConformance(t *testing.T) {
	for _, format := range []string{FormatCloudEvents, FormatBinary, FormatOriginal} {
		t.Run(format, func(t *testing.T) {
			actiontest.Run(t, func(t *testing.T, target string) action.Action {
				return newAction(t, map[string]any{"url": target, "format": format, "secret": swSecret})
			}, actiontest.Options{Secret: swSecret, IDHeader: HeaderEventID})
		})
	}
}

func TestHTTPActionStructured(t *testing.T) {
	in := actiontest.Event(t)
	c := send(t, map[string]any{"secret": swSecret}, in)
	if c.Method != http.MethodPost || c.Path != "/hook" {
		t.Errorf("request %s %s, want POST /hook", c.Method, c.Path)
	}
	if !bytes.Equal(c.Body, in.Record.Raw()) {
		t.Errorf("body is not the stored record:\n got %.200s\nwant %.200s", c.Body, in.Record.Raw())
	}
	for k, want := range map[string]string{
		"Content-Type":         "application/cloudevents+json",
		"User-Agent":           "forgehook",
		"X-Forgehook-Event-Id": in.Record.ID(),
		"Webhook-Id":           in.Record.ID(),
	} {
		if got := c.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}

	// The official SDK reads it as a CloudEvent, both from the JSON and
	// through its HTTP binding.
	e := ceevent.New()
	if err := json.Unmarshal(c.Body, &e); err != nil {
		t.Fatalf("sdk-go: unmarshal structured event: %v", err)
	}
	checkEvent(t, &e, in)
	e2, err := cehttp.NewEventFromHTTPRequest(c.Request)
	if err != nil {
		t.Fatalf("sdk-go http binding: %v", err)
	}
	checkEvent(t, e2, in)

	// The independent Standard Webhooks library accepts the signature.
	wh, err := standardwebhooks.NewWebhook(swSecret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(c.Body, c.Header); err != nil {
		t.Errorf("standard-webhooks: Verify: %v", err)
	}
	other, _ := standardwebhooks.NewWebhook("whsec_" + base64.StdEncoding.EncodeToString([]byte("another-key-of-thirty-two-bytes!")))
	if err := other.Verify(c.Body, c.Header); err == nil {
		t.Error("standard-webhooks: Verify with another secret succeeded")
	}
}

// checkEvent compares a CloudEvent read by sdk-go with the record of in.
func checkEvent(t *testing.T, e *ceevent.Event, in action.Input) {
	t.Helper()
	ev := actiontest.Decoded(t, in)
	if err := e.Validate(); err != nil {
		t.Errorf("sdk-go: Validate: %v", err)
	}
	for _, c := range []struct{ name, got, want string }{
		{"specversion", e.SpecVersion(), "1.0"},
		{"id", e.ID(), ev.ID},
		{"source", e.Source(), ev.Source},
		{"type", e.Type(), "dev.forgehook.push"},
		{"subject", e.Subject(), "refs/heads/master"},
		{"datacontenttype", e.DataContentType(), "application/json"},
		{"time", e.Time().UTC().Format(time.RFC3339Nano), ev.Time.UTC().Format(time.RFC3339Nano)},
	} {
		if c.got != c.want {
			t.Errorf("sdk-go: %s = %q, want %q", c.name, c.got, c.want)
		}
	}
	ext := e.Extensions()
	for k, want := range map[string]string{
		"forge": "github", "forgeevent": "push", "forgeaction": ev.ForgeAction,
		"endpoint": actiontest.Endpoint, "forgedelivery": ev.Delivery,
	} {
		if got := fmt.Sprint(ext[k]); got != want {
			t.Errorf("sdk-go: extension %s = %q, want %q", k, got, want)
		}
	}
	var data struct {
		Header     map[string][]string `json:"header"`
		Body       json.RawMessage     `json:"body"`
		Normalized struct {
			Kind   string `json:"kind"`
			Branch string `json:"branch"`
		} `json:"normalized"`
	}
	if err := json.Unmarshal(e.Data(), &data); err != nil {
		t.Fatalf("sdk-go: data: %v", err)
	}
	if data.Normalized.Kind != "push" || data.Normalized.Branch != "master" {
		t.Errorf("sdk-go: data.normalized = %+v, want a push to master", data.Normalized)
	}
	if !bytes.Equal(data.Body, ev.Data.Body) {
		t.Errorf("sdk-go: data.body differs from the forge's payload")
	}
}

func TestHTTPActionBinary(t *testing.T) {
	in := actiontest.Event(t)
	c := send(t, map[string]any{"format": "binary", "secret": swSecret}, in)
	e, err := cehttp.NewEventFromHTTPRequest(c.Request)
	if err != nil {
		t.Fatalf("sdk-go http binding: %v", err)
	}
	checkEvent(t, e, in)
	if got := c.Header.Get("Ce-Id"); got != in.Record.ID() {
		t.Errorf("ce-id = %q, want the event id %q", got, in.Record.ID())
	}
	if got := c.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	var rec struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(in.Record.Raw(), &rec); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c.Body, rec.Data) {
		t.Error("binary body is not the record's data, byte for byte")
	}
	wh, _ := standardwebhooks.NewWebhook(swSecret)
	if err := wh.Verify(c.Body, c.Header); err != nil {
		t.Errorf("standard-webhooks: Verify: %v", err)
	}
	if got, want := c.Header.Get("X-Forgehook-Event-Id"), in.Record.ID(); got != want {
		t.Errorf("X-Forgehook-Event-Id = %q, want %q", got, want)
	}
}

// TestHTTPActionArgo: format argo sends Argo Events' event shape, whose
// data.body is the forge's body and data.header its redacted headers (the
// paths an Argo sensor reads: body.ref, header.X-Github-Event), signed
// with Standard Webhooks headers.
func TestHTTPActionArgo(t *testing.T) {
	in := actiontest.Event(t)
	c := send(t, map[string]any{"format": "argo", "secret": swSecret}, in)
	if got := c.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	var env struct {
		Context struct {
			ID, Type, Source string
		} `json:"context"`
		Data struct {
			Header map[string][]string `json:"header"`
			Body   struct {
				Ref string `json:"ref"`
			} `json:"body"`
		} `json:"data"`
	}
	if err := json.Unmarshal(c.Body, &env); err != nil {
		t.Fatalf("body: %v", err)
	}
	if env.Context.ID != in.Record.ID() || env.Context.Type != "github" || env.Context.Source != actiontest.Endpoint {
		t.Errorf("context = %+v", env.Context)
	}
	if env.Data.Body.Ref != "refs/heads/master" || len(env.Data.Header["X-Github-Event"]) != 1 || env.Data.Header["X-Github-Event"][0] != "push" {
		t.Errorf("body.ref = %q, header.X-Github-Event = %v", env.Data.Body.Ref, env.Data.Header["X-Github-Event"])
	}
	if sig := env.Data.Header["X-Hub-Signature-256"]; len(sig) != 1 || sig[0] != "[redacted]" {
		t.Errorf("the forge's signature header is not redacted: %v", sig)
	}
	wh, _ := standardwebhooks.NewWebhook(swSecret)
	if err := wh.Verify(c.Body, c.Header); err != nil {
		t.Errorf("standard-webhooks: Verify: %v", err)
	}
}

func TestHTTPActionBinaryPercentEncoding(t *testing.T) {
	in := actiontest.Event(t)
	const subject = `tags/v1 "ünï" 100%`
	in = actiontest.Edit(t, in, func(ev *event.Event) { ev.Subject = subject })
	c := send(t, map[string]any{"format": "binary"}, in)
	raw := c.Header.Get("Ce-Subject")
	if want := `tags/v1%20%22%C3%BCn%C3%AF%22%20100%25`; raw != want {
		t.Errorf("ce-subject = %q, want %q", raw, want)
	}
	if got, err := url.PathUnescape(raw); err != nil || got != subject {
		t.Errorf("ce-subject decodes to %q (%v), want %q", got, err, subject)
	}
	for k, v := range c.Header {
		for _, s := range v {
			for i := 0; i < len(s); i++ {
				if s[i] < 0x20 || s[i] > 0x7e {
					t.Errorf("header %s has a byte %#x outside printable ASCII", k, s[i])
				}
			}
		}
	}
	if c.Header.Get("Webhook-Signature") != "" {
		t.Error("webhook-signature sent without a secret")
	}
}

// loadFixture reads a provider's recorded delivery.
func loadFixture(t *testing.T, forgeDir, name string) *forgetest.Fixture {
	t.Helper()
	f, err := forgetest.Load(filepath.Join("..", "..", "forge", forgeDir, "testdata", "deliveries", name))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestHTTPActionOriginal(t *testing.T) {
	ghp, _ := github.New(&config.Endpoint{})
	glp, _ := gitlab.New(&config.Endpoint{})
	gtp, _ := gitea.New(&config.Endpoint{})
	gl := loadFixture(t, "gitlab", "push.txtar")
	gt := loadFixture(t, "gitea", "capture-09-form-push-hooktest-api.txtar")
	for _, tc := range []struct {
		name     string
		p        forge.Provider
		in       action.Input
		secret   string
		keep     []string // original headers that must be sent on
		dropped  []string // original headers that must not
		signedBy []string // headers the re-signing sets
	}{
		{
			name: "github", p: ghp, in: actiontest.Event(t), secret: "target-github-secret",
			keep:     []string{"X-Github-Event", "X-Github-Delivery", "X-Github-Hook-Id", "User-Agent"},
			dropped:  []string{"Accept"},
			signedBy: []string{"X-Hub-Signature-256", "X-Hub-Signature"},
		},
		{
			name: "gitlab-token", p: glp, in: actiontest.Record(t, glp, "gl", gl.Header, gl.Body), secret: "target-gitlab-token",
			keep:     []string{"X-Gitlab-Event", "X-Gitlab-Instance", "Idempotency-Key", "X-Gitlab-Webhook-Uuid", "User-Agent"},
			signedBy: []string{"X-Gitlab-Token"},
		},
		{
			name: "gitlab-signing-token", p: glp, in: actiontest.Record(t, glp, "gl", gl.Header, gl.Body), secret: swSecret,
			keep:     []string{"X-Gitlab-Event", "Idempotency-Key"},
			signedBy: []string{"Webhook-Signature", "Webhook-Id", "Webhook-Timestamp"},
		},
		{
			name: "gitea-form", p: gtp, in: actiontest.Record(t, gtp, "gt", gt.Header, gt.Body), secret: "target-gitea-secret",
			keep:     []string{"X-Gitea-Event", "X-Gitea-Delivery", "X-Github-Event"},
			dropped:  []string{"Authorization", "Host", "Content-Length"},
			signedBy: []string{"X-Gitea-Signature", "X-Hub-Signature-256"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := send(t, map[string]any{"format": "original", "secret": tc.secret}, tc.in)
			if !bytes.Equal(c.Body, actiontest.Decoded(t, tc.in).Data.Body) {
				t.Errorf("body is not the forge's payload:\n got %.120s\nwant %.120s", c.Body, actiontest.Decoded(t, tc.in).Data.Body)
			}
			req := &forge.Request{Header: c.Header, Body: c.Body, Payload: c.Body, Received: time.Now()}
			if err := tc.p.Verify(req, []config.Secret{config.Secret(tc.secret)}); err != nil {
				t.Errorf("%s's own Verify rejects the re-signed delivery: %v", tc.p.Name(), err)
			}
			if err := tc.p.Verify(req, []config.Secret{"some-other-secret"}); err == nil {
				t.Errorf("%s's own Verify accepts the delivery under another secret", tc.p.Name())
			}
			if _, err := tc.p.Inspect(c.Header); err != nil {
				t.Errorf("%s's Inspect: %v", tc.p.Name(), err)
			}
			for _, k := range tc.keep {
				if got, want := c.Header.Get(k), actiontest.Decoded(t, tc.in).Data.Header[k]; len(want) == 0 || got != want[0] {
					t.Errorf("header %s = %q, want the original %q", k, got, want)
				}
			}
			for _, k := range tc.dropped {
				if _, ok := actiontest.Decoded(t, tc.in).Data.Header[k]; !ok {
					t.Fatalf("test bug: the record has no %s header", k)
				}
				if v := c.Header.Get(k); v != "" && (k != "Content-Length" || v != fmt.Sprint(len(c.Body))) {
					t.Errorf("header %s = %q was sent on", k, v)
				}
			}
			for _, k := range tc.signedBy {
				if c.Header.Get(k) == "" {
					t.Errorf("header %s not set by the signer", k)
				}
			}
			for k, v := range c.Header {
				for _, s := range v {
					if s == "[redacted]" {
						t.Errorf("header %s sent with the redacted placeholder", k)
					}
				}
			}
			if got := c.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", got)
			}
			if got := c.Header.Get(HeaderEventID); got != tc.in.Record.ID() {
				t.Errorf("%s = %q, want %q", HeaderEventID, got, tc.in.Record.ID())
			}
			if got, want := c.Header.Get("User-Agent"), actiontest.Decoded(t, tc.in).Data.Header["User-Agent"]; len(want) == 0 || got != want[0] {
				t.Errorf("User-Agent = %q, want the forge's %q", got, want)
			}
		})
	}
}

// TestHTTPActionOriginalForwardsOnlyForgeHeaders: of the headers a
// delivery arrived with, format original sends on only the forge's own;
// headers a client or proxy added are not forwarded, whether or not the
// record redacted them, signed or not.
func TestHTTPActionOriginalForwardsOnlyForgeHeaders(t *testing.T) {
	ghp, _ := github.New(&config.Endpoint{})
	fx := loadFixture(t, "github", "push.with-new-branch.txtar")
	h := fx.Header.Clone()
	foreign := map[string]string{
		"X-Http-Method-Override": "DELETE", "X-Method-Override": "PUT", "Cookie": "session=abc",
		"Authorization": "Bearer stolen", "X-Forwarded-For": "10.0.0.1", "X-Forwarded-Host": "evil.example",
		"X-Forwarded-Proto": "http", "X-Forwarded-Port": "80", "X-Real-Ip": "10.0.0.1", "Forwarded": "for=10.0.0.1",
		"X-Original-Url": "/admin", "X-Rewrite-Url": "/admin", "Accept-Encoding": "gzip", "X-Custom": "1",
	}
	for k, v := range foreign {
		h.Set(k, v)
	}
	in := actiontest.Record(t, ghp, "gh", h, fx.Body)
	// The record as stored redacts Authorization and Cookie; a record
	// that did not must not leak them either.
	unredacted := actiontest.Edit(t, in, func(ev *event.Event) {
		ev.Data.Header = map[string][]string{}
		for k, v := range h {
			ev.Data.Header[k] = v
		}
	})
	own := []string{"X-Github-Event", "X-Github-Delivery", "X-Github-Hook-Id",
		"X-Github-Hook-Installation-Target-Type", "X-Github-Hook-Installation-Target-Id", "User-Agent"}
	for _, tc := range []struct {
		name   string
		in     action.Input
		secret string
	}{{"stored unsigned", in, ""}, {"stored signed", in, "target"}, {"unredacted unsigned", unredacted, ""}, {"unredacted signed", unredacted, "target"}} {
		t.Run(tc.name, func(t *testing.T) {
			block := map[string]any{"format": "original"}
			if tc.secret != "" {
				block["secret"] = tc.secret
			}
			c := send(t, block, tc.in)
			for k := range foreign {
				if v := c.Header.Get(k); v != "" && (k != "Accept-Encoding" || v != "gzip") {
					t.Errorf("%s: %q forwarded", k, v)
				}
			}
			if c.Method != http.MethodPost {
				t.Errorf("method %s, want POST", c.Method)
			}
			for _, k := range own {
				if got := c.Header.Get(k); got == "" || got != fx.Header.Get(k) {
					t.Errorf("%s = %q, want the forge's %q", k, got, fx.Header.Get(k))
				}
			}
			sig := c.Header.Get("X-Hub-Signature-256")
			switch {
			case tc.secret == "" && sig != "":
				t.Errorf("unsigned delivery carries X-Hub-Signature-256 %q", sig)
			case tc.secret != "" && sig == "":
				t.Error("signed delivery lacks X-Hub-Signature-256")
			}
		})
	}
}

func TestHTTPActionOriginalNoSigner(t *testing.T) {
	in := actiontest.Edit(t, actiontest.Event(t), func(ev *event.Event) { ev.Forge = "dockerhub" })
	srv, ch := receiver(t, http.StatusOK)
	a, err := build(map[string]any{"url": srv.URL, "format": "original", "secret": "s3cr3t"}, action.Env{Signer: signers})
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.Do(context.Background(), in)
	if !errors.Is(err, ErrNoSigner) || res.Retry {
		t.Errorf("Do = %+v, %v; want ErrNoSigner without Retry", res, err)
	}
	if len(ch) != 0 {
		t.Error("a request was sent")
	}
	// A nil Env.Signer is the same.
	a, _ = build(map[string]any{"url": srv.URL, "format": "original", "secret": "s3cr3t"}, action.Env{})
	if _, err := a.Do(context.Background(), actiontest.Event(t)); !errors.Is(err, ErrNoSigner) {
		t.Errorf("nil Env.Signer: error %v, want ErrNoSigner", err)
	}

	// Without a secret nothing is signed, and no signer is needed.
	c := send(t, map[string]any{"format": "original"}, in)
	for k := range c.Header {
		if strings.Contains(strings.ToLower(k), "signature") {
			t.Errorf("unsigned original delivery has header %s", k)
		}
	}
}

func TestHTTPActionHeadersAndMethod(t *testing.T) {
	in := actiontest.Event(t)
	c := send(t, map[string]any{
		"method":  "put",
		"headers": map[string]any{"Authorization": "Bearer tok-123", "x-tenant": "acme"},
	}, in)
	if c.Method != http.MethodPut {
		t.Errorf("method %s, want PUT", c.Method)
	}
	if got := c.Header.Get("Authorization"); got != "Bearer tok-123" {
		t.Errorf("Authorization = %q", got)
	}
	if got := c.Header.Get("X-Tenant"); got != "acme" {
		t.Errorf("X-Tenant = %q", got)
	}
	if c.Header.Get("Webhook-Signature") != "" || c.Header.Get("Webhook-Id") != "" {
		t.Error("Standard Webhooks headers sent without a secret")
	}
}

func TestHTTPActionUserinfoIsBasicAuth(t *testing.T) {
	srv, ch := receiver(t, http.StatusOK)
	u, _ := url.Parse(srv.URL)
	u.User = url.UserPassword("deployer", "pw-in-url")
	a := newAction(t, map[string]any{"url": u.String() + "/hook"})
	if _, err := a.Do(context.Background(), actiontest.Event(t)); err != nil {
		t.Fatal(err)
	}
	c := <-ch
	if user, pass, ok := c.Request.BasicAuth(); !ok || user != "deployer" || pass != "pw-in-url" {
		t.Errorf("basic auth = %q %q %v, want the URL's userinfo", user, pass, ok)
	}
}

func TestHTTPActionTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	a := newAction(t, map[string]any{"url": srv.URL, "timeout": "100ms"})
	start := time.Now()
	res, err := a.Do(context.Background(), actiontest.Event(t))
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Do took %v with a 100ms timeout", d)
	}
	if err == nil || !res.Retry {
		t.Fatalf("Do = %+v, %v; want a retried failure", res, err)
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no response within 100ms") {
		t.Errorf("error %q: want it to wrap context.DeadlineExceeded and say no response within 100ms", err)
	}
	if a.timeout != 100*time.Millisecond {
		t.Errorf("timeout %v", a.timeout)
	}
	if d := newAction(t, map[string]any{"url": srv.URL}).timeout; d != DefaultTimeout {
		t.Errorf("default timeout %v, want %v", d, DefaultTimeout)
	}
}

func TestHTTPActionRetryOn(t *testing.T) {
	srv, _ := receiver(t, http.StatusConflict)
	for _, tc := range []struct {
		block map[string]any
		retry bool
	}{
		{map[string]any{"url": srv.URL}, false},
		{map[string]any{"url": srv.URL, "retry_on": []any{409}}, true},
		{map[string]any{"url": srv.URL, "retry_on": []any{404, 425}}, false},
	} {
		a := newAction(t, tc.block)
		res, err := a.Do(context.Background(), actiontest.Event(t))
		if !errors.Is(err, ErrStatus) || res.Status != http.StatusConflict || res.Retry != tc.retry {
			t.Errorf("%v: Do = %+v, %v; want ErrStatus, 409, Retry %v", tc.block["retry_on"], res, err, tc.retry)
		}
	}
}

func TestHTTPActionRedirect(t *testing.T) {
	other, otherCh := receiver(t, http.StatusOK)
	for _, code := range []int{301, 302, 307, 308} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, _ := url.Parse(other.URL)
			u.User = url.UserPassword("u", "redirect-pw")
			u.Path, u.RawQuery = "/elsewhere", "token=redirect-tok"
			http.Redirect(w, r, u.String(), code)
		}))
		a := newAction(t, map[string]any{"url": srv.URL + "/hook"})
		res, err := a.Do(context.Background(), actiontest.Event(t))
		srv.Close()
		if !errors.Is(err, ErrRedirect) || res.Retry || res.Status != code {
			t.Errorf("%d: Do = %+v, %v; want ErrRedirect, no Retry, status %d", code, res, err, code)
			continue
		}
		if want := strings.TrimPrefix(other.URL, "http://") + "/elsewhere?token=xxxxx"; !strings.Contains(err.Error(), want) {
			t.Errorf("%d: error %q does not name the Location %q", code, err, want)
		}
		actiontest.AssertNoSecret(t, "redirect-pw", err, res)
		actiontest.AssertNoSecret(t, "redirect-tok", err, res)
	}
	if len(otherCh) != 0 {
		t.Error("a redirect was followed")
	}
}

func TestHTTPActionNoSecretLeak(t *testing.T) {
	const pw, tok, hdr = "url-password-42", "query-token-42", "header-credential-42"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	u.User = url.UserPassword("user", pw)
	u.Path, u.RawQuery = "/hook", "key="+tok
	var things []any
	for _, format := range []string{"cloudevents", "binary", "original"} {
		a := newAction(t, map[string]any{"url": u.String(), "format": format, "secret": swSecret, "headers": map[string]any{"X-Api-Key": hdr}})
		res, err := a.Do(context.Background(), actiontest.Event(t))
		if err == nil {
			t.Fatal("no error from a 502")
		}
		things = append(things, err, res)
	}
	// An unreachable target: the transport's error.
	srv.Close()
	a := newAction(t, map[string]any{"url": u.String(), "secret": swSecret})
	res, err := a.Do(context.Background(), actiontest.Event(t))
	if err == nil || !res.Retry {
		t.Fatalf("unreachable: %+v, %v", res, err)
	}
	things = append(things, err, res)
	// Configuration errors.
	for _, block := range []map[string]any{
		{"url": "ftp://user:" + pw + "@host/?key=" + tok},
		{"url": "http://user:" + pw + "@host:port/"},
		{"url": "http://user:" + pw + "@host/", "format": "xml", "secret": swSecret},
		{"url": "http://user:" + pw + "@host/", "headers": map[string]any{"Bad Name": hdr}},
		{"url": "http://user:" + pw + "@host/", "headers": map[string]any{"X-Ok": hdr + "\n"}},
	} {
		_, err := build(block, action.Env{})
		if err == nil {
			t.Fatalf("New(%v): no error", block)
		}
		things = append(things, err)
	}
	for _, s := range []string{pw, tok, hdr, swSecret} {
		actiontest.AssertNoSecret(t, s, things...)
	}
	if !strings.Contains(fmt.Sprint(things[0]), "/hook?key=xxxxx") {
		t.Errorf("error %q does not name the redacted target", things[0])
	}
}

func TestHTTPActionConfig(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte(swSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		block map[string]any
		err   string // "" for success
	}{
		{map[string]any{"url": "https://h/x"}, ""},
		{map[string]any{"url": "https://h/x", "secret_file": secretFile}, ""},
		{map[string]any{}, "url: required"},
		{map[string]any{"url": "  "}, "url: required"},
		{map[string]any{"url": "ftp://h/x"}, `url: scheme "ftp" is not http or https`},
		{map[string]any{"url": "h/x"}, `url: scheme "" is not http or https`},
		{map[string]any{"url": "http:///x"}, "url: no host"},
		{map[string]any{"url": "http://h:x/"}, "url: not a valid URL"},
		{map[string]any{"url": "https://h/x", "format": "xml"}, `format: "xml" is not one of cloudevents, binary, original`},
		{map[string]any{"url": "https://h/x", "method": "GET"}, `method: "GET" is not one of POST, PUT, PATCH`},
		{map[string]any{"url": "https://h/x", "timeout": "3x"}, `timeout: invalid duration "3x"`},
		{map[string]any{"url": "https://h/x", "timeout": "-1s"}, "timeout: must not be negative"},
		{map[string]any{"url": "https://h/x", "retry_on": []any{200}}, "retry_on[0]: 200 is not a 4xx status"},
		{map[string]any{"url": "https://h/x", "retry_on": []any{503}}, "retry_on[0]: 503 is not a 4xx status"},
		{map[string]any{"url": "https://h/x", "headers": map[string]any{"content-type": "text/plain"}}, `headers: "content-type" is set by the action`},
		{map[string]any{"url": "https://h/x", "headers": map[string]any{"ce-id": "x"}}, `headers: "ce-id" is set by the action`},
		{map[string]any{"url": "https://h/x", "headers": map[string]any{"Webhook-Signature": "x"}}, `headers: "Webhook-Signature" is set by the action`},
		{map[string]any{"url": "https://h/x", "headers": map[string]any{"a b": "x"}}, `headers.a b: "a b" is not a valid HTTP header name`},
		{map[string]any{"url": "https://h/x", "headers": map[string]any{"X-A": "1", "x-a": "2"}}, `is given twice`},
		{map[string]any{"url": "https://h/x", "secret": "a", "secret_file": secretFile}, "secret_file: set either secret or secret_file, not both"},
		{map[string]any{"url": "https://h/x", "secret_file": filepath.Join(dir, "none")}, "secret_file: cannot read"},
		{map[string]any{"url": "https://h/x", "sekret": "a"}, `sekret: unknown key (did you mean "secret"?)`},
	} {
		a, err := build(tc.block, action.Env{})
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("New(%v): %v", tc.block, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("New(%v) = %v, want an error containing %q", tc.block, err, tc.err)
		case tc.err != "" && err != nil && a != nil:
			t.Errorf("New(%v) returned an action with its error", tc.block)
		}
	}
	a := newAction(t, map[string]any{"url": "https://h/x", "secret_file": secretFile})
	if a.secret.Reveal() != swSecret {
		t.Error("secret_file: the secret was not read, or its newline not trimmed")
	}
	if a.format != FormatCloudEvents || a.method != http.MethodPost || a.timeout != DefaultTimeout {
		t.Errorf("defaults: format %q, method %q, timeout %v", a.format, a.method, a.timeout)
	}
}

func TestHTTPActionOutputExcerpt(t *testing.T) {
	big := strings.Repeat("é", action.OutputLimit) // 2 bytes a rune
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, big)
	}))
	t.Cleanup(srv.Close)
	a := newAction(t, map[string]any{"url": srv.URL})
	res, err := a.Do(context.Background(), actiontest.Event(t))
	if err == nil || !res.Retry {
		t.Fatalf("Do = %+v, %v", res, err)
	}
	body, _ := strings.CutSuffix(res.Output, "\n[... truncated]")
	if len(body) > action.OutputLimit || len(body) < action.OutputLimit-1 || !strings.HasPrefix(big, body) {
		t.Errorf("Output has %d bytes before the marker, want a rune-aligned prefix of about %d", len(body), action.OutputLimit)
	}
	if !strings.HasSuffix(res.Output, "[... truncated]") {
		t.Error("Output has no truncation marker")
	}
	if strings.Contains(err.Error(), "é") {
		t.Error("the error repeats the response body")
	}
}

func TestHTTPActionRecordViews(t *testing.T) {
	// Each format reads what it needs of the stored record: the id and
	// the bytes, the attributes, or the whole record.
	for _, format := range []string{FormatCloudEvents, FormatBinary, FormatOriginal} {
		in := actiontest.Event(t)
		ev := actiontest.Decoded(t, in)
		c := send(t, map[string]any{"format": format}, in)
		want := in.Record.Raw()
		switch format {
		case FormatBinary:
			if c.Header.Get("Ce-Id") != ev.ID {
				t.Errorf("binary: ce-id %q, want %q", c.Header.Get("Ce-Id"), ev.ID)
			}
		case FormatOriginal:
			want = ev.Data.Body
		}
		if format != FormatBinary && !bytes.Equal(c.Body, want) || c.Header.Get(HeaderEventID) != ev.ID {
			t.Errorf("%s: %s %q and %d bytes; want %q and %d bytes", format, HeaderEventID, c.Header.Get(HeaderEventID), len(c.Body), ev.ID, len(want))
		}
	}
	for _, raw := range []string{`{"time":"2026-01-02T03:04:05Z"}`, `{"id":"x","time":"yesterday"}`, `not json`} {
		a := newAction(t, map[string]any{"url": "http://127.0.0.1:9/"})
		if res, err := a.Do(context.Background(), action.Input{Record: action.NewRecord([]byte(raw))}); err == nil || res.Retry {
			t.Errorf("record %s: %+v, %v; want a failure without Retry", raw, res, err)
		}
	}
	a := newAction(t, map[string]any{"url": "http://127.0.0.1:9/"})
	if res, err := a.Do(context.Background(), action.Input{}); err == nil || res.Retry {
		t.Errorf("empty input: %+v, %v; want a failure without Retry", res, err)
	}
}

func TestHTTPActionRetryable(t *testing.T) {
	for code, want := range map[int]bool{400: false, 401: false, 404: false, 408: true, 409: false, 429: true, 500: true, 501: true, 599: true, 600: false} {
		if got := Retryable(code, nil); got != want {
			t.Errorf("Retryable(%d) = %v, want %v", code, got, want)
		}
	}
	if !Retryable(409, []int{409}) || Retryable(410, []int{409}) {
		t.Error("Retryable ignores extra")
	}
}

func BenchmarkHTTPActionStructured(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(srv.Close)
	a := newAction(b, map[string]any{"url": srv.URL + "/hook", "secret": swSecret})
	in := actiontest.Event(b)
	ctx := context.Background()
	b.SetBytes(int64(len(in.Record.Raw())))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Do(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHTTPActionStructuredParallel is the http action of the
// end-to-end benchmark: the stored record in cloudevents format, no
// secret, 64 deliveries at once to a receiver that reads the body and
// answers 204.
func BenchmarkHTTPActionStructuredParallel(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(srv.Close)
	a := newAction(b, map[string]any{"url": srv.URL + "/hook"})
	in := actiontest.Event(b)
	ctx := context.Background()
	b.SetBytes(int64(len(in.Record.Raw())))
	b.ReportAllocs()
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := a.Do(ctx, in); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// build decodes block as the configuration loader would and builds the
// action from it.
func build(block map[string]any, env action.Env) (action.Action, error) {
	return actiontest.Build(block, env, New)
}
