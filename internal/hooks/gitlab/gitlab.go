// Package gitlab manages project and group webhooks through GitLab's REST
// API v4 (GitLab.com and self-managed):
//
//   - project hooks: https://docs.gitlab.com/api/project_webhooks/
//     GET/POST /projects/:id/hooks, GET/PUT/DELETE /projects/:id/hooks/:hook_id
//     (PUT requires url), POST /projects/:id/hooks/:hook_id/test/:trigger;
//   - group hooks: https://docs.gitlab.com/api/group_webhooks/, the same
//     under /groups/:id/hooks (Premium);
//   - paging: https://docs.gitlab.com/api/rest/#pagination (page,
//     per_page ≤ 100, X-Next-Page empty on the last page);
//   - rate limits: https://docs.gitlab.com/user/gitlab_com/#rate-limits-on-gitlabcom
//     (RateLimit-Remaining, RateLimit-Reset, Retry-After).
//
// :id is a numeric id or the URL-encoded full path ("group%2Fproject").
// Events are *_events booleans, mapped from forge-neutral names; every known
// boolean is sent explicitly, because GitLab turns push_events on when it
// is absent. The token (the hook's secret) is write-only; changing the URL
// resets it, so it is sent with every update. The description (GitLab
// 17.1+) carries forgehook's ownership marker. alert_status and
// disabled_until (auto-disabled hooks) are the Health.
package gitlab

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/forgehook/forgehook/internal/hooks"
	"github.com/forgehook/forgehook/internal/hooks/hookhttp"
)

// Name is the provider id.
const Name = "gitlab"

// DefaultAPIURL is GitLab.com's API.
const DefaultAPIURL = "https://gitlab.com/api/v4"

// Client manages GitLab project and group hooks.
type Client struct {
	h *hookhttp.Client
}

var _ hooks.Client = (*Client)(nil)

// New returns a client for o.APIURL (DefaultAPIURL when empty); the token
// is sent as PRIVATE-TOKEN (personal, project or group access tokens).
func New(o hooks.Options) (*Client, error) {
	if o.APIURL == "" {
		o.APIURL = DefaultAPIURL
	}
	h, err := hookhttp.New(hookhttp.Config{Forge: Name, Base: o.APIURL, HTTP: o.HTTP, Logger: o.Logger,
		Auth: hookhttp.HeaderAuth("PRIVATE-TOKEN", o.Token)})
	if err != nil {
		return nil, err
	}
	return &Client{h: h}, nil
}

// projectEvents are the event booleans of a project hook; groups have
// groupEvents besides.
var (
	projectEvents = []string{
		"confidential_issues_events", "confidential_note_events", "deployment_events", "emoji_events",
		"feature_flag_events", "issues_events", "job_events", "merge_requests_events", "milestone_events",
		"note_events", "pipeline_events", "push_events", "releases_events", "resource_access_token_events",
		"tag_push_events", "vulnerability_events", "wiki_page_events",
	}
	groupEvents = []string{"member_events", "project_events", "subgroup_events"}
	kinds       = map[string][]string{
		"push": {"push_events"}, "tag": {"tag_push_events"}, "pull_request": {"merge_requests_events"},
		"comment": {"note_events", "confidential_note_events"}, "issue": {"issues_events", "confidential_issues_events"},
		"release": {"releases_events"}, "pipeline": {"pipeline_events", "job_events"}, "registry": nil,
	}
)

// Events maps canonical kinds and *_events names to GitLab's booleans.
func (c *Client) Events(k []string) ([]string, error) {
	return hookhttp.Events(Name, k, kinds, append(slices.Clone(projectEvents), groupEvents...))
}

// hook is a project or group hook as GitLab reports it: the fields used,
// and the *_events booleans that are true. A hook with no event on is
// reported inactive (GitLab hooks have no active switch).
type hook struct {
	ID            int64
	URL           string
	Description   string
	AlertStatus   string
	DisabledUntil *time.Time
	flags         map[string]bool
}

