// Package harbor manages a project's webhook policies through Harbor's API
// v2.0 (https://goharbor.io/docs/main/working-with-projects/project-configuration/configure-webhooks/
// and the API's swagger, src/server/v2.0/swagger.yaml in goharbor/harbor,
// tag "webhook"):
//
//   - GET/POST /projects/{project_name_or_id}/webhook/policies (page,
//     page_size ≤ 100; X-Total-Count and Link), GET/PUT/DELETE
//     …/policies/{webhook_policy_id};
//   - POST answers 201 with an empty body and the new policy's URL in
//     Location, PUT answers 200 with an empty body: the client reads the
//     policy back.
//
// A policy's name is unique in its project: it carries forgehook's
// ownership marker. The hook's URL is the address of the policy's http
// target, and the secret its auth_header (sent verbatim as the
// Authorization header, which the harbor provider verifies). Harbor's API
// has no call that tests an existing policy.
package harbor

import (
	"context"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/forgehook/forgehook/internal/hooks"
	"github.com/forgehook/forgehook/internal/hooks/hookhttp"
)

// Name is the provider id.
const Name = "harbor"

// Client manages Harbor webhook policies.
type Client struct {
	h *hookhttp.Client
}

var _ hooks.Client = (*Client)(nil)

// New returns a client for o.APIURL (https://harbor.example.com/api/v2.0;
// no default). The token is "user:password" (a robot account's name and
// secret), sent as HTTP Basic.
func New(o hooks.Options) (*Client, error) {
	if o.APIURL == "" {
		return nil, fmt.Errorf("%s: api_url is required (e.g. https://harbor.example.com/api/v2.0)", Name)
	}
	h, err := hookhttp.New(hookhttp.Config{Forge: Name, Base: o.APIURL, HTTP: o.HTTP, Logger: o.Logger, Auth: hookhttp.BasicAuth("", o.Token)})
	if err != nil {
		return nil, err
	}
	return &Client{h: h}, nil
}

var (
	kinds = map[string][]string{
		"registry": {"DELETE_ARTIFACT", "PUSH_ARTIFACT"},
		"pipeline": {"REPLICATION", "SCANNING_COMPLETED", "SCANNING_FAILED"},
		"push":     nil, "tag": nil, "pull_request": nil, "comment": nil, "issue": nil, "release": nil,
	}
	native = []string{
		"DELETE_ARTIFACT", "DELETE_CHART", "DOWNLOAD_CHART", "PULL_ARTIFACT", "PUSH_ARTIFACT", "QUOTA_EXCEED", "QUOTA_WARNING",
		"REPLICATION", "SCANNING_COMPLETED", "SCANNING_FAILED", "SCANNING_STOPPED", "TAG_RETENTION", "UPLOAD_CHART",
	}
)

// Events maps canonical kinds and Harbor event types.
func (c *Client) Events(k []string) ([]string, error) { return hookhttp.Events(Name, k, kinds, native) }

type target struct {
	Type           string `json:"type"`
	Address        string `json:"address"`
	AuthHeader     string `json:"auth_header,omitempty"`
	SkipCertVerify bool   `json:"skip_cert_verify"`
	PayloadFormat  string `json:"payload_format,omitempty"`
}

