package world

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/scenarios"
)

func sum[T uint64 | int](s []T) T {
	var n T
	for _, v := range s {
		n += v
	}
	return n
}

// checkSeries checks what must hold between a run's series and its totals,
// whatever the scenario: every series as long as the run, counts that add
// up to the run's counts, peaks that reach the run's peaks, utilisations
// that add up to the stores' busy time.
func checkSeries(t *testing.T, r reports.Run) {
	t.Helper()
	s := r.Series
	if s == nil {
		t.Fatalf("%s: no series", r.Topology)
	}
	step := time.Duration(math.Round(s.StepMs * 1e6))
	simDur := time.Duration(math.Round(r.SimSeconds * 1e9))
	n := len(s.Requests)
	if want := int((simDur + step - 1) / step); n != want {
		t.Errorf("%s: %d samples of %v over %v, want %d", r.Topology, n, step, simDur, want)
	}
	lengths := map[string]int{
		"upstream_calls": len(s.UpstreamCalls), "upstream_in_flight": len(s.UpstreamInFlight), "store_ops": len(s.StoreOps),
		"waiting": len(s.Waiting), "errors": len(s.Errors), "p50": len(s.LatencyP50Ms), "p99": len(s.LatencyP99Ms),
		"hit": len(s.Served.Hit), "collapsed": len(s.Served.Collapsed), "fetched": len(s.Served.Fetched),
		"hedged": len(s.Served.Hedged), "stale": len(s.Served.Stale), "error": len(s.Served.Error),
	}
	for _, st := range s.Stores {
		lengths["ops "+st.Scope], lengths["utilisation "+st.Scope] = len(st.Ops), len(st.Utilisation)
	}
	for l, p := range s.PeakContenders {
		lengths["contenders "+r.Levels[l].Name] = len(p)
	}
	for name, got := range lengths {
		if got != n {
			t.Errorf("%s: series %s has %d samples, requests %d", r.Topology, name, got, n)
		}
	}
	if len(s.PeakContenders) != len(r.Levels) {
		t.Errorf("%s: contenders of %d levels, want %d", r.Topology, len(s.PeakContenders), len(r.Levels))
	}

	totals := []struct {
		name      string
		got, want uint64
	}{
		{"requests", sum(s.Requests), r.Requests},
		{"upstream calls", sum(s.UpstreamCalls), r.UpstreamCalls},
		{"store ops", sum(s.StoreOps), r.StoreOps},
		{"hit", sum(s.Served.Hit), r.Served.Hit},
		{"collapsed", sum(s.Served.Collapsed), r.Served.Collapsed},
		{"fetched", sum(s.Served.Fetched), r.Served.Fetched},
		{"hedged", sum(s.Served.Hedged), r.Served.Hedged},
		{"stale", sum(s.Served.Stale), r.Served.Stale},
		{"error", sum(s.Served.Error), r.Served.Error},
		{"errors", sum(s.Errors), r.Served.Error},
	}
	var scopeOps uint64
	for _, st := range s.Stores {
		var want uint64
		for _, rs := range r.Stores {
			if rs.Scope == st.Scope {
				want += rs.Ops
			}
		}
		scopeOps += sum(st.Ops)
		totals = append(totals, struct {
			name      string
			got, want uint64
		}{"store ops " + st.Scope, sum(st.Ops), want})
	}
	totals = append(totals, struct {
		name      string
		got, want uint64
	}{"store ops by scope", scopeOps, r.StoreOps})
	for _, c := range totals {
		if c.got != c.want {
			t.Errorf("%s: the %s series add up to %d, the run counts %d", r.Topology, c.name, c.got, c.want)
		}
	}
	for l, p := range s.PeakContenders {
		if got := slices.Max(p); got != r.Levels[l].PeakContenders {
			t.Errorf("%s: %s contenders peak at %d in the series, at %d in the run", r.Topology, r.Levels[l].Name, got, r.Levels[l].PeakContenders)
		}
	}
	if r.UpstreamCalls > 0 && slices.Max(s.UpstreamInFlight) == 0 {
		t.Errorf("%s: %d upstream calls, none ever in flight", r.Topology, r.UpstreamCalls)
	}
	for i := range n {
		if s.Errors[i] != s.Served.Error[i] {
			t.Errorf("%s: sample %d: %d errors, %d served as errors", r.Topology, i, s.Errors[i], s.Served.Error[i])
		}
		if s.LatencyP50Ms[i] > s.LatencyP99Ms[i] {
			t.Errorf("%s: sample %d: p50 %v above p99 %v", r.Topology, i, s.LatencyP50Ms[i], s.LatencyP99Ms[i])
		}
	}

	// The busiest store of a scope is busy no longer in all than all of
	// them together, and no shorter than any one of them.
	for _, st := range s.Stores {
		var busy float64 // ms, from the series
		for _, u := range st.Utilisation {
			if u < 0 || u > 1 {
				t.Errorf("%s: %s utilisation %v", r.Topology, st.Scope, u)
			}
			busy += u * s.StepMs
		}
		var most, all float64
		stores := 0
		for _, rs := range r.Stores {
			if rs.Scope == st.Scope {
				b := rs.Utilisation * r.SimSeconds * 1000
				most, all, stores = max(most, b), all+b, stores+1
			}
		}
		// A run's utilisations have three decimals, the series' samples
		// four significant digits.
		slack := 0.0005*r.SimSeconds*1000*float64(stores) + 0.001*all
		if busy < most-slack || busy > all+slack {
			t.Errorf("%s: %s stores busy %.3fms by the series, want between the busiest's %.3fms and all %.3fms", r.Topology, st.Scope, busy, most, all)
		}
	}
}

