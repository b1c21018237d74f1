package deliver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/forgehook/forgehook/internal/action"
	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/route"
	"github.com/forgehook/forgehook/internal/store"
	"github.com/forgehook/forgehook/internal/trigger"
)

// faultStore opens an embedded store in a temporary directory.
func faultStore(t *testing.T) *store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// startRunner starts ts on st and stops them at the end of the test.
func startRunner(t *testing.T, st *store.Store, ts []*trigger.Trigger, observe func(store.Attempt, time.Time)) *Runner {
	t.Helper()
	r, err := Start(t.Context(), st, ts, Options{Observe: observe})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r
}

func compile(t *testing.T, expr string, key bool) *route.Program {
	t.Helper()
	env, err := route.NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	var p *route.Program
	if key {
		p, err = env.CompileKey(expr)
	} else {
		p, err = env.Compile(expr)
	}
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// faultRecord is the stored record of a push to repo through endpoint.
func faultRecord(t *testing.T, id, endpoint, repo string) []byte {
	t.Helper()
	ev := &event.Event{ID: id, Time: time.Now().UTC(), Forge: "github", ForgeEvent: "push", Endpoint: endpoint, Delivery: id,
		Data: event.Data{Body: []byte(`{"ref":"refs/heads/main"}`)}}
	ev.Data.Normalized.Kind = "push"
	ev.Data.Normalized.Forge = "github"
	ev.Data.Normalized.Repository.FullName = repo
	ev.Envelope()
	raw, err := ev.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func appendEvent(t *testing.T, st *store.Store, endpoint, id string, raw []byte) {
	t.Helper()
	if _, err := st.Append(t.Context(), endpoint, store.EventsSubject+"."+endpoint+".github.push", id, "", raw); err != nil {
		t.Fatal(err)
	}
}

// outageAction fails, as a command would with exit status 1, while down
// is set; it records the event id of every run and fails the test if two
// runs overlap.
type outageAction struct {
	t        *testing.T
	coalesce bool

	mu      sync.Mutex
	down    bool
	running int
	runs    []string
}

func (a *outageAction) Coalesce() bool { return a.coalesce }

func (a *outageAction) Do(_ context.Context, in action.Input) (action.Result, error) {
	a.mu.Lock()
	a.running++
	if a.running > 1 {
		a.t.Errorf("%s runs while another run of its key does", in.Record.ID())
	}
	a.runs = append(a.runs, in.Record.ID())
	down := a.down
	a.mu.Unlock()
	time.Sleep(2 * time.Millisecond)
	a.mu.Lock()
	a.running--
	a.mu.Unlock()
	if down {
		return action.Result{Retry: true, Status: 1}, errors.New("exit status 1")
	}
	return action.Result{}, nil
}

func (a *outageAction) setDown(down bool) {
	a.mu.Lock()
	a.down = down
	a.mu.Unlock()
}

// order returns the runs with repeats of one event (its retries) folded.
func (a *outageAction) order() (folded []string, n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, id := range a.runs {
		if len(folded) == 0 || folded[len(folded)-1] != id {
			folded = append(folded, id)
		}
	}
	return folded, len(a.runs)
}

func lastOutcome(t *testing.T, st *store.Store, trig, id string) (store.Attempt, error) {
	atts, err := st.Attempts(t.Context(), trig, id)
	if err != nil {
		return store.Attempt{}, err
	}
	if len(atts) == 0 {
		return store.Attempt{}, fmt.Errorf("%s: no attempt recorded", id)
	}
	return atts[len(atts)-1], nil
}

// serializeOutage runs the outage of item 10: v1 of one key fails and is
// retried; v2..v8 arrive meanwhile; then the target comes back.
func serializeOutage(t *testing.T, coalesce bool) (*outageAction, *store.Store) {
	st := faultStore(t)
	act := &outageAction{t: t, coalesce: coalesce, down: true}
	tr := &trigger.Trigger{
		Name: "deploy", Kind: "exec", Action: act, Concurrency: 4,
		Serialize: compile(t, "event.repository.full_name", true),
		Retry:     trigger.Retry{MaxAttempts: 10000, Initial: 20 * time.Millisecond, Max: 80 * time.Millisecond},
	}
	startRunner(t, st, []*trigger.Trigger{tr}, nil)
	appendEvent(t, st, "gh", "v1", faultRecord(t, "v1", "gh", "acme/app"))
	checkFor(t, 10*time.Second, func() error {
		if _, n := act.order(); n < 3 {
			return errors.New("v1 was not retried")
		}
		return nil
	})
	for i := 2; i <= 8; i++ {
		id := fmt.Sprintf("v%d", i)
		appendEvent(t, st, "gh", id, faultRecord(t, id, "gh", "acme/app"))
	}
	if coalesce {
		// v2..v7 are superseded as soon as a newer event arrives.
		checkFor(t, 10*time.Second, func() error {
			for i := 2; i <= 7; i++ {
				a, err := lastOutcome(t, st, "deploy", fmt.Sprintf("v%d", i))
				if err != nil {
					return err
				}
				if a.Outcome != store.OutcomeSuperseded {
					return fmt.Errorf("v%d: %+v", i, a)
				}
			}
			return nil
		})
	} else {
		time.Sleep(200 * time.Millisecond) // several retries of v1 while v2..v8 wait
	}
	if got, _ := act.order(); !slices.Equal(got, []string{"v1"}) {
		t.Errorf("during the outage ran %v, want only v1 (retrying)", got)
	}
	act.setDown(false)
	checkFor(t, 10*time.Second, func() error {
		a, err := lastOutcome(t, st, "deploy", "v8")
		if err != nil {
			return err
		}
		if a.Outcome != store.OutcomeDelivered {
			return fmt.Errorf("v8: %+v", a)
		}
		return nil
	})
	return act, st
}

// TestDeliverSerializeCoalesceAfterOutage: while the head of a key
// retries, newer events of the key supersede the older waiting ones; after
// the outage only the newest waiting event runs, after the head.
func TestDeliverSerializeCoalesceAfterOutage(t *testing.T) {
	act, st := serializeOutage(t, true)
	got, n := act.order()
	if !slices.Equal(got, []string{"v1", "v8"}) {
		t.Errorf("runs in order %v (%d attempts), want v1 (retried) then v8 only", got, n)
	}
	for i := 2; i <= 7; i++ {
		id := fmt.Sprintf("v%d", i)
		atts, err := st.Attempts(t.Context(), "deploy", id)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("superseded by event v%d", i+1)
		if len(atts) != 1 || atts[0].Outcome != store.OutcomeSuperseded || atts[0].Output != want {
			t.Errorf("%s attempts %+v, want one superseded by v%d", id, atts, i+1)
		}
	}
	if a, err := lastOutcome(t, st, "deploy", "v1"); err != nil || a.Outcome != store.OutcomeDelivered || a.Attempt < 3 {
		t.Errorf("v1 last attempt %+v, %v; want delivered after retries", a, err)
	}
}

// TestDeliverSerializeRetryKeepsOrder: without coalesce, no later event of
// a key runs while its head retries, and after the outage they run in the
// stream's order, each once.
func TestDeliverSerializeRetryKeepsOrder(t *testing.T) {
	act, _ := serializeOutage(t, false)
	got, n := act.order()
	if want := []string{"v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8"}; !slices.Equal(got, want) {
		t.Errorf("runs in order %v, want %v", got, want)
	}
	if first, _ := act.order(); n != len(first)-1+countOf(act, "v1") {
		t.Errorf("%d attempts: an event after v1 ran more than once", n)
	}
}

func countOf(a *outageAction, id string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, r := range a.runs {
		if r == id {
			n++
		}
	}
	return n
}

// captureIDs records the ids of the events it runs.
type captureIDs struct {
	mu  sync.Mutex
	ids []string
}

func (c *captureIDs) Do(_ context.Context, in action.Input) (action.Result, error) {
	c.mu.Lock()
	c.ids = append(c.ids, in.Record.ID())
	c.mu.Unlock()
	return action.Result{}, nil
}

func (c *captureIDs) got() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.ids)
}

