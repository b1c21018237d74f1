package azuredevops_test

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

// isJSONObject reports whether payload, after an optional UTF-8 byte order
// mark, is exactly one JSON object.
func isJSONObject(payload []byte) bool {
	return forgetest.IsJSONObject(bytes.TrimPrefix(payload, []byte("\xef\xbb\xbf")))
}

// FuzzInspectBodyAzureDevOps checks that InspectBody never panics, fails
// only with forge.ErrNotRecognized, and recognizes exactly (decided here
// with a generic decoder) the JSON objects with non-empty string eventType
// and publisherId, as event eventType with the payload's string id as
// delivery id and dedup key; and that what it recognizes normalizes.
func FuzzInspectBodyAzureDevOps(f *testing.F) {
	for _, fx := range forgetest.Seeds(f, "testdata") {
		f.Add(fx.Body)
	}
	f.Add([]byte(`{"eventType":"git.push","publisherId":""}`))
	f.Add([]byte(`{"EVENTTYPE":"x","publisherid":"y","ID":"z"}`))
	f.Add([]byte("\xef\xbb\xbf{\"eventType\":\"a\",\"publisherId\":\"b\"}"))
	p := newProvider(f)
	f.Fuzz(func(t *testing.T, payload []byte) {
		m, err := p.InspectBody(http.Header{}, payload)
		if err != nil && !errors.Is(err, forge.ErrNotRecognized) {
			t.Fatalf("InspectBody = %v, want ErrNotRecognized", err)
		}
		var doc map[string]json.RawMessage
		recognizable := false
		var ev, id string
		if isJSONObject(payload) && json.Unmarshal(bytes.TrimPrefix(payload, []byte("\xef\xbb\xbf")), &doc) == nil {
			e, _, a1 := forgetest.Member(doc, "eventType")
			pub, _, a2 := forgetest.Member(doc, "publisherId")
			i, _, a3 := forgetest.Member(doc, "id")
			if a1 || a2 || a3 {
				return
			}
			ev, id = forgetest.JSONString(e), forgetest.JSONString(i)
			recognizable = ev != "" && forgetest.JSONString(pub) != ""
		}
		if err != nil {
			if recognizable {
				t.Fatalf("InspectBody refused %q: %v", payload, err)
			}
			return
		}
		if !recognizable || m.Event != ev || m.Delivery != id || m.DedupKey != id {
			t.Fatalf("InspectBody(%q) = %+v, want recognized %v as %q %q", payload, m, recognizable, ev, id)
		}
		fields, err := p.Normalize(m, payload)
		if err != nil || !slices.Contains(event.Kinds, fields.Kind) {
			t.Fatalf("Normalize(recognized payload) = kind %q, %v", fields.Kind, err)
		}
	})
}

