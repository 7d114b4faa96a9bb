package plot

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// scalingCaption says in two sentences what a scaling figure shows: how
// the metric grows on each topology (the fitted laws, and the fleet count
// a metric equals where it does), then where it changes most or how far
// apart the topologies end.
func (in *sweepInput) scalingCaption(mw metricWords, aw axisWords, shown []panel, all [][]*curve) string {
	var first string
	switch {
	case len(in.doc.Fits) == 0 || !in.doc.Complete:
		first = in.rangeSentence(mw, aw, all[len(all)-1])
	case len(all) == 1:
		first = in.lawSentence(mw, aw, all[0])
	default:
		first = in.panelsLawSentence(mw, aw, shown, all)
	}
	return first + " " + in.shapeSentence(mw, aw, shown, all)
}

// clause is what a caption says of one topology's law.
func (in *sweepInput) clause(c *curve, mw metricWords, aw axisWords) (law, note string) {
	f := c.fit
	if f == nil || f.Exponent == nil {
		if f != nil && f.Points == 0 {
			return "", "zero at every point"
		}
		return "", "no power law fitted"
	}
	law = aw.short + "^" + exponentText(*f.Exponent)
	var notes []string
	noun, constant := in.fleetRelation(c)
	switch {
	case flat(c) && noun != "" && constant:
		notes = append(notes, "flat at "+mw.value(c.med[0])+", the "+noun)
	case flat(c):
		notes = append(notes, "flat at "+mw.value(c.med[0]))
	case noun != "":
		notes = append(notes, "the number of "+noun+" at every point")
	case nearlyFlat(c):
		// r² says nothing of a law this flat: the noise is all the
		// variance there is.
		lo, hi := slices.Min(c.med), slices.Max(c.med)
		notes = append(notes, "nearly flat, "+mw.value(lo)+" to "+mw.value(hi))
	case f.R2 != nil && *f.R2 < 0.8:
		notes = append(notes, fmt.Sprintf("a poor fit, r² %.2f", *f.R2))
	}
	if f.Zeros > 0 {
		notes = append(notes, fmt.Sprintf("fitted on the %d of %d points above zero", f.Points, f.Zeros+f.Points))
	}
	return law, strings.Join(notes, "; ")
}

// lawSentence says how the metric grows on each topology of one panel,
// topologies with the same law and note together: "two-level: region-lock
// contenders grow as requests^0.00 (flat at 20, the nodes per region);
// one-level as requests^0.97."
func (in *sweepInput) lawSentence(mw metricWords, aw axisWords, cs []*curve) string {
	type group struct {
		topos     []string
		law, note string
	}
	var groups []*group
	for _, c := range cs {
		law, note := in.clause(c, mw, aw)
		k := slices.IndexFunc(groups, func(g *group) bool { return g.law == law && g.note == note })
		if k < 0 {
			groups = append(groups, &group{law: law, note: note})
			k = len(groups) - 1
		}
		groups[k].topos = append(groups[k].topos, c.topology)
	}
	// The laws first, the first of them with the metric's name; then
	// the topologies without one.
	slices.SortStableFunc(groups, func(a, b *group) int {
		return cmpFloat(boolFloat(a.law == ""), boolFloat(b.law == ""))
	})
	var parts []string
	for i, g := range groups {
		s := join(g.topos)
		switch {
		case g.law == "" && i == 0:
			s += ": " + mw.subject + " " + g.note
		case g.law == "":
			s += ": " + g.note
		case i == 0:
			s += ": " + mw.subject + " " + grow(mw, g.law) + " as " + g.law
		default:
			s += " as " + g.law
		}
		if g.law != "" && g.note != "" {
			s += " (" + g.note + ")"
		}
		parts = append(parts, s)
	}
	return upperFirst(strings.Join(parts, "; ")) + "."
}

// grow is the verb of a law: "grow" for a rising one, "fall" for a
// falling one, agreeing with the metric.
func grow(mw metricWords, law string) string {
	v := "grow"
	if strings.Contains(law, "^-") {
		v = "fall"
	}
	if !mw.plural {
		v += "s"
	}
	return v
}

