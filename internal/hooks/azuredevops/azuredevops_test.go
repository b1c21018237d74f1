package azuredevops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/hooks"
	"github.com/forgehook/forgehook/internal/hooks/hooktest"
)

const (
	projID = "6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c"
	repoID = "278d5cd2-584d-4b63-824a-2ba458937249"
)

var repo = hooks.Target{Kind: hooks.TargetRepo, Name: "Fabrikam-Fiber-Git/Fabrikam"}

// fake is an organization's subscriptions, served three to a page.
type fake struct {
	mu     sync.Mutex
	subs   map[string]subscription
	n      int
	failOn string // event type whose creation answers 400
}

func newFake(t *testing.T) (*fake, *hooktest.Server) {
	f := &fake{subs: map[string]subscription{}}
	s := hooktest.New(t)
	s.RequireAuth(func(r *http.Request) bool {
		u, p, ok := r.BasicAuth()
		return ok && u == "" && p == "pat" && r.URL.Query().Get("api-version") == "7.1"
	})
	s.Handle("GET /fabrikam/_apis/projects/Fabrikam-Fiber-Git", func(w http.ResponseWriter, r *http.Request) { hooktest.Raw(t, w, 200, "project.json") })
	s.Handle("GET /fabrikam/Fabrikam-Fiber-Git/_apis/git/repositories/Fabrikam", func(w http.ResponseWriter, r *http.Request) {
		hooktest.Raw(t, w, 200, "repository.json")
	})
	s.Handle("GET /fabrikam/_apis/hooks/subscriptions", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("publisherId") != "tfs" || q.Get("consumerId") != "webHooks" {
			t.Errorf("list query %v", q)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		var ids []string
		for id := range f.subs {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		start, _ := strconv.Atoi(q.Get("continuationToken"))
		end := min(start+3, len(ids))
		var page []subscription
		for _, id := range ids[start:end] {
			page = append(page, f.subs[id])
		}
		if end < len(ids) {
			w.Header().Set("X-MS-ContinuationToken", strconv.Itoa(end))
		}
		hooktest.JSON(w, 200, map[string]any{"count": len(page), "value": page})
	})
	s.Handle("POST /fabrikam/_apis/hooks/subscriptions", func(w http.ResponseWriter, r *http.Request) {
		var sub subscription
		if err := json.NewDecoder(r.Body).Decode(&sub); err != nil {
			t.Error(err)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if sub.EventType == f.failOn {
			hooktest.JSON(w, 400, map[string]any{"message": "VS1001: bad input"})
			return
		}
		f.n++
		sub.ID = fmt.Sprintf("00000000-0000-4000-8000-%012d", f.n)
		sub.Status = "enabled"
		f.subs[sub.ID] = sub
		hooktest.JSON(w, 200, sub)
	})
	s.Handle("GET /fabrikam/_apis/hooks/subscriptions/{id}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		sub, ok := f.subs[r.PathValue("id")]
		if !ok {
			hooktest.Raw(t, w, 404, "error.json")
			return
		}
		hooktest.JSON(w, 200, sub)
	})
	s.Handle("PUT /fabrikam/_apis/hooks/subscriptions/{id}", func(w http.ResponseWriter, r *http.Request) {
		var sub subscription
		_ = json.NewDecoder(r.Body).Decode(&sub)
		f.mu.Lock()
		defer f.mu.Unlock()
		old, ok := f.subs[r.PathValue("id")]
		if !ok || sub.ID != old.ID {
			hooktest.Raw(t, w, 404, "error.json")
			return
		}
		sub.Status = old.Status
		f.subs[sub.ID] = sub
		hooktest.JSON(w, 200, sub)
	})
	s.Handle("DELETE /fabrikam/_apis/hooks/subscriptions/{id}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if _, ok := f.subs[r.PathValue("id")]; !ok {
			hooktest.Raw(t, w, 404, "error.json")
			return
		}
		delete(f.subs, r.PathValue("id"))
		w.WriteHeader(204)
	})
	s.Handle("POST /fabrikam/_apis/hooks/testnotifications", func(w http.ResponseWriter, r *http.Request) {
		hooktest.JSON(w, 200, map[string]any{"id": 1, "subscriptionId": hooktest.Body(t, hooktest.Request{Body: mustRead(r)})["subscriptionId"]})
	})
	return f, s
}

