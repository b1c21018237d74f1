package coding

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/ingest"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
	"github.com/forgehook/forgehook/internal/forge/forgetest"
	"github.com/forgehook/forgehook/internal/verify"
)

// Known-answer vectors, computed independently with Python's hmac module
// (python3 -c 'import hmac,hashlib; print(hmac.new(key, msg,
// hashlib.sha1).hexdigest())'). CODING publishes no vector: its sample
// request's signature is over a body it does not show whole, under a token
// it does not give.
const (
	// katPingSig is HMAC-SHA1 of the V1 ping body under its token "123".
	katPingBody = `{"token":"123","zen":"Coding！ 让开发更简单"}`
	katPingSig  = "sha1=551d88d0e948a52ce403eb3da376ca01b8ffae33"
	katSecret   = "coding-hook-token"
	katBody     = `{"ref":"refs/heads/master"}`
	katSig      = "sha1=3de755c8da4a0cdbfb0feb0ce6807f8eec6d109f"
	// The HMAC-SHA1 example of RFC 2104's era that Wikipedia lists.
	katFoxKey = "key"
	katFox    = "The quick brown fox jumps over the lazy dog"
	katFoxSig = "sha1=de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9"
)

// formSecret signs the raw-body form fixture (testdata/SOURCES.md).
const formSecret = "form-hook-s3cret"

func newProvider(t testing.TB) *Provider {
	return forgetest.New[*Provider](t, New, &config.Endpoint{Name: "coding", Provider: "coding"})
}

func TestCodingConformance(t *testing.T) {
	forgetest.Run(t, newProvider(t), forgetest.Options{BodySigned: true, MinFixtures: 23})
}

func TestCodingNew(t *testing.T) {
	p, err := New(nil)
	if err != nil {
		t.Fatalf("New(nil) = %v", err)
	}
	if p.Name() != "coding" {
		t.Errorf("Name() = %q, want coding", p.Name())
	}
}

func TestCodingKnownAnswer(t *testing.T) {
	p := newProvider(t)
	for _, tt := range []struct{ secret, body, sig string }{
		{"123", katPingBody, katPingSig},
		{katSecret, katBody, katSig},
		{katFoxKey, katFox, katFoxSig},
	} {
		h := http.Header{}
		p.Sign(h, []byte(tt.body), tt.secret, time.Time{})
		if got := h.Get(HeaderSignature); got != tt.sig {
			t.Errorf("Sign(%q) = %s, want %s", tt.body, got, tt.sig)
		}
		req := &forge.Request{Header: http.Header{HeaderSignature: {tt.sig}}, Body: []byte(tt.body), Payload: []byte(tt.body)}
		if err := p.Verify(req, []config.Secret{config.Secret(tt.secret)}); err != nil {
			t.Errorf("Verify(%q) = %v, want nil", tt.body, err)
		}
	}
}

// TestCodingSignedFormFixture checks the form fixture's signature, computed
// with Python over the raw form body, against Verify's primary input.
func TestCodingSignedFormFixture(t *testing.T) {
	f, payload := forgetest.LoadWithPayload(t, "deliveries", "derived-v2-push-form-rawsigned")
	if got := verify.Sign(verify.SHA1, verify.Hex, "sha1=", []byte(formSecret), f.Body); got != f.Header.Get(HeaderSignature) {
		t.Errorf("raw form body signature %s, fixture header %s", got, f.Header.Get(HeaderSignature))
	}
	if got := verify.Sign(verify.SHA1, verify.Hex, "sha1=", []byte(formSecret), payload); got == f.Header.Get(HeaderSignature) {
		t.Errorf("the fixture's signature is over the payload, want the raw form body")
	}
}

