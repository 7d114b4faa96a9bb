package world

import (
	"context"
	"testing"

	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/scenarios"
)

// The flash-crowd built-in, as a user runs it: one hot key, 100,000
// requests in 100ms over 3 regions of 20 nodes, no faults. What each
// topology promises must show in the counts.
func TestFlashCrowdBuiltinPromises(t *testing.T) {
	sc, err := scenarios.Builtin("flash-crowd")
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Faults) != 0 || sc.Workload.Rate != 0 || len(sc.Workload.Bursts) != 1 {
		t.Fatalf("flash-crowd changed shape (faults %v, rate %v, bursts %v): revisit this test", sc.Faults, sc.Workload.Rate, sc.Workload.Bursts)
	}
	shape := sc.Shape()
	regions, perRegion := uint64(shape.Regions), shape.NodesPerRegion()
	runs := map[string]reports.Run{}
	for _, name := range []string{"node-only", "one-level", "two-level", "global", "fanout-tree"} {
		topo, err := sc.Resolve(name)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Run(context.Background(), resolve(t, sc), topo, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if out.Unfinished != 0 || out.Served.Error != 0 {
			t.Errorf("%s: %d unfinished, %d errors", name, out.Unfinished, out.Served.Error)
		}
		runs[name] = out
	}
	peak := func(r reports.Run, scope string) int {
		for _, l := range r.Levels {
			if l.Scope == scope {
				return l.PeakContenders
			}
		}
		t.Fatalf("%s has no %s level", r.Topology, scope)
		return 0
	}

	if got := runs["two-level"].UpstreamCalls; got != regions {
		t.Errorf("two-level: %d upstream calls, want one per region (%d)", got, regions)
	}
	if got := peak(runs["two-level"], "region"); got > perRegion {
		t.Errorf("two-level: region peak contenders %d, more than the %d nodes of a region", got, perRegion)
	}
	// One-level makes every request a contender: the peak is of the order
	// of the requests in flight, not of the nodes.
	if got := peak(runs["one-level"], "region"); got < 100*perRegion {
		t.Errorf("one-level: region peak contenders %d, want it to grow with the requests (>= %d)", got, 100*perRegion)
	}
	// A burst of 100,000 over 60 nodes reaches every node.
	if got := runs["node-only"].UpstreamCalls; got != uint64(shape.Nodes()) {
		t.Errorf("node-only: %d upstream calls, want one per node (%d)", got, shape.Nodes())
	}
	for _, name := range []string{"global", "fanout-tree"} {
		if got := runs[name].UpstreamCalls; got != 1 {
			t.Errorf("%s: %d upstream calls, want 1 in all", name, got)
		}
	}
}
