package recovery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/forgehook/forgehook/internal/hooks"
	"github.com/forgehook/forgehook/internal/hooks/hookhttp"
)

// poller reads the branch and tag heads of a repository on a forge
// without a delivery history and emits a synthetic push for each head that
// changed since the last poll. The API read per forge (testdata/SOURCES.md):
//
//   - Gitea, Forgejo, Gogs: GET /repos/{owner}/{repo}/branches and /tags
//     (page, limit; branch commit.id, tag commit.sha);
//   - Gitee, GitCode/AtomGit: GET /repos/{owner}/{repo}/branches and /tags
//     (access_token, page, per_page; commit.sha);
//   - Bitbucket Cloud: GET /repositories/{workspace}/{slug}/refs/branches
//     and /refs/tags (pagelen, "next"; target.hash);
//   - Bitbucket Data Center: GET /projects/{key}/repos/{slug}/branches and
//     /tags (start, limit, isLastPage, nextPageStart; latestCommit).
type poller struct {
	r    *Recoverer
	e    Endpoint
	h    *hookhttp.Client
	list func(ctx context.Context, p *poller, t hooks.Target, kind string) ([]head, error)
}

// head is one branch or tag and the commit it points at.
type head struct {
	Name, SHA string
}

// pollForge is what polling knows of one forge: its API's default base,
// how a token is sent, and how heads are listed.
type pollForge struct {
	defaultAPI string
	auth       func(token string) func(*http.Request)
	list       func(ctx context.Context, p *poller, t hooks.Target, kind string) ([]head, error)
}

// tokenOrBasic sends "user:secret" as HTTP Basic and any other token as
// "Authorization: Bearer …", as the Bitbucket hook clients do.
func tokenOrBasic(token string) func(*http.Request) {
	if strings.Contains(token, ":") {
		return hookhttp.BasicAuth("", token)
	}
	return hookhttp.TokenAuth("Bearer", token)
}

func giteaAuth(token string) func(*http.Request) { return hookhttp.TokenAuth("token", token) }
func giteeAuth(token string) func(*http.Request) {
	return hookhttp.SetQueryAuth("access_token", token)
}

// pollForges returns the forges polling knows the API and payload of, by
// provider id.
func pollForges() map[string]pollForge {
	gitea := pollForge{auth: giteaAuth, list: listGitea}
	return map[string]pollForge{
		"gitea": gitea, "forgejo": gitea, "gogs": gitea,
		"gitee":            {defaultAPI: "https://gitee.com/api/v5", auth: giteeAuth, list: listGitee},
		"atomgit":          {defaultAPI: "https://api.gitcode.com/api/v5", auth: giteeAuth, list: listGitee},
		"bitbucket":        {defaultAPI: "https://api.bitbucket.org/2.0", auth: tokenOrBasic, list: listBitbucket},
		"bitbucket-server": {auth: tokenOrBasic, list: listBitbucketServer},
	}
}

func (r *Recoverer) poller(e Endpoint) (*poller, error) {
	f, ok := pollForges()[e.Provider]
	if !ok {
		return nil, fmt.Errorf("%w: polling %s (polling knows gitea, forgejo, gogs, gitee, atomgit, bitbucket and bitbucket-server)", hooks.ErrUnsupported, e.Provider)
	}
	if e.APIURL == "" {
		e.APIURL = f.defaultAPI
	}
	if e.APIURL == "" {
		return nil, fmt.Errorf("%s: polling needs the manage: block's api_url", e.Provider)
	}
	if e.Provider == "bitbucket-server" {
		e.APIURL = strings.TrimRight(e.APIURL, "/")
		if !strings.Contains(e.APIURL, "/rest/api/") {
			e.APIURL += "/rest/api/latest"
		}
	}
	h, err := hookhttp.New(hookhttp.Config{Forge: e.Provider, Base: e.APIURL, HTTP: r.o.HTTP, Logger: r.o.Logger,
		Auth: f.auth(e.Token.Reveal()), Now: r.o.Now, Sleep: r.o.Sleep})
	if err != nil {
		return nil, err
	}
	return &poller{r: r, e: e, h: h, list: f.list}, nil
}

// giteaRef is a branch or tag as Gitea lists it.
type giteaRef struct {
	Name   string `json:"name"`
	Commit struct {
		ID  string `json:"id"`  // branches
		SHA string `json:"sha"` // tags
	} `json:"commit"`
}

func listGitea(ctx context.Context, p *poller, t hooks.Target, kind string) ([]head, error) {
	o, n, err := hookhttp.SplitRepo(p.e.Provider, t)
	if err != nil {
		return nil, err
	}
	refs, err := hookhttp.ListPages[giteaRef](ctx, p.h, hookhttp.Call{Op: "list " + kind + " of " + t.String(), Method: http.MethodGet,
		Path: "/repos/" + o + "/" + n + "/" + kind, Permission: "a token that can read the repository (Gitea scope read:repository)"},
		hookhttp.Pages{Page: "page", Size: "limit", PerPage: 50})
	out := make([]head, 0, len(refs))
	for _, r := range refs {
		out = append(out, head{Name: r.Name, SHA: cmpOr(r.Commit.ID, r.Commit.SHA)})
	}
	return out, err
}

// giteeRef is a branch or tag as Gitee's API v5 (and GitCode's) lists it.
type giteeRef struct {
	Name   string `json:"name"`
	Commit struct {
		SHA string `json:"sha"`
		ID  string `json:"id"`
	} `json:"commit"`
}

