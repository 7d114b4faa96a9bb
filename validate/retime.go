package validate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/world"
)

// How many times validate simulates each topology again at the real run's
// timing (see Retimed): enough runs to simulate retimedRequests requests in
// all, and from MinRetimedRuns to MaxRetimedRuns. A small run makes a small
// count, which a single coincidence of timing moves by a fifth (one more
// flight waiting for a zone's lock is four round trips of twenty), so it
// needs more draws to show the range of what the protocol does; it is also
// cheap to simulate.
const (
	MinRetimedRuns  = 5
	MaxRetimedRuns  = 20
	retimedRequests = 40_000
)

// retimedRuns is the number of retimed runs for a run of n requests.
func retimedRuns(n int) int {
	return min(MaxRetimedRuns, max(MinRetimedRuns, retimedRequests/max(n, 1)))
}

// Retimed is the simulator run again, retimedRuns times, with what the two
// sides cannot share made as it was on the real side: the requests arrive
// when they reached their drivers on the real side (not at their scheduled
// times; in all runs but the first, later still by waits like the ones
// measured there), and the store round trips take what the real drivers
// measured, node by node, at the same moment of the run (not draws from the
// calibration). What it counts is what the protocol does for those requests
// at that timing; validation judges the real counts against its range.
type Retimed struct {
	Runs int `json:"runs"`
	// StoreOps and UpstreamCalls are the ranges the runs counted.
	StoreOps      Range `json:"store_ops"`
	UpstreamCalls Range `json:"upstream_calls"`
	WritesRefused Range `json:"writes_refused"`
	// RoundTripMedianUs and RoundTripP99Us summarise the script round trips
	// the real drivers measured (from the machine asking for an operation
	// to the machine having its result), which the runs' store delays come
	// from; RoundTrips is how many there were (none for a topology without
	// shared levels: the runs keep the calibration's delays).
	RoundTripMedianUs float64 `json:"round_trip_median_us"`
	RoundTripP99Us    float64 `json:"round_trip_p99_us"`
	RoundTrips        int     `json:"round_trips"`
	// Stalls is how often the real replay found itself more than
	// stallSlack late, and BehindMs the furthest it ran behind the
	// schedule.
	Stalls   int     `json:"stalls"`
	BehindMs float64 `json:"behind_ms"`
	// Revalidating and Refreshes are the ranges of the replies served
	// past their soft TTL (stale-while-revalidate) and of the background
	// refreshes started (stale-while-revalidate, XFetch); see policies.go.
	Revalidating Range `json:"revalidating"`
	Refreshes    Range `json:"refreshes"`
}

// The windows within which a simulated message takes its delay from a real
// round trip. The real side's slow round trips are few and particular (a
// node's first operations at the start of a burst, when every driver wakes
// at once; those caught in a stall of the machine), and where a count is
// small they decide it: whether a zone's other nodes arrive while its first
// holder's three round trips are on their way made holder-pause's
// fanout-tree count 17 or 27. So a message takes the round trip of its own
// node that started nearest to it, within nodeWindow (or within that round
// trip's own length, when it is longer); a node the real side did not have
// at the store then takes one of any node's within localWindow, and failing
// that the nearest in time.
const (
	nodeWindow  = 2 * time.Millisecond
	localWindow = 5 * time.Millisecond
)

// Range is the smallest and the largest of a count.
type Range struct {
	Min uint64 `json:"min"`
	Max uint64 `json:"max"`
}

func (r *Range) add(first bool, n uint64) {
	if first {
		r.Min, r.Max = n, n
		return
	}
	r.Min, r.Max = min(r.Min, n), max(r.Max, n)
}

// distance is how far n is from the range, as relDiff to its nearest end;
// 0 inside it.
func (r Range) distance(n uint64) float64 {
	switch {
	case n < r.Min:
		return relDiff(float64(n), float64(r.Min))
	case n > r.Max:
		return relDiff(float64(n), float64(r.Max))
	}
	return 0
}

func (r Range) String() string {
	if r.Min == r.Max {
		return fmt.Sprint(r.Min)
	}
	return fmt.Sprintf("%d-%d", r.Min, r.Max)
}