// checkHistogram checks the latency histogram's shape, and that it holds
// every request answered after a wait or at once: all of them, but those
// a crash failed (replies, the number of them).
func checkHistogram(t *testing.T, r reports.Run, replies uint64) {
	t.Helper()
	h := r.LatencyHistogramMs
	if h == nil {
		t.Fatalf("%s: no latency histogram", r.Topology)
	}
	if len(h.Bounds) != len(h.Counts)+1 || !slices.IsSorted(h.Bounds) || h.Counts[0] == 0 || h.Counts[len(h.Counts)-1] == 0 {
		t.Errorf("%s: histogram bounds %v, counts %v", r.Topology, h.Bounds, h.Counts)
	}
	if got := sum(h.Counts); got != replies {
		t.Errorf("%s: histogram holds %d requests, want %d", r.Topology, got, replies)
	}
	// The median falls in the bucket the histogram says it does.
	var seen uint64
	for i, c := range h.Counts {
		if seen += c; 2*seen >= replies {
			if p50 := r.LatencyMs.P50; p50 < h.Bounds[i]*0.999 || p50 > h.Bounds[i+1]*1.001 {
				t.Errorf("%s: p50 %vms outside the histogram's median bucket [%v, %v)", r.Topology, p50, h.Bounds[i], h.Bounds[i+1])
			}
			break
		}
	}
}

// equalJSON reports whether a and b encode to the same JSON.
func equalJSON(a, b any) bool {
	ja, erra := json.Marshal(a)
	jb, errb := json.Marshal(b)
	return erra == nil && errb == nil && string(ja) == string(jb)
}

func served(r reports.Run) uint64 {
	s := r.Served
	return s.Hit + s.Collapsed + s.Fetched + s.Hedged + s.Stale + s.Error
}

func TestSeriesAddUp(t *testing.T) {
	small := flashCrowd(5000)
	small.Workload.Rate = 1000
	crash := flashCrowd(3000)
	crash.Workload.Rate = 500
	crash.Faults = []scenarios.Fault{{Kind: "node-crash", Node: "r0/z0/n0", At: dur(1050 * time.Millisecond), For: dur(time.Second)}}
	for _, c := range []struct {
		name       string
		sc         func(t *testing.T) *scenarios.Scenario
		topologies []string
		crashes    bool
	}{
		// one-level and global on the built-in take half a minute under
		// the race detector: they get a smaller crowd below.
		{"flash-crowd", builtinScenario("flash-crowd"), []string{"node-only", "two-level", "fanout-tree"}, false},
		{"small crowd", func(*testing.T) *scenarios.Scenario { return small }, []string{"none", "one-level", "global"}, false},
		{"holder-pause", builtinScenario("holder-pause"), nil, false},
		{"crash", func(*testing.T) *scenarios.Scenario { return crash }, []string{"none", "node-only", "two-level"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			sc := c.sc(t)
			names := c.topologies
			if names == nil {
				names = sc.Topologies
			}
			for _, name := range names {
				topo, err := sc.Resolve(name)
				if err != nil {
					t.Fatal(err)
				}
				r := runTopo(t, sc, topo)
				checkSeries(t, r)
				if !c.crashes {
					checkHistogram(t, r, served(r))
				} else if sum(r.Series.Errors) == 0 {
					t.Errorf("%s: the crash failed no request", name)
				}
			}
		})
	}
}

