// Package all builds the registry of every forge provider forgehook ships.
package all

import (
	"net/http"

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

// Detection lists the forges `provider: auto` can detect, in the order of
// forges.md section 0: by header first (Forgejo, Gitea and Gogs also send
// X-GitHub-Event, so GitHub comes after them), then by payload shape for
// senders without an event header.
func Detection() []auto.Candidate {
	return []auto.Candidate{
		{ID: "gitlab", Match: auto.HasHeader("X-Gitlab-Event"), Factory: gitlab.New},
		{ID: "forgejo", Match: auto.HasHeader("X-Forgejo-Event"), Factory: forgejo.New},
		{ID: "gitea", Match: auto.HasHeader("X-Gitea-Event"), Factory: gitea.New},
		{ID: "gogs", Match: auto.HasHeader("X-Gogs-Event"), Factory: gogs.New},
		{ID: "github", Match: auto.HasHeader("X-GitHub-Event"), Factory: github.New},
		{ID: "gitee", Match: auto.HasHeader("X-Gitee-Event", "X-Git-Oschina-Event"), Factory: gitee.New},
		{ID: "atomgit", Match: auto.HasHeader("X-AtomGit-Event", "X-GitCode-Event"), Factory: atomgit.New},
		{ID: "coding", Match: auto.HasHeader("X-Coding-Service-Hook-Event", "X-Coding-Event"), Factory: coding.New},
		{ID: "bitbucket", Match: bitbucketCloud, Factory: bitbucket.New},
		{ID: "bitbucket-server", Match: auto.HasHeader("X-Event-Key"), Factory: bitbucketserver.New},
		// Recognized by their payload, in this order.
		{ID: "harbor", Factory: harbor.New},
		{ID: "azure-devops", Factory: azuredevops.New},
		{ID: "gerrit", Factory: gerrit.New},
		{ID: "dockerhub", Factory: dockerhub.New},
	}
}

// bitbucketCloud tells Bitbucket Cloud from Server/Data Center: both send
// X-Event-Key, only Cloud sends its hook and request UUIDs and the attempt
// number.
func bitbucketCloud(h http.Header) bool {
	return h.Get("X-Event-Key") != "" && auto.HasHeader("X-Hook-UUID", "X-Request-UUID", "X-Attempt-Number")(h)
}

// Registry returns a new registry with every provider.
func Registry() *forge.Registry {
	r := forge.NewRegistry()
	for _, c := range Detection() {
		r.Add(c.ID, c.Factory)
	}
	r.Add("generic", generic.New)
	r.Add("auto", auto.Factory(Detection()))
	return r
}
