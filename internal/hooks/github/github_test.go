package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/hooks"
	"github.com/forgehook/forgehook/internal/hooks/hooktest"
)

var repo = hooks.Target{Kind: hooks.TargetRepo, Name: "octocat/Hello-World"}

func client(t *testing.T, s *hooktest.Server) *Client {
	t.Helper()
	c, err := New(hooks.Options{APIURL: s.URL + "/api/v3", Token: "ghp_tok"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestHooksGitHubCRUD(t *testing.T) {
	s := hooktest.New(t)
	s.RequireAuth(func(r *http.Request) bool {
		return r.Header.Get("Authorization") == "Bearer ghp_tok" && r.Header.Get("Accept") == "application/vnd.github+json" &&
			r.Header.Get("X-GitHub-Api-Version") == "2022-11-28"
	})
	p := "/api/v3/repos/octocat/Hello-World/hooks"
	s.Handle("POST "+p, func(w http.ResponseWriter, r *http.Request) { hooktest.Raw(t, w, 201, "hook.json") })
	s.Handle("GET "+p+"/12345678", func(w http.ResponseWriter, r *http.Request) { hooktest.Raw(t, w, 200, "hook_failing.json") })
	s.Handle("PATCH "+p+"/12345678", func(w http.ResponseWriter, r *http.Request) { hooktest.Raw(t, w, 200, "hook.json") })
	s.Handle("DELETE "+p+"/12345678", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	s.Handle("POST "+p+"/12345678/pings", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	c := client(t, s)
	ctx := t.Context()
	ev, err := c.Events([]string{"push", "pull_request"})
	if err != nil {
		t.Fatal(err)
	}
	spec := hooks.Spec{URL: "https://example.com/webhook", Events: ev, Active: true, Secret: "s3"}
	h, err := c.Create(ctx, repo, spec)
	if err != nil {
		t.Fatal(err)
	}
	if h.ID != "12345678" || h.URL != spec.URL || h.Health.State != hooks.HealthUnknown {
		t.Errorf("created = %+v", h)
	}
	b := hooktest.Body(t, s.Last())
	cfg := b["config"].(map[string]any)
	if b["name"] != "web" || b["active"] != true || cfg["url"] != spec.URL || cfg["content_type"] != "json" ||
		cfg["secret"] != "s3" || cfg["insecure_ssl"] != "0" || fmt.Sprint(b["events"]) != "[pull_request pull_request_review push]" {
		t.Errorf("create body = %v", b)
	}
	h, err = c.Get(ctx, repo, "12345678")
	if err != nil || h.Health.State != hooks.HealthFailing || h.Health.LastStatus != 404 || h.Health.LastError != "Invalid HTTP Response: 404" {
		t.Errorf("get = %+v, %v: want failing health from last_response", h, err)
	}
	spec.Active = false
	if _, err := c.Update(ctx, repo, "12345678", spec); err != nil {
		t.Fatal(err)
	}
	b = hooktest.Body(t, s.Last())
	if _, has := b["name"]; has || b["active"] != false || b["config"].(map[string]any)["secret"] != "s3" {
		t.Errorf("update body = %v: want no name, active false, the secret sent", b)
	}
	if err := c.Ping(ctx, repo, "12345678"); err != nil {
		t.Error(err)
	}
	if err := c.Delete(ctx, repo, "12345678"); err != nil {
		t.Error(err)
	}
	if _, err := c.Get(ctx, repo, "1/../2"); err == nil {
		t.Error("a non-numeric id was accepted")
	}
}

// TestHooksGitHubListPages reads three pages by following the Link header.
func TestHooksGitHubListPages(t *testing.T) {
	s := hooktest.New(t)
	s.Handle("GET /orgs/acme/hooks", func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if page == 0 {
			page = 1
		}
		if r.URL.Query().Get("per_page") != "100" {
			t.Errorf("per_page = %q", r.URL.Query().Get("per_page"))
		}
		n := 100
		if page == 3 {
			n = 7
		}
		var out []map[string]any
		for i := range n {
			id := (page-1)*100 + i + 1
			out = append(out, map[string]any{"id": id, "name": "web", "active": true, "events": []string{"push"},
				"config": map[string]any{"url": fmt.Sprintf("https://h/%d", id)}})
		}
		if page < 3 {
			w.Header().Set("Link", fmt.Sprintf(`<%s/orgs/acme/hooks?per_page=100&page=%d>; rel="next", <%s/orgs/acme/hooks?per_page=100&page=3>; rel="last"`, s.URL, page+1, s.URL))
		}
		hooktest.JSON(w, 200, out)
	})
	c, _ := New(hooks.Options{APIURL: s.URL, Token: "x"})
	got, err := c.List(t.Context(), hooks.Target{Kind: hooks.TargetOrg, Name: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 207 || got[206].URL != "https://h/207" || len(s.Requests()) != 3 {
		t.Errorf("%d hooks in %d requests", len(got), len(s.Requests()))
	}
}

func TestHooksGitHubErrors(t *testing.T) {
	s := hooktest.New(t)
	c := client(t, s)
	hooktest.Errors{
		Server: s, Pattern: "GET /api/v3/repos/octocat/Hello-World/hooks",
		OK:   func(w http.ResponseWriter) { hooktest.JSON(w, 200, []any{hooktest.Fixture(t, "hook.json")}) },
		Call: func(ctx context.Context) error { _, err := c.List(ctx, repo); return err },
		Exhausted: func(h http.Header, now time.Time) {
			h.Set("x-ratelimit-remaining", "0")
			h.Set("x-ratelimit-reset", strconv.FormatInt(now.Add(2*time.Second).Unix(), 10))
		},
	}.Check(t)

	s2 := hooktest.New(t)
	s2.Handle("POST /api/v3/repos/octocat/Hello-World/hooks", func(w http.ResponseWriter, r *http.Request) { hooktest.Raw(t, w, 422, "exists.json") })
	s2.Handle("POST /api/v3/orgs/acme/hooks", func(w http.ResponseWriter, r *http.Request) { hooktest.Raw(t, w, 403, "forbidden.json") })
	c2 := client(t, s2)
	_, err := c2.Create(t.Context(), hooks.Target{Kind: hooks.TargetRepo, Name: "octocat/private"}, hooks.Spec{URL: "https://x"})
	if !errors.Is(err, hooks.ErrNotFound) || !strings.Contains(err.Error(), "admin:repo_hook") {
		t.Errorf("404 on a repository the token may not see: %v, want the permission named", err)
	}
	_, err = c2.Create(t.Context(), repo, hooks.Spec{URL: "https://example.com/webhook"})
	if !errors.Is(err, hooks.ErrConflict) || !strings.Contains(err.Error(), "Hook already exists") {
		t.Errorf("second hook with the same URL: %v", err)
	}
	_, err = c2.Create(t.Context(), hooks.Target{Kind: hooks.TargetOrg, Name: "acme"}, hooks.Spec{URL: "https://x"})
	if !errors.Is(err, hooks.ErrPermission) || !strings.Contains(err.Error(), "admin:org_hook") {
		t.Errorf("org 403: %v", err)
	}
	// GitHub's primary limit: 403 with x-ratelimit-remaining 0 is waited out, not a permission error.
	s3 := hooktest.New(t)
	n := 0
	s3.Handle("GET /repos/octocat/Hello-World/hooks/1", func(w http.ResponseWriter, r *http.Request) {
		n++
		if n == 1 {
			w.Header().Set("x-ratelimit-remaining", "0")
			w.Header().Set("x-ratelimit-reset", strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10))
			hooktest.JSON(w, 403, map[string]string{"message": "API rate limit exceeded"})
			return
		}
		hooktest.Raw(t, w, 200, "hook.json")
	})
	c3, _ := New(hooks.Options{APIURL: s3.URL})
	if _, err := c3.Get(t.Context(), repo, "1"); err != nil || n != 2 {
		t.Errorf("403 rate limit then OK: %v after %d requests", err, n)
	}
}

func TestHooksGitHubEventsTargets(t *testing.T) {
	c, err := New(hooks.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Events([]string{"tag", "workflow_job", "comment"}); !slices.Equal(got, []string{"commit_comment", "create", "issue_comment", "pull_request_review_comment", "workflow_job"}) {
		t.Errorf("events = %v", got)
	}
	if _, err := c.Events([]string{"Push Hook"}); err == nil {
		t.Error("a foreign event name was accepted")
	}
	if _, err := c.List(t.Context(), hooks.Target{Kind: hooks.TargetGroup, Name: "x"}); !errors.Is(err, hooks.ErrUnsupported) {
		t.Errorf("group target: %v", err)
	}
}
