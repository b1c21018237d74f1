package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/all"
	"github.com/forgehook/forgehook/internal/ingest"
	"github.com/forgehook/forgehook/internal/sample"
	"github.com/forgehook/forgehook/internal/store"
	"github.com/forgehook/forgehook/internal/verify"
)

// sendSecret has the "user:password" form, which every forge's scheme
// accepts (Gerrit and Azure DevOps send it as HTTP Basic credentials).
const sendSecret = "send-user:s3cr3t-Q9x"

// captured is one request a test server received.
type captured struct {
	method string
	url    *url.URL
	header http.Header
	body   []byte
}

// newReceiver starts a server that answers status with answer and hands
// over every request it receives.
func newReceiver(t *testing.T, status int, answer string) (*httptest.Server, <-chan captured) {
	t.Helper()
	ch := make(chan captured, 64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ch <- captured{r.Method, r.URL, r.Header.Clone(), b}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	return srv, ch
}

func receive(t *testing.T, ch <-chan captured) captured {
	t.Helper()
	select {
	case c := <-ch:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no request received")
		return captured{}
	}
}

// cli runs forgehook with args and returns its exit code and output.
func cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = Main(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

// ingestRequest builds the forge.Request that ingest builds from c: the
// exact body, the query, and the JSON payload decoded by content type.
func ingestRequest(t *testing.T, c captured) *forge.Request {
	t.Helper()
	req := &forge.Request{Header: c.header, Body: c.body, Query: c.url.Query(), Received: time.Now()}
	mt, _, err := mime.ParseMediaType(c.header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("content type %q: %v", c.header.Get("Content-Type"), err)
	}
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		req.Payload = c.body
	case mt == "application/x-www-form-urlencoded":
		v, err := url.ParseQuery(string(c.body))
		if err != nil || !v.Has("payload") {
			t.Fatalf("form body: %v, fields %v", err, v)
		}
		req.Payload, req.Form = []byte(v.Get("payload")), true
	default:
		t.Fatalf("content type %q: ingest would answer 415", mt)
	}
	return req
}

func newProvider(t *testing.T, name string) forge.Provider {
	t.Helper()
	p, err := all.Registry().New(&config.Endpoint{Name: "send-test", Provider: name})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// checkDelivery verifies c with p's own verifier under secret, checks that
// another secret fails, and returns the Meta and kind p reads from it.
func checkDelivery(t *testing.T, p forge.Provider, c captured, secret string) (forge.Meta, event.Kind) {
	t.Helper()
	if c.method != http.MethodPost {
		t.Errorf("method %s", c.method)
	}
	req := ingestRequest(t, c)
	if err := p.Verify(req, []config.Secret{config.Secret(secret)}); err != nil {
		t.Fatalf("%s's verifier rejects the delivery: %v", p.Name(), err)
	}
	if err := p.Verify(req, []config.Secret{"another-user:another-secret"}); !errors.Is(err, verify.ErrBadSignature) {
		t.Errorf("verify with another secret = %v, want ErrBadSignature", err)
	}
	m, err := forge.InspectRequest(p, req.Header, req.Payload)
	if err != nil {
		t.Fatalf("inspect: %v", err)
	}
	f, err := p.Normalize(m, req.Payload)
	if err != nil {
		t.Fatalf("normalize: %v", err)
	}
	return m, f.Kind
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestSendEveryProviderAndKind sends every example of every registered
// forge, JSON and (where the forge has it) form-encoded, and checks the
// captured request with the forge's own ingest verifier, inspector and
// normalizer.
func TestSendEveryProviderAndKind(t *testing.T) {
	srv, ch := newReceiver(t, http.StatusOK, `{"id":"x","duplicate":false}`)
	names := forgeNames()
	if len(names) < 10 {
		t.Fatalf("only %d forges registered", len(names))
	}
	for _, n := range names {
		p := newProvider(t, n)
		desc, _ := all.Registry().Descriptor(n)
		kinds := sample.Kinds(desc)
		if len(kinds) == 0 {
			t.Errorf("%s: no example deliveries", n)
		}
		modes := []bool{false}
		if desc.Form != forge.FormNone {
			modes = append(modes, true)
		}
		for _, k := range kinds {
			for _, form := range modes {
				name := n + "/" + k
				args := []string{"send", "--provider", n, "--event", k, "--secret", sendSecret}
				if form {
					name += "/form"
					args = append(args, "--form")
				}
				t.Run(name, func(t *testing.T) {
					code, out, errOut := cli(t, append(args, srv.URL+"/hooks/ep")...)
					if code != 0 {
						t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
					}
					if !strings.HasPrefix(out, "HTTP/1.1 200 OK\n") || !strings.Contains(out, `{"id":"x","duplicate":false}`) {
						t.Errorf("stdout %q", out)
					}
					if strings.Contains(out+errOut, sendSecret) {
						t.Errorf("the secret is printed:\n%s%s", out, errOut)
					}
					c := receive(t, ch)
					s, err := forgeSample(n, k)
					if err != nil {
						t.Fatal(err)
					}
					req := ingestRequest(t, c)
					if !bytes.Equal(req.Payload, s.Payload) {
						t.Errorf("payload is not the example's exact bytes")
					}
					if req.Form != form {
						t.Errorf("form %v, want %v", req.Form, form)
					}
					m, kind := checkDelivery(t, p, c, sendSecret)
					if string(kind) != k {
						t.Errorf("normalized kind %q, want %q", kind, k)
					}
					if len(desc.DeliveryHeaders) > 0 {
						if !uuidRE.MatchString(m.Delivery) {
							t.Errorf("delivery id %q is not a fresh UUID", m.Delivery)
						}
						if old, _ := forge.InspectRequest(p, s.Header, s.Payload); old.Delivery == m.Delivery {
							t.Errorf("delivery id %q is the example's", m.Delivery)
						}
					}
					if !strings.Contains(errOut, n+" "+k) || !strings.Contains(errOut, s.Fixture) {
						t.Errorf("stderr does not say what was sent:\n%s", errOut)
					}
				})
			}
		}
	}
}

// TestSendFormSignatures pins which bytes each form-capable forge's
// signature covers: the form body (GitHub, CODING) or the JSON (Gitea,
// Forgejo, Gogs).
func TestSendFormSignatures(t *testing.T) {
	srv, ch := newReceiver(t, http.StatusOK, `{}`)
	key := [][]byte{[]byte(sendSecret)}
	for _, c := range []struct {
		provider, header, prefix string
		alg                      verify.Algorithm
		overBody                 bool
	}{
		{"github", "X-Hub-Signature-256", "sha256=", verify.SHA256, true},
		{"coding", "X-Coding-Signature", "sha1=", verify.SHA1, true},
		{"gitea", "X-Gitea-Signature", "", verify.SHA256, false},
		{"forgejo", "X-Forgejo-Signature", "", verify.SHA256, false},
		{"gogs", "X-Gogs-Signature", "", verify.SHA256, false},
	} {
		code, out, errOut := cli(t, "send", "--provider", c.provider, "--form", "--secret", sendSecret, srv.URL)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s%s", c.provider, code, out, errOut)
		}
		req := ingestRequest(t, receive(t, ch))
		signed := req.Payload
		if c.overBody {
			signed = req.Body
		}
		if err := verify.HMAC(c.alg, verify.Hex, c.prefix, req.Header.Get(c.header), signed, key); err != nil {
			t.Errorf("%s: %s does not sign the %s: %v", c.provider, c.header, map[bool]string{true: "form body", false: "JSON payload"}[c.overBody], err)
		}
	}
}

// TestSendDeliveryID checks fresh ids per send, and --delivery in every
// header the forge sends its id in.
func TestSendDeliveryID(t *testing.T) {
	srv, ch := newReceiver(t, http.StatusOK, `{}`)
	ids := map[string]bool{}
	for range 2 {
		if code, out, errOut := cli(t, "send", "--provider", "github", "--secret", sendSecret, srv.URL); code != 0 {
			t.Fatalf("exit %d: %s%s", code, out, errOut)
		}
		ids[receive(t, ch).header.Get("X-GitHub-Delivery")] = true
	}
	if len(ids) != 2 {
		t.Errorf("two sends, delivery ids %v", ids)
	}
	for provider, headers := range map[string][]string{
		"github":           {"X-GitHub-Delivery"},
		"gitea":            {"X-Gitea-Delivery", "X-Gogs-Delivery", "X-GitHub-Delivery"},
		"forgejo":          {"X-Forgejo-Delivery", "X-Gitea-Delivery", "X-Gogs-Delivery", "X-GitHub-Delivery"},
		"gitlab":           {"X-Gitlab-Webhook-UUID", "Idempotency-Key", "X-Gitlab-Event-UUID"},
		"bitbucket":        {"X-Request-UUID"},
		"bitbucket-server": {"X-Request-Id"},
		"coding":           {"X-Coding-Delivery"},
		"atomgit":          {"X-AtomGit-Delivery"},
	} {
		if code, out, errOut := cli(t, "send", "--provider", provider, "--delivery", "fixed-id-1", "--secret", sendSecret, srv.URL); code != 0 {
			t.Fatalf("%s: exit %d: %s%s", provider, code, out, errOut)
		}
		c := receive(t, ch)
		for _, h := range headers {
			if got := c.header.Get(h); got != "fixed-id-1" {
				t.Errorf("%s: %s = %q, want the --delivery id", provider, h, got)
			}
		}
		m, _ := checkDelivery(t, newProvider(t, provider), c, sendSecret)
		if m.Delivery != "fixed-id-1" {
			t.Errorf("%s: Inspect reads delivery %q", provider, m.Delivery)
		}
	}
	code, _, errOut := cli(t, "send", "--provider", "gitee", "--delivery", "fixed-id-1", "--secret", sendSecret, srv.URL)
	receive(t, ch)
	if code != 0 || !strings.Contains(errOut, "--delivery ignored") {
		t.Errorf("gitee --delivery: exit %d, stderr %s", code, errOut)
	}
}

// TestSendGitLabSigningToken checks a GitLab signing token ("whsec_"): a
// Standard Webhooks signature whose webhook-id is the delivery's
// Idempotency-Key, instead of X-Gitlab-Token.
func TestSendGitLabSigningToken(t *testing.T) {
	srv, ch := newReceiver(t, http.StatusOK, `{}`)
	const token = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	code, out, errOut := cli(t, "send", "--provider", "gitlab", "--event", "pull_request", "--secret", token, srv.URL)
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, token) {
		t.Error("the signing token is printed")
	}
	c := receive(t, ch)
	if c.header.Get("X-Gitlab-Token") != "" || c.header.Get("Webhook-Signature") == "" {
		t.Fatalf("headers %v", c.header)
	}
	if c.header.Get("Webhook-Id") != c.header.Get("Idempotency-Key") {
		t.Errorf("webhook-id %q, Idempotency-Key %q", c.header.Get("Webhook-Id"), c.header.Get("Idempotency-Key"))
	}
	if _, kind := checkDelivery(t, newProvider(t, "gitlab"), c, token); kind != event.KindPullRequest {
		t.Errorf("kind %s", kind)
	}
}

func TestSendSecretSources(t *testing.T) {
	srv, ch := newReceiver(t, http.StatusOK, `{}`)
	p := newProvider(t, "github")

	file := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(file, []byte(sendSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := cli(t, "send", "--provider", "github", "--secret-file", file, srv.URL); code != 0 {
		t.Fatalf("--secret-file: exit %d: %s%s", code, out, errOut)
	}
	checkDelivery(t, p, receive(t, ch), sendSecret)

	var o, e bytes.Buffer
	env := &Env{Stdout: &o, Stderr: &e, Getenv: func(k string) string {
		if k == SendSecretEnv {
			return sendSecret
		}
		return ""
	}}
	if err := runSend(context.Background(), env, []string{"--provider", "github", srv.URL}); err != nil {
		t.Fatalf("$%s: %v", SendSecretEnv, err)
	}
	checkDelivery(t, p, receive(t, ch), sendSecret)

	// --secret wins over the environment.
	if err := runSend(context.Background(), env, []string{"--provider", "github", "--secret", "flag-secret", srv.URL}); err != nil {
		t.Fatal(err)
	}
	checkDelivery(t, p, receive(t, ch), "flag-secret")

	// Without a secret: no credential at all, and the user is told.
	code, _, errOut := cli(t, "send", "--provider", "gitea", srv.URL)
	if code != 0 || !strings.Contains(errOut, "credentials: none") {
		t.Errorf("unsigned: exit %d, stderr %s", code, errOut)
	}
	c := receive(t, ch)
	for k := range c.header {
		if event.IsCredentialHeader(k) {
			t.Errorf("unsigned delivery carries %s", k)
		}
	}
	err := newProvider(t, "gitea").Verify(ingestRequest(t, c), []config.Secret{sendSecret})
	if !errors.Is(err, verify.ErrMissingSignature) {
		t.Errorf("unsigned delivery: verify = %v", err)
	}
}

func TestSendHeaderFlag(t *testing.T) {
	srv, ch := newReceiver(t, http.StatusOK, `{}`)
	code, out, errOut := cli(t, "send", srv.URL+"/hooks/a", "--provider", "bitbucket", "--header", "X-Extra: one", "--header", "X-Attempt-Number:2", "--secret", sendSecret)
	if code != 0 {
		t.Fatalf("flags after the URL: exit %d: %s%s", code, out, errOut)
	}
	c := receive(t, ch)
	if c.header.Get("X-Extra") != "one" || c.header.Get("X-Attempt-Number") != "2" || c.url.Path != "/hooks/a" {
		t.Errorf("headers %v, path %s", c.header, c.url.Path)
	}
	checkDelivery(t, newProvider(t, "bitbucket"), c, sendSecret)
}

// TestSendNon2xx checks that a refusal is printed and fails the command.
func TestSendNon2xx(t *testing.T) {
	srv, ch := newReceiver(t, http.StatusUnauthorized, `{"error":"invalid signature or token"}`)
	code, out, errOut := cli(t, "send", "--provider", "gitlab", "--secret", sendSecret, srv.URL+"?token=url-secret-1")
	receive(t, ch)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(out, "401 Unauthorized") || !strings.Contains(out, "invalid signature or token") {
		t.Errorf("stdout %q", out)
	}
	if !strings.Contains(errOut, "answered 401 Unauthorized") {
		t.Errorf("stderr %q", errOut)
	}
	if strings.Contains(out+errOut, "url-secret-1") || strings.Contains(out+errOut, sendSecret) {
		t.Errorf("a secret is printed:\n%s%s", out, errOut)
	}
}

// TestSendDoesNotFollowRedirects: like the forges, a 3xx is the answer.
func TestSendDoesNotFollowRedirects(t *testing.T) {
	target, targetCh := newReceiver(t, http.StatusOK, `{}`)
	srv := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusFound))
	t.Cleanup(srv.Close)
	code, out, _ := cli(t, "send", "--provider", "github", "--secret", sendSecret, srv.URL)
	if code != 1 || !strings.HasPrefix(out, "HTTP/1.1 302 Found") {
		t.Errorf("exit %d, stdout %q", code, out)
	}
	select {
	case <-targetCh:
		t.Error("the redirect was followed")
	default:
	}
}

// TestSendConnectionErrorHidesSecrets checks the error of an unreachable
// URL, which Go's client words with the whole URL.
func TestSendConnectionErrorHidesSecrets(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := strings.Replace(srv.URL, "http://", "http://user:url-pass-1@", 1) + "/hooks/x?token=url-secret-1&a=b"
	srv.Close()
	code, out, errOut := cli(t, "send", "--provider", "github", "--secret", sendSecret, "--timeout", "5s", u)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, s := range []string{"url-pass-1", "url-secret-1", sendSecret} {
		if strings.Contains(out+errOut, s) {
			t.Errorf("%q printed:\n%s%s", s, out, errOut)
		}
	}
	if !strings.Contains(errOut, "POST http://xxxxx@") || !strings.Contains(errOut, "token=xxxxx") {
		t.Errorf("stderr %q", errOut)
	}
}

func TestSendUsageErrors(t *testing.T) {
	dir := t.TempDir()
	sf := filepath.Join(dir, "s")
	os.WriteFile(sf, []byte("x"), 0o600)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"send", "http://127.0.0.1:1/"}, "--provider is required"},
		{[]string{"send", "--provider", "github"}, "give one URL"},
		{[]string{"send", "--provider", "github", "a", "b"}, "give one URL"},
		{[]string{"send", "--provider", "github", "ftp://x/"}, "not an http(s) URL"},
		{[]string{"send", "--provider", "nosuch", "http://127.0.0.1:1/"}, "nosuch"},
		{[]string{"send", "--provider", "auto", "http://127.0.0.1:1/"}, "send as a forge"},
		{[]string{"send", "--provider", "github", "--file", "no-such-file.json", "http://127.0.0.1:1/"}, "--file"},
		{[]string{"send", "--provider", "github", "--event", "nosuch", "http://127.0.0.1:1/"}, "github has: push, tag"},
		{[]string{"send", "--provider", "gitlab", "--form", "http://127.0.0.1:1/"}, "does not send form-encoded"},
		{[]string{"send", "--provider", "github", "--secret", "a", "--secret-file", sf, "http://127.0.0.1:1/"}, "not both"},
		{[]string{"send", "--provider", "github", "--header", "nocolon", "http://127.0.0.1:1/"}, "Name:value"},
		{[]string{"send", "--provider", "github", "--nosuchflag", "http://127.0.0.1:1/"}, "nosuchflag"},
	} {
		code, _, errOut := cli(t, c.args...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, errOut, c.want)
		}
	}
	// Usage errors exit 2; a missing file is an ordinary failure.
	if code, _, errOut := cli(t, "send", "--provider", "generic", "http://127.0.0.1:1/"); code != 2 {
		t.Errorf("generic: exit %d: %s", code, errOut)
	}
	if code, _, errOut := cli(t, "send", "--provider", "github", "--event", "nosuch", "http://127.0.0.1:1/"); code != 2 {
		t.Errorf("unknown kind: exit %d: %s", code, errOut)
	}
}

