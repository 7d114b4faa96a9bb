package plot

import (
	"fmt"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/stampsim/stampsim/reports"
)

// distribution is one topology's latency distribution: the share of
// requests answered within each latency.
type distribution struct {
	run *reports.Run
	// xs are latencies in ms, cdf the share of all requests (unfinished
	// ones included) answered within them. A latency of zero (a node
	// cache's hit, in a bucket from 0) is 0.
	xs, cdf []float64
	// n counts the requests: those in the histogram and the unfinished.
	n float64
}

// distributionOf reads r's histogram; ok is false when r has none or it is
// empty. The unfinished requests count in the denominator, as slower than
// any latency, so that a topology that left most requests unanswered does
// not look fast for the few it answered. Each bucket with values adds the
// points at its bounds (the share below it, the share within its top):
// the curve rises across a bucket and is flat between buckets.
func distributionOf(r *reports.Run) (distribution, bool) {
	h := r.LatencyHistogramMs
	if h == nil || len(h.Bounds) != len(h.Counts)+1 {
		return distribution{}, false
	}
	total := 0.0
	for _, c := range h.Counts {
		total += float64(c)
	}
	if total == 0 {
		return distribution{}, false
	}
	d := distribution{run: r, n: total + float64(r.Unfinished)}
	cum := 0.0
	for i, c := range h.Counts {
		if c == 0 {
			continue
		}
		lo, hi := math.Max(0, h.Bounds[i]), math.Max(0, h.Bounds[i+1])
		if lo == 0 {
			hi = 0 // the bucket of answers without delay
		}
		d.xs = append(d.xs, lo)
		d.cdf = append(d.cdf, cum/d.n)
		cum += float64(c)
		d.xs = append(d.xs, hi)
		d.cdf = append(d.cdf, cum/d.n)
	}
	return d, true
}

// latencyFigure draws each topology's request latency as a CDF (the share
// answered within a latency) and a CCDF on a log axis (the share slower),
// which shows the tail the CDF squeezes into its top.
func latencyFigure(in *input) (*figure, error) {
	var ds []distribution
	lo, hi := math.Inf(1), 0.0
	minShare := 1.0
	for _, r := range in.runs {
		d, ok := distributionOf(r)
		if !ok {
			continue
		}
		ds = append(ds, d)
		lo = math.Min(lo, minPositive(d.xs))
		hi = math.Max(hi, d.xs[len(d.xs)-1])
		minShare = math.Min(minShare, 1/d.n)
	}
	if len(ds) == 0 {
		return nil, nil
	}
	xLabel := "request latency"
	cdf := newPanel("Answered within a latency (CDF)", xLabel, "share of requests")
	ccdf := newPanel("Slower than a latency (CCDF)", xLabel, "share of requests (log)")
	// Latencies spread over decades (a hit in microseconds, a stampede's
	// tail in seconds): a log axis, with answers without delay on its zero
	// floor.
	xs := linear
	if hi/lo > 50 {
		xs = logScale(lo)
	}
	ys := logScale(minShare)
	cdf.Add(grid(true))
	ccdf.Add(grid(true))
	var runs []*reports.Run
	unfinished := []string{}
	for _, d := range ds {
		runs = append(runs, d.run)
		a := make(plotter.XYs, len(d.xs))
		b := make(plotter.XYs, len(d.xs))
		for i := range d.xs {
			a[i] = plotter.XY{X: xs.at(d.xs[i]), Y: d.cdf[i]}
			b[i] = plotter.XY{X: xs.at(d.xs[i]), Y: ys.at(1 - d.cdf[i])}
		}
		for _, pts := range []struct {
			p   *gplot.Plot
			xys plotter.XYs
		}{{cdf, a}, {ccdf, b}} {
			l, err := plotter.NewLine(pts.xys)
			if err != nil {
				return nil, err
			}
			l.LineStyle = in.pal.line(d.run.Topology)
			pts.p.Add(l)
		}
		if d.run.Unfinished > 0 {
			unfinished = append(unfinished, fmt.Sprintf("%s %s", d.run.Topology, percentLabel(float64(d.run.Unfinished)/d.n)))
		}
	}
	for _, p := range []*gplot.Plot{cdf, ccdf} {
		xs.set(&p.X, hi, msLabel)
		if xs.log {
			p.X.Label.Text += " (log)"
		}
	}
	cdf.Y.Min, cdf.Y.Max = 0, 1
	cdf.Y.Tick.Marker = linearTicks{n: 5, label: percentLabel}
	ys.set(&ccdf.Y, 1, percentLabel)

	note := logNote
	caption := "Request latency per topology: the share of requests answered within each latency (left) and the share slower (right, log). " +
		latencyPercentiles(runs)
	if len(unfinished) > 0 {
		note = "Requests never answered count as slower than any latency (" + join(unfinished) + " of requests), so those curves stop short of 100%. " + note
		caption += " Never answered, counted as slower than any latency: " + join(unfinished) + "."
	}
	return &figure{
		name:    "latency",
		title:   "Request latency: how long requests waited for their value",
		caption: caption,
		height:  4.8 * vg.Inch,
		legend:  in.topologyLegend(runs),
		rows:    [][]*gplot.Plot{{cdf, ccdf}},
		note:    note,
	}, nil
}

// latencyPercentiles lists each run's median and p99 latency.
func latencyPercentiles(runs []*reports.Run) string {
	var parts []string
	for _, r := range runs {
		parts = append(parts, fmt.Sprintf("%s %s / %s", r.Topology, ms(r.LatencyMs.P50), ms(r.LatencyMs.P99)))
	}
	return "Median / p99 of the answered requests: " + join(parts) + "."
}