func (c *Client) decode(raw map[string]any) (hook, error) {
	var h hook
	id, ok := raw["id"].(float64)
	if !ok {
		return h, fmt.Errorf("%s: hook without a numeric id", Name)
	}
	h.ID = int64(id)
	h.URL, _ = raw["url"].(string)
	h.Description, _ = raw["description"].(string)
	h.AlertStatus, _ = raw["alert_status"].(string)
	if s, ok := raw["disabled_until"].(string); ok && s != "" {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			h.DisabledUntil = &t
		}
	}
	h.flags = map[string]bool{}
	for _, f := range append(slices.Clone(projectEvents), groupEvents...) {
		if b, ok := raw[f].(bool); ok && b {
			h.flags[f] = true
		}
	}
	return h, nil
}

func (h hook) toHook() hooks.Hook {
	out := hooks.Hook{ID: strconv.FormatInt(h.ID, 10), URL: h.URL, Description: h.Description, Active: len(h.flags) > 0, Events: []string{},
		Health: hooks.Health{State: hooks.HealthUnknown}}
	for f := range h.flags {
		out.Events = append(out.Events, f)
	}
	slices.Sort(out.Events)
	switch h.AlertStatus {
	case "executable":
		out.Health.State = hooks.HealthOK
	case "temporarily_disabled":
		out.Health.State = hooks.HealthDisabled
		if h.DisabledUntil != nil {
			out.Health.DisabledUntil = *h.DisabledUntil
		}
	case "disabled":
		out.Health.State = hooks.HealthDisabled
	}
	return out
}

// request builds the POST or PUT body: url, token, description, TLS
// verification on, and every event boolean of the target kind.
func request(t hooks.Target, s hooks.Spec) map[string]any {
	b := map[string]any{"url": s.URL, "token": s.Secret, "enable_ssl_verification": true}
	if s.Description != "" {
		b["description"] = s.Description
	}
	fields := projectEvents
	if t.Kind == hooks.TargetGroup {
		fields = append(slices.Clone(projectEvents), groupEvents...)
	}
	for _, f := range fields {
		b[f] = slices.Contains(s.Events, f)
	}
	return b
}

func base(t hooks.Target) (string, error) {
	if t.Name == "" {
		return "", fmt.Errorf("%s: target %s: empty path", Name, t)
	}
	switch t.Kind {
	case hooks.TargetProject, hooks.TargetRepo:
		return "/projects/" + url.PathEscape(t.Name) + "/hooks", nil
	case hooks.TargetGroup:
		return "/groups/" + url.PathEscape(t.Name) + "/hooks", nil
	}
	return "", hookhttp.Unsupported(Name, "target kind "+t.Kind)
}

func hookPath(t hooks.Target, id string) (string, error) {
	p, err := base(t)
	if err != nil {
		return "", err
	}
	if _, err := strconv.ParseInt(id, 10, 64); err != nil {
		return "", fmt.Errorf("%s: hook id %q on %s: want a number", Name, id, t)
	}
	return p + "/" + id, nil
}

// permission names what a call needs (docs.gitlab.com project and group
// webhooks: Maintainer for projects, Owner for groups).
func permission(t hooks.Target, write bool) string {
	scope := "api"
	if !write {
		scope = "read_api (api to change)"
	}
	if t.Kind == hooks.TargetGroup {
		return "the Owner role on the group and a token with scope " + scope
	}
	return "the Maintainer role on the project and a token with scope " + scope
}

