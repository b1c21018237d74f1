package recovery

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// pollActor is the user a synthetic push names as its pusher.
const pollActor = "forgehook-poll"

// SyntheticPush returns the payload and headers of a synthetic push of ref
// (refs/heads/… or refs/tags/…) in repo ("owner/name"; for Bitbucket
// "workspace/slug", for Bitbucket Data Center "PROJECT/slug") from before
// to after, in the webhook format of forge (gitea, forgejo, gogs, gitee,
// atomgit, bitbucket, bitbucket-server; any other gets Gitea's), marked
// with X-Forgehook-Synthetic: poll. Its delivery id, "poll-" and a hash of
// repository, ref and new head, is the same for the same change. apiURL
// is the forge's API base, from which the repository's web address is
// derived.
func SyntheticPush(forge, apiURL, repo, ref, before, after string) ([]byte, http.Header) {
	sum := sha256.Sum256([]byte(repo + "\x00" + ref + "\x00" + after))
	id := "poll-" + hex.EncodeToString(sum[:16])
	owner, name, _ := strings.Cut(repo, "/")
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	var body map[string]any
	switch forge {
	case "gitee":
		body, h = giteePush(h, webBase(apiURL, "/api/v5")+"/"+repo, owner, name, repo, ref, before, after)
		h.Set("X-Gitee-Request-Id", id)
	case "atomgit":
		body = atomgitPush(webBase(apiURL, "/api/v5")+"/"+repo, name, repo, ref, before, after)
		ev := "Push Hook"
		if strings.HasPrefix(ref, "refs/tags/") {
			ev = "Tag Push Hook"
		}
		h.Set("X-AtomGit-Event", ev)
		h.Set("X-AtomGit-Delivery", id)
	case "bitbucket":
		body = bitbucketPush(webBase(apiURL, "/2.0")+"/"+repo, name, repo, ref, before, after)
		h.Set("X-Event-Key", "repo:push")
		h.Set("X-Request-UUID", id)
	case "bitbucket-server":
		body = bitbucketServerPush(owner, name, ref, before, after)
		h.Set("X-Event-Key", "repo:refs_changed")
		h.Set("X-Request-Id", id)
	default:
		web := webBase(apiURL, "/api/v1") + "/" + repo
		body = map[string]any{
			"ref": ref, "before": before, "after": after, "compare_url": "", "commits": []any{}, "total_commits": 0,
			"repository": map[string]any{
				"name": name, "full_name": repo, "html_url": web, "clone_url": web + ".git",
				"owner": map[string]any{"login": owner, "username": owner},
			},
			"pusher": map[string]any{"login": pollActor, "username": pollActor},
			"sender": map[string]any{"login": pollActor, "username": pollActor},
		}
		for _, f := range []string{"Gitea", "Forgejo", "Gogs"} {
			h.Set("X-"+f+"-Event", "push")
			h.Set("X-"+f+"-Delivery", id)
		}
	}
	b, _ := json.Marshal(body)
	h.Set(HeaderSynthetic, "poll")
	return b, h
}

// webBase is the forge's web address derived from its API base: suffix
// removed, and an "api." host prefix dropped (api.gitcode.com,
// api.bitbucket.org).
func webBase(apiURL, suffix string) string {
	s := strings.TrimSuffix(strings.TrimSuffix(apiURL, "/"), suffix)
	if u, err := url.Parse(s); err == nil && strings.HasPrefix(u.Host, "api.") {
		u.Host = strings.TrimPrefix(u.Host, "api.")
		return u.String()
	}
	return s
}

func branchOrTag(ref string) (typ, name string) {
	if n, ok := strings.CutPrefix(ref, "refs/tags/"); ok {
		return "tag", n
	}
	return "branch", strings.TrimPrefix(ref, "refs/heads/")
}

// giteePush is Gitee's "Push Hook" or "Tag Push Hook" payload.
func giteePush(h http.Header, web, owner, name, repo, ref, before, after string) (map[string]any, http.Header) {
	ev, hook := "Push Hook", "push_hooks"
	if strings.HasPrefix(ref, "refs/tags/") {
		ev, hook = "Tag Push Hook", "tag_push_hooks"
	}
	h.Set("X-Gitee-Event", ev)
	user := map[string]any{"login": pollActor, "username": pollActor, "name": pollActor}
	return map[string]any{
		"hook_name": hook, "ref": ref, "before": before, "after": after, "created": false, "deleted": false,
		"compare": "", "commits": []any{}, "total_commits_count": 0,
		"repository": map[string]any{
			"name": name, "path": name, "full_name": repo, "path_with_namespace": repo, "html_url": web, "url": web,
			"owner": map[string]any{"login": owner, "username": owner, "name": owner},
		},
		"pusher": user, "sender": user, "user": user,
	}, h
}

// atomgitPush is GitCode/AtomGit's GitLab-shaped push or tag push payload.
func atomgitPush(web, name, repo, ref, before, after string) map[string]any {
	kind := "push"
	if strings.HasPrefix(ref, "refs/tags/") {
		kind = "tag_push"
	}
	return map[string]any{
		"object_kind": kind, "event_name": kind, "ref": ref, "before": before, "after": after,
		"user_name": pollActor, "user_username": pollActor, "commits": []any{}, "total_commits_count": 0,
		"project":    map[string]any{"name": name, "path_with_namespace": repo, "web_url": web, "http_url": web + ".git"},
		"repository": map[string]any{"name": name, "homepage": web, "git_http_url": web + ".git"},
	}
}

// bitbucketPush is Bitbucket Cloud's repo:push payload with one change.
func bitbucketPush(web, name, repo, ref, before, after string) map[string]any {
	typ, short := branchOrTag(ref)
	side := func(hash string) map[string]any {
		return map[string]any{"type": typ, "name": short, "target": map[string]any{"type": "commit", "hash": hash}}
	}
	return map[string]any{
		"actor": map[string]any{"type": "user", "display_name": pollActor, "nickname": pollActor},
		"repository": map[string]any{"type": "repository", "name": name, "full_name": repo,
			"links": map[string]any{"html": map[string]any{"href": web}}},
		"push": map[string]any{"changes": []any{map[string]any{
			"old": side(before), "new": side(after), "created": false, "closed": false, "forced": false, "commits": []any{},
		}}},
	}
}

// bitbucketServerPush is Bitbucket Data Center's repo:refs_changed payload
// with one change.
func bitbucketServerPush(project, slug, ref, before, after string) map[string]any {
	typ, short := branchOrTag(ref)
	return map[string]any{
		"eventKey": "repo:refs_changed",
		"actor":    map[string]any{"name": pollActor, "slug": pollActor, "displayName": pollActor},
		"repository": map[string]any{"slug": slug, "name": slug,
			"project": map[string]any{"key": project, "name": project}},
		"changes": []any{map[string]any{
			"ref":   map[string]any{"id": ref, "displayId": short, "type": strings.ToUpper(typ)},
			"refId": ref, "fromHash": before, "toHash": after, "type": "UPDATE",
		}},
	}
}
