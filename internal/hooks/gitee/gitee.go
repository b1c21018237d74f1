// Package gitee manages repository webhooks through the v5 API of Gitee and
// of GitCode/AtomGit, which copies its shapes:
//
//   - Gitee: https://gitee.com/api/v5/swagger (section "WebHooks"):
//     GET/POST /repos/{owner}/{repo}/hooks (page, per_page ≤ 100),
//     GET/PATCH/DELETE /repos/{owner}/{repo}/hooks/{id},
//     POST /repos/{owner}/{repo}/hooks/{id}/tests;
//   - GitCode/AtomGit: https://docs.gitcode.com/docs/openapi/repos/webhooks/
//     (the same routes under https://api.gitcode.com/api/v5).
//
// Both take the token as the access_token parameter. A hook has a URL, an
// encryption_type (0: the password is sent as is, 1: it is the key of a
// signature), a password, and *_events booleans; no name and no active
// switch. Its identity is its URL. The answers carry the password in clear:
// this client drops it on reading. result_code and result (the last
// delivery's status and text) are the Health.
package gitee

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/forgehook/forgehook/internal/hooks"
	"github.com/forgehook/forgehook/internal/hooks/hookhttp"
)

// The provider ids served.
const (
	Gitee   = "gitee"
	AtomGit = "atomgit"
)

// Default API bases.
const (
	GiteeAPIURL   = "https://gitee.com/api/v5"
	GitCodeAPIURL = "https://api.gitcode.com/api/v5"
)

// Client manages Gitee or GitCode/AtomGit repository hooks.
type Client struct {
	forge string
	h     *hookhttp.Client
}

var _ hooks.Client = (*Client)(nil)

// New returns a client for provider gitee (default API GiteeAPIURL) or
// atomgit (default GitCodeAPIURL; AtomGit users set api_url if their API
// lives elsewhere). The token travels as the access_token query parameter,
// as both document; it never reaches a log line or an error.
func New(provider string, o hooks.Options) (*Client, error) {
	switch provider {
	case Gitee:
		if o.APIURL == "" {
			o.APIURL = GiteeAPIURL
		}
	case AtomGit:
		if o.APIURL == "" {
			o.APIURL = GitCodeAPIURL
		}
	default:
		return nil, fmt.Errorf("gitee: provider %q: want gitee or atomgit", provider)
	}
	h, err := hookhttp.New(hookhttp.Config{Forge: provider, Base: o.APIURL, HTTP: o.HTTP, Logger: o.Logger,
		Auth: hookhttp.SetQueryAuth("access_token", o.Token)})
	if err != nil {
		return nil, err
	}
	return &Client{forge: provider, h: h}, nil
}

var (
	fields = []string{"issues_events", "merge_requests_events", "note_events", "push_events", "tag_push_events"}
	kinds  = map[string][]string{
		"push": {"push_events"}, "tag": {"tag_push_events"}, "pull_request": {"merge_requests_events"},
		"comment": {"note_events"}, "issue": {"issues_events"}, "release": nil, "pipeline": nil, "registry": nil,
	}
)

// Events maps canonical kinds and *_events names to the hook's booleans.
func (c *Client) Events(k []string) ([]string, error) {
	return hookhttp.Events(c.forge, k, kinds, fields)
}

// hook is a hook as the API answers it, without its password.
type hook struct {
	ID                  int64   `json:"id"`
	URL                 string  `json:"url"`
	Result              *string `json:"result"`
	ResultCode          *int    `json:"result_code"`
	PushEvents          bool    `json:"push_events"`
	TagPushEvents       bool    `json:"tag_push_events"`
	IssuesEvents        bool    `json:"issues_events"`
	NoteEvents          bool    `json:"note_events"`
	MergeRequestsEvents bool    `json:"merge_requests_events"`
}

func (h hook) toHook() hooks.Hook {
	out := hooks.Hook{ID: strconv.FormatInt(h.ID, 10), URL: h.URL, Events: []string{}, Health: hooks.Health{State: hooks.HealthUnknown}}
	for f, on := range map[string]bool{"push_events": h.PushEvents, "tag_push_events": h.TagPushEvents, "issues_events": h.IssuesEvents,
		"note_events": h.NoteEvents, "merge_requests_events": h.MergeRequestsEvents} {
		if on {
			out.Events = append(out.Events, f)
		}
	}
	slices.Sort(out.Events)
	out.Active = len(out.Events) > 0
	if h.ResultCode != nil && *h.ResultCode != 0 {
		out.Health.LastStatus = *h.ResultCode
		if *h.ResultCode >= 200 && *h.ResultCode < 300 {
			out.Health.State = hooks.HealthOK
		} else {
			out.Health.State = hooks.HealthFailing
			if h.Result != nil {
				out.Health.LastError = *h.Result
			}
		}
	}
	return out
}

