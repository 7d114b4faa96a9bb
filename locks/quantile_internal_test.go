package locks

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// The estimator's quantile is never below the true quantile of what it saw
// and at most 12.5% (or 1us) above it, on samples from several shapes.
func TestDurationEstimatorError(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		name string
		draw func() time.Duration
	}{
		{"fixed 100ms", func() time.Duration { return 100 * time.Millisecond }},
		{"uniform 1us-20us", func() time.Duration { return time.Duration(1+r.IntN(20)) * time.Microsecond }},
		{"exponential 50ms", func() time.Duration { return time.Duration(r.ExpFloat64() * 50e6) }},
		{"lognormal 80ms", func() time.Duration { return time.Duration(math.Exp(r.NormFloat64()*0.8) * 80e6) }},
	} {
		for _, q := range []float64{0.5, 0.9, 0.99} {
			var d durationEstimator
			xs := make([]time.Duration, estimatorWindow-1) // below one window: no halving
			for i := range xs {
				xs[i] = tc.draw().Truncate(time.Microsecond)
				d.add(xs[i])
			}
			slices.Sort(xs)
			want := xs[max(int(q*float64(len(xs))+0.5), 1)-1]
			got, ok := d.quantile(q)
			if !ok || got < want || float64(got) > float64(want)*1.125+float64(time.Microsecond) {
				t.Errorf("%s: q%v = %v, want within [%v, %v]", tc.name, q, got, want, time.Duration(float64(want)*1.125)+time.Microsecond)
			}
		}
	}
}

// After the upstream slows down, the estimate follows within a few windows
// of calls; before any call there is none.
func TestDurationEstimatorFollows(t *testing.T) {
	var d durationEstimator
	if _, ok := d.quantile(0.9); ok {
		t.Fatal("an estimate before any observation")
	}
	for range 10 * estimatorWindow {
		d.add(100 * time.Millisecond)
	}
	for range 3 * estimatorWindow {
		d.add(time.Second)
	}
	if got, _ := d.quantile(0.5); got < time.Second || got > 1125*time.Millisecond {
		t.Errorf("median %v three windows after the slowdown, want about 1s", got)
	}
}

// Every duration falls in a bucket whose top is above it, by at most an
// eighth.
func TestBucketBounds(t *testing.T) {
	for us := uint64(0); us < 1<<20; us += 1 + us/64 {
		b := bucketOf(us)
		top := uint64(bucketTop(b) / time.Microsecond)
		if top <= us || (us >= 16 && float64(top-us) > float64(us)/8+1) || (b > 0 && uint64(bucketTop(b-1)/time.Microsecond) > us) {
			t.Fatalf("%dus in bucket %d (top %dus)", us, b, top)
		}
	}
}
