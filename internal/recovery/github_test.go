package recovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/hooks"
	"github.com/forgehook/forgehook/internal/store"
	"github.com/forgehook/forgehook/internal/verify"
)

func decodeMap(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return m
}

// ghAttempt is one attempt the fake GitHub holds.
type ghAttempt struct {
	id         int64
	guid       string
	ago        time.Duration
	code       int
	redelivery bool
	payload    string
}

// fakeGitHub serves a repository hook's deliveries as GitHub documents
// them (testdata/SOURCES.md), three a page whatever per_page asks, newest
// first, with a cursor in the Link header.
func fakeGitHub(t *testing.T, e *env, hookPath string, attempts []ghAttempt, c *calls, deny bool) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.add(r.Method+" "+r.URL.Path, e.clock())
		if r.Header.Get("Authorization") != "Bearer gh-token" || r.Header.Get("X-Github-Api-Version") == "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if deny {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"message":"Resource not accessible by personal access token"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && r.URL.Path == hookPath+"/deliveries":
			if r.URL.Query().Get("per_page") == "" && r.URL.Query().Get("cursor") == "" {
				t.Errorf("first page without per_page")
			}
			start, _ := strconv.Atoi(r.URL.Query().Get("cursor"))
			end := min(start+3, len(attempts))
			var out []map[string]any
			for _, a := range attempts[start:end] {
				status := "OK"
				if a.code/100 != 2 {
					status = "Invalid HTTP Response: " + strconv.Itoa(a.code)
				}
				out = append(out, map[string]any{"id": a.id, "guid": a.guid, "delivered_at": e.clock().Add(-a.ago).Format(time.RFC3339),
					"redelivery": a.redelivery, "duration": 0.2, "status": status, "status_code": a.code, "event": "push", "action": nil,
					"installation_id": nil, "repository_id": 42})
			}
			if end < len(attempts) {
				w.Header().Set("Link", fmt.Sprintf(`<%s%s/deliveries?per_page=100&cursor=%d>; rel="next"`, srv.URL, hookPath, end))
			}
			_ = json.NewEncoder(w).Encode(out)
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/attempts"):
			w.WriteHeader(http.StatusAccepted)
			fmt.Fprint(w, `{}`)
		case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, hookPath+"/deliveries/"):
			id, _ := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, hookPath+"/deliveries/"), 10, 64)
			for _, a := range attempts {
				if a.id == id {
					fmt.Fprintf(w, `{"id":%d,"guid":%q,"event":"push","request":{"headers":{"X-GitHub-Delivery":%q,"X-GitHub-Event":"push","X-Hub-Signature-256":"sha256=00","Content-Type":"application/json"},"payload":%s},"response":{"headers":{},"payload":"bad gateway"}}`,
						a.id, a.guid, a.guid, a.payload)
					return
				}
			}
			w.WriteHeader(http.StatusNotFound)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

const ghPush = `{"ref":"refs/heads/main","before":"1111111111111111111111111111111111111111","after":"2222222222222222222222222222222222222222","repository":{"full_name":"acme/app","name":"app","owner":{"login":"acme"},"html_url":"https://github.com/acme/app"},"commits":[]}`

// ghAttempts: A failed once (missing); B failed then OK; C failed but
// forgehook stored it; D failed outside the window; E failed and was
// redelivered three times without success.
func ghAttempts() []ghAttempt {
	return []ghAttempt{
		{id: 10, guid: "guid-b", ago: time.Hour, code: 200, redelivery: true},
		{id: 9, guid: "guid-e", ago: 2 * time.Hour, code: 502, redelivery: true},
		{id: 8, guid: "guid-e", ago: 3 * time.Hour, code: 502, redelivery: true},
		{id: 7, guid: "guid-e", ago: 4 * time.Hour, code: 502, redelivery: true},
		{id: 6, guid: "guid-a", ago: 5 * time.Hour, code: 502, payload: ghPush},
		{id: 5, guid: "guid-e", ago: 6 * time.Hour, code: 502},
		{id: 4, guid: "guid-c", ago: 7 * time.Hour, code: 0},
		{id: 3, guid: "guid-b", ago: 8 * time.Hour, code: 503},
		{id: 2, guid: "guid-d", ago: 80 * time.Hour, code: 502},
		{id: 1, guid: "guid-d2", ago: 90 * time.Hour, code: 502},
	}
}

func ghSetup(t *testing.T, mode string, deny bool) (*env, *calls, *Recoverer) {
	t.Helper()
	e := newEnv(t, "gh", "github", nil)
	c := &calls{}
	srv := fakeGitHub(t, e, "/repos/acme/app/hooks/77", ghAttempts(), c, deny)
	e.record(t, store.HookRecord{Endpoint: "gh", Forge: "github", APIURL: srv.URL, TargetKind: "repo", TargetName: "acme/app", HookID: "77"})
	// C reached forgehook (the forge timed out waiting for the answer).
	body := `{"ref":"refs/heads/dev","after":"3333333333333333333333333333333333333333","repository":{"full_name":"acme/app"}}`
	e.post(t, http.Header{"Content-Type": {"application/json"}, "X-Github-Event": {"push"}, "X-Github-Delivery": {"guid-c"},
		"X-Hub-Signature-256": {verify.Sign(verify.SHA256, verify.Hex, "sha256=", []byte(testSecret), []byte(body))}}, body)
	r := e.recoverer(t, Endpoint{Name: "gh", Provider: "github", APIURL: srv.URL, Mode: mode, Token: "gh-token"})
	return e, c, r
}

func keys(items []Item) map[string]string {
	m := map[string]string{}
	for _, it := range items {
		m[it.Key] = it.Status
	}
	return m
}

