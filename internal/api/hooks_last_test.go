package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/hooks/reconcile"
	"github.com/forgehook/forgehook/internal/store"
)

// listedHooks answers List with fixed owned hooks.
type listedHooks struct {
	fakeHooks
	l []reconcile.Listed
}

func (f *listedHooks) List(_ context.Context, _ reconcile.Request) ([]reconcile.Listed, error) {
	return slices.Clone(f.l), nil
}

// TestAdminHooksListLastDelivery: each owned hook shows the newest stored
// event of its endpoint that carries its id (GitHub's X-GitHub-Hook-ID,
// Bitbucket Cloud's X-Hook-UUID, braces and case aside), found within the
// newest LastDeliveryScan events; a hook beyond that, or on a forge that
// names no hook, shows none.
func TestAdminHooksListLastDelivery(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	add := func(ep, forge, id, header string, sec int) {
		t.Helper()
		h := "{}"
		if header != "" {
			h = header
		}
		rec := fmt.Sprintf(`{"specversion":"1.0","id":%q,"time":"2026-12-07T10:%02d:%02dZ","endpoint":%q,"forge":%q,"forgeevent":"push","data":{"header":%s,"body":{},"normalized":{"kind":"push"}}}`,
			id, sec/60, sec%60, ep, forge, h)
		if _, err := st.Append(ctx, ep, store.Subject(ep, forge, "push"), id, id, []byte(rec)); err != nil {
			t.Fatal(err)
		}
	}
	// gh: hook 11 sent ev-1 then ev-3; hook 22 sent ev-2; hook 33 sent one
	// event buried under more than LastDeliveryScan of hook 11's.
	add("gh", "github", "old-33", `{"X-Github-Hook-Id":["33"]}`, 0)
	add("gh", "github", "ev-1", `{"X-Github-Hook-Id":["11"]}`, 1)
	add("gh", "github", "ev-2", `{"X-Github-Hook-Id":["22"],"X-Github-Delivery":["d-2"]}`, 2)
	add("gh", "github", "ev-3", `{"X-Github-Hook-Id":["11"]}`, 3)
	add("bb", "bitbucket", "bb-1", `{"X-Hook-Uuid":["E664570C-4736-5AF1-9836-4A8555D4E290"]}`, 4)
	add("gt", "gitea", "gt-1", `{"X-Gitea-Delivery":["x"]}`, 5)
	s := &Server{Events: st, Hooks: &listedHooks{l: []reconcile.Listed{
		{HookRecord: store.HookRecord{Endpoint: "gh", Forge: "github", HookID: "11"}},
		{HookRecord: store.HookRecord{Endpoint: "gh", Forge: "github", HookID: "22"}},
		{HookRecord: store.HookRecord{Endpoint: "gh", Forge: "github", HookID: "44"}},
		{HookRecord: store.HookRecord{Endpoint: "gh", Forge: "github", HookID: "33"}},
		{HookRecord: store.HookRecord{Endpoint: "bb", Forge: "bitbucket", HookID: "{e664570c-4736-5af1-9836-4a8555d4e290}"}},
		{HookRecord: store.HookRecord{Endpoint: "gt", Forge: "gitea", HookID: "5"}},
	}}}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	list := func() map[string]*reconcile.LastDelivery {
		t.Helper()
		code, body := call(t, "GET", srv.URL+"/api/v1/hooks", "", "")
		var out HookList
		if code != 200 || json.Unmarshal([]byte(body), &out) != nil {
			t.Fatalf("list: %d %s", code, body)
		}
		m := map[string]*reconcile.LastDelivery{}
		for _, h := range out.Hooks {
			m[h.Endpoint+"/"+h.HookID] = h.LastDelivery
		}
		return m
	}
	got := list()
	for key, want := range map[string]string{"gh/11": "ev-3", "gh/22": "ev-2", "gh/44": "", "gh/33": "old-33",
		"bb/{e664570c-4736-5af1-9836-4a8555d4e290}": "bb-1", "gt/5": ""} {
		ld := got[key]
		switch {
		case want == "" && ld != nil:
			t.Errorf("%s: last delivery %+v, want none", key, ld)
		case want != "" && (ld == nil || ld.EventID != want || ld.Kind != "push" || ld.At.IsZero()):
			t.Errorf("%s: last delivery %+v, want %s", key, ld, want)
		}
	}
	if ld := got["gh/11"]; ld != nil && !ld.At.Equal(time.Date(2026, 12, 7, 10, 0, 3, 0, time.UTC)) {
		t.Errorf("gh/11 at %v", ld.At)
	}
	// Bury hook 33's event under LastDeliveryScan newer ones: the bounded
	// scan no longer reaches it.
	for i := range LastDeliveryScan {
		add("gh", "github", fmt.Sprintf("n-%d", i), `{"X-Github-Hook-Id":["11"]}`, 10)
	}
	got = list()
	if got["gh/33"] != nil {
		t.Errorf("gh/33 found past the scan bound: %+v", got["gh/33"])
	}
	if ld := got["gh/11"]; ld == nil || ld.EventID != fmt.Sprintf("n-%d", LastDeliveryScan-1) {
		t.Errorf("gh/11 = %+v, want the newest", ld)
	}
}
