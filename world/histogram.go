package world

import (
	"github.com/HdrHistogram/hdrhistogram-go"
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
