package harbor_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/forgetest"
	"github.com/forgehook/forgehook/internal/verify"
)

// FuzzInspectBodyHarbor checks that InspectBody never panics, fails only
// with forge.ErrNotRecognized, and recognizes exactly (decided here with a
// generic decoder) a binary-mode Ce-Type starting with "harbor.", a
// CloudEvent with a specversion and a harbor.* type (event = type,
// delivery = dedup key = id), or a Default payload with a type and an
// event_data object (no delivery id); and that what it recognizes
// normalizes to a canonical kind.
func FuzzInspectBodyHarbor(f *testing.F) {
	for _, fx := range forgetest.Seeds(f, "testdata") {
		f.Add(fx.Body, fx.Header.Get("Ce-Type"), fx.Header.Get("Ce-Id"))
	}
	f.Add([]byte(`{"specversion":"1.0","id":"x","type":"harbor.","event_data":{}}`), "", "")
	f.Add([]byte(`{"specversion":1,"type":"PUSH_ARTIFACT","event_data":{}}`), "", "")
	f.Add([]byte(`{"type":"PUSH_ARTIFACT","Event_Data":{}}`), "", "")
	f.Add([]byte(``), " harbor.scan.failed ", "id")
	p := newProvider(f)
	f.Fuzz(func(t *testing.T, payload []byte, ceType, ceID string) {
		h := http.Header{}
		if ceType != "" {
			h.Set("Ce-Type", ceType)
			h.Set("Ce-Id", ceID)
		}
		m, err := p.InspectBody(h, payload)
		if err != nil && !errors.Is(err, forge.ErrNotRecognized) {
			t.Fatalf("InspectBody = %v, want ErrNotRecognized", err)
		}
		if ct := strings.TrimSpace(h.Get("Ce-Type")); strings.HasPrefix(ct, "harbor.") {
			id := strings.TrimSpace(h.Get("Ce-Id"))
			if err != nil || m != (forge.Meta{Event: ct, Delivery: id, DedupKey: id}) {
				t.Fatalf("InspectBody(binary mode %q) = %+v, %v", ct, m, err)
			}
			return
		}
		var doc map[string]json.RawMessage
		var wantMeta forge.Meta
		recognizable := false
		if forgetest.IsJSONObject(payload) && json.Unmarshal(payload, &doc) == nil {
			spec, _, a1 := forgetest.Member(doc, "specversion")
			typ, _, a2 := forgetest.Member(doc, "type")
			id, _, a3 := forgetest.Member(doc, "id")
			data, _, a4 := forgetest.Member(doc, "event_data")
			if a1 || a2 || a3 || a4 {
				return
			}
			switch s, ty := forgetest.JSONString(spec), forgetest.JSONString(typ); {
			case s != "" && strings.HasPrefix(ty, "harbor."):
				recognizable, wantMeta = true, forge.Meta{Event: ty, Delivery: forgetest.JSONString(id), DedupKey: forgetest.JSONString(id)}
			case s == "" && ty != "" && bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("{")):
				recognizable, wantMeta = true, forge.Meta{Event: ty}
			}
		}
		if err != nil {
			if recognizable {
				t.Fatalf("InspectBody refused %q: %v", payload, err)
			}
			return
		}
		if !recognizable || m != wantMeta {
			t.Fatalf("InspectBody(%q) = %+v, want recognized %v as %+v", payload, m, recognizable, wantMeta)
		}
		fields, err := p.Normalize(m, payload)
		if err != nil || !slices.Contains(event.Kinds, fields.Kind) {
			t.Fatalf("Normalize(recognized payload) = kind %q, %v", fields.Kind, err)
		}
	})
}

// FuzzNormalizeHarbor checks that Normalize never panics, fails only on a
// payload that is not a JSON object (with forge.ErrBadPayload), and
// otherwise returns a canonical kind for forge "harbor", a lower_snake
// action, no git ref, no deletion, and a tag that is no digest.
func FuzzNormalizeHarbor(f *testing.F) {
	for _, fx := range forgetest.Seeds(f, "testdata") {
		m, err := newProvider(f).InspectBody(fx.Header, fx.Body)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(m.Event, fx.Body)
	}
	f.Add("REPLICATION", []byte(`{"event_data":{"replication":{"job_status":"Ünknown Stätus"}}}`))
	f.Add("", []byte(`{"type":"X_ARTIFACT","data":{"resources":[{"tag":"a:b"}]}}`))
	f.Add("PUSH_ARTIFACT", []byte(`[]`))
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
		if !slices.Contains(event.Kinds, fields.Kind) || fields.Kind == event.KindPing || fields.Forge != "harbor" {
			t.Fatalf("Normalize = kind %q forge %q", fields.Kind, fields.Forge)
		}
		if fields.Ref != "" || fields.Branch != "" || fields.Deleted {
			t.Fatalf("Normalize set ref %q branch %q deleted %v", fields.Ref, fields.Branch, fields.Deleted)
		}
		if strings.Contains(fields.Tag, ":") {
			t.Fatalf("tag %q is a digest", fields.Tag)
		}
		if strings.Trim(fields.Action, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			t.Fatalf("action %q is not lower_snake", fields.Action)
		}
	})
}

// FuzzVerifyHarbor checks that Verify accepts an Authorization header only
// when, decided here apart from package verify, it equals a secret, or is
// "Bearer <secret>", or Basic credentials that decode to a secret; and that
// it fails only with the verify sentinels.
func FuzzVerifyHarbor(f *testing.F) {
	for _, fx := range forgetest.Seeds(f, "testdata") {
		secret := fx.Secret
		if secret == "" {
			secret = forgetest.TestSecret
		}
		f.Add(fx.Header.Get("Authorization"), secret)
	}
	f.Add("Bearer t0k", "t0k")
	f.Add("bearer  t0k ", "t0k")
	f.Add("Basic dTpw", "u:p")
	f.Add("Basic dTpw", "Basic dTpw")
	f.Add("Bearer", "Bearer")
	f.Add("", "")
	p := newProvider(f)
	f.Fuzz(func(t *testing.T, auth, secret string) {
		h := http.Header{}
		h.Set("Authorization", auth)
		err := p.Verify(&forge.Request{Header: h}, []config.Secret{config.Secret(secret)})
		v := strings.TrimSpace(h.Get("Authorization"))
		if err != nil {
			if !errors.Is(err, verify.ErrMissingSignature) && !errors.Is(err, verify.ErrBadSignature) {
				t.Fatalf("Verify = %v, want a verify sentinel", err)
			}
			if errors.Is(err, verify.ErrMissingSignature) != (v == "") {
				t.Fatalf("Verify(%q) = %v", v, err)
			}
			if v != "" && v == secret {
				t.Fatalf("Verify refused the secret itself: %v", err)
			}
			return
		}
		if v == "" {
			t.Fatalf("Verify accepted an empty Authorization")
		}
		if v == secret {
			return
		}
		scheme, rest, _ := strings.Cut(v, " ")
		rest = strings.TrimSpace(rest)
		if strings.EqualFold(scheme, "Bearer") && rest != "" && rest == secret {
			return
		}
		if strings.EqualFold(scheme, "Basic") {
			if raw, derr := base64.StdEncoding.DecodeString(rest); derr == nil && string(raw) == secret {
				return
			}
		}
		t.Fatalf("Verify accepted Authorization %q for secret %q", v, secret)
	})
}
