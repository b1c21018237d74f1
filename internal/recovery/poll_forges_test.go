package recovery

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge/all"
	"github.com/forgehook/forgehook/internal/hooks"
	"github.com/forgehook/forgehook/internal/ingest"
	"github.com/forgehook/forgehook/internal/store"
	"github.com/forgehook/forgehook/internal/verify"
)

// pollRef is a branch or tag of a fake forge's repository.
type pollRef struct{ name, sha string }

// fakeHeads serves a repository's branches and tags two a page, in the
// shape and paging one forge documents (testdata/SOURCES.md), and records
// the page requests.
type fakeHeads struct {
	t        *testing.T
	forge    string
	mu       sync.Mutex
	branches []pollRef
	tags     []pollRef
	pages    int
	denied   bool
}

func (f *fakeHeads) set(kind, name, sha string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	refs := &f.branches
	if kind == "tags" {
		refs = &f.tags
	}
	for i := range *refs {
		if (*refs)[i].name == name {
			(*refs)[i].sha = sha
			return
		}
	}
	*refs = append(*refs, pollRef{name, sha})
}

func (f *fakeHeads) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := r.URL.Query()
	authOK := false
	switch f.forge {
	case "gitee", "atomgit":
		authOK = q.Get("access_token") == "poll-token"
	default:
		authOK = r.Header.Get("Authorization") == "Bearer poll-token"
	}
	if !authOK || f.denied {
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"message":"forbidden"}`))
		return
	}
	var base string
	switch f.forge {
	case "gitee", "atomgit":
		base = "/api/v5/repos/acme/app/"
	case "bitbucket":
		base = "/2.0/repositories/acme/app/refs/"
	case "bitbucket-server":
		base = "/rest/api/latest/projects/ACME/repos/app/"
	}
	var refs []pollRef
	switch strings.TrimPrefix(r.URL.Path, base) {
	case "branches":
		refs = f.branches
	case "tags":
		refs = f.tags
	default:
		w.WriteHeader(http.StatusNotFound)
		return
	}
	f.pages++
	const size = 2
	w.Header().Set("Content-Type", "application/json")
	switch f.forge {
	case "gitee", "atomgit":
		// page/per_page, total_count in a header; the poller asks 100 a
		// page, which the fake lowers to 2 as a server may.
		page, _ := strconv.Atoi(q.Get("page"))
		if q.Get("per_page") == "" {
			f.t.Errorf("no per_page in %s", r.URL)
		}
		page = max(page, 1)
		w.Header().Set("Total_count", strconv.Itoa(len(refs)))
		var out []map[string]any
		for i := (page - 1) * size; i < min(page*size, len(refs)); i++ {
			out = append(out, map[string]any{"name": refs[i].name, "commit": map[string]any{"sha": refs[i].sha, "url": "x"}, "protected": false})
		}
		_ = json.NewEncoder(w).Encode(out)
	case "bitbucket":
		start, _ := strconv.Atoi(q.Get("page"))
		start = max(start, 1)
		var vals []map[string]any
		for i := (start - 1) * size; i < min(start*size, len(refs)); i++ {
			vals = append(vals, map[string]any{"type": "branch", "name": refs[i].name, "target": map[string]any{"type": "commit", "hash": refs[i].sha}})
		}
		pg := map[string]any{"pagelen": size, "page": start, "size": len(refs), "values": vals}
		if start*size < len(refs) {
			pg["next"] = "http://" + r.Host + r.URL.Path + "?page=" + strconv.Itoa(start+1)
		}
		_ = json.NewEncoder(w).Encode(pg)
	case "bitbucket-server":
		start, _ := strconv.Atoi(q.Get("start"))
		var vals []map[string]any
		for i := start; i < min(start+size, len(refs)); i++ {
			vals = append(vals, map[string]any{"id": "refs/x/" + refs[i].name, "displayId": refs[i].name, "type": "BRANCH", "latestCommit": refs[i].sha, "latestChangeset": refs[i].sha})
		}
		pg := map[string]any{"size": len(vals), "limit": size, "start": start, "values": vals, "isLastPage": start+size >= len(refs)}
		if start+size < len(refs) {
			pg["nextPageStart"] = start + size
		}
		_ = json.NewEncoder(w).Encode(pg)
	}
}

// realPush is the forge's own push webhook of ref from before to after on
// acme/app (ACME/app on Data Center), signed or authenticated with
// testSecret as the forge does, shaped like the provider's fixtures.
func realPush(forge, delivery, ref, before, after string) (http.Header, string) {
	h := http.Header{"Content-Type": {"application/json"}}
	short := strings.TrimPrefix(strings.TrimPrefix(ref, "refs/heads/"), "refs/tags/")
	typ := "branch"
	if strings.HasPrefix(ref, "refs/tags/") {
		typ = "tag"
	}
	var body string
	switch forge {
	case "gitee":
		ev := "Push Hook"
		if typ == "tag" {
			ev = "Tag Push Hook"
		}
		h.Set("X-Gitee-Event", ev)
		h.Set("X-Gitee-Token", testSecret)
		body = `{"hook_name":"push_hooks","ref":"` + ref + `","before":"` + before + `","after":"` + after + `","created":false,"deleted":false,"commits":[],"repository":{"name":"app","path":"app","full_name":"Acme Co/App","path_with_namespace":"acme/app","html_url":"https://gitee.com/acme/app","owner":{"login":"acme"}},"sender":{"login":"alice"}}`
	case "atomgit":
		kind, ev := "push", "Push Hook"
		if typ == "tag" {
			kind, ev = "tag_push", "Tag Push Hook"
		}
		h.Set("X-AtomGit-Event", ev)
		h.Set("X-AtomGit-Delivery", delivery)
		h.Set("X-AtomGit-Token", testSecret)
		body = `{"object_kind":"` + kind + `","ref":"` + ref + `","before":"` + before + `","after":"` + after + `","user_name":"alice","project":{"path_with_namespace":"acme/app","web_url":"https://gitcode.com/acme/app"},"repository":{"name":"app","homepage":"https://gitcode.com/acme/app"},"commits":[],"total_commits_count":0}`
	case "bitbucket", "bitbucket-server":
		if forge == "bitbucket" {
			h.Set("X-Event-Key", "repo:push")
			h.Set("X-Request-UUID", delivery)
			h.Set("X-Hook-UUID", "{11111111-2222-3333-4444-555555555555}")
			body = `{"actor":{"display_name":"Alice"},"repository":{"type":"repository","full_name":"acme/app","name":"app"},"push":{"changes":[{"old":{"type":"` + typ + `","name":"` + short + `","target":{"hash":"` + before + `"}},"new":{"type":"` + typ + `","name":"` + short + `","target":{"hash":"` + after + `"}},"created":false,"closed":false,"commits":[]}]}}`
		} else {
			h.Set("X-Event-Key", "repo:refs_changed")
			h.Set("X-Request-Id", delivery)
			body = `{"eventKey":"repo:refs_changed","actor":{"name":"alice"},"repository":{"slug":"app","name":"App","project":{"key":"ACME"}},"changes":[{"ref":{"id":"` + ref + `","displayId":"` + short + `","type":"` + strings.ToUpper(typ) + `"},"refId":"` + ref + `","fromHash":"` + before + `","toHash":"` + after + `","type":"UPDATE"}]}`
		}
		h.Set("X-Hub-Signature", verify.Sign(verify.SHA256, verify.Hex, "sha256=", []byte(testSecret), []byte(body)))
	}
	return h, body
}

// TestRecoverPollForgesSyntheticPushDedupsWithRealOne runs polling against
// each forge's documented branch and tag listing (several pages), checks
// that the synthetic push normalizes through the forge's own provider, and
// that the late real webhook of the same change is a duplicate.
func TestRecoverPollForgesSyntheticPushDedupsWithRealOne(t *testing.T) {
	const (
		a = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		b = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
		c = "cccccccccccccccccccccccccccccccccccccccc"
		d = "dddddddddddddddddddddddddddddddddddddddd"
	)
	for _, tc := range []struct{ forge, api, repo string }{
		{"gitee", "/api/v5", "acme/app"},
		{"atomgit", "/api/v5", "acme/app"},
		{"bitbucket", "/2.0", "acme/app"},
		{"bitbucket-server", "", "ACME/app"}, // the instance's base: /rest/api/latest is added
	} {
		t.Run(tc.forge, func(t *testing.T) {
			e := newEnv(t, "ep", tc.forge, func(ep *ingest.Endpoint) { ep.RefDedup = true })
			f := &fakeHeads{t: t, forge: tc.forge,
				branches: []pollRef{{"dev", a}, {"feature", a}, {"main", a}, {"old", a}, {"x", a}},
				tags:     []pollRef{{"v1", b}}}
			srv := httptest.NewServer(f)
			defer srv.Close()
			api := srv.URL + tc.api
			e.record(t, store.HookRecord{Endpoint: "ep", Forge: tc.forge, APIURL: api, TargetKind: "repo", TargetName: tc.repo, HookID: "7"})
			r := e.recoverer(t, Endpoint{Name: "ep", Provider: tc.forge, APIURL: api, Mode: ModePoll, Token: "poll-token"})
			ctx := context.Background()
			rep, err := r.Run(ctx, Request{})
			if err != nil || len(rep.Items) != 0 || len(rep.Errors) != 0 {
				t.Fatalf("first run = %+v, %v; want heads recorded, nothing emitted", rep, err)
			}
			if f.pages != 4 { // 5 branches two a page, 1 tag
				t.Fatalf("first run read %d pages, want 4", f.pages)
			}
			// A branch on the last page and the tag move.
			f.set("branches", "x", c)
			f.set("tags", "v1", d)
			rep, err = r.Run(ctx, Request{})
			if err != nil || len(rep.Errors) != 0 || len(rep.Items) != 2 || rep.Items[0].ID != "refs/heads/x" || rep.Items[1].ID != "refs/tags/v1" ||
				rep.Items[0].Status != StatusRecovered || rep.Items[1].Status != StatusRecovered {
				t.Fatalf("run = %+v, %v", rep, err)
			}
			recs, _, err := e.st.List(ctx, store.Filter{Limit: 5})
			if err != nil || len(recs) != 2 {
				t.Fatalf("stored %d events, %v", len(recs), err)
			}
			// The synthetic push normalizes through the forge's provider.
			payload, hdr := SyntheticPush(tc.forge, r.Endpoints()[0].APIURL, tc.repo, "refs/heads/x", a, c)
			if hdr.Get(HeaderSynthetic) != "poll" {
				t.Fatalf("headers = %v", hdr)
			}
			cep := config.Endpoint{Name: "ep", Provider: tc.forge, Secrets: []config.Secret{testSecret}}
			p, err := all.Registry().New(&cep)
			if err != nil {
				t.Fatal(err)
			}
			m, err := p.Inspect(hdr)
			if err != nil {
				t.Fatalf("inspect: %v", err)
			}
			n, err := p.Normalize(m, payload)
			if err != nil {
				t.Fatalf("normalize: %v", err)
			}
			if n.Kind != event.KindPush || n.Branch != "x" || n.Ref != "refs/heads/x" || n.Before != a || n.After != c || n.Repository.FullName != tc.repo {
				t.Fatalf("normalized = %+v", n)
			}
			if ingest.RefKey(m.Event, &n) == "" {
				t.Fatalf("synthetic %q push has no ref key", m.Event)
			}
			// Nothing new on a third run.
			if rep, _ := r.Run(ctx, Request{}); len(rep.Items) != 0 {
				t.Fatalf("third run = %+v", rep.Items)
			}
			// The late real webhooks of both changes are duplicates; a
			// later push is not.
			h, body := realPush(tc.forge, "real-1", "refs/heads/x", a, c)
			if res := e.post(t, h, body); res["duplicate"] != true {
				t.Fatalf("late real push answered %v, want duplicate", res)
			}
			h, body = realPush(tc.forge, "real-2", "refs/tags/v1", b, d)
			if res := e.post(t, h, body); res["duplicate"] != true {
				t.Fatalf("late real tag push answered %v, want duplicate", res)
			}
			h, body = realPush(tc.forge, "real-3", "refs/heads/x", c, a)
			if res := e.post(t, h, body); res["duplicate"] != false {
				t.Fatalf("new push answered %v", res)
			}
		})
	}
}

func TestRecoverPollForgesRefusedNamesPermission(t *testing.T) {
	for _, forge := range []string{"gitee", "bitbucket", "bitbucket-server"} {
		t.Run(forge, func(t *testing.T) {
			e := newEnv(t, "ep", forge, nil)
			f := &fakeHeads{t: t, forge: forge, denied: true}
			srv := httptest.NewServer(f)
			defer srv.Close()
			repo := "acme/app"
			if forge == "bitbucket-server" {
				repo = "ACME/app"
			}
			r := e.recoverer(t, Endpoint{Name: "ep", Provider: forge, APIURL: srv.URL, Mode: ModePoll, Token: "poll-token",
				Targets: []hooks.Target{{Kind: hooks.TargetRepo, Name: repo}}})
			rep, err := r.Run(context.Background(), Request{})
			if err != nil || len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0], "403") || !strings.Contains(strings.ToLower(rep.Errors[0]), "read") {
				t.Fatalf("run = %+v, %v; want one error naming the read permission", rep, err)
			}
			if strings.Contains(rep.Errors[0], "poll-token") {
				t.Fatalf("the token leaked into %q", rep.Errors[0])
			}
		})
	}
}

// FuzzRecoverSyntheticPush checks that the synthetic push of every polled
// forge is JSON that its provider normalizes back to the same repository,
// ref and heads, with a ref dedup key. Polling emits only changed heads,
// so before and after differ (Gitea takes an unchanged push for its test).
func FuzzRecoverSyntheticPush(f *testing.F) {
	f.Add("acme", "app", "main", false, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
	f.Add("ACME", "my-app.git", "release/1.0", true, "0123456789abcdef0123456789abcdef01234567", "fedcba9876543210fedcba9876543210fedcba98")
	reg := all.Registry()
	f.Fuzz(func(t *testing.T, owner, name, short string, tag bool, before, after string) {
		simple := func(s string, slash bool) bool {
			for _, r := range s {
				if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' || slash && r == '/') {
					return false
				}
			}
			return s != "" && !strings.HasPrefix(s, "/") && !strings.HasSuffix(s, "/") && !strings.Contains(s, "//")
		}
		hexSHA := func(s string) bool {
			for _, r := range s {
				if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
					return false
				}
			}
			return len(s) == 40 && strings.Trim(s, "0") != ""
		}
		if !simple(owner, false) || !simple(name, false) || !simple(short, true) || !hexSHA(before) || !hexSHA(after) || before == after {
			return
		}
		ref := "refs/heads/" + short
		want := event.KindPush
		if tag {
			ref, want = "refs/tags/"+short, event.KindTag
		}
		for _, forge := range []string{"gitea", "gitee", "atomgit", "bitbucket", "bitbucket-server"} {
			payload, hdr := SyntheticPush(forge, "https://forge.example/api", owner+"/"+name, ref, before, after)
			if !json.Valid(payload) || hdr.Get(HeaderSynthetic) != "poll" {
				t.Fatalf("%s: bad payload %s or headers %v", forge, payload, hdr)
			}
			p, err := reg.New(&config.Endpoint{Name: "ep", Provider: forge, Secrets: []config.Secret{testSecret}})
			if err != nil {
				t.Fatal(err)
			}
			m, err := p.Inspect(hdr)
			if err != nil {
				t.Fatalf("%s: inspect: %v", forge, err)
			}
			n, err := p.Normalize(m, payload)
			if err != nil {
				t.Fatalf("%s: normalize: %v", forge, err)
			}
			if n.Kind != want || n.Ref != ref || n.Before != before || n.After != after || n.Repository.FullName != owner+"/"+name {
				t.Fatalf("%s: normalized %+v from %s", forge, n, payload)
			}
			if ingest.RefKey(m.Event, &n) == "" {
				t.Fatalf("%s: no ref key", forge)
			}
		}
	})
}
