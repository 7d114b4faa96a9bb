package counting

import (
	"math"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Max returns h.Max() without its walk: Max iterates, index by index, up
// to the last value recorded, at some eighty instructions an index (about
// nine thousand indices for a 200 ms latency at three significant digits),
// which at a small run costs more than the simulation. The value at the
// 100th percentile is the highest value equivalent to that same last
// index, and Max only takes the highest equivalent value of it again,
// which changes nothing; ValueAtQuantile finds the index by summing eight
// counts at a time.
func Max(h *hdrhistogram.Histogram) int64 {
	return h.ValueAtQuantile(100)
}

// Mean returns h.Mean(), the same terms added in the same order, so the same
// float64 to the bit, in one pass over a copy of h's counts instead of
// h.Mean()'s index-by-index walk (see Max for what that walk costs). Each
// nonzero count adds count × the median of its index's values ÷ the total,
// the index's values being those of the histogram's geometry, which
// hdrhistogram derives from its lowest value and significant digits as
// below; TestMeanMatchesHistogram checks the two agree.
func Mean(h *hdrhistogram.Histogram) float64 {
	if h.TotalCount() == 0 {
		return 0
	}
	// hdrhistogram keeps unit resolution up to 2×10^digits: the sub-bucket
	// count is the next power of two, and each bucket after the first
	// holds its upper half.
	single := 2 * math.Pow10(int(h.SignificantFigures()))
	halfMag := max(int(math.Ceil(math.Log2(single))), 1) - 1
	unit := max(int(math.Floor(math.Log2(float64(h.LowestTrackableValue())))), 0)
	half := 1 << halfMag
	total := float64(h.TotalCount())
	var mean float64
	for i, c := range h.Export().Counts {
		if c == 0 {
			continue
		}
		bucket, sub := i>>halfMag-1, i&(half-1)+half
		if bucket < 0 {
			bucket, sub = 0, sub-half
		}
		shift := bucket + unit
		median := int64(sub)<<shift + (int64(1)<<shift)>>1
		mean += float64(c) * float64(median) / total
	}
	return mean
}
