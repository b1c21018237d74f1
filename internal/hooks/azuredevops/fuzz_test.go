package azuredevops

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
)

// FuzzAzureDevOpsGroup folds arbitrary subscription lists: the id lists
// every subscription once, sorted, and splits back when they are GUIDs;
// events are sorted and unique.
func FuzzAzureDevOpsGroup(f *testing.F) {
	if b, err := os.ReadFile("testdata/subscription.json"); err == nil {
		f.Add([]byte("[" + string(b) + "]"))
	}
	f.Add([]byte(`[{"id":"a","eventType":"git.push","status":"onProbation"},{"id":"b","eventType":"git.push","status":"disabledBySystem"}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var subs []subscription
		if json.Unmarshal(b, &subs) != nil || len(subs) == 0 {
			return
		}
		allGUID := true
		for _, s := range subs {
			allGUID = allGUID && guid.MatchString(s.ID)
		}
		h, err := group(subs)
		if (err == nil) != allGUID {
			t.Fatalf("group error %v with all GUIDs %v", err, allGUID)
		}
		if err != nil {
			return
		}
		ids := strings.Split(h.ID, ",")
		if len(ids) != len(subs) || !slices.IsSorted(ids) {
			t.Fatalf("id %q for %d subscriptions", h.ID, len(subs))
		}
		if !slices.IsSorted(h.Events) || len(slices.Compact(slices.Clone(h.Events))) != len(h.Events) {
			t.Fatalf("events %v", h.Events)
		}
		if got, err := splitID(h.ID); err != nil || len(got) != len(subs) {
			t.Fatalf("splitID(%q) = %v, %v", h.ID, got, err)
		}
	})
}