// TestDeliverReplayEvaluatesWhen: every replay, by event with or without
// a trigger, of a dead letter, and the delivery of a queued replay,
// evaluates the trigger's when.
func TestDeliverReplayEvaluatesWhen(t *testing.T) {
	st := faultStore(t)
	secure, all := &captureIDs{}, &captureIDs{}
	ts := []*trigger.Trigger{
		{Name: "secure", Kind: "log", Action: secure, Concurrency: 1, When: compile(t, `ce.endpoint != "insecure"`, false),
			Retry: trigger.Retry{MaxAttempts: 1, Initial: time.Millisecond, Max: time.Millisecond}},
		{Name: "all", Kind: "log", Action: all, Concurrency: 1,
			Retry: trigger.Retry{MaxAttempts: 1, Initial: time.Millisecond, Max: time.Millisecond}},
	}
	r := startRunner(t, st, ts, nil)
	bad := faultRecord(t, "from-insecure", "insecure", "acme/app")
	good := faultRecord(t, "from-gh", "gh", "acme/app")

	targets, skipped, err := r.ReplayEvent(t.Context(), bad, "from-insecure", "secure", false)
	if !errors.Is(err, ErrNoMatch) || targets != nil || len(skipped) != 1 || skipped[0] != (Skip{"secure", "when does not match"}) {
		t.Errorf("replay to secure = %v, %v, %v; want ErrNoMatch and why", targets, skipped, err)
	}
	targets, skipped, err = r.ReplayEvent(t.Context(), bad, "from-insecure", "", false)
	if err != nil || !slices.Equal(targets, []string{"all"}) || len(skipped) != 1 || skipped[0].Trigger != "secure" {
		t.Errorf("replay to every trigger = %v, %v, %v; want all, secure skipped", targets, skipped, err)
	}

	// A replay queued for secure (as before a reload that changed its
	// when) is not delivered; the next one, which matches, is.
	if err := st.Replay(t.Context(), "secure", "from-insecure", bad); err != nil {
		t.Fatal(err)
	}
	if err := st.Replay(t.Context(), "secure", "from-gh", good); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 10*time.Second, func() error {
		if !slices.Contains(secure.got(), "from-gh") || !slices.Contains(all.got(), "from-insecure") {
			return fmt.Errorf("secure got %v, all got %v", secure.got(), all.got())
		}
		return nil
	})
	if got := secure.got(); !slices.Equal(got, []string{"from-gh"}) {
		t.Errorf("secure received %v, want only from-gh", got)
	}

	// A dead letter whose trigger's when does not match is refused and kept.
	if err := st.Dead(t.Context(), "secure", "from-insecure", 0, 1, "boom", bad); err != nil {
		t.Fatal(err)
	}
	var seq uint64
	checkFor(t, 5*time.Second, func() error {
		dead, _, err := st.ListDead(t.Context(), "secure", 0, 10)
		if err != nil || len(dead) != 1 {
			return fmt.Errorf("dead letters %v, %v", dead, err)
		}
		seq = dead[0].Seq
		return nil
	})
	for _, dry := range []bool{true, false} {
		if _, err := r.ReplayDead(t.Context(), seq, dry); !errors.Is(err, ErrNoMatch) || !strings.Contains(err.Error(), "when does not match") {
			t.Errorf("ReplayDead(dry %v) = %v, want ErrNoMatch", dry, err)
		}
	}
	if _, err := st.GetDead(t.Context(), seq); err != nil {
		t.Errorf("the refused dead letter is gone: %v", err)
	}
}

