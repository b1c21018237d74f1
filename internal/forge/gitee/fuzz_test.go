package gitee_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/forgetest"
)

// fuzzNow is the time every fuzzed delivery is received: the second known
// answer's timestamp, so that its seeds verify.
var fuzzNow = ms(kat2TS)

// FuzzVerifyGitee checks that Verify accepts a delivery only when
// X-Gitee-Token is one of the secrets or their signature (recomputed here,
// apart from package verify) over an X-Gitee-Timestamp within an hour of
// the receipt; that it always accepts those; that a failure wraps exactly
// one verify sentinel; and that the body never changes the outcome (Gitee
// does not sign it).
func FuzzVerifyGitee(f *testing.F) {
	p := newProvider(f, nil)
	for _, fx := range forgetest.Seeds(f, "testdata") {
		secret := fx.Secret
		if secret == "" {
			secret = fx.Meta["capture-key"]
		}
		if secret == "" {
			secret = forgetest.TestSecret
		}
		h := fx.Header.Clone()
		if fx.Secret == "" {
			p.Sign(h, fx.Body, secret, fuzzNow)
		}
		f.Add(secret, h.Get("X-Gitee-Token"), h.Get("X-Gitee-Timestamp"), fx.Body)
	}
	f.Add(kat1Key, kat1Token, kat1TS, []byte(`{}`))
	f.Add(kat2Key, kat2Token, kat2TS, []byte(`{}`))
	f.Add(kat2Key, kat2TokenQuery, kat2TS, []byte(`{}`))
	f.Add(kat2Key, katHex, kat2TS, []byte(`{}`))

	f.Fuzz(func(t *testing.T, secret, token, ts string, body []byte) {
		h := http.Header{}
		if token != "" {
			h.Set("X-Gitee-Token", token)
		}
		if ts != "" {
			h.Set("X-Gitee-Timestamp", ts)
		}
		secrets := []config.Secret{config.Secret(secret)}
		err := p.Verify(&forge.Request{Header: h, Body: body, Payload: body, Received: fuzzNow}, secrets)
		errEmpty := p.Verify(&forge.Request{Header: h, Received: fuzzNow}, secrets)
		if (err == nil) != (errEmpty == nil) || !sameSentinel(err, errEmpty) {
			t.Fatalf("the body changed the outcome: %v with it, %v without", err, errEmpty)
		}
		tok := strings.TrimSpace(token)
		password := tok != "" && tok == secret
		signed, fresh := signatureHolds(secret, tok, strings.TrimSpace(ts))
		if err != nil {
			n := 0
			for _, s := range sentinels {
				if errors.Is(err, s) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("Verify = %v: wraps %d verify sentinels, want 1", err, n)
			}
			if password || (signed && fresh) {
				t.Fatalf("Verify(valid credentials) = %v", err)
			}
			return
		}
		if !password && !(signed && fresh) {
			t.Fatalf("accepted X-Gitee-Token %q, X-Gitee-Timestamp %q: neither the password nor a fresh signature under the secret", token, ts)
		}
	})
}

func sameSentinel(a, b error) bool {
	for _, s := range sentinels {
		if errors.Is(a, s) != errors.Is(b, s) {
			return false
		}
	}
	return true
}

// signatureHolds is Gitee's check written out apart from package verify:
// tok (as sent or URL-decoded, in any base64 alphabet, padded or not) is the
// HMAC-SHA256 of ts + "\n" + secret under secret, and ts (milliseconds) lies
// within an hour of fuzzNow.
func signatureHolds(secret, tok, ts string) (signed, fresh bool) {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "\n" + secret))
	want := m.Sum(nil)
	forms := []string{tok}
	if dec, err := url.PathUnescape(tok); err == nil {
		forms = append(forms, dec)
	}
	for _, form := range forms {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			if got, err := enc.DecodeString(form); err == nil && hmac.Equal(got, want) {
				signed = true
			}
		}
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return signed, false
	}
	d := fuzzNow.Sub(time.UnixMilli(n))
	return signed, d <= time.Hour && d >= -time.Hour
}

