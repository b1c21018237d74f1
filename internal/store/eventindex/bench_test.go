package eventindex

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkEventIndexAdd is the index's share of feeding one event: eight
// terms, the time table.
func BenchmarkEventIndexAdd(b *testing.B) {
	ix := New()
	t0 := time.Now()
	var docs []Doc
	for i := range 4096 {
		docs = append(docs, Doc{Endpoint: "gh", Forge: "github", Kind: "push", Repository: fmt.Sprintf("org/repo-%d", i%500),
			Ref: "refs/heads/main", Branch: "main", Actor: fmt.Sprintf("user%d", i%300), Delivery: "x"})
	}
	b.ReportAllocs()
	seq := uint64(0)
	for b.Loop() {
		seq++
		ix.Add(seq, t0.Add(time.Duration(seq)*time.Millisecond), docs[seq%4096])
	}
}
