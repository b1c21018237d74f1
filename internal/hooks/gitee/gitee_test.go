package gitee

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/forgehook/forgehook/internal/hooks"
	"github.com/forgehook/forgehook/internal/hooks/hooktest"
)

var repo = hooks.Target{Kind: hooks.TargetRepo, Name: "acme/app"}

func TestHooksGiteeCRUD(t *testing.T) {
	for _, provider := range []string{Gitee, AtomGit} {
		t.Run(provider, func(t *testing.T) {
			s := hooktest.New(t)
			s.RequireAuth(func(r *http.Request) bool { return r.URL.Query().Get("access_token") == "tok" })
			p := "/api/v5/repos/acme/app/hooks"
			s.Handle("POST "+p, func(w http.ResponseWriter, r *http.Request) { hooktest.Raw(t, w, 201, "hook.json") })
			s.Handle("GET "+p+"/9523", func(w http.ResponseWriter, r *http.Request) { hooktest.Raw(t, w, 200, "hook_failing.json") })
			s.Handle("PATCH "+p+"/9529", func(w http.ResponseWriter, r *http.Request) { hooktest.Raw(t, w, 200, "hook.json") })
			s.Handle("DELETE "+p+"/9529", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
			s.Handle("POST "+p+"/9529/tests", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
			c, err := New(provider, hooks.Options{APIURL: s.URL + "/api/v5", Token: "tok"})
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			ev, _ := c.Events([]string{"push", "tag", "pull_request"})
			spec := hooks.Spec{URL: "https://hooks.example.com/hooks/gitee", Events: ev, Active: true, Secret: "sig"}
			h, err := c.Create(ctx, repo, spec)
			if err != nil {
				t.Fatal(err)
			}
			if h.ID != "9529" || !h.Active || !slices.Equal(h.Events, ev) || h.Health.State != hooks.HealthUnknown {
				t.Errorf("created = %+v, want events %v", h, ev)
			}
			if strings.Contains(fmt.Sprint(h), "pw-in-clear") {
				t.Error("the password of the answer reached the Hook")
			}
			b := hooktest.Body(t, s.Last())
			if b["url"] != spec.URL || b["encryption_type"] != 1.0 || b["password"] != "sig" || b["push_events"] != true || b["issues_events"] != false {
				t.Errorf("create body = %v", b)
			}
			h, err = c.Get(ctx, repo, "9523")
			if err != nil || h.Health.State != hooks.HealthFailing || h.Health.LastStatus != 503 || h.Health.LastError != "not found" {
				t.Errorf("get = %+v, %v", h, err)
			}
			spec.Secret = ""
			if _, err := c.Update(ctx, repo, "9529", spec); err != nil {
				t.Fatal(err)
			}
			if b := hooktest.Body(t, s.Last()); b["url"] != spec.URL || b["encryption_type"] != 0.0 || b["password"] != "" {
				t.Errorf("update body = %v", b)
			}
			if err := c.Ping(ctx, repo, "9529"); err != nil {
				t.Error(err)
			}
			if err := c.Delete(ctx, repo, "9529"); err != nil {
				t.Error(err)
			}
			if _, err := c.List(ctx, hooks.Target{Kind: hooks.TargetOrg, Name: "acme"}); !errors.Is(err, hooks.ErrUnsupported) {
				t.Errorf("org target: %v", err)
			}
		})
	}
}

func TestHooksGiteeListPages(t *testing.T) {
	s := hooktest.New(t)
	s.Handle("GET /repos/acme/app/hooks", func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if r.URL.Query().Get("per_page") != "100" {
			t.Errorf("per_page %q", r.URL.Query().Get("per_page"))
		}
		n := 100
		if page == 3 {
			n = 40
		}
		var out []map[string]any
		for i := range n {
			out = append(out, map[string]any{"id": (page-1)*100 + i + 1, "url": "https://h", "push_events": true, "password": "x"})
		}
		w.Header().Set("total_count", "240")
		w.Header().Set("total_page", "3")
		hooktest.JSON(w, 200, out)
	})
	c, _ := New(Gitee, hooks.Options{APIURL: s.URL, Token: "tok"})
	got, err := c.List(t.Context(), repo)
	if err != nil || len(got) != 240 || len(s.Requests()) != 3 {
		t.Errorf("%d hooks in %d requests, %v", len(got), len(s.Requests()), err)
	}
}

func TestHooksGiteeErrors(t *testing.T) {
	s := hooktest.New(t)
	c, _ := New(Gitee, hooks.Options{APIURL: s.URL + "/api/v5", Token: "tok-secret-123"})
	hooktest.Errors{
		Server: s, Pattern: "GET /api/v5/repos/acme/app/hooks",
		OK: func(w http.ResponseWriter) { hooktest.JSON(w, 200, []any{hooktest.Fixture(t, "hook.json")}) },
		Call: func(ctx context.Context) error {
			_, err := c.List(ctx, repo)
			if err != nil && strings.Contains(err.Error(), "tok-secret-123") {
				t.Errorf("the token reached an error: %v", err)
			}
			return err
		},
	}.Check(t)
	if _, err := c.Update(t.Context(), repo, "1", hooks.Spec{URL: "u"}); !errors.Is(err, hooks.ErrUnsupported) {
		t.Errorf("inactive spec: %v", err)
	}
	if _, err := c.Events([]string{"release"}); !errors.Is(err, hooks.ErrUnsupported) {
		t.Errorf("release: %v", err)
	}
}
