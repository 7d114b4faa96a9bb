package plot

import (
	"fmt"
	"strings"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/stampsim/stampsim/reports"
)

// scopes are the lock scopes, innermost first.
var scopes = []string{"node", "zone", "region", "global"}

// panelTitles say who contends at each scope's lock.
var panelTitles = map[string]string{
	"node":   "node lock: requests on one node waiting for its flight",
	"zone":   "zone lock: flights holding or waiting for it",
	"region": "region lock: flights holding or waiting for it",
	"global": "global lock: flights holding or waiting for it",
}

// levelOf is the index of r's level of scope, -1 when it has none.
func levelOf(r *reports.Run, scope string) int {
	for i, l := range r.Levels {
		if l.Scope == scope {
			return i
		}
	}
	return -1
}

// contendersFigure draws the contenders at each lock level over time: a
// panel per level, a line per topology that has it.
func contendersFigure(in *input) (*figure, error) {
	runs := in.seriesRuns()
	var panels []*gplot.Plot
	inLegend := map[string]bool{}
	anyLog := false
	var missing []string
	for _, sc := range scopes {
		var tracks []track
		for _, r := range runs {
			l := levelOf(r, sc)
			if l < 0 || l >= len(r.Series.PeakContenders) {
				continue
			}
			ys := floats(r.Series.PeakContenders[l])
			// A series of zeros for a level that had contenders did not
			// record them (v1 documents left the node level's empty): a
			// flat line would say there were none.
			if peak(ys) == 0 && r.Levels[l].PeakContenders > 0 {
				missing = append(missing, fmt.Sprintf("%s's %s lock", r.Topology, sc))
				continue
			}
			tracks = append(tracks, track{run: r, ys: ys, step: stepMs(r.Series)})
			inLegend[r.Topology] = true
		}
		if len(tracks) == 0 {
			continue
		}
		p, isLog, err := in.linesPanel(panelTitles[sc], yAxis{label: "contenders", ticks: shortNum}, tracks)
		if err != nil {
			return nil, err
		}
		anyLog = anyLog || isLog
		panels = append(panels, p)
	}
	if len(panels) == 0 {
		return nil, nil
	}
	// The legend names the topologies drawn, in run order.
	var legendRuns []*reports.Run
	for _, r := range runs {
		if inLegend[r.Topology] {
			legendRuns = append(legendRuns, r)
		}
	}
	rows, height := tiled(panels)
	note := joinNotes(in.faultsNote(), in.spanNote(legendRuns))
	if len(missing) > 0 {
		note = joinNotes(note, "Not drawn: "+join(missing)+", whose series are empty though the run had contenders (the document predates their recording).")
	}
	if anyLog {
		note = joinNotes(logNote, note)
	}
	return &figure{
		name:    "contenders",
		title:   "Lock contention over time: the most contenders on one key in each step",
		caption: contendersCaption(in),
		height:  height,
		legend:  append(in.topologyLegend(legendRuns), in.faultLegend()...),
		rows:    rows,
		note:    note,
	}, nil
}

// tiled lays panels out: one column for one or two, two columns beyond,
// and the figure height that gives each a readable size.
func tiled(panels []*gplot.Plot) ([][]*gplot.Plot, vg.Length) {
	if len(panels) <= 2 {
		rows := make([][]*gplot.Plot, len(panels))
		for i, p := range panels {
			rows[i] = []*gplot.Plot{p}
		}
		return rows, vg.Length(1.2+2.6*float64(len(panels))) * vg.Inch
	}
	var rows [][]*gplot.Plot
	for i := 0; i < len(panels); i += 2 {
		row := []*gplot.Plot{panels[i], nil}
		if i+1 < len(panels) {
			row[1] = panels[i+1]
		}
		rows = append(rows, row)
	}
	return rows, vg.Length(1.2+2.8*float64(len(rows))) * vg.Inch
}

// contendersCaption gives each level's peak contenders per topology, and
// names the fleet unit it equals when it does (20 at the region lock: the
// nodes of a region).
func contendersCaption(in *input) string {
	var levels []string
	for _, sc := range scopes {
		var parts []string
		for _, r := range in.runs {
			l := levelOf(r, sc)
			if l < 0 {
				continue
			}
			peak := r.Levels[l].PeakContenders
			part := fmt.Sprintf("%s %s", r.Topology, count(peak))
			if l > 0 {
				inner := r.Levels[l-1].Scope
				if n := in.fleet.within(inner, sc); n > 1 && peak == n {
					if sc == "global" {
						part += fmt.Sprintf(" (every %s)", inner)
					} else {
						part += fmt.Sprintf(" (every %s of the %s)", inner, sc)
					}
				}
			}
			parts = append(parts, part)
		}
		if len(parts) > 0 {
			levels = append(levels, sc+" lock: "+join(parts))
		}
	}
	if len(levels) == 0 {
		return ""
	}
	return "The most contenders on one key in each step, a panel per lock level. Peaks: " + strings.Join(levels, "; ") + "."
}
