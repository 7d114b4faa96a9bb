package world

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/scenarios"
)

func dur(d time.Duration) scenarios.Duration { return scenarios.Duration(d) }

// resolve resolves sc for Run, failing the test if it does not resolve.
func resolve(tb testing.TB, sc *scenarios.Scenario) *scenarios.Resolved {
	tb.Helper()
	rs, err := sc.Resolved()
	if err != nil {
		tb.Fatal(err)
	}
	return rs
}

// flashCrowd is a single hot key expiring under a flash crowd, with no
// background traffic and no faults, on a small fleet.
func flashCrowd(requests int) *scenarios.Scenario {
	ln := func(med, p99 time.Duration) scenarios.Dist {
		return scenarios.Dist{Dist: "lognormal", Median: dur(med), P99: dur(p99)}
	}
	return &scenarios.Scenario{
		Name: "flash-crowd-test", Seed: 7, Duration: dur(3 * time.Second),
		Topology: scenarios.World{Regions: 3, ZonesPerRegion: 2, NodesPerZone: 5},
		Network: scenarios.Network{
			NodeToZoneStore: ln(300*time.Microsecond, 2*time.Millisecond), NodeToRegionStore: ln(500*time.Microsecond, 3*time.Millisecond),
			NodeToGlobalStore: ln(40*time.Millisecond, 120*time.Millisecond),
		},
		Store:    scenarios.Store{ServiceTime: dur(8 * time.Microsecond), OpOverhead: dur(20 * time.Microsecond), ConnectTimeout: dur(time.Second)},
		Upstream: scenarios.Upstream{Latency: ln(200*time.Millisecond, 900*time.Millisecond), Capacity: 64},
		Cache:    scenarios.Cache{NodeTTL: dur(10 * time.Second), SharedTTL: dur(10 * time.Second)},
		Workload: scenarios.Workload{Keys: 100, ZipfS: 1.1, Bursts: []scenarios.Burst{{At: dur(time.Second), Key: 0, Requests: requests, Over: dur(100 * time.Millisecond)}}},
		Locks:    scenarios.LockLevel{LeaseTTL: dur(5 * time.Second), WaitTimeout: dur(3 * time.Second), OnTimeout: "invoke", Wake: "notify", PollInterval: dur(20 * time.Millisecond)},
	}
}

func defaults(sc *scenarios.Scenario) locks.Level {
	return locks.Level{
		LeaseTTL: sc.Locks.LeaseTTL.D(), WaitTimeout: sc.Locks.WaitTimeout.D(),
		OnTimeout: locks.PolicyInvoke, Wake: locks.WakeNotify, PollInterval: sc.Locks.PollInterval.D(),
	}
}

func TestFlashCrowdTopologies(t *testing.T) {
	sc := flashCrowd(20000)
	regions, nodesPerRegion := 3, 10
	nodes := 30
	for _, tc := range []struct {
		topo      string
		wantCalls int // exactly
	}{
		{"two-level", regions},
		{"global", 1},
		{"fanout-tree", 1},
		{"node-only", nodes}, // 20,000 requests over 30 nodes: every node sees the key
		{"one-level", regions},
	} {
		t.Run(tc.topo, func(t *testing.T) {
			topo, _ := locks.Builtin(tc.topo, defaults(sc))
			out, err := Run(context.Background(), resolve(t, sc), topo, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if out.Requests != 20000 {
				t.Errorf("requests = %d, want 20000", out.Requests)
			}
			if int(out.UpstreamCalls) != tc.wantCalls {
				t.Errorf("upstream calls = %d (%v), want %d", out.UpstreamCalls, out.UpstreamCallsByCause, tc.wantCalls)
			}
			if out.Served.Error != 0 || out.Served.Hedged != 0 {
				t.Errorf("served = %+v, want no errors and no hedges", out.Served)
			}
			total := out.Served.Hit + out.Served.Collapsed + out.Served.Fetched
			if total != out.Requests {
				t.Errorf("replies = %d, requests = %d", total, out.Requests)
			}
			for _, l := range out.Levels {
				if l.Scope == "region" && tc.topo == "two-level" && l.PeakContenders > nodesPerRegion {
					t.Errorf("two-level region peak contenders = %d, more than the %d nodes in a region", l.PeakContenders, nodesPerRegion)
				}
				if l.Scope == "region" && tc.topo == "one-level" && l.PeakContenders < 1000 {
					t.Errorf("one-level region peak contenders = %d, want it to grow with the requests (>= 1000 of 20000)", l.PeakContenders)
				}
			}
			b, _ := json.Marshal(out)
			t.Logf("%s", b)
		})
	}
}

func TestNoneCallsOncePerRequestMiss(t *testing.T) {
	sc := flashCrowd(2000)
	topo, _ := locks.Builtin("none", defaults(sc))
	out, err := Run(context.Background(), resolve(t, sc), topo, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// With no lock every request that misses the node cache calls the
	// upstream; with a 200ms upstream and a 100ms burst nearly all miss.
	if out.UpstreamCalls < 1500 || out.DuplicateUpstreamCalls < out.UpstreamCalls-3 {
		t.Errorf("upstream calls = %d, duplicates = %d; want nearly every one of 2000 requests, all but one per region duplicates", out.UpstreamCalls, out.DuplicateUpstreamCalls)
	}
}

func TestDeterministic(t *testing.T) {
	sc := flashCrowd(5000)
	sc.Workload.Rate = 2000
	for _, name := range []string{"two-level", "one-level", "fanout-tree"} {
		topo, _ := locks.Builtin(name, defaults(sc))
		var outs [2][]byte
		for i := range outs {
			out, err := Run(context.Background(), resolve(t, sc), topo, Options{Series: true})
			if err != nil {
				t.Fatal(err)
			}
			out.WallSeconds = 0
			outs[i], _ = json.Marshal(out)
		}
		if string(outs[0]) != string(outs[1]) {
			t.Errorf("%s: two runs differ:\n%s\n%s", name, outs[0], outs[1])
		}
	}
}
