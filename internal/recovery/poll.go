package recovery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/forgehook/forgehook/internal/hooks"
	"github.com/forgehook/forgehook/internal/hooks/hookhttp"
)

// poller reads the branch and tag heads of Gitea, Forgejo and Gogs
// repositories (https://docs.gitea.com/api: GET /repos/{owner}/{repo}/branches
// and /tags, page and limit) and emits a synthetic push for each head that
// changed since the last poll.
type poller struct {
	r *Recoverer
	e Endpoint
	h *hookhttp.Client
}

// pollForges are the forges polling knows the API and payload of.
var pollForges = map[string]bool{"gitea": true, "forgejo": true, "gogs": true}

func (r *Recoverer) poller(e Endpoint) (*poller, error) {
	if !pollForges[e.Provider] {
		return nil, fmt.Errorf("%w: polling %s (polling knows gitea, forgejo and gogs)", hooks.ErrUnsupported, e.Provider)
	}
	if e.APIURL == "" {
		return nil, fmt.Errorf("%s: polling needs the manage: block's api_url", e.Provider)
	}
	h, err := hookhttp.New(hookhttp.Config{Forge: e.Provider, Base: e.APIURL, HTTP: r.o.HTTP, Logger: r.o.Logger,
		Auth: hookhttp.TokenAuth("token", e.Token.Reveal()), Now: r.o.Now, Sleep: r.o.Sleep})
	if err != nil {
		return nil, err
	}
	return &poller{r: r, e: e, h: h}, nil
}

// giteaRef is a branch or tag as Gitea lists it.
type giteaRef struct {
	Name   string `json:"name"`
	Commit struct {
		ID  string `json:"id"`  // branches
		SHA string `json:"sha"` // tags
	} `json:"commit"`
}

func (g giteaRef) head() string {
	if g.Commit.ID != "" {
		return g.Commit.ID
	}
	return g.Commit.SHA
}

// HeadKey is the State key of a polled ref's last seen head.
func HeadKey(endpoint, repo, ref string) string {
	s := sha256.Sum256([]byte(endpoint + "\x00" + repo + "\x00" + ref))
	return "head." + hex.EncodeToString(s[:16])
}

// poll reads the target's heads; a head that changed since the last poll
// is an item, emitted as a synthetic push when run. The first poll of a
// ref records its head and emits nothing.
func (p *poller) poll(ctx context.Context, t hooks.Target, run bool) ([]Item, error) {
	if t.Kind != hooks.TargetRepo {
		return nil, fmt.Errorf("%w: polling a %s (polling reads repositories)", hooks.ErrUnsupported, t.Kind)
	}
	o, n, err := hookhttp.SplitRepo(p.e.Provider, t)
	if err != nil {
		return nil, err
	}
	perm := "a token that can read the repository (Gitea scope read:repository)"
	var items []Item
	for _, kind := range []string{"branches", "tags"} {
		refs, err := hookhttp.ListPages[giteaRef](ctx, p.h, hookhttp.Call{Op: "list " + kind + " of " + t.String(), Method: http.MethodGet,
			Path: "/repos/" + o + "/" + n + "/" + kind, Permission: perm}, hookhttp.Pages{Page: "page", Size: "limit", PerPage: 50})
		if err != nil {
			return items, err
		}
		prefix := "refs/heads/"
		if kind == "tags" {
			prefix = "refs/tags/"
		}
		for _, ref := range refs {
			head := ref.head()
			if ref.Name == "" || head == "" {
				continue
			}
			full := prefix + ref.Name
			key := HeadKey(p.e.Name, t.Name, full)
			before, seen, err := p.r.o.State.Get(ctx, key)
			if err != nil {
				return items, fmt.Errorf("read last head of %s: %w", full, err)
			}
			if seen && before == head {
				continue
			}
			if !seen {
				if run {
					if err := p.r.o.State.Put(ctx, key, head); err != nil {
						return items, fmt.Errorf("record head of %s: %w", full, err)
					}
				}
				continue
			}
			it := Item{Endpoint: p.e.Name, Forge: p.e.Provider, Target: t.String(), Mode: ModePoll, ID: full, Key: head,
				Event: "push", At: p.r.o.Now().UTC(), Status: StatusMissing}
			if run {
				p.emit(ctx, t.Name, full, before, head, &it)
				if it.Status != StatusFailed {
					if err := p.r.o.State.Put(ctx, key, head); err != nil {
						return append(items, it), fmt.Errorf("record head of %s: %w", full, err)
					}
				}
			}
			items = append(items, it)
		}
	}
	return items, nil
}

// emit ingests a synthetic push of ref from before to after, in the
// forge's own push payload so that it normalizes like a real one. Its
// dedup key (ingest's RefKey, which real pushes on a polled endpoint use
// too) makes a late real webhook a duplicate.
func (p *poller) emit(ctx context.Context, repo, ref, before, after string, it *Item) {
	payload, header := SyntheticPush(p.e.Provider, p.e.APIURL, repo, ref, before, after)
	res, err := p.r.o.Ingest.Inject(ctx, p.e.Name, header, payload, true)
	if err != nil {
		it.Status, it.Error = StatusFailed, err.Error()
		return
	}
	it.Status = StatusRecovered
	if res.Duplicate {
		it.Status = StatusDuplicate
	}
}

// SyntheticPush returns the payload and headers of a synthetic push in the
// Gitea family's webhook format (Gitea, Forgejo, Gogs), marked with
// X-Forgehook-Synthetic: poll. Its delivery id is derived from the
// repository, ref and new head.
func SyntheticPush(forge, apiURL, repo, ref, before, after string) ([]byte, http.Header) {
	owner, name, _ := strings.Cut(repo, "/")
	web := strings.TrimSuffix(strings.TrimSuffix(apiURL, "/"), "/api/v1") + "/" + repo
	body := map[string]any{
		"ref": ref, "before": before, "after": after, "compare_url": "", "commits": []any{}, "total_commits": 0,
		"repository": map[string]any{
			"name": name, "full_name": repo, "html_url": web, "clone_url": web + ".git",
			"owner": map[string]any{"login": owner, "username": owner},
		},
		"pusher": map[string]any{"login": "forgehook-poll", "username": "forgehook-poll"},
		"sender": map[string]any{"login": "forgehook-poll", "username": "forgehook-poll"},
	}
	b, _ := json.Marshal(body)
	sum := sha256.Sum256([]byte(repo + "\x00" + ref + "\x00" + after))
	id := "poll-" + hex.EncodeToString(sum[:16])
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	for _, f := range []string{"Gitea", "Forgejo", "Gogs"} {
		h.Set("X-"+f+"-Event", "push")
		h.Set("X-"+f+"-Delivery", id)
	}
	h.Set(HeaderSynthetic, "poll")
	return b, h
}
