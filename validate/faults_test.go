package validate

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/topology"
)

// resolvedWorld is a realWorld for sc, with its topology the scenario's
// first, as far as the fault steps need one.
func resolvedWorld(t *testing.T, sc *scenarios.Scenario) *realWorld {
	t.Helper()
	rs := resolvedOf(t, sc)
	topo, err := sc.Resolve(sc.Topologies[0])
	if err != nil {
		t.Fatal(err)
	}
	return &realWorld{sc: sc, rs: rs, shape: rs.Shape, topo: topo, realTopo: topo}
}

// resolvedOf returns sc resolved.
func resolvedOf(t *testing.T, sc *scenarios.Scenario) *scenarios.Resolved {
	t.Helper()
	rs, err := sc.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func builtinScenario(t *testing.T, name string) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// holder-pause runs its pause on both sides: the paused holder's write is
// refused on each, and that count is judged.
func TestHolderPauseAgreesWithThePauseOnBothSides(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	rep, err := Run(context.Background(), builtinScenario(t, "holder-pause"), Options{Topologies: []string{"two-level"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range rep.Notes {
		if strings.Contains(n, "left out") {
			t.Errorf("note %q: no fault may be left out against a single server", n)
		}
	}
	p := rep.Runs[0]
	if !rep.Agree || p.Sim.WritesRefused != 1 || p.Real.WritesRefused != 1 || !p.UpstreamCompared {
		t.Errorf("agree %v, writes refused sim %d real %d, upstream compared %v; want agreement, 1 refused write a side, upstream compared (differences %q)",
			rep.Agree, p.Sim.WritesRefused, p.Real.WritesRefused, p.UpstreamCompared, p.Differences)
	}
}

// A real side that ignores the scenario's faults is caught, and the count
// that shows it named: without the pause no holder is fenced out.
func TestRealSideIgnoringFaultsIsCaught(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	rep, err := Run(context.Background(), builtinScenario(t, "holder-pause"), Options{Topologies: []string{"two-level"}, RealIgnoresFaults: true})
	if err != nil {
		t.Fatal(err)
	}
	p := rep.Runs[0]
	named := false
	for _, d := range p.Differences {
		named = named || strings.HasPrefix(d, "writes_refused")
	}
	if rep.Agree || !named {
		t.Errorf("agree %v with differences %q; want writes_refused named (sim %d, real %d)", rep.Agree, p.Differences, p.Sim.WritesRefused, p.Real.WritesRefused)
	}
}

// The real side's fault steps come in time order, a fault's end after its
// start, and the retimed scenario puts each fault where the real side
// applied it.
func TestFaultStepsAndRetimedFaults(t *testing.T) {
	sc := builtinScenario(t, "holder-pause")
	sc.Faults = []scenarios.Fault{
		{Kind: scenarios.FaultUpstreamErrors.String(), Rate: 0.5, At: scenarios.Duration(2 * time.Second), For: scenarios.Duration(time.Second)},
		{Kind: scenarios.FaultUpstreamSlowdown.String(), Factor: 2, At: scenarios.Duration(time.Second), For: scenarios.Duration(500 * time.Millisecond)},
	}
	w := resolvedWorld(t, sc)
	f, err := newRealFaults(w, "", false)
	if err != nil {
		t.Fatal(err)
	}
	want := []faultStep{{time.Second, 1, false}, {1500 * time.Millisecond, 1, true}, {2 * time.Second, 0, false}, {3 * time.Second, 0, true}}
	if len(f.steps) != len(want) {
		t.Fatalf("steps %v, want %v", f.steps, want)
	}
	for i := range want {
		if f.steps[i] != want[i] {
			t.Errorf("step %d: %+v, want %+v", i, f.steps[i], want[i])
		}
	}
	f.applied[1] = [2]time.Duration{1100 * time.Millisecond, 1700 * time.Millisecond}
	rt := f.retimed(w.rs)
	if rt.Faults[1].From != 1100*time.Millisecond || rt.Faults[1].To != 1700*time.Millisecond || rt.Faults[0].From != 2*time.Second {
		t.Errorf("retimed faults %+v", rt.Faults)
	}
	if w.rs.Faults[1].From != time.Second {
		t.Errorf("retiming changed the scenario it copied: %+v", w.rs.Faults)
	}
	for _, tc := range []struct {
		apply       faultStep
		factor, err float64
	}{
		{faultStep{0, 1, false}, 2, 0},
		{faultStep{0, 0, false}, 2, 0.5},
		{faultStep{0, 1, true}, 1, 0.5},
		{faultStep{0, 0, true}, 1, 0},
	} {
		if err := f.apply(context.Background(), tc.apply); err != nil {
			t.Fatal(err)
		}
		if factor, rate := f.upstream(); factor != tc.factor || rate != tc.err {
			t.Errorf("after %+v: factor %v, error rate %v; want %v, %v", tc.apply, factor, rate, tc.factor, tc.err)
		}
	}
}

// Network faults need a server to put proxies in front of.
func TestNetworkFaultsNeedOneServer(t *testing.T) {
	if _, err := newRealFaults(resolvedWorld(t, builtinScenario(t, "region-store-outage")), "", false); err == nil || !strings.Contains(err.Error(), "Cluster") {
		t.Errorf("err %v, want one naming the Cluster", err)
	}
}

// The error draws are the same for the same call and spread over [0, 1).
func TestErrorDraws(t *testing.T) {
	draw := callErrorDraw(builtinScenario(t, "holder-pause"))
	below := 0
	for n := range 1000 {
		u := draw(3, 0, n)
		if u < 0 || u >= 1 || u != draw(3, 0, n) {
			t.Fatalf("draw %d: %v, not in [0, 1) or not the same twice", n, u)
		}
		if u < 0.5 {
			below++
		}
	}
	if below < 400 || below > 600 {
		t.Errorf("%d of 1000 draws below 0.5", below)
	}
}

// A round trip that a pause or a cut overlapped is held (the retimed runs do
// not take it as a network delay); only a cut makes it no round trip.
func TestHeldRoundTrips(t *testing.T) {
	ms := time.Millisecond
	f := &realFaults{crashed: make([]bool, 2),
		cuts:   spans{nil, {{10 * ms, 20 * ms}}},
		frozen: spans{{{30 * ms, 40 * ms}}, nil}}
	for _, tc := range []struct {
		node      int
		from, to  time.Duration
		held, cut bool
	}{
		{0, 25 * ms, 29 * ms, false, false},
		{0, 25 * ms, 31 * ms, true, false}, // its reply waited for the thaw
		{0, 35 * ms, 36 * ms, true, false},
		{0, 10 * ms, 20 * ms, false, false}, // the cut was the other node's
		{1, 15 * ms, 50 * ms, true, true},
		{1, 21 * ms, 50 * ms, false, false},
	} {
		if held, cut := f.wasHeld(tc.node, tc.from, tc.to), f.wasCut(tc.node, tc.from, tc.to); held != tc.held || cut != tc.cut {
			t.Errorf("node %d from %v to %v: held %v cut %v, want %v %v", tc.node, tc.from, tc.to, held, cut, tc.held, tc.cut)
		}
	}
}

// Only the links a fault strikes go through a proxy: every node's to a store
// that is down, a partitioned node's to its scope's store, a crashed node's
// to every store.
func TestStruckLinks(t *testing.T) {
	shape := topology.Shape{Regions: 2, ZonesPerRegion: 1, NodesPerZone: 2}
	topo := locks.Topology{Name: "t", Levels: []locks.Level{{Scope: locks.ScopeNode}, {Scope: locks.ScopeRegion}, {Scope: locks.ScopeGlobal}}}
	region1 := shape.StoreOf(shape.ID(topology.Node{Region: 1}), topology.ScopeRegion)
	for _, tc := range []struct {
		name   string
		faults []scenarios.ResolvedFault
		want   []proxyKey
	}{
		{"region 1's store down", []scenarios.ResolvedFault{{Kind: scenarios.FaultStoreOutage, Store: region1}},
			[]proxyKey{{2, locks.ScopeRegion}, {3, locks.ScopeRegion}}},
		{"node 0 cut off from the global store", []scenarios.ResolvedFault{{Kind: scenarios.FaultPartition, Node: 0, Scope: locks.ScopeGlobal}},
			[]proxyKey{{0, locks.ScopeGlobal}}},
		{"node 1 crashed", []scenarios.ResolvedFault{{Kind: scenarios.FaultNodeCrash, Node: 1}},
			[]proxyKey{{1, locks.ScopeRegion}, {1, locks.ScopeGlobal}}},
		{"a pause and upstream faults", []scenarios.ResolvedFault{{Kind: scenarios.FaultNodePause, Node: 1}, {Kind: scenarios.FaultUpstreamErrors}}, nil},
	} {
		if got := struckLinks(shape, topo, tc.faults); !slices.Equal(got, tc.want) {
			t.Errorf("%s: links %v, want %v", tc.name, got, tc.want)
		}
	}
}
