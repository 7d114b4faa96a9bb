package validate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/world"
)

// RetimedRuns is how many times validate simulates each topology again with
// the real run's timing (see Retimed), each with other network draws.
const RetimedRuns = 5

// Retimed is the simulator run again, RetimedRuns times, with what the two
// sides cannot share made as it was on the real side: the requests arrive
// at the times the real replay sent them (not at their scheduled times), and
// store round trips follow the ones the real drivers measured (not the
// calibration's), each run with other network draws. What it counts is what
// the protocol does for those requests at that timing; validation judges the
// real counts against its range.
type Retimed struct {
	Runs int `json:"runs"`
	// StoreOps and UpstreamCalls are the ranges the runs counted.
	StoreOps      Range `json:"store_ops"`
	UpstreamCalls Range `json:"upstream_calls"`
	// RoundTripMedianUs and RoundTripP99Us are the script round trips the
	// real drivers measured (client side, send to reply), which the runs'
	// store delays follow; RoundTrips is how many there were (none for a
	// topology without shared levels: the runs keep the calibration's).
	RoundTripMedianUs float64 `json:"round_trip_median_us"`
	RoundTripP99Us    float64 `json:"round_trip_p99_us"`
	RoundTrips        int     `json:"round_trips"`
	// Stalls is how often the real replay found itself more than
	// stallSlack late, and BehindMs the furthest it ran behind the
	// schedule.
	Stalls   int     `json:"stalls"`
	BehindMs float64 `json:"behind_ms"`
}

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

// retime simulates topo again on sc RetimedRuns times, with the requests at
// the times in sent and store delays following rtt, the real side's sorted
// script round trips (the calibrated ones when there are none). service is
// what the simulator charges per operation, taken out of the round trips.
func retime(ctx context.Context, sc *scenarios.Scenario, topo locks.Topology, latency func(lock, key, n int) time.Duration,
	sent []world.Arrival, rtt []time.Duration, service time.Duration, pace *pacer) (Retimed, error) {
	rt := Retimed{Runs: RetimedRuns, RoundTrips: len(rtt), Stalls: pace.Stalls, BehindMs: float64(pace.Behind) / 1e6}
	alt := *sc
	if n := len(rtt); n > 0 {
		med, p99 := rtt[n/2], rtt[min(n-1, int(0.99*float64(n)))]
		rt.RoundTripMedianUs, rt.RoundTripP99Us = float64(med)/1e3, float64(p99)/1e3
		// One way is half of what the store's service leaves.
		oneWay := func(d time.Duration) time.Duration { return max((d-service)/2, time.Microsecond) }
		d := scenarios.Dist{Dist: "lognormal", Median: scenarios.Duration(oneWay(med)), P99: scenarios.Duration(oneWay(p99))}
		if d.P99 <= d.Median {
			d = scenarios.Dist{Dist: "fixed", Value: d.Median}
		}
		alt.Network = scenarios.Network{NodeToZoneStore: d, NodeToRegionStore: d, NodeToGlobalStore: d}
	}
	for i := range RetimedRuns {
		r, err := world.Run(ctx, &alt, topo, world.Options{Arrivals: sent, NetworkSeed: uint64(i + 1), UpstreamLatency: latency})
		if err != nil {
			return rt, fmt.Errorf("simulating %s again at the real run's timing: %w", topo.Name, err)
		}
		rt.StoreOps.add(i == 0, r.StoreOps)
		rt.UpstreamCalls.add(i == 0, r.UpstreamCalls)
	}
	return rt, nil
}

// scriptTimer is a go-redis hook that times every script call while a
// recorder is set: the real side's store round trips, for retime. It also
// notes whether the store ever answered.
type scriptTimer struct {
	rec atomic.Pointer[timings]
	// answered: some command reached the store and came back (with a
	// result or the store's own error). Until then nothing can be stored
	// there, so there is nothing to delete.
	answered atomic.Bool
}

type timings struct {
	mu sync.Mutex
	d  []time.Duration
}

func (t *timings) sorted() []time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	d := slices.Clone(t.d)
	slices.Sort(d)
	return d
}

// note records that the store answered, unless err says it did not.
func (h *scriptTimer) note(err error) {
	var rerr redis.Error
	if err == nil || err == redis.Nil || errors.As(err, &rerr) {
		h.answered.Store(true)
	}
}

func (*scriptTimer) DialHook(next redis.DialHook) redis.DialHook { return next }

func (*scriptTimer) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (h *scriptTimer) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		rec := h.rec.Load()
		if rec == nil {
			err := next(ctx, cmd)
			h.note(err)
			return err
		}
		start := time.Now()
		err := next(ctx, cmd)
		h.note(err)
		if name := cmd.Name(); name == "evalsha" || name == "eval" {
			d := time.Since(start)
			rec.mu.Lock()
			rec.d = append(rec.d, d)
			rec.mu.Unlock()
		}
		return err
	}
}