// request is the create and update body: the secret as a signature key
// (encryption_type 1), or no password at all; every event boolean sent.
func request(s hooks.Spec) map[string]any {
	b := map[string]any{"url": s.URL, "encryption_type": 0, "password": ""}
	if s.Secret != "" {
		b["encryption_type"], b["password"] = 1, s.Secret
	}
	for _, f := range fields {
		b[f] = slices.Contains(s.Events, f)
	}
	return b
}

func (c *Client) base(t hooks.Target) (string, error) {
	if t.Kind != hooks.TargetRepo {
		return "", hookhttp.Unsupported(c.forge, "target kind "+t.Kind+" (only repository hooks have an API)")
	}
	o, r, err := hookhttp.SplitRepo(c.forge, t)
	if err != nil {
		return "", err
	}
	return "/repos/" + o + "/" + r + "/hooks", nil
}

func (c *Client) hookPath(t hooks.Target, id string) (string, error) {
	p, err := c.base(t)
	if err != nil {
		return "", err
	}
	if _, err := strconv.ParseInt(id, 10, 64); err != nil {
		return "", fmt.Errorf("%s: hook id %q on %s: want a number", c.forge, id, t)
	}
	return p + "/" + id, nil
}

// permission names what the calls need.
func (c *Client) permission() string {
	if c.forge == AtomGit {
		return "a repository administrator's personal access token with the webhook permission (OAuth scope all_hook)"
	}
	return "a repository administrator's personal access token or OAuth token with scope hook"
}

// List returns every hook of the repository (all pages).
func (c *Client) List(ctx context.Context, t hooks.Target) ([]hooks.Hook, error) {
	p, err := c.base(t)
	if err != nil {
		return nil, err
	}
	raw, err := hookhttp.ListPages[hook](ctx, c.h, hookhttp.Call{Op: "list hooks on " + t.String(), Method: http.MethodGet, Path: p,
		Permission: c.permission()}, hookhttp.Pages{Page: "page", Size: "per_page", PerPage: 100})
	if err != nil {
		return nil, err
	}
	out := make([]hooks.Hook, 0, len(raw))
	for _, h := range raw {
		out = append(out, h.toHook())
	}
	return out, nil
}

func (c *Client) one(ctx context.Context, call hookhttp.Call) (hooks.Hook, error) {
	var h hook
	call.Out, call.Permission = &h, c.permission()
	if _, err := c.h.Do(ctx, call); err != nil {
		return hooks.Hook{}, err
	}
	return h.toHook(), nil
}

// Get returns one hook.
func (c *Client) Get(ctx context.Context, t hooks.Target, id string) (hooks.Hook, error) {
	p, err := c.hookPath(t, id)
	if err != nil {
		return hooks.Hook{}, err
	}
	return c.one(ctx, hookhttp.Call{Op: "get hook " + id + " on " + t.String(), Method: http.MethodGet, Path: p})
}

// Create adds a hook.
func (c *Client) Create(ctx context.Context, t hooks.Target, s hooks.Spec) (hooks.Hook, error) {
	p, err := c.base(t)
	if err != nil {
		return hooks.Hook{}, err
	}
	if !s.Active {
		return hooks.Hook{}, c.inactive()
	}
	return c.one(ctx, hookhttp.Call{Op: "create hook on " + t.String(), Method: http.MethodPost, Path: p, Body: request(s)})
}

// Update edits the hook in place (PATCH; url is required and always sent).
func (c *Client) Update(ctx context.Context, t hooks.Target, id string, s hooks.Spec) (hooks.Hook, error) {
	p, err := c.hookPath(t, id)
	if err != nil {
		return hooks.Hook{}, err
	}
	if !s.Active {
		return hooks.Hook{}, c.inactive()
	}
	return c.one(ctx, hookhttp.Call{Op: "update hook " + id + " on " + t.String(), Method: http.MethodPatch, Path: p, Body: request(s)})
}

// Delete removes the hook.
func (c *Client) Delete(ctx context.Context, t hooks.Target, id string) error {
	p, err := c.hookPath(t, id)
	if err != nil {
		return err
	}
	_, err = c.h.Do(ctx, hookhttp.Call{Op: "delete hook " + id + " on " + t.String(), Method: http.MethodDelete, Path: p, Permission: c.permission()})
	return err
}

// Ping asks the forge to send a test delivery (POST …/hooks/{id}/tests).
func (c *Client) Ping(ctx context.Context, t hooks.Target, id string) error {
	p, err := c.hookPath(t, id)
	if err != nil {
		return err
	}
	_, err = c.h.Do(ctx, hookhttp.Call{Op: "test hook " + id + " on " + t.String(), Method: http.MethodPost, Path: p + "/tests", Permission: c.permission()})
	return err
}

// inactive is the error of a spec with Active false: the forge's hooks have
// no active switch (a hook without events is reported inactive).
func (c *Client) inactive() error {
	return hookhttp.Unsupported(c.forge, "an inactive hook (the forge's hooks have no active switch: remove the target, or keep active: true)")
}
