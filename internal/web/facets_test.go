package web

import (
	"net/http"
	"strings"
	"testing"
)

// TestWebEventsIndexedFiltersAndFacets: the events page filters by actor,
// branch, delivery id and outcome, refuses a bad time with 400, and shows
// the facets box whose counts link to the filtered list.
func TestWebEventsIndexedFiltersAndFacets(t *testing.T) {
	f := newFixture(t, fixtureOpts{triggers: true})
	f.push("evt-ok", "fix the build")
	waitFor(t, "delivery of evt-ok", func() bool { return f.state("evt-ok") == "delivered" })
	c := newClient(t, f.ui)

	waitFor(t, "the facets to count the event", func() bool {
		return strings.Contains(c.get("/events").body, `href="/events?repository=acme%2Fapp"`)
	})
	a := c.get("/events")
	mustContain(t, "events", a.body, `class="facets"`, "Last hour", "Last day", `href="/events?repository=acme%2Fapp"`, `name="actor"`, `name="outcome"`)
	if a := c.get("/events?actor=OCTOCAT&branch=main&delivery=evt-ok"); !strings.Contains(a.body, `href="/events/evt-ok"`) {
		t.Errorf("actor, branch and delivery filters lost the event:\n%s", a.body)
	}
	if a := c.get("/events?actor=nobody"); strings.Contains(a.body, `href="/events/evt-ok"`) || !strings.Contains(a.body, "No events match these filters") {
		t.Errorf("actor=nobody filter:\n%s", a.body)
	}
	waitFor(t, "the outcome indexed", func() bool {
		return strings.Contains(c.get("/events?outcome=delivered").body, `href="/events/evt-ok"`)
	})
	if a := c.get("/events?outcome=dead"); strings.Contains(a.body, `href="/events/evt-ok"`) {
		t.Errorf("outcome=dead lists a delivered event")
	}
	if a := c.get("/events?since=last+tuesday"); a.code != http.StatusBadRequest || !strings.Contains(a.body, "not a time") {
		t.Errorf("a bad since: %d\n%s", a.code, a.body)
	}
}
