package scenarios

import (
	"fmt"
	"time"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/topology"
)

// Resolved is a scenario with everything a simulator would otherwise parse
// already parsed: the fleet's shape, each burst's nodes as dense numbers
// (topology.Shape.ID), and each fault's kind, node, scope and store. A
// simulator reads the rest (durations, rates, distributions, caches) from
// Scenario, and parses no names and checks nothing that Resolved stands for.
type Resolved struct {
	// Scenario is the scenario it was resolved from. The parsed fields do
	// not follow later changes to it: call Scenario.Resolved again.
	Scenario *Scenario
	// Shape is the fleet's shape; it has passed topology.Shape.Validate.
	Shape topology.Shape
	// Bursts are the scenario's bursts, in file order.
	Bursts []ResolvedBurst
	// Faults are the scenario's faults, in file order.
	Faults []ResolvedFault
}

// ResolvedBurst is a Burst with its nodes numbered.
type ResolvedBurst struct {
	At, Over time.Duration
	// Key is below workload.keys.
	Key, Requests int
	// Nodes are the dense numbers of the nodes the requests arrive at, or
	// nil for every node.
	Nodes []int
}

// ResolvedFault is a Fault with its kind parsed and what it strikes
// numbered. Only the fields of its kind are set (see Fault).
type ResolvedFault struct {
	Kind FaultKind
	// From and To are when the fault starts and ends (At and At+For).
	From, To time.Duration
	// Node is the dense number of the node struck (node-crash, node-pause,
	// partition).
	Node int
	// Scope is the scope of the store struck (store-outage,
	// store-slowdown) or cut off (partition): zone, region or global.
	Scope locks.Scope
	// Store is the number of the store struck, as topology.Shape.StoreOf
	// numbers stores (store-outage, store-slowdown).
	Store int
	// Factor is the slowdown (store-slowdown, upstream-slowdown), Rate the
	// fraction of calls that fail (upstream-errors).
	Factor, Rate float64
}

// Resolved parses what s names into a Resolved (its lock topologies are
// Resolve's, one by name). A scenario from Load or Parse
// always resolves; one built or changed in code may not, and then the error
// names the field (a node that does not exist, a store scope that is not
// one, a burst key past workload.keys). It checks only what it resolves:
// every number it hands on names something that exists, so that a
// simulator can index with it.
func (s *Scenario) Resolved() (*Resolved, error) {
	r := &Resolved{Scenario: s, Shape: s.Shape()}
	if err := r.Shape.Validate(); err != nil {
		return nil, fmt.Errorf("topology: %w", err)
	}
	for i, b := range s.Workload.Bursts {
		rb := ResolvedBurst{At: b.At.D(), Over: b.Over.D(), Key: b.Key, Requests: b.Requests}
		if err := burstKey(b.Key, s.Workload.Keys); err != nil {
			return nil, fmt.Errorf("workload.bursts[%d].key: %w", i, err)
		}
		for j, name := range b.Nodes {
			id, err := nodeID(r.Shape, name)
			if err != nil {
				return nil, fmt.Errorf("workload.bursts[%d].nodes[%d]: %w", i, j, err)
			}
			rb.Nodes = append(rb.Nodes, id)
		}
		r.Bursts = append(r.Bursts, rb)
	}
	for i, f := range s.Faults {
		rf, field, err := resolveFault(r.Shape, f)
		if err != nil {
			return nil, fmt.Errorf("faults[%d].%s: %w", i, field, err)
		}
		r.Faults = append(r.Faults, rf)
	}
	return r, nil
}

// resolveFault parses f's kind and numbers what it strikes in shape, or says
// which of f's fields (kind, node, scope, region, zone) is wrong.
func resolveFault(shape topology.Shape, f Fault) (rf ResolvedFault, field string, err error) {
	kind, ok := ParseFaultKind(f.Kind)
	if !ok {
		return rf, "kind", fmt.Errorf("unknown fault kind %q", f.Kind)
	}
	rf = ResolvedFault{Kind: kind, From: f.At.D(), To: f.At.D() + f.For.D(), Factor: f.Factor, Rate: f.Rate}
	switch kind {
	case FaultNodeCrash, FaultNodePause, FaultPartition:
		if rf.Node, err = nodeID(shape, f.Node); err != nil {
			return rf, "node", err
		}
		if kind == FaultPartition {
			if rf.Scope, err = parseStoreScope(f.Scope); err != nil {
				return rf, "scope", err
			}
		}
	case FaultStoreOutage, FaultStoreSlowdown:
		if rf.Scope, err = parseStoreScope(f.Scope); err != nil {
			return rf, "scope", err
		}
		if rf.Store, field, err = storeNumber(shape, rf.Scope, f.Region, f.Zone); err != nil {
			return rf, field, err
		}
	}
	return rf, "", nil
}

// nodeID returns the dense number of the node called name in shape.
func nodeID(shape topology.Shape, name string) (int, error) {
	n, err := shape.ParseNode(name)
	if err != nil {
		return 0, err
	}
	return shape.ID(n), nil
}

// parseStoreScope parses the scope of a store: zone, region or global.
func parseStoreScope(scope string) (locks.Scope, error) {
	sc, err := locks.ParseScope(scope)
	if err != nil {
		return 0, fmt.Errorf("unknown scope %q (want zone, region or global)", scope)
	}
	if !sc.Shared() {
		return 0, fmt.Errorf("node has no store (want zone, region or global)")
	}
	return sc, nil
}

// storeNumber returns the number (topology.Shape.StoreOf) of the store of
// scope in region and zone (counted within the region), which only the
// scopes that have one per region or zone read, or says which of region and
// zone does not exist.
func storeNumber(shape topology.Shape, scope locks.Scope, region, zone int) (int, string, error) {
	if scope != locks.ScopeGlobal && (region < 0 || region >= shape.Regions) {
		return 0, "region", fmt.Errorf("region %d does not exist: there are %d regions (0 to %d)", region, shape.Regions, shape.Regions-1)
	}
	if scope == locks.ScopeZone && (zone < 0 || zone >= shape.ZonesPerRegion) {
		return 0, "zone", fmt.Errorf("zone %d does not exist: there are %d zones per region (0 to %d)", zone, shape.ZonesPerRegion, shape.ZonesPerRegion-1)
	}
	var n topology.Node
	if scope != locks.ScopeGlobal {
		n.Region = region
	}
	if scope == locks.ScopeZone {
		n.Zone = zone
	}
	return shape.StoreOf(shape.ID(n), topology.Scope(scope)), "", nil
}

// burstKey checks that a burst's key is one of the keys workload.keys
// numbers.
func burstKey(key, keys int) error {
	if key < 0 || key >= keys {
		return fmt.Errorf("must be a key from 0 to %d (workload.keys is %d), got %d", keys-1, keys, key)
	}
	return nil
}
