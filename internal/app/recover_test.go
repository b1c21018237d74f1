package app_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/app"
	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/forge/all"
	"github.com/forgehook/forgehook/internal/trigger"
	"github.com/forgehook/forgehook/internal/verify"
)

// TestAppRecoverWiring: an endpoint with a recover: block is served by the
// admin API's recover routes and the Hooks page, a run feeds the metrics,
// and an endpoint without one is unknown to recovery.
func TestAppRecoverWiring(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "forgehook.yaml")
	yaml := fmt.Sprintf(`data_dir: %s
endpoints:
  - name: gh
    provider: github
    secrets: ["s"]
    recover: {mode: fetch, token: "recover-token", every: 1h}
  - name: plain
    provider: github
    secrets: ["s"]
`, filepath.Join(dir, "data"))
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	reg := all.Registry()
	cfg, err := config.Load(file, config.Options{Providers: reg.Has, Check: trigger.Check})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen, cfg.Admin.Listen = "127.0.0.1:0", "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &logBuffer{}
	a, err := app.New(ctx, cfg, app.Options{Logger: slog.New(slog.NewTextHandler(logs, nil)), Registry: reg, Presets: verify.PresetPrefixes})
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() { ran <- a.Run(ctx) }()
	admin := "http://" + a.AdminAddr()
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, admin+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("GET", "/api/v1/recover/plan", ""); code != 200 || !strings.Contains(body, `"missing": 0`) {
		t.Fatalf("plan: %d %s", code, body)
	}
	if code, _ := get("GET", "/api/v1/recover/plan?endpoint=plain", ""); code != 404 {
		t.Fatalf("plan of an endpoint without recover: %d", code)
	}
	if code, body := get("POST", "/api/v1/recover/run", `{"endpoint":"gh"}`); code != 200 || !strings.Contains(body, `"run": true`) {
		t.Fatalf("run: %d %s", code, body)
	}
	_, metrics := get("GET", "/metrics", "")
	for _, want := range []string{`forgehook_recover_missing_total{endpoint="gh",mode="fetch"} 0`, `forgehook_hooks_health{endpoint="gh",state="ok"} 0`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if code, body := get("GET", "/hooks", ""); code != 200 || !bytes.Contains([]byte(body), []byte(`data-recovery="gh"`)) {
		t.Errorf("hooks page: %d", code)
	}
	if strings.Contains(logs.String(), "recover-token") {
		t.Error("the recover token is in the log")
	}
	cancel()
	select {
	case err := <-ran:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return")
	}
}
