package validate

import (
	"fmt"
	"math"
	"time"

	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/topology"
)

// lead is where the scaled-down timeline puts the scenario's first burst or
// fault: enough for every driver to be connected and subscribed.
const lead = 200 * time.Millisecond

// Scale returns a copy of sc small enough for goroutines and wall-clock
// time: at most maxNodes nodes (fewer nodes per zone first, then fewer zones,
// then fewer regions) and at most maxRequests requests (every burst and the
// steady rate scaled by the same factor, each burst keeping its window, so
// the burst keeps its shape). A quiet stretch before the first burst or
// fault is cut to a short lead, and node names are folded into the smaller
// fleet. It says what it changed in notes.
func Scale(sc *scenarios.Scenario, maxNodes, maxRequests int) (out *scenarios.Scenario, notes []string, err error) {
	if maxNodes < 1 || maxRequests < 1 {
		return nil, nil, fmt.Errorf("limits must be positive, got %d nodes and %d requests", maxNodes, maxRequests)
	}
	c := clone(sc)
	shape := sc.Shape()
	small := shape
	if small.Nodes() > maxNodes {
		small.NodesPerZone = max(1, maxNodes/(small.Regions*small.ZonesPerRegion))
		if small.Regions*small.ZonesPerRegion > maxNodes {
			small.ZonesPerRegion = max(1, maxNodes/small.Regions)
			small.NodesPerZone = 1
		}
		if small.Regions > maxNodes {
			small.Regions, small.ZonesPerRegion, small.NodesPerZone = maxNodes, 1, 1
		}
		c.Topology = scenarios.World{Regions: small.Regions, ZonesPerRegion: small.ZonesPerRegion, NodesPerZone: small.NodesPerZone}
		notes = append(notes, fmt.Sprintf("fleet %dx%dx%d (%d nodes) scaled to %dx%dx%d (%d nodes)",
			shape.Regions, shape.ZonesPerRegion, shape.NodesPerZone, shape.Nodes(),
			small.Regions, small.ZonesPerRegion, small.NodesPerZone, small.Nodes()))
	}
	fold := func(name string) (string, error) {
		n, err := shape.ParseNode(name)
		if err != nil {
			return "", err
		}
		return topology.Node{Region: n.Region % small.Regions, Zone: n.Zone % small.ZonesPerRegion, Index: n.Index % small.NodesPerZone}.Name(), nil
	}
	for i := range c.Workload.Bursts {
		for j, name := range c.Workload.Bursts[i].Nodes {
			if c.Workload.Bursts[i].Nodes[j], err = fold(name); err != nil {
				return nil, nil, fmt.Errorf("workload.bursts[%d].nodes[%d]: %w", i, j, err)
			}
		}
	}
	for i := range c.Faults {
		if c.Faults[i].Node == "" {
			continue
		}
		if c.Faults[i].Node, err = fold(c.Faults[i].Node); err != nil {
			return nil, nil, fmt.Errorf("faults[%d].node: %w", i, err)
		}
		c.Faults[i].Region %= small.Regions
		c.Faults[i].Zone %= small.ZonesPerRegion
	}

	total := c.Workload.Rate * c.Duration.D().Seconds()
	for _, b := range c.Workload.Bursts {
		total += float64(b.Requests)
	}
	if total > float64(maxRequests) {
		f := float64(maxRequests) / total
		for i := range c.Workload.Bursts {
			b := &c.Workload.Bursts[i]
			b.Requests = max(1, int(math.Floor(float64(b.Requests)*f)))
		}
		c.Workload.Rate *= f
		notes = append(notes, fmt.Sprintf("about %.0f requests scaled by %.4g to at most %d (burst windows kept)", total, f, maxRequests))
	}

	// Cut the quiet stretch before the first event when nothing steady
	// happens in it.
	if c.Workload.Rate == 0 {
		first := time.Duration(math.MaxInt64)
		for _, b := range c.Workload.Bursts {
			first = min(first, b.At.D())
		}
		for _, f := range c.Faults {
			first = min(first, f.At.D())
		}
		if first != time.Duration(math.MaxInt64) && first > lead {
			shift := first - lead
			for i := range c.Workload.Bursts {
				c.Workload.Bursts[i].At -= scenarios.Duration(shift)
			}
			for i := range c.Faults {
				c.Faults[i].At -= scenarios.Duration(shift)
			}
			c.Duration -= scenarios.Duration(shift)
			notes = append(notes, fmt.Sprintf("timeline moved %v earlier (nothing happens before the first burst or fault)", shift))
		}
	}
	return c, notes, nil
}

// clone copies a scenario deeply enough that scaling it leaves the original
// alone.
func clone(sc *scenarios.Scenario) *scenarios.Scenario {
	c := *sc
	c.Workload.Bursts = append([]scenarios.Burst(nil), sc.Workload.Bursts...)
	for i := range c.Workload.Bursts {
		c.Workload.Bursts[i].Nodes = append([]string(nil), sc.Workload.Bursts[i].Nodes...)
	}
	c.Faults = append([]scenarios.Fault(nil), sc.Faults...)
	c.Topologies = append([]string(nil), sc.Topologies...)
	c.CustomTopologies = append([]scenarios.CustomTopology(nil), sc.CustomTopologies...)
	return &c
}

// carried returns how many requests the real store can carry. A topology
// with no node level makes every request a store contender, and a store
// slower than the simulator's default (an embedded miniredis runs Lua
// scripts at a few thousand a second, on the same two cores as every
// driver) would queue the real side into timeouts that depend on the
// machine's load, not on the protocol: chaos on both sides, not a
// comparison. So the traffic is scaled until one operation per request, at
// the scenario's peak rate (its densest burst, or its steady rate), keeps
// the store at most load busy (DefaultStoreLoad: 10%, which leaves the
// drivers' own CPU, on the same machine, room to keep time). limit caps it
// in any case.
func carried(sc *scenarios.Scenario, cal Calibration, limit int, load float64) (int, string) {
	if cal.Throughput <= 0 {
		return limit, ""
	}
	peak := sc.Workload.Rate // requests per second
	for _, b := range sc.Workload.Bursts {
		if w := b.Over.D().Seconds(); w > 0 {
			peak = max(peak, sc.Workload.Rate+float64(b.Requests)/w)
		}
	}
	if peak <= 0 {
		return limit, ""
	}
	f := load * cal.Throughput / peak
	if f >= 1 {
		return limit, ""
	}
	total := sc.Workload.Rate * sc.Duration.D().Seconds()
	for _, b := range sc.Workload.Bursts {
		total += float64(b.Requests)
	}
	n := max(1, int(total*f))
	if n >= limit {
		return limit, ""
	}
	return n, fmt.Sprintf("the store serves %.0f scripts/s: traffic held to %d requests, so that its peak (%.0f/s) keeps the store at most %.0f%% busy",
		cal.Throughput, n, peak*f, 100*load)
}
