// Package manual is the hook "client" of forges whose webhooks have no
// management API forgehook can use: Docker Hub (no public API for
// repository webhooks) and coding.net (hooks are set up in the project
// settings). Every API method fails with hooks.ErrUnsupported; Steps tells
// the operator what to do by hand, never printing the secret.
//
// Sources: https://docs.docker.com/docker-hub/repos/manage/webhooks/ and
// https://coding.net/help/docs/project-settings/service-hook/intro.html.
package manual

import (
	"context"
	"fmt"
	"strings"

	"github.com/forgehook/forgehook/internal/hooks"
	"github.com/forgehook/forgehook/internal/hooks/hookhttp"
)

// The provider ids served.
const (
	DockerHub = "dockerhub"
	Coding    = "coding"
)

// Client implements hooks.Client and hooks.Manual for one forge.
type Client struct {
	forge string
}

var (
	_ hooks.Client = (*Client)(nil)
	_ hooks.Manual = (*Client)(nil)
)

// New returns the manual client of dockerhub or coding.
func New(provider string) (*Client, error) {
	switch provider {
	case DockerHub, Coding:
		return &Client{forge: provider}, nil
	}
	return nil, fmt.Errorf("manual: provider %q: want dockerhub or coding", provider)
}

var (
	dockerKinds = map[string][]string{
		"registry": {"push"}, "push": nil, "tag": nil, "pull_request": nil, "comment": nil, "issue": nil, "release": nil, "pipeline": nil,
	}
	codingKinds = map[string][]string{
		"push": {"GIT_PUSHED"}, "tag": {"GIT_PUSHED"},
		"pull_request": {"GIT_MR_CLOSED", "GIT_MR_CREATED", "GIT_MR_MERGED", "GIT_MR_UPDATED"},
		"comment":      {"GIT_MR_NOTE", "ISSUE_COMMENT_CREATED"},
		"issue":        {"ISSUE_CREATED", "ISSUE_STATUS_UPDATED", "ISSUE_UPDATED"},
		"pipeline":     {"CI_JOB_FINISHED", "CI_JOB_STARTED"},
		"registry":     {"ARTIFACTS_VERSION_CREATED", "ARTIFACTS_VERSION_UPDATED"},
		"release":      nil,
	}
	codingNative = []string{
		"ARTIFACTS_VERSION_CREATED", "ARTIFACTS_VERSION_UPDATED", "CI_JOB_CREATED", "CI_JOB_DELETED", "CI_JOB_FINISHED",
		"CI_JOB_STARTED", "CI_JOB_UPDATED", "GIT_MR_CLOSED", "GIT_MR_CREATED", "GIT_MR_MERGED", "GIT_MR_NOTE", "GIT_MR_UPDATED",
		"GIT_PUSHED", "ISSUE_ASSIGNEE_CHANGED", "ISSUE_COMMENT_CREATED", "ISSUE_CREATED", "ISSUE_DELETED",
		"ISSUE_ITERATION_CHANGED", "ISSUE_RELATIONSHIP_CHANGED", "ISSUE_STATUS_UPDATED", "ISSUE_UPDATED",
	}
)

// Events maps canonical kinds to the names the forge's settings page shows.
func (c *Client) Events(k []string) ([]string, error) {
	if c.forge == DockerHub {
		return hookhttp.Events(c.forge, k, dockerKinds, []string{"push"})
	}
	return hookhttp.Events(c.forge, k, codingKinds, codingNative)
}

func (c *Client) unsupported() error {
	return hookhttp.Unsupported(c.forge, "no hook management API: create the hook by hand (forgehook hooks plan prints the steps)")
}

// List fails: the forge has no hook API.
func (c *Client) List(ctx context.Context, t hooks.Target) ([]hooks.Hook, error) {
	return nil, c.unsupported()
}

// Get fails: the forge has no hook API.
func (c *Client) Get(ctx context.Context, t hooks.Target, id string) (hooks.Hook, error) {
	return hooks.Hook{}, c.unsupported()
}

// Create fails: the forge has no hook API.
func (c *Client) Create(ctx context.Context, t hooks.Target, s hooks.Spec) (hooks.Hook, error) {
	return hooks.Hook{}, c.unsupported()
}

// Update fails: the forge has no hook API.
func (c *Client) Update(ctx context.Context, t hooks.Target, id string, s hooks.Spec) (hooks.Hook, error) {
	return hooks.Hook{}, c.unsupported()
}

// Delete fails: the forge has no hook API.
func (c *Client) Delete(ctx context.Context, t hooks.Target, id string) error { return c.unsupported() }

// Ping fails: the forge has no hook API.
func (c *Client) Ping(ctx context.Context, t hooks.Target, id string) error { return c.unsupported() }

// Steps returns the manual steps to create the hook s on t. The secret is
// never part of them: the operator copies it from where it is kept.
func (c *Client) Steps(t hooks.Target, s hooks.Spec) []string {
	name := s.Description
	if name == "" {
		name = "forgehook"
	}
	if c.forge == DockerHub {
		u := s.URL
		if s.Secret != "" {
			sep := "?"
			if strings.Contains(u, "?") {
				sep = "&"
			}
			u += sep + "token=<the endpoint's first secret>"
		}
		return []string{
			fmt.Sprintf("Open https://hub.docker.com/repository/docker/%s/webhooks (Docker Hub has no API for repository webhooks).", t.Name),
			fmt.Sprintf("Webhook name: %s", name),
			fmt.Sprintf("Webhook URL: %s", u),
			"Docker Hub signs nothing: the token parameter and the endpoint's unguessable path are the only protection; keep the URL secret.",
			"Create, then push an image tag to see a delivery arrive.",
		}
	}
	steps := []string{
		fmt.Sprintf("Open the project %s on coding.net: Project settings > Developer options > Service Hook, and create a Service Hook (coding.net's API cannot do it for forgehook).", t.Name),
		"Service: Webhook; URL: " + s.URL,
	}
	if s.Secret != "" {
		steps = append(steps, "Token: the endpoint's first secret (coding.net signs each delivery with it: X-Coding-Signature).")
	}
	if len(s.Events) > 0 {
		steps = append(steps, "Events: "+strings.Join(s.Events, ", "))
	}
	steps = append(steps, fmt.Sprintf("Name or note: %s", name), "Save, then use \"Send test\" to check that forgehook receives it.")
	return steps
}
