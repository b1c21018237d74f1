package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/store"
	"github.com/forgehook/forgehook/internal/throttle"
)

// appendRecord stores a record with the given body, as ingest writes it.
func appendRecord(t *testing.T, st *store.Store, id string, body []byte) {
	t.Helper()
	rec := fmt.Sprintf(`{"specversion":"1.0","id":%q,"time":"2026-11-23T10:00:00Z","endpoint":"gh","forge":"github","forgeevent":"push","data":{"header":{"X-A":["b"]},"body":`, id)
	raw := append(append([]byte(rec), body...), `,"normalized":{"kind":"push","repository":{"full_name":"acme/app"}}}}`...)
	if _, err := st.Append(context.Background(), "gh", store.Subject("gh", "github", "push"), id, id, raw); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, url string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestAdminEventAnswersBounded stores the bodies of issue 10 (deep, wide,
// not UTF-8) and checks every answer: bounded, valid JSON, and the body
// download byte for byte.
func TestAdminEventAnswersBounded(t *testing.T) {
	srv, st := newTestServer(t, "")
	bodies := map[string][]byte{
		"wide":  nestedWide(500, 50<<10),
		"deep":  nestedWide(5000, 50<<10),
		"utf8":  []byte("{\"a\":\"caf\xe9 \xff\xfe\",\"\xc3\":[\"\xed\xa0\x80\"]}"),
		"big":   []byte(`{"s":"` + strings.Repeat("<&>", 200<<10) + `"}`),
		"plain": []byte(`{"x": [1, 2]}`),
	}
	for id, b := range bodies {
		appendRecord(t, st, id, b)
	}
	for id, body := range bodies {
		resp, b := get(t, srv.URL+"/api/v1/events/"+id)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", id, resp.StatusCode, b)
		}
		if !json.Valid(b) || !utf8.Valid(b) {
			t.Errorf("%s: answer is not valid JSON and UTF-8", id)
		}
		if limit := 3*len(body) + 4096; len(b) > limit && len(b) > MaxPretty {
			t.Errorf("%s: answer %d bytes for a %d-byte body", id, len(b), len(body))
		}
		var d EventDetail
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if id == "deep" {
			if string(d.Event) != "null" || !strings.Contains(d.EventError, "deeper") {
				t.Errorf("deep: event %d bytes, error %q; want null and a reason", len(d.Event), d.EventError)
			}
		} else if d.Event == nil {
			t.Errorf("%s: event missing: %s", id, d.EventError)
		}
		resp, raw := get(t, srv.URL+d.BodyURL)
		if resp.StatusCode != 200 || !bytes.Equal(raw, body) {
			t.Errorf("%s: body download %d, %d bytes, want the %d stored", id, resp.StatusCode, len(raw), len(body))
		}
		if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
			t.Errorf("%s: Content-Disposition %q", id, cd)
		}
	}
	_, b := get(t, srv.URL+"/api/v1/events/utf8")
	if !bytes.Contains(b, []byte("caf\uFFFD \uFFFD\uFFFD")) {
		t.Errorf("invalid UTF-8 not replaced by U+FFFD: %s", b)
	}
	_, b = get(t, srv.URL+"/api/v1/events/plain")
	if !bytes.Contains(b, []byte("\n  \"seq\": ")) {
		t.Errorf("a small answer is not indented: %s", b)
	}
	_, b = get(t, srv.URL+"/api/v1/events?limit=500")
	var list EventList
	if err := json.Unmarshal(b, &list); err != nil || len(list.Events) != 8 {
		t.Errorf("list: %d events, %v; the deep one must be listed too", len(list.Events), err)
	}
}

