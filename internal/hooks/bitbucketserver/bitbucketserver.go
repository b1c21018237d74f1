// Package bitbucketserver manages repository and project webhooks through
// the REST API of Bitbucket Data Center (formerly Server)
// (https://developer.atlassian.com/server/bitbucket/rest/, "Repository" and
// "Project" groups, webhooks):
//
//   - GET/POST /rest/api/latest/projects/{projectKey}/repos/{repositorySlug}/webhooks,
//     GET/PUT/DELETE …/webhooks/{webhookId} (statistics=true adds the
//     delivery statistics), POST …/webhooks/test (webhookId, url);
//   - the same under /rest/api/latest/projects/{projectKey}/webhooks;
//   - paging: start and limit; answers {values, isLastPage, nextPageStart}
//     (https://developer.atlassian.com/server/bitbucket/rest/v906/intro/#paged-apis).
//
// A webhook's name carries forgehook's ownership marker. The secret goes in
// configuration.secret; configuration is left out when there is no secret.
// The statistics (last success, last failure or error) are the Health.
package bitbucketserver

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/forgehook/forgehook/internal/hooks"
	"github.com/forgehook/forgehook/internal/hooks/hookhttp"
)

// Name is the provider id.
const Name = "bitbucket-server"

// Client manages Bitbucket Data Center webhooks.
type Client struct {
	h *hookhttp.Client
}

var _ hooks.Client = (*Client)(nil)

// New returns a client for the instance at o.APIURL: its REST API base
// (https://bitbucket.example.com/rest/api/latest), or the instance's base
// URL, to which /rest/api/latest is added. There is no public default. A
// token "user:password" is sent as HTTP Basic, any other (an HTTP access
// token) as "Authorization: Bearer …".
func New(o hooks.Options) (*Client, error) {
	if o.APIURL == "" {
		return nil, fmt.Errorf("%s: api_url is required (e.g. https://bitbucket.example.com/rest/api/latest)", Name)
	}
	api := strings.TrimRight(o.APIURL, "/")
	if !strings.Contains(api, "/rest/api/") {
		api += "/rest/api/latest"
	}
	auth := hookhttp.TokenAuth("Bearer", o.Token)
	if strings.Contains(o.Token, ":") {
		auth = hookhttp.BasicAuth("", o.Token)
	}
	h, err := hookhttp.New(hookhttp.Config{Forge: Name, Base: api, HTTP: o.HTTP, Logger: o.Logger, Auth: auth})
	if err != nil {
		return nil, err
	}
	return &Client{h: h}, nil
}

// kinds maps canonical kinds to event keys
// (https://confluence.atlassian.com/bitbucketserver/event-payload-938025882.html).
var kinds = map[string][]string{
	"push": {"repo:refs_changed"}, "tag": {"repo:refs_changed"},
	"pull_request": {"pr:opened", "pr:from_ref_updated", "pr:modified", "pr:merged", "pr:declined", "pr:deleted"},
	"comment":      {"pr:comment:added", "pr:comment:edited", "repo:comment:added", "repo:comment:edited"},
	"issue":        nil, "release": nil, "pipeline": nil, "registry": nil,
}

var native = []string{
	"mirror:repo_synchronized", "pr:comment:added", "pr:comment:deleted", "pr:comment:edited", "pr:declined", "pr:deleted",
	"pr:from_ref_updated", "pr:merged", "pr:modified", "pr:opened", "pr:reviewer:approved", "pr:reviewer:changes_requested",
	"pr:reviewer:needs_work", "pr:reviewer:unapproved", "pr:reviewer:updated", "repo:comment:added", "repo:comment:deleted",
	"repo:comment:edited", "repo:forked", "repo:modified", "repo:refs_changed", "repo:secret_detected",
}

// Events maps canonical kinds and event keys to Bitbucket Data Center event keys.
func (c *Client) Events(k []string) ([]string, error) { return hookhttp.Events(Name, k, kinds, native) }

// invocation is a delivery in the statistics.
type invocation struct {
	Start  int64 `json:"start"`
	Finish int64 `json:"finish"`
	Result struct {
		Description string `json:"description"`
		Outcome     string `json:"outcome"`
	} `json:"result"`
}

