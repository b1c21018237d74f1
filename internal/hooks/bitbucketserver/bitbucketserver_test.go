package bitbucketserver

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/forgehook/forgehook/internal/hooks"
	"github.com/forgehook/forgehook/internal/hooks/hooktest"
)

var repo = hooks.Target{Kind: hooks.TargetRepo, Name: "PROJ/app"}

func TestHooksBitbucketServerCRUD(t *testing.T) {
	s := hooktest.New(t)
	s.RequireAuth(func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer httptok" })
	p := "/bb/rest/api/latest/projects/PROJ/repos/app/webhooks"
	s.Handle("POST "+p, func(w http.ResponseWriter, r *http.Request) { hooktest.Raw(t, w, 201, "webhook.json") })
	s.Handle("GET "+p+"/10", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("statistics") != "true" {
			t.Error("get without statistics=true")
		}
		hooktest.Raw(t, w, 200, "webhook.json")
	})
	s.Handle("PUT "+p+"/10", func(w http.ResponseWriter, r *http.Request) { hooktest.Raw(t, w, 200, "webhook.json") })
	s.Handle("DELETE "+p+"/10", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	s.Handle("POST "+p+"/test", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("webhookId") != "10" || r.URL.Query().Get("url") != "https://hooks.example.com/hooks/bbs" {
			t.Errorf("test query %v", r.URL.Query())
		}
		hooktest.Raw(t, w, 200, "test.json")
	})
	// The instance base URL gets /rest/api/latest.
	c, err := New(hooks.Options{APIURL: s.URL + "/bb", Token: "httptok"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	ev, _ := c.Events([]string{"push", "tag"})
	spec := hooks.Spec{URL: "https://hooks.example.com/hooks/bbs", Events: ev, Active: true, Secret: "sec", Description: "managed by forgehook: bbs"}
	h, err := c.Create(ctx, repo, spec)
	if err != nil {
		t.Fatal(err)
	}
	if h.ID != "10" || h.Description != spec.Description || h.Health.State != hooks.HealthFailing || h.Health.LastError != "503 Service Unavailable" {
		t.Errorf("created = %+v", h)
	}
	b := hooktest.Body(t, s.Last())
	if b["name"] != spec.Description || b["url"] != spec.URL || b["active"] != true || b["configuration"].(map[string]any)["secret"] != "sec" {
		t.Errorf("create body = %v", b)
	}
	spec.Secret = ""
	if _, err := c.Update(ctx, repo, "10", spec); err != nil {
		t.Fatal(err)
	}
	if b := hooktest.Body(t, s.Last()); b["configuration"] != nil {
		t.Errorf("update without a secret sent configuration: %v", b)
	}
	if err := c.Ping(ctx, repo, "10"); err != nil {
		t.Errorf("ping: %v", err)
	}
	if err := c.Delete(ctx, repo, "10"); err != nil {
		t.Error(err)
	}
}

func TestHooksBitbucketServerListPages(t *testing.T) {
	s := hooktest.New(t)
	s.Handle("GET /rest/api/latest/projects/PROJ/webhooks", func(w http.ResponseWriter, r *http.Request) {
		start, _ := strconv.Atoi(r.URL.Query().Get("start"))
		if r.URL.Query().Get("limit") != "100" {
			t.Errorf("limit %q", r.URL.Query().Get("limit"))
		}
		n := 100
		if start == 200 {
			n = 9
		}
		var vals []map[string]any
		for i := range n {
			vals = append(vals, map[string]any{"id": start + i + 1, "name": "x", "url": "https://h", "active": true, "events": []string{"repo:refs_changed"}})
		}
		out := map[string]any{"size": n, "limit": 100, "start": start, "isLastPage": start == 200, "values": vals}
		if start < 200 {
			out["nextPageStart"] = start + 100
		}
		hooktest.JSON(w, 200, out)
	})
	c, _ := New(hooks.Options{APIURL: s.URL + "/rest/api/latest", Token: "u:p"})
	got, err := c.List(t.Context(), hooks.Target{Kind: hooks.TargetProject, Name: "PROJ"})
	if err != nil || len(got) != 209 || got[208].ID != "209" || len(s.Requests()) != 3 {
		t.Errorf("%d hooks in %d requests: %v", len(got), len(s.Requests()), err)
	}
	if u, p, ok := (&http.Request{Header: s.Last().Header}).BasicAuth(); !ok || u != "u" || p != "p" {
		t.Error("a user:password token was not sent as Basic")
	}
}

func TestHooksBitbucketServerErrors(t *testing.T) {
	s := hooktest.New(t)
	c, _ := New(hooks.Options{APIURL: s.URL, Token: "x"})
	hooktest.Errors{
		Server: s, Pattern: "GET /rest/api/latest/projects/PROJ/repos/app/webhooks/10",
		OK:        func(w http.ResponseWriter) { hooktest.Raw(t, w, 200, "webhook.json") },
		Call:      func(ctx context.Context) error { _, err := c.Get(ctx, repo, "10"); return err },
		ErrorBody: func(w http.ResponseWriter, status int) { hooktest.Raw(t, w, status, "error.json") },
	}.Check(t)
	s2 := hooktest.New(t)
	s2.Handle("POST /rest/api/latest/projects/PROJ/webhooks", func(w http.ResponseWriter, r *http.Request) { hooktest.Raw(t, w, 403, "error.json") })
	c2, _ := New(hooks.Options{APIURL: s2.URL, Token: "x"})
	_, err := c2.Create(t.Context(), hooks.Target{Kind: hooks.TargetProject, Name: "PROJ"}, hooks.Spec{URL: "https://x"})
	if !errors.Is(err, hooks.ErrPermission) || !strings.Contains(err.Error(), "PROJECT_ADMIN") || !strings.Contains(err.Error(), "not permitted") {
		t.Errorf("403: %v", err)
	}
	if _, err := New(hooks.Options{}); err == nil {
		t.Error("no api_url accepted")
	}
}
