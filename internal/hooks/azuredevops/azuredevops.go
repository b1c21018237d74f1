// Package azuredevops manages forgehook's service hook subscriptions on
// Azure DevOps (Services, and Server with its collection URL) through the
// REST API 7.1:
//
//   - subscriptions: https://learn.microsoft.com/rest/api/azure/devops/hooks/subscriptions
//     GET/POST {org}/_apis/hooks/subscriptions, GET/PUT/DELETE
//     …/subscriptions/{subscriptionId} (api-version=7.1; a list may be
//     continued with the x-ms-continuationtoken header);
//   - test notifications: https://learn.microsoft.com/rest/api/azure/devops/hooks/notifications/create
//     POST {org}/_apis/hooks/testnotifications;
//   - the Web Hooks consumer: https://learn.microsoft.com/azure/devops/service-hooks/services/webhooks
//     (consumerId "webHooks", action "httpRequest", inputs url, httpHeaders,
//     basicAuthUsername, basicAuthPassword).
//
// A subscription carries one event type, so one forgehook hook is a group
// of subscriptions: those of the target's project (and repository) with the
// same consumer URL. The Hook's ID joins the subscription ids with commas,
// sorted; Update creates and deletes subscriptions when the events change,
// so the returned Hook's ID must replace the recorded one. Project and
// repository names are resolved to their ids (publisherInputs need ids).
//
// The secret is the credential Azure DevOps sends: "user:password" as its
// Basic authentication, any other value as the header
// "Authorization: Bearer <secret>" — both are what the azure-devops
// provider verifies.
package azuredevops

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/forgehook/forgehook/internal/hooks"
	"github.com/forgehook/forgehook/internal/hooks/hookhttp"
)

// Name is the provider id.
const Name = "azure-devops"

// apiVersion is the REST API version asked for.
const apiVersion = "7.1"

// Client manages service hook subscriptions of one organization or
// collection. It caches the ids of the projects and repositories it
// resolved (guarded by mu).
type Client struct {
	h *hookhttp.Client

	mu  sync.Mutex
	ids map[string]string // "p:Name" or "r:Project/Repo" -> id
}

var _ hooks.Client = (*Client)(nil)

// New returns a client for the organization at o.APIURL
// (https://dev.azure.com/{organization}, or a Server collection URL
// https://server/tfs/{collection}); there is no default. The token is a
// personal access token, sent as Basic authentication with an empty user.
func New(o hooks.Options) (*Client, error) {
	if o.APIURL == "" {
		return nil, fmt.Errorf("%s: api_url is required (https://dev.azure.com/ORGANIZATION)", Name)
	}
	h, err := hookhttp.New(hookhttp.Config{Forge: Name, Base: o.APIURL, HTTP: o.HTTP, Logger: o.Logger, Auth: hookhttp.BasicAuth("", o.Token)})
	if err != nil {
		return nil, err
	}
	return &Client{h: h, ids: map[string]string{}}, nil
}

// kinds maps canonical kinds to event types
// (https://learn.microsoft.com/azure/devops/service-hooks/events).
var kinds = map[string][]string{
	"push": {"git.push"}, "tag": {"git.push"},
	"pull_request": {"git.pullrequest.created", "git.pullrequest.merged", "git.pullrequest.updated"},
	"comment":      {"ms.vss-code.git-pullrequest-comment-event"},
	"issue":        {"workitem.created", "workitem.updated"},
	"pipeline":     {"build.complete", "ms.vss-pipelines.run-state-changed-event"},
	"release":      {"ms.vss-release.deployment-completed-event"},
	"registry":     nil,
}

var native = []string{
	"build.complete", "git.pullrequest.created", "git.pullrequest.merged", "git.pullrequest.updated", "git.push",
	"ms.vss-code.git-pullrequest-comment-event", "ms.vss-pipelines.job-state-changed-event",
	"ms.vss-pipelines.run-state-changed-event", "ms.vss-pipelines.stage-state-changed-event",
	"ms.vss-release.deployment-approval-completed-event", "ms.vss-release.deployment-approval-pending-event",
	"ms.vss-release.deployment-completed-event", "ms.vss-release.deployment-started-event",
	"ms.vss-release.release-abandoned-event", "ms.vss-release.release-created-event", "tfvc.checkin",
	"workitem.commented", "workitem.created", "workitem.deleted", "workitem.restored", "workitem.updated",
}

// Events maps canonical kinds and event types to Azure DevOps event types.
func (c *Client) Events(k []string) ([]string, error) { return hookhttp.Events(Name, k, kinds, native) }

