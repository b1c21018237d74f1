package gitea

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/hooks"
	"github.com/forgehook/forgehook/internal/hooks/hooktest"
)

var repo = hooks.Target{Kind: hooks.TargetRepo, Name: "acme/app"}

func fixture(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func client(t *testing.T, provider string, s *hooktest.Server, log *slog.Logger) *Client {
	t.Helper()
	c, err := New(provider, hooks.Options{APIURL: s.URL + "/api/v1", Token: "tok-secret", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestHooksGiteaCreateGetUpdateDeletePing(t *testing.T) {
	s := hooktest.New(t)
	s.RequireAuth(func(r *http.Request) bool { return r.Header.Get("Authorization") == "token tok-secret" })
	h := fixture(t, "hook.json")
	s.Handle("POST /api/v1/repos/acme/app/hooks", func(w http.ResponseWriter, r *http.Request) { hooktest.JSON(w, 201, h) })
	s.Handle("GET /api/v1/repos/acme/app/hooks/7", func(w http.ResponseWriter, r *http.Request) { hooktest.JSON(w, 200, h) })
	s.Handle("PATCH /api/v1/repos/acme/app/hooks/7", func(w http.ResponseWriter, r *http.Request) {
		g := fixture(t, "hook.json")
		g["active"] = false
		hooktest.JSON(w, 200, g)
	})
	s.Handle("DELETE /api/v1/repos/acme/app/hooks/7", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	s.Handle("POST /api/v1/repos/acme/app/hooks/7/tests", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	var logs bytes.Buffer
	c := client(t, Gitea, s, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	ctx := t.Context()

	events, err := c.Events([]string{"push", "pull_request", "issue"})
	if err != nil {
		t.Fatal(err)
	}
	spec := hooks.Spec{URL: "https://hooks.example.com/hooks/acme", Events: events, Active: true, Secret: "s3cret", Description: "managed by forgehook: acme"}
	got, err := c.Create(ctx, repo, spec)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "7" || got.URL != spec.URL || !got.Active || !slices.Equal(got.Events, spec.Events) || got.Description != spec.Description {
		t.Errorf("created hook = %+v, want id 7, our URL, active, events %v (folded)", got, spec.Events)
	}
	body := hooktest.Body(t, s.Last())
	cfg, _ := body["config"].(map[string]any)
	if body["type"] != "gitea" || body["name"] != spec.Description || cfg["url"] != spec.URL || cfg["content_type"] != "json" || cfg["secret"] != "s3cret" || body["active"] != true {
		t.Errorf("create body = %v", body)
	}
	if ev, _ := json.Marshal(body["events"]); string(ev) != `["issues","pull_request","push"]` {
		t.Errorf("create events = %s", ev)
	}

	if got, err := c.Get(ctx, repo, "7"); err != nil || got.ID != "7" {
		t.Errorf("get = %+v, %v", got, err)
	}

	spec.Active = false
	spec.Secret = ""
	got, err = c.Update(ctx, repo, "7", spec)
	if err != nil || got.Active {
		t.Fatalf("update = %+v, %v", got, err)
	}
	last := s.Last()
	body = hooktest.Body(t, last)
	cfg, _ = body["config"].(map[string]any)
	if last.Method != http.MethodPatch || body["active"] != false || body["type"] != nil {
		t.Errorf("update %s body = %v: want PATCH, active false sent, no type", last.Method, body)
	}
	if sec, ok := cfg["secret"]; !ok || sec != "" {
		t.Errorf("update config = %v: the secret must be sent (empty) so Gitea drops the old one", cfg)
	}

	if err := c.Ping(ctx, repo, "7"); err != nil {
		t.Errorf("ping: %v", err)
	}
	if err := c.Delete(ctx, repo, "7"); err != nil {
		t.Errorf("delete: %v", err)
	}
	if last := s.Last(); last.Method != http.MethodDelete || last.Path != "/api/v1/repos/acme/app/hooks/7" {
		t.Errorf("delete sent %s %s", last.Method, last.Path)
	}
	if strings.Contains(logs.String(), "tok-secret") || strings.Contains(logs.String(), "s3cret") {
		t.Errorf("a credential reached the log: %s", logs.String())
	}
	if !strings.Contains(logs.String(), "forge call") {
		t.Errorf("no debug line per call: %s", logs.String())
	}
}

// TestHooksGiteaListPages reads three pages (50, 50, 3) by page and limit,
// following the Link header and X-Total-Count Gitea sets.
func TestHooksGiteaListPages(t *testing.T) {
	for _, linkHeader := range []bool{true, false} {
		t.Run(fmt.Sprintf("link=%v", linkHeader), func(t *testing.T) {
			s := hooktest.New(t)
			s.Handle("GET /api/v1/orgs/acme/hooks", func(w http.ResponseWriter, r *http.Request) {
				page, _ := strconv.Atoi(r.URL.Query().Get("page"))
				limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
				if limit != 50 || page < 1 || page > 3 {
					hooktest.JSON(w, 400, map[string]string{"message": "bad page"})
					return
				}
				n := 50
				if page == 3 {
					n = 3
				}
				var out []map[string]any
				for i := range n {
					id := (page-1)*50 + i + 1
					out = append(out, map[string]any{"id": id, "type": "gitea", "active": true, "events": []string{"push"},
						"config": map[string]string{"url": fmt.Sprintf("https://h.example/%d", id), "content_type": "json"}})
				}
				w.Header().Set("X-Total-Count", "103")
				if linkHeader {
					l := fmt.Sprintf(`<%s/api/v1/orgs/acme/hooks?limit=50&page=3>; rel="last"`, s.URL)
					if page < 3 {
						l = fmt.Sprintf(`<%s/api/v1/orgs/acme/hooks?limit=50&page=%d>; rel="next",`, s.URL, page+1) + l
					}
					w.Header().Set("Link", l)
				}
				hooktest.JSON(w, 200, out)
			})
			c := client(t, Gitea, s, nil)
			got, err := c.List(t.Context(), hooks.Target{Kind: hooks.TargetOrg, Name: "acme"})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 103 || got[102].ID != "103" || got[102].URL != "https://h.example/103" {
				t.Fatalf("got %d hooks (last %+v), want 103", len(got), got[len(got)-1])
			}
			if n := len(s.Requests()); n != 3 {
				t.Errorf("%d requests, want 3", n)
			}
		})
	}
}

func TestHooksGiteaErrors(t *testing.T) {
	s := hooktest.New(t)
	c := client(t, Gitea, s, nil)
	errBody, _ := os.ReadFile("testdata/error.json")
	hooktest.Errors{
		Server: s, Pattern: "GET /api/v1/repos/acme/app/hooks/7",
		OK:   func(w http.ResponseWriter) { hooktest.JSON(w, 200, fixture(t, "hook.json")) },
		Call: func(ctx context.Context) error { _, err := c.Get(ctx, repo, "7"); return err },
		ErrorBody: func(w http.ResponseWriter, status int) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			w.Write(errBody)
		},
	}.Check(t)
	// The permission and the forge's message are both in the error.
	s2 := hooktest.New(t)
	s2.Handle("POST /api/v1/repos/acme/app/hooks", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(403)
		w.Write(errBody)
	})
	_, err := client(t, Gitea, s2, nil).Create(t.Context(), repo, hooks.Spec{URL: "https://x/y"})
	if !errors.Is(err, hooks.ErrPermission) || !strings.Contains(err.Error(), "write:repository") || !strings.Contains(err.Error(), "required scope") {
		t.Errorf("403 on create: %v", err)
	}
}

func TestHooksGiteaForgejoAndGogs(t *testing.T) {
	s := hooktest.New(t)
	s.Handle("POST /api/v1/repos/acme/app/hooks", func(w http.ResponseWriter, r *http.Request) {
		hooktest.JSON(w, 201, fixture(t, "hook.json"))
	})
	s.Handle("GET /gogs/api/v1/repos/acme/app/hooks", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("page") {
			t.Errorf("gogs list sent paging parameters %v", r.URL.Query())
		}
		hooktest.JSON(w, 200, []any{fixture(t, "gogs_hook.json")})
	})
	fj := client(t, Forgejo, s, nil)
	if _, err := fj.Create(t.Context(), repo, hooks.Spec{URL: "https://x/y", Active: true}); err != nil {
		t.Fatal(err)
	}
	if b := hooktest.Body(t, s.Last()); b["type"] != "forgejo" {
		t.Errorf("forgejo create type = %v", b["type"])
	}
	gg, err := New(Gogs, hooks.Options{APIURL: s.URL + "/gogs/api/v1", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	h, err := gg.Get(t.Context(), repo, "3")
	if err != nil || h.URL != "https://hooks.example.com/hooks/acme" || !slices.Equal(h.Events, []string{"create", "push"}) {
		t.Errorf("gogs get by list = %+v, %v", h, err)
	}
	if _, err := gg.Get(t.Context(), repo, "4"); !errors.Is(err, hooks.ErrNotFound) {
		t.Errorf("gogs get of a missing id: %v, want ErrNotFound", err)
	}
	org := hooks.Target{Kind: hooks.TargetOrg, Name: "acme"}
	if _, err := gg.List(t.Context(), org); !errors.Is(err, hooks.ErrUnsupported) {
		t.Errorf("gogs org hooks: %v, want ErrUnsupported", err)
	}
	if err := gg.Ping(t.Context(), repo, "3"); !errors.Is(err, hooks.ErrUnsupported) {
		t.Errorf("gogs ping: %v, want ErrUnsupported", err)
	}
	if err := fj.Ping(t.Context(), org, "3"); !errors.Is(err, hooks.ErrUnsupported) {
		t.Errorf("org ping: %v, want ErrUnsupported", err)
	}
	if _, err := gg.Events([]string{"pipeline"}); !errors.Is(err, hooks.ErrUnsupported) {
		t.Errorf("gogs pipeline events: %v, want ErrUnsupported", err)
	}
}

func TestHooksGiteaEventsAndTargets(t *testing.T) {
	c, _ := New(Gitea, hooks.Options{APIURL: "https://g.example/api/v1"})
	got, err := c.Events([]string{"comment", "issue", "tag", "push", "push", "wiki"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"create", "issues", "pull_request_comment", "push", "wiki"}; !slices.Equal(got, want) {
		t.Errorf("events = %v, want %v", got, want)
	}
	if _, err := c.Events([]string{"merge_request"}); err == nil {
		t.Error("an unknown event name was accepted")
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	for _, tg := range []hooks.Target{{Kind: "repo", Name: "acme"}, {Kind: "repo", Name: "a/b/c"}, {Kind: "group", Name: "x"}, {Kind: "org", Name: "a/b"}} {
		if _, err := c.List(ctx, tg); err == nil {
			t.Errorf("target %s accepted", tg)
		}
	}
	if _, err := c.Get(ctx, repo, "../7"); err == nil {
		t.Error("a non-numeric id was put in a path")
	}
	if _, err := New(Gitea, hooks.Options{}); err == nil {
		t.Error("gitea without api_url accepted")
	}
	if _, err := New("github", hooks.Options{APIURL: "https://x"}); err == nil {
		t.Error("a foreign provider accepted")
	}
}

// TestHooksGiteaReplaceForSecret checks the rotation path of a forge whose
// API edit ignores the secret: the new hook is created before the old one
// is deleted, and a failed delete still returns the new hook.
func TestHooksGiteaReplaceForSecret(t *testing.T) {
	s := hooktest.New(t)
	s.Handle("POST /api/v1/repos/acme/app/hooks", func(w http.ResponseWriter, r *http.Request) {
		h := fixture(t, "hook.json")
		h["id"] = 8
		hooktest.JSON(w, 201, h)
	})
	s.Handle("DELETE /api/v1/repos/acme/app/hooks/7", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	c := client(t, Gitea, s, nil)
	var hr hooks.SecretReplacer = c
	h, err := hr.ReplaceForSecret(t.Context(), repo, "7", hooks.Spec{URL: "https://hooks.example.com/hooks/acme", Active: true, Secret: "new"})
	if err != nil || h.ID != "8" {
		t.Fatalf("replace = %+v, %v", h, err)
	}
	reqs := s.Requests()
	if len(reqs) != 2 || reqs[0].Method != http.MethodPost || reqs[1].Method != http.MethodDelete {
		t.Fatalf("requests %v: want POST then DELETE", reqs)
	}
	if cfg := hooktest.Body(t, reqs[0])["config"].(map[string]any); cfg["secret"] != "new" {
		t.Errorf("new hook config %v", cfg)
	}
	h, err = hr.ReplaceForSecret(t.Context(), repo, "9", hooks.Spec{URL: "https://hooks.example.com/hooks/acme", Active: true, Secret: "new"})
	if !errors.Is(err, hooks.ErrNotFound) || h.ID != "8" {
		t.Errorf("replace with a failed delete = %+v, %v: want the new hook and the error", h, err)
	}
}
