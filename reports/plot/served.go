package plot

import (
	"image/color"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/stampsim/stampsim/reports"
)

// servedKind is one way a reply was served, as the served figure stacks
// it.
type servedKind struct {
	// name is the kind's name in the results ("hit"); label its legend
	// entry, and what its note says it means.
	name, label, means string
	colour             color.RGBA
	series             func(s *reports.ServedSeries) []uint64
	total              func(s *reports.Served) uint64
	// waited marks the replies that waited for an upstream call: what
	// request collapsing and stale-while-revalidate are there to spare.
	waited bool
}

// servedKinds are the kinds in the order they are stacked, from the top:
// the quickest way of being served first, so that the replies that waited
// or failed sit on the flat zero line, where a thin band can still be
// read, and the hits, nearly all the replies of a warm cache, ride on
// top. Greys and greens were served at once or from what the cache held,
// blues waited for an upstream call, red failed; none of them is a
// topology's colour of the other figures.
var servedKinds = []servedKind{
	{name: "hit", label: "hit", means: "the node cache, or the first shared read, had the value",
		colour: color.RGBA{0xcc, 0xcc, 0xcc, 0xff},
		series: func(s *reports.ServedSeries) []uint64 { return s.Hit }, total: func(s *reports.Served) uint64 { return s.Hit }},
	{name: "revalidating", label: "stale while revalidating", means: "served at once past its soft TTL while a background refresh ran",
		colour: color.RGBA{0x1b, 0x9e, 0x77, 0xff},
		series: func(s *reports.ServedSeries) []uint64 { return s.Revalidating }, total: func(s *reports.Served) uint64 { return s.Revalidating }},
	{name: "stale", label: "stale after a timeout", means: "served the node cache's expired value once its wait timed out",
		colour: color.RGBA{0xa6, 0xd8, 0x54, 0xff},
		series: func(s *reports.ServedSeries) []uint64 { return s.Stale }, total: func(s *reports.Served) uint64 { return s.Stale }},
	{name: "collapsed", label: "collapsed", means: "waited for another request's upstream call", waited: true,
		colour: color.RGBA{0x9e, 0xca, 0xe1, 0xff},
		series: func(s *reports.ServedSeries) []uint64 { return s.Collapsed }, total: func(s *reports.Served) uint64 { return s.Collapsed }},
	{name: "fetched", label: "fetched", means: "its own flight held the locks and called the upstream", waited: true,
		colour: color.RGBA{0x31, 0x82, 0xbd, 0xff},
		series: func(s *reports.ServedSeries) []uint64 { return s.Fetched }, total: func(s *reports.Served) uint64 { return s.Fetched }},
	{name: "hedged", label: "hedged", means: "its wait timed out and it called the upstream without the lock", waited: true,
		colour: color.RGBA{0x75, 0x6b, 0xb1, 0xff},
		series: func(s *reports.ServedSeries) []uint64 { return s.Hedged }, total: func(s *reports.Served) uint64 { return s.Hedged }},
	{name: "error", label: "error", means: "answered with an error",
		colour: color.RGBA{0xde, 0x2d, 0x26, 0xff},
		series: func(s *reports.ServedSeries) []uint64 { return s.Error }, total: func(s *reports.Served) uint64 { return s.Error }},
}