func builtinScenario(name string) func(t *testing.T) *scenarios.Scenario {
	return func(t *testing.T) *scenarios.Scenario {
		t.Helper()
		sc, err := scenarios.Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
}

// flash-crowd's default step resolves its 100ms burst into twenty samples,
// in which the upstream calls and the contenders show; and a wait that
// goes on after the burst shows in the samples after it, though no request
// joins then.
func TestFlashCrowdBurstSamples(t *testing.T) {
	sc := builtinScenario("flash-crowd")(t)
	burst := sc.Workload.Bursts[0]
	from, to := burst.At.D(), burst.At.D()+burst.Over.D()
	r := runTopo(t, sc, builtin(t, sc, "two-level"))
	s := r.Series
	step := time.Duration(s.StepMs * 1e6)
	first, last := int(from/step), int((to-1)/step)
	if n := last - first + 1; n < 20 {
		t.Fatalf("%d samples of %v in the burst [%v, %v), want at least 20", n, step, from, to)
	}
	var requests uint64
	var nodeMost, regionMost int
	for i := first; i <= last; i++ {
		requests += s.Requests[i]
		nodeMost, regionMost = max(nodeMost, s.PeakContenders[0][i]), max(regionMost, s.PeakContenders[1][i])
	}
	if requests != uint64(burst.Requests) || nodeMost == 0 || regionMost == 0 || sum(s.UpstreamCalls[first:last+1]) == 0 {
		t.Errorf("in the burst: %d requests, contenders at most %d (node) and %d (region), upstream calls %v",
			requests, nodeMost, regionMost, s.UpstreamCalls[first:last+1])
	}
	// The upstream takes 200ms or so: in the samples just after the
	// burst, the nodes' flights still wait, with no request left to join
	// them (in some of these samples nothing at all happens).
	for i := last + 1; i <= last+8; i++ {
		if s.Requests[i] != 0 || s.PeakContenders[0][i] == 0 || s.PeakContenders[1][i] == 0 || s.Waiting[i] == 0 || s.UpstreamInFlight[i] == 0 {
			t.Errorf("sample %d, after the burst: %d requests, %d node and %d region contenders, %d waiting, %d upstream calls in flight; want 0 and the rest not 0",
				i, s.Requests[i], s.PeakContenders[0][i], s.PeakContenders[1][i], s.Waiting[i], s.UpstreamInFlight[i])
		}
	}
}

// A series that outgrows its cap coarsens: the run with a 1ms step and a
// cap of 16 samples ends with the samples of a run with the step it
// doubled to, counts and peaks exactly, percentiles as upper bounds.
func TestSeriesCoarsen(t *testing.T) {
	sc := fixedWorld(flashCrowd(2000))
	sc.Workload.Rate = 300
	sc.SeriesStep = dur(time.Millisecond)
	for _, name := range []string{"two-level", "global"} {
		topo := builtin(t, sc, name)
		fine, err := Run(context.Background(), resolve(t, sc), topo, Options{Series: true, seriesLimit: 16})
		if err != nil {
			t.Fatal(err)
		}
		checkSeries(t, fine)
		f := fine.Series
		// 3s and the drain in at most 16 samples: 256ms each.
		if f.Coarsened != 8 || f.StepMs != 256 || len(f.Requests) > 16 || cap(f.Requests) > 16 {
			t.Fatalf("%s: coarsened %d times to %vms, %d samples; want 8, 256ms, at most 16", name, f.Coarsened, f.StepMs, len(f.Requests))
		}
		direct := *sc
		direct.SeriesStep = dur(256 * time.Millisecond)
		coarse, err := Run(context.Background(), resolve(t, &direct), topo, Options{Series: true})
		if err != nil {
			t.Fatal(err)
		}
		c := coarse.Series
		exact := []struct {
			name      string
			got, want any
		}{
			{"requests", f.Requests, c.Requests}, {"upstream calls", f.UpstreamCalls, c.UpstreamCalls},
			{"in flight", f.UpstreamInFlight, c.UpstreamInFlight}, {"store ops", f.StoreOps, c.StoreOps},
			{"contenders", f.PeakContenders, c.PeakContenders}, {"waiting", f.Waiting, c.Waiting},
			{"served", f.Served, c.Served}, {"errors", f.Errors, c.Errors},
		}
		for i := range f.Stores {
			exact = append(exact, struct {
				name      string
				got, want any
			}{"ops " + f.Stores[i].Scope, f.Stores[i].Ops, c.Stores[i].Ops})
		}
		for _, e := range exact {
			if !equalJSON(e.got, e.want) {
				t.Errorf("%s: %s coarsened %v, directly %v", name, e.name, e.got, e.want)
			}
		}
		for i := range f.LatencyP99Ms {
			if f.LatencyP99Ms[i] < c.LatencyP99Ms[i]*0.99 || f.LatencyP50Ms[i] < c.LatencyP50Ms[i]*0.99 {
				t.Errorf("%s: sample %d: coarsened p50 %v p99 %v below the direct %v %v", name, i,
					f.LatencyP50Ms[i], f.LatencyP99Ms[i], c.LatencyP50Ms[i], c.LatencyP99Ms[i])
			}
		}
		// The global scope has one store, the busiest of it in every
		// sample: the mean of the halves is its utilisation.
		if name == "global" {
			for i, u := range f.Stores[0].Utilisation {
				if want := c.Stores[0].Utilisation[i]; math.Abs(u-want) > 0.005*want+1e-6 {
					t.Errorf("global: sample %d: utilisation coarsened %v, directly %v", i, u, want)
				}
			}
		}
	}
}

// A long run with the finest step keeps at most reports.MaxSeriesSamples
// samples, whatever its length: ten minutes of 1ms samples coarsen three
// times, to 8ms.
func TestSeriesLongRunStaysUnderCap(t *testing.T) {
	sc := flashCrowd(10)
	sc.Duration = dur(10 * time.Minute)
	sc.Workload.Rate = 2
	sc.Workload.Bursts[0].At = dur(5 * time.Minute)
	sc.SeriesStep = dur(time.Millisecond)
	r := runTopo(t, sc, builtin(t, sc, "two-level"))
	s := r.Series
	if s.Coarsened != 3 || s.StepMs != 8 || len(s.Requests) > reports.MaxSeriesSamples || cap(s.Requests) > reports.MaxSeriesSamples {
		t.Errorf("coarsened %d times to %vms, %d samples (room for %d); want 3, 8ms, at most %d",
			s.Coarsened, s.StepMs, len(s.Requests), cap(s.Requests), reports.MaxSeriesSamples)
	}
	checkSeries(t, r)
}

// Without Options.Series there are no series and no histogram, and the
// rest of the run is the same.
func TestSeriesOff(t *testing.T) {
	sc := flashCrowd(2000)
	topo := builtin(t, sc, "two-level")
	off, err := Run(context.Background(), resolve(t, sc), topo, Options{})
	if err != nil {
		t.Fatal(err)
	}
	on := runTopo(t, sc, topo)
	if off.Series != nil || off.LatencyHistogramMs != nil {
		t.Errorf("series %v, histogram %v without Options.Series", off.Series != nil, off.LatencyHistogramMs != nil)
	}
	on.Series, on.LatencyHistogramMs, on.WallSeconds, off.WallSeconds = nil, nil, 0, 0
	if !equalJSON(on, off) {
		t.Errorf("the series changed the run:\n on %+v\noff %+v", on, off)
	}
}