// TestDeliverDeepRecordIsDeadLettered publishes into EVENTS a record
// whose body is nested 9,999 levels deep (as ingest acknowledged before a
// nesting limit): the triggers, with a when and without, cannot decode it
// and dead-letter it with the decoding error, an attempt record and a
// counted dead attempt.
func TestDeliverDeepRecordIsDeadLettered(t *testing.T) {
	st := faultStore(t)
	ts := []*trigger.Trigger{
		{Name: "filtered", Kind: "log", Action: &captureIDs{}, Concurrency: 1, When: compile(t, `event.kind == "push"`, false),
			Retry: trigger.Retry{MaxAttempts: 3, Initial: time.Millisecond, Max: time.Millisecond}},
		{Name: "plain", Kind: "log", Action: &captureIDs{}, Concurrency: 1,
			Retry: trigger.Retry{MaxAttempts: 3, Initial: time.Millisecond, Max: time.Millisecond}},
	}
	var mu sync.Mutex
	var observed []store.Attempt
	startRunner(t, st, ts, func(a store.Attempt, _ time.Time) {
		mu.Lock()
		observed = append(observed, a)
		mu.Unlock()
	})
	depth := 9999
	raw := []byte(`{"specversion":"1.0","id":"deep-1","type":"dev.forgehook.push","data":{"body":` +
		strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}}`)
	m := nats.NewMsg(store.EventsSubject + ".gh.github.push")
	m.Header.Set(store.EventIDHeader, "deep-1")
	m.Data = raw
	if _, err := st.JetStream().PublishMsg(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"filtered", "plain"} {
		checkFor(t, 10*time.Second, func() error {
			dead, _, err := st.ListDead(t.Context(), name, 0, 10)
			if err != nil {
				return err
			}
			if len(dead) != 1 || dead[0].EventID != "deep-1" || !strings.HasPrefix(dead[0].Error, "undecodable event: ") ||
				dead[0].EventSeq == 0 {
				return fmt.Errorf("%s: dead letters %+v", name, dead)
			}
			a, err := lastOutcome(t, st, name, "deep-1")
			if err != nil {
				return err
			}
			if a.Outcome != store.OutcomeDead || a.Error != dead[0].Error {
				return fmt.Errorf("%s: attempt %+v", name, a)
			}
			return nil
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if len(observed) != 2 || observed[0].Outcome != store.OutcomeDead || observed[1].Outcome != store.OutcomeDead {
		t.Errorf("observed %+v, want two dead attempts", observed)
	}
}

// TestDeliverFirstAttemptAfterRedelivery: an event with a serialize key
// retries in place, uncounted by JetStream; redelivered (after a restart),
// it goes on counting from the attempts recorded for its message, so that
// max_attempts holds across restarts.
func TestDeliverFirstAttemptAfterRedelivery(t *testing.T) {
	tr := benchRunner(t, &config.HTTPAction{URL: "http://127.0.0.1:1/sink"})
	stored := time.Now().Add(-time.Minute)
	for _, a := range []store.Attempt{
		{Attempt: 9, Time: stored.Add(-time.Hour)},                // an older message of the event
		{Attempt: 3, Time: stored.Add(time.Second)},               // this message's in-place retries
		{Attempt: 5, Time: stored.Add(2 * time.Second)},           // and a later one
		{Attempt: 8, Time: stored.Add(time.Second), Replay: true}, // a replay's
	} {
		a.Trigger, a.EventID, a.Outcome = "sink", "ev-1", store.OutcomeFailed
		if err := tr.r.st.RecordAttempt(t.Context(), a); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		key       string
		delivered uint64
		want      int
	}{{"k", 2, 6}, {"k", 7, 7}, {"k", 1, 1}, {"", 2, 2}} {
		m := &fakeMsg{hdr: nats.Header{}}
		m.md.NumDelivered, m.md.Timestamp = tc.delivered, stored
		j := &job{m: m, md: &m.md, key: tc.key}
		j.rec.Init([]byte(`{"id":"ev-1"}`))
		if got := tr.firstAttempt(j); got != tc.want {
			t.Errorf("key %q, delivery %d: first attempt %d, want %d", tc.key, tc.delivered, got, tc.want)
		}
	}
}
