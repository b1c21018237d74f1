// Package github manages repository and organization webhooks through
// GitHub's REST API (github.com and GitHub Enterprise Server):
//
//   - repository hooks: https://docs.github.com/rest/repos/webhooks
//     GET/POST /repos/{owner}/{repo}/hooks (per_page ≤ 100, Link paging),
//     GET/PATCH/DELETE …/hooks/{hook_id}, POST …/hooks/{hook_id}/pings;
//   - organization hooks: https://docs.github.com/rest/orgs/webhooks, the
//     same under /orgs/{org}/hooks;
//   - rate limits: https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api
//     (x-ratelimit-remaining and x-ratelimit-reset; secondary limits answer
//     403 or 429 with retry-after).
//
// A hook has no name or description: "name" is always "web" and its
// identity is config.url. GitHub refuses a second hook with the same URL
// (422 "Hook already exists on this repository"). The secret is masked in
// every answer. A hook's last_response is its Health.
package github

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/forgehook/forgehook/internal/hooks"
	"github.com/forgehook/forgehook/internal/hooks/hookhttp"
)

// Name is the provider id.
const Name = "github"

// DefaultAPIURL is github.com's API; GitHub Enterprise Server's is
// https://HOST/api/v3.
const DefaultAPIURL = "https://api.github.com"

// Client manages the webhooks of GitHub repositories and organizations.
type Client struct {
	h *hookhttp.Client
}

var _ hooks.Client = (*Client)(nil)

// New returns a client for o.APIURL (DefaultAPIURL when empty). The token
// (a fine-grained or classic personal access token, or an app token) is
// sent as "Authorization: Bearer …", with the documented Accept and
// X-GitHub-Api-Version headers.
func New(o hooks.Options) (*Client, error) {
	if o.APIURL == "" {
		o.APIURL = DefaultAPIURL
	}
	h, err := hookhttp.New(hookhttp.Config{
		Forge: Name, Base: o.APIURL, HTTP: o.HTTP, Logger: o.Logger,
		Auth: hookhttp.TokenAuth("Bearer", o.Token),
		Header: http.Header{
			"Accept":               {"application/vnd.github+json"},
			"X-Github-Api-Version": {"2022-11-28"},
		},
	})
	if err != nil {
		return nil, err
	}
	return &Client{h: h}, nil
}

// kinds maps canonical kinds to GitHub events
// (https://docs.github.com/webhooks/webhook-events-and-payloads). A tag
// push is a "create" event (and a "push" with a refs/tags ref).
var kinds = map[string][]string{
	"push": {"push"}, "tag": {"create"}, "pull_request": {"pull_request", "pull_request_review"},
	"comment": {"commit_comment", "issue_comment", "pull_request_review_comment"}, "issue": {"issues"},
	"release": {"release"}, "pipeline": {"check_run", "check_suite", "workflow_run"}, "registry": {"package", "registry_package"},
}

// native lists GitHub's repository and organization webhook events.
var native = []string{
	"*", "branch_protection_configuration", "branch_protection_rule", "check_run", "check_suite", "code_scanning_alert",
	"commit_comment", "create", "custom_property_values", "delete", "dependabot_alert", "deploy_key", "deployment",
	"deployment_protection_rule", "deployment_review", "deployment_status", "discussion", "discussion_comment", "fork",
	"gollum", "issue_comment", "issue_dependencies", "issues", "label", "member", "membership", "merge_group", "meta",
	"milestone", "org_block", "organization", "package", "page_build", "personal_access_token_request", "project",
	"project_card", "project_column", "projects_v2", "projects_v2_item", "public", "pull_request", "pull_request_review",
	"pull_request_review_comment", "pull_request_review_thread", "push", "registry_package", "release", "repository",
	"repository_advisory", "repository_import", "repository_ruleset", "repository_vulnerability_alert",
	"secret_scanning_alert", "secret_scanning_alert_location", "security_advisory", "security_and_analysis", "star",
	"status", "sub_issues", "team", "team_add", "watch", "workflow_dispatch", "workflow_job", "workflow_run",
}

// Events maps canonical kinds and GitHub event names to GitHub events.
func (c *Client) Events(k []string) ([]string, error) { return hookhttp.Events(Name, k, kinds, native) }

// hook is GitHub's webhook object.
type hook struct {
	ID     int64    `json:"id"`
	Name   string   `json:"name"`
	Active bool     `json:"active"`
	Events []string `json:"events"`
	Config struct {
		URL string `json:"url"`
	} `json:"config"`
	LastResponse *struct {
		Code    *int    `json:"code"`
		Status  *string `json:"status"`
		Message *string `json:"message"`
	} `json:"last_response"`
}

func (h hook) toHook() hooks.Hook {
	out := hooks.Hook{ID: strconv.FormatInt(h.ID, 10), URL: h.Config.URL, Events: slices.Sorted(slices.Values(h.Events)), Active: h.Active,
		Health: hooks.Health{State: hooks.HealthUnknown}}
	if out.Events == nil {
		out.Events = []string{}
	}
	if lr := h.LastResponse; lr != nil && lr.Code != nil {
		out.Health.LastStatus = *lr.Code
		if *lr.Code >= 200 && *lr.Code < 300 {
			out.Health.State = hooks.HealthOK
		} else {
			out.Health.State = hooks.HealthFailing
			if lr.Message != nil {
				out.Health.LastError = *lr.Message
			}
		}
	}
	return out
}

