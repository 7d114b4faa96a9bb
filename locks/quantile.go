package locks

import (
	"math/bits"
	"time"
)

// Adaptive wait timeouts (Level.AdaptiveQuantile): a level's wait timeout
// follows a quantile of the upstream's call durations as this machine has
// seen them, between a floor and a ceiling, so that a slower upstream is
// waited for instead of hedged against and a faster one is not waited for
// needlessly. Each machine keeps one estimator, fed with the duration of
// every upstream call it made, successful or not: the duration the driver
// measured (FetchedIn), or else from EffectFetch to Fetched on the driver's
// clock.

// durationEstimator is a small streaming quantile estimator: a histogram of
// durations in logarithmic buckets, eight to each power of two of
// microseconds (exact below 16us), whose counts are halved every
// estimatorWindow observations so that it follows the recent calls.
//
// Its error: the quantile it reports is the upper bound of the bucket that
// holds the q-quantile of the weighted observations, so it is at most 1/8
// (12.5%) above that quantile, never below it (and at most 1us above, below
// 16us). The weights are those of the halving: the observations since the
// last halving count 1, those of the window before 1/2, and so on, so a
// change in the upstream's speed shows within about one window of calls.
// Integer counts and a fixed order of operations make it deterministic.
type durationEstimator struct {
	counts [estimatorBuckets]uint32
	total  uint32
	since  uint32 // observations since the last halving
}

const (
	estimatorBuckets = 8 * 40 // up to 2^40us, about 12 days
	estimatorWindow  = 256
)

// bucketOf returns the bucket of a duration of us microseconds.
func bucketOf(us uint64) int {
	if us < 16 {
		return int(us)
	}
	e := bits.Len64(us) - 1 // 2^e <= us < 2^(e+1), e >= 4
	b := (e-2)*8 + int(us>>(e-3)) - 8
	return min(b, estimatorBuckets-1)
}

// bucketTop returns the least duration above every duration of bucket b.
func bucketTop(b int) time.Duration {
	if b < 16 {
		return time.Duration(b+1) * time.Microsecond
	}
	e := b/8 + 2
	m := uint64(b%8 + 8)
	return time.Duration((m+1)<<(e-3)) * time.Microsecond
}

// add records one call's duration.
func (d *durationEstimator) add(x time.Duration) {
	d.counts[bucketOf(uint64(max(x, 0)/time.Microsecond))]++
	d.total++
	d.since++
	if d.since == estimatorWindow {
		d.since, d.total = 0, 0
		for i, c := range d.counts {
			d.counts[i] = c / 2
			d.total += c / 2
		}
	}
}

// quantile returns the estimate of the q-quantile, and false before any
// observation.
func (d *durationEstimator) quantile(q float64) (time.Duration, bool) {
	if d.total == 0 {
		return 0, false
	}
	rank := uint64(q*float64(d.total) + 0.5)
	rank = max(rank, 1)
	var seen uint64
	for b, c := range d.counts {
		seen += uint64(c)
		if seen >= rank {
			return bucketTop(b), true
		}
	}
	return bucketTop(estimatorBuckets - 1), true
}

// observeFetch feeds the estimator with a finished call's duration and sets
// each adaptive level's wait timeout anew: the quantile, within the level's
// floor and ceiling. It runs in Fetched, and only when some level adapts.
func (m *Machine[V]) observeFetch(took time.Duration) {
	m.est.add(took)
	for i := range m.levels {
		l := &m.levels[i]
		if l.AdaptiveQuantile <= 0 {
			continue
		}
		if q, ok := m.est.quantile(l.AdaptiveQuantile); ok {
			m.wait[i] = min(max(q, l.AdaptiveFloor), l.AdaptiveCeiling)
		}
	}
}

// WaitTimeout returns the wait timeout level i has now: its WaitTimeout,
// or, for an adaptive level, the last estimate within its bounds (its
// WaitTimeout until the first call has finished).
func (m *Machine[V]) WaitTimeout(i int) time.Duration { return m.wait[i] }