// retime simulates topo again on rs retimedRuns times (rs's faults where
// they happened on the real side), with the requests at
// the times in sent (delayed by jitter from lags and hits but in the first
// run) and the store delays of timed, each node's script round trips on the
// real side. service is what the simulator charges per operation, taken out
// of the round trips.
func retime(ctx context.Context, rs *scenarios.Resolved, topo locks.Topology, latency func(lock, key, n int) time.Duration, errorDraw func(lock, key, n int) float64,
	sent []world.Arrival, lags, hits []time.Duration, timed [][]roundTrip, service time.Duration, pace *pacer) (Retimed, error) {
	rt := Retimed{Runs: retimedRuns(len(sent)), Stalls: pace.Stalls, BehindMs: float64(pace.Behind) / 1e6}
	var all []roundTrip
	for i := range timed {
		slices.SortFunc(timed[i], byStart)
		all = append(all, timed[i]...)
	}
	slices.SortFunc(all, byStart)
	var delay func(time.Duration, int, *rand.Rand) time.Duration
	if n := len(all); n > 0 {
		d := make([]time.Duration, n)
		for i, r := range all {
			d[i] = r.took
		}
		slices.Sort(d)
		rt.RoundTrips = n
		rt.RoundTripMedianUs, rt.RoundTripP99Us = float64(d[n/2])/1e3, float64(d[min(n-1, int(0.99*float64(n)))])/1e3
		delay = realDelays(timed, all, service)
	}
	var edges []time.Duration // when the faults start and end, in order
	for _, f := range rs.Faults {
		edges = append(edges, f.From, f.To)
	}
	slices.Sort(edges)
	for i := range rt.Runs {
		arrivals := sent
		if i > 0 && len(lags) > 0 {
			arrivals = jitter(sent, lags, hits, edges, rand.New(rand.NewPCG(uint64(i), 0x5eed)))
		}
		r, err := world.Run(ctx, rs, topo, world.Options{Arrivals: arrivals, NetworkSeed: uint64(i + 1), NetworkDelay: delay, UpstreamLatency: latency, UpstreamErrorDraw: errorDraw,
			XFetchDraw: xfetchDraw(rs.Scenario)})
		if err != nil {
			return rt, fmt.Errorf("simulating %s again at the real run's timing: %w", topo.Name, err)
		}
		rt.addPolicies(i == 0, r)
		rt.StoreOps.add(i == 0, r.StoreOps)
		rt.UpstreamCalls.add(i == 0, r.UpstreamCalls)
		rt.WritesRefused.add(i == 0, r.WritesRefused)
	}
	return rt, nil
}

func byStart(a, b roundTrip) int { return cmp.Compare(a.start, b.start) }

// jitter returns arrivals with each one later by a draw from lags and one
// from hits (when there are any), in time order again. The real side's
// requests wait for the CPU at steps no one times (the driver's mutex, the
// machine) before they count as arrived; the first retimed run leaves that
// out, the others put in waits like the ones that were timed: a request's
// goroutine starting, a cache hit's way through the driver. A wait never
// moves a request past the next of edges (sorted), the starts and ends of
// the faults: the real side's requests met the faults in the order they
// did, and a draw from the lags of a loaded moment that moved holder-pause's
// first request, 10ms before its node pauses, into the pause left the pause
// no lock to hold, and the retimed run fenced no one.
func jitter(arrivals []world.Arrival, lags, hits, edges []time.Duration, r *rand.Rand) []world.Arrival {
	out := slices.Clone(arrivals)
	for i := range out {
		d := lags[r.IntN(len(lags))]
		if len(hits) > 0 {
			d += hits[r.IntN(len(hits))]
		}
		at := out[i].At + max(0, d)
		if j, _ := slices.BinarySearch(edges, out[i].At+1); j < len(edges) {
			at = min(at, max(out[i].At, edges[j]-1))
		}
		out[i].At = at
	}
	slices.SortStableFunc(out, func(a, b world.Arrival) int { return cmp.Compare(a.At, b.At) })
	return out
}

// realDelays returns the network delay of a message of a node at a time:
// half of a real round trip (less the store's service time), that of the
// node's own that started nearest to it within nodeWindow, or else one drawn
// from all the nodes' that started within localWindow of it, or else the
// nearest of all. byNode and all are sorted by start.
func realDelays(byNode [][]roundTrip, all []roundTrip, service time.Duration) func(time.Duration, int, *rand.Rand) time.Duration {
	half := func(x roundTrip) time.Duration { return max((x.took-service)/2, time.Microsecond) }
	return func(at time.Duration, node int, r *rand.Rand) time.Duration {
		if node >= 0 && node < len(byNode) {
			if x, ok := nearest(byNode[node], at); ok && absDur(x.start-at) <= max(nodeWindow, x.took) {
				return half(x)
			}
		}
		lo, _ := slices.BinarySearchFunc(all, at-localWindow, startAt)
		hi, _ := slices.BinarySearchFunc(all, at+localWindow, startAt)
		if hi > lo {
			return half(all[lo+r.IntN(hi-lo)])
		}
		x, _ := nearest(all, at)
		return half(x)
	}
}

// nearest returns the round trip of rts (sorted by start) that started
// nearest to at; false when there is none.
func nearest(rts []roundTrip, at time.Duration) (roundTrip, bool) {
	if len(rts) == 0 {
		return roundTrip{}, false
	}
	i, _ := slices.BinarySearchFunc(rts, at, startAt)
	switch {
	case i == len(rts):
		return rts[i-1], true
	case i == 0 || rts[i].start-at < at-rts[i-1].start:
		return rts[i], true
	}
	return rts[i-1], true
}

func startAt(x roundTrip, t time.Duration) int { return cmp.Compare(x.start, t) }

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// roundTrip is one script call of the real run: when it started, as an
// offset from the run's start, and how long it took.
type roundTrip struct{ start, took time.Duration }

// storeWatch is a go-redis hook that notes whether the store ever answered.
type storeWatch struct {
	// answered: some command reached the store and came back (with a
	// result or the store's own error). Until then nothing can be stored
	// there, so there is nothing to delete.
	answered atomic.Bool
}

func (*storeWatch) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *storeWatch) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		h.note(err)
		return err
	}
}

func (h *storeWatch) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.note(err)
		return err
	}
}

// note records that the store answered, unless err says it did not.
func (h *storeWatch) note(err error) {
	var rerr redis.Error
	if err == nil || err == redis.Nil || errors.As(err, &rerr) {
		h.answered.Store(true)
	}
}
