// Package bitbucket manages repository and workspace webhooks through the
// Bitbucket Cloud REST API 2.0
// (https://developer.atlassian.com/cloud/bitbucket/rest/api-group-repositories/#api-repositories-workspace-repo-slug-hooks-get
// and api-group-workspaces, "hooks"):
//
//   - GET/POST /repositories/{workspace}/{repo_slug}/hooks,
//     GET/PUT/DELETE …/hooks/{uid};
//   - GET/POST /workspaces/{workspace}/hooks, GET/PUT/DELETE …/hooks/{uid};
//   - paging: a JSON page {values, next} whose "next" is the URL of the
//     following page (https://developer.atlassian.com/cloud/bitbucket/rest/intro/#pagination).
//
// A hook's id is its uuid, braces included ("{...}"), escaped in paths. Its
// description carries forgehook's ownership marker. The secret is
// write-only (answers carry only secret_set): omitted, an update keeps it;
// null removes it. Bitbucket Cloud has no API call that tests a hook.
package bitbucket

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/forgehook/forgehook/internal/hooks"
	"github.com/forgehook/forgehook/internal/hooks/hookhttp"
)

// Name is the provider id.
const Name = "bitbucket"

// DefaultAPIURL is Bitbucket Cloud's API.
const DefaultAPIURL = "https://api.bitbucket.org/2.0"

// Client manages Bitbucket Cloud webhooks.
type Client struct {
	h *hookhttp.Client
}

var _ hooks.Client = (*Client)(nil)

// New returns a client for o.APIURL (DefaultAPIURL when empty). A token
// "user:secret" (an Atlassian account email and API token, or a username
// and app password) is sent as HTTP Basic; any other token (a repository,
// project or workspace access token) as "Authorization: Bearer …".
func New(o hooks.Options) (*Client, error) {
	if o.APIURL == "" {
		o.APIURL = DefaultAPIURL
	}
	auth := hookhttp.TokenAuth("Bearer", o.Token)
	if strings.Contains(o.Token, ":") {
		auth = hookhttp.BasicAuth("", o.Token)
	}
	h, err := hookhttp.New(hookhttp.Config{Forge: Name, Base: o.APIURL, HTTP: o.HTTP, Logger: o.Logger, Auth: auth})
	if err != nil {
		return nil, err
	}
	return &Client{h: h}, nil
}

// kinds maps canonical kinds to Bitbucket Cloud event keys
// (https://support.atlassian.com/bitbucket-cloud/docs/event-payloads/). A
// tag push is a repo:push whose change has type "tag".
var kinds = map[string][]string{
	"push": {"repo:push"}, "tag": {"repo:push"},
	"pull_request": {"pullrequest:created", "pullrequest:updated", "pullrequest:fulfilled", "pullrequest:rejected", "pullrequest:approved", "pullrequest:unapproved"},
	"comment":      {"pullrequest:comment_created", "repo:commit_comment_created", "issue:comment_created"},
	"issue":        {"issue:created", "issue:updated"},
	"pipeline":     {"repo:commit_status_created", "repo:commit_status_updated"},
	"release":      nil, "registry": nil,
}

var native = []string{
	"issue:comment_created", "issue:created", "issue:updated", "project:updated",
	"pullrequest:approved", "pullrequest:changes_request_created", "pullrequest:changes_request_removed",
	"pullrequest:comment_created", "pullrequest:comment_deleted", "pullrequest:comment_reopened", "pullrequest:comment_resolved",
	"pullrequest:comment_updated", "pullrequest:created", "pullrequest:fulfilled", "pullrequest:push", "pullrequest:rejected",
	"pullrequest:unapproved", "pullrequest:updated", "repo:commit_comment_created", "repo:commit_status_created",
	"repo:commit_status_updated", "repo:created", "repo:deleted", "repo:fork", "repo:imported", "repo:push", "repo:transfer", "repo:updated",
}

// Events maps canonical kinds and event keys to Bitbucket Cloud event keys.
func (c *Client) Events(k []string) ([]string, error) { return hookhttp.Events(Name, k, kinds, native) }

// hook is a webhook_subscription.
type hook struct {
	UUID        string   `json:"uuid"`
	URL         string   `json:"url"`
	Description string   `json:"description"`
	Active      bool     `json:"active"`
	Events      []string `json:"events"`
}

func (h hook) toHook() hooks.Hook {
	ev := slices.Clone(h.Events)
	if ev == nil {
		ev = []string{}
	}
	slices.Sort(ev)
	return hooks.Hook{ID: h.UUID, URL: h.URL, Description: h.Description, Active: h.Active, Events: ev, Health: hooks.Health{State: hooks.HealthUnknown}}
}

// page is one page of a paginated list.
type page struct {
	Next   string `json:"next"`
	Values []hook `json:"values"`
}

