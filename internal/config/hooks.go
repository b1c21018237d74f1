package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Manage is an endpoint's manage: block: the hooks forgehook creates and
// keeps on the forge for this endpoint (docs/hooks.md). Only this block
// turns management on; no other setting does.
type Manage struct {
	// APIURL is the forge's API base as the forge documents it
	// (https://api.github.com, https://gitlab.example.com/api/v4,
	// https://gitea.example.com/api/v1); empty means the forge's public
	// default where it has one.
	APIURL string `yaml:"api_url"`
	// Token is the management credential used for plan and apply.
	Token Secret `yaml:"token"`
	// TokenFile names a file holding Token; the loader reads it into Token.
	TokenFile string `yaml:"token_file"`
	// Targets are the repositories, organizations, projects, groups or
	// workspaces that get a hook (at least one).
	Targets []HookTarget `yaml:"targets"`
	// Events are canonical kinds (push, tag, pull_request, ...) or the
	// forge's native event names; empty means push.
	Events []string `yaml:"events"`
	// Active is whether the forge delivers to the hook (default true).
	Active *bool `yaml:"active"`
}

// IsActive returns Active, true when unset.
func (m *Manage) IsActive() bool { return m.Active == nil || *m.Active }

// HookTarget is one entry of manage.targets: exactly one of its keys is
// set, naming the target in the forge's own terms.
type HookTarget struct {
	Repo      string `yaml:"repo"`
	Org       string `yaml:"org"`
	Project   string `yaml:"project"`
	Group     string `yaml:"group"`
	Workspace string `yaml:"workspace"`
}

// Kind returns the target's kind (repo, org, project, group, workspace)
// and name; both empty when none or several keys are set.
func (t HookTarget) Kind() (kind, name string) {
	n := 0
	for _, f := range []struct{ k, v string }{
		{"repo", t.Repo}, {"org", t.Org}, {"project", t.Project}, {"group", t.Group}, {"workspace", t.Workspace},
	} {
		if f.v != "" {
			kind, name = f.k, f.v
			n++
		}
	}
	if n != 1 {
		return "", ""
	}
	return kind, name
}

// Recover is an endpoint's recover: block. It is parsed and validated
// here; the recovery of missed deliveries uses it.
type Recover struct {
	// Mode is redeliver, fetch, poll or off (default off).
	Mode string `yaml:"mode"`
	// Token is the recovery credential, read-only where the forge allows.
	Token Secret `yaml:"token"`
	// TokenFile names a file holding Token; the loader reads it into Token.
	TokenFile string `yaml:"token_file"`
	// Every is how often recovery runs (default 5m).
	Every Duration `yaml:"every"`
	// Window bounds how far back recovery looks (0: the forge's own
	// retention, 3 days on github.com, 7 on GitHub Enterprise Server and
	// GitLab: set 168h for GHES).
	Window Duration `yaml:"window"`
}

// The recovery modes.
const (
	RecoverRedeliver = "redeliver"
	RecoverFetch     = "fetch"
	RecoverPoll      = "poll"
	RecoverOff       = "off"
)

// The defaults of the recover: block.
const (
	DefaultRecoverMode  = RecoverOff
	DefaultRecoverEvery = Duration(5 * time.Minute)
	// MinRecoverEvery is the shortest recover.every: forges rate-limit
	// their APIs.
	MinRecoverEvery = Duration(time.Minute)
)

// ApplyDefaults fills the unset fields of a recover block.
func (r *Recover) ApplyDefaults() {
	setDefault(&r.Mode, DefaultRecoverMode)
	setDefault(&r.Every, DefaultRecoverEvery)
}

// eventRE is the syntax of a manage.events entry: a canonical kind or a
// native name (letters, digits, '_', '-', '.', ':', '*' and ' ' as the
// forges spell them, e.g. "Push Hook", "repo:push", "git.push").
var eventRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:* -]{0,127}$`)

// targetRE is the syntax of a target's name: a path or id with no
// characters that could break out of a URL path segment sequence.
var targetRE = regexp.MustCompile(`^[A-Za-z0-9_.~-][A-Za-z0-9_.~/ -]{0,254}$`)

// hookBlocks checks an endpoint's manage: and recover: blocks.
func (v *validator) hookBlocks(p string, ep *Endpoint) {
	if m := ep.Manage; m != nil {
		mp := p + ".manage"
		if v.c.PublicURL == "" && !v.skipped("public_url") {
			v.errorf(mp, "needs public_url: the registered URL is public_url + /hooks/{name or key}")
		}
		if m.APIURL != "" {
			if u, err := url.Parse(m.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
				v.errorf(mp+".api_url", "%q is not an http(s) URL without credentials, query or fragment", m.APIURL)
			}
		}
		if m.Token == "" && !v.anySkipped(mp+".token", mp+".token_file") {
			v.errorf(mp, "needs token or token_file: the credential that manages hooks on the forge (docs/hooks.md lists the least one per forge)")
		}
		if len(m.Targets) == 0 && !v.skipped(mp+".targets") {
			v.errorf(mp+".targets", "needs at least one target (repo, org, project, group or workspace)")
		}
		seen := map[string]int{}
		for i, t := range m.Targets {
			tp := fmt.Sprintf("%s.targets[%d]", mp, i)
			kind, name := t.Kind()
			switch {
			case kind == "":
				v.errorf(tp, "set exactly one of repo, org, project, group, workspace")
			case !targetRE.MatchString(name) || strings.Contains(name, "..") || strings.HasSuffix(name, "/"):
				v.errorf(tp+"."+kind, "%q is not a forge path or id", name)
			default:
				k := kind + ":" + name
				if j, dup := seen[k]; dup {
					v.errorf(tp, "same target as targets[%d]", j)
				}
				seen[k] = i
			}
		}
		for i, e := range m.Events {
			if !eventRE.MatchString(e) {
				v.errorf(fmt.Sprintf("%s.events[%d]", mp, i), "%q is not an event kind or name", e)
			}
		}
	}
	if r := ep.Recover; r != nil {
		rp := p + ".recover"
		v.oneOf(rp+".mode", r.Mode, RecoverRedeliver, RecoverFetch, RecoverPoll, RecoverOff)
		if r.Every < MinRecoverEvery && !v.skipped(rp+".every") {
			v.errorf(rp+".every", "%s is below the least, %s", r.Every, MinRecoverEvery)
		}
		if r.Mode != RecoverOff && r.Mode != "" && r.Token == "" && !v.anySkipped(rp+".token", rp+".token_file") {
			v.errorf(rp, "mode %s needs token or token_file", r.Mode)
		}
	}
}

// publicURL checks public_url.
func (v *validator) publicURL() {
	s := v.c.PublicURL
	if s == "" {
		return
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		v.errorf("public_url", "%q is not an http(s) URL without credentials, query or fragment (such as https://hooks.example.com)", s)
	}
}

// HookURL returns the URL the forge must call for endpoint ep:
// PublicURL + /hooks/{key or name}, or "" without public_url.
func (c *Config) HookURL(ep *Endpoint) string {
	if c.PublicURL == "" {
		return ""
	}
	seg := ep.Name
	if ep.Key != "" {
		seg = ep.Key.Reveal()
	}
	return strings.TrimRight(c.PublicURL, "/") + "/hooks/" + seg
}
