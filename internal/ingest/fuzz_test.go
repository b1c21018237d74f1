package ingest

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/jsonx"
)

// FuzzDecode checks the body decoder (modeOf, payloadOf, checkPayload): it
// never panics, refuses only with 400 or 415, never allocates more for a
// form's payload than the body's length, and whatever it accepts is a
// non-empty valid JSON payload (the body itself, or the form's payload
// field) nested at most jsonx.MaxDepth levels deep.
func FuzzDecode(f *testing.F) {
	f.Add("application/json", []byte(`{"ref":"refs/heads/main"}`))
	f.Add("application/x-www-form-urlencoded", []byte(`payload=%7B%22a%22%3A1%7D`))
	f.Add("application/json; charset=utf-8", []byte(`[1,2]`))
	f.Add("", []byte(`{}`))
	f.Add("application/cloudevents+json", []byte(`{"specversion":"1.0"}`))
	f.Add("text/plain", []byte(`hello`))
	f.Add("application/x-www-form-urlencoded", []byte(`payload=%zz`))
	f.Add("application/x-www-form-urlencoded", []byte(`a=1;b&payload=[[[]]]`))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		req := &forge.Request{Body: body}
		mode, err := modeOf(ct)
		if err == nil {
			err = payloadOf(req, mode, func(n int) ([]byte, error) {
				if n > len(body) {
					t.Fatalf("alloc(%d) for a body of %d bytes", n, len(body))
				}
				return make([]byte, 0, n), nil
			})
		}
		if err == nil {
			err = checkPayload(req.Payload)
		}
		if err != nil {
			var he *httpError
			if !errors.As(err, &he) || (he.Status != 400 && he.Status != 415) {
				t.Fatalf("decode error %v is not a 400 or 415", err)
			}
			return
		}
		if len(req.Payload) == 0 || !json.Valid(req.Payload) || jsonx.CheckPayload(req.Payload) != nil {
			t.Fatalf("accepted a payload that is not JSON within the depth rule: %q", req.Payload)
		}
	})
}
