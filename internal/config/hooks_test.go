package config

import (
	"strings"
	"testing"
)

// hookBase is a clean configuration with one managed endpoint.
const hookBase = `public_url: https://hooks.example.com/
endpoints:
  - name: g
    provider: gitea
    secrets: [s3cr3t-value]
    manage:
      api_url: https://gitea.example.com/api/v1
      token_file: /run/manage
      targets: [{repo: acme/app}, {org: acme}]
      events: [push, tag, "Push Hook"]
`

func TestConfigManageParsed(t *testing.T) {
	c, err := Parse("f.yaml", []byte(hookBase), testOptions(nil, map[string]string{"/run/manage": "mtoken\n"}))
	if err != nil {
		t.Fatal(err)
	}
	m := c.Endpoints[0].Manage
	if m == nil || m.Token.Reveal() != "mtoken" || !m.IsActive() || len(m.Targets) != 2 {
		t.Fatalf("manage = %+v", m)
	}
	if k, n := m.Targets[1].Kind(); k != "org" || n != "acme" {
		t.Errorf("target 1 = %s %s", k, n)
	}
	if got := c.HookURL(&c.Endpoints[0]); got != "https://hooks.example.com/hooks/g" {
		t.Errorf("HookURL = %q", got)
	}
	if c.Endpoints[0].Recover != nil {
		t.Error("recover set without a recover block")
	}
	out, err := c.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "mtoken") || !strings.Contains(string(out), "token: <secret>") {
		t.Errorf("redacted config shows or lacks the token:\n%s", out)
	}
}

func TestConfigManageActiveFalse(t *testing.T) {
	c, err := Parse("f.yaml", []byte(strings.Replace(hookBase, "      events:", "      active: false\n      events:", 1)),
		testOptions(nil, map[string]string{"/run/manage": "m"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Endpoints[0].Manage.IsActive() {
		t.Error("active: false read as active")
	}
}

// TestConfigListenOnly: nothing but a manage: block turns management on;
// a recover: block alone does not, nor does any token.
func TestConfigListenOnly(t *testing.T) {
	c, err := Parse("f.yaml", []byte(`endpoints:
  - name: g
    provider: gitea
    secrets: [x]
    recover: {mode: poll, token: t}
`), testOptions(nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Endpoints[0].Manage != nil {
		t.Fatal("manage set without a manage block")
	}
	if r := c.Endpoints[0].Recover; r.Mode != "poll" || r.Every != DefaultRecoverEvery {
		t.Errorf("recover = %+v", r)
	}
}

func TestConfigManageErrors(t *testing.T) {
	files := map[string]string{"/run/manage": "m"}
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"unknown key", strings.Replace(hookBase, "      events:", "      evnts: [push]\n      events:", 1), `f.yaml:10: endpoints[0].manage.evnts: unknown key (did you mean "events"?)`},
		{"no public_url", strings.Replace(hookBase, "public_url: https://hooks.example.com/\n", "", 1), "endpoints[0].manage: needs public_url"},
		{"bad public_url", strings.Replace(hookBase, "https://hooks.example.com/", "ftp://x", 1), `f.yaml:1: public_url: "ftp://x" is not an http(s) URL`},
		{"no token", strings.Replace(hookBase, "      token_file: /run/manage\n", "", 1), "endpoints[0].manage: needs token or token_file"},
		{"token twice", strings.Replace(hookBase, "      token_file:", "      token: x\n      token_file:", 1), "manage.token_file: set either token or token_file, not both"},
		{"two kinds", strings.Replace(hookBase, "{org: acme}", "{org: acme, repo: a/b}", 1), "f.yaml:9: endpoints[0].manage.targets[1]: set exactly one of repo, org"},
		{"unknown kind", strings.Replace(hookBase, "{org: acme}", "{team: acme}", 1), "endpoints[0].manage.targets[1].team: unknown key"},
		{"bad name", strings.Replace(hookBase, "{org: acme}", "{org: \"../x\"}", 1), `targets[1].org: "../x" is not a forge path or id`},
		{"dup target", strings.Replace(hookBase, "{org: acme}", "{repo: acme/app}", 1), "targets[1]: same target as targets[0]"},
		{"no targets", strings.Replace(hookBase, "      targets: [{repo: acme/app}, {org: acme}]\n", "", 1), "manage.targets: needs at least one target"},
		{"bad event", strings.Replace(hookBase, "tag,", "\"$x\",", 1), `manage.events[1]: "$x" is not an event kind or name`},
		{"api_url creds", strings.Replace(hookBase, "https://gitea", "https://u:p@gitea", 1), "manage.api_url"},
		{"active not bool", strings.Replace(hookBase, "      events:", "      active: maybe\n      events:", 1), `manage.active: expected true or false, got "maybe"`},
		{"recover mode", hookBase + "    recover: {mode: sometimes}\n", `recover.mode: "sometimes" is not one of redeliver, fetch, poll, off`},
		{"recover every", hookBase + "    recover: {mode: off, every: 10s}\n", "recover.every: 10s is below the least, 1m"},
		{"recover token", hookBase + "    recover: {mode: redeliver}\n", "endpoints[0].recover: mode redeliver needs token or token_file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tc.yaml), testOptions(nil, files))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error shows a secret: %v", err)
			}
		})
	}
}
