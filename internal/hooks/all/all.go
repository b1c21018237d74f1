// Package all builds the hook-management client of a provider id, the one
// place that knows every forge client.
package all

import (
	"fmt"

	"github.com/forgehook/forgehook/internal/hooks"
	"github.com/forgehook/forgehook/internal/hooks/azuredevops"
	"github.com/forgehook/forgehook/internal/hooks/bitbucket"
	"github.com/forgehook/forgehook/internal/hooks/bitbucketserver"
	"github.com/forgehook/forgehook/internal/hooks/gitea"
	"github.com/forgehook/forgehook/internal/hooks/gitee"
	"github.com/forgehook/forgehook/internal/hooks/github"
	"github.com/forgehook/forgehook/internal/hooks/gitlab"
	"github.com/forgehook/forgehook/internal/hooks/harbor"
	"github.com/forgehook/forgehook/internal/hooks/manual"
)

// New returns the hooks.Client of provider (a forge id of internal/forge)
// configured by o, or an error when the provider has no client or o is
// unusable for it (an api_url the forge needs and lacks, a malformed URL).
// The clients of forges without a hook API (Docker Hub, coding.net) also
// implement hooks.Manual.
func New(provider string, o hooks.Options) (hooks.Client, error) {
	switch provider {
	case gitea.Gitea, gitea.Forgejo, gitea.Gogs:
		return wrap(gitea.New(provider, o))
	case github.Name:
		return wrap(github.New(o))
	case gitlab.Name:
		return wrap(gitlab.New(o))
	case gitee.Gitee, gitee.AtomGit:
		return wrap(gitee.New(provider, o))
	case bitbucket.Name:
		return wrap(bitbucket.New(o))
	case bitbucketserver.Name:
		return wrap(bitbucketserver.New(o))
	case azuredevops.Name:
		return wrap(azuredevops.New(o))
	case harbor.Name:
		return wrap(harbor.New(o))
	case manual.DockerHub, manual.Coding:
		return wrap(manual.New(provider))
	}
	return nil, fmt.Errorf("hooks: provider %q: no hook management client", provider)
}

// wrap returns a nil interface, not a typed nil pointer, with an error.
func wrap[C hooks.Client](c C, err error) (hooks.Client, error) {
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Providers lists the provider ids New accepts.
func Providers() []string {
	return []string{github.Name, gitlab.Name, gitea.Gitea, gitea.Forgejo, gitea.Gogs, gitee.Gitee, gitee.AtomGit, bitbucket.Name, bitbucketserver.Name, azuredevops.Name, harbor.Name, manual.DockerHub, manual.Coding}
}
