package recovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/forgehook/forgehook/internal/hooks"
	"github.com/forgehook/forgehook/internal/hooks/hookhttp"
)

// ghClient recovers the deliveries of GitHub repository and organization
// hooks. API: https://docs.github.com/rest/repos/webhooks (list
// deliveries, get a delivery, redeliver) and
// https://docs.github.com/rest/orgs/webhooks; the recovery procedure:
// https://docs.github.com/webhooks/using-webhooks/handling-failed-webhook-deliveries.
type ghClient struct {
	r *Recoverer
	e Endpoint
	h *hookhttp.Client
}

func (r *Recoverer) github(e Endpoint) (*ghClient, error) {
	base := e.APIURL
	if base == "" {
		base = "https://api.github.com"
	}
	h, err := hookhttp.New(hookhttp.Config{
		Forge: "github", Base: base, HTTP: r.o.HTTP, Logger: r.o.Logger,
		Auth: hookhttp.TokenAuth("Bearer", e.Token.Reveal()),
		Header: http.Header{
			"Accept":               {"application/vnd.github+json"},
			"X-Github-Api-Version": {"2022-11-28"},
		},
		Now: r.o.Now, Sleep: r.o.Sleep,
	})
	if err != nil {
		return nil, err
	}
	return &ghClient{r: r, e: e, h: h}, nil
}

// ghDelivery is one attempt in GitHub's list of a hook's deliveries.
type ghDelivery struct {
	ID          int64     `json:"id"`
	GUID        string    `json:"guid"`
	DeliveredAt time.Time `json:"delivered_at"`
	Redelivery  bool      `json:"redelivery"`
	Status      string    `json:"status"`
	StatusCode  int       `json:"status_code"`
	Event       string    `json:"event"`
	Action      *string   `json:"action"`
}

// ok reports whether the attempt was answered 2xx.
func (d ghDelivery) ok() bool { return d.StatusCode >= 200 && d.StatusCode < 300 }

// ghPermission names what a call needs.
func ghPermission(t hooks.Target, write bool) string {
	level := "read"
	if write {
		level = "write"
	}
	if t.Kind == hooks.TargetOrg {
		return fmt.Sprintf(`an organization owner's token: fine-grained with organization permission "Webhooks" (%s), or classic with scope admin:org_hook`, level)
	}
	return fmt.Sprintf(`a repository administrator's token: fine-grained with repository permission "Webhooks" (%s), or classic with scope admin:repo_hook`, level)
}

// ghHookPath returns the path of a hook.
func ghHookPath(t hooks.Target, id string) (string, error) {
	if _, err := strconv.ParseInt(id, 10, 64); err != nil {
		return "", fmt.Errorf("github: hook id %q on %s: want a number", id, t)
	}
	switch t.Kind {
	case hooks.TargetRepo:
		o, n, err := hookhttp.SplitRepo("github", t)
		if err != nil {
			return "", err
		}
		return "/repos/" + o + "/" + n + "/hooks/" + id, nil
	case hooks.TargetOrg:
		org, err := hookhttp.Segment("github", t)
		if err != nil {
			return "", err
		}
		return "/orgs/" + org + "/hooks/" + id, nil
	}
	return "", hookhttp.Unsupported("github", "target kind "+t.Kind)
}

// deliveries lists a hook's deliveries newer than since, following the
// cursor in the Link header, newest first, and stops at the first page
// that reaches past since.
func (g *ghClient) deliveries(ctx context.Context, t hooks.Target, path string, since time.Time) ([]ghDelivery, error) {
	call := hookhttp.Call{Op: "list deliveries of hook on " + t.String(), Method: http.MethodGet, Path: path + "/deliveries",
		Query: url.Values{"per_page": {"100"}}, Permission: ghPermission(t, false), HiddenAs404: true}
	var all []ghDelivery
	for page := 1; ; page++ {
		if page > hookhttp.DefaultMaxPages {
			return nil, fmt.Errorf("github: %s: more than %d pages", call.Op, hookhttp.DefaultMaxPages)
		}
		var items []ghDelivery
		call.Out = &items
		resp, err := g.h.Do(ctx, call)
		if err != nil {
			return nil, err
		}
		older := false
		for _, d := range items {
			if d.DeliveredAt.Before(since) {
				older = true
				continue
			}
			all = append(all, d)
		}
		next, ok := hookhttp.NextLink(resp.Header)
		if !ok || older || len(items) == 0 {
			return all, nil
		}
		call.Path, call.Query = next, nil
	}
}

// ghGroup is the attempts of one guid.
type ghGroup struct {
	guid        string
	latest      ghDelivery
	attempts    int
	redelivered int
	ok          bool
}

// groupDeliveries groups attempts by guid, in the order of each guid's
// first appearance; latest is the newest attempt.
func groupDeliveries(ds []ghDelivery) []*ghGroup {
	by := map[string]*ghGroup{}
	var out []*ghGroup
	for _, d := range ds {
		if d.GUID == "" {
			continue
		}
		g := by[d.GUID]
		if g == nil {
			g = &ghGroup{guid: d.GUID, latest: d}
			by[d.GUID] = g
			out = append(out, g)
		}
		g.attempts++
		if d.Redelivery {
			g.redelivered++
		}
		if d.ok() {
			g.ok = true
		}
		if d.DeliveredAt.After(g.latest.DeliveredAt) {
			g.latest = d
		}
	}
	return out
}

