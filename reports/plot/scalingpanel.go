package plot

import (
	"image/color"
	"math"
	"strings"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/sweeps"
)

// bandAlpha is the opacity of the band between the repeats' least and
// most: enough to see where it is, little enough to see the other
// topologies' lines through it.
const bandAlpha = 0x38

// scalingFigure draws metric m against the x axis: a panel per
// combination of the other axes' values that has any value of it, all
// on the same log-log scales; nil when no row has the metric.
func (in *sweepInput) scalingFigure(m reports.Metric) (*figure, error) {
	var shown []panel
	var all [][]*curve
	for _, p := range in.panels {
		if cs := in.curves(m.Name, p); len(cs) > 0 {
			shown, all = append(shown, p), append(all, cs)
		}
	}
	if len(all) == 0 {
		return nil, nil
	}
	mw, aw := metricWordsOf(m), in.axisWords()
	minPos, hi, zero := valueRange(all)
	ys := scale{log: true, floor: minPos / 1.6}
	if zero {
		ys = logScale(minPos)
	}
	single := len(all) == 1
	var plots []*gplot.Plot
	var panelLegends [][]legendEntry
	for i, cs := range all {
		p, err := in.scalingPanel(mw, aw, cs, ys, hi)
		if err != nil {
			return nil, err
		}
		plots = append(plots, p)
		// A panel's legend starts with what the panel holds, so that its
		// exponents read as a line of their own.
		heading := legendEntry{label: in.panelLabel(shown[i]) + ":"}
		panelLegends = append(panelLegends, append([]legendEntry{heading}, in.lawLegend(cs, aw)...))
	}
	f := &figure{
		name:    "scaling-" + strings.ReplaceAll(m.Name, "_", "-"),
		title:   mw.title + " against " + aw.long,
		caption: in.scalingCaption(mw, aw, shown, all),
		note:    in.scalingNote(aw, all, zero),
	}
	// One panel's laws are the figure's legend; several panels have
	// theirs above each.
	if single {
		f.legend = in.lawLegend(all[0], aw)
	}
	if anyBand(all) {
		f.legend = append(f.legend, legendEntry{label: "band: least to most of the repeats", fill: color.Gray{Y: 0xc8}})
	}
	cols := 1
	if len(plots) > 3 {
		cols = 2
	}
	for i := 0; i < len(plots); i += cols {
		row := make([]*gplot.Plot, cols)
		legends := make([][]legendEntry, cols)
		for j := range cols {
			if i+j < len(plots) {
				row[j] = plots[i+j]
				if !single {
					legends[j] = panelLegends[i+j]
				}
			}
		}
		f.rows = append(f.rows, row)
		if !single {
			f.panelLegends = append(f.panelLegends, legends)
		}
	}
	f.height = f.scalingHeight(cols)
	return f, nil
}

// scalingHeight is the height of a scaling figure of cols columns: room
// for the title, the legend and the note, and for each row of panels 4.4
// inches when there is one row, 2.9 inches when there are more, plus its
// legends, so that a panel keeps its size however long its legend.
func (f *figure) scalingHeight(cols int) vg.Length {
	width := figureWidth - 2*margin
	panelW := (width - vg.Length(cols-1)*panelGap) / vg.Length(cols)
	h := 1.5*vg.Inch + legendHeight(width, f.legend) + vg.Length(len(wrap(textStyle(noteSize, softInk), f.note, width)))*vg.Points(12)
	each := 4.4 * vg.Inch
	if len(f.rows) > 1 {
		each = 2.9 * vg.Inch
	}
	for i := range f.rows {
		top := vg.Length(0)
		if f.panelLegends != nil {
			for _, es := range f.panelLegends[i] {
				top = max(top, legendHeight(panelW, es))
			}
		}
		h += each + top
	}
	return h
}

// anyBand reports whether any panel has a band to draw.
func anyBand(all [][]*curve) bool {
	for _, cs := range all {
		if hasBand(cs) {
			return true
		}
	}
	return false
}

// lawLegend is a legend entry per curve in its topology's line style,
// with the fitted law when the document has one.
func (in *sweepInput) lawLegend(cs []*curve, aw axisWords) []legendEntry {
	var out []legendEntry
	for _, c := range cs {
		l := in.pal.line(c.topology)
		out = append(out, legendEntry{label: c.topology + in.lawLabel(c, aw), line: &l})
	}
	return out
}