func listGitee(ctx context.Context, p *poller, t hooks.Target, kind string) ([]head, error) {
	o, n, err := hookhttp.SplitRepo(p.e.Provider, t)
	if err != nil {
		return nil, err
	}
	perm := "a token that can read the repository (Gitee OAuth scope projects; GitCode: read access to the repository)"
	refs, err := hookhttp.ListPages[giteeRef](ctx, p.h, hookhttp.Call{Op: "list " + kind + " of " + t.String(), Method: http.MethodGet,
		Path: "/repos/" + o + "/" + n + "/" + kind, Permission: perm}, hookhttp.Pages{Page: "page", Size: "per_page", PerPage: 100})
	out := make([]head, 0, len(refs))
	for _, r := range refs {
		out = append(out, head{Name: r.Name, SHA: cmpOr(r.Commit.SHA, r.Commit.ID)})
	}
	return out, err
}

// bitbucketRefs is one page of Bitbucket Cloud's refs.
type bitbucketRefs struct {
	Next   string `json:"next"`
	Values []struct {
		Name   string `json:"name"`
		Target struct {
			Hash string `json:"hash"`
		} `json:"target"`
	} `json:"values"`
}

func listBitbucket(ctx context.Context, p *poller, t hooks.Target, kind string) ([]head, error) {
	w, s, err := hookhttp.SplitRepo(p.e.Provider, t)
	if err != nil {
		return nil, err
	}
	call := hookhttp.Call{Op: "list " + kind + " of " + t.String(), Method: http.MethodGet,
		Path: "/repositories/" + w + "/" + s + "/refs/" + kind, Query: url.Values{"pagelen": {"100"}},
		Permission: "a credential that can read the repository (repository access token or API token with scope read:repository:bitbucket)"}
	var out []head
	for n := 0; ; n++ {
		if n >= hookhttp.DefaultMaxPages {
			return out, fmt.Errorf("%s: %s: more than %d pages", p.e.Provider, call.Op, hookhttp.DefaultMaxPages)
		}
		var pg bitbucketRefs
		call.Out = &pg
		if _, err := p.h.Do(ctx, call); err != nil {
			return out, err
		}
		for _, v := range pg.Values {
			out = append(out, head{Name: v.Name, SHA: v.Target.Hash})
		}
		if pg.Next == "" || len(pg.Values) == 0 {
			return out, nil
		}
		call.Path, call.Query = pg.Next, nil
	}
}

// bitbucketServerRefs is one page of Bitbucket Data Center's branches or
// tags.
type bitbucketServerRefs struct {
	Values []struct {
		DisplayID    string `json:"displayId"`
		LatestCommit string `json:"latestCommit"`
	} `json:"values"`
	IsLastPage    bool `json:"isLastPage"`
	NextPageStart *int `json:"nextPageStart"`
}

func listBitbucketServer(ctx context.Context, p *poller, t hooks.Target, kind string) ([]head, error) {
	k, s, err := hookhttp.SplitRepo(p.e.Provider, t)
	if err != nil {
		return nil, err
	}
	call := hookhttp.Call{Op: "list " + kind + " of " + t.String(), Method: http.MethodGet,
		Path: "/projects/" + k + "/repos/" + s + "/" + kind, Permission: "REPO_READ on the repository (an HTTP access token with the Repository read permission)"}
	var out []head
	start := 0
	for n := 0; ; n++ {
		if n >= hookhttp.DefaultMaxPages {
			return out, fmt.Errorf("%s: %s: more than %d pages", p.e.Provider, call.Op, hookhttp.DefaultMaxPages)
		}
		var pg bitbucketServerRefs
		call.Out, call.Query = &pg, url.Values{"start": {strconv.Itoa(start)}, "limit": {"100"}}
		if _, err := p.h.Do(ctx, call); err != nil {
			return out, err
		}
		for _, v := range pg.Values {
			out = append(out, head{Name: v.DisplayID, SHA: v.LatestCommit})
		}
		if pg.IsLastPage || pg.NextPageStart == nil || *pg.NextPageStart <= start || len(pg.Values) == 0 {
			return out, nil
		}
		start = *pg.NextPageStart
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
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
	var items []Item
	for _, kind := range []string{"branches", "tags"} {
		refs, err := p.list(ctx, p, t, kind)
		if err != nil {
			return items, err
		}
		prefix := "refs/heads/"
		if kind == "tags" {
			prefix = "refs/tags/"
		}
		for _, ref := range refs {
			if ref.Name == "" || ref.SHA == "" {
				continue
			}
			full := prefix + ref.Name
			key := HeadKey(p.e.Name, t.Name, full)
			before, seen, err := p.r.o.State.Get(ctx, key)
			if err != nil {
				return items, fmt.Errorf("read last head of %s: %w", full, err)
			}
			if seen && before == ref.SHA {
				continue
			}
			if !seen {
				if run {
					if err := p.r.o.State.Put(ctx, key, ref.SHA); err != nil {
						return items, fmt.Errorf("record head of %s: %w", full, err)
					}
				}
				continue
			}
			it := Item{Endpoint: p.e.Name, Forge: p.e.Provider, Target: t.String(), Mode: ModePoll, ID: full, Key: ref.SHA,
				Event: "push", At: p.r.o.Now().UTC(), Status: StatusMissing}
			if run {
				p.emit(ctx, t.Name, full, before, ref.SHA, &it)
				if it.Status != StatusFailed {
					if err := p.r.o.State.Put(ctx, key, ref.SHA); err != nil {
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
