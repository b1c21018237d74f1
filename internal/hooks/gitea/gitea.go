// Package gitea manages hooks through the API of Gitea, Forgejo and Gogs,
// which share it (Gitea began as a fork of Gogs, Forgejo as a fork of
// Gitea):
//
//   - Gitea: https://gitea.com/api/swagger (routers/api/v1/repo/hook.go,
//     modules/structs/hook.go): GET/POST /repos/{owner}/{repo}/hooks
//     (page, limit; X-Total-Count and Link), GET/PATCH/DELETE
//     /repos/{owner}/{repo}/hooks/{id}, POST …/hooks/{id}/tests, and the
//     same under /orgs/{org}/hooks (no test call).
//   - Forgejo: https://forgejo.org/docs/latest/user/api-usage/ (the same
//     routes; hook type "forgejo").
//   - Gogs: https://github.com/gogs/docs-api/tree/master/Repositories
//     (Webhooks.md): GET/POST /repos/:owner/:repo/hooks (one page, no
//     paging), PATCH/DELETE …/hooks/:id; no organization hooks through the
//     API, no test call.
//
// Gitea 1.26 hooks carry an optional name (Spec.Description is sent as it
// and read back as Hook.Description; Forgejo and Gogs ignore it): the
// identity is still the URL. Secrets are write-only (the answers never carry
// config.secret), and the API edit ignores config.secret — Gitea 1.26
// (editHook in routers/api/v1/utils/hook.go) and Gogs (EditHook in
// internal/route/api/v1/repo_hook.go) read it only on create; Forgejo
// inherits Gitea's code (unverified) — so a new secret needs
// ReplaceForSecret.
package gitea

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/forgehook/forgehook/internal/hooks"
	"github.com/forgehook/forgehook/internal/hooks/hookhttp"
)

// The provider ids served by this package.
const (
	Gitea   = "gitea"
	Forgejo = "forgejo"
	Gogs    = "gogs"
)

// pageSize is the page size asked of Gitea; the instance may cap it lower
// ([api] MAX_RESPONSE_ITEMS, 50 by default), which the paging copes with.
const pageSize = 50

// Client manages the hooks of one Gitea, Forgejo or Gogs instance.
type Client struct {
	forge string
	h     *hookhttp.Client
}

var (
	_ hooks.Client         = (*Client)(nil)
	_ hooks.SecretReplacer = (*Client)(nil)
)

// New returns a client for provider (Gitea, Forgejo or Gogs) at o.APIURL,
// the instance's API base (https://gitea.example.com/api/v1); there is no
// public default, so an empty APIURL is an error. The token is sent as
// "Authorization: token …".
func New(provider string, o hooks.Options) (*Client, error) {
	switch provider {
	case Gitea, Forgejo, Gogs:
	default:
		return nil, fmt.Errorf("gitea: provider %q: want gitea, forgejo or gogs", provider)
	}
	if o.APIURL == "" {
		return nil, fmt.Errorf("%s: api_url is required (e.g. https://%s.example.com/api/v1)", provider, provider)
	}
	return newWith(provider, o, hookhttp.Config{})
}

// newWith builds a client with extra hookhttp settings (tests).
func newWith(provider string, o hooks.Options, c hookhttp.Config) (*Client, error) {
	c.Forge, c.Base, c.HTTP, c.Logger = provider, o.APIURL, o.HTTP, o.Logger
	c.Auth = hookhttp.TokenAuth("token", o.Token)
	h, err := hookhttp.New(c)
	if err != nil {
		return nil, err
	}
	return &Client{forge: provider, h: h}, nil
}