// panelsLawSentence says each topology's exponents across the panels:
// "Against the wait timeout, at upstream latency 50 ms, 200 ms and 800
// ms, duplicate upstream calls go as ^-0.76, ^-1.41 and ^-1.65 on
// node-only; ...".
func (in *sweepInput) panelsLawSentence(mw metricWords, aw axisWords, shown []panel, all [][]*curve) string {
	labels := panelLabels(shown)
	var parts []string
	for _, u := range unionCurves(all) {
		var exps []string
		for _, cs := range all {
			k := slices.IndexFunc(cs, func(c *curve) bool { return c.topology == u.topology })
			switch {
			case k < 0:
				exps = append(exps, "not run")
			case cs[k].fit == nil || cs[k].fit.Exponent == nil:
				exps = append(exps, "no fit")
			default:
				f := cs[k].fit
				e := exponentText(*f.Exponent)
				if f.Zeros > 0 {
					e += fmt.Sprintf(" (on %d of %d points)", f.Points, f.Zeros+f.Points)
				}
				exps = append(exps, e)
			}
		}
		if same := slices.Compact(slices.Clone(exps)); len(same) == 1 {
			parts = append(parts, u.topology+" "+same[0]+" at each")
			continue
		}
		parts = append(parts, u.topology+" "+join(exps))
	}
	verb := "go"
	if !mw.plural {
		verb = "goes"
	}
	return fmt.Sprintf("At %s, %s %s as %s^k with k: %s.", labels, mw.subject, verb, aw.short, strings.Join(parts, "; "))
}

// rangeSentence says what the metric went from and to on each topology,
// for a sweep without fits.
func (in *sweepInput) rangeSentence(mw metricWords, aw axisWords, cs []*curve) string {
	why := "the sweep is incomplete"
	if in.doc.Complete {
		why = "the axis is not a log one"
	}
	var parts []string
	for _, c := range cs {
		n := len(c.xs) - 1
		parts = append(parts, fmt.Sprintf("%s from %s at %s to %s at %s", c.topology, mw.value(c.med[0]), aw.value(c.xs[0]), mw.value(c.med[n]), aw.value(c.xs[n])))
	}
	return fmt.Sprintf("No power law is fitted (%s); %s: %s.", why, mw.subject, strings.Join(parts, "; "))
}

// step is the largest change of a curve between two neighbouring points.
type step struct {
	c      *curve
	i      int     // the change is from point i to i+1
	factor float64 // how many times larger the larger is; +Inf from zero
}

// steepest returns the largest change of c between neighbouring points.
func steepest(c *curve) step {
	best := step{c: c, i: -1}
	for i := 0; i+1 < len(c.med); i++ {
		a, b := c.med[i], c.med[i+1]
		f := math.Max(a, b) / math.Min(a, b)
		if math.Min(a, b) <= 0 {
			f = math.Inf(1)
			if a == b {
				f = 1
			}
		}
		if best.i < 0 || f > best.factor {
			best = step{c: c, i: i, factor: f}
		}
	}
	return best
}

// shapeSentence says where a curve that is not one power law changes
// most, when one changes tenfold or more between two neighbouring points;
// otherwise how far apart the topologies are at the largest value of the
// axis.
func (in *sweepInput) shapeSentence(mw metricWords, aw axisWords, shown []panel, all [][]*curve) string {
	if len(all) > 1 {
		if s := in.edgeSentence(mw, aw, shown, all); s != "" {
			return s
		}
		return in.contrastSentence(mw, aw, all[len(all)-1], in.panelLabel(shown[len(shown)-1]))
	}
	// The curves that are not one power law and jump tenfold or more
	// between two neighbouring points, the largest jumps first.
	var jumps []step
	for _, c := range all[0] {
		s := steepest(c)
		clean := c.fit != nil && c.fit.R2 != nil && *c.fit.R2 >= 0.95
		if s.i >= 0 && s.factor >= 10 && !clean {
			jumps = append(jumps, s)
		}
	}
	if len(jumps) == 0 {
		return in.contrastSentence(mw, aw, all[0], "")
	}
	slices.SortStableFunc(jumps, func(a, b step) int { return cmpFloat(b.factor, a.factor) })
	var parts []string
	for _, j := range jumps[:min(2, len(jumps))] {
		c, i := j.c, j.i
		s := fmt.Sprintf("%s's, from %s at %s %s to %s at %s", c.topology, mw.value(c.med[i]), aw.short, aw.value(c.xs[i]), mw.value(c.med[i+1]), aw.value(c.xs[i+1]))
		switch last := len(c.xs) - 1; {
		case i+1 == last:
		case mw.value(c.med[last]) == mw.value(c.med[i+1]):
			s += fmt.Sprintf(", where it stays up to %s", aw.value(c.xs[last]))
		default:
			s += fmt.Sprintf(", then %s at %s", mw.value(c.med[last]), aw.value(c.xs[last]))
		}
		parts = append(parts, s)
	}
	if len(parts) == 1 {
		return "The sharpest change is " + parts[0] + "."
	}
	return "The sharpest changes are " + strings.Join(parts, "; and ") + "."
}

