package bitbucket

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/forgehook/forgehook/internal/hooks"
	"github.com/forgehook/forgehook/internal/hooks/hooktest"
)

var repo = hooks.Target{Kind: hooks.TargetRepo, Name: "acme/app"}

const uuid = "{b4a1c6a2-7e0c-4c2b-9d6f-3a5b1e2f9c01}"

func TestHooksBitbucketCRUD(t *testing.T) {
	s := hooktest.New(t)
	s.RequireAuth(func(r *http.Request) bool {
		u, p, ok := r.BasicAuth()
		return r.Header.Get("Authorization") == "Bearer repotok" || (ok && u == "me@example.com" && p == "apitok")
	})
	p := "/2.0/repositories/acme/app/hooks"
	s.Handle("POST "+p, func(w http.ResponseWriter, r *http.Request) { hooktest.Raw(t, w, 201, "hook.json") })
	s.Handle("GET "+p+"/{uid}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("uid") != uuid {
			hooktest.Raw(t, w, 404, "error.json")
			return
		}
		hooktest.Raw(t, w, 200, "hook.json")
	})
	s.Handle("PUT "+p+"/{uid}", func(w http.ResponseWriter, r *http.Request) { hooktest.Raw(t, w, 200, "hook.json") })
	s.Handle("DELETE "+p+"/{uid}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	for _, tok := range []string{"repotok", "me@example.com:apitok"} {
		c, err := New(hooks.Options{APIURL: s.URL + "/2.0", Token: tok})
		if err != nil {
			t.Fatal(err)
		}
		ctx := t.Context()
		ev, _ := c.Events([]string{"push", "tag"})
		spec := hooks.Spec{URL: "https://hooks.example.com/hooks/bb", Events: ev, Active: true, Secret: "s", Description: "managed by forgehook: bb"}
		h, err := c.Create(ctx, repo, spec)
		if err != nil {
			t.Fatal(err)
		}
		if h.ID != uuid || h.Description != spec.Description || fmt.Sprint(h.Events) != "[pullrequest:created repo:push]" {
			t.Errorf("created = %+v", h)
		}
		b := hooktest.Body(t, s.Last())
		if b["url"] != spec.URL || b["secret"] != "s" || b["active"] != true || b["description"] != spec.Description || fmt.Sprint(b["events"]) != "[repo:push]" {
			t.Errorf("create body = %v", b)
		}
		if _, err := c.Get(ctx, repo, uuid); err != nil {
			t.Error(err)
		}
		if got := s.Last().Path; got != p+"/%7Bb4a1c6a2-7e0c-4c2b-9d6f-3a5b1e2f9c01%7D" {
			t.Errorf("get path %s: want the braces escaped", got)
		}
		spec.Secret = ""
		if _, err := c.Update(ctx, repo, uuid, spec); err != nil {
			t.Fatal(err)
		}
		if b := hooktest.Body(t, s.Last()); s.Last().Method != http.MethodPut || b["secret"] != nil {
			t.Errorf("update %v: want PUT with secret null", b)
		} else if _, has := b["secret"]; !has {
			t.Error("update without a secret field keeps the old secret; want null")
		}
		if err := c.Delete(ctx, repo, uuid); err != nil {
			t.Error(err)
		}
		if err := c.Ping(ctx, repo, uuid); !errors.Is(err, hooks.ErrUnsupported) {
			t.Errorf("ping: %v", err)
		}
	}
}

func TestHooksBitbucketListPages(t *testing.T) {
	s := hooktest.New(t)
	s.Handle("GET /workspaces/acme/hooks", func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if page == 0 {
			page = 1
		}
		n := 100
		if page == 3 {
			n = 5
		}
		var vals []map[string]any
		for i := range n {
			vals = append(vals, map[string]any{"uuid": fmt.Sprintf("{%d}", (page-1)*100+i), "url": "https://h", "active": true, "events": []string{"repo:push"}})
		}
		out := map[string]any{"pagelen": 100, "page": page, "size": 205, "values": vals}
		if page < 3 {
			out["next"] = fmt.Sprintf("%s/workspaces/acme/hooks?pagelen=100&page=%d", s.URL, page+1)
		}
		hooktest.JSON(w, 200, out)
	})
	c, _ := New(hooks.Options{APIURL: s.URL, Token: "x"})
	got, err := c.List(t.Context(), hooks.Target{Kind: hooks.TargetWorkspace, Name: "acme"})
	if err != nil || len(got) != 205 || got[204].ID != "{204}" || len(s.Requests()) != 3 {
		t.Errorf("%d hooks in %d requests: %v", len(got), len(s.Requests()), err)
	}
}

func TestHooksBitbucketErrors(t *testing.T) {
	s := hooktest.New(t)
	c, _ := New(hooks.Options{APIURL: s.URL + "/2.0", Token: "x"})
	hooktest.Errors{
		Server: s, Pattern: "GET /2.0/repositories/acme/app/hooks",
		OK: func(w http.ResponseWriter) {
			hooktest.JSON(w, 200, map[string]any{"values": []any{hooktest.Fixture(t, "hook.json")}})
		},
		Call: func(ctx context.Context) error { _, err := c.List(ctx, repo); return err },
		ErrorBody: func(w http.ResponseWriter, status int) {
			hooktest.Raw(t, w, status, "error.json")
		},
	}.Check(t)
	s2 := hooktest.New(t)
	s2.Handle("POST /repositories/acme/app/hooks", func(w http.ResponseWriter, r *http.Request) { hooktest.Raw(t, w, 403, "error.json") })
	c2, _ := New(hooks.Options{APIURL: s2.URL, Token: "x"})
	_, err := c2.Create(t.Context(), repo, hooks.Spec{URL: "https://x"})
	if !errors.Is(err, hooks.ErrPermission) || !strings.Contains(err.Error(), "write:webhook:bitbucket") || !strings.Contains(err.Error(), "privilege scopes") {
		t.Errorf("403: %v", err)
	}
	if _, err := c2.Get(t.Context(), repo, "{a}/../x"); err == nil {
		t.Error("an id with a slash was accepted")
	}
}
