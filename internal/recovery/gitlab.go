package recovery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/forgehook/forgehook/internal/hooks"
	"github.com/forgehook/forgehook/internal/hooks/hookhttp"
)

// glClient recovers the failed events of GitLab project and group hooks
// (GitLab 17.3+ lists them, 17.4+ sends Idempotency-Key). API:
// https://docs.gitlab.com/api/project_webhooks/ ("List webhook events",
// "Resend a webhook event", "Trigger a test project webhook") and
// https://docs.gitlab.com/api/group_webhooks/; auto-disabling:
// https://docs.gitlab.com/user/project/integrations/webhooks/#auto-disabled-webhooks.
type glClient struct {
	r *Recoverer
	e Endpoint
	h *hookhttp.Client
}

func (r *Recoverer) gitlab(e Endpoint) (*glClient, error) {
	base := e.APIURL
	if base == "" {
		base = "https://gitlab.com/api/v4"
	}
	h, err := hookhttp.New(hookhttp.Config{
		Forge: "gitlab", Base: base, HTTP: r.o.HTTP, Logger: r.o.Logger,
		Auth: hookhttp.HeaderAuth("PRIVATE-TOKEN", e.Token.Reveal()), Now: r.o.Now, Sleep: r.o.Sleep,
	})
	if err != nil {
		return nil, err
	}
	return &glClient{r: r, e: e, h: h}, nil
}

// glPermission names what the calls need.
func glPermission(t hooks.Target) string {
	if t.Kind == hooks.TargetGroup {
		return "a token with scope api of a user with the Owner role in the group"
	}
	return "a token with scope api of a user with the Maintainer role in the project"
}

// glHookPath returns the path of a hook.
func glHookPath(t hooks.Target, id string) (string, error) {
	if _, err := strconv.ParseInt(id, 10, 64); err != nil {
		return "", fmt.Errorf("gitlab: hook id %q on %s: want a number", id, t)
	}
	if t.Name == "" {
		return "", fmt.Errorf("gitlab: target %s: empty name", t)
	}
	switch t.Kind {
	case hooks.TargetProject, hooks.TargetRepo:
		return "/projects/" + url.PathEscape(t.Name) + "/hooks/" + id, nil
	case hooks.TargetGroup:
		return "/groups/" + url.PathEscape(t.Name) + "/hooks/" + id, nil
	}
	return "", hookhttp.Unsupported("gitlab", "target kind "+t.Kind)
}

// glHook is the part of GitLab's hook object recovery reads.
type glHook struct {
	ID            int64      `json:"id"`
	AlertStatus   string     `json:"alert_status"`
	DisabledUntil *time.Time `json:"disabled_until"`
}

// glEvent is one entry of a hook's events.
type glEvent struct {
	ID             int64             `json:"id"`
	Trigger        string            `json:"trigger"`
	ResponseStatus json.RawMessage   `json:"response_status"`
	RequestHeaders map[string]string `json:"request_headers"`
	CreatedAt      *time.Time        `json:"created_at"`
}

// key returns the event's dedup key as forgehook's gitlab provider takes
// it (Idempotency-Key, kept by GitLab across retries and resends), and
// false when GitLab sent none (before 17.4): then recovery cannot tell
// whether forgehook stored it and resends it; ingest's payload hash
// absorbs a repeat.
func (ev glEvent) key() (string, bool) {
	for k, v := range ev.RequestHeaders {
		if strings.EqualFold(k, "Idempotency-Key") && v != "" {
			return v, true
		}
	}
	return "", false
}

