package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/forgehook/forgehook/internal/verify"
)

// sendVersion sends version n of a push to acme/app (its after is n, zero
// padded) and returns the stored event's id.
func sendVersion(t *testing.T, ingest string, n int) string {
	t.Helper()
	body := []byte(fmt.Sprintf(`{"ref":"refs/heads/main","before":"%040d","after":"%040d","repository":{"full_name":"acme/app"}}`, n-1, n))
	h := hdr("Content-Type", "application/json", "X-GitHub-Event", "push", "X-GitHub-Delivery", fmt.Sprintf("version-%d", n),
		"X-Hub-Signature-256", verify.Sign(verify.SHA256, verify.Hex, "sha256=", []byte("s"), body))
	status, ans, err := post(context.Background(), ingest+"/hooks/gh", h, body)
	if err != nil || status != 200 || ans.ID == "" {
		t.Fatalf("send version %d: %d %+v %v", n, status, ans, err)
	}
	return ans.ID
}

// runLog reads the lines "<ok|fail> <version>" that the exec script of
// trigger wrote, in order.
func runLog(t *testing.T, dir, trigger string) (ok, failed []int) {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(dir, trigger+".log"))
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) != 2 {
			t.Fatalf("%s.log: bad line %q", trigger, line)
		}
		n, err := strconv.Atoi(strings.TrimLeft(f[1], "0"))
		if err != nil {
			t.Fatalf("%s.log: bad version in %q", trigger, line)
		}
		if f[0] == "ok" {
			ok = append(ok, n)
		} else {
			failed = append(failed, n)
		}
	}
	return ok, failed
}

// triggerState returns the state and attempt outcomes of event id on
// trigger, as the API reports them.
func triggerState(t *testing.T, admin, id, trigger string) (string, []string) {
	t.Helper()
	d, _ := getDetail(t, admin, id)
	for _, tr := range d.Triggers {
		if tr.Trigger == trigger {
			var outcomes []string
			for _, a := range tr.Attempts {
				outcomes = append(outcomes, a.Outcome)
			}
			return tr.State, outcomes
		}
	}
	t.Fatalf("event %s: no trigger %s", id, trigger)
	return "", nil
}

// TestDeliverE2ESerializeCoalesceAfterOutage: two exec triggers with a
// serialize key, one with coalesce, whose command fails while a flag file
// exists (an outage). 8 versions of one key arrive during the outage: the
// first is retried and the others wait behind it. After the outage the
// coalescing trigger runs version 1 then version 8 only, and records 2..7
// as superseded; the other runs 1..8 in order. No later version runs
// while an earlier one still retries.
func TestDeliverE2ESerializeCoalesceAfterOutage(t *testing.T) {
	dir := t.TempDir()
	flag := filepath.Join(dir, "down")
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "deploy.sh")
	if err := os.WriteFile(script, []byte(`#!/bin/sh
log="`+dir+`/$FORGEHOOK_TRIGGER.log"
if [ -e "`+flag+`" ]; then echo "fail $FORGEHOOK_AFTER" >> "$log"; exit 1; fi
echo "ok $FORGEHOOK_AFTER" >> "$log"
`), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg, ingest, admin := writeConfig(t, dir, fmt.Sprintf(`endpoints:
  - name: gh
    provider: github
    secrets: ["s"]
triggers:
  - name: coalesced
    exec: {command: [%q], serialize: 'event.repository.full_name', coalesce: true}
    concurrency: 4
    retry: {max_attempts: 1000, initial: 100ms, max: 300ms}
  - name: ordered
    exec: {command: [%q], serialize: 'event.repository.full_name'}
    concurrency: 4
    retry: {max_attempts: 1000, initial: 100ms, max: 300ms}
`, script, script))
	srv := start(t, cfg, ingest, admin)
	ids := map[int]string{}
	for n := 1; n <= 8; n++ {
		ids[n] = sendVersion(t, ingest, n)
	}
	// During the outage: v2..v7 superseded by the next one, at once.
	waitFor(t, 20*time.Second, "versions 2..7 superseded on coalesced", func() bool {
		for n := 2; n <= 7; n++ {
			if s, _ := triggerState(t, admin, ids[n], "coalesced"); s != "superseded" {
				return false
			}
		}
		return true
	})
	// The head keeps retrying for a while.
	waitFor(t, 20*time.Second, "version 1 retried on both triggers", func() bool {
		_, fc := runLog(t, dir, "coalesced")
		_, fo := runLog(t, dir, "ordered")
		return len(fc) >= 4 && len(fo) >= 4
	})
	for _, trig := range []string{"coalesced", "ordered"} {
		ok, failed := runLog(t, dir, trig)
		if len(ok) != 0 || slices.ContainsFunc(failed, func(n int) bool { return n != 1 }) {
			t.Errorf("%s during the outage: ok %v, failed %v; want only version 1, failing", trig, ok, failed)
		}
	}
	if err := os.Remove(flag); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "version 8 delivered on both triggers", func() bool {
		c, _ := triggerState(t, admin, ids[8], "coalesced")
		o, _ := triggerState(t, admin, ids[8], "ordered")
		return c == "delivered" && o == "delivered"
	})

	okC, failC := runLog(t, dir, "coalesced")
	okO, failO := runLog(t, dir, "ordered")
	t.Logf("coalesced: failed runs %v, then ran %v", failC, okC)
	t.Logf("ordered: failed runs %v, then ran %v", failO, okO)
	if !slices.Equal(okC, []int{1, 8}) {
		t.Errorf("coalesced ran %v after the outage, want [1 8]: the head, then the newest waiting only", okC)
	}
	if want := []int{1, 2, 3, 4, 5, 6, 7, 8}; !slices.Equal(okO, want) {
		t.Errorf("ordered ran %v after the outage, want %v", okO, want)
	}
	for n := 2; n <= 7; n++ {
		state, outcomes := triggerState(t, admin, ids[n], "coalesced")
		if state != "superseded" || !slices.Equal(outcomes, []string{"superseded"}) {
			t.Errorf("version %d on coalesced: %s %v, want one superseded attempt", n, state, outcomes)
		}
		if state, _ := triggerState(t, admin, ids[n], "ordered"); state != "delivered" {
			t.Errorf("version %d on ordered: %s, want delivered", n, state)
		}
	}
	if state, outcomes := triggerState(t, admin, ids[1], "coalesced"); state != "delivered" || len(outcomes) < 4 {
		t.Errorf("version 1 on coalesced: %s %v, want delivered after retries", state, outcomes)
	}
	srv.stop()
}