// request is the create and update body; an empty secret is sent as null,
// which removes a secret set before.
func request(s hooks.Spec) map[string]any {
	ev := s.Events
	if ev == nil {
		ev = []string{}
	}
	b := map[string]any{"description": s.Description, "url": s.URL, "active": s.Active, "events": ev, "secret": nil}
	if s.Description == "" {
		b["description"] = "forgehook"
	}
	if s.Secret != "" {
		b["secret"] = s.Secret
	}
	return b
}

func base(t hooks.Target) (string, error) {
	switch t.Kind {
	case hooks.TargetRepo:
		w, r, err := hookhttp.SplitRepo(Name, t)
		if err != nil {
			return "", err
		}
		return "/repositories/" + w + "/" + r + "/hooks", nil
	case hooks.TargetWorkspace:
		w, err := hookhttp.Segment(Name, t)
		if err != nil {
			return "", err
		}
		return "/workspaces/" + w + "/hooks", nil
	}
	return "", hookhttp.Unsupported(Name, "target kind "+t.Kind)
}

func hookPath(t hooks.Target, id string) (string, error) {
	p, err := base(t)
	if err != nil {
		return "", err
	}
	if id == "" || strings.ContainsAny(id, "/?#") {
		return "", fmt.Errorf("%s: hook id %q on %s: want a uuid", Name, id, t)
	}
	return p + "/" + url.PathEscape(id), nil
}

// permission names what the calls need.
func permission(t hooks.Target) string {
	if t.Kind == hooks.TargetWorkspace {
		return "a workspace administrator's credential with the webhook permission: a workspace access token with scope webhook, or an API token with scopes read:webhook:bitbucket and write:webhook:bitbucket"
	}
	return "a repository administrator's credential with the webhook permission: a repository access token with scope webhook, or an API token with scopes read:webhook:bitbucket and write:webhook:bitbucket"
}

// List returns every hook of the target, following "next".
func (c *Client) List(ctx context.Context, t hooks.Target) ([]hooks.Hook, error) {
	p, err := base(t)
	if err != nil {
		return nil, err
	}
	call := hookhttp.Call{Op: "list hooks on " + t.String(), Method: http.MethodGet, Path: p, Query: url.Values{"pagelen": {"100"}}, Permission: permission(t)}
	var out []hooks.Hook
	for n := 0; ; n++ {
		if n >= hookhttp.DefaultMaxPages {
			return nil, fmt.Errorf("%s: %s: more than %d pages", Name, call.Op, hookhttp.DefaultMaxPages)
		}
		var pg page
		call.Out = &pg
		if _, err := c.h.Do(ctx, call); err != nil {
			return nil, err
		}
		for _, h := range pg.Values {
			out = append(out, h.toHook())
		}
		if pg.Next == "" || len(pg.Values) == 0 {
			return out, nil
		}
		call.Path, call.Query = pg.Next, nil
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

// Get returns one hook by uuid.
func (c *Client) Get(ctx context.Context, t hooks.Target, id string) (hooks.Hook, error) {
	p, err := hookPath(t, id)
	if err != nil {
		return hooks.Hook{}, err
	}
	return c.one(ctx, t, hookhttp.Call{Op: "get hook " + id + " on " + t.String(), Method: http.MethodGet, Path: p})
}

// Create adds a hook; its description is the spec's marker ("forgehook" when empty).
func (c *Client) Create(ctx context.Context, t hooks.Target, s hooks.Spec) (hooks.Hook, error) {
	p, err := base(t)
	if err != nil {
		return hooks.Hook{}, err
	}
	return c.one(ctx, t, hookhttp.Call{Op: "create hook on " + t.String(), Method: http.MethodPost, Path: p, Body: request(s)})
}

// Update replaces the hook's settings in place (PUT).
func (c *Client) Update(ctx context.Context, t hooks.Target, id string, s hooks.Spec) (hooks.Hook, error) {
	p, err := hookPath(t, id)
	if err != nil {
		return hooks.Hook{}, err
	}
	return c.one(ctx, t, hookhttp.Call{Op: "update hook " + id + " on " + t.String(), Method: http.MethodPut, Path: p, Body: request(s)})
}

// Delete removes the hook.
func (c *Client) Delete(ctx context.Context, t hooks.Target, id string) error {
	p, err := hookPath(t, id)
	if err != nil {
		return err
	}
	_, err = c.h.Do(ctx, hookhttp.Call{Op: "delete hook " + id + " on " + t.String(), Method: http.MethodDelete, Path: p, Permission: permission(t)})
	return err
}

// Ping is not offered by Bitbucket Cloud's API.
func (c *Client) Ping(ctx context.Context, t hooks.Target, id string) error {
	return hookhttp.Unsupported(Name, "test delivery")
}
