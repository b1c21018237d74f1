package forge

import (
	"errors"
	"testing"

	"github.com/forgehook/forgehook/internal/jsonx"
)

func TestForgeLowerSnake(t *testing.T) {
	for in, want := range map[string]string{
		"opened": "opened", "on-demand-test": "on_demand_test", "reviewer:approved": "reviewer_approved",
		"WorkItemCreated": "work_item_created", "PUSH_ARTIFACT": "push_artifact", "merge request": "merge_request",
		"__a--b__": "a_b", "": "", "ÉTÉ": "t",
	} {
		if got := LowerSnake(in); got != want {
			t.Errorf("LowerSnake(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestForgeDecodeObject(t *testing.T) {
	var v struct {
		A string `json:"a"`
		B int    `json:"b"`
	}
	if err := DecodeObject([]byte("\xef\xbb\xbf {\"a\": 5, \"b\": 2}"), &v); err != nil || v.B != 2 || v.A != "" {
		t.Fatalf("lenient decode: %+v %v", v, err)
	}
	for _, bad := range []string{"", "[]", "null", "{", "x"} {
		if err := DecodeObject([]byte(bad), &v); err == nil {
			t.Errorf("DecodeObject(%q) = nil", bad)
		}
	}
}

// TestForgeDecodeObjectLenient checks the leniency in depth: a member of
// another type, however deep, is skipped and the rest decoded; bad syntax
// anywhere fails with jsonx.ErrSyntax.
func TestForgeDecodeObjectLenient(t *testing.T) {
	type inner struct {
		N int    `json:"n"`
		S string `json:"s"`
	}
	var v struct {
		A  string  `json:"a"`
		In []inner `json:"in"`
		P  *inner  `json:"p"`
	}
	in := `{"a":"x","in":[{"n":"1","s":"one"},{"n":2,"s":{}}],"p":{"n":1.5,"s":"p"},"extra":[1,{"b":null}]}`
	if err := DecodeObject([]byte(in), &v); err != nil {
		t.Fatal(err)
	}
	if v.A != "x" || len(v.In) != 2 || v.In[0] != (inner{S: "one"}) || v.In[1] != (inner{N: 2}) || v.P == nil || *v.P != (inner{S: "p"}) {
		t.Errorf("lenient decode: %+v", v)
	}
	for _, bad := range []string{`{"a":"x",}`, `{"a":"x"} {}`, `{"a":"\q"}`, `{"a":"x","in":[1,]}`} {
		if err := DecodeObject([]byte(bad), &v); !errors.Is(err, jsonx.ErrSyntax) {
			t.Errorf("DecodeObject(%q) = %v, want jsonx.ErrSyntax", bad, err)
		}
	}
}
