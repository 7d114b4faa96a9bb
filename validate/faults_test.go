package validate

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/topology"
)

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
		{Kind: scenarios.FaultUpstreamErrors, Rate: 0.5, At: scenarios.Duration(2 * time.Second), For: scenarios.Duration(time.Second)},
		{Kind: scenarios.FaultUpstreamSlowdown, Factor: 2, At: scenarios.Duration(time.Second), For: scenarios.Duration(500 * time.Millisecond)},
	}
	w := &realWorld{sc: sc, shape: sc.Shape()}
	f, err := newRealFaults(w, sc, "", false)
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
	rt := f.retimed(sc)
	if rt.Faults[1].At.D() != 1100*time.Millisecond || rt.Faults[1].For.D() != 600*time.Millisecond || rt.Faults[0].At.D() != 2*time.Second {
		t.Errorf("retimed faults %+v", rt.Faults)
	}
	if sc.Faults[1].At.D() != time.Second {
		t.Errorf("retiming changed the scenario it copied: %+v", sc.Faults)
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
	sc := builtinScenario(t, "region-store-outage")
	w := &realWorld{sc: sc, shape: sc.Shape()}
	if _, err := newRealFaults(w, sc, "", false); err == nil || !strings.Contains(err.Error(), "Cluster") {
		t.Errorf("err %v, want one naming the Cluster", err)
	}
}

// A store fault names the store topology.Shape.StoreOf numbers, and the
// error draws are the same for the same call and spread over [0, 1).
func TestStoreOfFaultAndErrorDraws(t *testing.T) {
	s := topology.Shape{Regions: 3, ZonesPerRegion: 2, NodesPerZone: 2}
	for _, tc := range []struct {
		f    scenarios.Fault
		node topology.Node
		sc   topology.Scope
	}{
		{scenarios.Fault{Scope: "region", Region: 1}, topology.Node{Region: 1, Zone: 1, Index: 1}, topology.ScopeRegion},
		{scenarios.Fault{Scope: "zone", Region: 2, Zone: 1}, topology.Node{Region: 2, Zone: 1}, topology.ScopeZone},
		{scenarios.Fault{Scope: "global"}, topology.Node{Region: 2}, topology.ScopeGlobal},
	} {
		got, err := storeOfFault(s, tc.f)
		if want := s.StoreOf(s.ID(tc.node), tc.sc); err != nil || got != want {
			t.Errorf("%+v: store %d (%v), want %d", tc.f, got, err, want)
		}
	}
	if _, err := storeOfFault(s, scenarios.Fault{Scope: "node"}); err == nil {
		t.Error("a node scope named a store")
	}
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
