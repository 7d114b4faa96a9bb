package plot

import (
	"fmt"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"github.com/stampsim/stampsim/reports"
)

// columns is how many columns a time series is decimated to: about one per
// pixel of a panel's width.
const columns = 1000

// track is one topology's line in a time-series panel.
type track struct {
	run  *reports.Run
	ys   []float64
	step float64
}

// shown returns the samples of t inside the time axis' span.
func (in *input) shown(t track) []float64 {
	lo, hi := in.time.window(len(t.ys), t.step)
	return t.ys[lo:hi]
}

// yAxis says how a panel's y axis is labelled and scaled.
type yAxis struct {
	label string
	ticks func(float64) string
	// linear keeps the axis linear however the values spread; fixed, when
	// positive, is its top whatever the values (utilisation: 100%, so
	// that a store 6% busy looks it).
	linear bool
	fixed  float64
}

// linesPanel draws tracks as lines, one per topology in its colour, on a
// log y axis (zeros on its floor) when their peaks spread widely, else on
// a linear one from zero. It reports whether the axis is a log one.
func (in *input) linesPanel(title string, y yAxis, tracks []track) (*gplot.Plot, bool, error) {
	p := newPanel(title, "", y.label)
	p.Add(in.faultBands(), grid(true))
	var peaks []float64
	lo := math.Inf(1)
	for _, t := range tracks {
		vs := in.shown(t)
		peaks = append(peaks, peak(vs))
		lo = math.Min(lo, minPositive(vs))
	}
	hi := peak(peaks)
	sc := linear
	if !y.linear && wantLog(peaks) {
		sc = logScale(lo)
	}
	for _, t := range tracks {
		xys := in.time.points(t.ys, t.step, columns, sc.at)
		if len(xys) == 0 {
			continue
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, false, err
		}
		l.LineStyle = in.pal.line(t.run.Topology)
		p.Add(l)
	}
	// The axes are set after the lines, which would widen them to the data.
	in.time.apply(p)
	if sc.log {
		p.Y.Label.Text += " (log)"
	} else if y.fixed > 0 {
		hi = y.fixed / 1.05
	}
	sc.set(&p.Y, hi, y.ticks)
	return p, sc.log, nil
}

// topologyLegend is a legend entry per run, in run order, with the
// topology's line style.
func (in *input) topologyLegend(runs []*reports.Run) []legendEntry {
	var out []legendEntry
	for _, r := range runs {
		l := in.pal.line(r.Topology)
		out = append(out, legendEntry{label: r.Topology, line: &l})
	}
	return out
}

// topologyBoxes is a legend entry per run, in run order, with a box in
// the topology's colour, for bar charts.
func (in *input) topologyBoxes(runs []*reports.Run) []legendEntry {
	var out []legendEntry
	for _, r := range runs {
		out = append(out, legendEntry{label: r.Topology, fill: in.pal.colours[r.Topology]})
	}
	return out
}

// seriesRuns are the runs with time series.
func (in *input) seriesRuns() []*reports.Run {
	var out []*reports.Run
	for _, r := range in.runs {
		if hasSeries(r) {
			out = append(out, r)
		}
	}
	return out
}

// spanNote says what the time axis leaves out: the quiet time before and
// after the activity, and the drain of runs that went on past the
// scenario's end while still active; and which runs' series were
// coarsened, so that their steps are wider. Empty when there is nothing
// to say.
func (in *input) spanNote(runs []*reports.Run) string {
	t := in.time
	var notes []string
	if t.startMs > 0 || t.endMs < t.durationMs {
		notes = append(notes, fmt.Sprintf("Shown from %s to %s of the scenario's %s: the time when requests arrived, upstream calls started, stores were used or locks contended.",
			at(t.startMs), at(t.endMs), at(t.durationMs)))
	}
	var cut []string
	for _, r := range runs {
		if _, last, ok := runActivity(r); ok && last > t.endMs*1.001 {
			cut = append(cut, fmt.Sprintf("%s (to %s)", r.Topology, at(last)))
		}
	}
	if len(cut) > 0 {
		notes = append(notes, "Not shown: "+join(cut)+", still busy past the scenario's end, draining.")
	}
	var coarse []string
	for _, r := range runs {
		if s := r.Series; s != nil && s.Coarsened > 0 {
			coarse = append(coarse, fmt.Sprintf("%s to %s", r.Topology, ms(stepMs(s))))
		}
	}
	if len(coarse) > 0 {
		notes = append(notes, fmt.Sprintf("Series longer than %s samples were coarsened to wider steps (%s): a sample's peak is the most of the steps it merged.",
			count(reports.MaxSeriesSamples), join(coarse)))
	}
	return joinNotes(notes...)
}

// joinNotes joins the notes that are not empty with a space.
func joinNotes(notes ...string) string {
	out := ""
	for _, n := range notes {
		if n == "" {
			continue
		}
		if out != "" {
			out += " "
		}
		out += n
	}
	return out
}