// subscription is a service hook subscription.
type subscription struct {
	ID               string            `json:"id,omitempty"`
	Status           string            `json:"status,omitempty"`
	PublisherID      string            `json:"publisherId"`
	EventType        string            `json:"eventType"`
	ResourceVersion  string            `json:"resourceVersion,omitempty"`
	ConsumerID       string            `json:"consumerId"`
	ConsumerActionID string            `json:"consumerActionId"`
	PublisherInputs  map[string]string `json:"publisherInputs"`
	ConsumerInputs   map[string]string `json:"consumerInputs"`
}

// list is a list answer.
type list struct {
	Count int            `json:"count"`
	Value []subscription `json:"value"`
}

var guid = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// scope is a target resolved to ids.
type scope struct {
	project, repo string
}

// permission names what the calls need.
const permission = `a personal access token with scope "Service Hooks (Read & write)" of a user with the "Edit subscriptions" permission (project administrators by default); naming a project or repository also needs "Project and Team (Read)" and "Code (Read)"`

// resolve turns a target ("Project" or "Project/Repo", names or ids) into ids.
func (c *Client) resolve(ctx context.Context, t hooks.Target) (scope, error) {
	var proj, repo string
	switch t.Kind {
	case hooks.TargetProject:
		proj = t.Name
	case hooks.TargetRepo:
		var ok bool
		proj, repo, ok = strings.Cut(t.Name, "/")
		if !ok || repo == "" || strings.Contains(repo, "/") {
			return scope{}, fmt.Errorf("%s: target %s: want project/repository", Name, t)
		}
	default:
		return scope{}, hookhttp.Unsupported(Name, "target kind "+t.Kind)
	}
	if proj == "" || strings.Contains(proj, "/") {
		return scope{}, fmt.Errorf("%s: target %s: want a project name or id", Name, t)
	}
	var sc scope
	var err error
	if sc.project, err = c.id(ctx, "p:"+proj, proj, "/_apis/projects/"+url.PathEscape(proj)); err != nil {
		return scope{}, err
	}
	if repo != "" {
		if sc.repo, err = c.id(ctx, "r:"+proj+"/"+repo, repo, "/"+url.PathEscape(proj)+"/_apis/git/repositories/"+url.PathEscape(repo)); err != nil {
			return scope{}, err
		}
	}
	return sc, nil
}

// id returns name as is when it is a GUID, else the id the API reports at path.
func (c *Client) id(ctx context.Context, key, name, path string) (string, error) {
	if guid.MatchString(name) {
		return strings.ToLower(name), nil
	}
	c.mu.Lock()
	id, ok := c.ids[key]
	c.mu.Unlock()
	if ok {
		return id, nil
	}
	var out struct {
		ID string `json:"id"`
	}
	_, err := c.h.Do(ctx, hookhttp.Call{Op: "resolve " + name, Method: http.MethodGet, Path: path,
		Query: url.Values{"api-version": {apiVersion}}, Out: &out, Permission: permission})
	if err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", fmt.Errorf("%s: resolve %s: no id in the answer", Name, name)
	}
	c.mu.Lock()
	c.ids[key] = strings.ToLower(out.ID)
	c.mu.Unlock()
	return strings.ToLower(out.ID), nil
}

// ours reports whether a subscription belongs to the scope: a Web Hooks
// subscription of the tfs publisher on the project, and on the repository
// for a repository target (none for a project target).
func (sc scope) ours(s subscription) bool {
	return s.PublisherID == "tfs" && s.ConsumerID == "webHooks" && strings.EqualFold(s.PublisherInputs["projectId"], sc.project) &&
		strings.EqualFold(s.PublisherInputs["repository"], sc.repo)
}

// group folds the subscriptions of one consumer URL into a Hook; a
// subscription whose id is not a GUID (so the joined id would be
// ambiguous) is an error.
func group(subs []subscription) (hooks.Hook, error) {
	h := hooks.Hook{Events: []string{}, Active: true, Health: hooks.Health{State: hooks.HealthOK}}
	var ids []string
	for _, s := range subs {
		if !guid.MatchString(s.ID) {
			return hooks.Hook{}, fmt.Errorf("%s: subscription id %q in the answer is not a GUID", Name, s.ID)
		}
		ids = append(ids, s.ID)
		h.URL = s.ConsumerInputs["url"]
		if !slices.Contains(h.Events, s.EventType) {
			h.Events = append(h.Events, s.EventType)
		}
		switch s.Status {
		case "enabled":
		case "onProbation":
			h.Health.State = hooks.HealthFailing
		case "disabledBySystem", "disabledByInactiveIdentity":
			h.Active = false
			h.Health.State = hooks.HealthDisabled
		default: // disabledByUser and any other disabled state
			h.Active = false
		}
	}
	slices.Sort(ids)
	slices.Sort(h.Events)
	h.ID = strings.Join(ids, ",")
	if !h.Active && h.Health.State == hooks.HealthOK {
		h.Health.State = hooks.HealthUnknown
	}
	return h, nil
}

