package eventindex

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzEventIndexDecode: any bytes either decode to an index or fail with
// ErrDamaged; an index that decodes answers the same after a Save and a
// Load, and its answers ascend from nothing above its Last.
func FuzzEventIndexDecode(f *testing.F) {
	r := rand.New(rand.NewPCG(9, 10))
	ix, _ := fill(f, 300, r)
	path := filepath.Join(f.TempDir(), "seed.eix")
	if _, err := ix.Save(path); err != nil {
		f.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	f.Add(raw)
	f.Add([]byte(fileMagic))
	f.Fuzz(func(t *testing.T, raw []byte) {
		ix, err := decode(raw)
		if err != nil {
			if !errors.Is(err, ErrDamaged) {
				t.Fatalf("error %v is not ErrDamaged", err)
			}
			return
		}
		q := Query{Terms: []Term{{FieldKind, "push"}}}
		a, _, _ := ix.Search(q, 0, 1000)
		all, _, _ := ix.Search(Query{}, 0, 1000)
		for _, s := range append(slices.Clone(a), all...) {
			if s > ix.Last() {
				t.Fatalf("answer %d above Last %d", s, ix.Last())
			}
		}
		ix2, err := decode(ix.encode())
		if err != nil {
			t.Fatalf("a decoded index does not load after a save: %v", err)
		}
		b, _, _ := ix2.Search(q, 0, 1000)
		if !slices.Equal(a, b) {
			t.Fatalf("answers differ after save and load: %v vs %v", a, b)
		}
	})
}
