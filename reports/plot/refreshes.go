package plot

import (
	"fmt"
	"image/color"
	"strings"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/stampsim/stampsim/reports"
)

// refreshOutcome is one way a background refresh ended, as the refreshes
// figure stacks it. The colours echo the served figure's: green the
// refresh behind a stale reply, grey a cache that had the value, red a
// failure.
type refreshOutcome struct {
	// label names the outcome in the legend; means says what it did in
	// the caption, empty when the label says it.
	label, means string
	colour       color.RGBA
	value        func(r *reports.Refreshes) uint64
}

// refreshOutcomes are the outcomes in the order they are stacked, from
// the left: the ones that cost an upstream call first.
var refreshOutcomes = []refreshOutcome{
	{label: "refreshed", means: "called the upstream", colour: color.RGBA{0x1b, 0x9e, 0x77, 0xff},
		value: func(r *reports.Refreshes) uint64 { return r.Refreshed }},
	{label: "superseded", means: "found a shared cache already fresh", colour: color.RGBA{0xbb, 0xbb, 0xbb, 0xff},
		value: func(r *reports.Refreshes) uint64 { return r.Superseded }},
	{label: "failed", means: "failed", colour: color.RGBA{0xde, 0x2d, 0x26, 0xff},
		value: func(r *reports.Refreshes) uint64 { return r.Failed }},
	{label: "still running at the end", colour: color.RGBA{0xe8, 0xe4, 0xd8, 0xff},
		value: func(r *reports.Refreshes) uint64 { return running(r) }},
}

// running is how many of r's refreshes had not ended when the run did.
func running(r *reports.Refreshes) uint64 {
	ended := r.Refreshed + r.Superseded + r.Failed
	if ended >= r.Started {
		return 0
	}
	return r.Started - ended
}

// refreshesOf is r's refresh counts, zero for a run without any.
func refreshesOf(r *reports.Run) reports.Refreshes {
	if r.Refreshes == nil {
		return reports.Refreshes{}
	}
	return *r.Refreshes
}

// refreshesFigure draws the background refreshes of each topology
// (stale-while-revalidate and XFetch) as a bar of those started, split by
// how they ended; nil when no run started any, since most scenarios use
// neither. It is a figure of its own rather than a panel of the summary:
// it belongs to the cache policies, and its stacked bars read differently
// from the summary's single ones.
func refreshesFigure(in *input) (*figure, error) {
	hi := uint64(0)
	for _, r := range in.runs {
		hi = max(hi, refreshesOf(r).Started)
	}
	if hi == 0 {
		return nil, nil
	}
	b := &refreshBars{pal: in.pal}
	var names []string
	for i := len(in.runs) - 1; i >= 0; i-- {
		r := in.runs[i]
		b.runs = append(b.runs, refreshesOf(r))
		b.topologies = append(b.topologies, r.Topology)
		names = append(names, r.Topology)
	}
	p := newPanel("", "background refreshes", "")
	p.Add(grid(false), b)
	p.NominalY(names...)
	p.Y.Tick.Label.Font.Size = labelSize
	// Room right of the longest bar for its label.
	linear.set(&p.X, float64(hi)*1.25, shortNum)
	p.Y.Min, p.Y.Max = -0.6, float64(len(names))-0.4
	f := &figure{
		name:    "refreshes",
		title:   "Background refreshes per topology, by how they ended",
		caption: refreshesCaption(in.runs),
		height:  vg.Length(1.9+0.42*float64(len(names))) * vg.Inch,
		rows:    [][]*gplot.Plot{{p}},
		note: "A background refresh fetches a key's next value with no request waiting for it: stale-while-revalidate starts one when it serves a value past its soft TTL, XFetch when its draw says to refresh early. " +
			"Refreshed: it called the upstream; superseded: a shared cache already had a fresh value, so it did not; failed: the call failed, its wait timed out or the run was aborted. " +
			"A line under a bar marks the topology in its colour.",
	}
	for _, o := range refreshOutcomes {
		if o.label == "still running at the end" && !b.anyRunning() {
			continue
		}
		f.legend = append(f.legend, legendEntry{label: o.label, fill: o.colour})
	}
	return f, nil
}