// recover lists the hook's failed events in the window, resends those not
// stored, and reports the hook's alert status.
func (g *glClient) recover(ctx context.Context, t hooks.Target, id string, window time.Duration, run, reenable bool) ([]Item, HookState, error) {
	hs := HookState{Endpoint: g.e.Name, Forge: "gitlab", Target: t.String(), HookID: id, State: hooks.HealthUnknown}
	path, err := glHookPath(t, id)
	if err != nil {
		hs.Error = err.Error()
		return nil, hs, err
	}
	var h glHook
	if _, err := g.h.Do(ctx, hookhttp.Call{Op: "get hook " + id + " on " + t.String(), Method: http.MethodGet, Path: path, Out: &h, Permission: glPermission(t)}); err != nil {
		hs.Error = err.Error()
		return nil, hs, err
	}
	hs.AlertStatus = h.AlertStatus
	if h.DisabledUntil != nil {
		hs.DisabledUntil = h.DisabledUntil.UTC()
	}
	switch h.AlertStatus {
	case "executable":
		hs.State = hooks.HealthOK
	case "temporarily_disabled":
		hs.State = hooks.HealthFailing
	case "disabled":
		hs.State = hooks.HealthDisabled
	}
	since := g.r.o.Now().Add(-window)
	var items []Item
	seen := map[string]bool{}
	for _, status := range []string{"server_failure", "client_failure"} {
		evs, err := hookhttp.ListPages[glEvent](ctx, g.h, hookhttp.Call{Op: "list " + status + " events of hook " + id + " on " + t.String(),
			Method: http.MethodGet, Path: path + "/events", Query: url.Values{"status": {status}}, Permission: glPermission(t)},
			hookhttp.Pages{Page: "page", Size: "per_page", PerPage: 20})
		if err != nil {
			hs.Error = err.Error()
			return items, hs, err
		}
		for _, ev := range evs {
			if ev.CreatedAt != nil && ev.CreatedAt.Before(since) {
				continue
			}
			key, hasKey := ev.key()
			if hasKey {
				if seen[key] {
					continue // another failed attempt of the same event
				}
				seen[key] = true
				known, err := g.r.o.Known.HasKey(ctx, g.e.Name, key)
				if err != nil {
					return items, hs, fmt.Errorf("dedup lookup of %s: %w", key, err)
				}
				if known {
					continue
				}
			}
			it := Item{Endpoint: g.e.Name, Forge: "gitlab", Target: t.String(), HookID: id, Mode: "resend",
				ID: strconv.FormatInt(ev.ID, 10), Key: key, Event: ev.Trigger, Attempts: 1, Status: StatusMissing}
			if ev.CreatedAt != nil {
				it.At = ev.CreatedAt.UTC()
			}
			if run {
				g.resend(ctx, t, path, &it)
			}
			items = append(items, it)
		}
	}
	if run && reenable && (h.AlertStatus == "disabled" || h.AlertStatus == "temporarily_disabled") {
		if err := g.reenable(ctx, t, path); err != nil {
			hs.Error = err.Error()
			return items, hs, err
		}
		hs.Reenabled = true
	}
	return items, hs, nil
}

// resend asks GitLab to send an event again, within the per-hook budget.
func (g *glClient) resend(ctx context.Context, t hooks.Target, path string, it *Item) {
	if err := g.r.take(ctx, g.e.Name+"\x00"+t.String()+"\x00"+it.HookID); err != nil {
		it.Status, it.Error = StatusFailed, err.Error()
		return
	}
	defer g.r.spent(g.e.Name + "\x00" + t.String() + "\x00" + it.HookID)
	_, err := g.h.Do(ctx, hookhttp.Call{Op: "resend event " + it.ID + " of hook " + it.HookID + " on " + t.String(), Method: http.MethodPost,
		Path: path + "/events/" + it.ID + "/resend", Permission: glPermission(t)})
	if err != nil {
		it.Status, it.Error = StatusFailed, err.Error()
		return
	}
	it.Status = StatusRecovered
}

// glBranch is the part of a branch object read for the test expectation.
type glBranch struct {
	Commit struct {
		ID string `json:"id"`
	} `json:"commit"`
}

