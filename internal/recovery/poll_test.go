package recovery

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/forgehook/forgehook/internal/ingest"
	"github.com/forgehook/forgehook/internal/store"
	"github.com/forgehook/forgehook/internal/verify"
)

// fakeGitea serves a repository's branches and tags as Gitea's API does
// (testdata/SOURCES.md), one a page.
type fakeGitea struct {
	mu       sync.Mutex
	branches map[string]string
}

func (f *fakeGitea) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "token gt-token" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	var all []map[string]any
	switch r.URL.Path {
	case "/api/v1/repos/acme/app/branches":
		for _, n := range []string{"dev", "main"} {
			if h, ok := f.branches[n]; ok {
				all = append(all, map[string]any{"name": n, "commit": map[string]any{"id": h}})
			}
		}
	case "/api/v1/repos/acme/app/tags":
		all = append(all, map[string]any{"name": "v1", "id": "tagobj", "commit": map[string]any{"sha": "7777777777777777777777777777777777777777"}})
	default:
		w.WriteHeader(http.StatusNotFound)
		return
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(len(all)))
	var out []map[string]any
	if page <= len(all) {
		out = all[page-1 : page]
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func giteaHeader(delivery string, body []byte) http.Header {
	return http.Header{"Content-Type": {"application/json"}, "X-Gitea-Event": {"push"}, "X-Gitea-Delivery": {delivery},
		"X-Gitea-Signature": {verify.Sign(verify.SHA256, verify.Hex, "", []byte(testSecret), body)}}
}

func TestRecoverPollGiteaSyntheticPushDedupsWithRealOne(t *testing.T) {
	e := newEnv(t, "gt", "gitea", func(ep *ingest.Endpoint) { ep.RefDedup = true })
	f := &fakeGitea{branches: map[string]string{"main": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "dev": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	api := srv.URL + "/api/v1"
	e.record(t, store.HookRecord{Endpoint: "gt", Forge: "gitea", APIURL: api, TargetKind: "repo", TargetName: "acme/app", HookID: "3"})
	r := e.recoverer(t, Endpoint{Name: "gt", Provider: "gitea", APIURL: api, Mode: ModePoll, Token: "gt-token"})
	ctx := context.Background()
	// The first run only learns the heads.
	rep, err := r.Run(ctx, Request{})
	if err != nil || len(rep.Items) != 0 || len(rep.Errors) != 0 {
		t.Fatalf("first run = %+v, %v; want nothing emitted", rep, err)
	}
	f.mu.Lock()
	f.branches["main"] = "cccccccccccccccccccccccccccccccccccccccc"
	f.mu.Unlock()
	plan, err := r.Plan(ctx, Request{})
	if err != nil || len(plan.Items) != 1 || plan.Items[0].ID != "refs/heads/main" || plan.Items[0].Status != StatusMissing {
		t.Fatalf("plan = %+v, %v", plan.Items, err)
	}
	rep, err = r.Run(ctx, Request{})
	if err != nil || len(rep.Items) != 1 || rep.Items[0].Status != StatusRecovered {
		t.Fatalf("run = %+v, %v", rep, err)
	}
	// Stored as a push, marked synthetic, with the old and new heads.
	recs, _, err := e.st.List(ctx, store.Filter{Limit: 5})
	if err != nil || len(recs) != 1 {
		t.Fatalf("stored %d events, %v", len(recs), err)
	}
	var ev struct {
		Data struct {
			Header     map[string][]string `json:"header"`
			Normalized struct {
				Kind, Ref, Before, After string
				Repository               struct {
					FullName string `json:"full_name"`
				}
			} `json:"normalized"`
		} `json:"data"`
	}
	if err := json.Unmarshal(recs[0].Data, &ev); err != nil {
		t.Fatal(err)
	}
	n := ev.Data.Normalized
	if n.Kind != "push" || n.Ref != "refs/heads/main" || n.Before != "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" || n.After != "cccccccccccccccccccccccccccccccccccccccc" || n.Repository.FullName != "acme/app" {
		t.Fatalf("normalized = %+v", n)
	}
	if got := ev.Data.Header[HeaderSynthetic]; len(got) != 1 || got[0] != "poll" {
		t.Fatalf("headers = %v", ev.Data.Header)
	}
	// A second run sees nothing new.
	if rep, _ := r.Run(ctx, Request{}); len(rep.Items) != 0 {
		t.Fatalf("second run = %+v", rep.Items)
	}
	// The late real webhook of that push is a duplicate; another push is not.
	real := []byte(`{"ref":"refs/heads/main","before":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","after":"cccccccccccccccccccccccccccccccccccccccc","repository":{"full_name":"acme/app","name":"app","owner":{"login":"acme"}},"commits":[]}`)
	if res := e.post(t, giteaHeader("real-1", real), string(real)); res["duplicate"] != true {
		t.Fatalf("late real push answered %v, want duplicate", res)
	}
	other := []byte(`{"ref":"refs/heads/main","before":"cccccccccccccccccccccccccccccccccccccccc","after":"dddddddddddddddddddddddddddddddddddddddd","repository":{"full_name":"acme/app","name":"app","owner":{"login":"acme"}},"commits":[]}`)
	if res := e.post(t, giteaHeader("real-2", other), string(other)); res["duplicate"] != false {
		t.Fatalf("new push answered %v", res)
	}
	// Its redelivery (same delivery id, same ref and head) is a duplicate too.
	if res := e.post(t, giteaHeader("real-2", other), string(other)); res["duplicate"] != true {
		t.Fatalf("redelivery answered %v", res)
	}
	// A new branch: Gitea's "create" twin carries the same ref and head as
	// the push, and must not make the push a duplicate.
	create := []byte(`{"ref":"feature","ref_type":"branch","sha":"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee","repository":{"full_name":"acme/app","name":"app","owner":{"login":"acme"}}}`)
	ch := giteaHeader("create-1", create)
	ch.Set("X-Gitea-Event", "create")
	if res := e.post(t, ch, string(create)); res["duplicate"] != false {
		t.Fatalf("create answered %v", res)
	}
	push := []byte(`{"ref":"refs/heads/feature","before":"0000000000000000000000000000000000000000","after":"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee","repository":{"full_name":"acme/app","name":"app","owner":{"login":"acme"}},"commits":[]}`)
	if res := e.post(t, giteaHeader("push-3", push), string(push)); res["duplicate"] != false {
		t.Fatalf("the push after its create twin answered %v, want stored", res)
	}
}

func TestIngestStripsRecoveryMarksFromTheNetwork(t *testing.T) {
	e := newEnv(t, "gt", "gitea", nil)
	body := []byte(`{"ref":"refs/heads/main","before":"1","after":"2","repository":{"full_name":"acme/app"},"commits":[]}`)
	h := giteaHeader("n-1", body)
	h.Set(HeaderSynthetic, "poll")
	h.Set(HeaderRecovered, "github-fetch")
	e.post(t, h, string(body))
	recs, _, err := e.st.List(context.Background(), store.Filter{Limit: 1})
	if err != nil || len(recs) != 1 {
		t.Fatal(err)
	}
	var ev struct {
		Data struct {
			Header map[string][]string `json:"header"`
		} `json:"data"`
	}
	_ = json.Unmarshal(recs[0].Data, &ev)
	if ev.Data.Header[HeaderSynthetic] != nil || ev.Data.Header[HeaderRecovered] != nil {
		t.Fatalf("a network request kept the marks: %v", ev.Data.Header)
	}
	// And an untrusted injection is still verified.
	if _, err := e.h.Inject(context.Background(), "gt", giteaHeader("n-2", []byte("{}")), body, false); err == nil {
		t.Fatal("an injection with a wrong signature was accepted")
	}
}
