package reconcile

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/hooks"
	"github.com/forgehook/forgehook/internal/store"
)

// fakeForge is a forge's hooks in memory, with the calls counted.
type fakeForge struct {
	mu      sync.Mutex
	next    int
	hooks   map[hooks.Target][]fakeHook
	calls   map[string]int
	denyAll bool // every call answers 403
	denyLst bool // List answers 403
}

type fakeHook struct {
	hooks.Hook
	secret string
}

func newFakeForge() *fakeForge {
	return &fakeForge{next: 1, hooks: map[hooks.Target][]fakeHook{}, calls: map[string]int{}}
}

func (f *fakeForge) deny(op string) error {
	return &hooks.APIError{Forge: "gitea", Op: op, Status: http.StatusForbidden, Permission: "write:repository and repository admin"}
}

func (f *fakeForge) Events(kinds []string) ([]string, error) {
	var out []string
	for _, k := range kinds {
		switch k {
		case "push", "tag", "pull_request":
		default:
			return nil, fmt.Errorf("unknown event %q", k)
		}
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out, nil
}

func (f *fakeForge) List(ctx context.Context, t hooks.Target) ([]hooks.Hook, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["list"]++
	if f.denyAll || f.denyLst {
		return nil, f.deny("list hooks")
	}
	var out []hooks.Hook
	for _, h := range f.hooks[t] {
		out = append(out, h.Hook)
	}
	return out, nil
}

func (f *fakeForge) find(t hooks.Target, id string) int {
	return slices.IndexFunc(f.hooks[t], func(h fakeHook) bool { return h.ID == id })
}

func (f *fakeForge) Get(ctx context.Context, t hooks.Target, id string) (hooks.Hook, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["get"]++
	if f.denyAll {
		return hooks.Hook{}, f.deny("get hook")
	}
	i := f.find(t, id)
	if i < 0 {
		return hooks.Hook{}, &hooks.APIError{Forge: "gitea", Op: "get", Status: 404}
	}
	return f.hooks[t][i].Hook, nil
}

func (f *fakeForge) Create(ctx context.Context, t hooks.Target, s hooks.Spec) (hooks.Hook, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["create"]++
	if f.denyAll {
		return hooks.Hook{}, f.deny("create hook")
	}
	h := fakeHook{Hook: hooks.Hook{ID: strconv.Itoa(f.next), URL: s.URL, Events: s.Events, Active: s.Active, Health: hooks.Health{State: hooks.HealthOK}}, secret: s.Secret}
	f.next++
	f.hooks[t] = append(f.hooks[t], h)
	return h.Hook, nil
}

func (f *fakeForge) Update(ctx context.Context, t hooks.Target, id string, s hooks.Spec) (hooks.Hook, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["update"]++
	if f.denyAll {
		return hooks.Hook{}, f.deny("update hook")
	}
	i := f.find(t, id)
	if i < 0 {
		return hooks.Hook{}, &hooks.APIError{Forge: "gitea", Op: "update", Status: 404}
	}
	h := &f.hooks[t][i]
	h.URL, h.Events, h.Active, h.secret = s.URL, s.Events, s.Active, s.Secret
	return h.Hook, nil
}

func (f *fakeForge) Delete(ctx context.Context, t hooks.Target, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["delete"]++
	if f.denyAll {
		return f.deny("delete hook")
	}
	i := f.find(t, id)
	if i < 0 {
		return &hooks.APIError{Forge: "gitea", Op: "delete", Status: 404}
	}
	f.hooks[t] = slices.Delete(f.hooks[t], i, i+1)
	return nil
}

func (f *fakeForge) Ping(ctx context.Context, t hooks.Target, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["ping"]++
	return nil
}

// add puts a hook made by someone else on the forge.
func (f *fakeForge) add(t hooks.Target, url string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := strconv.Itoa(f.next)
	f.next++
	f.hooks[t] = append(f.hooks[t], fakeHook{Hook: hooks.Hook{ID: id, URL: url, Events: []string{"push"}, Active: true}})
	return id
}

func (f *fakeForge) writes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls["create"] + f.calls["update"] + f.calls["delete"]
}

// memRecords is the store's records in memory.
type memRecords struct {
	mu   sync.Mutex
	recs map[string]store.HookRecord
}

func (m *memRecords) HookRecords(ctx context.Context) ([]store.HookRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.HookRecord
	for _, r := range m.recs {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b store.HookRecord) int {
		return strings.Compare(a.Endpoint+a.TargetName, b.Endpoint+b.TargetName)
	})
	return out, nil
}

func (m *memRecords) PutHookRecord(ctx context.Context, r store.HookRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs[r.Endpoint+"|"+r.TargetKind+"|"+r.TargetName] = r
	return nil
}

