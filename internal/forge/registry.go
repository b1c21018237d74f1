package forge

import (
	"fmt"
	"net/http"
	"sort"

	"github.com/forgehook/forgehook/internal/config"
)

// Registry maps forge ids to the providers' descriptors. It is built
// explicitly by the application (no init-time registration) and is
// read-only after construction.
type Registry struct {
	byID  map[string]Descriptor
	order []string
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{byID: map[string]Descriptor{}} }

// Register adds the provider d describes under d.ID. It panics on an empty
// id, a missing factory or a duplicate id: programming errors.
func (r *Registry) Register(d Descriptor) {
	switch {
	case d.ID == "" || d.New == nil:
		panic(fmt.Sprintf("forge: descriptor %q without an id or a factory", d.ID))
	case r.Has(d.ID):
		panic("forge: provider " + d.ID + " registered twice")
	}
	r.byID[d.ID] = d
	r.order = append(r.order, d.ID)
}

// Add registers f under id, with a descriptor that says nothing else. It
// panics as Register does.
func (r *Registry) Add(id string, f Factory) { r.Register(Descriptor{ID: id, New: f}) }

// Names returns the registered ids, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.byID))
	for n := range r.byID {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Has reports whether id is registered.
func (r *Registry) Has(id string) bool { _, ok := r.byID[id]; return ok }

// Descriptor returns the descriptor registered under id, and whether there
// is one.
func (r *Registry) Descriptor(id string) (Descriptor, bool) {
	d, ok := r.byID[id]
	return d, ok
}

// Descriptors returns the registered descriptors in the order they were
// registered.
func (r *Registry) Descriptors() []Descriptor {
	out := make([]Descriptor, len(r.order))
	for i, id := range r.order {
		out[i] = r.byID[id]
	}
	return out
}

// IDHeaders returns the headers in which the registered forges name their
// event (the headers auto-detection knows them by) and their delivery id,
// each name once, in registration order: enough to name a request that
// was refused before a provider could read it.
func (r *Registry) IDHeaders() (event, delivery []string) {
	seen := map[string]bool{}
	add := func(list []string, names []string) []string {
		for _, n := range names {
			c := http.CanonicalHeaderKey(n)
			if !seen[c] {
				seen[c] = true
				list = append(list, c)
			}
		}
		return list
	}
	for _, id := range r.order {
		d := r.byID[id]
		event = add(event, d.Detect.Headers)
		delivery = add(delivery, d.DeliveryHeaders)
	}
	return event, delivery
}

// New builds the provider of ep.Provider for ep.
func (r *Registry) New(ep *config.Endpoint) (Provider, error) {
	d, ok := r.byID[ep.Provider]
	if !ok {
		return nil, fmt.Errorf("unknown provider %q (known: %v)", ep.Provider, r.Names())
	}
	p, err := d.New(ep)
	if err != nil {
		return nil, fmt.Errorf("provider %s: %w", ep.Provider, err)
	}
	return p, nil
}
