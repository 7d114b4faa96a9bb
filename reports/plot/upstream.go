package plot

import (
	"fmt"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/stampsim/stampsim/reports"
)

// logNote is the note of a figure with a log axis.
const logNote = "Log axes cannot show zero: zeros are drawn on the bottom line, labelled 0."

// upstreamFigure draws the upstream calls over time: started per second
// (what the origin sees arrive), in total so far and, when the series
// have them, in flight at once (how long and how hard the origin was
// kept busy), a line per topology.
func upstreamFigure(in *input) (*figure, error) {
	runs := in.seriesRuns()
	if len(runs) == 0 {
		return nil, nil
	}
	var rate, total, inFlight []track
	for _, r := range runs {
		s := r.Series
		step := stepMs(s)
		calls := floats(s.UpstreamCalls)
		perSec := make([]float64, len(calls))
		for i, c := range calls {
			perSec[i] = c * 1000 / step
		}
		rate = append(rate, track{run: r, ys: perSec, step: step})
		total = append(total, track{run: r, ys: cumulative(calls), step: step})
		if len(s.UpstreamInFlight) > 0 {
			inFlight = append(inFlight, track{run: r, ys: floats(s.UpstreamInFlight), step: step})
		}
	}
	step := stepMs(runs[0].Series)
	top, log1, err := in.linesPanel("Upstream calls started per second (counted in "+ms(step)+" steps)", yAxis{label: "calls/s", ticks: shortNum}, rate)
	if err != nil {
		return nil, err
	}
	bottom, log2, err := in.linesPanel("Upstream calls started so far", yAxis{label: "calls", ticks: shortNum}, total)
	if err != nil {
		return nil, err
	}
	rows := [][]*gplot.Plot{{top}, {bottom}}
	anyLog := log1 || log2
	if len(inFlight) > 0 {
		p, isLog, err := in.linesPanel("Upstream calls in flight (the most at once in each step)", yAxis{label: "calls", ticks: shortNum}, inFlight)
		if err != nil {
			return nil, err
		}
		rows = append(rows, []*gplot.Plot{p})
		anyLog = anyLog || isLog
	}
	note := joinNotes(in.faultsNote(), in.spanNote(runs))
	if anyLog {
		note = joinNotes(logNote, note)
	}
	return &figure{
		name:    "upstream",
		title:   "Upstream calls over time",
		caption: upstreamCaption(in, runs),
		height:  vg.Length(1.2+2.6*float64(len(rows))) * vg.Inch,
		legend:  append(in.topologyLegend(runs), in.faultLegend()...),
		rows:    rows,
		note:    note,
	}, nil
}

// upstreamCaption says how many upstream calls each topology made, when,
// and how many were in flight at once at most.
func upstreamCaption(in *input, runs []*reports.Run) string {
	var parts []string
	withFlight := false
	for _, r := range runs {
		s := r.Series
		first, last, ok := activeSpan(s.UpstreamCalls, stepMs(s))
		var part string
		switch {
		case !ok:
			part = r.Topology + " none"
		case last-first <= stepMs(s):
			part = fmt.Sprintf("%s %s at %s", r.Topology, count(r.UpstreamCalls), at(first))
		default:
			part = fmt.Sprintf("%s %s from %s", r.Topology, count(r.UpstreamCalls), span(first, last))
		}
		if n := uint64(peak(floats(s.UpstreamInFlight))); n > 1 {
			part += fmt.Sprintf(", %s at once", count(n))
			withFlight = true
		}
		parts = append(parts, part)
	}
	what := "Upstream calls started per second (top) and in total (bottom)"
	if withFlight {
		what = "Upstream calls started per second, in total, and in flight at once (bottom)"
	}
	return what + ", a line per topology: " + join(parts) + "."
}

// activeSpan is the start of the first and of the last step of vs that is
// not zero, in ms; ok is false when all are.
func activeSpan(vs []uint64, step float64) (first, last float64, ok bool) {
	i0, i1 := -1, -1
	for i, v := range vs {
		if v > 0 {
			if i0 < 0 {
				i0 = i
			}
			i1 = i
		}
	}
	if i0 < 0 {
		return 0, 0, false
	}
	return float64(i0) * step, float64(i1) * step, true
}
