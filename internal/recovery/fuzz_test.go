package recovery

import (
	"encoding/json"
	"testing"
)

// FuzzRecoverGitHubDeliveries decodes a page of GitHub deliveries and
// groups it: every group has a guid, counts its attempts, and is OK
// exactly when one of its attempts was answered 2xx.
func FuzzRecoverGitHubDeliveries(f *testing.F) {
	f.Add([]byte(`[{"id":1,"guid":"a","delivered_at":"2026-12-07T10:00:00Z","redelivery":false,"status":"OK","status_code":200,"event":"push","action":null}]`))
	f.Add([]byte(`[{"id":2,"guid":"b","delivered_at":"2026-12-07T10:00:00Z","status_code":502},{"id":3,"guid":"b","delivered_at":"2026-12-07T11:00:00Z","redelivery":true,"status_code":200,"action":"opened"}]`))
	f.Add([]byte(`[{"id":4,"guid":"","status_code":0}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var ds []ghDelivery
		if json.Unmarshal(b, &ds) != nil {
			return
		}
		groups := groupDeliveries(ds)
		total := 0
		for _, g := range groups {
			if g.guid == "" || g.attempts == 0 || g.redelivered > g.attempts || g.latest.GUID != g.guid {
				t.Fatalf("bad group %+v", g)
			}
			ok := false
			n := 0
			for _, d := range ds {
				if d.GUID == g.guid {
					n++
					ok = ok || d.ok()
					if d.DeliveredAt.After(g.latest.DeliveredAt) {
						t.Fatalf("latest %v is not the newest of %s", g.latest.DeliveredAt, g.guid)
					}
				}
			}
			if n != g.attempts || ok != g.ok {
				t.Fatalf("group %s: attempts %d ok %v, want %d %v", g.guid, g.attempts, g.ok, n, ok)
			}
			total += g.attempts
		}
		want := 0
		for _, d := range ds {
			if d.GUID != "" {
				want++
			}
		}
		if total != want {
			t.Fatalf("groups hold %d attempts of %d", total, want)
		}
	})
}

// FuzzRecoverGitLabEventKey decodes a GitLab hook event: its key, when
// found, is a non-empty Idempotency-Key header value.
func FuzzRecoverGitLabEventKey(f *testing.F) {
	f.Add([]byte(`{"id":1,"trigger":"push_hooks","request_headers":{"Idempotency-Key":"k","X-Gitlab-Event":"Push Hook"},"response_status":"502","created_at":"2026-12-07T10:00:00Z"}`))
	f.Add([]byte(`{"id":2,"request_headers":{"idempotency-key":""},"response_status":500}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var ev glEvent
		if json.Unmarshal(b, &ev) != nil {
			return
		}
		k, ok := ev.key()
		if ok != (k != "") {
			t.Fatalf("key %q ok %v", k, ok)
		}
		if ok {
			found := false
			for h, v := range ev.RequestHeaders {
				if v == k && len(h) == len("Idempotency-Key") {
					found = true
				}
			}
			if !found {
				t.Fatalf("key %q is not an Idempotency-Key header of %v", k, ev.RequestHeaders)
			}
		}
	})
}
