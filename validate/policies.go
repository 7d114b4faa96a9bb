package validate

import (
	"fmt"

	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/scenarios"
)

// The cache policies beyond locking (stale-while-revalidate, XFetch, TTL
// jitter, adaptive wait timeouts) run in the protocol, so both sides run
// them alike; what validation adds for them is here: XFetch's draws, the
// real drivers' refresh bound, and the counts it judges them by.
//
// XFetch's draws on both sides. A request's early refresh depends on its
// uniform draw, so the simulator (world.Options.XFetchDraw) and the real
// drivers (real.Driver.DoDrawn) take it from the same function of the
// request's identity, the n-th request at a node for a key, as the
// upstream's latencies are a function of the call's (callLatency): both
// sides then refresh early for the same requests, in whatever order the
// requests of different keys and nodes reach the drivers.

// xfetchDraw returns the draw of the n-th request (from 0) at node for
// key: a point in (0, 1] from the scenario's seed and the request's
// identity alone. The drivers and the simulator ignore it without XFetch.
func xfetchDraw(sc *scenarios.Scenario) func(node, key, n int) float64 {
	seed := mix(sc.Seed ^ 0x78666574636864) // "xfetchd": apart from callLatency's points
	return func(node, key, n int) float64 {
		h := mix(seed ^ mix(uint64(int64(node))<<40^uint64(int64(key))<<16^uint64(int64(n))))
		return (float64(h>>11) + 1) / (1 << 53) // in (0, 1]
	}
}

// arrivalDraws returns the draw of each arrival, numbering the requests of
// each node and key in the order the simulator took them (the arrivals'
// order), as world.Options.XFetchDraw numbers them.
func arrivalDraws(arrivals []arrival, draw func(node, key, n int) float64) []float64 {
	out := make([]float64, len(arrivals))
	seen := make(map[[2]int]int)
	for i, a := range arrivals {
		k := [2]int{a.node, a.key}
		out[i] = draw(a.node, a.key, seen[k])
		seen[k]++
	}
	return out
}

// maxRefreshes bounds each real driver's background refreshes
// (real.Options.MaxRefreshes) beyond any a validation starts: the
// simulator starts every refresh at once.
const maxRefreshes = 4096

// refreshes returns the background refreshes r started, 0 without any.
func refreshes(r reports.Run) uint64 {
	if r.Refreshes == nil {
		return 0
	}
	return r.Refreshes.Started
}

// addPolicies adds a retimed run's counts of the policies to rt's ranges.
func (rt *Retimed) addPolicies(first bool, r reports.Run) {
	rt.Revalidating.add(first, r.Served.Revalidating)
	rt.Refreshes.add(first, refreshes(r))
}

// policySlack is how far (relative to the nearer end of the retimed range,
// as relDiff) the real side's counts of revalidating replies and background
// refreshes may be from it, beside policyAbsSlack of them: whether a
// request near a soft TTL or an XFetch threshold comes before or after it
// is a matter of the real side's milliseconds, as for store round trips.
const (
	policySlack    = RoundTripTolerance
	policyAbsSlack = 2
)

// policyDifferences lists the counts of the policies on which the real run
// r is too far from the retimed runs rt: a real side that did not serve
// stale while revalidating, or did not refresh early, where the simulator
// did, shows here even where upstream calls are not compared.
func policyDifferences(s, r reports.Run, rt Retimed) []string {
	var out []string
	check := func(name string, sim, real uint64, rg Range) {
		if (real+policyAbsSlack < rg.Min || real > rg.Max+policyAbsSlack) && rg.distance(real) > policySlack {
			out = append(out, fmt.Sprintf("%s: sim %d, real %d; retimed sim %s, %.0f%% from real (tolerance %.0f%% or %d)",
				name, sim, real, rg, 100*rg.distance(real), 100*policySlack, policyAbsSlack))
		}
	}
	check("served revalidating", s.Served.Revalidating, r.Served.Revalidating, rt.Revalidating)
	check("refreshes", refreshes(s), refreshes(r), rt.Refreshes)
	return out
}
