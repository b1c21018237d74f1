package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge/github"
	"github.com/forgehook/forgehook/internal/store"
	"github.com/forgehook/forgehook/internal/verify"
)

const secret = "ingest-test-secret"

func newTestHandler(t *testing.T, eps ...config.Endpoint) (*Handler, *store.Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	trusted, _ := verify.ParseAllowlist([]string{"10.0.0.1"})
	h := New(Options{Log: st, AckTimeout: 2 * time.Second, TrustedProxies: trusted})
	var built []*Endpoint
	for i := range eps {
		p, err := github.New(&eps[i])
		if err != nil {
			t.Fatal(err)
		}
		e, err := NewEndpoint(&eps[i], p, nil)
		if err != nil {
			t.Fatal(err)
		}
		built = append(built, e)
	}
	h.SetEndpoints(built)
	return h, st
}

type result struct {
	status int
	body   map[string]any
	header http.Header
}

func do(h http.Handler, method, target string, hdr http.Header, body string, remote string) result {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Header = hdr
	if remote != "" {
		r.RemoteAddr = remote
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var m map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &m)
	return result{w.Code, m, w.Header()}
}

func ghHeaders(event, delivery string, payload []byte) http.Header {
	return http.Header{
		"Content-Type":        {"application/json"},
		"X-Github-Event":      {event},
		"X-Github-Delivery":   {delivery},
		"X-Hub-Signature-256": {verify.Sign(verify.SHA256, verify.Hex, "sha256=", []byte(secret), payload)},
	}
}