// recover finds the hook's missing deliveries and, when run, recovers them.
func (g *ghClient) recover(ctx context.Context, t hooks.Target, id string, window time.Duration, run bool) ([]Item, HookState, error) {
	hs := HookState{Endpoint: g.e.Name, Forge: "github", Target: t.String(), HookID: id, State: hooks.HealthUnknown}
	path, err := ghHookPath(t, id)
	if err != nil {
		hs.Error = err.Error()
		return nil, hs, err
	}
	ds, err := g.deliveries(ctx, t, path, g.r.o.Now().Add(-window))
	if err != nil {
		hs.Error = err.Error()
		return nil, hs, err
	}
	groups := groupDeliveries(ds)
	var items []Item
	for _, gr := range groups {
		if gr.ok {
			continue
		}
		known, err := g.r.o.Known.HasKey(ctx, g.e.Name, gr.guid)
		if err != nil {
			return items, hs, fmt.Errorf("dedup lookup of %s: %w", gr.guid, err)
		}
		if known {
			// Stored already (the forge saw a failure, say a timeout,
			// after forgehook had stored it).
			continue
		}
		it := Item{Endpoint: g.e.Name, Forge: "github", Target: t.String(), HookID: id, Mode: g.e.Mode,
			ID: strconv.FormatInt(gr.latest.ID, 10), Key: gr.guid, Event: gr.latest.Event, At: gr.latest.DeliveredAt,
			Attempts: gr.attempts, Status: StatusMissing}
		if gr.latest.Action != nil {
			it.Action = *gr.latest.Action
		}
		if run {
			if gr.redelivered >= MaxRedeliveries && g.e.Mode == ModeRedeliver {
				it.Status = StatusGivenUp
				it.Error = fmt.Sprintf("redelivered %d times without success", gr.redelivered)
			} else {
				g.act(ctx, t, path, &it)
			}
		}
		items = append(items, it)
	}
	if len(groups) > 0 {
		latest := slices.MaxFunc(ds, func(a, b ghDelivery) int { return a.DeliveredAt.Compare(b.DeliveredAt) })
		hs.State = hooks.HealthOK
		if !latest.ok() {
			hs.State = hooks.HealthFailing
		}
	}
	return items, hs, nil
}

// act recovers one delivery by redelivering it or by fetching and
// ingesting it.
func (g *ghClient) act(ctx context.Context, t hooks.Target, path string, it *Item) {
	switch g.e.Mode {
	case ModeRedeliver:
		_, err := g.h.Do(ctx, hookhttp.Call{Op: "redeliver delivery " + it.ID + " of hook on " + t.String(), Method: http.MethodPost,
			Path: path + "/deliveries/" + it.ID + "/attempts", Permission: ghPermission(t, true), HiddenAs404: true})
		if err != nil {
			it.Status, it.Error = StatusFailed, err.Error()
			return
		}
		it.Status = StatusRecovered
	case ModeFetch:
		var d ghFull
		_, err := g.h.Do(ctx, hookhttp.Call{Op: "get delivery " + it.ID + " of hook on " + t.String(), Method: http.MethodGet,
			Path: path + "/deliveries/" + it.ID, Out: &d, Permission: ghPermission(t, false), HiddenAs404: true})
		if err != nil {
			it.Status, it.Error = StatusFailed, err.Error()
			return
		}
		header, payload, err := d.request()
		if err != nil {
			it.Status, it.Error = StatusFailed, err.Error()
			return
		}
		header.Set(HeaderRecovered, "github-fetch")
		res, err := g.r.o.Ingest.Inject(ctx, g.e.Name, header, payload, true)
		if err != nil {
			it.Status, it.Error = StatusFailed, err.Error()
			return
		}
		it.Status = StatusRecovered
		if res.Duplicate {
			it.Status = StatusDuplicate
		}
	default:
		it.Status, it.Error = StatusFailed, "mode "+g.e.Mode+" is not one GitHub recovery knows"
	}
}

// ghFull is a delivery with its request, as "get a delivery for a
// repository webhook" answers it.
type ghFull struct {
	GUID    string `json:"guid"`
	Event   string `json:"event"`
	Request struct {
		Headers map[string]string `json:"headers"`
		Payload json.RawMessage   `json:"payload"`
	} `json:"request"`
}

// errNoPayload: the fetched delivery carries no JSON object payload.
var errNoPayload = errors.New("github: the fetched delivery has no payload object")

// request returns the delivery's headers and payload. The payload is the
// JSON object GitHub's API returns, compacted: GitHub signed the bytes it
// sent, which the API does not return, so the payload is ingested as
// authenticated by the API call (trusted), not by its signature.
func (d ghFull) request() (http.Header, []byte, error) {
	p := d.Request.Payload
	if len(p) == 0 || p[0] != '{' {
		return nil, nil, errNoPayload
	}
	var buf []byte
	buf, err := compact(p)
	if err != nil {
		return nil, nil, fmt.Errorf("github: fetched payload: %w", err)
	}
	h := http.Header{}
	for k, v := range d.Request.Headers {
		h.Set(k, v)
	}
	if h.Get("X-GitHub-Delivery") == "" && d.GUID != "" {
		h.Set("X-GitHub-Delivery", d.GUID)
	}
	if h.Get("X-GitHub-Event") == "" && d.Event != "" {
		h.Set("X-GitHub-Event", d.Event)
	}
	h.Set("Content-Type", "application/json")
	return h, buf, nil
}