// body is the create and update request.
type body struct {
	Name   string   `json:"name,omitempty"`
	Active bool     `json:"active"`
	Events []string `json:"events"`
	Config config   `json:"config"`
}

type config struct {
	URL         string `json:"url"`
	ContentType string `json:"content_type"`
	Secret      string `json:"secret"`
	InsecureSSL string `json:"insecure_ssl"`
}

func request(s hooks.Spec, create bool) body {
	b := body{Active: s.Active, Events: s.Events, Config: config{URL: s.URL, ContentType: "json", Secret: s.Secret, InsecureSSL: "0"}}
	if create {
		b.Name = "web"
	}
	if b.Events == nil {
		b.Events = []string{}
	}
	return b
}

// base returns the hooks path of a target.
func base(t hooks.Target) (string, error) {
	switch t.Kind {
	case hooks.TargetRepo:
		o, r, err := hookhttp.SplitRepo(Name, t)
		if err != nil {
			return "", err
		}
		return "/repos/" + o + "/" + r + "/hooks", nil
	case hooks.TargetOrg:
		org, err := hookhttp.Segment(Name, t)
		if err != nil {
			return "", err
		}
		return "/orgs/" + org + "/hooks", nil
	}
	return "", hookhttp.Unsupported(Name, "target kind "+t.Kind)
}

// permission names what a call needs (HOOKS.md §5; the docs' "fine-grained
// access tokens" section of each endpoint).
func permission(t hooks.Target, write bool) string {
	level := "read"
	if write {
		level = "write"
	}
	if t.Kind == hooks.TargetOrg {
		return fmt.Sprintf(`an organization owner's token: fine-grained with organization permission "Webhooks" (%s), or classic with scope admin:org_hook`, level)
	}
	return fmt.Sprintf(`a repository administrator's token: fine-grained with repository permission "Webhooks" (%s), or classic with scope admin:repo_hook`, level)
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

// List returns every hook of the target, following the Link header.
func (c *Client) List(ctx context.Context, t hooks.Target) ([]hooks.Hook, error) {
	p, err := base(t)
	if err != nil {
		return nil, err
	}
	raw, err := hookhttp.ListLink[hook](ctx, c.h, hookhttp.Call{Op: "list hooks on " + t.String(), Method: http.MethodGet, Path: p,
		Query: url.Values{"per_page": {"100"}}, Permission: permission(t, false), HiddenAs404: true})
	if err != nil {
		return nil, err
	}
	out := make([]hooks.Hook, 0, len(raw))
	for _, h := range raw {
		out = append(out, h.toHook())
	}
	return out, nil
}

func (c *Client) one(ctx context.Context, op, method string, t hooks.Target, id string, b any, write bool) (hooks.Hook, error) {
	p, err := base(t)
	if err != nil {
		return hooks.Hook{}, err
	}
	if id != "" {
		if p, err = hookPath(t, id); err != nil {
			return hooks.Hook{}, err
		}
	}
	var h hook
	_, err = c.h.Do(ctx, hookhttp.Call{Op: op, Method: method, Path: p, Body: b, Out: &h, Permission: permission(t, write), HiddenAs404: true})
	if err != nil {
		return hooks.Hook{}, err
	}
	return h.toHook(), nil
}

// Get returns one hook.
func (c *Client) Get(ctx context.Context, t hooks.Target, id string) (hooks.Hook, error) {
	if id == "" {
		return hooks.Hook{}, fmt.Errorf("%s: get hook on %s: empty id", Name, t)
	}
	return c.one(ctx, "get hook "+id+" on "+t.String(), http.MethodGet, t, id, nil, false)
}

// Create registers a "web" hook with content type json and TLS checked.
func (c *Client) Create(ctx context.Context, t hooks.Target, s hooks.Spec) (hooks.Hook, error) {
	return c.one(ctx, "create hook on "+t.String(), http.MethodPost, t, "", request(s, true), true)
}

// Update changes the hook in place; the whole config (with the secret) is
// sent, since GitHub replaces it.
func (c *Client) Update(ctx context.Context, t hooks.Target, id string, s hooks.Spec) (hooks.Hook, error) {
	if id == "" {
		return hooks.Hook{}, fmt.Errorf("%s: update hook on %s: empty id", Name, t)
	}
	return c.one(ctx, "update hook "+id+" on "+t.String(), http.MethodPatch, t, id, request(s, false), true)
}

// Delete removes the hook.
func (c *Client) Delete(ctx context.Context, t hooks.Target, id string) error {
	p, err := hookPath(t, id)
	if err != nil {
		return err
	}
	_, err = c.h.Do(ctx, hookhttp.Call{Op: "delete hook " + id + " on " + t.String(), Method: http.MethodDelete, Path: p, Permission: permission(t, true), HiddenAs404: true})
	return err
}

// Ping asks GitHub to send a ping event to the hook (204).
func (c *Client) Ping(ctx context.Context, t hooks.Target, id string) error {
	p, err := hookPath(t, id)
	if err != nil {
		return err
	}
	_, err = c.h.Do(ctx, hookhttp.Call{Op: "ping hook " + id + " on " + t.String(), Method: http.MethodPost, Path: p + "/pings", Permission: permission(t, true), HiddenAs404: true})
	return err
}
