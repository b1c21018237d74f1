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
	"slices"
	"strings"

	"github.com/forgehook/forgehook/internal/config"
	"github.com/forgehook/forgehook/internal/event"
	"github.com/forgehook/forgehook/internal/forge"
)

// Name is the id of the auto provider.
const Name = "auto"

// Describe returns the declaration of the auto provider over forges, the
// descriptors of the forges it may detect, in order: header-detected forges
// are checked in order (Forgejo, Gitea and Gogs also send X-GitHub-Event,
// so they must come before GitHub), then payload-detected ones in order.
// It is not a forge itself: auto-detection does not pick it and `forgehook
// send` does not send as it.
func Describe(forges []forge.Descriptor) forge.Descriptor {
	return forge.Descriptor{ID: Name, Folder: "auto", New: Factory(forges)}
}

// Provider detects the forge of each delivery.
type Provider struct {
	forges []forge.Descriptor
	by     map[string]forge.Provider
}

var (
	_ forge.Provider      = (*Provider)(nil)
	_ forge.BodyInspector = (*Provider)(nil)
	_ forge.HeaderNamer   = (*Provider)(nil)
)

// Factory returns the forge.Factory of the auto provider over forges (see
// Describe). The provider it builds fails on a descriptor that is not a
// forge's (Descriptor.Forge), or that detects by payload with a provider
// that is not a forge.BodyInspector.
func Factory(forges []forge.Descriptor) forge.Factory {
	forges = slices.Clone(forges)
	return func(ep *config.Endpoint) (forge.Provider, error) {
		p := &Provider{forges: forges, by: map[string]forge.Provider{}}
		for _, d := range forges {
			if !d.Forge() {
				return nil, fmt.Errorf("auto: %s: not a forge auto-detection can recognize", d.ID)
			}
			sub, err := d.New(ep)
			if err != nil {
				return nil, fmt.Errorf("auto: %s: %w", d.ID, err)
			}
			if d.Detect.ByPayload {
				if _, ok := sub.(forge.BodyInspector); !ok {
					return nil, fmt.Errorf("auto: %s: detected by payload and not a body inspector", d.ID)
				}
			}
			p.by[d.ID] = sub
		}
		return p, nil
	}
}

// Name returns "auto".
func (p *Provider) Name() string { return Name }

// Detect returns the id and provider of the delivery's forge.
func (p *Provider) Detect(h http.Header, payload []byte) (string, forge.Provider, error) {
	for i := range p.forges {
		if d := &p.forges[i]; d.Detect.Match(h) {
			return d.ID, p.by[d.ID], nil
		}
	}
	for i := range p.forges {
		d := &p.forges[i]
		if !d.Detect.ByPayload {
			continue
		}
		sub := p.by[d.ID]
		if _, err := sub.(forge.BodyInspector).InspectBody(h, payload); !errors.Is(err, forge.ErrNotRecognized) {
			return d.ID, sub, nil
		}
	}
	ids := make([]string, len(p.forges))
	for i, d := range p.forges {
		ids[i] = d.ID
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

// CredentialHeaders returns the credential headers of every forge auto may
// detect, so that ingest redacts a detected forge's credentials as its own
// endpoint would. It implements forge.HeaderNamer.
func (p *Provider) CredentialHeaders() []string {
	var out []string
	for _, d := range p.forges {
		names := d.CredentialHeaders
		if hn, ok := p.by[d.ID].(forge.HeaderNamer); ok {
			names = hn.CredentialHeaders()
		}
		for _, n := range names {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}
