// Package hooks defines what forgehook needs from a forge to manage its own
// webhooks there: one Client per forge API, speaking in forge-neutral
// Target, Spec and Hook values. The reconciler (plan, apply, prune, adopt,
// rotate) works only through this interface; each forge's client lives in
// its own package under internal/hooks, and internal/hooks/all builds them
// by provider id.
//
// Nothing in this package calls a forge by itself: a Client is built only
// for an endpoint with an explicit manage: block (HOOKS.md §2).
package hooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Target is one place on a forge that holds hooks: a repository, an
// organization, a project, a group, a workspace. Kind is one of the
// TargetKind constants a forge supports; Name is the forge's own path or
// id for it ("acme/app", "acme", "42", "group/sub/project", "PROJ/repo").
type Target struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// The target kinds. A Client rejects a kind its forge does not have with an
// error wrapping ErrUnsupported.
const (
	TargetRepo      = "repo"
	TargetOrg       = "org"
	TargetProject   = "project"
	TargetGroup     = "group"
	TargetWorkspace = "workspace"
)

// String returns "kind:name".
func (t Target) String() string { return t.Kind + ":" + t.Name }

// Spec is the hook forgehook wants on a target.
type Spec struct {
	// URL is the exact URL the forge must call: public_url + /hooks/{name or key}.
	URL string
	// Events are the forge's native event names, as returned by Client.Events.
	Events []string
	// Active is whether the forge should deliver to the hook.
	Active bool
	// Secret is the signing secret or token to register; write-only on
	// every forge (never read back, never logged).
	Secret string
	// Description is the ownership marker ("managed by forgehook:
	// <endpoint>") for forges whose hooks carry a name or description;
	// others ignore it.
	Description string
}

// Hook is a hook as the forge reports it. Secrets are never part of it.
type Hook struct {
	ID          string   `json:"id"`
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Active      bool     `json:"active"`
	Description string   `json:"description,omitempty"`
	Health      Health   `json:"health"`
}

// Health is the forge's own view of a hook's recent deliveries, where it
// exposes one (GitHub last_response, GitLab alert_status and
// disabled_until, Bitbucket Data Center statistics). Zero values mean
// "not reported".
type Health struct {
	// State is one of the HealthState constants.
	State         string    `json:"state"`
	LastStatus    int       `json:"last_status,omitempty"`
	LastError     string    `json:"last_error,omitempty"`
	LastDelivery  time.Time `json:"last_delivery,omitempty"`
	DisabledUntil time.Time `json:"disabled_until,omitempty"`
}

// The health states.
const (
	HealthUnknown  = "unknown"
	HealthOK       = "ok"
	HealthFailing  = "failing"
	HealthDisabled = "disabled"
)

// Client manages hooks through one forge's API. Every method honours the
// forge's rate-limit headers and reads every page of a list. Errors from the
// forge are *APIError values (test them with errors.Is against
// ErrPermission, ErrNotFound, ErrConflict, ErrUnsupported).
type Client interface {
	// Events maps canonical kinds (push, tag, pull_request, comment, issue,
	// release, pipeline, registry) and native event names (kept as given
	// when the forge knows them) to the forge's event names, without
	// duplicates and in a stable order. An unknown name is an error.
	Events(kinds []string) ([]string, error)
	// List returns every hook on the target (all pages).
	List(ctx context.Context, t Target) ([]Hook, error)
	// Get returns one hook by id.
	Get(ctx context.Context, t Target, id string) (Hook, error)
	// Create registers a new hook and returns it as the forge reports it.
	Create(ctx context.Context, t Target, s Spec) (Hook, error)
	// Update changes a hook in place (same id).
	Update(ctx context.Context, t Target, id string, s Spec) (Hook, error)
	// Delete removes a hook.
	Delete(ctx context.Context, t Target, id string) error
	// Ping asks the forge to send a ping or test delivery to the hook; an
	// error wrapping ErrUnsupported when the forge has no such call.
	Ping(ctx context.Context, t Target, id string) error
}

// Manual is implemented by the clients of forges that have no hook API
// (Docker Hub, coding.net): plan prints these steps instead of changes.
type Manual interface {
	// Steps returns the operator's manual steps to create the hook.
	Steps(t Target, s Spec) []string
}

// Options configure a Client.
type Options struct {
	// APIURL is the API base as the forge documents it
	// (https://api.github.com, https://gitlab.example.com/api/v4,
	// https://gitea.example.com/api/v1, ...). Empty means the forge's
	// public default where it has one.
	APIURL string
	// Token is the management credential (never logged).
	Token string
	// HTTP is the client used for every call (nil: a client with a 30 s timeout).
	HTTP *http.Client
	// Logger receives one line per call at debug level and rate-limit waits at info.
	Logger *slog.Logger
}

// Sentinel errors matched by *APIError.Is.
var (
	// ErrPermission: the forge answered 401 or 403.
	ErrPermission = errors.New("permission denied by the forge")
	// ErrNotFound: the forge answered 404.
	ErrNotFound = errors.New("not found on the forge")
	// ErrConflict: the forge answered 409 or 422 (a hook with that URL exists, or a bad field).
	ErrConflict = errors.New("refused by the forge as a conflict or invalid request")
	// ErrUnsupported: the forge has no such call or target kind.
	ErrUnsupported = errors.New("not supported by this forge")
)

// APIError is an error answer from a forge's API.
type APIError struct {
	// Forge is the provider id (github, gitlab, ...).
	Forge string
	// Op names the call ("list hooks on repo:acme/app").
	Op string
	// Status is the HTTP status.
	Status int
	// Permission names the permission the call needs (HOOKS.md §5), set on
	// 401 and 403 so the operator knows what to grant.
	Permission string
	// Message is the forge's own message, shortened; never a secret.
	Message string
}

// Error describes the failure, with the permission needed on 401 and 403.
func (e *APIError) Error() string {
	s := fmt.Sprintf("%s: %s: HTTP %d", e.Forge, e.Op, e.Status)
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Permission != "" && (e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden) {
		s += " (needs " + e.Permission + ")"
	}
	return s
}

// Is matches the sentinel errors by status.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrPermission:
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrConflict:
		return e.Status == http.StatusConflict || e.Status == http.StatusUnprocessableEntity
	}
	return false
}
