package world

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/scenarios"
)

func runTopo(t *testing.T, sc *scenarios.Scenario, topo locks.Topology) reports.Run {
	t.Helper()
	out, err := Run(context.Background(), resolve(t, sc), topo, Options{Series: true})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func builtin(t *testing.T, sc *scenarios.Scenario, name string) locks.Topology {
	t.Helper()
	topo, err := locks.Builtin(name, defaults(sc))
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

// fixedWorld makes every latency fixed, so that a test can say exactly when
// things happen: 1ms to any store, 500ms upstream.
func fixedWorld(sc *scenarios.Scenario) *scenarios.Scenario {
	fixed := func(d time.Duration) scenarios.Dist { return scenarios.Dist{Dist: "fixed", Value: dur(d)} }
	sc.Network = scenarios.Network{NodeToZoneStore: fixed(time.Millisecond), NodeToRegionStore: fixed(time.Millisecond), NodeToGlobalStore: fixed(time.Millisecond)}
	sc.Upstream = scenarios.Upstream{Latency: fixed(500 * time.Millisecond)}
	return sc
}

// A node that pauses while it holds the region lock, for longer than the
// lease, lets a second node in: two holders, a duplicate upstream call
// blamed on the expired lease, and the paused holder's late write refused by
// fencing because the second holder wrote first.
func TestPausedHolderIsFencedOut(t *testing.T) {
	sc := fixedWorld(flashCrowd(200))
	sc.Duration = dur(10 * time.Second)
	sc.Topology = scenarios.World{Regions: 1, ZonesPerRegion: 1, NodesPerZone: 2}
	sc.Locks.LeaseTTL = dur(time.Second)
	sc.Locks.WaitTimeout = dur(5 * time.Second)
	// The burst's first request lands at ~1s on one of the two nodes; pause
	// both in turn is not needed: pause the holder by pausing every node
	// that could be it, one at a time, is awkward, so send the first
	// request to n0 alone, then the crowd to n1.
	sc.Workload.Bursts = []scenarios.Burst{
		{At: dur(time.Second), Key: 0, Requests: 1, Over: dur(time.Millisecond), Nodes: []string{"r0/z0/n0"}},
		{At: dur(1100 * time.Millisecond), Key: 0, Requests: 100, Over: dur(100 * time.Millisecond), Nodes: []string{"r0/z0/n1"}},
	}
	// n0 acquires at ~1.002s and calls the upstream (500ms); it pauses at
	// 1.1s for 3s, longer than its 1s lease, so its renewals stop.
	sc.Faults = []scenarios.Fault{{Kind: "node-pause", Node: "r0/z0/n0", At: dur(1100 * time.Millisecond), For: dur(3 * time.Second)}}
	for _, tc := range []struct {
		name  string
		renew bool
	}{{"with renewal", true}, {"without renewal", false}} {
		t.Run(tc.name, func(t *testing.T) {
			topo := builtin(t, sc, "two-level")
			topo.Levels[1].NoRenew = !tc.renew
			out := runTopo(t, sc, topo)
			if out.UpstreamCalls != 2 {
				t.Fatalf("upstream calls = %d (%v), want 2: the paused holder's and the second holder's", out.UpstreamCalls, out.UpstreamCallsByCause)
			}
			if out.DuplicatesByCause["lease-expired"] != 1 {
				t.Errorf("duplicates = %v, want one lease-expired", out.DuplicatesByCause)
			}
			if out.WritesRefused != 1 {
				t.Errorf("writes refused = %d, want 1 (the paused holder's stale write)", out.WritesRefused)
			}
			if out.Served.Error != 0 || out.Requests != 101 {
				t.Errorf("served = %+v of %d requests, want no errors of 101", out.Served, out.Requests)
			}
		})
	}
}

// An upstream slower than the lease: with renewal the holder keeps its lock
// and nobody else calls; without it a second node gets in.
func TestRenewalCoversSlowUpstream(t *testing.T) {
	sc := fixedWorld(flashCrowd(1000))
	sc.Upstream.Latency = scenarios.Dist{Dist: "fixed", Value: dur(3 * time.Second)}
	sc.Locks.LeaseTTL = dur(time.Second)
	sc.Locks.WaitTimeout = dur(10 * time.Second)
	sc.Duration = dur(8 * time.Second)
	for _, tc := range []struct {
		renew bool
		calls uint64
	}{{true, 3}, {false, 9}} {
		topo := builtin(t, sc, "two-level")
		topo.Levels[1].NoRenew = !tc.renew
		out := runTopo(t, sc, topo)
		if tc.renew && out.UpstreamCalls != tc.calls {
			t.Errorf("renew: upstream calls = %d (%v), want one per region", out.UpstreamCalls, out.UpstreamCallsByCause)
		}
		if !tc.renew && (out.UpstreamCalls <= 3 || out.DuplicatesByCause["lease-expired"] == 0) {
			t.Errorf("no renew: upstream calls = %d, duplicates %v; want lease-expired duplicates", out.UpstreamCalls, out.DuplicatesByCause)
		}
	}
}

// A regional store outage during a stampede: the region's flights cannot
// take the lock, wait out their timeout, and hedge, blaming the store; the
// other regions are untouched.
func TestRegionStoreOutage(t *testing.T) {
	sc := flashCrowd(6000)
	sc.Locks.WaitTimeout = dur(500 * time.Millisecond)
	sc.Store.ConnectTimeout = dur(100 * time.Millisecond)
	sc.Faults = []scenarios.Fault{{Kind: "store-outage", Scope: "region", Region: 2, At: dur(900 * time.Millisecond), For: dur(2 * time.Second)}}
	out := runTopo(t, sc, builtin(t, sc, "two-level"))
	if got := out.UpstreamCallsByCause["store-error"]; got != 10 {
		t.Errorf("store-error calls = %d (%v), want 10: each node of region 2 hedges once", got, out.UpstreamCallsByCause)
	}
	if got := out.UpstreamCallsByCause["holder"]; got != 2 {
		t.Errorf("holder calls = %d, want 2 (the healthy regions)", got)
	}
	if out.StoreErrors == 0 || out.Served.Error != 0 {
		t.Errorf("store errors = %d, served = %+v; want store errors and no failed requests (policy invoke)", out.StoreErrors, out.Served)
	}
}

// A crashed node's waiting requests fail, requests sent to it while it is
// down fail at once, and it comes back with an empty cache.
func TestNodeCrash(t *testing.T) {
	sc := fixedWorld(flashCrowd(0))
	sc.Topology = scenarios.World{Regions: 1, ZonesPerRegion: 1, NodesPerZone: 1}
	sc.Workload.Bursts = []scenarios.Burst{
		{At: dur(time.Second), Key: 0, Requests: 10, Over: dur(10 * time.Millisecond)},
		{At: dur(1200 * time.Millisecond), Key: 0, Requests: 5, Over: dur(10 * time.Millisecond)},
		{At: dur(2 * time.Second), Key: 0, Requests: 1, Over: dur(time.Millisecond)},
	}
	sc.Locks.LeaseTTL = dur(500 * time.Millisecond)
	sc.Faults = []scenarios.Fault{{Kind: "node-crash", Node: "r0/z0/n0", At: dur(1100 * time.Millisecond), For: dur(500 * time.Millisecond)}}
	out := runTopo(t, sc, builtin(t, sc, "two-level"))
	// 10 waiting at the crash + 5 arriving while down fail; the last
	// request, after the restart, finds the lease expired (the crashed
	// holder never released it) and fetches.
	if out.Served.Error != 15 || out.Served.Fetched != 1 || out.Requests != 16 {
		t.Errorf("served = %+v of %d, want 15 errors and 1 fetched of 16", out.Served, out.Requests)
	}
}

// The store model is a single server with a FIFO queue: with Poisson
// arrivals and a fixed service time it must show the Pollaczek-Khinchine
// mean wait of an M/D/1 queue, W = rho*S / (2*(1-rho)).
func TestStoreQueueIsMD1(t *testing.T) {
	for _, rho := range []float64{0.5, 0.8} {
		sc := flashCrowd(0)
		sc.Topology = scenarios.World{Regions: 1, ZonesPerRegion: 1, NodesPerZone: 10}
		sc.Cache.NodeTTL = 0                                // every request reads the region store,
		sc.Cache.SharedTTL = dur(time.Hour)                 // which always hits after the first miss,
		sc.Upstream.Latency = scenarios.Dist{Dist: "fixed"} // which is over at once
		sc.Store = scenarios.Store{ServiceTime: dur(5 * time.Microsecond), OpOverhead: dur(10 * time.Microsecond), ConnectTimeout: dur(time.Second)}
		service := 20 * time.Microsecond // a hit runs the script and one GET: 10us + 2*5us
		sc.Workload = scenarios.Workload{Keys: 1, Rate: rho / service.Seconds()}
		sc.Duration = dur(20 * time.Second)
		out := runTopo(t, sc, builtin(t, sc, "one-level"))
		s := out.Stores[0]
		want := rho * float64(service) / (2 * (1 - rho)) / 1e6 // ms
		if math.Abs(s.QueueWaitMs.Mean-want)/want > 0.1 {
			t.Errorf("rho %.1f: mean queue wait %.4fms, want %.4fms (M/D/1) within 10%%", rho, s.QueueWaitMs.Mean, want)
		}
		if math.Abs(s.Utilisation-rho) > 0.02 {
			t.Errorf("rho %.1f: utilisation %.3f", rho, s.Utilisation)
		}
	}
}

// Options.UpstreamErrorDraw decides which calls an upstream-errors fault
// fails, by their identity: a draw below the rate fails the call, one above
// lets it through, whatever the upstream stream would have drawn.
func TestUpstreamErrorDrawDecidesFailures(t *testing.T) {
	for _, tc := range []struct {
		name string
		draw func(lock, key, n int) float64
		want func(calls uint64) uint64 // served errors for so many calls
	}{
		{"every draw below the rate", func(int, int, int) float64 { return 0 }, func(c uint64) uint64 { return c }},
		{"every draw above it", func(int, int, int) float64 { return 0.99 }, func(uint64) uint64 { return 0 }},
		{"the odd calls of each node", func(_, _, n int) float64 { return float64(n%2) * 0.9 }, func(c uint64) uint64 { return c / 2 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := fixedWorld(flashCrowd(40))
			sc.Topology = scenarios.World{Regions: 1, ZonesPerRegion: 1, NodesPerZone: 2}
			sc.Cache.NodeTTL = 0
			sc.Workload.Bursts = []scenarios.Burst{
				{At: dur(time.Second), Key: 0, Requests: 20, Over: dur(0), Nodes: []string{"r0/z0/n0"}},
				{At: dur(time.Second), Key: 0, Requests: 20, Over: dur(0), Nodes: []string{"r0/z0/n1"}},
			}
			sc.Faults = []scenarios.Fault{{Kind: scenarios.FaultUpstreamErrors.String(), Rate: 0.5, At: dur(500 * time.Millisecond), For: dur(2 * time.Second)}}
			r, err := Run(context.Background(), resolve(t, sc), builtin(t, sc, "none"), Options{UpstreamErrorDraw: tc.draw})
			if err != nil {
				t.Fatal(err)
			}
			if r.UpstreamCalls != 40 || r.Served.Error != tc.want(40) {
				t.Errorf("%d upstream calls and %d errors, want 40 calls and %d errors", r.UpstreamCalls, r.Served.Error, tc.want(40))
			}
		})
	}
}