// TestDeliverE2EReplayReevaluatesWhen: an event of an unauthenticated
// endpoint is never replayed to a trigger whose when excludes that
// endpoint: by id with the trigger named (409, from the API and the CLI),
// by id to every trigger (the trigger is listed as skipped, with why), and
// over a time range.
func TestDeliverE2EReplayReevaluatesWhen(t *testing.T) {
	rc := newReceiver(t)
	dir := t.TempDir()
	cfg, ingest, admin := writeConfig(t, dir, fmt.Sprintf(`endpoints:
  - name: gh
    provider: github
    secrets: ["s"]
  - name: open
    provider: generic
    insecure: true
triggers:
  - name: deploy
    when: 'ce.endpoint == "gh"'
    http: {url: "%s/deploy"}
  - name: audit
    http: {url: "%s/audit"}
`, rc.URL, rc.URL))
	srv := start(t, cfg, ingest, admin)
	since := time.Now().Add(-time.Second).UTC().Format(time.RFC3339)
	status, ans, err := post(context.Background(), ingest+"/hooks/open", hdr("Content-Type", "application/json"), []byte(`{"ref":"refs/heads/main"}`))
	if err != nil || status != 200 {
		t.Fatalf("send to open: %d %+v %v", status, ans, err)
	}
	id := ans.ID
	waitFor(t, 10*time.Second, "the audit delivery", func() bool { return len(rc.hitsFor(id)) == 1 })

	replay := func(body string) (int, []byte) {
		resp, err := http.Post(admin+"/api/v1/events/"+id+"/replay", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	code, b := replay(`{"trigger":"deploy"}`)
	if code != http.StatusConflict || !strings.Contains(string(b), "when does not match") {
		t.Errorf("replay to deploy: %d %s; want 409 saying when does not match", code, b)
	}
	code, b = replay(`{}`)
	var res struct {
		Replayed []struct {
			Triggers []string `json:"triggers"`
			Skipped  []struct {
				Trigger string `json:"trigger"`
				Reason  string `json:"reason"`
			} `json:"skipped"`
		} `json:"replayed"`
	}
	if err := json.Unmarshal(b, &res); err != nil || code != 200 || len(res.Replayed) != 1 ||
		!slices.Equal(res.Replayed[0].Triggers, []string{"audit"}) || len(res.Replayed[0].Skipped) != 1 ||
		res.Replayed[0].Skipped[0].Trigger != "deploy" || res.Replayed[0].Skipped[0].Reason != "when does not match" {
		t.Errorf("replay to every trigger: %d %s; want audit, deploy skipped", code, b)
	}
	out, err := runCLI("events", "replay", "--admin", admin, "--trigger", "deploy", id)
	if err == nil || !strings.Contains(out, "when does not match") {
		t.Errorf("forgehook events replay --trigger deploy: %v\n%s", err, out)
	}
	out, err = runCLI("events", "replay", "--admin", admin, "--trigger", "deploy", "--since", since)
	if err != nil || !strings.Contains(out, "skipped deploy: when does not match") {
		t.Errorf("forgehook events replay --since: %v\n%s", err, out)
	}
	waitFor(t, 10*time.Second, "the audit replay", func() bool { return len(rc.hitsFor(id)) == 2 })
	// A signed event of gh still replays to deploy.
	ghID := sendVersion(t, ingest, 1)
	waitFor(t, 10*time.Second, "the gh event delivered to both triggers", func() bool { return len(rc.hitsFor(ghID)) == 2 })
	if out, err := runCLI("events", "replay", "--admin", admin, "--trigger", "deploy", ghID); err != nil || !strings.Contains(out, "to deploy") {
		t.Errorf("replay of a matching event: %v\n%s", err, out)
	}
	waitFor(t, 10*time.Second, "gh-1 replayed to deploy", func() bool { return len(rc.hitsFor(ghID)) == 3 })
	// A wrong deploy delivery of the open endpoint's event would arrive
	// about when gh-1's replay did.
	holdFor(t, 300*time.Millisecond, "the open endpoint's event reaching the receiver 2 times (audit, audit replay)", func() bool {
		return len(rc.hitsFor(id)) == 2
	})
	srv.stop()
}

// TestDeliverE2EUndecodableRecordIsDeadLettered publishes straight into the
// EVENTS stream of a running server a record nested deeper than any
// decoder takes (as ingest once acknowledged for a body nested 9,999
// levels deep): every trigger dead-letters it with the decoding error, the
// dead letter counts in the metrics, and the API shows the attempt.
func TestDeliverE2EUndecodableRecordIsDeadLettered(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	cfg, ingest, admin := writeConfig(t, dir, fmt.Sprintf(`store:
  embedded: {listen: "127.0.0.1:%d"}
endpoints:
  - name: gh
    provider: github
    secrets: ["s"]
triggers:
  - name: filtered
    when: 'event.kind == "push"'
    log: {}
  - name: plain
    log: {}
`, port))
	srv := start(t, cfg, ingest, admin)
	nc, err := nats.Connect(fmt.Sprintf("nats://127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	const depth = 9999
	publish := func(id string, data []byte) {
		m := nats.NewMsg("forgehook.event.gh.github.push")
		m.Header.Set("Forgehook-Event-Id", id)
		m.Data = data
		if _, err := js.PublishMsg(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	publish("deep-1", []byte(`{"specversion":"1.0","id":"deep-1","endpoint":"gh","data":{"body":`+
		strings.Repeat("[", depth)+strings.Repeat("]", depth)+`}}`))
	// Well-formed JSON that is not a record either (its time is not one).
	publish("bad-time-1", []byte(`{"specversion":"1.0","id":"bad-time-1","time":"yesterday","endpoint":"gh","data":{"body":{},"normalized":{"kind":"push"}}}`))
	var dead struct {
		Dead []struct {
			Trigger string `json:"trigger"`
			EventID string `json:"event_id"`
			Error   string `json:"error"`
		} `json:"dead"`
	}
	defer func() {
		if t.Failed() {
			t.Log(srv.Output())
		}
	}()
	waitFor(t, 20*time.Second, "four dead letters", func() bool {
		resp, err := http.Get(admin + "/api/v1/dead")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		_ = json.NewDecoder(resp.Body).Decode(&dead)
		return len(dead.Dead) == 4
	})
	for _, d := range dead.Dead {
		if (d.EventID != "deep-1" && d.EventID != "bad-time-1") || !strings.HasPrefix(d.Error, "undecodable event: ") {
			t.Errorf("dead letter %+v", d)
		}
	}
	mf := scrape(t, admin, "")
	for _, trig := range []string{"filtered", "plain"} {
		if v := value(mf, "forgehook_dead_letters_total", map[string]string{"trigger": trig}); v != 2 {
			t.Errorf("forgehook_dead_letters_total{trigger=%q} = %v, want 2", trig, v)
		}
	}
	if strings.Contains(srv.Output(), "undecodable event, skipped") {
		t.Error("an undecodable event was skipped")
	}
	// The embedded store indexes event ids as ingest appends them; records
	// published behind its back are indexed when it restarts. (The API
	// cannot show deep-1 itself: its answer would nest too deep.)
	srv.stop()
	srv = start(t, cfg, ingest, admin)
	for _, trig := range []string{"filtered", "plain"} {
		if state, outcomes := triggerState(t, admin, "bad-time-1", trig); state != "dead" || !slices.Equal(outcomes, []string{"dead"}) {
			t.Errorf("bad-time-1 on %s: %s %v, want one dead attempt", trig, state, outcomes)
		}
	}
	srv.stop()
}