// nearlyFlat reports whether c's median stays within half again of its
// least (and is not zero anywhere).
func nearlyFlat(c *curve) bool {
	lo, hi := slices.Min(c.med), slices.Max(c.med)
	return lo > 0 && hi/lo <= 1.5
}

// edgeSentence says, for the topology whose largest change between two
// neighbouring points is the largest, where that change comes in each
// panel in which it is tenfold or more: how an edge moves with the other
// axes. Empty when no change is that large.
func (in *sweepInput) edgeSentence(mw metricWords, aw axisWords, shown []panel, all [][]*curve) string {
	topo, most := "", 0.0
	for _, cs := range all {
		for _, c := range cs {
			if s := steepest(c); s.i >= 0 && s.factor >= 10 && s.factor > most {
				topo, most = c.topology, s.factor
			}
		}
	}
	if topo == "" {
		return ""
	}
	var where []string
	for k, cs := range all {
		i := slices.IndexFunc(cs, func(c *curve) bool { return c.topology == topo })
		if i < 0 {
			continue
		}
		if s := steepest(cs[i]); s.i >= 0 && s.factor >= 10 {
			c := cs[i]
			where = append(where, fmt.Sprintf("between %s and %s (%s to %s) at %s", aw.value(c.xs[s.i]), aw.value(c.xs[s.i+1]),
				mw.value(c.med[s.i]), mw.value(c.med[s.i+1]), in.panelLabel(shown[k])))
		}
	}
	return fmt.Sprintf("%s's largest change between neighbouring values of the %s comes %s.", upperFirst(topo), aw.short, strings.Join(where, "; "))
}

// contrastSentence compares the topologies at the largest value of the
// axis that most of them ran: the most and the least, and how many times
// apart.
func (in *sweepInput) contrastSentence(mw metricWords, aw axisWords, cs []*curve, where string) string {
	at := map[float64]int{}
	for _, c := range cs {
		for _, x := range c.xs {
			at[x]++
		}
	}
	x, n := 0.0, 0
	for v, k := range at {
		if k > n || k == n && v > x {
			x, n = v, k
		}
	}
	type value struct {
		topo string
		v    float64
	}
	var vs []value
	for _, c := range cs {
		if i := slices.Index(c.xs, x); i >= 0 {
			vs = append(vs, value{c.topology, c.med[i]})
		}
	}
	prefix := "At " + aw.short + " " + aw.value(x)
	if where != "" {
		prefix += " (" + where + ")"
	}
	if len(vs) == 1 {
		return fmt.Sprintf("%s, %s has %s.", prefix, vs[0].topo, mw.value(vs[0].v))
	}
	lo := slices.MinFunc(vs, func(a, b value) int { return cmpFloat(a.v, b.v) })
	hi := slices.MaxFunc(vs, func(a, b value) int { return cmpFloat(a.v, b.v) })
	switch {
	case hi.v == lo.v:
		return fmt.Sprintf("%s, every topology has %s.", prefix, mw.value(hi.v))
	case lo.v <= 0:
		return fmt.Sprintf("%s, %s has the most, %s, while %s has 0.", prefix, hi.topo, mw.value(hi.v), lo.topo)
	case hi.v/lo.v < 1.01:
		return fmt.Sprintf("%s, the topologies are within 1%% of one another, from %s (%s) to %s (%s).", prefix, mw.value(lo.v), lo.topo, mw.value(hi.v), hi.topo)
	case hi.v/lo.v < 1.5:
		return fmt.Sprintf("%s, the topologies are within %.0f%% of one another, from %s (%s) to %s (%s).", prefix, (hi.v/lo.v-1)*100, mw.value(lo.v), lo.topo, mw.value(hi.v), hi.topo)
	}
	return fmt.Sprintf("%s, %s has the most, %s, and %s the least, %s: a factor of %s.", prefix, hi.topo, mw.value(hi.v), lo.topo, mw.value(lo.v), number(math.Round(hi.v/lo.v)))
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
