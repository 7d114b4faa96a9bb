package world

import (
	"testing"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/topology"
)

// TestScopesAgree holds topology's store scopes to the values of locks'
// scopes: the world and validate convert one to the other to ask
// topology.Shape.StoreOf which store serves a node.
func TestScopesAgree(t *testing.T) {
	for _, c := range []struct {
		l locks.Scope
		t topology.Scope
	}{{locks.ScopeZone, topology.ScopeZone}, {locks.ScopeRegion, topology.ScopeRegion}, {locks.ScopeGlobal, topology.ScopeGlobal}} {
		if topology.Scope(c.l) != c.t {
			t.Errorf("locks scope %v is %d, topology's is %d", c.l, c.l, c.t)
		}
	}
	s := topology.Shape{Regions: 2, ZonesPerRegion: 2, NodesPerZone: 2}
	if got := s.StoreOf(0, topology.Scope(locks.ScopeNode)); got != -1 {
		t.Errorf("the node scope has store %d, want none (-1)", got)
	}
}
