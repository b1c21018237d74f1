package dockerhub_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/forgetest"
	"github.com/forgehook/forgehook/internal/verify"
)

// FuzzInspectBodyDockerHub checks that InspectBody never panics, fails only
// with forge.ErrNotRecognized, and recognizes exactly the JSON objects whose
// push_data is an object and whose repository.repo_name is a non-empty
// string (decided here with a generic decoder), always as event "push"
// without a delivery id; and that what it recognizes normalizes.
func FuzzInspectBodyDockerHub(f *testing.F) {
	for _, fx := range forgetest.Seeds(f, "testdata") {
		f.Add(fx.Body)
	}
	f.Add([]byte(`{"push_data":{},"repository":{"repo_name":"a/b"}}`))
	f.Add([]byte(`{"push_data":{},"repository":{"repo_name":""}}`))
	f.Add([]byte(`{"push_data":[],"repository":{"repo_name":"a"}}`))
	f.Add([]byte(`{"push_data":{},"repository":{"repo_name":"a","repo_name":""}}`))
	p := newProvider(f)
	f.Fuzz(func(t *testing.T, payload []byte) {
		m, err := p.InspectBody(http.Header{}, payload)
		recognizable, ambiguous := false, false
		var doc map[string]json.RawMessage
		if forgetest.IsJSONObject(payload) && json.Unmarshal(payload, &doc) == nil {
			push, _, amb1 := forgetest.Member(doc, "push_data")
			repoRaw, _, amb2 := forgetest.Member(doc, "repository")
			var repo map[string]json.RawMessage
			var name string
			amb3 := false
			if json.Unmarshal(repoRaw, &repo) == nil && repo != nil {
				nameRaw, _, amb := forgetest.Member(repo, "repo_name")
				amb3 = amb
				_ = json.Unmarshal(nameRaw, &name)
			}
			ambiguous = amb1 || amb2 || amb3
			recognizable = bytes.HasPrefix(bytes.TrimLeft(push, " \t\r\n"), []byte("{")) && repo != nil && name != ""
		}
		if ambiguous {
			return
		}
		if err != nil {
			if !errors.Is(err, forge.ErrNotRecognized) {
				t.Fatalf("InspectBody = %v, want ErrNotRecognized", err)
			}
			if recognizable {
				t.Fatalf("InspectBody refused a Docker Hub payload: %v", err)
			}
			return
		}
		if !recognizable {
			t.Fatalf("InspectBody accepted %q", payload)
		}
		if m != (forge.Meta{Event: "push"}) {
			t.Fatalf("InspectBody = %+v", m)
		}
		fields, err := p.Normalize(m, payload)
		if err != nil || fields.Kind != event.KindRegistry {
			t.Fatalf("Normalize(recognized payload) = %v, %v", fields.Kind, err)
		}
	})
}

// FuzzNormalizeDockerHub checks that Normalize never panics, fails only on
// a payload that is not a JSON object (with forge.ErrBadPayload), and
// otherwise returns kind registry, action pushed, no git ref and no
// deletion, with the tag and pusher as sent when they are strings.
func FuzzNormalizeDockerHub(f *testing.F) {
	for _, fx := range forgetest.Seeds(f, "testdata") {
		f.Add(fx.Body)
	}
	f.Add([]byte(`{"push_data":{"tag":7},"repository":{"repo_name":"x"}}`))
	f.Add([]byte(`{"push_data":null,"repository":[]}`))
	f.Add([]byte(`[]`))
	p := newProvider(f)
	f.Fuzz(func(t *testing.T, payload []byte) {
		fields, err := p.Normalize(forge.Meta{Event: "push"}, payload)
		if err != nil {
			if !errors.Is(err, forge.ErrBadPayload) {
				t.Fatalf("Normalize = %v, want ErrBadPayload", err)
			}
			if forgetest.IsJSONObject(payload) {
				t.Fatalf("Normalize refused a JSON object: %v", err)
			}
			return
		}
		if !forgetest.IsJSONObject(payload) {
			t.Fatalf("Normalize accepted %q, not a JSON object", payload)
		}
		if fields.Kind != event.KindRegistry || fields.Action != "pushed" || fields.Forge != "dockerhub" {
			t.Fatalf("Normalize = kind %q action %q forge %q", fields.Kind, fields.Action, fields.Forge)
		}
		if fields.Ref != "" || fields.Branch != "" || fields.Deleted {
			t.Fatalf("Normalize set ref %q branch %q deleted %v on an image push", fields.Ref, fields.Branch, fields.Deleted)
		}
		var doc struct {
			PushData struct {
				Tag    any `json:"tag"`
				Pusher any `json:"pusher"`
			} `json:"push_data"`
		}
		if json.Unmarshal(payload, &doc) == nil {
			if tag, ok := doc.PushData.Tag.(string); ok && fields.Tag != tag {
				t.Fatalf("tag = %q, payload has %q", fields.Tag, tag)
			}
			if pusher, ok := doc.PushData.Pusher.(string); ok && fields.Actor.Login != pusher {
				t.Fatalf("actor.login = %q, payload has %q", fields.Actor.Login, pusher)
			}
		}
	})
}

// FuzzVerifyDockerHub checks that Verify accepts a request exactly when the
// first token query parameter is non-empty and equals a secret, and fails
// only with the verify sentinels.
func FuzzVerifyDockerHub(f *testing.F) {
	for _, fx := range forgetest.Seeds(f, "testdata") {
		f.Add(fx.Query, fx.Secret, "old-secret")
	}
	f.Add("token=", "", "")
	f.Add("token=a&token=b", "b", "c")
	f.Add("token=%zz", "x", "y")
	f.Add("TOKEN=x", "x", "")
	p := newProvider(f)
	f.Fuzz(func(t *testing.T, rawQuery, secret1, secret2 string) {
		q, _ := url.ParseQuery(rawQuery)
		req := &forge.Request{Header: http.Header{}, Query: q}
		err := p.Verify(req, []config.Secret{config.Secret(secret1), config.Secret(secret2)})
		tok := q.Get("token")
		switch {
		case err == nil:
			if tok == "" || (tok != secret1 && tok != secret2) {
				t.Fatalf("Verify accepted token %q for secrets %q, %q", tok, secret1, secret2)
			}
		case errors.Is(err, verify.ErrMissingSignature):
			if tok != "" {
				t.Fatalf("Verify = %v with token %q present", err, tok)
			}
		case errors.Is(err, verify.ErrBadSignature):
			if tok == secret1 || tok == secret2 {
				t.Fatalf("Verify refused the right token %q", tok)
			}
		default:
			t.Fatalf("Verify = %v, want a verify sentinel", err)
		}
	})
}
