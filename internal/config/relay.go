package config

import (
	"crypto/subtle"
	"fmt"
)

// MinRelayTokenLength is the shortest relay token: it is a password that a
// laptop holds.
const MinRelayTokenLength = 16

// relayTokens checks admin.relay_tokens: each has a unique name, a token
// of at least MinRelayTokenLength characters that is neither the admin
// token nor another relay token, and names a configured endpoint.
func (v *validator) relayTokens() {
	c := v.c
	names := map[string]int{}
	endpoints := map[string]bool{}
	for _, ep := range c.Endpoints {
		endpoints[ep.Name] = true
	}
	for i, rt := range c.Admin.RelayTokens {
		p := fmt.Sprintf("admin.relay_tokens[%d]", i)
		switch j, dup := names[rt.Name]; {
		case rt.Name == "":
			v.errorf(p+".name", "required")
		case !nameRE.MatchString(rt.Name):
			v.errorf(p+".name", "%q must be 1 to 64 letters, digits, '-' or '_', starting with a letter or digit", rt.Name)
		case dup:
			v.errorf(p+".name", "duplicate relay token name %q (admin.relay_tokens[%d])", rt.Name, j)
		default:
			names[rt.Name] = i
		}
		switch {
		case rt.Endpoint == "":
			v.errorf(p+".endpoint", "required: the one endpoint this token may relay")
		case !endpoints[rt.Endpoint]:
			v.errorf(p+".endpoint", "%q is not a configured endpoint", rt.Endpoint)
		}
		tok := rt.Token.Reveal()
		switch {
		case tok == "" && rt.TokenFile == "":
			v.errorf(p+".token", "required: set token or token_file")
		case tok == "":
			// token_file could not be read: the loader said so.
		case len(tok) < MinRelayTokenLength:
			v.errorf(p+".token", "too short: use at least %d characters (e.g. from `openssl rand -hex 16`)", MinRelayTokenLength)
		case c.Admin.Token != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(c.Admin.Token.Reveal())) == 1:
			v.errorf(p+".token", "is the admin token: a relay token must be a token of its own")
		default:
			for j := range i {
				if subtle.ConstantTimeCompare([]byte(tok), []byte(c.Admin.RelayTokens[j].Token.Reveal())) == 1 {
					v.errorf(p+".token", "same token as admin.relay_tokens[%d]: each relay token must be distinct", j)
					break
				}
			}
		}
	}
}
