package route

import (
	"testing"
)

// FuzzRouteActivation feeds arbitrary records to the activation decoder
// and evaluates a few expressions on what it accepts: no input makes it
// panic, and evaluation never panics either (errors are fine).
func FuzzRouteActivation(f *testing.F) {
	f.Add([]byte(`{"specversion":"1.0","id":"x","data":{"header":{"X-A":["1"]},"body":{"ref":"refs/heads/main"},"normalized":{"kind":"push","branch":"main","commits":[{"message":"m"}]}}}`))
	f.Add([]byte(`{"data":{"body":[1,2,3],"normalized":{}}}`))
	f.Add([]byte(`{"data":{"body":null}}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[]`))
	env, err := NewEnv()
	if err != nil {
		f.Fatal(err)
	}
	var progs []*Program
	for _, e := range []string{
		`event.kind == "push" && event.branch == "main"`,
		`has(body.ref) && body.ref.startsWith("refs/")`,
		`event.commits.exists(c, c.message.contains("x"))`,
		`header["x-a"][0] == "1"`,
	} {
		p, err := env.Compile(e)
		if err != nil {
			f.Fatal(err)
		}
		progs = append(progs, p)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		a, err := NewActivation(raw)
		if err != nil {
			return
		}
		for _, p := range progs {
			_, _ = p.Match(a)
		}
	})
}
