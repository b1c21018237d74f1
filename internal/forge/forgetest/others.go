package forgetest

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/forgehook/forgehook/internal/forge"
)

// RejectsOtherForges checks that p, a provider that recognizes deliveries
// by their payload, takes none of the other providers' fixtures for its
// own: every one must give forge.ErrNotRecognized, which is what lets
// auto-detection try the payload forges in turn. own is p's package
// directory name; the generic provider's fixtures, which relay other
// senders' payloads on purpose, are skipped.
func RejectsOtherForges(t *testing.T, p forge.BodyInspector, own string) {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join("..", "*", "testdata", "deliveries"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, dir := range dirs {
		forgeDir := filepath.Base(filepath.Dir(filepath.Dir(dir)))
		if forgeDir == own || forgeDir == "generic" {
			continue
		}
		fixtures, err := LoadDir(dir)
		if err != nil {
			t.Errorf("%s: %v", dir, err)
			continue
		}
		for _, fx := range fixtures {
			payload, _, err := fx.Payload()
			if err != nil {
				t.Errorf("%s/%s: %v", forgeDir, fx.Name, err)
				continue
			}
			n++
			if _, err := p.InspectBody(fx.Header, payload); !errors.Is(err, forge.ErrNotRecognized) {
				t.Errorf("InspectBody(%s/%s) = %v, want ErrNotRecognized", forgeDir, fx.Name, err)
			}
		}
	}
	if n < 100 {
		t.Errorf("checked %d deliveries of other forges, want at least 100", n)
	}
}
