package atomgit

import (
	"cmp"
	"net/url"
	"strings"

	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/gitlab"
	"github.com/forgehook/forgehook/internal/jsonx"
)

// gitlabHooks are the GitLab hook names passed on as they are. AtomGit and
// GitCode document the first five; the others are GitLab's, accepted in
// case the shared backend sends them.
var gitlabHooks = map[string]bool{
	gitlab.EventPush:              true,
	gitlab.EventTagPush:           true,
	gitlab.EventMergeRequest:      true,
	gitlab.EventNote:              true,
	gitlab.EventIssue:             true,
	gitlab.EventConfidentialIssue: true,
	gitlab.EventConfidentialNote:  true,
	gitlab.EventRelease:           true,
	gitlab.EventPipeline:          true,
	gitlab.EventJob:               true,
	gitlab.EventDeployment:        true,
	gitlab.EventWikiPage:          true,
}

// objectKinds maps a payload's object_kind, which some AtomGit deliveries
// carry in X-AtomGit-Event instead of GitLab's hook name, to the hook name.
var objectKinds = map[string]string{
	"push":          gitlab.EventPush,
	"tag_push":      gitlab.EventTagPush,
	"merge_request": gitlab.EventMergeRequest,
	"note":          gitlab.EventNote,
	"issue":         gitlab.EventIssue,
	"release":       gitlab.EventRelease,
	"pipeline":      gitlab.EventPipeline,
	"build":         gitlab.EventJob,
	"deployment":    gitlab.EventDeployment,
	"wiki_page":     gitlab.EventWikiPage,
}

// hookName returns the GitLab hook name for an event header value: the value
// itself when it is one, the hook of an object_kind-style value ("push",
// "Merge_Request"), else the hook of the payload's object_kind, else the
// value unchanged (which GitLab's mapping reads as kind other).
func hookName(ev, objectKind string) string {
	if gitlabHooks[ev] {
		return ev
	}
	if h, ok := objectKinds[strings.ToLower(strings.TrimSpace(ev))]; ok {
		return h
	}
	if h, ok := objectKinds[objectKind]; ok {
		return h
	}
	return ev
}

// Normalize maps an AtomGit or GitCode payload to the canonical fields with
// GitLab's mapping ([gitlab.NormalizeAs]), as documented there: push and tag
// by the ref, deleted for an all-zero after, merge requests by
// object_attributes.iid with open/reopen, update (updated with oldrev, else
// edited), merge and close, notes as comments, issues. The hook is m.Event
// (either header family; GitLab's names such as "Push Hook", or object_kind
// names such as "push"), or the payload's object_kind when m.Event names no
// hook. Fields AtomGit names differently from GitLab are then filled in
// where GitLab's are missing:
//
//   - the repository from project (else repository): full_name or
//     path_with_namespace, html_url, http_url_to_repo and default_branch; a
//     repository known only by its web URL gets the URL's path as full name;
//   - a merge request's URL from object_attributes.html_url;
//   - a merge request's action, when object_attributes has none, from
//     event_name or event_type ("merge_request_open" and the like).
//
// The error wraps [forge.ErrBadPayload] and is returned only when payload is
// not a JSON object.
func (p *Provider) Normalize(m forge.Meta, payload []byte) (event.Fields, error) {
	var x extras
	// Errors are GitLab's mapping's to report; a field of another type is
	// left out here as there. A payload that is not JSON leaves x zero.
	if jsonx.Unmarshal(payload, &x) != nil {
		x = extras{}
	}
	f, err := gitlab.NormalizeAs(Name, hookName(m.Event, x.ObjectKind), payload)
	if err != nil {
		return event.Fields{}, err
	}
	x.complete(&f)
	return f, nil
}

// extras are the fields AtomGit sends that GitLab's mapping does not read.
type extras struct {
	ObjectKind       string       `json:"object_kind"`
	EventName        string       `json:"event_name"`
	EventType        string       `json:"event_type"`
	Project          *repo        `json:"project"`
	Repository       *repo        `json:"repository"`
	ObjectAttributes *mergeFields `json:"object_attributes"`
}

type repo struct {
	FullName          string `json:"full_name"`
	PathWithNamespace string `json:"path_with_namespace"`
	HTMLURL           string `json:"html_url"`
	WebURL            string `json:"web_url"`
	Homepage          string `json:"homepage"`
	HTTPURLToRepo     string `json:"http_url_to_repo"`
	GitHTTPURL        string `json:"git_http_url"`
	DefaultBranch     string `json:"default_branch"`
}

type mergeFields struct {
	HTMLURL string `json:"html_url"`
}

// complete fills the fields of f that GitLab's mapping left empty from the
// AtomGit-specific ones.
func (x *extras) complete(f *event.Fields) {
	r := &f.Repository
	for _, src := range []*repo{x.Project, x.Repository} {
		if src == nil {
			continue
		}
		if r.FullName == "" {
			r.FullName = cmp.Or(src.PathWithNamespace, src.FullName)
			if r.FullName != "" {
				r.Owner, r.Name = splitPath(r.FullName)
			}
		}
		r.URL = cmp.Or(r.URL, src.HTMLURL, src.WebURL, src.Homepage)
		r.CloneURL = cmp.Or(r.CloneURL, src.HTTPURLToRepo, src.GitHTTPURL)
		r.DefaultBranch = cmp.Or(r.DefaultBranch, src.DefaultBranch)
	}
	if r.FullName == "" && r.URL != "" {
		if u, err := url.Parse(r.URL); err == nil && (u.Scheme == "https" || u.Scheme == "http") {
			if p := strings.Trim(u.Path, "/"); strings.Contains(p, "/") {
				r.FullName = p
				r.Owner, r.Name = splitPath(p)
			}
		}
	}
	if f.Kind != event.KindPullRequest {
		return
	}
	if f.PullRequest.URL == "" && x.ObjectAttributes != nil {
		f.PullRequest.URL = x.ObjectAttributes.HTMLURL
	}
	if f.ForgeAction == "" {
		for _, name := range []string{x.EventName, x.EventType} {
			if v, ok := strings.CutPrefix(name, "merge_request_"); ok && v != "" {
				f.ForgeAction = v
				f.Action = mergeRequestAction(v, f.Before)
				break
			}
		}
	}
}

// mergeRequestAction maps the action of an event_name such as
// "merge_request_update" as GitLab's mapping maps object_attributes.action.
func mergeRequestAction(action, oldrev string) string {
	switch action {
	case "open", "reopen":
		return "opened"
	case "update":
		if oldrev != "" {
			return "updated"
		}
		return "edited"
	case "merge":
		return "merged"
	case "close":
		return "closed"
	}
	return forge.LowerSnake(action)
}

// splitPath splits "group/sub/project" into "group/sub" and "project".
func splitPath(full string) (owner, name string) {
	i := strings.LastIndexByte(full, '/')
	if i < 0 {
		return "", full
	}
	return full[:i], full[i+1:]
}
