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
			_, _ = w.Write([]byte(`{"seq":7,"stored":"2026-12-07T12:00:00Z","event":{"z":1,"a":{"b":[1,2]}}}`))
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
	code, out, errs = runMain(t, "events", "show", "--admin", srv.URL, "deep")
	if code == 0 || !strings.Contains(out+errs, "deeper than 512") || !strings.Contains(out+errs, "/api/v1/events/deep/body") {
		t.Errorf("show deep: exit %d\n%s%s", code, out, errs)
	}
}
