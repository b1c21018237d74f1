package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzFileSecret is the content of every secret file the fuzzer can name.
const fuzzFileSecret = "filesecretzzz"

// FuzzConfigLoad checks that Parse never panics and that its answers hold:
// an error is a non-empty Errors in line order that never shows a secret
// file's content; a Config, with its defaults applied again, validates
// clean and renders with Redacted without a secret file's content.
func FuzzConfigLoad(f *testing.F) {
	example, err := os.ReadFile(filepath.Join("testdata", "example.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	for _, seed := range []string{
		"",
		valid,
		"listen: \":8080\"\nadmin: {listen: \"0.0.0.0:8081\", token_file: /s}\n",
		"store: {url: \"nats://a:4222,tls://b:4222\", replicas: 3, retention: 7d, dedup_window: 1d12h, sync: always}\n",
		"endpoints:\n  - &e {name: a, provider: github, secrets: [\"${SECRET}\"], max_body: 1MiB}\n  - <<: *e\n    name: b\n    key_file: /s\n",
		"endpoints:\n  - name: g\n    provider: generic\n    secrets_file: [/s, /missing]\n    generic: {signature_header: X-Sig, algorithm: sha512, encoding: base64}\n",
		"triggers:\n  - name: t\n    when: 'event.kind == \"push\"'\n    http: {url: \"https://x/${HOST:-h}\", secret: \"$${LITERAL}\"}\n    retry: {max_attempts: 3}\n",
		"a: &a [*a]\n",
		"endpoints: [{name: x, provider: gitlab, insecure: true, allow_ips: [\"::1\", 10.0.0.0/8]}]\n",
		"listen: !!binary eA==\n",
		"public_url: https://h.example\nendpoints:\n  - name: m\n    provider: gitea\n    secrets: [x]\n    manage: {api_url: \"http://g/api/v1\", token_file: /s, targets: [{repo: a/b}, {org: o}], events: [push, \"Push Hook\"], active: false}\n    recover: {mode: poll, token_file: /s, every: 10m}\n",
		"endpoints:\n  - name: m\n    provider: gitea\n    insecure: true\n    manage: {token: t, targets: [{repo: a, org: b}]}\n    recover: {mode: off}\n",
		"---\n---\n",
	} {
		f.Add([]byte(seed))
	}
	opts := testOptions(
		map[string]string{"SECRET": "envsecret", "HOST": "example.com", "EMPTY": "", "N": "3"},
		map[string]string{"/s": fuzzFileSecret + "\n", "/empty": ""},
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data, opts)
		mayShow := bytes.Contains(data, []byte(fuzzFileSecret))
		if err != nil {
			if c != nil {
				t.Fatal("Parse returned both a Config and an error")
			}
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("error %T is not a non-empty Errors: %v", err, err)
			}
			for i, fe := range errs {
				if fe.Msg == "" || fe.File != "fuzz.yaml" {
					t.Fatalf("errs[%d] = %+v", i, fe)
				}
				if i > 0 && errs[i-1].Line > fe.Line {
					t.Fatalf("errors out of line order:\n%v", err)
				}
			}
			if !mayShow && strings.Contains(err.Error(), fuzzFileSecret) {
				t.Fatalf("error shows a secret file's content:\n%v", err)
			}
			return
		}
		c.ApplyDefaults()
		if err := c.Validate(opts); err != nil {
			t.Fatalf("Parse accepted a config that does not re-validate:\n%v\ninput:\n%s", err, data)
		}
		out, err := c.Redacted()
		if err != nil {
			t.Fatalf("Redacted: %v", err)
		}
		if !mayShow && bytes.Contains(out, []byte(fuzzFileSecret)) {
			t.Fatalf("Redacted shows a secret file's content:\n%s", out)
		}
	})
}
