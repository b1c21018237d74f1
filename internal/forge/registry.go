package forge

import (
	"fmt"
	"sort"

	"github.com/forgehook/forgehook/internal/config"
)

// Registry maps forge ids to provider factories. It is built explicitly by
// the application (no init-time registration) and is read-only after
// construction.
type Registry struct {
	factories map[string]Factory
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{factories: map[string]Factory{}} }

// Add registers f under id. It panics on a duplicate id, a programming error.
func (r *Registry) Add(id string, f Factory) {
	if _, dup := r.factories[id]; dup {
		panic("forge: provider " + id + " registered twice")
	}
	r.factories[id] = f
}

// Names returns the registered ids, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.factories))
	for n := range r.factories {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Has reports whether id is registered.
func (r *Registry) Has(id string) bool { _, ok := r.factories[id]; return ok }

// New builds the provider of ep.Provider for ep.
func (r *Registry) New(ep *config.Endpoint) (Provider, error) {
	f, ok := r.factories[ep.Provider]
	if !ok {
		return nil, fmt.Errorf("unknown provider %q (known: %v)", ep.Provider, r.Names())
	}
	p, err := f(ep)
	if err != nil {
		return nil, fmt.Errorf("provider %s: %w", ep.Provider, err)
	}
	return p, nil
}
