// Package topology is the shape of the simulated fleet: regions, zones per
// region, nodes per zone, the names of nodes ("r0/z1/n3"), and which store
// serves each shared scope for a node.
//
// Nodes are numbered densely, region by region and zone by zone, so that the
// simulator can keep per-node state in slices. The package knows nothing of
// locks, latencies or time.
package topology

import (
	"fmt"
	"strconv"
	"strings"
)

// Shape is the fleet's size.
type Shape struct {
	Regions        int
	ZonesPerRegion int
	NodesPerZone   int
}

// Validate reports a shape with fewer than one of anything.
func (s Shape) Validate() error {
	switch {
	case s.Regions < 1:
		return fmt.Errorf("regions must be at least 1, got %d", s.Regions)
	case s.ZonesPerRegion < 1:
		return fmt.Errorf("zones_per_region must be at least 1, got %d", s.ZonesPerRegion)
	case s.NodesPerZone < 1:
		return fmt.Errorf("nodes_per_zone must be at least 1, got %d", s.NodesPerZone)
	}
	return nil
}

// Nodes returns the number of nodes in the fleet.
func (s Shape) Nodes() int { return s.Regions * s.ZonesPerRegion * s.NodesPerZone }

// Zones returns the number of zones in the fleet.
func (s Shape) Zones() int { return s.Regions * s.ZonesPerRegion }

// NodesPerRegion returns the number of nodes in one region.
func (s Shape) NodesPerRegion() int { return s.ZonesPerRegion * s.NodesPerZone }

// Node is a node's place in the fleet.
type Node struct {
	Region, Zone, Index int // Zone and Index count within the region and zone
}

// ID returns the node's dense number, 0 to Nodes()-1.
func (s Shape) ID(n Node) int {
	return (n.Region*s.ZonesPerRegion+n.Zone)*s.NodesPerZone + n.Index
}

// Node returns the node with dense number id.
func (s Shape) Node(id int) Node {
	return Node{
		Region: id / s.NodesPerRegion(),
		Zone:   id / s.NodesPerZone % s.ZonesPerRegion,
		Index:  id % s.NodesPerZone,
	}
}

// ZoneID returns the dense number of node id's zone, 0 to Zones()-1.
func (s Shape) ZoneID(id int) int { return id / s.NodesPerZone }

// RegionID returns the number of node id's region.
func (s Shape) RegionID(id int) int { return id / s.NodesPerRegion() }

// Name returns the node's name, "r<region>/z<zone>/n<index>".
func (n Node) Name() string { return fmt.Sprintf("r%d/z%d/n%d", n.Region, n.Zone, n.Index) }

// ParseNode returns the node named name ("r0/z1/n3"), or an error saying what
// is wrong with the name or that no such node exists in the shape.
func (s Shape) ParseNode(name string) (Node, error) {
	parts := strings.Split(name, "/")
	if len(parts) != 3 {
		return Node{}, fmt.Errorf("node %q: want the form r<region>/z<zone>/n<node>, e.g. r0/z1/n3", name)
	}
	var v [3]int
	for i, p := range parts {
		prefix := "rzn"[i : i+1]
		num, ok := strings.CutPrefix(p, prefix)
		n, err := strconv.Atoi(num)
		if !ok || err != nil || n < 0 {
			return Node{}, fmt.Errorf("node %q: part %q should be %s<number>", name, p, prefix)
		}
		v[i] = n
	}
	n := Node{Region: v[0], Zone: v[1], Index: v[2]}
	switch {
	case n.Region >= s.Regions:
		return Node{}, fmt.Errorf("node %q does not exist: there are %d regions (r0 to r%d)", name, s.Regions, s.Regions-1)
	case n.Zone >= s.ZonesPerRegion:
		return Node{}, fmt.Errorf("node %q does not exist: there are %d zones per region (z0 to z%d)", name, s.ZonesPerRegion, s.ZonesPerRegion-1)
	case n.Index >= s.NodesPerZone:
		return Node{}, fmt.Errorf("node %q does not exist: there are %d nodes per zone (n0 to n%d)", name, s.NodesPerZone, s.NodesPerZone-1)
	}
	return n, nil
}

// Scope is a scope that a store serves: a zone, a region or the whole fleet.
// Its values are those of locks.Scope for the same scopes, so that a driver
// of the lock protocol converts one to the other (topology.Scope(s)); a
// test of package world holds the two together. Zero is no store's scope:
// that of a node, whose cache is its own.
type Scope uint8

// The scopes of stores.
const (
	ScopeZone Scope = 1 + iota
	ScopeRegion
	ScopeGlobal
)

// Stores returns the number of stores: one per zone, one per region and one
// global.
func (s Shape) Stores() int { return s.Zones() + s.Regions + 1 }

// StoreOf returns the number of the store of scope that serves node id.
// Stores are numbered densely, the zones' first (zone by zone, as ZoneID
// numbers them), then the regions', then the global store, so that the
// simulator keeps them in one slice and the real side gives each its own
// key prefix. Any other scope gets -1. This is the only place that numbers
// stores: the simulator's stores and faults, its lock instances and the
// real side of validation all ask it.
func (s Shape) StoreOf(id int, scope Scope) int {
	switch scope {
	case ScopeZone:
		return s.ZoneID(id)
	case ScopeRegion:
		return s.Zones() + s.RegionID(id)
	case ScopeGlobal:
		return s.Zones() + s.Regions
	}
	return -1
}
