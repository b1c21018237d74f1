package config

import (
	"reflect"
	"strings"
	"testing"
)

// TestConfigRelayTokens checks admin.relay_tokens: names, endpoints,
// token length and distinctness, and token_file.
func TestConfigRelayTokens(t *testing.T) {
	head := `admin:
  token: admin-token-0123456789
  relay_tokens:
`
	tail := `endpoints:
  - {name: app, provider: github, secrets: [s]}
`
	yaml := head + `    - {name: laptop, token: relay-token-0123456789, endpoint: app}
    - {name: laptop, token: relay-token-abcdefghij, endpoint: nope}
    - {name: "bad name", token: short, endpoint: ""}
    - {name: same-as-admin, token: admin-token-0123456789, endpoint: app}
    - {name: dup, token: relay-token-0123456789, endpoint: app}
    - {name: none, endpoint: app}
    - {name: both, token: relay-token-klmnopqrst, token_file: /run/secrets/relay, endpoint: app}
` + tail
	_, err := Parse("f.yaml", []byte(yaml), testOptions(nil, map[string]string{"/run/secrets/relay": "relay-token-from-a-file\n"}))
	got := errorLines(t, err)
	want := []string{
		`f.yaml:5: admin.relay_tokens[1].name: duplicate relay token name "laptop" (admin.relay_tokens[0])`,
		`f.yaml:5: admin.relay_tokens[1].endpoint: "nope" is not a configured endpoint`,
		`f.yaml:6: admin.relay_tokens[2].name: "bad name" must be 1 to 64 letters, digits, '-' or '_', starting with a letter or digit`,
		`f.yaml:6: admin.relay_tokens[2].endpoint: required: the one endpoint this token may relay`,
		`f.yaml:6: admin.relay_tokens[2].token: too short: use at least 16 characters (e.g. from ` + "`openssl rand -hex 16`" + `)`,
		`f.yaml:7: admin.relay_tokens[3].token: is the admin token: a relay token must be a token of its own`,
		`f.yaml:8: admin.relay_tokens[4].token: same token as admin.relay_tokens[0]: each relay token must be distinct`,
		`f.yaml:9: admin.relay_tokens[5].token: required: set token or token_file`,
		`f.yaml:10: admin.relay_tokens[6].token_file: set either token or token_file, not both`,
	}
	if !sameLines(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	ok := head + `    - {name: laptop, token_file: /run/secrets/relay, endpoint: app}
` + tail
	c, err := Parse("f.yaml", []byte(ok), testOptions(nil, map[string]string{"/run/secrets/relay": "relay-token-from-a-file\n"}))
	if err != nil {
		t.Fatalf("valid relay token: %v", err)
	}
	want1 := []RelayToken{{Name: "laptop", Token: "relay-token-from-a-file", TokenFile: "/run/secrets/relay", Endpoint: "app"}}
	if !reflect.DeepEqual(c.Admin.RelayTokens, want1) {
		t.Errorf("relay tokens %+v, want %+v", c.Admin.RelayTokens, want1)
	}
}

// sameLines compares two lists of error lines in any order.
func sameLines(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		seen[s]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}