func TestCodingInspect(t *testing.T) {
	p := newProvider(t)
	tests := []struct {
		name    string
		h       http.Header
		want    forge.Meta
		wantErr error
	}{
		{"no headers", http.Header{}, forge.Meta{}, forge.ErrNotRecognized},
		{"delivery only", http.Header{"X-Coding-Delivery": {"d1"}}, forge.Meta{}, forge.ErrNotRecognized},
		{"empty event", http.Header{"X-Coding-Event": {""}}, forge.Meta{}, forge.ErrNotRecognized},
		{"hook id is not a delivery id", http.Header{"X-Coding-Service-Hook-Id": {"1024"}}, forge.Meta{}, forge.ErrNotRecognized},
		{
			"v2 push",
			http.Header{"X-Coding-Event": {"push"}, "X-Coding-Delivery": {"bf3f043a-3883-433c-8e20-312b04c49b46"}, "X-Coding-Webhook-Version": {"v2"}},
			forge.Meta{Event: "push", Delivery: "bf3f043a-3883-433c-8e20-312b04c49b46", DedupKey: "bf3f043a-3883-433c-8e20-312b04c49b46"},
			nil,
		},
		{"v2 merge request, spelled with a space", http.Header{"X-Coding-Event": {"merge request"}, "X-Coding-Delivery": {"d2"}}, forge.Meta{Event: "merge request", Delivery: "d2", DedupKey: "d2"}, nil},
		{"ping", http.Header{"X-Coding-Event": {"ping"}}, forge.Meta{Event: "ping", Ping: true}, nil},
		{"Ping is not ping", http.Header{"X-Coding-Event": {"Ping"}}, forge.Meta{Event: "Ping"}, nil},
		{
			"service hook",
			http.Header{"X-Coding-Service-Hook-Event": {"GIT_PUSHED"}, "X-Coding-Service-Hook-Id": {"1024"}, "X-Coding-Delivery": {"d3"}},
			forge.Meta{Event: "GIT_PUSHED", Delivery: "d3", DedupKey: "d3"},
			nil,
		},
		{"service hook without delivery: ingest hashes the body", http.Header{"X-Coding-Service-Hook-Event": {"CI_JOB_FINISHED"}, "X-Coding-Service-Hook-Id": {"1024"}}, forge.Meta{Event: "CI_JOB_FINISHED"}, nil},
		{"service hook header wins", http.Header{"X-Coding-Service-Hook-Event": {"GIT_MR_MERGED"}, "X-Coding-Event": {"merge request"}}, forge.Meta{Event: "GIT_MR_MERGED"}, nil},
		{"empty service hook header falls back", http.Header{"X-Coding-Service-Hook-Event": {""}, "X-Coding-Event": {"push"}}, forge.Meta{Event: "push"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.Inspect(tt.h)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Inspect() error = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Inspect() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCodingVerifyErrors(t *testing.T) {
	body := []byte(katBody)
	sig := func(secret string, b []byte) string {
		return verify.Sign(verify.SHA1, verify.Hex, "sha1=", []byte(secret), b)
	}
	good := sig(katSecret, body)
	form, formPayload := forgetest.LoadWithPayload(t, "deliveries", "derived-v2-push-form-rawsigned")
	formRawSig := form.Header.Get(HeaderSignature)
	right := []config.Secret{katSecret}

	jsonReq := func(h http.Header, b []byte) *forge.Request { return &forge.Request{Header: h, Body: b, Payload: b} }
	formReq := func(h http.Header) *forge.Request {
		return &forge.Request{Header: h, Body: form.Body, Payload: formPayload, Form: true}
	}
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Add(kv[i], kv[i+1])
		}
		return h
	}
	v1 := []byte(`{"ref":"refs/heads/master","event":"push","token":"v1-hook-token"}`)
	tests := []struct {
		name    string
		req     *forge.Request
		secrets []config.Secret
		want    error // nil: accepted
	}{
		{"valid", jsonReq(hdr(HeaderSignature, good), body), right, nil},
		{"uppercase hex and prefix", jsonReq(hdr(HeaderSignature, "SHA1="+strings.ToUpper(good[5:])), body), right, nil},
		{"surrounding spaces", jsonReq(hdr(HeaderSignature, "  "+good+" "), body), right, nil},
		{"missing header", jsonReq(hdr(HeaderEvent, "push"), body), right, verify.ErrMissingSignature},
		{"empty header", jsonReq(hdr(HeaderSignature, ""), body), right, verify.ErrMissingSignature},
		{"prefix only", jsonReq(hdr(HeaderSignature, "sha1="), body), right, verify.ErrMissingSignature},
		{"sha256= prefix", jsonReq(hdr(HeaderSignature, "sha256="+good[5:]), body), right, verify.ErrBadSignature},
		{"sha256 digest under sha1=", jsonReq(hdr(HeaderSignature, verify.Sign(verify.SHA256, verify.Hex, "sha1=", []byte(katSecret), body)), body), right, verify.ErrBadSignature},
		{"no prefix", jsonReq(hdr(HeaderSignature, good[5:]), body), right, verify.ErrBadSignature},
		{"bad hex", jsonReq(hdr(HeaderSignature, "sha1=zz"+good[7:]), body), right, verify.ErrBadSignature},
		{"truncated digest", jsonReq(hdr(HeaderSignature, good[:len(good)-2]), body), right, verify.ErrBadSignature},
		{"wrong secret", jsonReq(hdr(HeaderSignature, good), body), []config.Secret{"other"}, verify.ErrBadSignature},
		{"rotation: old secret still listed", jsonReq(hdr(HeaderSignature, sig("old", body)), body), []config.Secret{"new", "old"}, nil},
		{"rotation: new secret first", jsonReq(hdr(HeaderSignature, sig("new", body)), body), []config.Secret{"new", "old"}, nil},
		{"rotation: neither", jsonReq(hdr(HeaderSignature, sig("older", body)), body), []config.Secret{"new", "old"}, verify.ErrBadSignature},
		{"empty body, signature of another body", jsonReq(hdr(HeaderSignature, good), []byte{}), right, verify.ErrBadSignature},
		{"empty body signed", jsonReq(hdr(HeaderSignature, sig(katSecret, nil)), nil), right, nil},
		{"empty body, no credentials", jsonReq(http.Header{}, nil), right, verify.ErrMissingSignature},
		{"tampered body", jsonReq(hdr(HeaderSignature, good), append(bytes.Clone(body), ' ')), right, verify.ErrBadSignature},
		{"no secrets", jsonReq(hdr(HeaderSignature, good), body), nil, verify.ErrNoSecret},

		{"form: signature over the raw form body", formReq(hdr(HeaderSignature, formRawSig)), []config.Secret{formSecret}, nil},
		{"form: signature over the decoded payload", formReq(hdr(HeaderSignature, sig(formSecret, formPayload))), []config.Secret{formSecret}, nil},
		{"form: payload signature, rotated secret", formReq(hdr(HeaderSignature, sig(formSecret, formPayload))), []config.Secret{"new", formSecret}, nil},
		{"form: neither matches", formReq(hdr(HeaderSignature, sig(formSecret, []byte("payload=x")))), []config.Secret{formSecret}, verify.ErrBadSignature},
		{"form: wrong secret", formReq(hdr(HeaderSignature, formRawSig)), []config.Secret{"other"}, verify.ErrBadSignature},
		{"form: bad hex", formReq(hdr(HeaderSignature, "sha1=zz")), []config.Secret{formSecret}, verify.ErrBadSignature},
		{"json: a signature over another encoding is not accepted", jsonReq(hdr(HeaderSignature, formRawSig), formPayload), []config.Secret{formSecret}, verify.ErrBadSignature},

		{"service hook basic auth", jsonReq(hdr(HeaderAuthorization, forgetest.Basic("admin:admin123")), body), []config.Secret{"admin:admin123"}, nil},
		{"basic auth, lower-case scheme", jsonReq(hdr(HeaderAuthorization, "basic "+base64.StdEncoding.EncodeToString([]byte("admin:admin123"))), body), []config.Secret{"admin:admin123"}, nil},
		{"basic auth, wrong password", jsonReq(hdr(HeaderAuthorization, forgetest.Basic("admin:nope")), body), []config.Secret{"admin:admin123"}, verify.ErrBadSignature},
		{"basic auth, bad base64", jsonReq(hdr(HeaderAuthorization, "Basic !!!"), body), []config.Secret{"admin:admin123"}, verify.ErrBadSignature},
		{"basic auth, password alone is not the secret", jsonReq(hdr(HeaderAuthorization, forgetest.Basic("admin:admin123")), body), []config.Secret{"admin123"}, verify.ErrBadSignature},
		{"authorization compared whole", jsonReq(hdr(HeaderAuthorization, "Bearer hook-123"), body), []config.Secret{"Bearer hook-123"}, nil},
		{"authorization without its scheme in the secret", jsonReq(hdr(HeaderAuthorization, "Bearer hook-123"), body), []config.Secret{"hook-123"}, verify.ErrBadSignature},
		{"signature decides over authorization", jsonReq(hdr(HeaderSignature, sig("other", body), HeaderAuthorization, forgetest.Basic("admin:admin123")), body), []config.Secret{"admin:admin123", katSecret}, verify.ErrBadSignature},
		{"empty signature falls through to authorization", jsonReq(hdr(HeaderSignature, "sha1=", HeaderAuthorization, forgetest.Basic("admin:admin123")), body), []config.Secret{"admin:admin123"}, nil},

		{"v1 payload token", jsonReq(http.Header{}, v1), []config.Secret{"v1-hook-token"}, nil},
		{"v1 payload token, rotation", jsonReq(http.Header{}, v1), []config.Secret{"new", "v1-hook-token"}, nil},
		{"v1 payload token, wrong", jsonReq(http.Header{}, v1), []config.Secret{"other"}, verify.ErrBadSignature},
		{"v1 token is a prefix of the secret", jsonReq(http.Header{}, v1), []config.Secret{"v1-hook-token-2"}, verify.ErrBadSignature},
		{"v1 empty token", jsonReq(http.Header{}, []byte(`{"token":""}`)), right, verify.ErrMissingSignature},
		{"v1 token not a string", jsonReq(http.Header{}, []byte(`{"token":123}`)), []config.Secret{"123"}, verify.ErrMissingSignature},
		{"v1 nested token does not count", jsonReq(http.Header{}, []byte(`{"repository":{"token":"v1-hook-token"}}`)), []config.Secret{"v1-hook-token"}, verify.ErrMissingSignature},
		{"v1 Token key is not token", jsonReq(http.Header{}, []byte(`{"Token":"v1-hook-token"}`)), []config.Secret{"v1-hook-token"}, verify.ErrMissingSignature},
		{"v1 escaped key", jsonReq(http.Header{}, []byte(`{"\u0074oken":"v1-hook-token"}`)), []config.Secret{"v1-hook-token"}, nil},
		{"v1 malformed JSON", jsonReq(http.Header{}, []byte(`{"token":"v1-hook-token"`)), []config.Secret{"v1-hook-token"}, verify.ErrMissingSignature},
		{"signature decides over a payload token", jsonReq(hdr(HeaderSignature, sig("other", v1)), v1), []config.Secret{"v1-hook-token"}, verify.ErrBadSignature},
		{"authorization decides over a payload token", jsonReq(hdr(HeaderAuthorization, "Bearer nope"), v1), []config.Secret{"v1-hook-token"}, verify.ErrBadSignature},
	}
	p := newProvider(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Verify(tt.req, tt.secrets)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify() = %v, want errors.Is %v", err, tt.want)
			}
			for _, other := range []error{verify.ErrMissingSignature, verify.ErrBadSignature, verify.ErrNoSecret} {
				if other != tt.want && errors.Is(err, other) {
					t.Errorf("Verify() = %v also wraps %v", err, other)
				}
			}
			if got := ingest.StatusOf(err); got != http.StatusUnauthorized {
				t.Errorf("status = %d, want 401", got)
			}
			if !strings.HasPrefix(err.Error(), "coding: verify") {
				t.Errorf("Verify() = %q, want the coding: verify context", err)
			}
			for _, s := range tt.secrets {
				if strings.Contains(err.Error(), s.Reveal()) {
					t.Errorf("Verify() = %q leaks a secret", err)
				}
			}
		})
	}
}

