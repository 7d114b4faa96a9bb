package validate

import (
	"github.com/redis/go-redis/v9"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/topology"
)

// needsProxy says whether a fault kind is injected through the proxies
// between the drivers and the stores: to cut a store off (an outage, a
// partition), to slow it, or to cut a crashed node off from everything at
// once.
func needsProxy(kind scenarios.FaultKind) bool {
	switch kind {
	case scenarios.FaultStoreOutage, scenarios.FaultStoreSlowdown, scenarios.FaultPartition, scenarios.FaultNodeCrash:
		return true
	}
	return false
}

type proxyKey struct {
	node  int
	scope locks.Scope
}

// struckLinks returns, in order, the links between a node and the store of
// one of topo's shared scopes that a fault of faults strikes, and so need a
// proxy: every node's link to a store that is down or slowed, a partitioned
// node's to the store of its scope, and a crashed node's to every store.
// The others go straight to the server, as they would with no fault: a
// proxy costs every round trip through it some CPU (global under
// region-store-outage, whose outage strikes no store of global's, ran with
// a proxy per node at a script round trip of 38ms and made a tenth fewer
// round trips than its retimed runs).
func struckLinks(shape topology.Shape, topo locks.Topology, faults []scenarios.ResolvedFault) []proxyKey {
	struck := map[proxyKey]bool{}
	var out []proxyKey
	for node := range shape.Nodes() {
		for _, l := range topo.Levels {
			k := proxyKey{node, l.Scope}
			if !l.Scope.Shared() || struck[k] {
				continue
			}
			for _, ft := range faults {
				switch ft.Kind {
				case scenarios.FaultStoreOutage, scenarios.FaultStoreSlowdown:
					struck[k] = struck[k] || shape.StoreOf(node, topology.Scope(l.Scope)) == ft.Store
				case scenarios.FaultPartition:
					struck[k] = struck[k] || (ft.Node == node && ft.Scope == l.Scope)
				case scenarios.FaultNodeCrash:
					struck[k] = struck[k] || ft.Node == node
				}
			}
			if struck[k] {
				out = append(out, k)
			}
		}
	}
	return out
}

// client returns the client node's driver uses for scope.
func (f *realFaults) client(node int, scope locks.Scope) redis.UniversalClient {
	if c := f.clients[proxyKey{node, scope}]; c != nil {
		return c
	}
	return f.w.client
}

// close closes the clients and the proxies.
func (f *realFaults) close() {
	for _, c := range f.clients {
		c.Close()
	}
	for _, p := range f.proxies {
		p.Close()
	}
}
