package ingest

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/forgehook/forgehook/internal/forge"
)

// FuzzDecode checks the body decoder: it never panics, and whatever it
// accepts is a non-empty valid JSON payload (from the body itself, or the
// form's payload field).
func FuzzDecode(f *testing.F) {
	f.Add("application/json", []byte(`{"ref":"refs/heads/main"}`))
	f.Add("application/x-www-form-urlencoded", []byte(`payload=%7B%22a%22%3A1%7D`))
	f.Add("application/json; charset=utf-8", []byte(`[1,2]`))
	f.Add("", []byte(`{}`))
	f.Add("application/cloudevents+json", []byte(`{"specversion":"1.0"}`))
	f.Add("text/plain", []byte(`hello`))
	f.Add("application/x-www-form-urlencoded", []byte(`payload=%zz`))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		req := &forge.Request{Body: body}
		err := decode(req, ct)
		if err != nil {
			var he *httpError
			if !errors.As(err, &he) || (he.Status != 400 && he.Status != 415) {
				t.Fatalf("decode error %v is not a 400 or 415", err)
			}
			return
		}
		if len(req.Payload) == 0 || !json.Valid(req.Payload) {
			t.Fatalf("accepted a payload that is not JSON: %q", req.Payload)
		}
	})
}