// TestCodingLegacyV1 runs the V1 deliveries (the token in the body) through
// the checks of the conformance suite that apply to them, and compares
// their normalized output with testdata/legacy/golden. They stay out of
// testdata/deliveries because a payload token survives the suite's removal
// of credential headers and is not a body signature.
func TestCodingLegacyV1(t *testing.T) {
	fixtures, err := forgetest.LoadDir(filepath.Join("testdata", "legacy"))
	if err != nil {
		t.Fatal(err)
	}
	if len(fixtures) < 3 {
		t.Fatalf("%d legacy fixtures, want 3", len(fixtures))
	}
	p := newProvider(t)
	for _, f := range fixtures {
		t.Run(f.Name, func(t *testing.T) {
			req := forgetest.Request(t, f, time.Now())
			if f.Secret == "" {
				t.Fatal("a V1 fixture must state its token")
			}
			if err := p.Verify(req, []config.Secret{config.Secret(f.Secret)}); err != nil {
				t.Fatalf("Verify(right token) = %v", err)
			}
			if err := p.Verify(req, []config.Secret{"old", config.Secret(f.Secret)}); err != nil {
				t.Errorf("Verify(rotation) = %v", err)
			}
			if err := p.Verify(req, []config.Secret{"not-the-token"}); !errors.Is(err, verify.ErrBadSignature) {
				t.Errorf("Verify(wrong token) = %v, want ErrBadSignature", err)
			}
			stored := p.Redact(req.Payload)
			if bytes.Contains(stored, []byte(`"`+f.Secret+`"`)) {
				t.Errorf("Redact kept the token: %s", stored)
			}
			var before, after map[string]any
			if err := json.Unmarshal(req.Payload, &before); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(stored, &after); err != nil {
				t.Fatalf("Redact made invalid JSON: %v", err)
			}
			if after["token"] != "[redacted]" {
				t.Errorf("Redact: token = %v, want [redacted]", after["token"])
			}
			delete(before, "token")
			delete(after, "token")
			if b1, _ := json.Marshal(before); !bytes.Equal(b1, mustMarshal(t, after)) {
				t.Errorf("Redact changed more than the token")
			}
			redacted := *req
			redacted.Payload, redacted.Body = stored, stored
			if err := p.Verify(&redacted, []config.Secret{config.Secret(f.Secret)}); !errors.Is(err, verify.ErrBadSignature) {
				t.Errorf("Verify(stored payload) = %v, want ErrBadSignature", err)
			}

			m, err := p.Inspect(req.Header)
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			fields, err := p.Normalize(m, req.Payload)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			got := forgetest.Golden{Event: m.Event, Delivery: m.Delivery, DedupKey: m.DedupKey, Ping: m.Ping, ForgeAction: fields.ForgeAction, Normalized: fields}
			forgetest.CompareGolden(t, filepath.Join("testdata", "legacy", "golden", f.Name+".json"), got)
		})
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCodingRedact(t *testing.T) {
	p := newProvider(t)
	tests := []struct {
		name, in, want string
	}{
		{"no token", `{"ref":"refs/heads/master"}`, `{"ref":"refs/heads/master"}`},
		{"token kept in order and spacing", `{"ref": "x",  "token" : "s3cret", "zen": "z"}`, `{"ref": "x",  "token" : "[redacted]", "zen": "z"}`},
		{"v1 ping", katPingBody, `{"token":"[redacted]","zen":"Coding！ 让开发更简单"}`},
		{"token that is not a string", `{"token":{"a":[1,2]},"b":1}`, `{"token":"[redacted]","b":1}`},
		{"duplicate keys", `{"token":"a","token":"b"}`, `{"token":"[redacted]","token":"[redacted]"}`},
		{"escaped key", `{"\u0074oken":"s3cret"}`, `{"\u0074oken":"[redacted]"}`},
		{"nested token untouched", `{"repository":{"token":"t"},"message":"\"token\""}`, `{"repository":{"token":"t"},"message":"\"token\""}`},
		{"Token key untouched", `{"Token":"t"}`, `{"Token":"t"}`},
		{"malformed JSON untouched", `{"token":"s3cret"`, `{"token":"s3cret"`},
		{"trailing garbage untouched", `{"token":"s3cret"}x`, `{"token":"s3cret"}x`},
		{"array untouched", `[{"token":"s3cret"}]`, `[{"token":"s3cret"}]`},
		{"empty", ``, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			orig := bytes.Clone(in)
			got := p.Redact(in)
			if string(got) != tt.want {
				t.Errorf("Redact(%s) = %s, want %s", tt.in, got, tt.want)
			}
			if !bytes.Equal(in, orig) {
				t.Errorf("Redact modified its input")
			}
		})
	}
}

// TestCodingEventCodes maps every Service Hook code of the events doc and of
// CODING's OpenAPI CreateServiceHook, and every WebHook V1/V2 event name, to
// its kind and action, on a payload without a body action.
func TestCodingEventCodes(t *testing.T) {
	type want struct {
		kind   event.Kind
		action string
	}
	codes := map[string]want{
		"GIT_PUSHED":                           {event.KindOther, ""}, // no ref in this payload
		"GIT_MR_CREATED":                       {event.KindPullRequest, "opened"},
		"GIT_MR_UPDATED":                       {event.KindPullRequest, "updated"},
		"GIT_MR_MERGED":                        {event.KindPullRequest, "merged"},
		"GIT_MR_CLOSED":                        {event.KindPullRequest, "closed"},
		"GIT_MR_NOTE":                          {event.KindComment, "created"},
		"ISSUE_COMMENT_CREATED":                {event.KindComment, "created"},
		"ISSUE_CREATED":                        {event.KindIssue, "opened"},
		"ISSUE_DELETED":                        {event.KindIssue, "deleted"},
		"ISSUE_STATUS_UPDATED":                 {event.KindIssue, "status_updated"},
		"ISSUE_ASSIGNEE_CHANGED":               {event.KindIssue, "assignee_changed"},
		"ISSUE_ITERATION_CHANGED":              {event.KindIssue, "iteration_changed"},
		"ISSUE_RELATIONSHIP_CHANGED":           {event.KindIssue, "relationship_changed"},
		"ISSUE_UPDATED":                        {event.KindIssue, "updated"},
		"ISSUE_HOUR_RECORD_UPDATED":            {event.KindIssue, "hour_record_updated"},
		"CI_JOB_CREATED":                       {event.KindPipeline, "created"},
		"CI_JOB_UPDATED":                       {event.KindPipeline, "updated"},
		"CI_JOB_DELETED":                       {event.KindPipeline, "deleted"},
		"CI_JOB_STARTED":                       {event.KindPipeline, "started"},
		"CI_JOB_FINISHED":                      {event.KindPipeline, "finished"},
		"ARTIFACTS_VERSION_CREATED":            {event.KindRegistry, "created"},
		"ARTIFACTS_VERSION_UPDATED":            {event.KindRegistry, "updated"},
		"ARTIFACTS_VERSION_DELETED":            {event.KindRegistry, "deleted"},
		"ARTIFACTS_VERSION_RELEASED":           {event.KindRegistry, "released"},
		"ARTIFACTS_VERSION_DOWNLOADED":         {event.KindOther, "downloaded"},
		"ARTIFACTS_VERSION_DOWNLOAD_FORBIDDEN": {event.KindOther, "download_forbidden"},
		"ARTIFACTS_VERSION_DOWNLOAD_ALLOWED":   {event.KindOther, "download_allowed"},
		"ARTIFACTS_VERSION_DOWNLOAD_BLOCKED":   {event.KindOther, "download_blocked"},
		"ARTIFACTS_REPO_CREATED":               {event.KindOther, "created"},
		"ARTIFACTS_REPO_UPDATED":               {event.KindOther, "updated"},
		"ARTIFACTS_REPO_DELETED":               {event.KindOther, "deleted"},
		"ITERATION_CREATED":                    {event.KindOther, "created"},
		"ITERATION_DELETED":                    {event.KindOther, "deleted"},
		"ITERATION_UPDATED":                    {event.KindOther, "updated"},
		"ITERATION_PLANNED":                    {event.KindOther, "planned"},
		"WIKI_CREATED":                         {event.KindOther, "created"},
		"WIKI_UPDATED":                         {event.KindOther, "updated"},
		"WIKI_MOVED":                           {event.KindOther, "moved"},
		"WIKI_SHARE_UPDATED":                   {event.KindOther, "share_updated"},
		"WIKI_ACCESS_UPDATED":                  {event.KindOther, "access_updated"},
		"WIKI_COPIED":                          {event.KindOther, "copied"},
		"WIKI_MOVED_TO_RECYCLE_BIN":            {event.KindOther, "moved_to_recycle_bin"},
		"WIKI_RESTORED_FROM_RECYCLE_BIN":       {event.KindOther, "restored_from_recycle_bin"},
		"WIKI_DELETED":                         {event.KindOther, "deleted"},
		"FILE_CREATED":                         {event.KindOther, "created"},
		"FILE_UPDATED":                         {event.KindOther, "updated"},
		"FILE_RENAMED":                         {event.KindOther, "renamed"},
		"FILE_SHARE_UPDATED":                   {event.KindOther, "share_updated"},
		"FILE_MOVED":                           {event.KindOther, "moved"},
		"FILE_COPIED":                          {event.KindOther, "copied"},
		"FILE_MOVED_TO_RECYCLE_BIN":            {event.KindOther, "moved_to_recycle_bin"},
		"FILE_RESTORED_FROM_RECYCLE_BIN":       {event.KindOther, "restored_from_recycle_bin"},
		"FILE_DELETED":                         {event.KindOther, "deleted"},
		"MEMBER_CREATED":                       {event.KindOther, "created"},
		"MEMBER_DELETED":                       {event.KindOther, "deleted"},
		"MEMBER_ROLE_UPDATED":                  {event.KindOther, "role_updated"},
		"TEST_PLAN_CREATED":                    {event.KindOther, "created"},
		"TEST_PLAN_UPDATED":                    {event.KindOther, "updated"},
		"TEST_PLAN_FINISHED":                   {event.KindOther, "finished"},
		"TEST_TASK_ASSIGNED":                   {event.KindOther, "assigned"},
		"TEST_REPORT_CREATED":                  {event.KindOther, "created"},
		"FLEXIBLE_TESTX_REVIEW_CREATED":        {event.KindOther, "created"},
		"FLEXIBLE_TESTX_REVIEW_COMMENTED":      {event.KindOther, "commented"},
		"FLEXIBLE_TESTX_REVIEW_UPDATED":        {event.KindOther, "updated"},
		"FLEXIBLE_TESTX_REVIEW_COMPLETED":      {event.KindOther, "completed"},
		"FLEXIBLE_TESTX_PLAN_CREATED":          {event.KindOther, "created"},
		"FLEXIBLE_TESTX_PLAN_TASK_ASSIGNED":    {event.KindOther, "assigned"},
		"FLEXIBLE_TESTX_PLAN_UPDATED":          {event.KindOther, "updated"},
		"FLEXIBLE_TESTX_PLAN_FINISHED":         {event.KindOther, "finished"},
		"FLEXIBLE_TESTX_REPORT_CREATED":        {event.KindOther, "created"},
		"CODE_DOG_CREATE_JOB":                  {event.KindOther, "create_job"},
		"CODE_DOG_RESULT_NOTIFY":               {event.KindOther, "result_notify"},
		"PLAN_CREATED":                         {event.KindOther, "created"},
		"PLAN_DELETED":                         {event.KindOther, "deleted"},
		"PLAN_COMMENT_CREATED":                 {event.KindOther, "created"},
		"PLAN_STATUE_CHANGED":                  {event.KindOther, "statue_changed"},
		"PLAN_ASSIGNEE_CHANGED":                {event.KindOther, "assignee_changed"},
		"PLAN_UPDATED":                         {event.KindOther, "updated"},
		"RISK_CREATED":                         {event.KindOther, "created"},
		"RISK_DELETED":                         {event.KindOther, "deleted"},
		"RISK_COMMENT_CREATED":                 {event.KindOther, "created"},
		"RISK_STATUS_CHANGED":                  {event.KindOther, "status_changed"},
		"RISK_ASSIGNEE_CHANGED":                {event.KindOther, "assignee_changed"},
		"RISK_UPDATED":                         {event.KindOther, "updated"},
		"SOME_FUTURE_EVENT":                    {event.KindOther, ""},
		// WebHook V2 and V1 names.
		"push":          {event.KindOther, ""}, // no ref in this payload
		"merge request": {event.KindPullRequest, ""},
		"merge_request": {event.KindPullRequest, ""},
		"pull_request":  {event.KindPullRequest, ""},
		"ping":          {event.KindPing, ""},
		"member":        {event.KindOther, ""},
		"task":          {event.KindOther, ""},
		"topic":         {event.KindOther, ""},
		"document":      {event.KindOther, ""},
		"watch":         {event.KindOther, ""},
		"star":          {event.KindOther, ""},
		"":              {event.KindOther, ""},
	}
	p := newProvider(t)
	for code, w := range codes {
		f, err := p.Normalize(forge.Meta{Event: code}, []byte(`{"event":"","sender":{"name":"Alice"}}`))
		if err != nil {
			t.Errorf("Normalize(%q) = %v", code, err)
			continue
		}
		if f.Kind != w.kind || f.Action != w.action || f.Forge != "coding" {
			t.Errorf("Normalize(%q) = kind %q action %q forge %q, want %q %q coding", code, f.Kind, f.Action, f.Forge, w.kind, w.action)
		}
	}
	// With a ref, both push names are pushes.
	for _, name := range []string{"push", "GIT_PUSHED"} {
		f, err := p.Normalize(forge.Meta{Event: name}, []byte(`{"ref":"refs/heads/main"}`))
		if err != nil || f.Kind != event.KindPush || f.Branch != "main" {
			t.Errorf("Normalize(%q, ref) = %+v, %v; want push on main", name, f, err)
		}
	}
}

// TestCodingNormalizeCases pins the mappings that matter most, on the
// fixtures, so that a wrong golden cannot hide them.
func TestCodingNormalizeCases(t *testing.T) {
	p := newProvider(t)
	tests := []struct {
		dir, fixture string
		check        func(t *testing.T, f event.Fields)
	}{
		{"deliveries", "capture-v2-push-rainbond", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPush)
			forgetest.Want(t, "ref", f.Ref, "refs/heads/master")
			forgetest.Want(t, "branch", f.Branch, "master")
			forgetest.Want(t, "action", f.Action, "")
			forgetest.Want(t, "deleted", f.Deleted, false)
			forgetest.Want(t, "before", f.Before, "7e07669ef9a0726abc1844b3e80c01eb38c0f418")
			forgetest.Want(t, "after", f.After, "21e148b3f07087b9f8541220f7cd2ed7522d0836")
			forgetest.Want(t, "len(commits)", len(f.Commits), 1)
			forgetest.Want(t, "commits[0].timestamp (epoch ms 1554202380000)", f.Commits[0].Timestamp, "2019-04-02T10:53:00Z")
			forgetest.Want(t, "commits[0].author.login", f.Commits[0].Author.Login, "zhouhao")
			forgetest.Want(t, "commits[0].author.email", f.Commits[0].Author.Email, "zhouhao@hongyaa.com.cn")
			forgetest.Want(t, "repository (not in the truncated capture)", f.Repository, event.Repository{})
		}},
		{"deliveries", "docs-v2-push-new-branch", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPush)
			forgetest.Want(t, "action", f.Action, "created")
			forgetest.Want(t, "before", f.Before, event.ZeroSHA1)
			forgetest.Want(t, "commits is [] not null", f.Commits != nil, true)
		}},
		{"deliveries", "derived-v2-push-form", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPush)
			forgetest.Want(t, "after", f.After, "21e148b3f07087b9f8541220f7cd2ed7522d0836")
		}},
		{"deliveries", "derived-servicehook-GIT_PUSHED-branch", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPush)
			forgetest.Want(t, "branch", f.Branch, "master")
			forgetest.Want(t, "repository.full_name", f.Repository.FullName, "demo-team/demo/demo-app")
			forgetest.Want(t, "repository.name", f.Repository.Name, "demo-app")
			forgetest.Want(t, "repository.owner (owner has no login)", f.Repository.Owner, "demo-team")
			forgetest.Want(t, "repository.url", f.Repository.URL, "https://demo-team.coding.net/p/demo/d/demo-app/git")
			forgetest.Want(t, "repository.clone_url", f.Repository.CloneURL, "https://e.coding.net/demo-team/demo/demo-app.git")
			forgetest.Want(t, "repository.default_branch", f.Repository.DefaultBranch, "master")
			forgetest.Want(t, "actor.login (from the pusher)", f.Actor.Login, "alice")
			forgetest.Want(t, "actor.name", f.Actor.Name, "Alice")
			forgetest.Want(t, "actor.email", f.Actor.Email, "alice@example.com")
		}},
		{"deliveries", "derived-servicehook-GIT_PUSHED-tag-deleted", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindTag)
			forgetest.Want(t, "tag", f.Tag, "v1.2.0")
			forgetest.Want(t, "branch", f.Branch, "")
			forgetest.Want(t, "deleted", f.Deleted, true)
			forgetest.Want(t, "action", f.Action, "deleted")
			forgetest.Want(t, "after", f.After, event.ZeroSHA1)
			forgetest.Want(t, "len(commits)", len(f.Commits), 0)
		}},
		{"deliveries", "docs-servicehook-GIT_PUSHED", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind (empty ref)", f.Kind, event.KindOther)
			forgetest.Want(t, "deleted", f.Deleted, false)
		}},
		{"deliveries", "derived-servicehook-GIT_MR_MERGED", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPullRequest)
			forgetest.Want(t, "action", f.Action, "merged")
			forgetest.Want(t, "pull_request.number", f.PullRequest.Number, int64(12))
			forgetest.Want(t, "pull_request.title", f.PullRequest.Title, "Add the health check")
			forgetest.Want(t, "pull_request.state", f.PullRequest.State, "merged")
			forgetest.Want(t, "pull_request.source_branch", f.PullRequest.SourceBranch, "feature/healthz")
			forgetest.Want(t, "pull_request.target_branch", f.PullRequest.TargetBranch, "master")
			forgetest.Want(t, "pull_request.url", f.PullRequest.URL, "https://demo-team.coding.net/p/demo/d/demo-app/git/merge/12")
			forgetest.Want(t, "pull_request.merged", f.PullRequest.Merged, true)
		}},
		{"deliveries", "derived-servicehook-GIT_MR_CREATED", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "action", f.Action, "opened")
			forgetest.Want(t, "pull_request.number (a string)", f.PullRequest.Number, int64(13))
			forgetest.Want(t, "pull_request.source_branch (full ref)", f.PullRequest.SourceBranch, "feature/docs")
			forgetest.Want(t, "pull_request.target_branch", f.PullRequest.TargetBranch, "master")
			forgetest.Want(t, "pull_request.merged (empty string)", f.PullRequest.Merged, false)
		}},
		{"deliveries", "docs-servicehook-GIT_MR_CREATED", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPullRequest)
			forgetest.Want(t, "action", f.Action, "opened")
			forgetest.Want(t, "pull_request.number (empty)", f.PullRequest.Number, int64(0))
		}},
		{"deliveries", "derived-v2-merge-request-create", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPullRequest)
			forgetest.Want(t, "action", f.Action, "opened")
			forgetest.Want(t, "forgeaction", f.ForgeAction, "create")
			forgetest.Want(t, "pull_request.number", f.PullRequest.Number, int64(3))
			forgetest.Want(t, "pull_request.source_branch", f.PullRequest.SourceBranch, "feature/base-image")
			forgetest.Want(t, "actor.login", f.Actor.Login, "alice")
			forgetest.Want(t, "repository.owner", f.Repository.Owner, "alice")
		}},
		{"deliveries", "derived-servicehook-CI_JOB_FINISHED", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPipeline)
			forgetest.Want(t, "action", f.Action, "finished")
			forgetest.Want(t, "ref", f.Ref, "refs/heads/master")
			forgetest.Want(t, "branch", f.Branch, "master")
		}},
		{"deliveries", "derived-servicehook-ARTIFACTS_VERSION_CREATED", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindRegistry)
			forgetest.Want(t, "action", f.Action, "created")
			forgetest.Want(t, "tag", f.Tag, "1.2.0")
			forgetest.Want(t, "ref", f.Ref, "")
			forgetest.Want(t, "repository.full_name (the project)", f.Repository.FullName, "demo-team/demo")
			forgetest.Want(t, "repository.url", f.Repository.URL, "https://demo-team.coding.net/p/demo")
		}},
		{"deliveries", "docs-servicehook-ISSUE_COMMENT_CREATED", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindComment)
			forgetest.Want(t, "action", f.Action, "created")
		}},
		{"deliveries", "docs-servicehook-MEMBER_ROLE_UPDATED", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindOther)
			forgetest.Want(t, "action", f.Action, "role_updated")
		}},
		{"legacy", "docs-v1-ping", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPing)
		}},
		{"legacy", "derived-v1-push", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPush)
			forgetest.Want(t, "repository.full_name (from https_url)", f.Repository.FullName, "alice/demo")
			forgetest.Want(t, "repository.url", f.Repository.URL, "https://coding.net/u/alice/p/demo")
			forgetest.Want(t, "repository.owner", f.Repository.Owner, "alice")
			forgetest.Want(t, "actor.login (global_key)", f.Actor.Login, "alice")
			forgetest.Want(t, "commits[0].id (sha)", f.Commits[0].ID, "21e148b3f07087b9f8541220f7cd2ed7522d0836")
			forgetest.Want(t, "commits[0].message (short_message)", f.Commits[0].Message, "changes ubuntu_16_python3-urllib")
			forgetest.Want(t, "commits[0].author (committer)", f.Commits[0].Author.Email, "alice@example.com")
		}},
		{"legacy", "derived-v1-merge-request", func(t *testing.T, f event.Fields) {
			forgetest.Want(t, "kind", f.Kind, event.KindPullRequest)
			forgetest.Want(t, "action", f.Action, "merged")
			forgetest.Want(t, "forgeaction (merge_request.action)", f.ForgeAction, "merge")
			forgetest.Want(t, "pull_request.number", f.PullRequest.Number, int64(4))
			forgetest.Want(t, "pull_request.state (status)", f.PullRequest.State, "ACCEPTED")
			forgetest.Want(t, "pull_request.source_branch", f.PullRequest.SourceBranch, "fix-build")
			forgetest.Want(t, "pull_request.url (web_url)", f.PullRequest.URL, "https://coding.net/u/alice/p/demo/git/merge/4")
			forgetest.Want(t, "pull_request.merged (by its action)", f.PullRequest.Merged, true)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			fx, payload := forgetest.LoadWithPayload(t, tt.dir, tt.fixture)
			m, err := p.Inspect(fx.Header)
			if err != nil {
				t.Fatal(err)
			}
			f, err := p.Normalize(m, payload)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			forgetest.Want(t, "forge", f.Forge, "coding")
			tt.check(t, f)
		})
	}
}

