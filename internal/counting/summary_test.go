package counting

import (
	"math/rand/v2"
	"testing"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Mean, and Quantiles at 100, give exactly what the histogram's own Mean and Max give, to
// the bit, on histograms of the geometries the simulator uses (three
// significant digits for latencies and store waits, two for the series)
// and others, with values in the first bucket, across bucket edges, at
// the top of the range, and none.
func TestMeanMatchesHistogram(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	spread := func(n int, hi int64) []int64 {
		v := make([]int64, n)
		for i := range v {
			v[i] = r.Int64N(hi)
		}
		return v
	}
	tests := []struct {
		name        string
		lowest, top int64
		digits      int
		values      []int64
	}{
		{"empty", 0, 3_600_000_000, 3, nil},
		{"zeros", 0, 3_600_000_000, 3, []int64{0, 0, 0}},
		{"first bucket", 0, 3_600_000_000, 3, []int64{1, 7, 1023, 2047}},
		{"bucket edges", 0, 3_600_000_000, 3, []int64{2047, 2048, 2049, 4095, 4096, 8191, 8192}},
		{"one latency", 0, 3_600_000_000, 3, []int64{200_000, 200_000, 201_000}},
		{"top of range", 0, 3_600_000_000, 3, []int64{3_599_999_999, 1}},
		{"spread, 3 digits", 0, 3_600_000_000, 3, spread(5000, 3_600_000_000)},
		{"spread, 2 digits", 0, 3_600_000_000, 2, spread(5000, 10_000_000)},
		{"spread, 1 digit", 0, 1_000_000, 1, spread(500, 1_000_000)},
		{"spread, 5 digits", 0, 100_000_000, 5, spread(500, 100_000_000)},
		{"lowest 1000", 1000, 3_600_000_000, 3, spread(2000, 50_000_000)},
		{"lowest 3", 3, 1_000_000, 2, spread(2000, 1_000_000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := hdrhistogram.New(tt.lowest, tt.top, tt.digits)
			for _, v := range tt.values {
				if err := h.RecordValue(v); err != nil {
					t.Fatal(err)
				}
			}
			if got, want := Mean(h), h.Mean(); got != want {
				t.Errorf("Mean = %v, histogram's Mean = %v", got, want)
			}
			if got, want := Quantiles(h, 100)[0], h.Max(); got != want {
				t.Errorf("the 100th percentile = %d, histogram's Max = %d", got, want)
			}
			qs := []float64{0, 50, 90, 99, 99.9, 100}
			for i, got := range Quantiles(h, qs...) {
				if want := h.ValueAtQuantile(qs[i]); got != want {
					t.Errorf("Quantiles: the %vth percentile = %d, ValueAtQuantile = %d", qs[i], got, want)
				}
			}
		})
	}
}
