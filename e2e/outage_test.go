package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/forgehook/forgehook/internal/verify"
)

func natsServer(t *testing.T, port int, dir string) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{
		ServerName: "external", Host: "127.0.0.1", Port: port,
		JetStream: true, StoreDir: dir, NoSigs: true, NoLog: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("external nats did not start")
	}
	return s
}

// TestE2EExternalStoreOutage runs forgehook against an external NATS
// server, stops that server, and checks that no delivery is answered 2xx
// while it is gone (503 instead), and that ingest recovers when it is back.
func TestE2EExternalStoreOutage(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	jsDir := filepath.Join(dir, "nats")
	ns := natsServer(t, port, jsDir)
	cfg, ingest, admin := writeConfig(t, dir, fmt.Sprintf(`store:
  url: nats://127.0.0.1:%d
  ack_timeout: 2s
endpoints:
  - name: gh
    provider: github
    secrets: ["outage-secret"]
`, port))
	srv := start(t, cfg, ingest, admin)
	ctx := context.Background()
	send := func(id string) (int, ingestAnswer) {
		body := []byte(fmt.Sprintf(`{"ref":"refs/heads/main","repository":{"full_name":"acme/app"},"id":%q}`, id))
		h := hdr("Content-Type", "application/json", "X-GitHub-Event", "push", "X-GitHub-Delivery", id,
			"X-Hub-Signature-256", verify.Sign(verify.SHA256, verify.Hex, "sha256=", []byte("outage-secret"), body))
		status, ans, err := post(ctx, ingest+"/hooks/gh", h, body)
		if err != nil {
			t.Fatal(err)
		}
		return status, ans
	}
	status, before := send("before-outage")
	if status != 200 {
		t.Fatalf("before the outage: %d %+v", status, before)
	}
	ns.Shutdown()
	ns.WaitForShutdown()
	for i := range 10 {
		id := fmt.Sprintf("during-outage-%d", i)
		status, ans := send(id)
		if status/100 == 2 {
			t.Fatalf("delivery %s answered %d while the store was down: %+v", id, status, ans)
		}
		if status != 503 {
			t.Errorf("delivery %s: status %d, want 503", id, status)
		}
	}
	// /readyz says so too.
	if code := getStatus(t, ingest+"/readyz"); code != 503 {
		t.Errorf("/readyz during the outage: %d, want 503", code)
	}
	ns = natsServer(t, port, jsDir)
	defer ns.Shutdown()
	deadline := time.Now().Add(30 * time.Second)
	var after ingestAnswer
	for {
		var status int
		status, after = send("after-outage")
		if status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ingest did not recover within 30s of the store's return:\n%s", srv.Output())
		}
		time.Sleep(200 * time.Millisecond)
	}
	ids := eventIDs(t, admin)
	if !ids[before.ID] || !ids[after.ID] {
		t.Fatalf("stored ids %v lack before-outage or after-outage", ids)
	}
	srv.stop()
}

func getStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := httpGet(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