// Canonical kinds to event names. Gitea's "pull_request" implies every
// pull_request_* event and "issues" every issue_* event and issue_comment
// (routers/api/v1/utils/hook.go, pullHook and issuesHook); a tag push is a
// "create" event (and a "push" with a refs/tags ref).
var (
	giteaKinds = map[string][]string{
		"push": {"push"}, "tag": {"create"}, "pull_request": {"pull_request"},
		"comment": {"issue_comment", "pull_request_comment"}, "issue": {"issues"},
		"release": {"release"}, "pipeline": {"workflow_run"}, "registry": {"package"},
	}
	forgejoKinds = map[string][]string{
		"push": {"push"}, "tag": {"create"}, "pull_request": {"pull_request"},
		"comment": {"issue_comment", "pull_request_comment"}, "issue": {"issues"},
		"release": {"release"}, "pipeline": {"action_run_failure", "action_run_recover", "action_run_success"}, "registry": {"package"},
	}
	gogsKinds = map[string][]string{
		"push": {"push"}, "tag": {"create"}, "pull_request": {"pull_request"},
		"comment": {"issue_comment"}, "issue": {"issues"}, "release": {"release"},
		"pipeline": nil, "registry": nil,
	}
	giteaNative = []string{
		"create", "delete", "fork", "push", "issues", "issue_assign", "issue_label", "issue_milestone", "issue_comment",
		"pull_request", "pull_request_assign", "pull_request_label", "pull_request_milestone", "pull_request_comment",
		"pull_request_review", "pull_request_review_approved", "pull_request_review_rejected", "pull_request_review_comment",
		"pull_request_sync", "pull_request_review_request", "wiki", "repository", "release", "package", "status",
		"workflow_run", "workflow_job", "action_run_failure", "action_run_recover", "action_run_success",
	}
	gogsNative = []string{"create", "delete", "fork", "push", "issues", "issue_comment", "pull_request", "release"}
)

// Events maps canonical kinds and native names to the forge's event names,
// folded like the forge folds them (pull_request covers pull_request_*).
func (c *Client) Events(kinds []string) ([]string, error) {
	table, native := giteaKinds, giteaNative
	switch c.forge {
	case Forgejo:
		table = forgejoKinds
	case Gogs:
		table, native = gogsKinds, gogsNative
	}
	ev, err := hookhttp.Events(c.forge, kinds, table, native)
	if err != nil {
		return nil, err
	}
	return Fold(ev), nil
}

