package route

import "testing"

// benchExprs are typical trigger expressions: on the record only, on the
// body, and a comprehension over the commits.
var benchExprs = map[string]string{
	"event":   `event.kind == "push" && event.branch == "main" && event.repository.full_name.startsWith("acme/")`,
	"body":    `has(body.pusher) && body.pusher.name == "nobody"`,
	"commits": `event.commits.exists(c, c.message.contains("[skip ci]"))`,
}

// BenchmarkRouteMatch measures what a delivery pays for a trigger's when:
// decoding the activation of a stored GitHub push and evaluating one
// expression on it.
func BenchmarkRouteMatch(b *testing.B) {
	raw := fixtureRecord(b, "github", "push.1")
	env, err := NewEnv()
	if err != nil {
		b.Fatal(err)
	}
	for name, expr := range benchExprs {
		p, err := env.Compile(expr)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				act, err := NewActivation(raw)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := p.Match(act); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("activation", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := NewActivation(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}
