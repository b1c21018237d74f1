package gitlab

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

var project = hooks.Target{Kind: hooks.TargetProject, Name: "acme/sub/app"}

func client(t *testing.T, s *hooktest.Server) *Client {
	t.Helper()
	c, err := New(hooks.Options{APIURL: s.URL + "/api/v4", Token: "glpat-tok"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestHooksGitLabCRUD(t *testing.T) {
	s := hooktest.New(t)
	s.RequireAuth(func(r *http.Request) bool { return r.Header.Get("PRIVATE-TOKEN") == "glpat-tok" })
	// The project path stays one URL-encoded segment.
	const p = "/api/v4/projects/acme%2Fsub%2Fapp/hooks"
	s.Handle("POST /api/v4/projects/{id}/hooks", func(w http.ResponseWriter, r *http.Request) { hooktest.Raw(t, w, 201, "hook.json") })
	s.Handle("GET /api/v4/projects/{id}/hooks/1", func(w http.ResponseWriter, r *http.Request) { hooktest.Raw(t, w, 200, "hook_disabled.json") })
	s.Handle("PUT /api/v4/projects/{id}/hooks/1", func(w http.ResponseWriter, r *http.Request) { hooktest.Raw(t, w, 200, "hook.json") })
	s.Handle("DELETE /api/v4/projects/{id}/hooks/1", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	s.Handle("POST /api/v4/projects/{id}/hooks/1/test/push_events", func(w http.ResponseWriter, r *http.Request) {
		hooktest.JSON(w, 201, map[string]string{"message": "201 Created"})
	})
	s.Handle("GET /api/v4/groups/{id}/hooks/2", func(w http.ResponseWriter, r *http.Request) { hooktest.Raw(t, w, 200, "group_hook.json") })
	c := client(t, s)
	ctx := t.Context()
	ev, err := c.Events([]string{"push", "tag", "pull_request", "issue"})
	if err != nil {
		t.Fatal(err)
	}
	spec := hooks.Spec{URL: "https://hooks.example.com/hooks/gl", Events: ev, Active: true, Secret: "tok1", Description: "managed by forgehook: gl"}
	h, err := c.Create(ctx, project, spec)
	if err != nil {
		t.Fatal(err)
	}
	if h.ID != "1" || h.URL != spec.URL || !slices.Equal(h.Events, spec.Events) || h.Description != spec.Description || h.Health.State != hooks.HealthOK {
		t.Errorf("created = %+v, want events %v", h, spec.Events)
	}
	last := s.Last()
	if last.Path != p {
		t.Errorf("create path %s, want %s", last.Path, p)
	}
	b := hooktest.Body(t, last)
	if b["url"] != spec.URL || b["token"] != "tok1" || b["description"] != spec.Description || b["enable_ssl_verification"] != true ||
		b["push_events"] != true || b["merge_requests_events"] != true || b["note_events"] != false || b["job_events"] != false {
		t.Errorf("create body = %v", b)
	}
	if _, has := b["subgroup_events"]; has {
		t.Error("a group-only field was sent for a project")
	}
	h, err = c.Get(ctx, project, "1")
	if err != nil || h.Health.State != hooks.HealthDisabled || !h.Health.DisabledUntil.Equal(time.Date(2026, 12, 7, 16, 0, 0, 0, time.UTC)) {
		t.Errorf("get = %+v, %v: want temporarily disabled until 16:00", h, err)
	}
	spec.Secret = "tok2"
	if _, err := c.Update(ctx, project, "1", spec); err != nil {
		t.Fatal(err)
	}
	if b := hooktest.Body(t, s.Last()); s.Last().Method != http.MethodPut || b["url"] != spec.URL || b["token"] != "tok2" {
		t.Errorf("update %s %v: want PUT with url and token", s.Last().Method, b)
	}
	if err := c.Ping(ctx, project, "1"); err != nil {
		t.Error(err)
	}
	if err := c.Delete(ctx, project, "1"); err != nil {
		t.Error(err)
	}
	g, err := c.Get(ctx, hooks.Target{Kind: hooks.TargetGroup, Name: "acme"}, "2")
	if err != nil || !slices.Contains(g.Events, "subgroup_events") {
		t.Errorf("group hook = %+v, %v", g, err)
	}
}

// TestHooksGitLabListPages reads three pages by X-Next-Page.
func TestHooksGitLabListPages(t *testing.T) {
	s := hooktest.New(t)
	s.Handle("GET /api/v4/groups/{id}/hooks", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != "acme/sub" {
			t.Errorf("group id %q", r.PathValue("id"))
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if r.URL.Query().Get("per_page") != "100" {
			t.Errorf("per_page %q", r.URL.Query().Get("per_page"))
		}
		n, next := 100, strconv.Itoa(page+1)
		if page == 3 {
			n, next = 1, ""
		}
		var out []map[string]any
		for i := range n {
			out = append(out, map[string]any{"id": (page-1)*100 + i + 1, "url": fmt.Sprintf("https://h/%d", (page-1)*100+i+1), "push_events": true})
		}
		w.Header().Set("X-Next-Page", next)
		w.Header().Set("X-Total-Pages", "3")
		hooktest.JSON(w, 200, out)
	})
	c := client(t, s)
	got, err := c.List(t.Context(), hooks.Target{Kind: hooks.TargetGroup, Name: "acme/sub"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 201 || got[200].ID != "201" || !slices.Equal(got[0].Events, []string{"push_events"}) || len(s.Requests()) != 3 {
		t.Errorf("%d hooks in %d requests", len(got), len(s.Requests()))
	}
}

func TestHooksGitLabErrors(t *testing.T) {
	s := hooktest.New(t)
	c := client(t, s)
	hooktest.Errors{
		Server: s, Pattern: "GET /api/v4/projects/{id}/hooks/1",
		OK:   func(w http.ResponseWriter) { hooktest.Raw(t, w, 200, "hook.json") },
		Call: func(ctx context.Context) error { _, err := c.Get(ctx, project, "1"); return err },
		Exhausted: func(h http.Header, now time.Time) {
			h.Set("RateLimit-Remaining", "0")
			h.Set("RateLimit-Reset", strconv.FormatInt(now.Add(2*time.Second).Unix(), 10))
		},
		ErrorBody: func(w http.ResponseWriter, status int) {
			hooktest.JSON(w, status, map[string]string{"message": strconv.Itoa(status) + " " + http.StatusText(status)})
		},
	}.Check(t)
	s2 := hooktest.New(t)
	s2.Handle("POST /api/v4/projects/{id}/hooks", func(w http.ResponseWriter, r *http.Request) { hooktest.Raw(t, w, 422, "blocked.json") })
	s2.Handle("POST /api/v4/groups/{id}/hooks", func(w http.ResponseWriter, r *http.Request) {
		hooktest.JSON(w, 403, map[string]string{"message": "403 Forbidden"})
	})
	c2 := client(t, s2)
	if _, err := c2.Create(t.Context(), project, hooks.Spec{URL: "http://127.0.0.1/x", Active: true}); !errors.Is(err, hooks.ErrConflict) || !strings.Contains(err.Error(), "is blocked") {
		t.Errorf("blocked URL: %v", err)
	}
	_, err := c2.Create(t.Context(), hooks.Target{Kind: hooks.TargetGroup, Name: "acme"}, hooks.Spec{URL: "https://x", Active: true})
	if !errors.Is(err, hooks.ErrPermission) || !strings.Contains(err.Error(), "Owner role on the group") {
		t.Errorf("group 403: %v", err)
	}
}

func TestHooksGitLabEvents(t *testing.T) {
	c, _ := New(hooks.Options{})
	got, err := c.Events([]string{"comment", "wiki_page_events"})
	if err != nil || !slices.Equal(got, []string{"confidential_note_events", "note_events", "wiki_page_events"}) {
		t.Errorf("events = %v, %v", got, err)
	}
	if _, err := c.Events([]string{"registry"}); !errors.Is(err, hooks.ErrUnsupported) {
		t.Errorf("registry: %v", err)
	}
	// GitLab has no active switch: an inactive spec is refused, a hook without events reads inactive.
	if _, err := c.Create(t.Context(), project, hooks.Spec{URL: "u", Events: []string{"push_events"}}); !errors.Is(err, hooks.ErrUnsupported) {
		t.Errorf("inactive spec: %v", err)
	}
	if h := (hook{ID: 1}).toHook(); h.Active {
		t.Error("a hook without events reads active")
	}
}
