package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigStoreMaxBytes(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		value, wantErr string
		want           ByteSize
	}{
		{"", "", 0},
		{"0", "", 0},
		{"4MiB", "", 4 * MiB},
		{"10GiB", "", 10 * GiB},
		{"1MiB", ":2: store.max_bytes: 1MiB is below the smallest size, 4MiB", 0},
		{"lots", "store.max_bytes:", 0},
	} {
		body := valid
		if tc.value != "" {
			body = "store:\n  max_bytes: " + tc.value + "\n" + valid
		}
		path := filepath.Join(dir, "forgehook.yaml")
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path, Options{Providers: testProviders})
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("max_bytes %q: %v, want an error with %q", tc.value, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("max_bytes %q: %v", tc.value, err)
			continue
		}
		if c.Store.MaxBytes != tc.want {
			t.Errorf("max_bytes %q: %v, want %v", tc.value, c.Store.MaxBytes, tc.want)
		}
	}
}
