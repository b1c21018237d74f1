package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/forge/forgetest"
)

// triggerStates reads the state of a stored event on every trigger
// through the admin API.
func triggerStates(t *testing.T, admin, id string) map[string]string {
	t.Helper()
	resp, err := http.Get(admin + "/api/v1/events/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d struct {
		Triggers []struct {
			Trigger string `json:"trigger"`
			State   string `json:"state"`
		} `json:"triggers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil || resp.StatusCode != 200 {
		t.Fatalf("event %s: %d %v", id, resp.StatusCode, err)
	}
	out := map[string]string{}
	for _, tr := range d.Triggers {
		out[tr.Trigger] = tr.State
	}
	return out
}

// TestE2ERouteTwinFiresOnce: GitHub sends a delete and a push for one
// deleted tag; both are stored, the delete marked as the twin. A trigger
// on tag deletions runs once, for the push; one with twins: true runs
// for both; route test says why.
func TestE2ERouteTwinFiresOnce(t *testing.T) {
	dir := t.TempDir()
	cfg, ingest, admin := writeConfig(t, dir, fmt.Sprintf(`endpoints:
  - name: gh
    provider: github
    secrets: [%q]
triggers:
  - name: tag-deleted
    when: 'event.kind == "tag" && event.deleted'
    log: {}
  - name: tag-deleted-twins
    when: 'event.kind == "tag" && event.deleted'
    twins: true
    log: {}
`, forgetest.TestSecret))
	srv := start(t, cfg, ingest, admin)
	p := provider(t, "github")
	ids := map[string]string{}
	for _, name := range []string{"delete.payload", "push.payload"} {
		f, err := forgetest.Load(filepath.Join("..", "internal", "forge", "github", "testdata", "deliveries", name+".txtar"))
		if err != nil {
			t.Fatal(err)
		}
		h, body := signed(t, p, f)
		status, ans, err := post(context.Background(), ingest+"/hooks/gh", h, body)
		if err != nil || status != 200 || ans.ID == "" {
			t.Fatalf("%s: %d %+v %v", name, status, ans, err)
		}
		ids[name] = ans.ID
	}
	want := map[string]map[string]string{
		"delete.payload": {"tag-deleted": "not_matched", "tag-deleted-twins": "delivered"},
		"push.payload":   {"tag-deleted": "delivered", "tag-deleted-twins": "delivered"},
	}
	deadline := time.Now().Add(20 * time.Second)
	for name, id := range ids {
		for {
			got := triggerStates(t, admin, id)
			if fmt.Sprint(got) == fmt.Sprint(want[name]) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: trigger states %v, want %v\n%s", name, got, want[name], srv.Output())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	resp, err := http.Get(admin + "/api/v1/triggers")
	if err != nil {
		t.Fatal(err)
	}
	var tl struct {
		Triggers []struct {
			Name  string `json:"name"`
			Twins bool   `json:"twins"`
		} `json:"triggers"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tl)
	resp.Body.Close()
	if err != nil || len(tl.Triggers) != 2 || tl.Triggers[0].Twins || !tl.Triggers[1].Twins {
		t.Errorf("triggers listed: %+v, %v; want twins on the second only", tl.Triggers, err)
	}
	out, err := runCLI("route", "test", "--config", cfg, "--admin", admin, "--id", ids["delete.payload"])
	if err != nil || !strings.Contains(out, "NO MATCH  tag-deleted: skipped: twin") ||
		!strings.Contains(out, "MATCH     tag-deleted-twins: ") {
		t.Fatalf("route test of the twin: %v\n%s", err, out)
	}
	srv.stop()
}

// TestE2ERouteTypoIsAConfigError: a misspelled field of the record or a
// mismatched type in a when is refused by config check and by serve,
// with the file, the line and the column.
func TestE2ERouteTypoIsAConfigError(t *testing.T) {
	dir := t.TempDir()
	cfg, _, _ := writeConfig(t, dir, `triggers:
  - name: deploy
    when: 'event.kind == "push" && event.brnch == "main"'
    log: {}
  - name: kinds
    when: 'event.kind == 1'
    log: {}
`)
	wants := []string{
		cfg + `:7: triggers[0].when: trigger "deploy": 1:30: undefined field 'brnch'`,
		cfg + `:10: triggers[1].when: trigger "kinds": 1:12: found no matching overload for '_==_' applied to '(string, int)'`,
	}
	out, err := runCLI("config", "check", cfg)
	if err == nil {
		t.Fatalf("config check accepted the typos:\n%s", out)
	}
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("config check output lacks %q:\n%s", w, out)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "serve", "--config", cfg)
	cmd.Env = os.Environ()
	b, err := cmd.CombinedOutput()
	if err == nil || ctx.Err() != nil {
		t.Fatalf("serve with typos: %v (ctx %v)\n%s", err, ctx.Err(), b)
	}
	for _, w := range wants {
		if !strings.Contains(string(b), w) {
			t.Errorf("serve output lacks %q:\n%s", w, b)
		}
	}
}