func TestIngestStatusesAndStorage(t *testing.T) {
	h, st := newTestHandler(t,
		config.Endpoint{Name: "gh", Provider: "github", Secrets: []config.Secret{"old-secret", secret}},
		config.Endpoint{Name: "proxied", Provider: "github", Secrets: []config.Secret{secret}, AllowIPs: []string{"203.0.113.0/24"}},
		config.Endpoint{Name: "open", Provider: "github", Insecure: true},
	)
	// Whitespace and <, >, & are kept: the body is stored byte for byte.
	push := []byte("{\"ref\":\"refs/tags/v1.0.0\",\n  \"before\":\"0000000000000000000000000000000000000000\",\"after\":\"1111111111111111111111111111111111111111\",\"head_commit\":{\"message\":\"<b>fix</b> & ship\"},\"repository\":{\"full_name\":\"acme/app\",\"html_url\":\"https://github.com/acme/app\"}}")

	r := do(h, "POST", "/hooks/gh", ghHeaders("push", "d-1", push), string(push), "")
	id, _ := r.body["id"].(string)
	if r.status != 200 || !isUUIDv7(id) || r.body["duplicate"] != false {
		t.Fatalf("push: %d %v, want 200 with a UUIDv7 id", r.status, r.body)
	}
	rec, err := st.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("accepted event not in the log: %v", err)
	}
	if rec.Subject != "forgehook.event.gh.github.tag" {
		t.Errorf("subject %q: a tag push is stored as kind tag", rec.Subject)
	}
	var ev struct {
		ID       string `json:"id"`
		Delivery string `json:"forgedelivery"`
		Type     string `json:"type"`
		Subject  string `json:"subject"`
		Data     struct {
			Header map[string][]string `json:"header"`
			Body   json.RawMessage     `json:"body"`
		} `json:"data"`
	}
	if err := json.Unmarshal(rec.Data, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.ID != id || ev.Delivery != "d-1" {
		t.Errorf("record: id %q forgedelivery %q, want %q and the delivery id", ev.ID, ev.Delivery, id)
	}
	if ev.Type != "dev.forgehook.tag" || ev.Subject != "refs/tags/v1.0.0" || string(ev.Data.Body) != string(push) {
		t.Errorf("record: type %q subject %q body %s", ev.Type, ev.Subject, ev.Data.Body)
	}
	if got := ev.Data.Header["X-Hub-Signature-256"]; len(got) != 1 || got[0] != "[redacted]" {
		t.Errorf("signature header stored as %v", got)
	}

	// A form-encoded delivery is verified over the raw body and stored as its JSON payload.
	form := "payload=" + url.QueryEscape(string(push))
	fh := ghHeaders("push", "d-form", []byte(form))
	fh.Set("Content-Type", "application/x-www-form-urlencoded")
	r = do(h, "POST", "/hooks/gh", fh, form, "")
	if r.status != 200 {
		t.Fatalf("form push: %d %v", r.status, r.body)
	}
	rec, _ = st.Get(context.Background(), r.body["id"].(string))
	if !strings.Contains(string(rec.Data), `"body":`+string(push)) {
		t.Errorf("form delivery stored without its JSON payload: %s", rec.Data)
	}

	// A ping is answered at once, recorded, and not stored as an event.
	ping := []byte(`{"zen":"Keep it logically awesome.","hook_id":1}`)
	r = do(h, "POST", "/hooks/gh", ghHeaders("ping", "p-1", ping), string(ping), "")
	if r.status != 200 || r.body["ping"] != true {
		t.Fatalf("ping: %d %v", r.status, r.body)
	}
	if recs, _, _ := st.List(context.Background(), store.Filter{}); len(recs) != 2 {
		t.Errorf("%d events stored after two pushes and a ping, want 2: the ping is not an event", len(recs))
	}
	if es, _ := st.Endpoint(context.Background(), "gh"); es.VerifiedBy != "ping" || es.VerifiedAt.IsZero() {
		t.Errorf("ping not recorded as verification: %+v", es)
	}

	badSig := ghHeaders("push", "d-2", push)
	badSig.Set("X-Hub-Signature-256", "sha256=deadbeef")
	noSig := ghHeaders("push", "d-3", push)
	noSig.Del("X-Hub-Signature-256")
	emptySig := ghHeaders("push", "d-4", push)
	emptySig.Set("X-Hub-Signature-256", "")
	xml := ghHeaders("push", "d-5", push)
	xml.Set("Content-Type", "application/xml")
	noEvent := ghHeaders("push", "d-6", push)
	noEvent.Del("X-Github-Event")
	formNoPayload := ghHeaders("push", "d-7", []byte("a=b"))
	formNoPayload.Set("Content-Type", "application/x-www-form-urlencoded")
	xff := ghHeaders("push", "d-8", push)
	xff.Set("X-Forwarded-For", "203.0.113.9")

	cases := []struct {
		name, method, path string
		hdr                http.Header
		body, remote       string
		want               int
		reason             string
	}{
		{"unknown endpoint", "POST", "/hooks/nope", ghHeaders("push", "x", push), string(push), "", 404, "unknown endpoint"},
		{"nested path", "POST", "/hooks/gh/x", ghHeaders("push", "x", push), string(push), "", 404, "unknown endpoint"},
		{"method", "DELETE", "/hooks/gh", ghHeaders("push", "x", push), string(push), "", 405, "method not allowed"},
		{"bad signature", "POST", "/hooks/gh", badSig, string(push), "", 401, "invalid signature or token"},
		{"no signature", "POST", "/hooks/gh", noSig, string(push), "", 401, "missing signature or token"},
		{"empty signature", "POST", "/hooks/gh", emptySig, string(push), "", 401, "missing signature or token"},
		{"content type", "POST", "/hooks/gh", xml, string(push), "", 415, "unsupported content type"},
		{"not json", "POST", "/hooks/gh", ghHeaders("push", "x", []byte("{")), "{", "", 400, "payload is not valid JSON"},
		{"empty body", "POST", "/hooks/gh", ghHeaders("push", "x", nil), "", "", 400, "empty payload"},
		{"form without payload", "POST", "/hooks/gh", formNoPayload, "a=b", "", 400, "form body has no payload field"},
		{"no event header", "POST", "/hooks/gh", noEvent, string(push), "", 400, "not a delivery of this endpoint's forge"},
		{"address not allowed", "POST", "/hooks/proxied", ghHeaders("push", "x", push), string(push), "198.51.100.1:1234", 403, "source address not allowed"},
		{"spoofed XFF from untrusted peer", "POST", "/hooks/proxied", xff, string(push), "198.51.100.1:1234", 403, "source address not allowed"},
		{"XFF from trusted proxy", "POST", "/hooks/proxied", xff, string(push), "10.0.0.1:1234", 200, ""},
		{"insecure endpoint needs nothing", "POST", "/hooks/open", noSig, string(push), "", 200, ""},
	}
	for _, c := range cases {
		r := do(h, c.method, c.path, c.hdr, c.body, c.remote)
		if r.status != c.want {
			t.Errorf("%s: status %d %v, want %d", c.name, r.status, r.body, c.want)
			continue
		}
		if c.reason != "" && r.body["error"] != c.reason {
			t.Errorf("%s: reason %q, want %q", c.name, r.body["error"], c.reason)
		}
	}
}

func TestIngestLimits(t *testing.T) {
	h, _ := newTestHandler(t,
		config.Endpoint{Name: "small", Provider: "github", Secrets: []config.Secret{secret}, MaxBody: 64},
		config.Endpoint{Name: "slow", Provider: "github", Secrets: []config.Secret{secret}, RateLimit: config.RateLimit{PerSecond: 0.5, Burst: 2}},
	)
	big := []byte(`{"ref":"refs/heads/main","padding":"` + strings.Repeat("x", 100) + `"}`)
	if r := do(h, "POST", "/hooks/small", ghHeaders("push", "b", big), string(big), ""); r.status != 413 {
		t.Errorf("over max_body: %d, want 413", r.status)
	}
	// Without Content-Length the limit still holds while reading.
	hdr := ghHeaders("push", "b2", big)
	req := httptest.NewRequest("POST", "/hooks/small", strings.NewReader(string(big)))
	req.Header = hdr
	req.ContentLength = -1
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 413 {
		t.Errorf("chunked over max_body: %d, want 413", w.Code)
	}
	small := []byte(`{"ref":"refs/heads/main"}`)
	for i, want := range []int{200, 200, 429} {
		r := do(h, "POST", "/hooks/slow", ghHeaders("push", "r"+string(rune('a'+i)), small), string(small), "")
		if r.status != want {
			t.Errorf("request %d: %d, want %d", i, r.status, want)
		}
		if want == 429 && r.header.Get("Retry-After") == "" {
			t.Errorf("429 without Retry-After")
		}
	}
}

