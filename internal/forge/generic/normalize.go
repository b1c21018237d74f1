package generic

import (
	"strings"

	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/jsonx"
)

// Normalize maps payload to the canonical fields on a best-effort basis. It
// never fails: a payload it cannot read (not JSON, or not a JSON object) is
// kind "other".
//
//   - A ping (m.Ping, or a GitHub-style ping payload with "zen" and
//     "hook_id") is kind "ping".
//   - A GitHub-like push, a payload with a full "ref" (refs/...) and a
//     "before" or "after" object id, is kind "push", or "tag" for a ref
//     under refs/tags/. An all-zero "after" (or "deleted": true) marks a
//     deletion, action "deleted"; an all-zero "before" (or "created": true)
//     a creation, action "created". Commits come from "commits".
//   - Anything else is kind "other".
//
// For every kind, the repository comes from a GitHub-like "repository"
// object (full_name, name, owner, html_url, clone_url, default_branch; the
// full name is derived from owner and name when it is absent), the
// actor from "sender" (login or username) or, for a push, "pusher", and
// the forge's own action from a string "action".
func (p *Provider) Normalize(m forge.Meta, payload []byte) (event.Fields, error) {
	f := event.Fields{Kind: event.KindOther, Forge: Name}
	if m.Ping {
		f.Kind = event.KindPing
	}
	var doc map[string]any
	if err := jsonx.Unmarshal(payload, &doc); err != nil || doc == nil {
		return f, nil
	}
	f.ForgeAction = str(doc, "action")
	f.Repository = repository(obj(doc, "repository"))
	f.Actor = person(obj(doc, "sender"))

	if _, zen := doc["zen"]; zen {
		if _, hook := doc["hook_id"]; hook {
			f.Kind = event.KindPing
		}
	}
	if f.Kind == event.KindPing {
		return f, nil
	}

	ref, before, after := str(doc, "ref"), str(doc, "before"), str(doc, "after")
	if !strings.HasPrefix(ref, "refs/") || (before == "" && after == "") {
		return f, nil
	}
	f.Ref, f.Before, f.After = ref, before, after
	if tag, ok := strings.CutPrefix(ref, "refs/tags/"); ok {
		f.Kind, f.Tag = event.KindTag, tag
	} else {
		f.Kind = event.KindPush
		if b, ok := strings.CutPrefix(ref, "refs/heads/"); ok {
			f.Branch = b
		}
	}
	switch {
	case event.IsZeroSHA(after) || doc["deleted"] == true:
		f.Deleted, f.Action = true, "deleted"
	case event.IsZeroSHA(before) || doc["created"] == true:
		f.Action = "created"
	}
	if f.Actor.Login == "" {
		f.Actor = person(obj(doc, "pusher"))
	}
	if cs, ok := doc["commits"].([]any); ok {
		for _, c := range cs {
			cm, ok := c.(map[string]any)
			if !ok {
				continue
			}
			f.Commits = append(f.Commits, event.Commit{
				ID:        str(cm, "id"),
				Message:   str(cm, "message"),
				URL:       str(cm, "url"),
				Author:    person(obj(cm, "author")),
				Timestamp: str(cm, "timestamp"),
			})
		}
	}
	return f, nil
}

// obj returns doc[key] when it is a JSON object, else nil.
func obj(doc map[string]any, key string) map[string]any {
	o, _ := doc[key].(map[string]any)
	return o
}

// str returns doc[key] when it is a JSON string, else "".
func str(doc map[string]any, key string) string {
	s, _ := doc[key].(string)
	return s
}

// first returns the first non-empty string among doc's keys.
func first(doc map[string]any, keys ...string) string {
	for _, k := range keys {
		if s := str(doc, k); s != "" {
			return s
		}
	}
	return ""
}

// repository reads a GitHub-like repository object (Gitea, Gogs, Gitee and
// coding.net use the same names).
func repository(r map[string]any) event.Repository {
	if r == nil {
		return event.Repository{}
	}
	rep := event.Repository{
		FullName:      str(r, "full_name"),
		Name:          str(r, "name"),
		URL:           first(r, "html_url", "url"),
		CloneURL:      str(r, "clone_url"),
		DefaultBranch: str(r, "default_branch"),
	}
	if o := obj(r, "owner"); o != nil {
		rep.Owner = first(o, "login", "username", "name")
	} else {
		rep.Owner = str(r, "owner")
	}
	if i := strings.LastIndexByte(rep.FullName, '/'); i > 0 {
		if rep.Owner == "" {
			rep.Owner = rep.FullName[:i]
		}
		if rep.Name == "" {
			rep.Name = rep.FullName[i+1:]
		}
	} else if rep.FullName == "" && rep.Owner != "" && rep.Name != "" {
		rep.FullName = rep.Owner + "/" + rep.Name
	}
	return rep
}

// person reads a GitHub-like user, pusher or commit author object.
func person(u map[string]any) event.Person {
	if u == nil {
		return event.Person{}
	}
	return event.Person{
		Login: first(u, "login", "username"),
		Name:  first(u, "full_name", "name"),
		Email: str(u, "email"),
	}
}