func (m *memRecords) DeleteHookRecord(ctx context.Context, endpoint, kind, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.recs, endpoint+"|"+kind+"|"+name)
	return nil
}

func (m *memRecords) Fingerprinter(ctx context.Context) (func(string) string, error) {
	return func(s string) string {
		h := hmac.New(sha256.New, []byte("k"))
		h.Write([]byte(s))
		return hex.EncodeToString(h.Sum(nil)[:8])
	}, nil
}

var repo = hooks.Target{Kind: "repo", Name: "acme/app"}

type fixture struct {
	forge *fakeForge
	recs  *memRecords
	eps   []Endpoint
	now   time.Time
	r     *Reconciler
}

func newFixture() *fixture {
	fx := &fixture{forge: newFakeForge(), recs: &memRecords{recs: map[string]store.HookRecord{}}, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	fx.eps = []Endpoint{{
		Name: "ep", Provider: "fake", APIURL: "http://forge/api/v1", Token: "tok",
		URL: "https://hooks.example.com/hooks/ep", DisplayURL: "https://hooks.example.com/hooks/ep",
		Targets: []hooks.Target{repo}, Events: []string{"push"}, Active: true, Secrets: []config.Secret{"one"},
	}}
	fx.r = &Reconciler{
		Endpoints: func() []Endpoint { return fx.eps },
		Records:   fx.recs,
		NewClient: func(string, hooks.Options) (hooks.Client, error) { return fx.forge, nil },
		Now:       func() time.Time { return fx.now },
	}
	return fx
}

// oneOf returns a function that checks a plan has one change and returns it.
func oneOf(t *testing.T) func(p Plan, err error) Change {
	return func(p Plan, err error) Change {
		t.Helper()
		return one(t, p, err)
	}
}

func one(t *testing.T, p Plan, err error) Change {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 1 {
		t.Fatalf("plan has %d changes, want 1: %+v", len(p.Changes), p.Changes)
	}
	return p.Changes[0]
}

func TestReconcileCreateThenInSync(t *testing.T) {
	fx := newFixture()
	ctx := context.Background()
	c := oneOf(t)(fx.r.Plan(ctx, Request{}))
	if c.Action != ActCreate || fx.forge.writes() != 0 {
		t.Fatalf("plan: %+v, writes %d", c, fx.forge.writes())
	}
	p, err := fx.r.Apply(ctx, Request{})
	c = one(t, p, err)
	if c.Done != "created" || c.HookID == "" || !c.Pinged || p.Pending != 0 || p.Errors != 0 {
		t.Fatalf("apply: %+v (%d pending)", c, p.Pending)
	}
	if n := len(fx.forge.hooks[repo]); n != 1 || fx.forge.hooks[repo][0].secret != "one" {
		t.Fatalf("forge has %d hooks: %+v", n, fx.forge.hooks[repo])
	}
	rec := fx.recs.recs["ep|repo|acme/app"]
	if rec.HookID != c.HookID || rec.SecretFingerprint == "" || strings.Contains(rec.SecretFingerprint, "one") {
		t.Fatalf("record %+v", rec)
	}
	p, err = fx.r.Plan(ctx, Request{})
	if c = one(t, p, err); c.Action != ActInSync || p.Pending != 0 {
		t.Fatalf("second plan: %+v", c)
	}
	w := fx.forge.writes()
	if c = oneOf(t)(fx.r.Apply(ctx, Request{})); c.Done != "unchanged" || fx.forge.writes() != w {
		t.Fatalf("second apply changed something: %+v", c)
	}
}

func TestReconcileUpdateInPlace(t *testing.T) {
	fx := newFixture()
	ctx := context.Background()
	first := oneOf(t)(fx.r.Apply(ctx, Request{}))
	fx.eps[0].Events = []string{"push", "tag"}
	fx.eps[0].Active = false
	c := oneOf(t)(fx.r.Plan(ctx, Request{}))
	if c.Action != ActUpdate || !slices.Equal(c.Fields, []string{"events", "active"}) {
		t.Fatalf("plan: %+v", c)
	}
	c = oneOf(t)(fx.r.Apply(ctx, Request{}))
	if c.Done != "updated" || c.HookID != first.HookID || len(fx.forge.hooks[repo]) != 1 || fx.forge.calls["delete"] != 0 {
		t.Fatalf("apply: %+v; forge %+v", c, fx.forge.hooks[repo])
	}
	if h := fx.forge.hooks[repo][0]; !slices.Equal(h.Events, []string{"push", "tag"}) || h.Active {
		t.Fatalf("hook not changed: %+v", h)
	}
}

func TestReconcileRotation(t *testing.T) {
	fx := newFixture()
	ctx := context.Background()
	oneOf(t)(fx.r.Apply(ctx, Request{}))
	old := fx.recs.recs["ep|repo|acme/app"].SecretFingerprint
	fx.eps[0].Secrets = []config.Secret{"two", "one"}
	c := oneOf(t)(fx.r.Plan(ctx, Request{}))
	if c.Action != ActUpdate || !slices.Equal(c.Fields, []string{"secret"}) {
		t.Fatalf("plan: %+v", c)
	}
	p, err := fx.r.Rotate(ctx, Request{Grace: "1h"})
	if c = one(t, p, err); c.Done != "rotated" || fx.forge.hooks[repo][0].secret != "two" {
		t.Fatalf("rotate: %+v, secret on forge %q", c, fx.forge.hooks[repo][0].secret)
	}
	rec := fx.recs.recs["ep|repo|acme/app"]
	if rec.PreviousSecretFingerprint != old || !rec.GraceUntil.Equal(fx.now.Add(time.Hour)) {
		t.Fatalf("record %+v", rec)
	}
	c = oneOf(t)(fx.r.Plan(ctx, Request{}))
	if c.Action != ActInSync || len(c.Notes) != 1 || !strings.Contains(c.Notes[0], "keep secrets[1]") {
		t.Fatalf("plan in grace: %+v", c)
	}
	fx.now = fx.now.Add(2 * time.Hour)
	c = oneOf(t)(fx.r.Plan(ctx, Request{}))
	if len(c.Notes) != 1 || !strings.Contains(c.Notes[0], "remove secrets[1]") {
		t.Fatalf("plan after grace: %+v", c)
	}
	// Once the old secret is gone from the configuration, nothing more to say.
	fx.eps[0].Secrets = []config.Secret{"two"}
	if c = oneOf(t)(fx.r.Plan(ctx, Request{})); len(c.Notes) != 0 || c.Action != ActInSync {
		t.Fatalf("plan after removal: %+v", c)
	}
	// Rotating again with the same first secret changes nothing.
	w := fx.forge.writes()
	if c = oneOf(t)(fx.r.Rotate(ctx, Request{})); c.Done != "unchanged" || fx.forge.writes() != w {
		t.Fatalf("second rotate: %+v", c)
	}
}

func TestReconcileForeignHookNeverTouched(t *testing.T) {
	fx := newFixture()
	ctx := context.Background()
	foreign := fx.forge.add(repo, fx.eps[0].URL)
	other := fx.forge.add(repo, "https://hooks.example.com/hooks/other-tool") // same host
	c := oneOf(t)(fx.r.Plan(ctx, Request{}))
	if c.Action != ActForeign || !slices.Equal(c.Foreign, []string{foreign}) || !strings.Contains(strings.Join(c.Notes, " "), "adopt") {
		t.Fatalf("plan: %+v", c)
	}
	if c = oneOf(t)(fx.r.Apply(ctx, Request{})); c.Done != "" || fx.forge.writes() != 0 {
		t.Fatalf("apply touched a foreign hook: %+v, writes %d", c, fx.forge.writes())
	}
	p, err := fx.r.Adopt(ctx, Request{Endpoint: "ep"})
	if c = one(t, p, err); c.Done != "adopted" || c.HookID != foreign || fx.forge.writes() != 0 {
		t.Fatalf("adopt: %+v", c)
	}
	// Its secret is unknown: apply pushes it, in place.
	c = oneOf(t)(fx.r.Plan(ctx, Request{}))
	if c.Action != ActUpdate || !slices.Contains(c.Fields, "secret") || c.HookID != foreign {
		t.Fatalf("plan after adopt: %+v", c)
	}
	oneOf(t)(fx.r.Apply(ctx, Request{}))
	// Prune after the target leaves: only ours goes, the other tool's stays.
	fx.eps[0].Targets = []hooks.Target{{Kind: "repo", Name: "acme/other"}}
	p, err = fx.r.Prune(ctx, Request{})
	if err != nil || len(p.Changes) != 1 || p.Changes[0].Done != "deleted" || p.Changes[0].HookID != foreign {
		t.Fatalf("prune: %+v %v", p, err)
	}
	if hs := fx.forge.hooks[repo]; len(hs) != 1 || hs[0].ID != other {
		t.Fatalf("forge after prune: %+v", hs)
	}
	if len(fx.recs.recs) != 0 {
		t.Fatalf("records after prune: %+v", fx.recs.recs)
	}
}

func TestReconcileRecordedHookGone(t *testing.T) {
	fx := newFixture()
	ctx := context.Background()
	c := oneOf(t)(fx.r.Apply(ctx, Request{}))
	_ = fx.forge.Delete(ctx, repo, c.HookID)
	c = oneOf(t)(fx.r.Plan(ctx, Request{}))
	if c.Action != ActCreate || !strings.Contains(strings.Join(c.Notes, " "), "gone") {
		t.Fatalf("plan: %+v", c)
	}
}

func TestReconcilePermissionDenied(t *testing.T) {
	fx := newFixture()
	ctx := context.Background()
	fx.forge.denyAll = true
	p, err := fx.r.Plan(ctx, Request{})
	c := one(t, p, err)
	if c.Action != ActCannotList || !strings.Contains(strings.Join(c.Notes, " "), "needs write:repository") {
		t.Fatalf("plan: %+v", c)
	}
	p, err = fx.r.Apply(ctx, Request{})
	c = one(t, p, err)
	if p.Errors != 1 || !strings.Contains(c.Error, "needs write:repository") || c.Done != "" || len(fx.recs.recs) != 0 {
		t.Fatalf("apply: %+v", c)
	}
	// With a record, a forge that refuses to list is read by id.
	fx.forge.denyAll = false
	c = oneOf(t)(fx.r.Apply(ctx, Request{}))
	fx.forge.denyLst = true
	if c = oneOf(t)(fx.r.Plan(ctx, Request{})); c.Action != ActInSync {
		t.Fatalf("plan by id: %+v", c)
	}
}

func TestReconcileListenOnlyMakesNoClient(t *testing.T) {
	c := &config.Config{PublicURL: "https://h", Endpoints: []config.Endpoint{{Name: "a", Provider: "gitea", Secrets: []config.Secret{"x"}}}}
	if eps := FromConfig(c); len(eps) != 0 {
		t.Fatalf("listen-only endpoint is managed: %+v", eps)
	}
	c.Endpoints[0].Key = "0123456789abcdefXYZ"
	c.Endpoints[0].Manage = &config.Manage{Token: "t", Targets: []config.HookTarget{{Org: "acme"}}}
	eps := FromConfig(c)
	if len(eps) != 1 || eps[0].URL != "https://h/hooks/0123456789abcdefXYZ" || strings.Contains(eps[0].DisplayURL, "XYZ") || !eps[0].Active || eps[0].Events[0] != "push" {
		t.Fatalf("managed endpoint: %+v", eps)
	}
	made := 0
	r := &Reconciler{Endpoints: func() []Endpoint { return nil }, Records: &memRecords{recs: map[string]store.HookRecord{}},
		NewClient: func(string, hooks.Options) (hooks.Client, error) { made++; return nil, nil }}
	if p, err := r.Plan(context.Background(), Request{}); err != nil || len(p.Changes) != 0 || made != 0 {
		t.Fatalf("plan without managed endpoints: %+v %v, %d clients", p, err, made)
	}
}

// TestReconcileSecretReplacedWhereNotEditable: on a forge whose API cannot
// change a secret in place (Gitea), a new secret creates the new hook first,
// records it, then deletes the old one; other changes stay in place.
func TestReconcileSecretReplacedWhereNotEditable(t *testing.T) {
	fx := newFixture()
	fx.eps[0].Provider = "gitea"
	ctx := context.Background()
	first := oneOf(t)(fx.r.Apply(ctx, Request{}))
	fx.eps[0].Events = []string{"push", "tag"}
	if c := oneOf(t)(fx.r.Apply(ctx, Request{})); c.HookID != first.HookID || fx.forge.calls["delete"] != 0 {
		t.Fatalf("events change not in place: %+v", c)
	}
	fx.eps[0].Secrets = []config.Secret{"two", "one"}
	c := oneOf(t)(fx.r.Plan(ctx, Request{}))
	if !strings.Contains(strings.Join(c.Notes, " "), "cannot change a hook's secret in place") {
		t.Fatalf("plan does not say the hook is replaced: %+v", c)
	}
	c = oneOf(t)(fx.r.Rotate(ctx, Request{}))
	hs := fx.forge.hooks[repo]
	if c.Done != "rotated" || c.HookID == first.HookID || len(hs) != 1 || hs[0].ID != c.HookID || hs[0].secret != "two" {
		t.Fatalf("rotate: %+v; forge %+v", c, hs)
	}
	if rec := fx.recs.recs["ep|repo|acme/app"]; rec.HookID != c.HookID || rec.PreviousSecretFingerprint == "" {
		t.Fatalf("record %+v", rec)
	}
	if c = oneOf(t)(fx.r.Plan(ctx, Request{})); c.Action != ActInSync {
		t.Fatalf("plan after replace: %+v", c)
	}
}
