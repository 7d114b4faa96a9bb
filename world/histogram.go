package world

import (
	"sort"
	"strconv"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/stampsim/stampsim/reports"
)

// histogram is an HDR histogram (microseconds, up to an hour) that counts
// zeros on the side: most latencies and store waits are zero (node-cache
// hits, an idle store), and a count is cheaper than a histogram update.
// all folds them in.
type histogram struct {
	h     *hdrhistogram.Histogram
	zeros int64
}

func newHistogram(significantDigits int) histogram {
	return histogram{h: hdrhistogram.New(0, 3_600_000_000, significantDigits)}
}

// record adds v.
func (h *histogram) record(v int64) {
	if v == 0 {
		h.zeros++
		return
	}
	_ = h.h.RecordValue(v)
}

// all returns the histogram of every value recorded.
func (h *histogram) all() *hdrhistogram.Histogram {
	if h.zeros > 0 {
		_ = h.h.RecordValues(0, h.zeros)
		h.zeros = 0
	}
	return h.h
}

// r20 holds the R20 preferred numbers, 20 a decade, 12% apart: the bounds
// of the latency histogram's buckets within a decade (reports.Histogram).
var r20 = [...]string{"1", "1.12", "1.25", "1.4", "1.6", "1.8", "2", "2.24", "2.5", "2.8", "3.15", "3.55", "4", "4.5", "5", "5.6", "6.3", "7.1", "8", "9"}

// msBounds are the bounds of the latency histogram's buckets in
// milliseconds, every one that a value up to an hour can fall in: 0, then
// the R20 numbers from 0.001 (a microsecond) to 9,000,000 (two and a half
// hours). Parsed from their decimal text, they are the doubles nearest to
// it, and a whole number of microseconds divided by 1000 is on the right
// side of each.
var msBounds = func() []float64 {
	b := []float64{0}
	for e := -3; e <= 6; e++ {
		for _, m := range r20 {
			v, err := strconv.ParseFloat(m+"e"+strconv.Itoa(e), 64)
			if err != nil {
				panic(err) // the table above is wrong
			}
			b = append(b, v)
		}
	}
	return b
}()

// buckets returns the values recorded, taken to be microseconds, as a
// histogram in milliseconds with msBounds for bounds, without the empty
// buckets before the first value and after the last; nil when nothing was
// recorded. Each of the HDR histogram's own buckets (0.1% wide at three
// significant digits) goes whole into the bucket of its lowest value.
func (h *histogram) buckets() *reports.Histogram {
	counts := make([]uint64, len(msBounds)-1)
	for _, bar := range h.all().Distribution() {
		if bar.Count == 0 {
			continue
		}
		ms := float64(bar.From) / 1000
		i := sort.SearchFloat64s(msBounds, ms) // the first bound >= ms
		if i == len(msBounds) || msBounds[i] > ms {
			i-- // ms is above bound i-1, or past the last bound
		}
		counts[min(i, len(counts)-1)] += uint64(bar.Count)
	}
	lo, hi := 0, len(counts)-1
	for lo <= hi && counts[lo] == 0 {
		lo++
	}
	for hi >= lo && counts[hi] == 0 {
		hi--
	}
	if lo > hi {
		return nil
	}
	return &reports.Histogram{
		Bounds: append([]float64(nil), msBounds[lo:hi+2]...),
		Counts: append([]uint64(nil), counts[lo:hi+1]...),
	}
}
