package cli

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCLIEventsShow: the event is indented as the server sent it (members
// in their stored order); one the server would not render is an error
// that says where its bytes are.
func TestCLIEventsShow(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/events/ok":
			_, _ = w.Write([]byte(`{"seq":7,"stored":"2026-12-07T12:00:00Z","event":{"z":1,"a":{"b":[1,2]}},"triggers":[` +
				`{"trigger":"deploy","state":"delivered","matches":true,"attempts":[` +
				`{"trigger":"deploy","attempt":1,"time":"2026-12-07T12:00:01Z","duration_ns":1200000000,"outcome":"failed","status":503,"error":"upstream\nbusy","next_attempt":"2026-12-07T12:00:03Z"},` +
				`{"trigger":"deploy","attempt":2,"time":"2026-12-07T12:00:03Z","duration_ns":30000000,"outcome":"delivered","status":200}]},` +
				`{"trigger":"notify","state":"not_matched","matches":false,"attempts":[]}]}`))
		case "/api/v1/events/deep":
			_, _ = w.Write([]byte(`{"seq":8,"stored":"2026-12-07T12:00:00Z","event":null,"event_error":"body nests deeper than 512 levels"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	code, out, errs := runMain(t, "events", "show", "--admin", srv.URL, "ok")
	if code != 0 || !strings.Contains(out, "seq 7") || !strings.Contains(out, "{\n  \"z\": 1,\n  \"a\": {\n    \"b\": [") {
		t.Errorf("show ok: exit %d\n%s%s", code, out, errs)
	}
	for _, want := range []string{"deploy", "delivered (2 attempts)", "#1", "failed", " 503 1.2s", "upstream busy", "next ", "#2", " 200 30ms", "notify", "not_matched"} {
		if !strings.Contains(out, want) {
			t.Errorf("show ok: the per-trigger attempts lack %q:\n%s", want, out)
		}
	}
	code, out, errs = runMain(t, "events", "show", "--admin", srv.URL, "deep")
	if code == 0 || !strings.Contains(out+errs, "deeper than 512") || !strings.Contains(out+errs, "/api/v1/events/deep/body") {
		t.Errorf("show deep: exit %d\n%s%s", code, out, errs)
	}
}
