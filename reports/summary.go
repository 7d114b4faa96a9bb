package reports

import (
	"bufio"
	"encoding/csv"
	"io"
	"slices"
	"strconv"
)

// scopeOrder ranks the lock scopes innermost first, to order the per-level
// columns of the summary CSV as the topologies' levels are ordered.
var scopeOrder = map[string]int{"node": 0, "zone": 1, "region": 2, "global": 3}

// csvLevels names the lock levels of the runs, each once, innermost scope
// first and, within a scope, in the order they first appear.
func csvLevels(runs []Run) []string {
	type level struct {
		name  string
		scope int
	}
	var levels []level
	for _, r := range runs {
		for _, l := range r.Levels {
			if !slices.ContainsFunc(levels, func(x level) bool { return x.name == l.Name }) {
				rank, ok := scopeOrder[l.Scope]
				if !ok {
					rank = len(scopeOrder)
				}
				levels = append(levels, level{l.Name, rank})
			}
		}
	}
	slices.SortStableFunc(levels, func(a, b level) int { return a.scope - b.scope })
	names := make([]string, len(levels))
	for i, l := range levels {
		names[i] = l.name
	}
	return names
}

// exactMs formats milliseconds with every digit the document holds.
func exactMs(ms float64) string { return strconv.FormatFloat(ms, 'g', -1, 64) }

// WriteSummaryCSV writes the summary table as CSV, one row per run, for
// spreadsheets and scripts: the columns of the table, with their units in
// the header (p99_latency_ms, peak_store_ops_per_s), and these differences:
// the topology is its name alone, with "interrupted" (true or false) beside
// it; the peak contenders have a column per lock level
// (peak_contenders_node, ...), empty for a topology without that level;
// latencies have every digit the document holds; and the fencing and lease
// counts are always there, zero or not.
func WriteSummaryCSV(w io.Writer, runs []Run) error {
	levels := csvLevels(runs)
	header := []string{"topology", "interrupted"}
	for _, c := range columns[1:] {
		if c.perLevel {
			for _, l := range levels {
				header = append(header, c.csv+"_"+l)
			}
			continue
		}
		header = append(header, c.csv)
	}
	bw := bufio.NewWriter(w)
	cw := csv.NewWriter(bw)
	if err := cw.Write(header); err != nil {
		return err
	}
	for i := range runs {
		r := &runs[i]
		row := []string{r.Topology, strconv.FormatBool(r.Interrupted)}
		for _, c := range columns[1:] {
			switch {
			case c.perLevel:
				for _, name := range levels {
					cell := ""
					if j := slices.IndexFunc(r.Levels, func(l Level) bool { return l.Name == name }); j >= 0 {
						cell = strconv.Itoa(r.Levels[j].PeakContenders)
					}
					row = append(row, cell)
				}
			case c.csvText != nil:
				row = append(row, c.csvText(r))
			default:
				row = append(row, c.cell(r))
			}
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}
