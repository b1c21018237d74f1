package verify

import "sort"

// Preset is a named, dated snapshot of a forge's published webhook source
// ranges, usable in allow_ips by name. Forges change their ranges: a
// snapshot is a convenience, to be checked against the source and
// overridden with explicit prefixes when it is out of date.
type Preset struct {
	Name string
	// Taken is the date the snapshot was taken (YYYY-MM-DD).
	Taken string
	// Source says where the ranges are published.
	Source string
	// Prefixes are the ranges.
	Prefixes []string
	// Unverified marks a snapshot that could not be checked against the
	// forge's own published list.
	Unverified bool
}

// Presets returns every preset, sorted by name. The result is a fresh
// copy the caller may keep.
func Presets() []Preset {
	ps := []Preset{
		{
			Name:   "github",
			Taken:  "2026-11-23",
			Source: "GET https://api.github.com/meta, key hooks; plus the three ranges announced on 2026-10-29 (github.blog changelog)",
			Prefixes: []string{
				"192.30.252.0/22", "185.199.108.0/22", "140.82.112.0/20", "143.55.64.0/20",
				"2a0a:a440::/29", "2606:50c0::/32",
				"9.234.98.160/28", "9.234.98.176/28", "9.234.106.48/28",
			},
		},
		{
			Name:     "gitlab",
			Taken:    "2026-11-23",
			Source:   "GitLab.com webhooks, doc/user/gitlab_com/_index.md, IP range",
			Prefixes: []string{"34.74.90.64/28", "34.74.226.0/24"},
		},
		{
			Name:     "coding",
			Taken:    "2026-11-23",
			Source:   "coding.net Service Hook documentation, CODING IP",
			Prefixes: []string{"212.129.144.0/24", "212.64.105.0/24", "49.234.127.0/24", "49.235.224.0/24", "49.234.65.0/24", "81.69.101.0/24"},
		},
		{
			Name:       "bitbucket",
			Taken:      "2026-11-23",
			Source:     "Atlassian's outgoing ranges for Bitbucket Cloud webhooks (ip-ranges.atlassian.com); not re-fetched for this snapshot",
			Prefixes:   []string{"104.192.136.0/21", "185.166.140.0/22", "13.52.5.96/28", "13.236.8.224/28", "18.136.214.96/28", "18.184.99.224/28", "18.234.32.224/28", "18.246.31.224/28", "52.215.192.224/28"},
			Unverified: true,
		},
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	return ps
}

// PresetPrefixes returns the prefixes of the named preset, nil when there
// is none of that name.
func PresetPrefixes(name string) []string {
	for _, p := range Presets() {
		if p.Name == name {
			return p.Prefixes
		}
	}
	return nil
}
