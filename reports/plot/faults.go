package plot

import (
	"fmt"
	"image/color"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/scenarios"
)

// faultShade is the fill behind the time during which a fault was on: a
// store outage explains a gap in store load that would otherwise look like
// a bug in the figure.
var faultShade = color.RGBA{0xfa, 0xe8, 0xe0, 0xff}

// fault is one fault of the scenario, in ms of simulated time.
type fault struct {
	startMs, endMs float64
	what           string
}

// faultsOf lists the faults of the scenario the results ran, in the order
// it gives them.
func faultsOf(res *reports.Results) []fault {
	if res.Spec == nil {
		return nil
	}
	var out []fault
	for _, f := range res.Spec.Faults {
		start := float64(f.At) / 1e6
		out = append(out, fault{startMs: start, endMs: start + float64(f.For)/1e6, what: describeFault(f)})
	}
	return out
}

// describeFault names a fault and what it hit: "store-outage of region
// r1's store", "node-pause of r0/z0/n0".
func describeFault(f scenarios.Fault) string {
	target := ""
	switch {
	case f.Node != "" && f.Scope != "":
		target = fmt.Sprintf("%s from its %s store", f.Node, f.Scope)
	case f.Node != "":
		target = f.Node
	case f.Scope == "zone":
		target = fmt.Sprintf("zone r%d/z%d's store", f.Region, f.Zone)
	case f.Scope == "region":
		target = fmt.Sprintf("region r%d's store", f.Region)
	case f.Scope == "global":
		target = "the global store"
	}
	if target == "" {
		return f.Kind
	}
	return f.Kind + " of " + target
}

// faultsNote says what the shaded spans are; empty without faults.
func (in *input) faultsNote() string {
	if len(in.faults) == 0 {
		return ""
	}
	var parts []string
	for _, f := range in.faults {
		parts = append(parts, fmt.Sprintf("%s from %s to %s", f.what, at(f.startMs), at(f.endMs)))
	}
	return "Shaded: " + join(parts) + "."
}

// faultLegend is the legend entry of the shading, when there are faults.
func (in *input) faultLegend() []legendEntry {
	if len(in.faults) == 0 {
		return nil
	}
	return []legendEntry{{label: "fault on (shaded)", fill: faultShade}}
}

// bands shades the spans of faults behind a time-series panel's data.
type bands struct {
	spans [][2]float64 // in the time axis' unit
}

// Plot shades each span, clipped to the panel.
func (b bands) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, _ := p.Transforms(&c)
	for _, s := range b.spans {
		x0 := max(trX(s[0]), c.Min.X)
		x1 := min(trX(s[1]), c.Max.X)
		if x1 <= x0 {
			continue
		}
		r := vg.Rectangle{Min: vg.Point{X: x0, Y: c.Min.Y}, Max: vg.Point{X: x1, Y: c.Max.Y}}
		c.FillPolygon(faultShade, corners(r))
	}
}

// faultBands is the shading of in's faults on its time axis.
func (in *input) faultBands() bands {
	var b bands
	for _, f := range in.faults {
		b.spans = append(b.spans, [2]float64{f.startMs * in.time.perMs, f.endMs * in.time.perMs})
	}
	return b
}