// servedRuns are the runs with a served series of at least one sample: v1
// documents have the series' names but no samples.
func (in *input) servedRuns() []*reports.Run {
	var out []*reports.Run
	for _, r := range in.seriesRuns() {
		for _, k := range servedKinds {
			if len(k.series(&r.Series.Served)) > 0 {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// drawnKinds are the kinds that any of runs served at least once, in
// stacking order, and the others.
func drawnKinds(runs []*reports.Run) (drawn, none []servedKind) {
	for _, k := range servedKinds {
		any := false
		for _, r := range runs {
			if sum(k.series(&r.Series.Served)) > 0 {
				any = true
				break
			}
		}
		if any {
			drawn = append(drawn, k)
		} else {
			none = append(none, k)
		}
	}
	return drawn, none
}

// sum is the sum of vs.
func sum(vs []uint64) uint64 {
	var n uint64
	for _, v := range vs {
		n += v
	}
	return n
}

// servedBins is about how many bins the served figure sums a run's
// shown steps into. At the series' own step (10 ms, some 60 replies a
// step on a steady day) a stack is mostly counting noise, and one step in
// which a flight answers its hundreds of followers at once sets the scale
// at several times the traffic; bins some 4 pixels wide show the shares
// of the kinds steadily, and a burst still stands out, as the replies per
// second of its bin.
const servedBins = 250

// binning is how many steps of the series of r make one bin of the served
// figure: enough that the steps shown make at most servedBins bins.
func (in *input) binning(r *reports.Run) int {
	step := stepMs(r.Series)
	lo, hi := in.time.window(math.MaxInt32, step)
	return max(1, (hi-lo+servedBins-1)/servedBins)
}

// stacked returns, for run r, the tops of the stack of kinds in replies
// per second, bottom layer first, in bins of k steps: tops[j][b] is the
// replies per second in bin b of the kinds kinds[len(kinds)-1-j] and
// below. A bin's rate is over the steps it has (the last may have fewer
// than k). Kinds whose series are shorter than the longest count nothing
// in the steps they lack.
func stacked(r *reports.Run, kinds []servedKind, k int) [][]float64 {
	n := 0
	for _, kind := range kinds {
		n = max(n, len(kind.series(&r.Series.Served)))
	}
	bins := (n + k - 1) / k
	step := stepMs(r.Series)
	tops := make([][]float64, len(kinds))
	below := make([]float64, bins)
	for j := range kinds {
		vs := kinds[len(kinds)-1-j].series(&r.Series.Served)
		top := make([]float64, bins)
		for b := range top {
			lo, hi := b*k, min(n, (b+1)*k)
			var c uint64
			for i := lo; i < min(hi, len(vs)); i++ {
				c += vs[i]
			}
			top[b] = below[b] + float64(c)*1000/(float64(hi-lo)*step)
		}
		tops[j], below = top, top
	}
	return tops
}

// servedFigure draws how the replies were served over time: a panel per
// topology, on one scale, with the replies per second of each kind
// stacked, so that the top of the stack is every reply of the step and
// each band the share of one kind. Nil when no run has a served series,
// or no run served anything.
func servedFigure(in *input) (*figure, error) {
	runs := in.servedRuns()
	kinds, none := drawnKinds(runs)
	if len(runs) == 0 || len(kinds) == 0 {
		return nil, nil
	}
	stacks := make([][][]float64, len(runs))
	bins := make([]float64, len(runs))
	hi := 0.0
	for i, r := range runs {
		k := in.binning(r)
		bins[i] = float64(k) * stepMs(r.Series)
		stacks[i] = stacked(r, kinds, k)
		all := stacks[i][len(kinds)-1]
		hi = math.Max(hi, peak(in.shown(track{ys: all, step: bins[i]})))
	}
	var plots []*gplot.Plot
	var legends [][]legendEntry
	for i, r := range runs {
		p, err := in.stackPanel(kinds, stacks[i], bins[i], hi)
		if err != nil {
			return nil, err
		}
		plots = append(plots, p)
		l := in.pal.line(r.Topology)
		label := r.Topology + ": " + count(totalServed(r)) + " replies"
		// A panel nearly empty because its requests were never answered
		// says so: it is not a quiet run.
		if r.Unfinished > 0 {
			label += ", " + count(r.Unfinished) + " requests never answered"
		}
		legends = append(legends, []legendEntry{{label: label, line: &l}})
	}
	f := &figure{
		name:    "served",
		title:   "How requests were served over time, per topology",
		caption: servedCaption(in, runs),
		note: joinNotes(servedNote(kinds, none, len(runs), binsNote(runs, bins)), in.faultsNote(), in.spanNote(runs),
			in.servedOutside(runs, kinds, bins)),
	}
	for _, k := range kinds {
		f.legend = append(f.legend, legendEntry{label: k.label, fill: k.colour})
	}
	f.legend = append(f.legend, in.faultLegend()...)
	// One column keeps the time axes under each other while there are
	// few panels; more go two abreast, as the scaling figures' do.
	cols := 1
	if len(plots) > 3 {
		cols = 2
	}
	for i := 0; i < len(plots); i += cols {
		row := make([]*gplot.Plot, cols)
		rowLegends := make([][]legendEntry, cols)
		for j := range cols {
			if i+j < len(plots) {
				row[j], rowLegends[j] = plots[i+j], legends[i+j]
			}
		}
		f.rows = append(f.rows, row)
		f.panelLegends = append(f.panelLegends, rowLegends)
	}
	f.height = vg.Length(1.6+2.5*float64(len(f.rows))) * vg.Inch
	return f, nil
}

// stackPanel draws one run's stack, in bins of step ms: each layer filled from zero up to its
// top, the highest first, so that each kind shows as the band between its
// top and the next one down. The tops are drawn as the other time series
// are (a level per step, decimated to the smallest and largest of a pixel
// column when there are more steps than that), so that a one-step burst
// of any kind survives. hi is the highest top of every panel: one scale
// for all, so that the panels compare.
func (in *input) stackPanel(kinds []servedKind, tops [][]float64, step, hi float64) (*gplot.Plot, error) {
	p := newPanel("", "", "replies/s")
	p.Add(in.faultBands())
	for j := len(tops) - 1; j >= 0; j-- {
		xys := in.time.points(tops[j], step, columns, linear.at)
		if len(xys) == 0 {
			continue
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		l.FillColor = kinds[len(kinds)-1-j].colour
		l.LineStyle.Width = 0
		p.Add(l)
	}
	// The grid goes over the layers, which would hide it: the values
	// inside the stack are the ones to read off.
	p.Add(grid(true))
	// The axes are set after the layers, which would widen them to the data.
	in.time.apply(p)
	linear.set(&p.Y, hi, shortNum)
	return p, nil
}

// totalServed is how many replies r sent, by its counts.
func totalServed(r *reports.Run) uint64 {
	var n uint64
	for _, k := range servedKinds {
		n += k.total(&r.Served)
	}
	return n
}