// TestCodingFormMatchesJSON checks that a form-encoded delivery normalizes
// like the same payload sent as JSON.
func TestCodingFormMatchesJSON(t *testing.T) {
	p := newProvider(t)
	jf, jp := forgetest.LoadWithPayload(t, "deliveries", "capture-v2-push-rainbond")
	ff, fp := forgetest.LoadWithPayload(t, "deliveries", "derived-v2-push-form-rawsigned")
	jm, _ := p.Inspect(jf.Header)
	fm, _ := p.Inspect(ff.Header)
	a, err1 := p.Normalize(jm, jp)
	b, err2 := p.Normalize(fm, fp)
	if err1 != nil || err2 != nil {
		t.Fatalf("Normalize: %v, %v", err1, err2)
	}
	aj, bj := mustMarshal(t, a), mustMarshal(t, b)
	if !bytes.Equal(aj, bj) {
		t.Errorf("form %s differs from JSON %s", bj, aj)
	}
}

func TestCodingNormalizeLenient(t *testing.T) {
	p := newProvider(t)
	norm := func(ev, body string) event.Fields {
		t.Helper()
		f, err := p.Normalize(forge.Meta{Event: ev}, []byte(body))
		if err != nil {
			t.Fatalf("Normalize(%s) = %v", body, err)
		}
		return f
	}
	f := norm("GIT_MR_UPDATED", `{"mergeRequest":{"number":" 7 ","merged":"true","state":"MERGED","head":{"ref":"a"},"base":{"ref":"refs/heads/b"}}}`)
	forgetest.Want(t, "number from a padded string", f.PullRequest.Number, int64(7))
	forgetest.Want(t, "merged from a string", f.PullRequest.Merged, true)
	forgetest.Want(t, "target branch", f.PullRequest.TargetBranch, "b")
	forgetest.Want(t, "action (the code decides)", f.Action, "updated")

	f = norm("GIT_MR_CLOSED", `{"mergeRequest":{"number":7.0,"merged":1},"number":9}`)
	forgetest.Want(t, "integral float number", f.PullRequest.Number, int64(7))
	forgetest.Want(t, "merged from 1", f.PullRequest.Merged, true)
	forgetest.Want(t, "closed stays closed", f.Action, "closed")

	f = norm("merge request", `{"number":9,"action":"refuse","mergeRequest":{"title":"t","number":1.5}}`)
	forgetest.Want(t, "fractional number ignored, top-level number used", f.PullRequest.Number, int64(9))
	forgetest.Want(t, "refuse", f.Action, "closed")
	f = norm("merge request", `{"action":"cancel","mergeRequest":{"title":"t","merged":true}}`)
	forgetest.Want(t, "closing a merged request", f.Action, "merged")
	f = norm("merge request", `{"action":"synchronize","mergeRequest":{"title":"t"}}`)
	forgetest.Want(t, "synchronize", f.Action, "updated")
	f = norm("merge request", `{"action":"Approve Now","mergeRequest":{"title":"t"}}`)
	forgetest.Want(t, "unknown action in lower_snake", f.Action, "approve_now")
	forgetest.Want(t, "forgeaction as sent", f.ForgeAction, "Approve Now")

	f = norm("push", `{"ref":"master","before":"0000000000000000000000000000000000000000","after":42,"commits":[{"id":1,"timestamp":1554202380},{"id":"b","timestamp":"2019-04-02T18:53:00+08:00"},{"id":"c","timestamp":-1},{"id":"d","timestamp":null}],"head_commit":null}`)
	forgetest.Want(t, "short ref", f.Ref, "refs/heads/master")
	forgetest.Want(t, "after from a number", f.After, "42")
	forgetest.Want(t, "created from a zero before", f.Action, "created")
	forgetest.Want(t, "commit id from a number", f.Commits[0].ID, "1")
	forgetest.Want(t, "epoch seconds", f.Commits[0].Timestamp, "2019-04-02T10:53:00Z")
	forgetest.Want(t, "string timestamp kept", f.Commits[1].Timestamp, "2019-04-02T18:53:00+08:00")
	forgetest.Want(t, "negative timestamp ignored", f.Commits[2].Timestamp, "")
	forgetest.Want(t, "null timestamp", f.Commits[3].Timestamp, "")

	f = norm("GIT_PUSHED", `{"ref":"tags/v1","deleted":"true","after":"abc"}`)
	forgetest.Want(t, "tags/ ref", f.Ref, "refs/tags/v1")
	forgetest.Want(t, "kind", f.Kind, event.KindTag)
	forgetest.Want(t, "deleted from a string", f.Deleted, true)
	f = norm("GIT_PUSHED", `{"ref":"refs/pull/3/head","after":"abc"}`)
	forgetest.Want(t, "other ref: push without branch", f.Kind, event.KindPush)
	forgetest.Want(t, "branch", f.Branch, "")

	f = norm("push", `{"ref":"refs/heads/main","repository":"demo","sender":[],"commits":{"id":"x"},"pusher":{"name":"P","email":"p@example.com"}}`)
	forgetest.Want(t, "mistyped objects ignored", f.Repository, event.Repository{})
	forgetest.Want(t, "actor from the pusher", f.Actor, event.Person{Name: "P", Email: "p@example.com"})
	forgetest.Want(t, "commits not an array", len(f.Commits), 0)

	f = norm("push", `{"ref":"refs/heads/main","repository":{"clone_url":"https://e.coding.net/t/p/r.git?x=1"}}`)
	forgetest.Want(t, "full_name derived from the clone URL", f.Repository.FullName, "t/p/r")
	forgetest.Want(t, "owner from full_name", f.Repository.Owner, "t")
	forgetest.Want(t, "name from full_name", f.Repository.Name, "r")
	f = norm("push", `{"ref":"refs/heads/main","repository":{"name":"r","clone_url":"git@e.coding.net:t/p/r.git","owner":{"name":"Team"}}}`)
	forgetest.Want(t, "no full_name from an SSH URL", f.Repository.FullName, "")
	forgetest.Want(t, "owner from its name", f.Repository.Owner, "Team")

	f = norm("ISSUE_CREATED", `{"project":{"name":"demo","url":"https://t.coding.net/p/demo"},"team":{"name":"T"}}`)
	forgetest.Want(t, "project repository, team name", f.Repository.FullName, "T/demo")
	f = norm("ISSUE_CREATED", `{"project":{"name":"demo"}}`)
	forgetest.Want(t, "project without team", f.Repository, event.Repository{Name: "demo"})

	f = norm("GIT_MR_NOTE", `{"mergeRequest":{"number":5,"title":"t"}}`)
	forgetest.Want(t, "note on a merge request", f.PullRequest.Number, int64(5))
	f = norm("GIT_MR_MERGED", `{"mergeRequest":{"base":{"repo":{"full_name":"t/p/r","html_url":"https://x"}}}}`)
	forgetest.Want(t, "repository from the merge request's base", f.Repository.FullName, "t/p/r")
	forgetest.Want(t, "merged from the code", f.PullRequest.Merged, true)

	f = norm("CI_JOB_STARTED", `{"ci":{"build":{"branch":"refs/tags/v2"}}}`)
	forgetest.Want(t, "pipeline keeps its kind on a tag ref", f.Kind, event.KindPipeline)
	forgetest.Want(t, "pipeline tag", f.Tag, "v2")

	// A WebHook event this provider does not know, naming a code in its body.
	f = norm("issue", `{"event":"ISSUE_CREATED"}`)
	forgetest.Want(t, "body event code", f.Kind, event.KindIssue)
	forgetest.Want(t, "body event code action", f.Action, "opened")
	f = norm("SOME_CODE", `{"event":"ISSUE_CREATED","action":"x"}`)
	forgetest.Want(t, "an upper-case name is not overridden", f.Kind, event.KindOther)
	forgetest.Want(t, "nor given the body action", f.Action, "")
	f = norm("task", `{"event":"task","action":"Update"}`)
	forgetest.Want(t, "v1 other event keeps its body action", f.Action, "update")
}

