package workloads

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stampsim/stampsim/scenarios"
)

func rng() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

// A distribution's draws have the median, p99 and mean it was given.
func TestDistributions(t *testing.T) {
	dur := func(d time.Duration) scenarios.Duration { return scenarios.Duration(d) }
	for _, tc := range []struct {
		spec              scenarios.Dist
		median, p99, mean time.Duration
	}{
		{scenarios.Dist{Dist: "fixed", Value: dur(3 * time.Millisecond)}, 3 * time.Millisecond, 3 * time.Millisecond, 3 * time.Millisecond},
		{scenarios.Dist{Dist: "exponential", Mean: dur(10 * time.Millisecond)}, 6931472 * time.Nanosecond, 46051702 * time.Nanosecond, 10 * time.Millisecond},
		{scenarios.Dist{Dist: "lognormal", Median: dur(200 * time.Millisecond), P99: dur(900 * time.Millisecond)}, 200 * time.Millisecond, 900 * time.Millisecond, 0},
	} {
		t.Run(tc.spec.Dist, func(t *testing.T) {
			d, err := FromSpec(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			r := rng()
			draws := make([]time.Duration, 200_000)
			var sum float64
			for i := range draws {
				draws[i] = d.Sample(r)
				sum += float64(draws[i])
			}
			slices.Sort(draws)
			near := func(name string, got, want time.Duration) {
				if math.Abs(float64(got-want)) > 0.03*float64(want) {
					t.Errorf("%s = %v, want %v within 3%%", name, got, want)
				}
			}
			near("median", draws[len(draws)/2], tc.median)
			near("p99", draws[len(draws)*99/100], tc.p99)
			near("Quantile(0.5)", d.Quantile(0.5), tc.median)
			near("Quantile(0.99)", d.Quantile(0.99), tc.p99)
			if tc.mean > 0 {
				near("mean", time.Duration(sum/float64(len(draws))), tc.mean)
				near("Mean()", d.Mean(), tc.mean)
			}
		})
	}
}

func TestDistributionErrors(t *testing.T) {
	dur := func(d time.Duration) scenarios.Duration { return scenarios.Duration(d) }
	for _, tc := range []struct {
		spec scenarios.Dist
		want string
	}{
		{scenarios.Dist{Dist: "pareto"}, "unknown distribution"},
		{scenarios.Dist{Dist: "exponential"}, "mean must be positive"},
		{scenarios.Dist{Dist: "lognormal", Median: dur(time.Second), P99: dur(time.Millisecond)}, "median <= p99"},
		{scenarios.Dist{Dist: "fixed", Value: dur(-time.Second)}, "must not be negative"},
	} {
		if _, err := FromSpec(tc.spec); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("FromSpec(%+v) = %v, want an error containing %q", tc.spec, err, tc.want)
		}
	}
}

// A spread places exactly n points, in order, inside the window, evenly on
// the whole: each tenth of the window gets about a tenth of them.
func TestSpread(t *testing.T) {
	const n, window = 100_000, 100 * time.Millisecond
	s := NewSpread(n, window)
	r := rng()
	var deciles [10]int
	last := time.Duration(-1)
	count := 0
	for {
		at, ok := s.Next(r)
		if !ok {
			break
		}
		if at < last || at < 0 || at >= window {
			t.Fatalf("point %d at %v after %v (window %v)", count, at, last, window)
		}
		last = at
		deciles[int(at*10/window)]++
		count++
	}
	if count != n || s.Left() != 0 {
		t.Fatalf("%d points, %d left; want %d and 0", count, s.Left(), n)
	}
	for i, c := range deciles {
		if math.Abs(float64(c)-n/10) > 0.05*n/10 {
			t.Errorf("decile %d has %d points, want about %d", i, c, n/10)
		}
	}
}

// Poisson gaps average 1/rate.
func TestPoisson(t *testing.T) {
	p, err := NewPoisson(50_000)
	if err != nil {
		t.Fatal(err)
	}
	r := rng()
	var sum time.Duration
	const draws = 100_000
	for range draws {
		sum += p.Next(r)
	}
	if mean := sum / draws; math.Abs(float64(mean-20*time.Microsecond)) > 0.02*float64(20*time.Microsecond) {
		t.Errorf("mean gap %v, want 20us", mean)
	}
	for _, rate := range []float64{0, -1, math.Inf(1), math.NaN()} {
		if _, err := NewPoisson(rate); err == nil {
			t.Errorf("NewPoisson(%v) accepted", rate)
		}
	}
}

// Key 0 is the most popular, and popularity falls as 1/(k+1)^s.
func TestZipf(t *testing.T) {
	z, err := NewZipf(rng(), 1.1, 1000)
	if err != nil {
		t.Fatal(err)
	}
	counts := make([]int, 1000)
	for range 500_000 {
		k := z.Next()
		if k < 0 || k >= 1000 {
			t.Fatalf("key %d out of range", k)
		}
		counts[k]++
	}
	if ratio, want := float64(counts[0])/float64(counts[1]), math.Pow(2, 1.1); math.Abs(ratio-want) > 0.05*want {
		t.Errorf("P(0)/P(1) = %.3f, want %.3f", ratio, want)
	}
	if one, _ := NewZipf(rng(), 0, 1); one.Next() != 0 {
		t.Errorf("a single key must always draw 0")
	}
	if _, err := NewZipf(rng(), 1.0, 10); err == nil {
		t.Errorf("NewZipf with s = 1 accepted")
	}
}

// A burst that arrives at once puts every point at 0 and still takes one
// draw a point from the stream, as a window does, so that what the stream
// draws next does not depend on the window.
func TestSpreadAtOnce(t *testing.T) {
	for _, n := range []int{1, 3, 1000} {
		s, r := NewSpread(n, 0), rng()
		for i := range n {
			if at, ok := s.Next(r); !ok || at != 0 {
				t.Fatalf("n=%d: point %d = %v, %v; want 0, true", n, i, at, ok)
			}
		}
		if _, ok := s.Next(r); ok || s.Left() != 0 {
			t.Fatalf("n=%d: a point past the last, or %d left", n, s.Left())
		}
		want := rng()
		for range n {
			want.Float64()
		}
		if got, next := r.Uint64(), want.Uint64(); got != next {
			t.Errorf("n=%d: the stream's next draw is %d, want %d (one draw a point)", n, got, next)
		}
	}
}