func TestSendList(t *testing.T) {
	code, out, _ := cli(t, "send", "--list")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, d := range sortedForges() {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(d.ID) + ` +` + regexp.QuoteMeta(strings.Join(sample.Kinds(d), " ")) + `$`).MatchString(out) {
			t.Errorf("--list has no line for %s:\n%s", d.ID, out)
		}
	}
}

// TestSendFile sends your own payloads: a JSON file with the headers of an
// example, and fixtures whose forge is told from their headers and whose
// recorded signatures are replaced.
func TestSendFile(t *testing.T) {
	srv, ch := newReceiver(t, http.StatusOK, `{}`)
	dir := t.TempDir()

	s, err := forgeSample("gitea", "issue")
	if err != nil {
		t.Fatal(err)
	}
	own := filepath.Join(dir, "issue.json")
	if err := os.WriteFile(own, append(s.Payload, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := cli(t, "send", "--provider", "gitea", "--event", "issue", "--file", own, "--secret", sendSecret, srv.URL); code != 0 {
		t.Fatalf("JSON file: exit %d: %s%s", code, out, errOut)
	}
	c := receive(t, ch)
	if !bytes.Equal(c.body, s.Payload) || c.header.Get("X-Gitea-Event") != "issues" {
		t.Errorf("JSON file: body or headers not sent as given: %v", c.header)
	}
	if _, kind := checkDelivery(t, newProvider(t, "gitea"), c, sendSecret); kind != event.KindIssue {
		t.Errorf("JSON file: kind %s", kind)
	}
	if code, _, errOut := cli(t, "send", "--file", own, srv.URL); code != 2 || !strings.Contains(errOut, "--provider is required") {
		t.Errorf("JSON file without --provider: exit %d: %s", code, errOut)
	}

	for _, fx := range []struct{ path, provider string }{
		{"../forge/github/testdata/deliveries/push.with-new-branch.form.txtar", "github"},
		{"../forge/gitlab/testdata/deliveries/push_secret_token_gitlab16.txtar", "gitlab"},
		{"../forge/bitbucketserver/testdata/deliveries/goscm-pr-open.txtar", "bitbucket-server"},
	} {
		code, out, errOut := cli(t, "send", "--file", fx.path, "--secret", sendSecret, srv.URL)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s%s", fx.path, code, out, errOut)
		}
		c := receive(t, ch)
		checkDelivery(t, newProvider(t, fx.provider), c, sendSecret)
		if !strings.Contains(errOut, "  "+fx.provider+" ") {
			t.Errorf("%s: not sent as %s:\n%s", fx.path, fx.provider, errOut)
		}
		if fx.provider == "github" && !ingestRequest(t, c).Form {
			t.Errorf("%s: a form fixture is sent as JSON", fx.path)
		}
	}

	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("not json\n"), 0o644)
	if code, _, errOut := cli(t, "send", "--provider", "github", "--file", bad, srv.URL); code != 1 || !strings.Contains(errOut, "neither JSON nor a fixture") {
		t.Errorf("bad file: exit %d: %s", code, errOut)
	}
}

