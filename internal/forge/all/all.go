// Package all lists every provider forgehook ships, once: adding a forge is
// adding its package and one line to Forges.
package all

import (
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/atomgit"
	"github.com/forgehook/forgehook/internal/forge/auto"
	"github.com/forgehook/forgehook/internal/forge/azuredevops"
	"github.com/forgehook/forgehook/internal/forge/bitbucket"
	"github.com/forgehook/forgehook/internal/forge/bitbucketserver"
	"github.com/forgehook/forgehook/internal/forge/coding"
	"github.com/forgehook/forgehook/internal/forge/dockerhub"
	"github.com/forgehook/forgehook/internal/forge/forgejo"
	"github.com/forgehook/forgehook/internal/forge/generic"
	"github.com/forgehook/forgehook/internal/forge/gerrit"
	"github.com/forgehook/forgehook/internal/forge/gitea"
	"github.com/forgehook/forgehook/internal/forge/gitee"
	"github.com/forgehook/forgehook/internal/forge/github"
	"github.com/forgehook/forgehook/internal/forge/gitlab"
	"github.com/forgehook/forgehook/internal/forge/gogs"
	"github.com/forgehook/forgehook/internal/forge/harbor"
)

// Forges returns the descriptors of the forges forgehook ships, in the
// order `provider: auto` tries them (forges.md section 0): by header first
// (Forgejo, Gitea and Gogs also send X-GitHub-Event, so GitHub comes after
// them; Bitbucket Cloud before Server, which sends X-Event-Key too), then
// by payload shape for senders without an event header.
func Forges() []forge.Descriptor {
	return []forge.Descriptor{
		gitlab.Describe(),
		forgejo.Describe(),
		gitea.Describe(),
		gogs.Describe(),
		github.Describe(),
		gitee.Describe(),
		atomgit.Describe(),
		coding.Describe(),
		bitbucket.Describe(),
		bitbucketserver.Describe(),
		// Recognized by their payload, in this order.
		harbor.Describe(),
		azuredevops.Describe(),
		gerrit.Describe(),
		dockerhub.Describe(),
	}
}

// Registry returns a new registry with every provider: the forges, the
// generic provider, and auto over the forges.
func Registry() *forge.Registry {
	r := forge.NewRegistry()
	forges := Forges()
	for _, d := range forges {
		r.Register(d)
	}
	r.Register(generic.Describe())
	r.Register(auto.Describe(forges))
	return r
}
