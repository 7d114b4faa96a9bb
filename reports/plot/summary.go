package plot

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/stampsim/stampsim/reports"
)

// measure is one panel of the summary: a number per run.
type measure struct {
	title string
	unit  string
	// ticks labels the axis; short numbers when nil.
	ticks func(float64) string
	value func(r *reports.Run) float64
	label func(r *reports.Run, v float64) string
}

// unansweredMark flags a latency that covers only the requests answered.
const unansweredMark = " *"

var measures = []measure{
	{
		title: "Upstream calls", unit: "calls",
		value: func(r *reports.Run) float64 { return float64(r.UpstreamCalls) },
	},
	{
		title: "Duplicate upstream calls (same key and region)", unit: "calls",
		value: func(r *reports.Run) float64 { return float64(r.DuplicateUpstreamCalls) },
	},
	{
		title: "Store round trips", unit: "round trips",
		value: func(r *reports.Run) float64 { return float64(r.StoreOps) },
	},
	{
		title: "p99 request latency", unit: "latency", ticks: msLabel,
		value: func(r *reports.Run) float64 { return r.LatencyMs.P99 },
		label: func(r *reports.Run, v float64) string {
			if r.Unfinished > 0 {
				return ms(v) + unansweredMark
			}
			return ms(v)
		},
	},
}

// summaryFigure draws the summary: a panel per measure, a bar per
// topology in its colour.
func summaryFigure(in *input) (*figure, error) {
	if len(in.runs) == 0 {
		return nil, nil
	}
	var panels []*gplot.Plot
	anyLog := false
	for _, m := range measures {
		p, isLog := in.barsPanel(m)
		anyLog = anyLog || isLog
		panels = append(panels, p)
	}
	rows, _ := tiled(panels)
	var notes []string
	if anyLog {
		notes = append(notes, logNote)
	}
	var unfinished []string
	for _, r := range in.runs {
		if r.Unfinished > 0 {
			unfinished = append(unfinished, fmt.Sprintf("%s left %s unanswered", r.Topology, count(r.Unfinished)))
		}
	}
	if len(unfinished) > 0 {
		notes = append(notes, "*: p99 of the answered requests only ("+join(unfinished)+").")
	}
	return &figure{
		name:    "summary",
		title:   "Summary: what each topology cost",
		caption: summaryCaption(in),
		height:  vg.Length(1.0+0.28*float64(len(in.runs))+1.2) * 2 * vg.Inch,
		legend:  in.topologyBoxes(in.runs),
		rows:    rows,
		note:    joinNotes(notes...),
	}, nil
}

// barsPanel draws measure m as a horizontal bar per run, first run on top,
// on a log axis when the values spread widely.
func (in *input) barsPanel(m measure) (*gplot.Plot, bool) {
	b := &hbars{}
	var names []string
	for i := len(in.runs) - 1; i >= 0; i-- {
		r := in.runs[i]
		v := math.Max(0, m.value(r))
		label := shortNum(v)
		if m.label != nil {
			label = m.label(r, v)
		} else if v < 1e4 {
			label = count(uint64(math.Round(v)))
		}
		b.values = append(b.values, v)
		b.labels = append(b.labels, label)
		b.colours = append(b.colours, in.pal.colours[r.Topology])
		names = append(names, r.Topology)
	}
	p := newPanel(m.title, m.unit, "")
	p.Add(grid(false), b)
	p.NominalY(names...)
	hi := slices.Max(b.values)
	ticks := m.ticks
	if ticks == nil {
		ticks = shortNum
	}
	// Room right of the longest bar for its label.
	if wantLog(b.values) {
		b.scale = logScale(minPositive(b.values))
		b.scale.set(&p.X, hi*6, ticks)
		p.X.Label.Text += " (log)"
	} else {
		b.scale.set(&p.X, hi*1.25, ticks)
	}
	p.Y.Min, p.Y.Max = -0.6, float64(len(names))-0.4
	return p, b.scale.log
}

// hbars draws horizontal bars, one per category from the bottom up, each
// with its label right of its end.
type hbars struct {
	values  []float64
	labels  []string
	colours []color.RGBA
	scale   scale
}

// Plot draws the bars onto c.
func (b *hbars) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
	if len(b.values) == 0 {
		return
	}
	h := (trY(1) - trY(0)) * 0.7
	x0 := trX(b.scale.at(0))
	sty := textStyle(valueSize+1, ink)
	sty.XAlign = draw.XLeft
	sty.YAlign = draw.YCenter
	for i, v := range b.values {
		y := trY(float64(i))
		x1 := x0
		if v > 0 {
			x1 = trX(b.scale.at(v))
			rect := vg.Rectangle{Min: vg.Point{X: x0, Y: y - h/2}, Max: vg.Point{X: x1, Y: y + h/2}}
			c.FillPolygon(b.colours[i], corners(rect))
		} else {
			// Nothing: a thin mark on the zero line, so the row is not
			// mistaken for a missing one.
			c.StrokeLine2(draw.LineStyle{Color: b.colours[i], Width: vg.Points(2)}, x0, y-h/2, x0, y+h/2)
		}
		c.FillText(sty, vg.Point{X: x1 + vg.Points(4), Y: y}, b.labels[i])
	}
}

// DataRange is the range of the values and categories.
func (b *hbars) DataRange() (xmin, xmax, ymin, ymax float64) {
	return b.scale.at(0), b.scale.at(slices.Max(b.values)), 0, float64(len(b.values) - 1)
}

// summaryCaption names the topologies that did best and worst on each
// measure.
func summaryCaption(in *input) string {
	var parts []string
	for _, m := range measures[:3] {
		best, worst := extremes(in.runs, m.value)
		parts = append(parts, fmt.Sprintf("%s from %s (%s) to %s (%s)", lower(m.title), join(best.names), count(uint64(best.v)),
			join(worst.names), count(uint64(worst.v))))
	}
	best, worst := extremes(in.runs, measures[3].value)
	parts = append(parts, fmt.Sprintf("p99 latency from %s (%s) to %s (%s)", join(best.names), ms(best.v), join(worst.names), ms(worst.v)))
	return "Per topology: " + join(parts) + "."
}

// extreme is the runs that share the smallest or largest value of a
// measure.
type extreme struct {
	names []string
	v     float64
}

// extremes returns the runs with the smallest and the largest value of f.
func extremes(runs []*reports.Run, f func(*reports.Run) float64) (lo, hi extreme) {
	lo.v, hi.v = math.Inf(1), math.Inf(-1)
	for _, r := range runs {
		v := f(r)
		switch {
		case v < lo.v:
			lo = extreme{[]string{r.Topology}, v}
		case v == lo.v:
			lo.names = append(lo.names, r.Topology)
		}
		switch {
		case v > hi.v:
			hi = extreme{[]string{r.Topology}, v}
		case v == hi.v:
			hi.names = append(hi.names, r.Topology)
		}
	}
	return lo, hi
}

// lower is s with its first letter lower-cased, and its parenthesis cut.
func lower(s string) string {
	if i := strings.IndexByte(s, '('); i > 0 {
		s = s[:i-1]
	}
	if s == "" {
		return s
	}
	return string(s[0]|0x20) + s[1:]
}
