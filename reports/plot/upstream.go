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
// (what the origin sees arrive) and in total so far, a line per topology.
func upstreamFigure(in *input) (*figure, error) {
	runs := in.seriesRuns()
	if len(runs) == 0 {
		return nil, nil
	}
	var rate, total []track
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
	note := in.spanNote(runs)
	if log1 || log2 {
		note = joinNotes(logNote, note)
	}
	return &figure{
		name:    "upstream",
		title:   "Upstream calls over time",
		caption: upstreamCaption(in, runs),
		height:  6.4 * vg.Inch,
		legend:  in.topologyLegend(runs),
		rows:    [][]*gplot.Plot{{top}, {bottom}},
		note:    note,
	}, nil
}

// upstreamCaption says how many upstream calls each topology made and
// when.
func upstreamCaption(in *input, runs []*reports.Run) string {
	var parts []string
	for _, r := range runs {
		first, last, ok := activeSpan(r.Series.UpstreamCalls, stepMs(r.Series))
		switch {
		case !ok:
			parts = append(parts, r.Topology+" none")
		case last-first <= stepMs(r.Series):
			parts = append(parts, fmt.Sprintf("%s %s at %s", r.Topology, count(r.UpstreamCalls), at(first)))
		default:
			parts = append(parts, fmt.Sprintf("%s %s from %s to %s", r.Topology, count(r.UpstreamCalls), at(first), at(last)))
		}
	}
	return "Upstream calls started per second (top) and in total (bottom), a line per topology: " + join(parts) + "."
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