// FuzzNormalizeGitee checks that Normalize never fails on a JSON object,
// fails only with forge.ErrBadPayload otherwise, and returns a canonical
// kind for forge "gitee" with consistent fields.
func FuzzNormalizeGitee(f *testing.F) {
	p := newProvider(f, nil)
	for _, fx := range forgetest.Seeds(f, "testdata") {
		ev := fx.Header.Get("X-Gitee-Event")
		if ev == "" {
			ev = fx.Header.Get("X-Git-Oschina-Event")
		}
		f.Add(ev, fx.Body)
	}
	f.Add("Merge Request Hook", []byte(`{"action":"update","action_desc":"source_branch_changed","number":"7","pull_request":{"merged":true,"head":null}}`))
	f.Add("Push Hook", []byte(`{"ref":"refs/tags/v1","after":"0000000000000000000000000000000000000000","deleted":"yes"}`))
	f.Add("note_hooks", []byte(`{"action":"comment","noteable_type":"PullRequest","pull_request":{"number":-3}}`))
	f.Add("Push Hook", []byte(`[]`))

	f.Fuzz(func(t *testing.T, ev string, body []byte) {
		fields, err := p.Normalize(forge.Meta{Event: ev}, body)
		isObject := forgetest.IsJSONObject(body)
		if err != nil {
			if !errors.Is(err, forge.ErrBadPayload) {
				t.Fatalf("Normalize error %v does not wrap ErrBadPayload", err)
			}
			if isObject {
				t.Fatalf("Normalize(JSON object) = %v", err)
			}
			return
		}
		if !isObject {
			t.Fatalf("Normalize accepted a body that is not a JSON object: %q", body)
		}
		if !slices.Contains(event.Kinds, fields.Kind) {
			t.Fatalf("kind %q is not canonical", fields.Kind)
		}
		if fields.Forge != "gitee" {
			t.Fatalf("forge = %q", fields.Forge)
		}
		if fields.Deleted && fields.Kind != event.KindPush && fields.Kind != event.KindTag {
			t.Fatalf("deleted on kind %q", fields.Kind)
		}
		if fields.Kind == event.KindPush || fields.Kind == event.KindTag {
			if (fields.Kind == event.KindTag) != strings.HasPrefix(fields.Ref, "refs/tags/") {
				t.Fatalf("kind %q with ref %q: a tag is exactly a push to refs/tags/", fields.Kind, fields.Ref)
			}
			if fields.Deleted != (fields.Action == "deleted") {
				t.Fatalf("deleted %v with action %q", fields.Deleted, fields.Action)
			}
		}
		if fields.PullRequest.Merged != (fields.PullRequest.State == "merged") {
			t.Fatalf("merged %v with state %q", fields.PullRequest.Merged, fields.PullRequest.State)
		}
		if fields.PullRequest.Number < 0 {
			t.Fatalf("negative pull request number %d", fields.PullRequest.Number)
		}
		if strings.ContainsAny(fields.Action, "ABCDEFGHIJKLMNOPQRSTUVWXYZ -") {
			t.Fatalf("action %q is not lower_snake", fields.Action)
		}
	})
}

// member is one top-level member of a JSON object: its decoded name and its
// value's bytes as written.
type member struct {
	name  string
	value string
}

// members lists the top-level members of the JSON object b, repeated names
// included, with encoding/json (not the scanner Redact uses).
func members(t *testing.T, b []byte) []member {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %q", b)
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("name: %v in %q", err, b)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("value: %v in %q", err, b)
		}
		out = append(out, member{tok.(string), string(v)})
	}
	return out
}

// FuzzRedactGitee checks that for any JSON object Redact returns a JSON
// object with the same members in the same order, byte for byte, less every
// top-level password and sign, and that it leaves a payload without them
// untouched.
func FuzzRedactGitee(f *testing.F) {
	p := newProvider(f, nil)
	for _, fx := range forgetest.Seeds(f, "testdata") {
		f.Add(fx.Body)
	}
	f.Add([]byte(`{"pass\u0077ord":"p","a":[{"sign":1}],"sign":"s","password":null}`))
	f.Add([]byte(" {\n\"sign\" :\t\"a\\\"b\" , \"x\":{\"}\":\"]\"}}\n"))

	f.Fuzz(func(t *testing.T, body []byte) {
		if !json.Valid(body) || !bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("{")) {
			return
		}
		orig := bytes.Clone(body)
		got := p.Redact(body)
		if !bytes.Equal(body, orig) {
			t.Fatalf("Redact modified its input")
		}
		if !json.Valid(got) {
			t.Fatalf("Redact(%q) = %q, not JSON", body, got)
		}
		var want []member
		for _, m := range members(t, body) {
			if m.name != "password" && m.name != "sign" {
				want = append(want, m)
			}
		}
		if gotM := members(t, got); !slices.Equal(gotM, want) {
			t.Fatalf("Redact(%q) = %q: members %q, want %q", body, got, gotM, want)
		}
		if len(want) == len(members(t, body)) && !bytes.Equal(got, body) {
			t.Fatalf("Redact changed %q, which has nothing to remove, to %q", body, got)
		}
	})
}
