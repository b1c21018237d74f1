// Package deploy_test checks the deployment artifacts under deploy/: the
// container image's build step, the systemd unit, the Helm chart and the
// plain Kubernetes manifests rendered from it.
package deploy_test

import (
	"bytes"
	"debug/elf"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// binary is the forgehook built by the image's build step, in TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "forgehook-deploy")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "forgehook")
	// build.sh builds ./cmd/forgehook relative to the repository root.
	cmd := exec.Command("sh", "deploy/container/build.sh")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "VERSION=v0.0.0-test", "COMMIT=feedface", "OUT="+binary)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		panic("deploy/container/build.sh: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func run(t *testing.T, env []string, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// TestDeployBuildStepMakesAStaticVersionedBinary runs the Dockerfile's
// build step as a plain go build (no image builder needed) and checks that
// the binary can run on an empty base image: no dynamic loader, no shared
// libraries, and it knows its version and commit.
func TestDeployBuildStepMakesAStaticVersionedBinary(t *testing.T) {
	f, err := elf.Open(binary)
	if err != nil {
		t.Fatalf("open the built binary: %v", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("the binary asks for a dynamic loader: it would not start FROM scratch")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %v", libs)
	}
	out, err := run(t, nil, binary, "version")
	if err != nil || !strings.Contains(out, "forgehook v0.0.0-test") || !strings.Contains(out, "commit feedface") {
		t.Errorf("forgehook version: %v\n%s", err, out)
	}
	df, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"deploy/container/build.sh", "FROM scratch", "USER 65532:65532", "VOLUME [\"/var/lib/forgehook\"]"} {
		if !bytes.Contains(df, []byte(want)) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if bytes.Contains(df, []byte("/bin/sh\"]")) || bytes.Contains(df, []byte("ENTRYPOINT [\"sh")) {
		t.Errorf("the image's entrypoint needs a shell")
	}
}

// TestDeploySystemdUnitVerifiesAndIsHardened runs systemd-analyze verify on
// the unit (pointed at the built binary) and checks its hardening and that
// the example configuration it documents passes config check with the
// credentials systemd would provide.
func TestDeploySystemdUnitVerifiesAndIsHardened(t *testing.T) {
	unit, err := os.ReadFile("systemd/forgehook.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"DynamicUser=yes", "StateDirectory=forgehook", "ProtectSystem=strict", "NoNewPrivileges=yes", "LoadCredential=", "ExecReload=/bin/kill -HUP $MAINPID", "CapabilityBoundingSet=\n"} {
		if !bytes.Contains(unit, []byte(want)) {
			t.Errorf("unit lacks %q", want)
		}
	}
	creds := t.TempDir()
	for _, n := range []string{"admin-token", "github-secret"} {
		if err := os.WriteFile(filepath.Join(creds, n), []byte("s3cret-"+n+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := run(t, []string{"CREDENTIALS_DIRECTORY=" + creds}, binary, "config", "check", "systemd/forgehook.yaml"); err != nil {
		t.Errorf("config check of the systemd example: %v\n%s", err, out)
	}
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed: the unit's syntax is not verified here")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "forgehook.service")
	if err := os.WriteFile(p, bytes.ReplaceAll(unit, []byte("/usr/local/bin/forgehook"), []byte(binary)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, nil, sa, "verify", p)
	if err != nil || strings.Contains(out, "forgehook.service:") {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// helm returns the helm binary: on PATH or where go install puts it.
// script/test.sh installs it from the Go module proxy; without it the
// chart tests skip, except in CI where they fail.
func helm(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	out, _ := exec.Command("go", "env", "GOPATH").Output()
	p := filepath.Join(strings.TrimSpace(string(out)), "bin", "helm")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("helm is not installed (script/test.sh installs it: go install helm.sh/helm/v4/cmd/helm)")
	}
	t.Skip("helm is not installed: go install helm.sh/helm/v4/cmd/helm@v4.3.2")
	return ""
}

// chart copies the chart to a temporary directory without its dependency
// on the NATS chart, which cannot be fetched here (only the Go module proxy
// is reachable); nats.enabled still selects the store URL the chart renders.
func chart(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "forgehook")
	err := filepath.WalkDir("helm/forgehook", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("helm/forgehook", p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if rel == "Chart.yaml" {
			if i := bytes.Index(b, []byte("\ndependencies:")); i >= 0 {
				b = b[:i+1]
			}
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// docs splits rendered manifests into objects.
func docs(t *testing.T, rendered string) []map[string]any {
	t.Helper()
	var out []map[string]any
	dec := yaml.NewDecoder(strings.NewReader(rendered))
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("rendered manifests: %v\n%s", err, rendered)
		}
		if m != nil {
			out = append(out, m)
		}
	}
}

// checkConfig runs forgehook config check on the configuration the chart
// rendered into its Secret, with the admin token file where the pod mounts it.
func checkConfig(t *testing.T, objs []map[string]any) string {
	t.Helper()
	for _, o := range objs {
		if o["kind"] != "Secret" {
			continue
		}
		sd, _ := o["stringData"].(map[string]any)
		cfg, _ := sd["forgehook.yaml"].(string)
		tok, _ := sd["admin-token"].(string)
		dir := t.TempDir()
		tf := filepath.Join(dir, "admin-token")
		if err := os.WriteFile(tf, []byte(tok), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg = strings.ReplaceAll(cfg, "/etc/forgehook/secrets/admin-token", tf)
		cf := filepath.Join(dir, "forgehook.yaml")
		if err := os.WriteFile(cf, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := run(t, nil, binary, "config", "check", cf)
		if err != nil {
			t.Fatalf("config check of the rendered configuration: %v\n%s\n%s", err, out, cfg)
		}
		return cfg
	}
	t.Fatal("the chart rendered no Secret")
	return ""
}

func kinds(objs []map[string]any) map[string]int {
	k := map[string]int{}
	for _, o := range objs {
		k[o["kind"].(string)]++
	}
	return k
}

const testValues = `adminToken: admin-token-for-tests
config:
  endpoints:
    - name: acme-github
      provider: github
      secrets: [hook-secret-for-tests]
`

// TestDeployHelmChartLintsRendersAndRefusesUnsafeReplicas lints the chart,
// renders it with the embedded store and with an external cluster, passes
// each rendered configuration through config check, and checks that more
// than one replica on the embedded store is refused.
func TestDeployHelmChartLintsRendersAndRefusesUnsafeReplicas(t *testing.T) {
	h, c := helm(t), chart(t)
	vf := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(vf, []byte(testValues), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, nil, h, "lint", "--strict", c, "-f", vf); err != nil {
		t.Fatalf("helm lint: %v\n%s", err, out)
	}

	out, err := run(t, nil, h, "template", "fh", c, "-f", vf)
	if err != nil {
		t.Fatalf("helm template (embedded): %v\n%s", err, out)
	}
	objs := docs(t, out)
	k := kinds(objs)
	for _, want := range []string{"StatefulSet", "Secret", "Service", "PodDisruptionBudget"} {
		if k[want] == 0 {
			t.Errorf("rendered no %s: %v", want, k)
		}
	}
	cfg := checkConfig(t, objs)
	if strings.Contains(cfg, "url: nats://") {
		t.Errorf("embedded store rendered a store URL:\n%s", cfg)
	}
	if !strings.Contains(out, "path: /readyz") || !strings.Contains(out, "path: /healthz") || !strings.Contains(out, "readOnlyRootFilesystem: true") {
		t.Errorf("probes or read-only root file system missing:\n%s", out)
	}

	out, err = run(t, nil, h, "template", "fh", c, "-f", vf, "--set", "replicaCount=2")
	if err == nil || !strings.Contains(out, "needs an external JetStream store") {
		t.Errorf("2 replicas on the embedded store were not refused: %v\n%s", err, out)
	}
	out, err = run(t, nil, h, "template", "fh", c, "-f", vf, "--set", "adminToken=")
	if err == nil || !strings.Contains(out, "adminToken is required") {
		t.Errorf("a chart without an admin token was not refused: %v\n%s", err, out)
	}

	out, err = run(t, nil, h, "template", "fh", c, "-f", vf, "--set", "replicaCount=3,nats.enabled=true,serviceMonitor.enabled=true,networkPolicy.enabled=true")
	if err != nil {
		t.Fatalf("helm template (cluster): %v\n%s", err, out)
	}
	objs = docs(t, out)
	k = kinds(objs)
	if k["ServiceMonitor"] != 1 || k["NetworkPolicy"] != 1 {
		t.Errorf("ServiceMonitor or NetworkPolicy not rendered: %v", k)
	}
	cfg = checkConfig(t, objs)
	if !strings.Contains(cfg, "url: nats://fh-nats:4222") || !strings.Contains(cfg, "replicas: 3") {
		t.Errorf("cluster store not in the rendered configuration:\n%s", cfg)
	}
}

// TestDeployPlainManifestsMatchTheChart keeps deploy/k8s true: it is the
// chart rendered with deploy/k8s/values.yaml (regenerate with
// FORGEHOOK_UPDATE_K8S=1 go test ./deploy/).
func TestDeployPlainManifestsMatchTheChart(t *testing.T) {
	h, c := helm(t), chart(t)
	out, err := run(t, nil, h, "template", "forgehook", c, "-f", "k8s/values.yaml", "--namespace", "forgehook")
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, out)
	}
	want := "# Generated from deploy/helm/forgehook with deploy/k8s/values.yaml:\n" +
		"#   FORGEHOOK_UPDATE_K8S=1 go test ./deploy/ -run TestDeployPlainManifests\n" +
		"# Edit the Secret's admin-token and endpoints before applying:\n" +
		"#   kubectl create namespace forgehook && kubectl apply -n forgehook -f deploy/k8s/forgehook.yaml\n" + out
	if os.Getenv("FORGEHOOK_UPDATE_K8S") != "" {
		if err := os.WriteFile("k8s/forgehook.yaml", []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("k8s/forgehook.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("deploy/k8s/forgehook.yaml differs from the chart's rendering: run FORGEHOOK_UPDATE_K8S=1 go test ./deploy/ -run TestDeployPlainManifests")
	}
	checkConfig(t, docs(t, out))
}

// TestDeployReleaseScriptWritesArchivesAndChecksums runs the release
// script for the host's target (the others differ only in GOOS/GOARCH)
// and checks the archive and its checksum line.
func TestDeployReleaseScriptWritesArchivesAndChecksums(t *testing.T) {
	dist := t.TempDir()
	out, err := run(t, []string{"TARGETS=linux/amd64", "DIST=" + dist}, "bash", "../script/release.sh", "v0.0.1")
	if err != nil {
		t.Fatalf("script/release.sh: %v\n%s", err, out)
	}
	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	archive := "forgehook_0.0.1_linux_amd64.tar.gz"
	if _, err := os.Stat(filepath.Join(dist, archive)); err != nil || !strings.Contains(string(sums), "  "+archive+"\n") {
		t.Fatalf("release archive or its checksum missing: %v\n%s", err, sums)
	}
	if out, err := run(t, nil, "sh", "-c", "cd "+dist+" && sha256sum -c SHA256SUMS"); err != nil {
		t.Errorf("checksums do not verify: %v\n%s", err, out)
	}
}