func mustRead(r *http.Request) []byte {
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := r.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return []byte(b.String())
		}
	}
}

func (f *fake) get(id string) subscription {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.subs[id]
}

func (f *fake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

func (f *fake) add(sub subscription) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	sub.ID = fmt.Sprintf("00000000-0000-4000-8000-%012d", f.n)
	f.subs[sub.ID] = sub
}

func TestHooksAzureDevOpsLifecycle(t *testing.T) {
	f, s := newFake(t)
	// Others' subscriptions: another URL, another project, another repository, another consumer.
	other := func(url, proj, repo, consumer string) subscription {
		return subscription{Status: "enabled", PublisherID: "tfs", EventType: "git.push", ConsumerID: consumer, ConsumerActionID: "httpRequest",
			PublisherInputs: map[string]string{"projectId": proj, "repository": repo}, ConsumerInputs: map[string]string{"url": url}}
	}
	f.add(other("https://someone.else/hook", projID, repoID, "webHooks"))
	f.add(other("https://hooks.example.com/hooks/ado", "11111111-1111-1111-1111-111111111111", repoID, "webHooks"))
	f.add(other("https://hooks.example.com/hooks/ado", projID, "22222222-2222-2222-2222-222222222222", "webHooks"))
	f.add(other("https://hooks.example.com/hooks/ado", projID, "", "webHooks"))
	f.add(other("https://hooks.example.com/hooks/ado", projID, repoID, "slack"))
	c, err := New(hooks.Options{APIURL: s.URL + "/fabrikam", Token: "pat"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	ev, _ := c.Events([]string{"push", "pull_request"})
	spec := hooks.Spec{URL: "https://hooks.example.com/hooks/ado", Events: ev, Active: true, Secret: "tok"}
	h, err := c.Create(ctx, repo, spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(strings.Split(h.ID, ",")) != 4 || !slices.Equal(h.Events, ev) || h.URL != spec.URL || !h.Active {
		t.Fatalf("created = %+v: want 4 subscriptions", h)
	}
	var created subscription
	for _, r := range s.Requests() {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/subscriptions") {
			_ = json.Unmarshal(r.Body, &created)
		}
	}
	if created.PublisherInputs["projectId"] != projID || created.PublisherInputs["repository"] != repoID ||
		created.ConsumerInputs["httpHeaders"] != "Authorization:Bearer tok" || created.ConsumerID != "webHooks" || created.ResourceVersion != "1.0" {
		t.Errorf("created subscription = %+v", created)
	}
	// Names resolved once each.
	resolves := 0
	for _, r := range s.Requests() {
		if strings.Contains(r.Path, "/_apis/projects/") || strings.Contains(r.Path, "/_apis/git/") {
			resolves++
		}
	}
	if resolves != 2 {
		t.Errorf("%d name lookups, want 2", resolves)
	}

	// List reads every page (9 subscriptions, 3 a page) and keeps the
	// target's Web Hooks subscriptions, grouped by URL: someone else's hook
	// on the repository and ours.
	s.Reset()
	list, err := c.List(ctx, repo)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].URL != "https://someone.else/hook" || list[1].ID != h.ID {
		t.Fatalf("list = %+v, want someone else's hook and our group %s", list, h.ID)
	}
	if n := len(s.Requests()); n != 3 {
		t.Errorf("list made %d requests, want 3 pages", n)
	}

	// Update: drop the PR events but merged, new secret as Basic.
	spec.Events = []string{"git.pullrequest.merged", "git.push"}
	spec.Secret = "user:pw"
	h2, err := c.Update(ctx, repo, h.ID, spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(strings.Split(h2.ID, ",")) != 2 || !slices.Equal(h2.Events, spec.Events) {
		t.Errorf("updated = %+v", h2)
	}
	if got, err := c.Get(ctx, repo, h2.ID); err != nil || got.ID != h2.ID {
		t.Errorf("get = %+v, %v", got, err)
	}
	for _, id := range strings.Split(h2.ID, ",") {
		sub := f.get(id)
		if sub.ConsumerInputs["basicAuthUsername"] != "user" || sub.ConsumerInputs["basicAuthPassword"] != "pw" || sub.ConsumerInputs["httpHeaders"] != "" {
			t.Errorf("subscription %s inputs %v", id, sub.ConsumerInputs)
		}
	}
	if err := c.Ping(ctx, repo, h2.ID); err != nil {
		t.Errorf("ping: %v", err)
	}
	if err := c.Delete(ctx, repo, h2.ID); err != nil {
		t.Fatal(err)
	}
	if f.count() != 5 {
		t.Errorf("%d subscriptions left, want the 5 of others", f.count())
	}
	if err := c.Delete(ctx, repo, h2.ID); !errors.Is(err, hooks.ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
}

func TestHooksAzureDevOpsCreateUndo(t *testing.T) {
	f, s := newFake(t)
	f.mu.Lock()
	f.failOn = "git.pullrequest.updated"
	f.mu.Unlock()
	c, _ := New(hooks.Options{APIURL: s.URL + "/fabrikam", Token: "pat"})
	ev, _ := c.Events([]string{"push", "pull_request"})
	_, err := c.Create(t.Context(), repo, hooks.Spec{URL: "https://h/x", Events: ev, Active: true})
	if err == nil || !strings.Contains(err.Error(), "bad input") {
		t.Fatalf("err = %v", err)
	}
	if f.count() != 0 {
		t.Errorf("%d subscriptions left after a failed create, want 0", f.count())
	}
	if _, err := c.Create(t.Context(), repo, hooks.Spec{URL: "https://h/x", Events: []string{"build.complete"}, Active: true}); !errors.Is(err, hooks.ErrUnsupported) {
		t.Errorf("build event on a repository target: %v", err)
	}
}

func TestHooksAzureDevOpsErrors(t *testing.T) {
	s := hooktest.New(t)
	c, _ := New(hooks.Options{APIURL: s.URL + "/fabrikam", Token: "pat"})
	id := "fd672255-8b6b-4769-9260-beea83d752ce"
	hooktest.Errors{
		Server: s, Pattern: "GET /fabrikam/_apis/hooks/subscriptions/" + id,
		OK:        func(w http.ResponseWriter) { hooktest.Raw(t, w, 200, "subscription.json") },
		Call:      func(ctx context.Context) error { _, err := c.Get(ctx, repo, id); return err },
		ErrorBody: func(w http.ResponseWriter, status int) { hooktest.Raw(t, w, status, "error.json") },
		Exhausted: func(h http.Header, now time.Time) {
			h.Set("X-RateLimit-Remaining", "0")
			h.Set("X-RateLimit-Reset", strconv.FormatInt(now.Add(2*time.Second).Unix(), 10))
		},
	}.Check(t)
	s2 := hooktest.New(t)
	s2.Handle("GET /_apis/hooks/subscriptions/"+id, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(203)
		_, _ = w.Write([]byte("<!DOCTYPE html><html><head><title>Azure DevOps Services | Sign In</title></head></html>"))
	})
	c2, _ := New(hooks.Options{APIURL: s2.URL, Token: "bad"})
	if _, err := c2.Get(t.Context(), repo, id); !errors.Is(err, hooks.ErrPermission) || !strings.Contains(err.Error(), "Service Hooks") {
		t.Errorf("203 sign-in page: %v", err)
	}
	if _, err := c2.Get(t.Context(), repo, "1,2"); err == nil {
		t.Error("a malformed id was accepted")
	}
}