// TestAdminAPICrossOrigin sends state changes as a foreign page would.
func TestAdminAPICrossOrigin(t *testing.T) {
	srv, _ := newTestServer(t, "")
	post := func(ctype string, hdr ...string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/replay", strings.NewReader(`{"since":"2026-01-01T00:00:00Z"}`))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, c := range []struct {
		name  string
		ctype string
		hdr   []string
		want  int
	}{
		{"cross-site text/plain", "text/plain", []string{"Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site"}, 403},
		{"cross-site json", "application/json", []string{"Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site"}, 403},
		{"foreign origin, no fetch metadata", "application/json", []string{"Origin", "http://evil.example"}, 403},
		{"same-site", "application/json", []string{"Sec-Fetch-Site", "same-site"}, 403},
		{"no content type", "", nil, 415},
		{"form", "application/x-www-form-urlencoded", nil, 415},
		{"text/plain from a non-browser", "text/plain", nil, 415},
		// Past the checks: 409 (no triggers in this server).
		{"CLI", "application/json", nil, 409},
		{"same origin", "application/json; charset=utf-8", []string{"Origin", "http://" + host, "Sec-Fetch-Site", "same-origin"}, 409},
		{"typed URL", "application/json", []string{"Sec-Fetch-Site", "none"}, 409},
	} {
		if got := post(c.ctype, c.hdr...); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	// A cross-site GET is served (a browser does not let the page read it).
	if resp, _ := get(t, srv.URL+"/api/v1/events", "Sec-Fetch-Site", "cross-site"); resp.StatusCode != 200 {
		t.Errorf("cross-site GET: %d", resp.StatusCode)
	}
}

func TestAdminHosts(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	cases := []struct {
		cfg    []string
		listen string
		host   string
		want   int
	}{
		{nil, "127.0.0.1:8081", "127.0.0.1:8081", 204},
		{nil, "127.0.0.1:8081", "localhost:9999", 204},
		{nil, "127.0.0.1:8081", "LOCALHOST.", 204},
		{nil, "127.0.0.1:8081", "[::1]:8081", 204},
		{nil, "127.0.0.1:8081", "10.1.2.3:8081", 204},
		{nil, "127.0.0.1:8081", "", 204},
		{nil, "127.0.0.1:8081", "evil.example:8081", 421},
		{nil, "127.0.0.1:8081", "localhost.evil.example", 421},
		{nil, "admin.internal:8081", "admin.internal:8081", 204},
		{nil, ":8081", "admin.internal", 421},
		{[]string{"forgehook.example.com"}, ":8081", "Forgehook.Example.Com:443", 204},
		{[]string{"*.example.com"}, ":8081", "a.b.example.com", 204},
		{[]string{"*.example.com"}, ":8081", "example.com.evil", 421},
		{[]string{"*"}, ":8081", "anything", 204},
	}
	for _, c := range cases {
		h := AllowHosts(NewHosts(c.cfg, c.listen), nil, ok)
		r := httptest.NewRequest(http.MethodGet, "/api/v1/events", nil)
		r.Host = c.host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.want {
			t.Errorf("hosts %v, listen %s, Host %q: %d, want %d", c.cfg, c.listen, c.host, w.Code, c.want)
		}
		if w.Code == 421 && (!strings.Contains(w.Body.String(), "admin.hosts") || !json.Valid(w.Body.Bytes())) {
			t.Errorf("421 answer %q does not name admin.hosts as JSON", w.Body.String())
		}
	}
}

// TestAdminTokenSharedThrottle makes the API and /metrics share one
// count: guesses on one are refused on the other.
func TestAdminTokenSharedThrottle(t *testing.T) {
	fails := throttle.New(FailedTokenLimit, FailedTokenWindow)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	apiH := RequireToken("tok-1234567890", fails, ok)
	metricsH := RequireToken("tok-1234567890", fails, ok)
	do := func(h http.Handler, tok string) int {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = "192.0.2.1:1"
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	for i := range FailedTokenLimit {
		h := apiH
		if i%2 == 1 {
			h = metricsH
		}
		if got := do(h, fmt.Sprint("guess", i)); got != 401 {
			t.Fatalf("guess %d: %d", i, got)
		}
	}
	if got := do(metricsH, "tok-1234567890"); got != 429 {
		t.Fatalf("after %d guesses spread over API and /metrics: %d, want 429", FailedTokenLimit, got)
	}
}

// TestAdminTokenCompareLength times nothing but checks the comparison's
// contract: a prefix or an extension of the token is refused.
func TestAdminTokenCompareLength(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	h := RequireToken(config.Secret("tok-1234567890"), throttle.New(100, time.Minute), ok)
	for tok, want := range map[string]int{"tok-1234567890": 204, "tok-123456789": 401, "tok-12345678900": 401, "": 401} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("token %q: %d, want %d", tok, w.Code, want)
		}
	}
}

// TestAdminDeadLetterValidJSON stores a dead letter whose event is not
// UTF-8: the list and the letter are answered as valid JSON.
func TestAdminDeadLetterValidJSON(t *testing.T) {
	srv, st := newTestServer(t, "")
	if err := st.Dead(context.Background(), "t", "bad-utf8", 1, 3, "boom \xff", []byte("{\"id\":\"\xff\"}")); err != nil {
		t.Fatal(err)
	}
	_, b := get(t, srv.URL+"/api/v1/dead")
	var list DeadList
	if err := json.Unmarshal(b, &list); err != nil || !utf8.Valid(b) || len(list.Dead) != 1 {
		t.Fatalf("dead list: %v, UTF-8 %v: %.200s", err, utf8.Valid(b), b)
	}
	_, b = get(t, srv.URL+fmt.Sprintf("/api/v1/dead/%d", list.Dead[0].Seq))
	if !json.Valid(b) || !utf8.Valid(b) || !bytes.Contains(b, []byte("\uFFFD")) {
		t.Fatalf("dead letter answer not valid JSON with U+FFFD: %.200s", b)
	}
}

// TestAdminGateBoundsHeavyViews holds the only slot: the next heavy view
// waits, then is answered 503 with Retry-After; once the slot is free it
// is served.
func TestAdminGateBoundsHeavyViews(t *testing.T) {
	g := NewGate(1, 50*time.Millisecond)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	h := g.Wrap(ok, nil)
	leave, entered := g.Enter(context.Background())
	if !entered {
		t.Fatal("no slot in an empty gate")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/v1/events/x", nil))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Fatalf("with the slot taken: %d, Retry-After %q; want 503", w.Code, w.Header().Get("Retry-After"))
	}
	leave()
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/v1/events/x", nil))
	if w.Code != 204 {
		t.Fatalf("with the slot free: %d", w.Code)
	}
	var nilGate *Gate
	if l, ok := nilGate.Enter(context.Background()); !ok {
		t.Fatal("a nil gate refuses")
	} else {
		l()
	}
}
