package plot

import (
	"fmt"
	"math"
	"strings"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/stampsim/stampsim/reports"
)

// storeSeriesOf is r's store series of scope, nil when it has none.
func storeSeriesOf(r *reports.Run, scope string) *reports.StoreSeries {
	for i := range r.Series.Stores {
		if r.Series.Stores[i].Scope == scope {
			return &r.Series.Stores[i]
		}
	}
	return nil
}

// storeLoadFigure draws the load on the stores of each scope over time: a
// row per scope, with the round trips per second the scope's stores
// that reached the scope's stores beside the utilisation of the busiest
// of them.
func storeLoadFigure(in *input) (*figure, error) {
	runs := in.seriesRuns()
	var rows [][]*gplot.Plot
	drawn := map[string]bool{}
	anyLog := false
	var captions []string
	for _, sc := range scopes[1:] {
		var ops, util []track
		var parts []string
		for _, r := range runs {
			ss := storeSeriesOf(r, sc)
			if ss == nil {
				continue
			}
			drawn[r.Topology] = true
			step := stepMs(r.Series)
			perSec := floats(ss.Ops)
			for i := range perSec {
				perSec[i] *= 1000 / step
			}
			busy := make([]float64, len(ss.Utilisation))
			for i, u := range ss.Utilisation {
				busy[i] = math.Max(0, u)
			}
			ops = append(ops, track{run: r, ys: perSec, step: step})
			util = append(util, track{run: r, ys: busy, step: step})
			parts = append(parts, fmt.Sprintf("%s up to %s ops/s, the busiest store %s busy",
				r.Topology, count(uint64(math.Round(peak(perSec)))), percentLabel(peak(busy))))
		}
		if len(ops) == 0 {
			continue
		}
		left, isLog, err := in.linesPanel(sc+" stores: round trips arriving per second", yAxis{label: "round trips/s", ticks: shortNum}, ops)
		if err != nil {
			return nil, err
		}
		right, _, err := in.linesPanel(sc+" stores: the busiest one's utilisation",
			yAxis{label: "busy", ticks: percentLabel, linear: true, fixed: 1}, util)
		if err != nil {
			return nil, err
		}
		anyLog = anyLog || isLog
		rows = append(rows, []*gplot.Plot{left, right})
		captions = append(captions, sc+" stores: "+join(parts))
	}
	if len(rows) == 0 {
		return nil, nil
	}
	var legendRuns []*reports.Run
	for _, r := range runs {
		if drawn[r.Topology] {
			legendRuns = append(legendRuns, r)
		}
	}
	note := joinNotes(in.faultsNote(), in.spanNote(legendRuns))
	if anyLog {
		note = joinNotes(logNote, note)
	}
	step := stepMs(runs[0].Series)
	return &figure{
		name:  "store-load",
		title: "Store load over time, per store scope",
		caption: fmt.Sprintf("Store round trips arriving per second (in %s steps) and the utilisation of the busiest store, per scope: %s.",
			ms(step), strings.Join(captions, "; ")),
		height: vg.Length(1.2+2.5*float64(len(rows))) * vg.Inch,
		legend: append(in.topologyLegend(legendRuns), in.faultLegend()...),
		rows:   rows,
		note:   note,
	}, nil
}
