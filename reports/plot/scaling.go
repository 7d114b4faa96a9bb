package plot

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/sweeps"
)

// WriteSweep draws the scaling figures of a sweep document into dir, as
// PNG and SVG, and returns them in the order of the metrics its figures
// block names (reports.FigureMetrics): for each metric, its value against
// the figures' axis (sweeps.Sweep.FigureAxis) on log-log axes, a line per
// topology through the median of the repeats and a band from their least
// to their most, a panel per combination of the other axes' values, with
// the power law the document fitted in the legend. A metric that no row
// has gets no figure; a sweep without a numeric axis, or without rows,
// gets none. The directory is made if it does not exist.
func WriteSweep(dir string, doc *reports.SweepResults) ([]Figure, error) {
	figs, err := sweepFigures(doc)
	if err != nil || len(figs) == 0 {
		return nil, err
	}
	return writeFigures(dir, figs)
}

// sweepFigures builds the scaling figures of doc without drawing them.
func sweepFigures(doc *reports.SweepResults) ([]*figure, error) {
	if doc == nil || doc.Spec == nil {
		return nil, errors.New("drawing a sweep's figures: no sweep document")
	}
	in, ok := newSweepInput(doc)
	if !ok {
		return nil, nil
	}
	var figs []*figure
	for _, name := range reports.FigureMetrics(doc.Spec) {
		m, ok := reports.MetricOf(name)
		if !ok {
			return nil, fmt.Errorf("drawing the figures of sweep %s: no metric %q", doc.Sweep, name)
		}
		f, err := in.scalingFigure(m)
		if err != nil {
			return nil, err
		}
		if f != nil {
			figs = append(figs, f)
		}
	}
	return figs, nil
}

// sweepInput is what every scaling figure of one sweep draws from.
type sweepInput struct {
	doc *reports.SweepResults
	// axis is the index of the axis drawn along x, ax that axis.
	axis int
	ax   sweeps.Axis
	pal  palette
	// panels are the combinations of the other axes' values, in the
	// order of the grid.
	panels []panel
}

// panel is one combination of the values of the axes other than x.
type panel struct {
	at  []reports.Param
	key string
}

func newSweepInput(doc *reports.SweepResults) (*sweepInput, bool) {
	k, ok := doc.Spec.FigureAxis()
	if !ok || len(doc.Rows) == 0 {
		return nil, false
	}
	in := &sweepInput{doc: doc, axis: k, ax: doc.Spec.Axes[k], pal: newPalette(doc.Spec.Topologies)}
	seen := map[string]bool{}
	for _, r := range doc.Rows {
		at, key, ok := in.others(r)
		if !ok || seen[key] {
			continue
		}
		seen[key] = true
		in.panels = append(in.panels, panel{at: at, key: key})
	}
	return in, len(in.panels) > 0
}

// others returns the values of the axes other than x of row r, and a key
// of them; false when r has no number on the x axis.
func (in *sweepInput) others(r reports.Row) ([]reports.Param, string, bool) {
	if in.axis >= len(r.Params) || r.Params[in.axis].Number == nil {
		return nil, "", false
	}
	at := slices.Delete(slices.Clone(r.Params), in.axis, in.axis+1)
	return at, paramsKey(at), true
}

// paramsKey identifies a combination of axis values, as the fits' At
// does.
func paramsKey(ps []reports.Param) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.Path + "=" + p.Value
	}
	return strings.Join(parts, "\x00")
}

// curve is one topology's values of one metric in one panel: at each of
// the axis's values it has (ascending), the median, least and most over
// the repeats.
type curve struct {
	topology string
	xs       []float64
	med      []float64
	lo, hi   []float64
	repeats  []int
	// params holds the values of every axis at each x, for the fleet.
	params [][]reports.Param
	// fit is the power law the document holds for it, nil if none.
	fit *reports.Fit
}

// curves returns the curves of metric in panel p, in the order of the
// sweep's topologies; a topology without the metric (a level it lacks)
// has none.
func (in *sweepInput) curves(metric string, p panel) []*curve {
	byTopo := map[string]map[float64][]float64{}
	params := map[string]map[float64][]reports.Param{}
	for _, r := range in.doc.Rows {
		_, key, ok := in.others(r)
		if !ok || key != p.key {
			continue
		}
		v, ok := r.Metrics[metric]
		if !ok {
			continue
		}
		if byTopo[r.Topology] == nil {
			byTopo[r.Topology], params[r.Topology] = map[float64][]float64{}, map[float64][]reports.Param{}
		}
		x := *r.Params[in.axis].Number
		byTopo[r.Topology][x] = append(byTopo[r.Topology][x], v)
		params[r.Topology][x] = r.Params
	}
	var out []*curve
	for _, topo := range in.doc.Spec.Topologies {
		vals := byTopo[topo]
		if len(vals) == 0 {
			continue
		}
		c := &curve{topology: topo, fit: in.fitOf(topo, metric, p)}
		for x := range vals {
			c.xs = append(c.xs, x)
		}
		slices.Sort(c.xs)
		for _, x := range c.xs {
			vs := vals[x]
			c.med = append(c.med, median(vs))
			c.lo, c.hi = append(c.lo, slices.Min(vs)), append(c.hi, slices.Max(vs))
			c.repeats = append(c.repeats, len(vs))
			c.params = append(c.params, params[topo][x])
		}
		out = append(out, c)
	}
	return out
}

// fitOf returns the fit of metric against the x axis on topo in panel p,
// nil if the document has none (an incomplete sweep, a linear axis).
func (in *sweepInput) fitOf(topo, metric string, p panel) *reports.Fit {
	for i := range in.doc.Fits {
		f := &in.doc.Fits[i]
		if f.Topology == topo && f.Metric == metric && f.Axis == in.ax.Path && paramsKey(f.At) == p.key {
			return f
		}
	}
	return nil
}

// median is the median of vals, as the fits take it: the mean of the
// middle two of an even number.
func median(vals []float64) float64 {
	s := slices.Clone(vals)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// hasBand reports whether any point of cs has repeats that differ, so
// that a band from their least to their most shows something.
func hasBand(cs []*curve) bool {
	for _, c := range cs {
		for i := range c.xs {
			if c.hi[i] > c.lo[i] {
				return true
			}
		}
	}
	return false
}

// valueRange returns the smallest positive and the largest value drawn
// of cs (medians, least and most), and whether any is zero.
func valueRange(panels [][]*curve) (minPos, hi float64, zero bool) {
	minPos = math.Inf(1)
	for _, cs := range panels {
		for _, c := range cs {
			for _, vs := range [][]float64{c.med, c.lo, c.hi} {
				minPos = math.Min(minPos, minPositive(vs))
				hi = math.Max(hi, peak(vs))
				zero = zero || slices.Min(vs) <= 0
			}
		}
	}
	return minPos, hi, zero
}

// unionCurves returns a curve for each topology that has one in any
// panel, in the order first met (the sweep's), the first of each.
func unionCurves(all [][]*curve) []*curve {
	var out []*curve
	seen := map[string]bool{}
	for _, cs := range all {
		for _, c := range cs {
			if !seen[c.topology] {
				seen[c.topology] = true
				out = append(out, c)
			}
		}
	}
	return out
}