// scalingPanel draws the curves cs of one panel on log y scale ys up to
// hi, against the x axis. It has no title: what the panel holds heads its
// legend.
func (in *sweepInput) scalingPanel(mw metricWords, aw axisWords, cs []*curve, ys scale, hi float64) (*gplot.Plot, error) {
	xLabel := aw.long + " (" + in.ax.Path
	if aw.detail != "" {
		xLabel += ", " + aw.detail
	}
	if in.ax.Scale == sweeps.Log {
		xLabel += ", log"
	}
	p := newPanel("", xLabel+")", mw.y+" (log)")
	g := plotter.NewGrid()
	g.Vertical = draw.LineStyle{Color: gridInk, Width: vg.Points(0.6)}
	g.Horizontal = g.Vertical
	p.Add(g)
	xs := linear
	if in.ax.Scale == sweeps.Log {
		xs = scale{log: true}
	}
	band := hasBand(cs)
	for _, c := range cs {
		colour := in.pal.colours[c.topology]
		if band {
			if err := addBand(p, c, xs, ys, colour); err != nil {
				return nil, err
			}
		}
		pts := make(plotter.XYs, len(c.xs))
		for i, x := range c.xs {
			pts[i] = plotter.XY{X: xs.at(x), Y: ys.at(c.med[i])}
		}
		if len(pts) > 1 {
			l, err := plotter.NewLine(pts)
			if err != nil {
				return nil, err
			}
			l.LineStyle = in.pal.line(c.topology)
			p.Add(l)
		}
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: colour, Radius: vg.Points(2.6), Shape: draw.CircleGlyph{}}
		p.Add(sc)
	}
	// The axes are set after the data, which would widen them to it.
	in.setX(&p.X, cs, aw)
	ys.set(&p.Y, hi, mw.ticks)
	p.Y.Tick.Marker = logTicks{scale: ys, label: mw.ticks, denser: true}
	return p, nil
}

// addBand adds to p the band of c from the least to the most of its
// repeats at each point: a polygon, or at a single point a bar.
func addBand(p *gplot.Plot, c *curve, xs, ys scale, colour color.RGBA) error {
	fill := color.NRGBA{R: colour.R, G: colour.G, B: colour.B, A: bandAlpha}
	if len(c.xs) == 1 {
		l, err := plotter.NewLine(plotter.XYs{{X: xs.at(c.xs[0]), Y: ys.at(c.lo[0])}, {X: xs.at(c.xs[0]), Y: ys.at(c.hi[0])}})
		if err != nil {
			return err
		}
		l.LineStyle = draw.LineStyle{Color: fill, Width: vg.Points(6)}
		p.Add(l)
		return nil
	}
	var pts plotter.XYs
	for i, x := range c.xs {
		pts = append(pts, plotter.XY{X: xs.at(x), Y: ys.at(c.lo[i])})
	}
	for i := len(c.xs) - 1; i >= 0; i-- {
		pts = append(pts, plotter.XY{X: xs.at(c.xs[i]), Y: ys.at(c.hi[i])})
	}
	pg, err := plotter.NewPolygon(pts)
	if err != nil {
		return err
	}
	pg.Color = fill
	pg.LineStyle = draw.LineStyle{}
	p.Add(pg)
	return nil
}

// setX makes a the x axis over the values of cs: log from a quarter
// below the least to a quarter above the most, or linear with a margin.
func (in *sweepInput) setX(a *gplot.Axis, cs []*curve, aw axisWords) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, c := range cs {
		for _, x := range c.xs {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
	}
	a.Scale = gplot.LinearScale{}
	if in.ax.Scale == sweeps.Log {
		a.Min, a.Max = math.Log10(lo/1.25), math.Log10(hi*1.25)
		a.Tick.Marker = logTicks{scale: scale{log: true, floor: lo / 1.25}, label: aw.tick, denser: true}
		return
	}
	pad := (hi - lo) * 0.05
	if pad == 0 {
		pad = math.Max(math.Abs(lo)*0.1, 1)
	}
	a.Min, a.Max = lo-pad, hi+pad
	a.Tick.Marker = linearTicks{n: 6, label: aw.tick}
}
