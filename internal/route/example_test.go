package route_test

import (
	"fmt"

	"github.com/forgehook/forgehook/internal/route"
)

// A trigger's when is type-checked against the normalized record: a
// misspelled field is a compile error with its column.
func ExampleEnv_Compile() {
	env, _ := route.NewEnv()
	_, err := env.Compile(`event.kind == "push" && event.brnch == "main"`)
	fmt.Println(err != nil)
	_, err = env.Compile(`event.kind == "push" && event.branch == "main"`)
	fmt.Println(err)
	// Output:
	// true
	// <nil>
}

// Explain shows which operand of a when was false, and the fields it read.
func ExampleProgram_Explain() {
	env, _ := route.NewEnv()
	p, _ := env.Compile(`event.kind == "push" && event.branch == "main"`)
	act, _ := route.NewActivation([]byte(`{"id":"x","data":{"normalized":{"kind":"push","branch":"dev"}}}`))
	x := p.Explain(act)
	fmt.Println(x.Value)
	for _, t := range x.Terms {
		fmt.Println(t.Value, t.Source, t.Reads)
	}
	// Output:
	// false
	// true event.kind == "push" [{event.kind "push"}]
	// false event.branch == "main" [{event.branch "dev"}]
}
