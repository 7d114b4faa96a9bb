package validate

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/stampsim/stampsim/real/redistest"
	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/world"
)

func builtin(t *testing.T, name string) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// The real side replays exactly the draws the simulator gave: arrivalDraws
// numbers the arrivals as the world numbers the requests it asks
// XFetchDraw for, so the i-th arrival gets the i-th draw.
func TestArrivalDrawsAreTheSimulatorsDraws(t *testing.T) {
	sc := builtin(t, "xfetch-zipf")
	sc.Duration = scenarios.Duration(3 * time.Second)
	rs, err := sc.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	topo, err := sc.Resolve("two-level")
	if err != nil {
		t.Fatal(err)
	}
	var arrivals []arrival
	var asked []float64
	draw := xfetchDraw(sc)
	_, err = world.Run(context.Background(), rs, topo, world.Options{
		OnRequest: func(at time.Duration, node, key int) { arrivals = append(arrivals, arrival{at, node, key}) },
		XFetchDraw: func(node, key, n int) float64 {
			u := draw(node, key, n)
			asked = append(asked, u)
			return u
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := arrivalDraws(arrivals, draw)
	if len(got) != len(asked) || len(got) == 0 {
		t.Fatalf("%d draws for %d arrivals, the simulator drew %d", len(got), len(arrivals), len(asked))
	}
	for i := range got {
		if got[i] != asked[i] || !(got[i] > 0 && got[i] <= 1) {
			t.Fatalf("arrival %d: draw %v, the simulator gave it %v (want both the same, in (0, 1])", i, got[i], asked[i])
		}
	}
}

// policyDifferences names a real side that served stale or refreshed far
// from what the retimed runs did, and lets small counts differ by two.
func TestPolicyDifferences(t *testing.T) {
	run := func(revalidating, refreshes uint64) reports.Run {
		r := reports.Run{}
		r.Served.Revalidating = revalidating
		if refreshes > 0 {
			r.Refreshes = &reports.Refreshes{Started: refreshes}
		}
		return r
	}
	rt := func(rev, ref Range) Retimed { return Retimed{Revalidating: rev, Refreshes: ref} }
	for _, tc := range []struct {
		name string
		real reports.Run
		rt   Retimed
		want []string // prefixes of the differences
	}{
		{"inside", run(395, 392), rt(Range{394, 396}, Range{392, 392}), nil},
		{"within 10%", run(420, 380), rt(Range{394, 396}, Range{392, 392}), nil},
		{"small counts within two", run(0, 3), rt(Range{0, 0}, Range{1, 1}), nil},
		{"no refresh on the real side", run(0, 0), rt(Range{0, 0}, Range{44, 44}), []string{"refreshes: sim 44, real 0"}},
		{"no stale served", run(0, 392), rt(Range{394, 395}, Range{392, 392}), []string{"served revalidating: sim 394, real 0"}},
		{"both", run(600, 100), rt(Range{394, 395}, Range{392, 392}), []string{"served revalidating", "refreshes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim := run(tc.rt.Revalidating.Min, tc.rt.Refreshes.Min)
			got := policyDifferences(sim, tc.real, tc.rt)
			if len(got) != len(tc.want) {
				t.Fatalf("differences %q, want %d starting %q", got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("difference %q, want it to start %q", got[i], w)
				}
			}
		})
	}
}

// checkPolicies asserts that every run agrees and that the policy showed
// on both sides: refreshes started, and, with stale-while-revalidate,
// replies served revalidating.
func checkPolicies(t *testing.T, rep *Report, revalidating bool) {
	t.Helper()
	if !rep.Agree {
		t.Errorf("report disagrees: %+v", rep.Runs)
	}
	for _, p := range rep.Runs {
		if refreshes(p.Sim) == 0 || refreshes(p.Real) == 0 || revalidating && (p.Sim.Served.Revalidating == 0 || p.Real.Served.Revalidating == 0) {
			t.Errorf("%s: refreshes sim %d, real %d; revalidating sim %d, real %d: the policy did not show", p.Topology,
				refreshes(p.Sim), refreshes(p.Real), p.Sim.Served.Revalidating, p.Real.Served.Revalidating)
		}
		t.Logf("%s: refreshes %d/%d (retimed %s), revalidating %d/%d (retimed %s), upstream %d/%d", p.Topology,
			refreshes(p.Sim), refreshes(p.Real), p.Retimed.Refreshes, p.Sim.Served.Revalidating, p.Real.Served.Revalidating, p.Retimed.Revalidating,
			p.Sim.UpstreamCalls, p.Real.UpstreamCalls)
	}
}

// xfetch-zipf agrees, its XFetch draws replayed on the real side.
func TestXFetchZipfAgreesOnMiniredis(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	rep, err := Run(context.Background(), builtin(t, "xfetch-zipf"), Options{Topologies: []string{"none", "two-level"}, MaxNodes: 6, MaxRequests: 1500, StoreLoad: testLoad})
	if err != nil {
		t.Fatal(err)
	}
	checkPolicies(t, rep, false)
}

// swr-steady-day's stale-while-revalidate topology agrees on redis-server.
func TestSWRSteadyDayAgreesOnRedisServer(t *testing.T) {
	srv := redistest.StartT(t)
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	rep, err := Run(context.Background(), builtin(t, "swr-steady-day"), Options{Topologies: []string{"two-level-swr"}, MaxNodes: 6, MaxRequests: 1500,
		Redis: "redis://" + srv.Addr + "/0", StoreLoad: testLoad})
	if err != nil {
		t.Fatal(err)
	}
	checkPolicies(t, rep, true)
}