func TestRecoverGitHubPlanAndRedeliver(t *testing.T) {
	_, c, r := ghSetup(t, ModeRedeliver, false)
	ctx := context.Background()
	plan, err := r.Plan(ctx, Request{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"guid-a": StatusMissing, "guid-e": StatusMissing}
	if got := keys(plan.Items); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("plan = %v, want %v (B has an OK attempt, C is stored, D is outside the window)", got, want)
	}
	if posts, _ := c.with("POST"); len(posts) != 0 {
		t.Fatalf("plan made changes: %v", posts)
	}
	if len(plan.Hooks) != 1 || plan.Hooks[0].State != hooks.HealthOK {
		t.Fatalf("hook state = %+v, want ok (newest attempt succeeded)", plan.Hooks)
	}
	// The list stopped at the first page reaching past the window: 10
	// attempts, 3 a page, D on the third page.
	if lists, _ := c.with("GET /repos/acme/app/hooks/77/deliveries"); len(lists) != 3 {
		t.Fatalf("pages read = %d", len(lists))
	}
	rep, err := r.Run(ctx, Request{})
	if err != nil {
		t.Fatal(err)
	}
	want = map[string]string{"guid-a": StatusRecovered, "guid-e": StatusGivenUp}
	if got := keys(rep.Items); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("run = %v, want %v", got, want)
	}
	posts, _ := c.with("POST")
	if len(posts) != 1 || posts[0] != "POST /repos/acme/app/hooks/77/deliveries/6/attempts" {
		t.Fatalf("redeliveries = %v, want only A's", posts)
	}
	if rep.Missing != 2 || rep.Recovered != 1 {
		t.Fatalf("counts = %d missing %d recovered", rep.Missing, rep.Recovered)
	}
	if last := r.Last()["gh"]; last.Recovered != 1 {
		t.Fatalf("last report = %+v", last)
	}
}

func TestRecoverGitHubFetchIngestsOnceAndDedups(t *testing.T) {
	e, c, r := ghSetup(t, ModeFetch, false)
	ctx := context.Background()
	rep, err := r.Run(ctx, Request{})
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(rep.Items); got["guid-a"] != StatusRecovered {
		t.Fatalf("run = %+v", rep.Items)
	}
	if posts, _ := c.with("POST"); len(posts) != 0 {
		t.Fatalf("fetch mode redelivered: %v", posts)
	}
	if !e.known(t, "gh", "guid-a") {
		t.Fatal("the fetched delivery is not in the dedup index")
	}
	// The stored event carries the mark and the forge's own payload.
	recs, _, err := e.st.List(ctx, store.Filter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, rec := range recs {
		var ev struct {
			Delivery string `json:"forgedelivery"`
			Data     struct {
				Header map[string][]string `json:"header"`
				Body   json.RawMessage     `json:"body"`
			} `json:"data"`
		}
		if err := json.Unmarshal(rec.Data, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Delivery == "guid-a" {
			found = true
			if got := ev.Data.Header[HeaderRecovered]; len(got) != 1 || got[0] != "github-fetch" {
				t.Fatalf("stored headers = %v, want %s: github-fetch", ev.Data.Header, HeaderRecovered)
			}
			if !strings.Contains(string(ev.Data.Body), `"after":"2222222222222222222222222222222222222222"`) {
				t.Fatalf("stored body = %s", ev.Data.Body)
			}
		}
	}
	if !found {
		t.Fatal("no stored event with delivery guid-a")
	}
	// A second run finds nothing missing: A is stored now.
	rep, err = r.Run(ctx, Request{})
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(rep.Items); got["guid-a"] != "" {
		t.Fatalf("second run = %v, want guid-a gone", got)
	}
	// GitHub's own late redelivery of A is a duplicate.
	res := e.post(t, http.Header{"Content-Type": {"application/json"}, "X-Github-Event": {"push"}, "X-Github-Delivery": {"guid-a"},
		"X-Hub-Signature-256": {verify.Sign(verify.SHA256, verify.Hex, "sha256=", []byte(testSecret), []byte(ghPush))}}, ghPush)
	if res["duplicate"] != true {
		t.Fatalf("late redelivery answered %v, want duplicate", res)
	}
}

func TestRecoverGitHubWindow(t *testing.T) {
	_, _, r := ghSetup(t, ModeRedeliver, false)
	// --since 3h leaves only E's newest attempts: E is missing, A (5 h) is out.
	plan, err := r.Plan(context.Background(), Request{Since: 3 * 3600 * 1e9})
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(plan.Items); len(got) != 1 || got["guid-e"] != StatusMissing {
		t.Fatalf("plan = %v, want only guid-e", got)
	}
	// A window of 100 h (GHES) takes D in.
	r.SetEndpoints([]Endpoint{{Name: "gh", Provider: "github", APIURL: r.Endpoints()[0].APIURL, Mode: ModeRedeliver, Token: "gh-token", Window: 100 * time.Hour}})
	plan, err = r.Plan(context.Background(), Request{})
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(plan.Items); got["guid-d"] != StatusMissing || got["guid-d2"] != StatusMissing {
		t.Fatalf("plan with a 100 h window = %v, want D in", got)
	}
}

func TestRecoverGitHubPermission(t *testing.T) {
	_, _, r := ghSetup(t, ModeRedeliver, true)
	rep, err := r.Plan(context.Background(), Request{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0], `permission "Webhooks" (read)`) || !strings.Contains(rep.Errors[0], "HTTP 403") {
		t.Fatalf("errors = %v, want one naming the Webhooks read permission", rep.Errors)
	}
	if _, err := r.Plan(context.Background(), Request{Endpoint: "nope"}); !errors.Is(err, ErrUnknownEndpoint) {
		t.Fatalf("unknown endpoint: %v", err)
	}
}