// Fold removes the events implied by others: Gitea reports every
// pull_request_* event of a hook created with "pull_request", and every
// issue_* event and issue_comment of one created with "issues", so a hook
// read back compares equal to the events that created it. The result is
// sorted.
func Fold(events []string) []string {
	pr, is := slices.Contains(events, "pull_request"), slices.Contains(events, "issues")
	out := make([]string, 0, len(events))
	for _, e := range events {
		switch {
		case pr && strings.HasPrefix(e, "pull_request_"):
		case is && (strings.HasPrefix(e, "issue_") || e == "issue_comment"):
		default:
			out = append(out, e)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// hook is a hook as the API reports it (modules/structs/hook.go Hook).
type hook struct {
	ID     int64             `json:"id"`
	Name   string            `json:"name"`
	Type   string            `json:"type"`
	Config map[string]string `json:"config"`
	Events []string          `json:"events"`
	Active bool              `json:"active"`
}

func (h hook) toHook() hooks.Hook {
	return hooks.Hook{
		ID: strconv.FormatInt(h.ID, 10), URL: h.Config["url"], Events: Fold(h.Events), Active: h.Active, Description: h.Name,
		Health: hooks.Health{State: hooks.HealthUnknown},
	}
}

// hookOption is CreateHookOption and EditHookOption (modules/structs/hook.go).
type hookOption struct {
	Type   string            `json:"type,omitempty"`
	Name   string            `json:"name,omitempty"`
	Config map[string]string `json:"config"`
	Events []string          `json:"events"`
	Active *bool             `json:"active"`
}

// option builds the request body of a spec. The secret is always sent, so
// an update sets exactly the spec's secret (Gitea keeps the old one when
// config.secret is absent).
func (c *Client) option(s hooks.Spec, create bool) hookOption {
	active := s.Active
	o := hookOption{
		Config: map[string]string{"url": s.URL, "content_type": "json", "secret": s.Secret},
		Events: s.Events, Active: &active,
	}
	if o.Events == nil {
		o.Events = []string{}
	}
	if create {
		o.Type = c.forge
	}
	if c.forge != Gogs {
		o.Name = s.Description
	}
	return o
}

// base returns the hooks collection path of a target.
func (c *Client) base(t hooks.Target) (string, error) {
	switch t.Kind {
	case hooks.TargetRepo:
		o, r, err := hookhttp.SplitRepo(c.forge, t)
		if err != nil {
			return "", err
		}
		return "/repos/" + o + "/" + r + "/hooks", nil
	case hooks.TargetOrg:
		if c.forge == Gogs {
			return "", hookhttp.Unsupported(c.forge, "organization hooks through the API")
		}
		org, err := hookhttp.Segment(c.forge, t)
		if err != nil {
			return "", err
		}
		return "/orgs/" + org + "/hooks", nil
	}
	return "", hookhttp.Unsupported(c.forge, "target kind "+t.Kind)
}

// permission names what a call on t needs (HOOKS.md §5).
func (c *Client) permission(t hooks.Target, write bool) string {
	if c.forge == Gogs {
		return "a token of a user who is an administrator of the repository (Gogs tokens have no scopes)"
	}
	if t.Kind == hooks.TargetOrg {
		if write {
			return "a token with scope write:organization of an owner of the organization"
		}
		return "a token with scope read:organization (write:organization to change) of an owner of the organization"
	}
	if write {
		return "a token with scope write:repository of a user who is an administrator of the repository (403 also when webhooks are disabled on the instance)"
	}
	return "a token with scope read:repository (write:repository to change) of a user who is an administrator of the repository"
}

func idPath(id string) (string, error) {
	if _, err := strconv.ParseInt(id, 10, 64); err != nil {
		return "", fmt.Errorf("hook id %q: want a number", id)
	}
	return "/" + id, nil
}

// List returns every hook of the target, reading every page.
func (c *Client) List(ctx context.Context, t hooks.Target) ([]hooks.Hook, error) {
	p, err := c.base(t)
	if err != nil {
		return nil, err
	}
	call := hookhttp.Call{Op: "list hooks on " + t.String(), Method: http.MethodGet, Path: p, Permission: c.permission(t, false)}
	var raw []hook
	if c.forge == Gogs {
		call.Out = &raw
		_, err = c.h.Do(ctx, call)
	} else {
		raw, err = hookhttp.ListPages[hook](ctx, c.h, call, hookhttp.Pages{Page: "page", Size: "limit", PerPage: pageSize})
	}
	if err != nil {
		return nil, err
	}
	out := make([]hooks.Hook, 0, len(raw))
	for _, h := range raw {
		out = append(out, h.toHook())
	}
	return out, nil
}

// Get returns one hook by id. Gogs has no such call: the hook is found in
// the list.
func (c *Client) Get(ctx context.Context, t hooks.Target, id string) (hooks.Hook, error) {
	p, err := c.base(t)
	if err != nil {
		return hooks.Hook{}, err
	}
	ip, err := idPath(id)
	if err != nil {
		return hooks.Hook{}, fmt.Errorf("%s: get hook on %s: %w", c.forge, t, err)
	}
	if c.forge == Gogs {
		all, err := c.List(ctx, t)
		if err != nil {
			return hooks.Hook{}, err
		}
		for _, h := range all {
			if h.ID == id {
				return h, nil
			}
		}
		return hooks.Hook{}, &hooks.APIError{Forge: c.forge, Op: "get hook " + id + " on " + t.String(), Status: http.StatusNotFound, Message: "no hook with that id in the list"}
	}
	var h hook
	_, err = c.h.Do(ctx, hookhttp.Call{Op: "get hook " + id + " on " + t.String(), Method: http.MethodGet, Path: p + ip, Out: &h, Permission: c.permission(t, false)})
	if err != nil {
		return hooks.Hook{}, err
	}
	return h.toHook(), nil
}

// Create registers a hook of the provider's own type with content type json.
func (c *Client) Create(ctx context.Context, t hooks.Target, s hooks.Spec) (hooks.Hook, error) {
	p, err := c.base(t)
	if err != nil {
		return hooks.Hook{}, err
	}
	var h hook
	_, err = c.h.Do(ctx, hookhttp.Call{Op: "create hook on " + t.String(), Method: http.MethodPost, Path: p, Body: c.option(s, true), Out: &h, Permission: c.permission(t, true)})
	if err != nil {
		return hooks.Hook{}, err
	}
	return h.toHook(), nil
}

// Update changes the hook in place (PATCH), sending URL, events, active and
// the secret.
func (c *Client) Update(ctx context.Context, t hooks.Target, id string, s hooks.Spec) (hooks.Hook, error) {
	p, err := c.base(t)
	if err != nil {
		return hooks.Hook{}, err
	}
	ip, err := idPath(id)
	if err != nil {
		return hooks.Hook{}, fmt.Errorf("%s: update hook on %s: %w", c.forge, t, err)
	}
	var h hook
	_, err = c.h.Do(ctx, hookhttp.Call{Op: "update hook " + id + " on " + t.String(), Method: http.MethodPatch, Path: p + ip, Body: c.option(s, false), Out: &h, Permission: c.permission(t, true)})
	if err != nil {
		return hooks.Hook{}, err
	}
	if c.forge == Gogs && h.ID == 0 {
		// Gogs answers the edit with the hook; older versions with nothing.
		return c.Get(ctx, t, id)
	}
	return h.toHook(), nil
}

// Delete removes the hook.
func (c *Client) Delete(ctx context.Context, t hooks.Target, id string) error {
	p, err := c.base(t)
	if err != nil {
		return err
	}
	ip, err := idPath(id)
	if err != nil {
		return fmt.Errorf("%s: delete hook on %s: %w", c.forge, t, err)
	}
	_, err = c.h.Do(ctx, hookhttp.Call{Op: "delete hook " + id + " on " + t.String(), Method: http.MethodDelete, Path: p + ip, Permission: c.permission(t, true)})
	return err
}

// Ping asks Gitea or Forgejo to send a test delivery to a repository hook
// (POST …/hooks/{id}/tests); organization hooks and Gogs have no such call.
func (c *Client) Ping(ctx context.Context, t hooks.Target, id string) error {
	if c.forge == Gogs || t.Kind != hooks.TargetRepo {
		return hookhttp.Unsupported(c.forge, "test delivery of a hook on "+t.String())
	}
	p, err := c.base(t)
	if err != nil {
		return err
	}
	ip, err := idPath(id)
	if err != nil {
		return fmt.Errorf("%s: test hook on %s: %w", c.forge, t, err)
	}
	_, err = c.h.Do(ctx, hookhttp.Call{Op: "test hook " + id + " on " + t.String(), Method: http.MethodPost, Path: p + ip + "/tests", Permission: c.permission(t, true)})
	return err
}

// ReplaceForSecret registers a new hook with s (and its new secret), then
// deletes hook id: Gitea's API cannot change a secret in place. The new
// hook is returned even when the delete fails, with the error.
func (c *Client) ReplaceForSecret(ctx context.Context, t hooks.Target, id string, s hooks.Spec) (hooks.Hook, error) {
	if _, err := idPath(id); err != nil {
		return hooks.Hook{}, fmt.Errorf("%s: replace hook on %s: %w", c.forge, t, err)
	}
	h, err := c.Create(ctx, t, s)
	if err != nil {
		return hooks.Hook{}, err
	}
	if err := c.Delete(ctx, t, id); err != nil {
		return h, fmt.Errorf("%s: replace hook %s on %s: the new hook %s is in place, the old one is left: %w", c.forge, id, t, h.ID, err)
	}
	return h, nil
}
