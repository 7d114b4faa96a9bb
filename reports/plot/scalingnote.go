package plot

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/stampsim/stampsim/sweeps"
)

// scalingNote says how to read a scaling figure: the axes, what a point
// and the band are, where the exponents come from, how zeros are drawn,
// and which topologies the sweep leaves out where.
func (in *sweepInput) scalingNote(aw axisWords, all [][]*curve, zero bool) string {
	doc := in.doc
	var notes []string
	if in.ax.Scale == sweeps.Log {
		notes = append(notes, "Both axes are logarithmic: a power law y = c·x^k is a straight line of slope k.")
	} else {
		notes = append(notes, "The value axis is logarithmic, the "+aw.short+" axis linear.")
	}
	if doc.Spec.Repeats > 1 {
		notes = append(notes, fmt.Sprintf("Each point is the median of %d repeats (each with a seed of its own), the band their least to their most.", doc.Spec.Repeats))
	} else {
		notes = append(notes, "Each point is one run.")
	}
	switch {
	case !doc.Complete:
		notes = append(notes, fmt.Sprintf("The sweep is incomplete (%d runs finished): no power law is fitted until it is.", len(doc.Rows)))
	case len(doc.Fits) > 0:
		notes = append(notes, "The exponents k are those of fits.csv: least squares on the logarithms of the medians.")
	}
	if zero {
		var left []string
		for _, c := range unionCurves(all) {
			if c.fit != nil && c.fit.Zeros > 0 {
				left = append(left, c.topology)
			}
		}
		z := "Zero cannot be drawn on a log axis: it is drawn on the bottom line, labelled 0"
		if len(left) > 0 {
			z += ", and left out of the fits (of " + join(left) + ")"
		}
		notes = append(notes, z+".")
	}
	for _, e := range doc.Spec.Exclude {
		if !slices.ContainsFunc(unionCurves(all), func(c *curve) bool { return slices.Contains(e.Topologies, c.topology) }) {
			continue
		}
		var bounds []string
		for _, b := range []struct{ word, value string }{{"above", e.Above}, {"below", e.Below}} {
			if b.value != "" {
				bounds = append(bounds, b.word+" "+in.valueText(e.Path, b.value))
			}
		}
		_, short := axisNames(e.Path)
		notes = append(notes, fmt.Sprintf("The sweep does not run %s at %s %s.", join(e.Topologies), short, strings.Join(bounds, " or ")))
	}
	if same := coinciding(all); len(same) > 0 {
		notes = append(notes, "Lines that lie on one another: "+strings.Join(same, "; ")+".")
	}
	if len(all) == 1 && len(in.panels) == 1 && len(in.panels[0].at) > 0 {
		notes = append(notes, "Every point at "+in.panelLabel(in.panels[0])+".")
	}
	return strings.Join(notes, " ")
}

// valueText writes the canonical value of the axis at path as a caption
// does: "1,000,000", "200 ms".
func (in *sweepInput) valueText(path, value string) string {
	a, ok := in.doc.Spec.AxisOf(path)
	if !ok {
		return value
	}
	x, ok := sweeps.Number(a.Kind, value)
	switch {
	case !ok:
		return value
	case sweeps.Unit(a.Kind) == "ms":
		return msLabel(x)
	}
	return number(x)
}

// panelLabels lists the panels' values for a caption: "upstream latency
// 50 ms, 200 ms and 800 ms" when one axis tells them apart, else each
// panel's values.
func panelLabels(shown []panel) string {
	if len(shown[0].at) == 1 {
		name, _ := strings.CutSuffix(paramText(shown[0].at[0]), " "+paramValue(shown[0].at[0]))
		values := make([]string, len(shown))
		for i, p := range shown {
			values[i] = paramValue(p.at[0])
		}
		return name + " " + join(values)
	}
	labels := make([]string, len(shown))
	for i, p := range shown {
		parts := make([]string, len(p.at))
		for j, a := range p.at {
			parts[j] = paramText(a)
		}
		labels[i] = strings.Join(parts, ", ")
	}
	return join(labels)
}

// coinciding lists the topologies whose curves are the same in every
// panel, within 2%, so that one line hides the others: "one-level and
// two-level".
func coinciding(all [][]*curve) []string {
	// Within 2% is on one another: the lines are wider than that.
	near := func(a, b []float64) bool {
		return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Abs(x-y) <= 0.02*math.Max(math.Abs(x), math.Abs(y)) })
	}
	same := func(a, b string) bool {
		for _, cs := range all {
			i := slices.IndexFunc(cs, func(c *curve) bool { return c.topology == a })
			j := slices.IndexFunc(cs, func(c *curve) bool { return c.topology == b })
			if (i < 0) != (j < 0) {
				return false
			}
			if i >= 0 && (!slices.Equal(cs[i].xs, cs[j].xs) || !near(cs[i].med, cs[j].med)) {
				return false
			}
		}
		return true
	}
	var groups [][]string
	for _, c := range unionCurves(all) {
		k := slices.IndexFunc(groups, func(g []string) bool { return same(g[0], c.topology) })
		if k < 0 {
			groups = append(groups, []string{c.topology})
			continue
		}
		groups[k] = append(groups[k], c.topology)
	}
	var out []string
	for _, g := range groups {
		if len(g) > 1 {
			out = append(out, join(g))
		}
	}
	return out
}