// hook is a webhook as answered.
type hook struct {
	ID         int64    `json:"id"`
	Name       string   `json:"name"`
	URL        string   `json:"url"`
	Active     bool     `json:"active"`
	Events     []string `json:"events"`
	Statistics *struct {
		LastSuccess *invocation `json:"lastSuccess"`
		LastFailure *invocation `json:"lastFailure"`
		LastError   *invocation `json:"lastError"`
	} `json:"statistics"`
}

func (h hook) toHook() hooks.Hook {
	ev := slices.Clone(h.Events)
	if ev == nil {
		ev = []string{}
	}
	slices.Sort(ev)
	out := hooks.Hook{ID: strconv.FormatInt(h.ID, 10), URL: h.URL, Description: h.Name, Active: h.Active, Events: ev,
		Health: hooks.Health{State: hooks.HealthUnknown}}
	if st := h.Statistics; st != nil {
		var bad *invocation
		for _, inv := range []*invocation{st.LastFailure, st.LastError} {
			if inv != nil && (bad == nil || inv.Finish > bad.Finish) {
				bad = inv
			}
		}
		switch {
		case bad != nil && (st.LastSuccess == nil || bad.Finish > st.LastSuccess.Finish):
			out.Health.State = hooks.HealthFailing
			out.Health.LastError = bad.Result.Description
			out.Health.LastDelivery = time.UnixMilli(bad.Finish).UTC()
		case st.LastSuccess != nil:
			out.Health.State = hooks.HealthOK
			out.Health.LastDelivery = time.UnixMilli(st.LastSuccess.Finish).UTC()
		}
	}
	return out
}

// page is one page of a paged API.
type page struct {
	Values        []hook `json:"values"`
	IsLastPage    bool   `json:"isLastPage"`
	NextPageStart *int   `json:"nextPageStart"`
}

// request is the create and update body; the name is the ownership marker
// ("forgehook" when the spec has none).
func request(s hooks.Spec) map[string]any {
	ev := s.Events
	if ev == nil {
		ev = []string{}
	}
	name := s.Description
	if name == "" {
		name = "forgehook"
	}
	b := map[string]any{"name": name, "url": s.URL, "active": s.Active, "events": ev}
	if s.Secret != "" {
		b["configuration"] = map[string]string{"secret": s.Secret}
	}
	return b
}

func base(t hooks.Target) (string, error) {
	switch t.Kind {
	case hooks.TargetRepo:
		p, r, err := hookhttp.SplitRepo(Name, t)
		if err != nil {
			return "", err
		}
		return "/projects/" + p + "/repos/" + r + "/webhooks", nil
	case hooks.TargetProject:
		p, err := hookhttp.Segment(Name, t)
		if err != nil {
			return "", err
		}
		return "/projects/" + p + "/webhooks", nil
	}
	return "", hookhttp.Unsupported(Name, "target kind "+t.Kind)
}

func hookPath(t hooks.Target, id string) (string, error) {
	p, err := base(t)
	if err != nil {
		return "", err
	}
	if _, err := strconv.ParseInt(id, 10, 64); err != nil {
		return "", fmt.Errorf("%s: webhook id %q on %s: want a number", Name, id, t)
	}
	return p + "/" + id, nil
}

func permission(t hooks.Target) string {
	if t.Kind == hooks.TargetProject {
		return "PROJECT_ADMIN on the project (an HTTP access token with the Project admin permission)"
	}
	return "REPO_ADMIN on the repository (an HTTP access token with the Repository admin permission)"
}