func TestIngestStoreDownAnswers503(t *testing.T) {
	h, st := newTestHandler(t, config.Endpoint{Name: "gh", Provider: "github", Secrets: []config.Secret{secret}})
	st.Close()
	push := []byte(`{"ref":"refs/heads/main"}`)
	r := do(h, "POST", "/hooks/gh", ghHeaders("push", "lost", push), string(push), "")
	if r.status != 503 {
		t.Fatalf("store closed: %d %v, want 503", r.status, r.body)
	}
}

func TestAnswerBodyIsWhatEncodingJSONWrites(t *testing.T) {
	for _, a := range []*answer{
		{ID: "72d3162e-cc78-11e3-81ab-4c9367dc0958"},
		{ID: "0194f2d4-…", Duplicate: true},
		{Ping: true, Endpoint: "acme-github"},
		{Endpoint: "ep\"\\<x>", Status: "ready"},
		{ID: "tab\there\x01\u2028"},
	} {
		rec := httptest.NewRecorder()
		New(Options{}).writeJSON(rec, http.StatusOK, a, "")
		var want bytes.Buffer
		_ = json.NewEncoder(&want).Encode(a)
		var got, exp any
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatalf("answer %+v: %s is not JSON: %v", a, rec.Body.Bytes(), err)
		}
		_ = json.Unmarshal(want.Bytes(), &exp)
		if !reflect.DeepEqual(got, exp) {
			t.Errorf("answer %+v: got %s, want %s", a, rec.Body.Bytes(), want.Bytes())
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
	}
	rec := httptest.NewRecorder()
	New(Options{}).writeJSON(rec, http.StatusUnauthorized, nil, "signature does not match")
	if got := rec.Body.String(); got != "{\"error\":\"signature does not match\"}\n" {
		t.Errorf("error answer %q", got)
	}
}

// keyLog records the dedup keys it is given.
type keyLog struct {
	nopLog
	keys []string
}

func (l *keyLog) Append(ctx context.Context, endpoint, subject, id, key string, data []byte) (store.Result, error) {
	l.keys = append(l.keys, key)
	return l.nopLog.Append(ctx, endpoint, subject, id, key, data)
}

func TestIngestDedupKeyWithoutDeliveryID(t *testing.T) {
	log := &keyLog{}
	h, _ := newTestHandler(t, config.Endpoint{Name: "gh", Provider: "github", Secrets: []config.Secret{secret}})
	h.opts.Log = log
	push := []byte(`{"ref":"refs/heads/main"}`)
	hdr := ghHeaders("push", "", push)
	hdr.Del("X-Github-Delivery")
	if r := do(h, "POST", "/hooks/gh", hdr, string(push), ""); r.status != 200 {
		t.Fatalf("%d %v", r.status, r.body)
	}
	sum := sha256.Sum256(push)
	if want := "sha256:" + hex.EncodeToString(sum[:]); len(log.keys) != 1 || log.keys[0] != want {
		t.Errorf("dedup keys %q, want [%q]: a delivery without an id is keyed on its payload's hash", log.keys, want)
	}
}

// isUUIDv7 reports whether s is an RFC 9562 version 7 UUID in its text form.
func isUUIDv7(s string) bool {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' || s[14] != '7' || !strings.ContainsRune("89ab", rune(s[19])) {
		return false
	}
	_, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	return err == nil
}

// TestIngestRefusedRequestLogNamesEventAndDelivery: a delivery refused for
// its signature is logged with the event and delivery id the forge sent, so
// that the line can be matched with the forge's delivery log; a client's
// overlong id is cut.
func TestIngestRefusedRequestLogNamesEventAndDelivery(t *testing.T) {
	h, _ := newTestHandler(t, config.Endpoint{Name: "gh", Provider: "github", Secrets: []config.Secret{secret}})
	var logs lockedBuffer
	h.log = slog.New(slog.NewTextHandler(&logs, nil))
	h.opts.EventHeaders = []string{"X-Github-Event"}
	h.opts.DeliveryHeaders = []string{"X-Github-Delivery"}
	body := `{"zen":"x"}`
	hdr := ghHeaders("push", "d-401-visible", []byte(body))
	hdr.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64))
	if r := do(h, "POST", "/hooks/gh", hdr, body, ""); r.status != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", r.status)
	}
	if l := logs.String(); !strings.Contains(l, "event=push") || !strings.Contains(l, "delivery=d-401-visible") || !strings.Contains(l, "status=401") {
		t.Fatalf("the refusal's log line does not name the forge's event and delivery:\n%s", l)
	}
	long := strings.Repeat("z", 1000)
	hdr.Set("X-Github-Delivery", long)
	do(h, "POST", "/hooks/gh", hdr, body, "")
	if l := logs.String(); strings.Contains(l, long[:maxLoggedID+1]) || !strings.Contains(l, long[:maxLoggedID]) {
		t.Fatalf("an overlong delivery id is not cut to %d bytes in the log", maxLoggedID)
	}
}