func TestCodingNormalizeBadPayload(t *testing.T) {
	p := newProvider(t)
	for _, body := range []string{``, `   `, `{`, `{"ref":"x"`, `null`, `[]`, `"push"`, `42`, `{"a":1}x`, "\xff"} {
		_, err := p.Normalize(forge.Meta{Event: "push"}, []byte(body))
		if !errors.Is(err, forge.ErrBadPayload) {
			t.Errorf("Normalize(%q) = %v, want ErrBadPayload", body, err)
		}
	}
}

func TestCodingPing(t *testing.T) {
	p := newProvider(t)
	m, err := p.Inspect(http.Header{"X-Coding-Event": {"ping"}, "X-Coding-Delivery": {"d"}})
	if err != nil || !m.Ping {
		t.Fatalf("Inspect(ping) = %+v, %v; want a ping", m, err)
	}
	f, err := p.Normalize(m, []byte(`{"zen":"Coding！ 让开发更简单"}`))
	if err != nil || f.Kind != event.KindPing {
		t.Errorf("Normalize(ping) = %q, %v; want ping", f.Kind, err)
	}
}

func BenchmarkVerifyCoding(b *testing.B) {
	fx, _ := forgetest.LoadWithPayload(b, "deliveries", "derived-servicehook-GIT_PUSHED-branch")
	req := forgetest.Request(b, fx, time.Now())
	newProvider(b).Sign(req.Header, req.Body, forgetest.TestSecret, time.Now())
	secrets := []config.Secret{forgetest.TestSecret}
	p := newProvider(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(req.Body)))
	for b.Loop() {
		if err := p.Verify(req, secrets); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyCodingFormPayload measures the form fallback: the raw body
// fails, the decoded payload matches.
func BenchmarkVerifyCodingFormPayload(b *testing.B) {
	fx, payload := forgetest.LoadWithPayload(b, "deliveries", "derived-v2-push-form")
	req := forgetest.Request(b, fx, time.Now())
	newProvider(b).Sign(req.Header, payload, formSecret, time.Now())
	secrets := []config.Secret{formSecret}
	p := newProvider(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(req.Body)))
	for b.Loop() {
		if err := p.Verify(req, secrets); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNormalizeCodingPush(b *testing.B) {
	forgetest.BenchNormalize(b, newProvider(b), "derived-servicehook-GIT_PUSHED-branch")
}

func BenchmarkRedactCoding(b *testing.B) {
	for _, name := range []string{"derived-servicehook-GIT_PUSHED-branch", "derived-v1-push"} {
		dir := "deliveries"
		if strings.Contains(name, "v1") {
			dir = "legacy"
		}
		_, payload := forgetest.LoadWithPayload(b, dir, name)
		p := newProvider(b)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			for b.Loop() {
				p.Redact(payload)
			}
		})
	}
}