// List returns every hook of the project or group (all pages).
func (c *Client) List(ctx context.Context, t hooks.Target) ([]hooks.Hook, error) {
	p, err := base(t)
	if err != nil {
		return nil, err
	}
	raw, err := hookhttp.ListPages[map[string]any](ctx, c.h, hookhttp.Call{Op: "list hooks on " + t.String(), Method: http.MethodGet, Path: p,
		Permission: permission(t, false)}, hookhttp.Pages{Page: "page", Size: "per_page", PerPage: 100})
	if err != nil {
		return nil, err
	}
	out := make([]hooks.Hook, 0, len(raw))
	for _, r := range raw {
		h, err := c.decode(r)
		if err != nil {
			return nil, fmt.Errorf("%s: list hooks on %s: %w", Name, t, err)
		}
		out = append(out, h.toHook())
	}
	return out, nil
}

func (c *Client) one(ctx context.Context, call hookhttp.Call) (hooks.Hook, error) {
	var raw map[string]any
	call.Out = &raw
	if _, err := c.h.Do(ctx, call); err != nil {
		return hooks.Hook{}, err
	}
	h, err := c.decode(raw)
	if err != nil {
		return hooks.Hook{}, fmt.Errorf("%s: %s: %w", Name, call.Op, err)
	}
	return h.toHook(), nil
}

// Get returns one hook.
func (c *Client) Get(ctx context.Context, t hooks.Target, id string) (hooks.Hook, error) {
	p, err := hookPath(t, id)
	if err != nil {
		return hooks.Hook{}, err
	}
	return c.one(ctx, hookhttp.Call{Op: "get hook " + id + " on " + t.String(), Method: http.MethodGet, Path: p, Permission: permission(t, false)})
}

// Create adds a hook with every event boolean set explicitly.
func (c *Client) Create(ctx context.Context, t hooks.Target, s hooks.Spec) (hooks.Hook, error) {
	p, err := base(t)
	if err != nil {
		return hooks.Hook{}, err
	}
	if err := inactive(s); err != nil {
		return hooks.Hook{}, err
	}
	return c.one(ctx, hookhttp.Call{Op: "create hook on " + t.String(), Method: http.MethodPost, Path: p, Body: request(t, s), Permission: permission(t, true)})
}

// Update edits the hook in place (PUT with url and token always sent).
func (c *Client) Update(ctx context.Context, t hooks.Target, id string, s hooks.Spec) (hooks.Hook, error) {
	p, err := hookPath(t, id)
	if err != nil {
		return hooks.Hook{}, err
	}
	if err := inactive(s); err != nil {
		return hooks.Hook{}, err
	}
	return c.one(ctx, hookhttp.Call{Op: "update hook " + id + " on " + t.String(), Method: http.MethodPut, Path: p, Body: request(t, s), Permission: permission(t, true)})
}

// Delete removes the hook.
func (c *Client) Delete(ctx context.Context, t hooks.Target, id string) error {
	p, err := hookPath(t, id)
	if err != nil {
		return err
	}
	_, err = c.h.Do(ctx, hookhttp.Call{Op: "delete hook " + id + " on " + t.String(), Method: http.MethodDelete, Path: p, Permission: permission(t, true)})
	return err
}

// Ping triggers a test push event (POST …/test/push_events; GitLab allows
// 5 a minute). A hook that GitLab disabled is re-enabled when the test is
// answered 2xx. The test event looks like an ordinary push: whoever calls
// Ping must keep it away from triggers.
func (c *Client) Ping(ctx context.Context, t hooks.Target, id string) error {
	p, err := hookPath(t, id)
	if err != nil {
		return err
	}
	_, err = c.h.Do(ctx, hookhttp.Call{Op: "test hook " + id + " on " + t.String(), Method: http.MethodPost, Path: p + "/test/push_events", Permission: permission(t, true)})
	return err
}

// inactive refuses a spec with Active false: GitLab hooks have no active
// switch (a hook without events is reported inactive).
func inactive(s hooks.Spec) error {
	if !s.Active {
		return hookhttp.Unsupported(Name, "an inactive hook (GitLab hooks have no active switch: remove the target, or keep active: true)")
	}
	return nil
}
