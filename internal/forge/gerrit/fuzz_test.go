package gerrit_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/forgetest"
	"github.com/forgehook/forgehook/internal/verify"
)

// FuzzInspectBodyGerrit checks that InspectBody never panics, fails only
// with forge.ErrNotRecognized, and recognizes exactly (decided here with a
// generic decoder) the JSON objects with a non-empty string type and a
// numeric eventCreatedOn, as event type without a delivery id; and that what
// it recognizes normalizes.
func FuzzInspectBodyGerrit(f *testing.F) {
	for _, fx := range forgetest.Seeds(f, "testdata") {
		f.Add(fx.Body)
	}
	f.Add([]byte(`{"type":"x","eventCreatedOn":"1"}`))
	f.Add([]byte(`{"TYPE":"x","EventCreatedOn":0}`))
	f.Add([]byte(`{"type":"x","eventCreatedOn":1e400}`))
	p := newProvider(f)
	f.Fuzz(func(t *testing.T, payload []byte) {
		m, err := p.InspectBody(http.Header{}, payload)
		if err != nil && !errors.Is(err, forge.ErrNotRecognized) {
			t.Fatalf("InspectBody = %v, want ErrNotRecognized", err)
		}
		var doc map[string]json.RawMessage
		recognizable := false
		var typ string
		if forgetest.IsJSONObject(payload) && json.Unmarshal(payload, &doc) == nil {
			rawType, _, a1 := forgetest.Member(doc, "type")
			created, _, a2 := forgetest.Member(doc, "eventCreatedOn")
			if a1 || a2 {
				return
			}
			var v any
			_ = json.Unmarshal(rawType, &typ)
			numeric := json.Unmarshal(created, &v) == nil
			if numeric {
				_, numeric = v.(float64)
			}
			// A number too large for a float64 fails to decode into
			// any, but is still a JSON number.
			if trimmed := bytes.TrimSpace(created); !numeric && len(trimmed) > 0 && (trimmed[0] == '-' || trimmed[0] >= '0' && trimmed[0] <= '9') {
				numeric = true
			}
			recognizable = typ != "" && numeric
		}
		if err != nil {
			if recognizable {
				t.Fatalf("InspectBody refused %q: %v", payload, err)
			}
			return
		}
		if !recognizable || m != (forge.Meta{Event: typ}) {
			t.Fatalf("InspectBody(%q) = %+v, want recognized %v as %q", payload, m, recognizable, typ)
		}
		fields, err := p.Normalize(m, payload)
		if err != nil || !slices.Contains(event.Kinds, fields.Kind) {
			t.Fatalf("Normalize(recognized payload) = kind %q, %v", fields.Kind, err)
		}
	})
}

// FuzzNormalizeGerrit checks that Normalize never panics, fails only on a
// payload that is not a JSON object (with forge.ErrBadPayload), and
// otherwise returns a canonical kind other than ping for forge "gerrit", a
// lower_snake action, a full ref on every push (refs/heads/) or tag
// (refs/tags/), deletion only of a push or tag with an all-zero after, and
// merged only for a merged change.
func FuzzNormalizeGerrit(f *testing.F) {
	for _, fx := range forgetest.Seeds(f, "testdata") {
		m, err := newProvider(f).InspectBody(fx.Header, fx.Body)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(m.Event, fx.Body)
	}
	f.Add("ref-updated", []byte(`{"refUpdate":{"refName":"refs/","newRev":"0"}}`))
	f.Add("batch-ref-updated", []byte(`{"refUpdates":[{},{"refName":"main"}]}`))
	f.Add("comment-added", []byte(`{"change":{"number":"x"},"approvals":[{"type":"Code-Review","value":"-2","oldValue":null}]}`))
	f.Add("", []byte(`{"type":"change-merged","change":{"status":"NEW","id":"I1"}}`))
	p := newProvider(f)
	f.Fuzz(func(t *testing.T, name string, payload []byte) {
		fields, err := p.Normalize(forge.Meta{Event: name}, payload)
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
		if !slices.Contains(event.Kinds, fields.Kind) || fields.Kind == event.KindPing || fields.Forge != "gerrit" {
			t.Fatalf("Normalize = kind %q forge %q", fields.Kind, fields.Forge)
		}
		if strings.Trim(fields.Action, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			t.Fatalf("action %q is not lower_snake", fields.Action)
		}
		switch fields.Kind {
		case event.KindPush:
			if !strings.HasPrefix(fields.Ref, "refs/heads/") {
				t.Fatalf("push with ref %q", fields.Ref)
			}
		case event.KindTag:
			if !strings.HasPrefix(fields.Ref, "refs/tags/") {
				t.Fatalf("tag with ref %q", fields.Ref)
			}
		}
		if fields.Deleted && (fields.Kind != event.KindPush && fields.Kind != event.KindTag || fields.After == "" || strings.Trim(fields.After, "0") != "") {
			t.Fatalf("deleted on kind %q with after %q", fields.Kind, fields.After)
		}
		ev := name
		if ev == "" {
			var d struct {
				Type string `json:"type"`
			}
			_ = json.Unmarshal(payload, &d)
			ev = d.Type
		}
		if fields.PullRequest.Merged && ev != "change-merged" && fields.PullRequest.State != "MERGED" {
			t.Fatalf("merged with state %q on event %q", fields.PullRequest.State, ev)
		}
	})
}

// FuzzVerifyGerrit checks that Verify accepts only HTTP Basic credentials
// that decode (apart from package verify) to the secret, fails only with the
// verify sentinels, and accepts what Sign sets.
func FuzzVerifyGerrit(f *testing.F) {
	for _, fx := range forgetest.Seeds(f, "testdata") {
		secret := fx.Secret
		if secret == "" {
			secret = forgetest.TestSecret
		}
		f.Add(fx.Header.Get("Authorization"), secret)
	}
	f.Add("Basic dTpw", "u:p")
	f.Add("basic   dTpw  ", "u:p")
	f.Add("Basic", "")
	f.Add("Bearer u:p", "u:p")
	p := newProvider(f)
	f.Fuzz(func(t *testing.T, auth, secret string) {
		h := http.Header{}
		h.Set("Authorization", auth)
		err := p.Verify(&forge.Request{Header: h}, []config.Secret{config.Secret(secret)})
		if err != nil {
			if !errors.Is(err, verify.ErrMissingSignature) && !errors.Is(err, verify.ErrBadSignature) {
				t.Fatalf("Verify = %v, want a verify sentinel", err)
			}
		} else {
			scheme, rest, _ := strings.Cut(h.Get("Authorization"), " ")
			raw, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
			if !strings.EqualFold(scheme, "Basic") || derr != nil || string(raw) != secret || secret == "" {
				t.Fatalf("Verify accepted Authorization %q for secret %q", auth, secret)
			}
		}
		if secret != "" {
			signed := http.Header{}
			p.Sign(signed, nil, secret, time.Time{})
			if err := p.Verify(&forge.Request{Header: signed}, []config.Secret{"other", config.Secret(secret)}); err != nil {
				t.Fatalf("Verify(Sign(%q)) = %v", secret, err)
			}
		}
	})
}