// FuzzNormalizeAzureDevOps checks that Normalize never panics, fails only on
// a payload that is not a JSON object (with forge.ErrBadPayload), and
// otherwise returns a canonical kind other than ping for forge
// "azure-devops", a lower_snake action, a ref on every push or tag (a tag
// exactly for refs/tags/), deletion only of a push or tag with an all-zero
// after, and merged only for a completed pull request.
func FuzzNormalizeAzureDevOps(f *testing.F) {
	for _, fx := range forgetest.Seeds(f, "testdata") {
		m, err := newProvider(f).InspectBody(fx.Header, fx.Body)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(m.Event, fx.Body)
	}
	f.Add("git.push", []byte(`{"resource":{"refUpdates":[{"name":"refs/tags/x","newObjectId":"00"}]}}`))
	f.Add("git.pullrequest.merged", []byte(`{"resource":{"mergeStatus":"Ünïcode Státus"}}`))
	f.Add("workitem.updated", []byte(`{"resource":{"revision":null,"fields":{"System.ChangedBy":"<>"}}}`))
	f.Add("", []byte(`{"eventType":"tfvc.checkin","resource":{"changesetId":-1,"comment":{}}}`))
	p := newProvider(f)
	f.Fuzz(func(t *testing.T, name string, payload []byte) {
		fields, err := p.Normalize(forge.Meta{Event: name}, payload)
		if err != nil {
			if !errors.Is(err, forge.ErrBadPayload) {
				t.Fatalf("Normalize = %v, want ErrBadPayload", err)
			}
			if isJSONObject(payload) {
				t.Fatalf("Normalize refused a JSON object: %v", err)
			}
			return
		}
		if !isJSONObject(payload) {
			t.Fatalf("Normalize accepted %q, not a JSON object", payload)
		}
		if !slices.Contains(event.Kinds, fields.Kind) || fields.Kind == event.KindPing || fields.Forge != "azure-devops" {
			t.Fatalf("Normalize = kind %q forge %q", fields.Kind, fields.Forge)
		}
		if strings.Trim(fields.Action, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			t.Fatalf("action %q is not lower_snake", fields.Action)
		}
		isRef := fields.Kind == event.KindPush || fields.Kind == event.KindTag
		if isRef && fields.Ref == "" {
			t.Fatalf("kind %q without a ref", fields.Kind)
		}
		if isRef && (fields.Kind == event.KindTag) != strings.HasPrefix(fields.Ref, "refs/tags/") {
			t.Fatalf("kind %q with ref %q", fields.Kind, fields.Ref)
		}
		if fields.Deleted && (!isRef || strings.Trim(fields.After, "0") != "" || fields.After == "") {
			t.Fatalf("deleted on kind %q with after %q", fields.Kind, fields.After)
		}
		if fields.PullRequest.Merged && fields.PullRequest.State != "completed" {
			t.Fatalf("merged with state %q", fields.PullRequest.State)
		}
	})
}

// FuzzVerifyAzureDevOps checks that Verify accepts an Authorization header
// only when, decided here apart from package verify, it equals a secret, is
// "Bearer <secret>", or Basic credentials that decode to a secret; that it
// fails only with the verify sentinels; and that what Sign sets verifies.
func FuzzVerifyAzureDevOps(f *testing.F) {
	for _, fx := range forgetest.Seeds(f, "testdata") {
		secret := fx.Secret
		if secret == "" {
			secret = forgetest.TestSecret
		}
		f.Add(fx.Header.Get("Authorization"), secret)
	}
	f.Add("Basic YWRvOnB3", "ado:pw")
	f.Add("Bearer  t ", "t")
	f.Add("Basic Og==", ":")
	f.Add("", "x")
	p := newProvider(f)
	f.Fuzz(func(t *testing.T, auth, secret string) {
		h := http.Header{}
		h.Set("Authorization", auth)
		err := p.Verify(&forge.Request{Header: h}, []config.Secret{config.Secret(secret)})
		v := strings.TrimSpace(h.Get("Authorization"))
		switch {
		case err != nil && !errors.Is(err, verify.ErrMissingSignature) && !errors.Is(err, verify.ErrBadSignature):
			t.Fatalf("Verify = %v, want a verify sentinel", err)
		case errors.Is(err, verify.ErrMissingSignature) != (v == ""):
			t.Fatalf("Verify(%q) = %v", v, err)
		case err != nil && v != "" && v == secret:
			t.Fatalf("Verify refused the secret itself: %v", err)
		case err == nil && v != secret:
			scheme, rest, _ := strings.Cut(v, " ")
			rest = strings.TrimSpace(rest)
			raw, derr := base64.StdEncoding.DecodeString(rest)
			bearer := strings.EqualFold(scheme, "Bearer") && rest != "" && rest == secret
			basicOK := strings.EqualFold(scheme, "Basic") && derr == nil && string(raw) == secret
			if !bearer && !basicOK {
				t.Fatalf("Verify accepted Authorization %q for secret %q", v, secret)
			}
		}
		if strings.TrimSpace(secret) == secret && secret != "" {
			signed := http.Header{}
			p.Sign(signed, nil, secret, time.Time{})
			if err := p.Verify(&forge.Request{Header: signed}, []config.Secret{"other", config.Secret(secret)}); err != nil {
				t.Fatalf("Verify(Sign(%q)) = %v", secret, err)
			}
		}
	})
}