// policy is a WebhookPolicy.
type policy struct {
	ID          int64    `json:"id,omitempty"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Enabled     bool     `json:"enabled"`
	EventTypes  []string `json:"event_types"`
	Targets     []target `json:"targets"`
}

func (p policy) toHook() hooks.Hook {
	ev := slices.Clone(p.EventTypes)
	if ev == nil {
		ev = []string{}
	}
	slices.Sort(ev)
	h := hooks.Hook{ID: strconv.FormatInt(p.ID, 10), Description: p.Name, Active: p.Enabled, Events: ev, Health: hooks.Health{State: hooks.HealthUnknown}}
	for _, t := range p.Targets {
		if t.Type == "http" {
			h.URL = t.Address
			break
		}
	}
	return h
}

func request(s hooks.Spec) policy {
	name := s.Description
	if name == "" {
		name = "forgehook"
	}
	ev := s.Events
	if ev == nil {
		ev = []string{}
	}
	return policy{Name: name, Description: s.Description, Enabled: s.Active, EventTypes: ev,
		Targets: []target{{Type: "http", Address: s.URL, AuthHeader: s.Secret, PayloadFormat: "Default"}}}
}

func base(t hooks.Target) (string, error) {
	if t.Kind != hooks.TargetProject {
		return "", hookhttp.Unsupported(Name, "target kind "+t.Kind+" (webhook policies belong to projects)")
	}
	p, err := hookhttp.Segment(Name, t)
	if err != nil {
		return "", err
	}
	return "/projects/" + p + "/webhook/policies", nil
}

func policyPath(t hooks.Target, id string) (string, error) {
	p, err := base(t)
	if err != nil {
		return "", err
	}
	if _, err := strconv.ParseInt(id, 10, 64); err != nil {
		return "", fmt.Errorf("%s: policy id %q on %s: want a number", Name, id, t)
	}
	return p + "/" + id, nil
}

const permission = `a project administrator, or a project robot account with the permissions list, read, create, update and delete on "notification-policy" (webhooks)`

// List returns every webhook policy of the project (all pages).
func (c *Client) List(ctx context.Context, t hooks.Target) ([]hooks.Hook, error) {
	p, err := base(t)
	if err != nil {
		return nil, err
	}
	raw, err := hookhttp.ListPages[policy](ctx, c.h, hookhttp.Call{Op: "list webhook policies on " + t.String(), Method: http.MethodGet, Path: p,
		Permission: permission}, hookhttp.Pages{Page: "page", Size: "page_size", PerPage: 100})
	if err != nil {
		return nil, err
	}
	out := make([]hooks.Hook, 0, len(raw))
	for _, r := range raw {
		out = append(out, r.toHook())
	}
	return out, nil
}

// Get returns one policy.
func (c *Client) Get(ctx context.Context, t hooks.Target, id string) (hooks.Hook, error) {
	p, err := policyPath(t, id)
	if err != nil {
		return hooks.Hook{}, err
	}
	var pol policy
	if _, err := c.h.Do(ctx, hookhttp.Call{Op: "get webhook policy " + id + " on " + t.String(), Method: http.MethodGet, Path: p, Out: &pol, Permission: permission}); err != nil {
		return hooks.Hook{}, err
	}
	return pol.toHook(), nil
}

// Create adds a policy and reads it back by the id in Location.
func (c *Client) Create(ctx context.Context, t hooks.Target, s hooks.Spec) (hooks.Hook, error) {
	p, err := base(t)
	if err != nil {
		return hooks.Hook{}, err
	}
	resp, err := c.h.Do(ctx, hookhttp.Call{Op: "create webhook policy on " + t.String(), Method: http.MethodPost, Path: p, Body: request(s), Permission: permission})
	if err != nil {
		return hooks.Hook{}, err
	}
	id := path.Base(strings.TrimRight(resp.Header.Get("Location"), "/"))
	if _, err := strconv.ParseInt(id, 10, 64); err != nil {
		return hooks.Hook{}, fmt.Errorf("%s: create webhook policy on %s: no policy id in Location %q", Name, t, resp.Header.Get("Location"))
	}
	return c.Get(ctx, t, id)
}

// Update replaces the policy in place (PUT) and reads it back.
func (c *Client) Update(ctx context.Context, t hooks.Target, id string, s hooks.Spec) (hooks.Hook, error) {
	p, err := policyPath(t, id)
	if err != nil {
		return hooks.Hook{}, err
	}
	b := request(s)
	b.ID, _ = strconv.ParseInt(id, 10, 64)
	if _, err := c.h.Do(ctx, hookhttp.Call{Op: "update webhook policy " + id + " on " + t.String(), Method: http.MethodPut, Path: p, Body: b, Permission: permission}); err != nil {
		return hooks.Hook{}, err
	}
	return c.Get(ctx, t, id)
}

// Delete removes the policy.
func (c *Client) Delete(ctx context.Context, t hooks.Target, id string) error {
	p, err := policyPath(t, id)
	if err != nil {
		return err
	}
	_, err = c.h.Do(ctx, hookhttp.Call{Op: "delete webhook policy " + id + " on " + t.String(), Method: http.MethodDelete, Path: p, Permission: permission})
	return err
}

// Ping is not offered by Harbor's API for an existing policy.
func (c *Client) Ping(ctx context.Context, t hooks.Target, id string) error {
	return hookhttp.Unsupported(Name, "test delivery")
}