// all reads every Web Hooks subscription of the organization.
func (c *Client) all(ctx context.Context, op string) ([]subscription, error) {
	q := url.Values{"api-version": {apiVersion}, "publisherId": {"tfs"}, "consumerId": {"webHooks"}, "consumerActionId": {"httpRequest"}}
	var out []subscription
	for n := 0; ; n++ {
		if n >= hookhttp.DefaultMaxPages {
			return nil, fmt.Errorf("%s: %s: more than %d pages", Name, op, hookhttp.DefaultMaxPages)
		}
		var l list
		resp, err := c.h.Do(ctx, hookhttp.Call{Op: op, Method: http.MethodGet, Path: "/_apis/hooks/subscriptions", Query: q, Out: &l, Permission: permission})
		if err != nil {
			return nil, err
		}
		out = append(out, l.Value...)
		next := resp.Header.Get("X-Ms-Continuationtoken")
		if next == "" || len(l.Value) == 0 || next == q.Get("continuationToken") {
			return out, nil
		}
		q.Set("continuationToken", next)
	}
}

// List returns forgehook-shaped hooks of the target: its Web Hooks
// subscriptions grouped by URL.
func (c *Client) List(ctx context.Context, t hooks.Target) ([]hooks.Hook, error) {
	sc, err := c.resolve(ctx, t)
	if err != nil {
		return nil, err
	}
	subs, err := c.all(ctx, "list subscriptions for "+t.String())
	if err != nil {
		return nil, err
	}
	byURL := map[string][]subscription{}
	var urls []string
	for _, s := range subs {
		if !sc.ours(s) {
			continue
		}
		u := s.ConsumerInputs["url"]
		if _, seen := byURL[u]; !seen {
			urls = append(urls, u)
		}
		byURL[u] = append(byURL[u], s)
	}
	out := make([]hooks.Hook, 0, len(urls))
	for _, u := range urls {
		h, err := group(byURL[u])
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

// ids splits a joined hook id.
func splitID(id string) ([]string, error) {
	parts := strings.Split(id, ",")
	for _, p := range parts {
		if !guid.MatchString(p) {
			return nil, fmt.Errorf("%s: hook id %q: want subscription ids joined by commas", Name, id)
		}
	}
	return parts, nil
}

func (c *Client) get(ctx context.Context, id string) (subscription, error) {
	var s subscription
	_, err := c.h.Do(ctx, hookhttp.Call{Op: "get subscription " + id, Method: http.MethodGet, Path: "/_apis/hooks/subscriptions/" + id,
		Query: url.Values{"api-version": {apiVersion}}, Out: &s, Permission: permission})
	return s, err
}

// Get returns the group of subscriptions of the joined id.
func (c *Client) Get(ctx context.Context, t hooks.Target, id string) (hooks.Hook, error) {
	parts, err := splitID(id)
	if err != nil {
		return hooks.Hook{}, err
	}
	var subs []subscription
	for _, p := range parts {
		s, err := c.get(ctx, p)
		if err != nil {
			return hooks.Hook{}, err
		}
		subs = append(subs, s)
	}
	return group(subs)
}

// body builds the subscription of one event type.
func body(sc scope, event string, s hooks.Spec) subscription {
	pub := map[string]string{"projectId": sc.project}
	if sc.repo != "" {
		pub["repository"] = sc.repo
	}
	cons := map[string]string{"url": s.URL}
	if u, p, ok := strings.Cut(s.Secret, ":"); ok {
		cons["basicAuthUsername"], cons["basicAuthPassword"] = u, p
	} else if s.Secret != "" {
		cons["httpHeaders"] = "Authorization:Bearer " + s.Secret
	}
	return subscription{PublisherID: "tfs", EventType: event, ResourceVersion: "1.0", ConsumerID: "webHooks", ConsumerActionID: "httpRequest",
		PublisherInputs: pub, ConsumerInputs: cons}
}

// check refuses specs this client cannot express.
func check(sc scope, s hooks.Spec) error {
	if len(s.Events) == 0 {
		return fmt.Errorf("%s: a hook needs at least one event type (one subscription each)", Name)
	}
	if !s.Active {
		return hookhttp.Unsupported(Name, "an inactive hook (delete it, or disable its subscriptions in the UI)")
	}
	if sc.repo != "" {
		for _, e := range s.Events {
			if !strings.HasPrefix(e, "git.") && !strings.HasPrefix(e, "ms.vss-code.") {
				return hookhttp.Unsupported(Name, "event "+e+" on a repository target (use a project target)")
			}
		}
	}
	return nil
}

func (c *Client) create(ctx context.Context, sc scope, event string, s hooks.Spec) (subscription, error) {
	var out subscription
	_, err := c.h.Do(ctx, hookhttp.Call{Op: "create subscription for " + event, Method: http.MethodPost, Path: "/_apis/hooks/subscriptions",
		Query: url.Values{"api-version": {apiVersion}}, Body: body(sc, event, s), Out: &out, Permission: permission})
	return out, err
}

func (c *Client) remove(ctx context.Context, id string) error {
	_, err := c.h.Do(ctx, hookhttp.Call{Op: "delete subscription " + id, Method: http.MethodDelete, Path: "/_apis/hooks/subscriptions/" + id,
		Query: url.Values{"api-version": {apiVersion}}, Permission: permission})
	return err
}

// Create adds one subscription per event type. When one fails, those
// created before it are deleted and the error is returned.
func (c *Client) Create(ctx context.Context, t hooks.Target, s hooks.Spec) (hooks.Hook, error) {
	sc, err := c.resolve(ctx, t)
	if err != nil {
		return hooks.Hook{}, err
	}
	if err := check(sc, s); err != nil {
		return hooks.Hook{}, err
	}
	var made []subscription
	for _, e := range s.Events {
		sub, err := c.create(ctx, sc, e, s)
		if err != nil {
			for _, m := range made {
				if rerr := c.remove(ctx, m.ID); rerr != nil {
					err = errors.Join(err, fmt.Errorf("undo: %w", rerr))
				}
			}
			return hooks.Hook{}, err
		}
		made = append(made, sub)
	}
	return group(made)
}

// Update brings the group to the spec: subscriptions of kept event types
// are replaced in place (PUT), new event types get new subscriptions,
// dropped ones are deleted. The returned Hook's ID lists the subscriptions
// now in the group.
func (c *Client) Update(ctx context.Context, t hooks.Target, id string, s hooks.Spec) (hooks.Hook, error) {
	parts, err := splitID(id)
	if err != nil {
		return hooks.Hook{}, err
	}
	sc, err := c.resolve(ctx, t)
	if err != nil {
		return hooks.Hook{}, err
	}
	if err := check(sc, s); err != nil {
		return hooks.Hook{}, err
	}
	var now []subscription
	have := map[string]bool{}
	for _, p := range parts {
		old, err := c.get(ctx, p)
		if err != nil {
			return hooks.Hook{}, err
		}
		if !slices.Contains(s.Events, old.EventType) || have[old.EventType] {
			if err := c.remove(ctx, p); err != nil {
				return hooks.Hook{}, err
			}
			continue
		}
		have[old.EventType] = true
		b := body(sc, old.EventType, s)
		b.ID = p
		var out subscription
		if _, err := c.h.Do(ctx, hookhttp.Call{Op: "update subscription " + p, Method: http.MethodPut, Path: "/_apis/hooks/subscriptions/" + p,
			Query: url.Values{"api-version": {apiVersion}}, Body: b, Out: &out, Permission: permission}); err != nil {
			return hooks.Hook{}, err
		}
		now = append(now, out)
	}
	for _, e := range s.Events {
		if have[e] {
			continue
		}
		sub, err := c.create(ctx, sc, e, s)
		if err != nil {
			return hooks.Hook{}, err
		}
		have[e] = true
		now = append(now, sub)
	}
	return group(now)
}

// Delete removes every subscription of the group; one already gone is
// skipped, and the error is ErrNotFound only when all were.
func (c *Client) Delete(ctx context.Context, t hooks.Target, id string) error {
	parts, err := splitID(id)
	if err != nil {
		return err
	}
	var notFound error
	gone := 0
	for _, p := range parts {
		err := c.remove(ctx, p)
		switch {
		case errors.Is(err, hooks.ErrNotFound):
			gone++
			notFound = err
		case err != nil:
			return err
		}
	}
	if gone == len(parts) {
		return notFound
	}
	return nil
}

// Ping sends a test notification of the group's first subscription.
func (c *Client) Ping(ctx context.Context, t hooks.Target, id string) error {
	parts, err := splitID(id)
	if err != nil {
		return err
	}
	s, err := c.get(ctx, parts[0])
	if err != nil {
		return err
	}
	b := map[string]any{"subscriptionId": s.ID, "details": map[string]any{
		"publisherId": s.PublisherID, "eventType": s.EventType, "consumerId": s.ConsumerID, "consumerActionId": s.ConsumerActionID,
		"publisherInputs": s.PublisherInputs, "consumerInputs": s.ConsumerInputs}}
	_, err = c.h.Do(ctx, hookhttp.Call{Op: "test subscription " + s.ID, Method: http.MethodPost, Path: "/_apis/hooks/testnotifications",
		Query: url.Values{"api-version": {apiVersion}}, Body: b, Permission: permission})
	return err
}
