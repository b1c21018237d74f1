// Package auto is the provider for endpoints that accept any known forge
// (`provider: auto`, the quick-start's default): it detects the forge of
// each delivery from its headers, or for forges that send no identifying
// header from the shape of its payload, and delegates to that forge's
// provider, whose own verification must pass with the endpoint's secrets.
package auto

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
)

// Candidate is one forge auto-detection may pick.
type Candidate struct {
	// ID is the forge id.
	ID string
	// Match reports whether headers identify the forge's deliveries. Nil
	// for forges recognized by their payload, whose provider must be a
	// forge.BodyInspector.
	Match func(h http.Header) bool
	// Factory builds its provider.
	Factory forge.Factory
}

// HasHeader returns a Match that accepts deliveries carrying any of names.
func HasHeader(names ...string) func(http.Header) bool {
	return func(h http.Header) bool {
		for _, n := range names {
			if h.Get(n) != "" {
				return true
			}
		}
		return false
	}
}

// Provider detects the forge of each delivery.
type Provider struct {
	cands []Candidate
	by    map[string]forge.Provider
}

var (
	_ forge.Provider      = (*Provider)(nil)
	_ forge.BodyInspector = (*Provider)(nil)
)

// Factory returns the forge.Factory of the auto provider over candidates:
// header candidates are checked in order (Gitea, Forgejo and Gogs also send
// X-GitHub-Event, so they must come before GitHub), then payload candidates
// in order.
func Factory(candidates []Candidate) forge.Factory {
	return func(ep *config.Endpoint) (forge.Provider, error) {
		p := &Provider{cands: candidates, by: map[string]forge.Provider{}}
		for _, c := range candidates {
			sub, err := c.Factory(ep)
			if err != nil {
				return nil, fmt.Errorf("auto: %s: %w", c.ID, err)
			}
			if c.Match == nil {
				if _, ok := sub.(forge.BodyInspector); !ok {
					return nil, fmt.Errorf("auto: %s: no header match and not a body inspector", c.ID)
				}
			}
			p.by[c.ID] = sub
		}
		return p, nil
	}
}

// Name returns "auto".
func (p *Provider) Name() string { return "auto" }

// Detect returns the id and provider of the delivery's forge.
func (p *Provider) Detect(h http.Header, payload []byte) (string, forge.Provider, error) {
	for _, c := range p.cands {
		if c.Match != nil && c.Match(h) {
			return c.ID, p.by[c.ID], nil
		}
	}
	for _, c := range p.cands {
		if c.Match != nil {
			continue
		}
		sub := p.by[c.ID]
		if _, err := sub.(forge.BodyInspector).InspectBody(h, payload); !errors.Is(err, forge.ErrNotRecognized) {
			return c.ID, sub, nil
		}
	}
	ids := make([]string, len(p.cands))
	for i, c := range p.cands {
		ids[i] = c.ID
	}
	return "", nil, fmt.Errorf("auto: %w: no known forge's headers or payload (known: %s)", forge.ErrNotRecognized, strings.Join(ids, ", "))
}

// Inspect detects by headers only; InspectBody is used by ingest.
func (p *Provider) Inspect(h http.Header) (forge.Meta, error) {
	return p.InspectBody(h, nil)
}

// InspectBody delegates to the detected provider and records its id in
// Meta.Forge.
func (p *Provider) InspectBody(h http.Header, payload []byte) (forge.Meta, error) {
	id, sub, err := p.Detect(h, payload)
	if err != nil {
		return forge.Meta{}, err
	}
	m, err := forge.InspectRequest(sub, h, payload)
	m.Forge = id
	return m, err
}

// Verify delegates to the detected provider.
func (p *Provider) Verify(req *forge.Request, secrets []config.Secret) error {
	_, sub, err := p.Detect(req.Header, req.Payload)
	if err != nil {
		return err
	}
	return sub.Verify(req, secrets)
}

// Normalize delegates to the provider Inspect detected (Meta.Forge).
func (p *Provider) Normalize(m forge.Meta, payload []byte) (event.Fields, error) {
	sub, ok := p.by[m.Forge]
	if !ok {
		return event.Fields{}, fmt.Errorf("auto: %w: forge not detected", forge.ErrNotRecognized)
	}
	return sub.Normalize(m, payload)
}
