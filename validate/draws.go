package validate

import (
	"fmt"
	"time"

	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/workloads"
)

// callLatency returns the upstream latency of the n-th call for key under
// lock instance lock (see world.LockInstance): a quantile of the scenario's distribution at a point drawn from
// the seed and the call's identity alone, so that both sides give the same
// call the same latency, in whatever order the calls come.
func callLatency(sc *scenarios.Scenario) (func(lock, key, n int) time.Duration, error) {
	d, err := workloads.FromSpec(sc.Upstream.Latency)
	if err != nil {
		return nil, fmt.Errorf("upstream.latency: %w", err)
	}
	seed := sc.Seed
	return func(lock, key, n int) time.Duration {
		h := mix(seed ^ mix(uint64(int64(lock))<<40^uint64(key)<<16^uint64(n)))
		u := (float64(h>>11) + 0.5) / (1 << 53) // in (0, 1)
		return d.Quantile(u)
	}, nil
}

// mix is splitmix64's finaliser.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// callErrorDraw returns the draw, in [0, 1), that decides whether the n-th
// call for key under lock fails during an upstream-errors fault: from the
// seed and the call's identity alone (as callLatency, with another mix), so
// that both sides fail the same calls.
func callErrorDraw(sc *scenarios.Scenario) func(lock, key, n int) float64 {
	seed := mix(sc.Seed ^ 0xe44042)
	return func(lock, key, n int) float64 {
		h := mix(seed ^ mix(uint64(int64(lock))<<40^uint64(key)<<16^uint64(n)))
		return float64(h>>11) / (1 << 53)
	}
}
