package verify

import (
	"net/netip"
	"testing"
)

func TestVerifyPresetsParseAndMatch(t *testing.T) {
	for _, p := range Presets() {
		if p.Taken == "" || p.Source == "" || len(p.Prefixes) == 0 {
			t.Errorf("preset %s lacks its date, source or prefixes", p.Name)
		}
		if _, err := ParseAllowlist(p.Prefixes); err != nil {
			t.Errorf("preset %s: %v", p.Name, err)
		}
	}
	gh, _ := ParseAllowlist(PresetPrefixes("github"))
	if !gh.Contains(netip.MustParseAddr("140.82.115.251")) { // a real GitHub-Hookshot source address
		t.Error("github preset does not contain 140.82.115.251")
	}
	coding, _ := ParseAllowlist(PresetPrefixes("coding"))
	if !coding.Contains(netip.MustParseAddr("81.69.101.7")) || coding.Contains(netip.MustParseAddr("81.69.102.7")) {
		t.Error("coding preset boundaries wrong")
	}
	if PresetPrefixes("nope") != nil {
		t.Error("unknown preset has prefixes")
	}
}