// TestCodingNormalizeRecord checks the fields issue 13 added.
func TestCodingNormalizeRecord(t *testing.T) {
	p := newProvider(t)
	norm := func(ev, body string) event.Fields {
		t.Helper()
		f, err := p.Normalize(forge.Meta{Event: ev}, []byte(body))
		if err != nil {
			t.Fatalf("Normalize(%s) = %v", body, err)
		}
		return f
	}
	f := norm("CI_JOB_FINISHED", `{"ci":{"name":"build","build":{"id":9,"commit_id":"abc","branch":"main","status":"FAILED"}}}`)
	want := event.Pipeline{Name: "build", ID: "9", Status: event.StatusFailure, Ref: "refs/heads/main", Branch: "main", SHA: "abc"}
	if f.Pipeline != want || f.After != "abc" {
		t.Errorf("CI job: pipeline %+v after %q", f.Pipeline, f.After)
	}
	f = norm("ISSUE_COMMENT_CREATED", `{"issueComment":{"content":"hi","html_url":"u#c","issue":{"code":12,"title":"t","status":"open","html_url":"u"}}}`)
	if f.Comment.On != event.CommentOnIssue || f.Comment.Number != 12 || f.Comment.Body != "hi" || f.Issue.Title != "t" {
		t.Errorf("issue comment: comment %+v issue %+v", f.Comment, f.Issue)
	}
	f = norm("ISSUE_CREATED", `{"issue":{"code":"13","title":"t","labels":[{"name":"bug"}]}}`)
	if f.Issue.Number != 13 || len(f.Issue.Labels) != 1 {
		t.Errorf("issue %+v", f.Issue)
	}
	f = norm("ARTIFACTS_VERSION_CREATED", `{"artifact":{"artifactPkgName":"app","artifactVersionName":"1.0"}}`)
	if f.Registry.Image != "app" || f.Registry.Tag != "1.0" {
		t.Errorf("registry %+v", f.Registry)
	}
}
