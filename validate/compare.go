package validate

import (
	"fmt"
	"math"
	"time"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/workloads"
)

// RoundTripTolerance is how far apart (as a fraction of the larger) the two
// sides' store round trips may be before validation fails.
const RoundTripTolerance = 0.10

// compare lists where the two runs of one topology differ by more than the
// protocol allows: the real counts are judged against the retimed
// simulation rt, which ran the same requests at the real run's timing.
// expiries says that a value expires while its key is still asked for.
func compare(rs *scenarios.Resolved, topo locks.Topology, s, r reports.Run, rt Retimed, expiries bool) Pair {
	p := Pair{Topology: topo.Name, Sim: s, Real: r, Retimed: rt}
	p.UpstreamCompared = upstreamIsDeterministic(rs, topo) && !expiries
	if p.UpstreamCompared && rt.UpstreamCalls.distance(r.UpstreamCalls) > 0 {
		p.Differences = append(p.Differences, fmt.Sprintf("upstream_calls: sim %d, real %d; retimed sim %s",
			s.UpstreamCalls, r.UpstreamCalls, rt.UpstreamCalls))
	}
	p.Differences = append(p.Differences, policyDifferences(s, r, rt)...)
	if d := rt.StoreOps.distance(r.StoreOps); d > RoundTripTolerance {
		p.Differences = append(p.Differences, fmt.Sprintf("store_ops (round trips): sim %d, real %d, %.0f%% apart; retimed sim %s, %.0f%% from real (tolerance %.0f%%)",
			s.StoreOps, r.StoreOps, 100*relDiff(float64(s.StoreOps), float64(r.StoreOps)), rt.StoreOps, 100*d, 100*RoundTripTolerance))
	}
	if s.Requests != r.Requests {
		p.Differences = append(p.Differences, fmt.Sprintf("requests: sim %d, real %d", s.Requests, r.Requests))
	}
	if retimedFaultCounts(rs.Faults) && rt.WritesRefused.distance(r.WritesRefused) > 0 {
		p.Differences = append(p.Differences, fmt.Sprintf("writes_refused: sim %d, real %d; retimed sim %s",
			s.WritesRefused, r.WritesRefused, rt.WritesRefused))
	}
	return p
}

// expiresWhileAsked says whether a cached value can expire while requests
// for its key still come: when the requests span more than a cache's TTL
// (the node cache's, when it is on, or the shared caches'). Whether a
// request near an expiry comes before or after it on the real side is then a
// matter of milliseconds, and so is whether it makes an upstream call.
func expiresWhileAsked(sc *scenarios.Scenario, arrivals []arrival) bool {
	if len(arrivals) < 2 {
		return false
	}
	ttl := sc.Cache.SharedTTL.D()
	if n := sc.Cache.NodeTTL.D(); n > 0 {
		ttl = min(ttl, n)
	}
	return arrivals[len(arrivals)-1].at-arrivals[0].at >= ttl
}

// upstreamIsDeterministic says whether the protocol fixes the number of
// upstream calls, timing aside: a topology with locks, and every wait
// timeout longer than the upstream's 99.9th percentile (times the largest
// upstream-slowdown), so that nobody hedges for a slow upstream. Faults do
// not unfix it: the hedges a store outage or a partition forces, the second
// holder a pause lets in, the calls a crash abandons are the protocol's,
// made the same on both sides, whose faults happen at the same moments of
// the traffic (see docs/VALIDATION.md). A shared level that does not renew
// a lease shorter than the upstream does unfix it: whether a waiter takes
// the lock after the lease ends and before the holder's value comes is a
// race of milliseconds (holder-pause's short-lease-no-renew made 4 calls on
// redis-server where the simulator made 5).
func upstreamIsDeterministic(rs *scenarios.Resolved, topo locks.Topology) bool {
	if len(topo.Levels) == 0 {
		return false
	}
	up, err := workloads.FromSpec(rs.Scenario.Upstream.Latency)
	if err != nil {
		return false
	}
	slowest := slowestUpstream(rs.Faults, up.Quantile(0.999))
	for _, l := range topo.Levels {
		if l.WaitTimeout <= slowest || (l.Scope.Shared() && l.NoRenew && l.LeaseTTL <= slowest) {
			return false
		}
	}
	return true
}

// relDiff is how far apart a and b are, as a fraction of the larger: the
// one measure that both the table's DIFF column and the differences that
// fail a validation give, so that a gap reads the same in both.
func relDiff(a, b float64) float64 {
	if a == b {
		return 0
	}
	return math.Abs(a-b) / math.Max(math.Abs(a), math.Abs(b))
}

// retimedFaultCounts says whether the scenario's faults make writes_refused
// a count the protocol fixes, to be judged against the retimed runs: a pause
// or a partition that outlasts a holder's lease makes exactly as many stale
// writes as holders it stopped, and fencing refuses each.
func retimedFaultCounts(faults []scenarios.ResolvedFault) bool {
	for _, f := range faults {
		if f.Kind == scenarios.FaultNodePause || f.Kind == scenarios.FaultPartition {
			return true
		}
	}
	return false
}

// slowestUpstream is the upstream latency that bounds whether anyone
// hedges: its 99.9th percentile, times the largest upstream-slowdown.
func slowestUpstream(faults []scenarios.ResolvedFault, p999 time.Duration) time.Duration {
	factor := 1.0
	for _, f := range faults {
		if f.Kind == scenarios.FaultUpstreamSlowdown {
			factor = math.Max(factor, f.Factor)
		}
	}
	return time.Duration(float64(p999) * factor)
}
