package store

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// TestStoreTotalsSurviveRestart: the per-endpoint and per-trigger counts
// come from the streams, so a restart of the store keeps them, and they
// say since when they count.
func TestStoreTotalsSurviveRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openEmbedded(t, dir)
	start := time.Now().Add(-time.Second)
	for i := range 5 {
		ep := "alpha"
		if i >= 3 {
			ep = "beta"
		}
		id := "tot-" + strconv.Itoa(i)
		if _, err := s.Append(ctx, ep, Subject(ep, "github", "push"), id, "key-"+id, evJSON(id)); err != nil {
			t.Fatal(err)
		}
	}
	for i, o := range []string{OutcomeFailed, OutcomeDelivered, OutcomeDelivered} {
		if err := s.RecordAttempt(ctx, Attempt{Trigger: "deploy", EventID: "tot-" + strconv.Itoa(i), Attempt: 1, Time: time.Now(), Outcome: o}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Dead(ctx, "notify", "tot-4", 5, 3, "boom", evJSON("tot-4")); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		tot, err := s.Totals(ctx)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		if tot.Events["alpha"] != 3 || tot.Events["beta"] != 2 || tot.Attempts["deploy"] != 3 || tot.Dead["notify"] != 1 {
			t.Errorf("%s: events %v, attempts %v, dead %v", when, tot.Events, tot.Attempts, tot.Dead)
		}
		if tot.EventsSince.Before(start) || tot.AttemptsSince.Before(start) || tot.DeadSince.Before(start) || tot.EventsSince.After(time.Now()) {
			t.Errorf("%s: since %v %v %v", when, tot.EventsSince, tot.AttemptsSince, tot.DeadSince)
		}
	}
	check("before the restart")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openEmbedded(t, dir)
	defer s.Close()
	check("after the restart")
}