// List returns every webhook of the target, with statistics (all pages).
func (c *Client) List(ctx context.Context, t hooks.Target) ([]hooks.Hook, error) {
	p, err := base(t)
	if err != nil {
		return nil, err
	}
	var out []hooks.Hook
	start := 0
	for n := 0; ; n++ {
		if n >= hookhttp.DefaultMaxPages {
			return nil, fmt.Errorf("%s: list hooks on %s: more than %d pages", Name, t, hookhttp.DefaultMaxPages)
		}
		var pg page
		_, err := c.h.Do(ctx, hookhttp.Call{Op: "list hooks on " + t.String(), Method: http.MethodGet, Path: p,
			Query: url.Values{"start": {strconv.Itoa(start)}, "limit": {"100"}, "statistics": {"true"}}, Out: &pg, Permission: permission(t)})
		if err != nil {
			return nil, err
		}
		for _, h := range pg.Values {
			out = append(out, h.toHook())
		}
		if pg.IsLastPage || pg.NextPageStart == nil || *pg.NextPageStart <= start || len(pg.Values) == 0 {
			return out, nil
		}
		start = *pg.NextPageStart
	}
}

func (c *Client) one(ctx context.Context, t hooks.Target, call hookhttp.Call) (hooks.Hook, error) {
	var h hook
	call.Out, call.Permission = &h, permission(t)
	if _, err := c.h.Do(ctx, call); err != nil {
		return hooks.Hook{}, err
	}
	return h.toHook(), nil
}

// Get returns one webhook with its statistics.
func (c *Client) Get(ctx context.Context, t hooks.Target, id string) (hooks.Hook, error) {
	p, err := hookPath(t, id)
	if err != nil {
		return hooks.Hook{}, err
	}
	return c.one(ctx, t, hookhttp.Call{Op: "get hook " + id + " on " + t.String(), Method: http.MethodGet, Path: p, Query: url.Values{"statistics": {"true"}}})
}

// Create adds a webhook.
func (c *Client) Create(ctx context.Context, t hooks.Target, s hooks.Spec) (hooks.Hook, error) {
	p, err := base(t)
	if err != nil {
		return hooks.Hook{}, err
	}
	return c.one(ctx, t, hookhttp.Call{Op: "create hook on " + t.String(), Method: http.MethodPost, Path: p, Body: request(s)})
}

// Update replaces the webhook's settings in place (PUT).
func (c *Client) Update(ctx context.Context, t hooks.Target, id string, s hooks.Spec) (hooks.Hook, error) {
	p, err := hookPath(t, id)
	if err != nil {
		return hooks.Hook{}, err
	}
	return c.one(ctx, t, hookhttp.Call{Op: "update hook " + id + " on " + t.String(), Method: http.MethodPut, Path: p, Body: request(s)})
}

// Delete removes the webhook.
func (c *Client) Delete(ctx context.Context, t hooks.Target, id string) error {
	p, err := hookPath(t, id)
	if err != nil {
		return err
	}
	_, err = c.h.Do(ctx, hookhttp.Call{Op: "delete hook " + id + " on " + t.String(), Method: http.MethodDelete, Path: p, Permission: permission(t)})
	return err
}

// Ping asks Bitbucket to send a test request to the webhook's URL (POST
// …/webhooks/test with webhookId and url). The forge answers with the
// outcome; a test the receiver did not answer 2xx is an error.
func (c *Client) Ping(ctx context.Context, t hooks.Target, id string) error {
	h, err := c.Get(ctx, t, id)
	if err != nil {
		return err
	}
	p, err := base(t)
	if err != nil {
		return err
	}
	var res struct {
		Response *struct {
			Status int `json:"status"`
		} `json:"response"`
		Result *struct {
			Description string `json:"description"`
			Outcome     string `json:"outcome"`
		} `json:"result"`
	}
	_, err = c.h.Do(ctx, hookhttp.Call{Op: "test hook " + id + " on " + t.String(), Method: http.MethodPost, Path: p + "/test",
		Query: url.Values{"webhookId": {id}, "url": {h.URL}}, Out: &res, Permission: permission(t)})
	if err != nil {
		return err
	}
	if res.Response != nil && res.Response.Status/100 != 2 {
		return fmt.Errorf("%s: test hook %s on %s: the receiver answered HTTP %d", Name, id, t, res.Response.Status)
	}
	if res.Result != nil && res.Result.Outcome != "" && res.Result.Outcome != "SUCCESS" {
		return fmt.Errorf("%s: test hook %s on %s: %s: %s", Name, id, t, res.Result.Outcome, res.Result.Description)
	}
	return nil
}
