package forge

import "testing"

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
