package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/verify"
)

// TestE2EExecSerializeKeepsStreamOrder runs an exec trigger with
// concurrency 4 and a serialize key per repository: runs of one repository
// never overlap and follow the order the events were stored in, while the
// two repositories run side by side.
func TestE2EExecSerializeKeepsStreamOrder(t *testing.T) {
	dir := t.TempDir()
	logDir := filepath.Join(dir, "runs")
	if err := os.Mkdir(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "run.sh")
	if err := os.WriteFile(script, []byte(`#!/bin/sh
f="`+logDir+`/$(echo "$FORGEHOOK_REPOSITORY" | tr / _)"
echo "start $FORGEHOOK_EVENT_ID" >> "$f"
sleep 0.05
echo "end $FORGEHOOK_EVENT_ID" >> "$f"
`), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg, ingest, admin := writeConfig(t, dir, fmt.Sprintf(`endpoints:
  - name: gh
    provider: github
    secrets: ["s"]
triggers:
  - name: build
    exec:
      command: [%q]
      serialize: 'event.repository.full_name'
    concurrency: 4
`, script))
	srv := start(t, cfg, ingest, admin)
	var want = map[string][]string{}
	for i := range 16 {
		repo := []string{"acme/a", "acme/b"}[i%2]
		id := fmt.Sprintf("ser-%02d", i)
		body := []byte(fmt.Sprintf(`{"ref":"refs/heads/main","after":"%040d","repository":{"full_name":%q}}`, i, repo))
		h := hdr("Content-Type", "application/json", "X-GitHub-Event", "push", "X-GitHub-Delivery", id,
			"X-Hub-Signature-256", verify.Sign(verify.SHA256, verify.Hex, "sha256=", []byte("s"), body))
		status, ans, err := post(context.Background(), ingest+"/hooks/gh", h, body)
		if err != nil || status != 200 {
			t.Fatalf("send %s: %d %+v %v", id, status, ans, err)
		}
		want[repo] = append(want[repo], ans.ID)
	}
	read := func(repo string) []string {
		b, _ := os.ReadFile(filepath.Join(logDir, strings.ReplaceAll(repo, "/", "_")))
		return strings.Fields(strings.ReplaceAll(string(b), "\n", " "))
	}
	waitFor(t, 30*time.Second, "16 runs", func() bool { return len(read("acme/a"))+len(read("acme/b")) == 64 })
	for repo, ids := range want {
		words := read(repo)
		var got []string
		for i := 0; i+3 < len(words)+1 && i+1 < len(words); i += 4 {
			// start ID end ID: a run of the key ends before the next starts.
			if words[i] != "start" || words[i+2] != "end" || words[i+1] != words[i+3] {
				t.Fatalf("%s: runs overlap: %v", repo, words)
			}
			got = append(got, words[i+1])
		}
		if strings.Join(got, " ") != strings.Join(ids, " ") {
			t.Errorf("%s ran in order %v, want the stream's %v", repo, got, ids)
		}
	}
	srv.stop()
}
