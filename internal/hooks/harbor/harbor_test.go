package harbor

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

var project = hooks.Target{Kind: hooks.TargetProject, Name: "library"}

func TestHooksHarborCRUD(t *testing.T) {
	s := hooktest.New(t)
	s.RequireAuth(func(r *http.Request) bool {
		u, p, ok := r.BasicAuth()
		return ok && u == "robot$library+forgehook" && p == "robotsecret"
	})
	p := "/api/v2.0/projects/library/webhook/policies"
	s.Handle("POST "+p, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", p+"/4")
		w.WriteHeader(201)
	})
	s.Handle("GET "+p+"/4", func(w http.ResponseWriter, r *http.Request) { hooktest.Raw(t, w, 200, "policy.json") })
	s.Handle("PUT "+p+"/4", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	s.Handle("DELETE "+p+"/4", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	c, err := New(hooks.Options{APIURL: s.URL + "/api/v2.0", Token: "robot$library+forgehook:robotsecret"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	ev, _ := c.Events([]string{"registry"})
	spec := hooks.Spec{URL: "https://hooks.example.com/hooks/harbor", Events: ev, Active: true, Secret: "Bearer xyz", Description: "managed by forgehook: harbor"}
	h, err := c.Create(ctx, project, spec)
	if err != nil {
		t.Fatal(err)
	}
	if h.ID != "4" || h.URL != spec.URL || h.Description != spec.Description || fmt.Sprint(h.Events) != "[DELETE_ARTIFACT PUSH_ARTIFACT]" || !h.Active {
		t.Errorf("created = %+v", h)
	}
	var create hooktest.Request
	for _, r := range s.Requests() {
		if r.Method == http.MethodPost {
			create = r
		}
	}
	b := hooktest.Body(t, create)
	tg := b["targets"].([]any)[0].(map[string]any)
	if b["name"] != spec.Description || b["enabled"] != true || tg["type"] != "http" || tg["address"] != spec.URL || tg["auth_header"] != "Bearer xyz" {
		t.Errorf("create body = %v", b)
	}
	if _, err := c.Update(ctx, project, "4", spec); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, project, "4"); err != nil {
		t.Error(err)
	}
	if err := c.Ping(ctx, project, "4"); !errors.Is(err, hooks.ErrUnsupported) {
		t.Errorf("ping: %v", err)
	}
}

func TestHooksHarborListPages(t *testing.T) {
	s := hooktest.New(t)
	s.Handle("GET /api/v2.0/projects/library/webhook/policies", func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if r.URL.Query().Get("page_size") != "100" {
			t.Errorf("page_size %q", r.URL.Query().Get("page_size"))
		}
		n := 100
		if page == 3 {
			n = 2
		}
		var out []map[string]any
		for i := range n {
			out = append(out, map[string]any{"id": (page-1)*100 + i + 1, "name": fmt.Sprint("p", i), "enabled": true,
				"targets": []any{map[string]any{"type": "http", "address": "https://h"}}})
		}
		w.Header().Set("X-Total-Count", "202")
		if page < 3 {
			w.Header().Set("Link", fmt.Sprintf(`</api/v2.0/projects/library/webhook/policies?page=%d&page_size=100>; rel="next"`, page+1))
		}
		hooktest.JSON(w, 200, out)
	})
	c, _ := New(hooks.Options{APIURL: s.URL + "/api/v2.0", Token: "a:b"})
	got, err := c.List(t.Context(), project)
	if err != nil || len(got) != 202 || got[201].ID != "202" || len(s.Requests()) != 3 {
		t.Errorf("%d policies in %d requests: %v", len(got), len(s.Requests()), err)
	}
}

func TestHooksHarborErrors(t *testing.T) {
	s := hooktest.New(t)
	c, _ := New(hooks.Options{APIURL: s.URL + "/api/v2.0", Token: "a:b"})
	hooktest.Errors{
		Server: s, Pattern: "GET /api/v2.0/projects/library/webhook/policies/4",
		OK:        func(w http.ResponseWriter) { hooktest.Raw(t, w, 200, "policy.json") },
		Call:      func(ctx context.Context) error { _, err := c.Get(ctx, project, "4"); return err },
		ErrorBody: func(w http.ResponseWriter, status int) { hooktest.Raw(t, w, status, "error.json") },
	}.Check(t)
	s2 := hooktest.New(t)
	s2.Handle("POST /projects/library/webhook/policies", func(w http.ResponseWriter, r *http.Request) {
		hooktest.JSON(w, 409, map[string]any{"errors": []any{map[string]string{"code": "CONFLICT", "message": "webhook policy name managed by forgehook: harbor already exists"}}})
	})
	s2.Handle("DELETE /projects/library/webhook/policies/4", func(w http.ResponseWriter, r *http.Request) { hooktest.Raw(t, w, 403, "error.json") })
	c2, _ := New(hooks.Options{APIURL: s2.URL, Token: "a:b"})
	if _, err := c2.Create(t.Context(), project, hooks.Spec{URL: "https://x"}); !errors.Is(err, hooks.ErrConflict) || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("409: %v", err)
	}
	if err := c2.Delete(t.Context(), project, "4"); !errors.Is(err, hooks.ErrPermission) || !strings.Contains(err.Error(), "notification-policy") {
		t.Errorf("403: %v", err)
	}
	if _, err := c2.List(t.Context(), hooks.Target{Kind: hooks.TargetRepo, Name: "a/b"}); !errors.Is(err, hooks.ErrUnsupported) {
		t.Errorf("repo target: %v", err)
	}
}