func TestSendNewDeliveryID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := newDeliveryID()
		if !uuidRE.MatchString(id) || seen[id] {
			t.Fatalf("id %q (repeat %v)", id, seen[id])
		}
		seen[id] = true
	}
}

// TestSendToIngest sends to a real ingest handler backed by a real
// embedded store: the events are accepted, stored under the kind, a
// repeated --delivery is a duplicate, a wrong secret is refused, and a
// ping is answered as one.
func TestSendToIngest(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := store.Open(ctx, store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := ingest.New(ingest.Options{Log: st, AckTimeout: 5 * time.Second})
	var eps []*ingest.Endpoint
	for _, prov := range []string{"github", "gitlab", "gitea", "bitbucket", "coding"} {
		ep := config.Endpoint{Name: "ep-" + prov, Provider: prov, Secrets: []config.Secret{sendSecret}}
		p, err := all.Registry().New(&ep)
		if err != nil {
			t.Fatal(err)
		}
		e, err := ingest.NewEndpoint(&ep, p, nil)
		if err != nil {
			t.Fatal(err)
		}
		eps = append(eps, e)
	}
	h.SetEndpoints(eps)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	type answer struct {
		ID        string `json:"id"`
		Duplicate bool   `json:"duplicate"`
		Ping      bool   `json:"ping"`
		Error     string `json:"error"`
	}
	send := func(args ...string) (int, answer) {
		t.Helper()
		code, out, errOut := cli(t, append([]string{"send"}, args...)...)
		_, body, _ := strings.Cut(out, "\n")
		var a answer
		if err := json.Unmarshal([]byte(body), &a); err != nil {
			t.Fatalf("%v: exit %d, answer %q: %v\n%s", args, code, out, err, errOut)
		}
		return code, a
	}
	for _, c := range []struct {
		provider, kind string
		form           bool
	}{
		{"github", "push", false},
		{"github", "pull_request", true},
		{"gitlab", "pipeline", false},
		{"gitea", "release", true},
		{"bitbucket", "comment", false},
		{"coding", "registry", false},
	} {
		args := []string{"--provider", c.provider, "--event", c.kind, "--secret", sendSecret}
		if c.form {
			args = append(args, "--form")
		}
		code, a := send(append(args, srv.URL+"/hooks/ep-"+c.provider)...)
		if code != 0 || a.ID == "" || a.Duplicate {
			t.Errorf("%s %s: exit %d, answer %+v", c.provider, c.kind, code, a)
			continue
		}
		rec, err := st.Get(ctx, a.ID)
		if err != nil {
			t.Fatalf("%s %s: stored event %s: %v", c.provider, c.kind, a.ID, err)
		}
		var ev event.Event
		if err := json.Unmarshal(rec.Data, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Forge != c.provider || ev.Type != event.TypePrefix+c.kind || ev.Endpoint != "ep-"+c.provider {
			t.Errorf("%s %s: stored forge %q type %q endpoint %q", c.provider, c.kind, ev.Forge, ev.Type, ev.Endpoint)
		}
		for k, v := range ev.Data.Header {
			if event.IsCredentialHeader(k) && !slices.Equal(v, []string{event.Redacted}) {
				t.Errorf("%s: stored header %s not redacted", c.provider, k)
			}
		}
	}

	// The same --delivery twice: stored once.
	u := srv.URL + "/hooks/ep-github"
	code, first := send("--provider", "github", "--delivery", "dup-1", "--secret", sendSecret, u)
	if code != 0 || first.ID == "" || first.Duplicate {
		t.Errorf("first: exit %d, %+v", code, first)
	}
	if code, a := send("--provider", "github", "--delivery", "dup-1", "--secret", sendSecret, u); code != 0 || a.ID != first.ID || !a.Duplicate {
		t.Errorf("second: exit %d, %+v, want a duplicate of %s", code, a, first.ID)
	}
	// A wrong secret: refused, exit 1.
	if code, a := send("--provider", "gitlab", "--secret", "wrong", srv.URL+"/hooks/ep-gitlab"); code != 1 || a.Error != "invalid signature or token" {
		t.Errorf("wrong secret: exit %d, %+v", code, a)
	}
	// GitHub's ping.
	if code, a := send("--provider", "github", "--event", "ping", "--secret", sendSecret, u); code != 0 || !a.Ping {
		t.Errorf("ping: exit %d, %+v", code, a)
	}
}

// TestSendDefaultsToTheForgesFirstExample: a registry without a push
// example (Docker Hub, Harbor) sends its registry example when --event is
// not given, instead of failing with "no sample of kind push".
func TestSendDefaultsToTheForgesFirstExample(t *testing.T) {
	for _, p := range []string{"dockerhub", "harbor"} {
		srv, ch := newReceiver(t, http.StatusOK, `{"id":"x"}`)
		code, out, errOut := cli(t, "send", "--provider", p, "--secret", sendSecret, srv.URL)
		c := receive(t, ch)
		if code != 0 || len(c.body) == 0 {
			t.Errorf("%s: exit %d\n%s%s", p, code, out, errOut)
		}
		if !strings.Contains(out+errOut, p+"/registry") {
			t.Errorf("%s: the output does not say which example was sent:\n%s%s", p, out, errOut)
		}
	}
}
