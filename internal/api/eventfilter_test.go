package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/store"
)

// TestAPIEventFiltersFindEvents: each new filter of GET /api/v1/events
// selects exactly its events, and GET /api/v1/facets counts them.
func TestAPIEventFiltersFindEvents(t *testing.T) {
	srv, st := newTestServer(t, "")
	ctx := context.Background()
	for i, e := range []struct{ repo, actor, branch, action, delivery string }{
		{"Rare/One", "Ann", "dev", "", "del-a"},
		{"acme/app", "bob", "main", "opened", "del-b"},
	} {
		id := fmt.Sprintf("more-%d", i)
		rec := fmt.Sprintf(`{"specversion":"1.0","id":%q,"time":"2026-11-23T10:00:00Z","endpoint":"gh","forge":"github","forgeevent":"push","forgedelivery":%q,`+
			`"data":{"header":{},"body":{},"normalized":{"kind":"push","action":%q,"repository":{"full_name":%q},"ref":"refs/heads/%s","branch":%q,"actor":{"login":%q}}}}`,
			id, e.delivery, e.action, e.repo, e.branch, e.branch, e.actor)
		if _, err := st.Append(ctx, "gh", store.Subject("gh", "github", "push"), id, e.delivery, []byte(rec)); err != nil {
			t.Fatal(err)
		}
	}
	list := func(q string) []string {
		t.Helper()
		code, body := call(t, http.MethodGet, srv.URL+"/api/v1/events?"+q, "", "")
		if code != 200 {
			t.Fatalf("?%s: %d %s", q, code, body)
		}
		var l EventList
		if err := json.Unmarshal([]byte(body), &l); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, e := range l.Events {
			ids = append(ids, e.ID)
		}
		return ids
	}
	future := url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	past := url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
	for q, want := range map[string]string{
		"repository=rare/one":           "more-0",
		"actor=ANN":                     "more-0",
		"delivery=del-b":                "more-1",
		"branch=main&action=opened":     "more-1",
		"ref=refs/heads/dev":            "more-0",
		"repository=acme/app&actor=bob": "more-1",
		"repository=acme/app":           "more-1 ev-2 ev-1 ev-0",
		"since=" + future:               "",
		"since=" + past + "&until=" + future + "&delivery=del-a": "more-0",
		"outcome=delivered":             "",
		"outcome=not_matched&actor=bob": "more-1", // no trigger: every event is not matched
	} {
		if got := strings.Join(list(q), " "); got != want {
			t.Errorf("?%s: %q, want %q", q, got, want)
		}
	}

	// The facets count what the index holds: wait for it to hold all 5.
	var hour store.Facets
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		code, body := call(t, http.MethodGet, srv.URL+"/api/v1/facets", "", "")
		if code != 200 {
			t.Fatalf("facets: %d %s", code, body)
		}
		var fl FacetList
		if err := json.Unmarshal([]byte(body), &fl); err != nil || len(fl.Facets) != 2 {
			t.Fatalf("facets: %v %s", err, body)
		}
		hour = fl.Facets[0]
		if hour.Events == 5 || time.Now().After(deadline) {
			break
		}
	}
	if hour.Events != 5 || len(hour.Repositories) != 2 || hour.Repositories[0] != (store.Facet{Value: "acme/app", Count: 4}) ||
		hour.Repositories[1] != (store.Facet{Value: "rare/one", Count: 1}) {
		t.Errorf("facets of the hour: %+v", hour)
	}
}

// TestAPIEventFiltersRefuseBadValues: bad filter values are 400s with the
// reason.
func TestAPIEventFiltersRefuseBadValues(t *testing.T) {
	srv, _ := newTestServer(t, "")
	for q, want := range map[string]string{
		"outcome=lost":     "outcome must be one of",
		"since=yesterday":  "since must be an RFC 3339 time",
		"until=2026-12-07": "until must be an RFC 3339 time",
		"since=2026-12-07T10:00:00Z&until=2026-12-07T09:00:00Z": "until must be after since",
		"limit=0":  "limit must be",
		"kind=pu*": "may not contain",
		"repository=" + strings.Repeat("x", 1025): "longer than 1024 bytes",
	} {
		code, body := call(t, http.MethodGet, srv.URL+"/api/v1/events?"+q, "", "")
		if code != http.StatusBadRequest || !strings.Contains(body, want) {
			t.Errorf("?%.40s: %d %s, want 400 with %q", q, code, body, want)
		}
	}
}
