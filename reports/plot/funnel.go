package plot

import (
	"fmt"
	"image/color"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/stampsim/stampsim/reports"
)

// A stage of the funnel: what got through to that point of the protocol.
type stage int

const (
	stageRequests stage = iota
	stageNode
	stageZone
	stageRegion
	stageGlobal
	stageUpstream
	numStages
)

var stageNames = [numStages]string{
	"requests", "node lock winners", "zone lock winners", "region lock winners",
	"global lock winners", "upstream calls",
}

// stageColours run from the crowd (grey) through ever wider locks (ever
// darker blues) to the upstream (dark red): the funnel's bars narrow and
// darken towards what reaches the origin.
var stageColours = [numStages]color.RGBA{
	{0xbd, 0xbd, 0xbd, 0xff},
	{0xc6, 0xdb, 0xef, 0xff},
	{0x6b, 0xae, 0xd6, 0xff},
	{0x21, 0x71, 0xb5, 0xff},
	{0x08, 0x30, 0x6b, 0xff},
	{0xa5, 0x0f, 0x15, 0xff},
}

// scopeStage is the stage of the lock level of each scope.
var scopeStage = map[string]stage{"node": stageNode, "zone": stageZone, "region": stageRegion, "global": stageGlobal}

// funnelBar is one bar of a topology's funnel.
type funnelBar struct {
	stage stage
	value float64
}

// funnelOf is the funnel of run r: its requests, the acquisitions of each
// of its levels, its upstream calls. Levels the topology lacks have no bar.
func funnelOf(r *reports.Run) []funnelBar {
	bars := []funnelBar{{stageRequests, float64(r.Requests)}}
	for _, l := range r.Levels {
		if s, ok := scopeStage[l.Scope]; ok {
			bars = append(bars, funnelBar{s, float64(l.Acquisitions)})
		}
	}
	return append(bars, funnelBar{stageUpstream, float64(r.UpstreamCalls)})
}

// funnelFigure draws, per topology, how many requests came, how many won
// each lock level and how many reached the upstream: the lock's diagram,
// measured.
func funnelFigure(in *input) (*figure, error) {
	if len(in.runs) == 0 {
		return nil, nil
	}
	bars := &funnelBars{pal: in.pal, scale: logScale(1)}
	var names []string
	var present [numStages]bool
	hi := 1.0
	for _, r := range in.runs {
		fb := funnelOf(r)
		for _, b := range fb {
			present[b.stage] = true
			hi = math.Max(hi, b.value)
		}
		bars.groups = append(bars.groups, fb)
		bars.names = append(bars.names, r.Topology)
		names = append(names, r.Topology)
	}
	p := newPanel("", "", "count (log scale)")
	p.Add(grid(true), bars)
	p.NominalX(names...)
	p.X.Tick.Label.Font.Size = labelSize
	// Room above the tallest bar for its value label.
	bars.scale.set(&p.Y, hi*1.6, shortNum)

	f := &figure{
		name:    "funnel",
		title:   "The funnel: requests, lock winners and upstream calls per topology",
		caption: funnelCaption(in),
		height:  5.2 * vg.Inch,
		rows:    [][]*gplot.Plot{{p}},
		note: "Each bar counts one step on a request's way to the upstream; a level the topology lacks has no bar. " +
			"Log scale: a zero is a hollow box on the line labelled 0.",
	}
	for s := range numStages {
		if present[s] {
			f.legend = append(f.legend, legendEntry{label: stageNames[s], fill: stageColours[s]})
		}
	}
	return f, nil
}

// funnelCaption says what the funnel shows and what reached the upstream
// for each topology.
func funnelCaption(in *input) string {
	var parts []string
	for _, r := range in.runs {
		parts = append(parts, fmt.Sprintf("%s %s%s", r.Topology, count(r.UpstreamCalls), perUnit(r.UpstreamCalls, in.fleet, lastShared(r))))
	}
	total := in.runs[0].Requests
	return fmt.Sprintf("How many of the %s requests won each lock level and how many reached the upstream, per topology (log scale). "+
		"Upstream calls: %s.", count(total), join(parts))
}

// lastShared is the scope of the outermost level of r (whose winners call
// the upstream), empty for a topology without levels.
func lastShared(r *reports.Run) string {
	if len(r.Levels) == 0 {
		return ""
	}
	return r.Levels[len(r.Levels)-1].Scope
}

// funnelBars draws the funnels side by side: a group of bars per
// topology, packed so that a missing level leaves no gap, with each bar's
// count above it and a stripe in the topology's colour under the group.
type funnelBars struct {
	groups [][]funnelBar
	names  []string
	pal    palette
	scale  scale
}

// Plot draws the bars onto c.
func (b *funnelBars) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
	if len(b.groups) == 0 {
		return
	}
	most := 0
	for _, g := range b.groups {
		most = max(most, len(g))
	}
	// Every bar is as wide as in the fullest group, so that bars compare.
	// and never so wide that one topology's bars fill the figure.
	barW := min((trX(1)-trX(0))*0.96/vg.Length(most), vg.Points(48))
	base := trY(b.scale.at(0))
	for g, bars := range b.groups {
		mid := trX(float64(g))
		left := mid - barW*vg.Length(len(bars))/2
		for i, bar := range bars {
			x0 := left + barW*vg.Length(i)
			x1 := x0 + barW*0.88
			if bar.value <= 0 {
				// A hollow stub on the floor: the level exists and let
				// nothing through.
				stub := vg.Rectangle{Min: vg.Point{X: x0, Y: base}, Max: vg.Point{X: x1, Y: base + vg.Points(4)}}
				c.StrokeLines(draw.LineStyle{Color: stageColours[bar.stage], Width: vg.Points(1)}, append(corners(stub), stub.Min))
				valueLabel(c, (x0+x1)/2, base+vg.Points(4), "0")
				continue
			}
			top := trY(b.scale.at(bar.value))
			rect := vg.Rectangle{Min: vg.Point{X: x0, Y: base}, Max: vg.Point{X: x1, Y: top}}
			c.FillPolygon(stageColours[bar.stage], corners(rect))
			valueLabel(c, (x0+x1)/2, top, barLabel(bar.value))
		}
		stripe := draw.LineStyle{Color: b.pal.colours[b.names[g]], Width: vg.Points(4)}
		right := left + barW*(vg.Length(len(bars)-1)+0.88)
		c.StrokeLine2(stripe, left, c.Min.Y+vg.Points(2), right, c.Min.Y+vg.Points(2))
	}
}

// DataRange is the range of the categories and counts.
func (b *funnelBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	ymax = b.scale.at(0)
	for _, g := range b.groups {
		for _, bar := range g {
			ymax = math.Max(ymax, b.scale.at(bar.value))
		}
	}
	return -0.5, float64(len(b.groups)) - 0.5, b.scale.at(0), ymax
}

// barLabel writes a count above its bar in two significant digits when
// large (97k, not 97.1k), so that neighbouring labels fit; the caption
// gives the exact numbers.
func barLabel(v float64) string {
	if v < 1000 {
		return trimFloat(v)
	}
	e := math.Pow(10, math.Floor(math.Log10(v))-1)
	return shortNum(math.Round(v/e) * e)
}