// reenable sends GitLab's test push event, which re-enables a disabled
// hook once answered 2xx. The test event looks like an ordinary push of
// the default branch's head: recovery first records that expectation
// (TestKey) in the shared state, and ingest, finding it, stores nothing,
// fires no trigger, answers it as a ping and clears it.
func (g *glClient) reenable(ctx context.Context, t hooks.Target, path string) error {
	if t.Kind == hooks.TargetGroup {
		return fmt.Errorf("gitlab: re-enable a group hook: %w: GitLab's API has no test call for group hooks; use its UI", hooks.ErrUnsupported)
	}
	var proj struct {
		DefaultBranch string `json:"default_branch"`
	}
	pp := "/projects/" + url.PathEscape(t.Name)
	if _, err := g.h.Do(ctx, hookhttp.Call{Op: "get project " + t.Name, Method: http.MethodGet, Path: pp, Out: &proj, Permission: glPermission(t)}); err != nil {
		return err
	}
	if proj.DefaultBranch == "" {
		return fmt.Errorf("gitlab: project %s has no default branch: GitLab's test push would be its sample data", t.Name)
	}
	var br glBranch
	if _, err := g.h.Do(ctx, hookhttp.Call{Op: "get branch " + proj.DefaultBranch + " of " + t.Name, Method: http.MethodGet,
		Path: pp + "/repository/branches/" + url.PathEscape(proj.DefaultBranch), Out: &br, Permission: glPermission(t)}); err != nil {
		return err
	}
	exp := Expectation{Ref: "refs/heads/" + proj.DefaultBranch, After: br.Commit.ID, Until: g.r.o.Now().Add(TestTTL).UTC()}
	b, _ := json.Marshal(exp)
	if err := g.r.o.State.Put(ctx, TestKey(g.e.Name), string(b)); err != nil {
		return fmt.Errorf("gitlab: record the expected test event: %w", err)
	}
	if _, err := g.h.Do(ctx, hookhttp.Call{Op: "test hook on " + t.String(), Method: http.MethodPost, Path: path + "/test/push_events", Permission: glPermission(t)}); err != nil {
		return err
	}
	return nil
}

// TestTTL is how long an expected test event is waited for.
const TestTTL = 5 * time.Minute

// Expectation is a test event recovery asked GitLab for: a push of Ref to
// After, on the endpoint, before Until.
type Expectation struct {
	Ref   string    `json:"ref"`
	After string    `json:"after"`
	Until time.Time `json:"until"`
}

// TestKey is the State key of an endpoint's expected test event.
func TestKey(endpoint string) string {
	s := sha256.Sum256([]byte(endpoint))
	return "test." + hex.EncodeToString(s[:16])
}

// Matches reports whether a push of ref to after at now is the expected
// test event.
func (e Expectation) Matches(ref, after string, now time.Time) bool {
	return e.After != "" && e.Ref == ref && e.After == after && now.Before(e.Until)
}

// bucket is a per-hook rate limit: tat is the earliest time of the next
// call. Calls are spaced 60s/ResendPerMinute apart, without a burst, so
// that no minute, however aligned (GitLab counts in fixed windows), holds
// more than ResendPerMinute.
type bucket struct {
	tat time.Time
}

// take waits for the named bucket (one per hook) to allow a call.
func (r *Recoverer) take(ctx context.Context, name string) error {
	per := time.Minute / time.Duration(r.o.ResendPerMinute)
	for {
		r.bmu.Lock()
		b := r.buckets[name]
		if b == nil {
			b = &bucket{}
			r.buckets[name] = b
		}
		now := r.o.Now()
		tat := b.tat
		if tat.Before(now) {
			tat = now
		}
		wait := tat.Sub(now)
		if wait <= 0 {
			b.tat = tat.Add(per)
			r.bmu.Unlock()
			return nil
		}
		r.bmu.Unlock()
		if err := r.o.Sleep(ctx, wait); err != nil {
			return fmt.Errorf("gitlab: waiting for the resend budget (%d a minute per hook): %w", r.o.ResendPerMinute, err)
		}
	}
}

// spent restarts the named bucket's spacing from now: a call retried after
// a 429 (within hookhttp) went out later than take allowed it.
func (r *Recoverer) spent(name string) {
	per := time.Minute / time.Duration(r.o.ResendPerMinute)
	r.bmu.Lock()
	defer r.bmu.Unlock()
	if b := r.buckets[name]; b != nil {
		if next := r.o.Now().Add(per); next.After(b.tat) {
			b.tat = next
		}
	}
}

// ExpectedTests answers ingest's question (ingest.Tests) from the shared
// State: is this push the GitLab test event recovery asked for?
type ExpectedTests struct {
	State State
}

// ConsumeTest reports whether a push of ref to after on endpoint at now is
// the expected test event, and if so deletes the expectation (one test,
// one match).
func (x ExpectedTests) ConsumeTest(ctx context.Context, endpoint, ref, after string, now time.Time) (bool, error) {
	v, ok, err := x.State.Get(ctx, TestKey(endpoint))
	if err != nil || !ok {
		return false, err
	}
	var e Expectation
	if json.Unmarshal([]byte(v), &e) != nil || !e.Matches(ref, after, now) {
		return false, nil
	}
	if err := x.State.Delete(ctx, TestKey(endpoint)); err != nil {
		return false, err
	}
	return true, nil
}
