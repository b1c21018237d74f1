package app

import (
	"github.com/forgehook/forgehook/internal/hooks/all"
	"github.com/forgehook/forgehook/internal/hooks/reconcile"
	"github.com/forgehook/forgehook/internal/store"
)

// hookManager returns the reconciler behind the admin API's hook commands.
// It calls a forge only when an operator runs one of them (forgehook hooks
// ...): never when the server starts, reloads or stops.
func (a *App) hookManager(st *store.Store) *reconcile.Reconciler {
	return &reconcile.Reconciler{
		Endpoints: a.managedEndpoints,
		Records:   st,
		NewClient: all.New,
		Logger:    a.log,
	}
}

// managedEndpoints returns the endpoints of the running configuration that
// have a manage: block.
func (a *App) managedEndpoints() []reconcile.Endpoint {
	a.mu.Lock()
	defer a.mu.Unlock()
	return reconcile.FromConfig(a.cfg)
}