// refreshesCaption says, per topology, how many refreshes started, what
// started them, and how they ended.
func refreshesCaption(runs []*reports.Run) string {
	var parts []string
	for _, r := range runs {
		rf := refreshesOf(r)
		if rf.Started == 0 {
			parts = append(parts, r.Topology+" started none")
			continue
		}
		part := r.Topology + " started " + count(rf.Started)
		var why []string
		if rf.Early > 0 {
			why = append(why, count(rf.Early)+" by an XFetch draw at a node cache")
		}
		if rf.EarlyReads > 0 {
			why = append(why, count(rf.EarlyReads)+" shared reads found their value due early")
		}
		if len(why) > 0 {
			part += " (" + strings.Join(why, "; ") + ")"
		}
		var ends []string
		for _, o := range refreshOutcomes {
			n := o.value(&rf)
			switch {
			case n > 0 && o.means == "":
				ends = append(ends, fmt.Sprintf("%s %s (%s)", count(n), o.label, share(n, rf.Started)))
			case n > 0:
				ends = append(ends, fmt.Sprintf("%s %s (%s, %s)", count(n), o.means, o.label, share(n, rf.Started)))
			case o.label == "failed":
				ends = append(ends, "none failed")
			}
		}
		parts = append(parts, part+": "+join(ends))
	}
	return "Background refreshes started per topology and how they ended: " + strings.Join(parts, "; ") + "."
}

// refreshBars draws a horizontal bar per run from the bottom up, its
// refreshes started split by outcome, each part's count inside it where
// it fits, the total right of the bar, and a line in the topology's style
// under it.
type refreshBars struct {
	runs       []reports.Refreshes
	topologies []string
	pal        palette
}

// anyRunning says whether any run had refreshes still running at its end.
func (b *refreshBars) anyRunning() bool {
	for i := range b.runs {
		if running(&b.runs[i]) > 0 {
			return true
		}
	}
	return false
}

// Plot draws the bars onto c.
func (b *refreshBars) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
	if len(b.runs) == 0 {
		return
	}
	h := (trY(1) - trY(0)) * 0.6
	inside := textStyle(valueSize+1, ink)
	inside.XAlign, inside.YAlign = draw.XCenter, draw.YCenter
	after := textStyle(valueSize+1, ink)
	after.XAlign, after.YAlign = draw.XLeft, draw.YCenter
	x0 := trX(0)
	for i := range b.runs {
		rf := &b.runs[i]
		y := trY(float64(i))
		x := x0
		for _, o := range refreshOutcomes {
			n := o.value(rf)
			if n == 0 {
				continue
			}
			x1 := trX(float64(n)) - x0 + x
			c.FillPolygon(o.colour, corners(vg.Rectangle{Min: vg.Point{X: x, Y: y - h/2}, Max: vg.Point{X: x1, Y: y + h/2}}))
			if label := count(n); inside.Width(label)+vg.Points(6) < x1-x {
				c.FillText(inside, vg.Point{X: (x + x1) / 2, Y: y}, label)
			}
			x = x1
		}
		label := "none"
		if rf.Started > 0 {
			label = count(rf.Started) + " started"
			line := b.pal.line(b.topologies[i])
			line.Width = vg.Points(2.5)
			c.StrokeLine2(line, x0, y-h/2-vg.Points(3), x, y-h/2-vg.Points(3))
		}
		c.FillText(after, vg.Point{X: x + vg.Points(4), Y: y}, label)
	}
}

// DataRange is the range of the counts and categories.
func (b *refreshBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	for _, rf := range b.runs {
		xmax = max(xmax, float64(rf.Started))
	}
	return 0, xmax, 0, float64(len(b.runs) - 1)
}
