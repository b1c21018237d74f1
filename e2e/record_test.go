package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge/forgetest"
)

// TestIngestRecordGrownFields drives the real binary with real payloads and
// reads the stored records back (issue 13): a Gitea API hook test (before
// equal to after) is answered as a ping and not stored; a GitHub check run
// is stored with its branch, commit and result; a GitHub create event is
// stored as a twin; and the record's lists are [] rather than null.
func TestIngestRecordGrownFields(t *testing.T) {
	dir := t.TempDir()
	cfg, ingest, admin := writeConfig(t, dir, endpointsConfig(t))
	start(t, cfg, ingest, admin)
	ctx := context.Background()

	send := func(forgeID, fixture string) ingestAnswer {
		t.Helper()
		f, err := forgetest.Load(filepath.Join("..", "internal", "forge", forgeID, "testdata", "deliveries", fixture+".txtar"))
		if err != nil {
			t.Fatal(err)
		}
		h, body := signed(t, provider(t, forgeID), f)
		status, ans, err := post(ctx, ingest+"/hooks/"+forgeID, h, body)
		if err != nil || status != 200 {
			t.Fatalf("%s/%s: status %d %v (%s)", forgeID, fixture, status, err, ans.Error)
		}
		return ans
	}
	read := func(id string) event.Event {
		t.Helper()
		resp, err := http.Get(admin + "/api/v1/events/" + id)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var d struct {
			Event event.Event `json:"event"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&d); err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET event %s: %d %v", id, resp.StatusCode, err)
		}
		return d.Event
	}

	if ans := send("gitea", "capture-01-push-hooktest-api"); !ans.Ping || ans.ID != "" {
		t.Errorf("Gitea API hook test: answer %+v, want a ping, not stored", ans)
	}

	ans := send("github", "check_run.completed.1")
	if ans.ID == "" {
		t.Fatalf("check_run: answer %+v, want an event id", ans)
	}
	n := read(ans.ID).Data.Normalized
	if n.Kind != event.KindPipeline || n.Branch != "changes" || n.After != "ec26c3e57ca3a959ca5aad62de7213c562f8c821" ||
		n.Pipeline.Status != event.StatusFailure || n.Pipeline.Name != "Octocoders-linter" {
		t.Errorf("check_run stored as kind %q branch %q after %q pipeline %+v", n.Kind, n.Branch, n.After, n.Pipeline)
	}
	if n.PullRequest.Labels == nil || n.Issue.Labels == nil || n.Commits == nil {
		t.Errorf("check_run: lists stored as null (labels %v %v, commits %v), want []", n.PullRequest.Labels, n.Issue.Labels, n.Commits)
	}

	ans = send("github", "create.payload")
	if n := read(ans.ID).Data.Normalized; !n.Twin || n.Kind != event.KindTag {
		t.Errorf("create: kind %q twin %v, want a tag twin", n.Kind, n.Twin)
	}
	ans = send("github", "push.payload")
	if n := read(ans.ID).Data.Normalized; n.Twin {
		t.Errorf("push: twin true")
	}
}
