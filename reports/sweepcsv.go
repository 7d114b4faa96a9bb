package reports

import (
	"bufio"
	"encoding/csv"
	"io"
	"strconv"
	"strings"

	"github.com/stampsim/stampsim/sweeps"
)

// WriteRowsCSV writes the sweep's rows as a tidy CSV, a row per run and a
// column per variable, the shape pandas, R and spreadsheets read as it is:
//
//	point,workload.bursts[0].requests,repeat,seed,topology,requests,upstream_calls,...
//	0,100,0,8214930622350829569,none,100,100,...
//
// point is the point's index in the grid; then a column per axis, named by
// its path, with the axis's number (durations in milliseconds, the column
// named PATH_ms) or, for an axis of text, its value; then the repeat, the
// seed and the topology; then a column for each of SweepMetrics, in order,
// empty where a run has no such metric (a level its topology lacks).
func WriteRowsCSV(w io.Writer, s *SweepResults) error {
	header := []string{"point"}
	for _, a := range s.Spec.Axes {
		header = append(header, axisColumn(a))
	}
	header = append(header, "repeat", "seed", "topology")
	for _, m := range SweepMetrics {
		header = append(header, m.Name)
	}
	return writeCSV(w, header, len(s.Rows), func(i int) []string {
		r := s.Rows[i]
		rec := []string{strconv.Itoa(r.Point)}
		for _, p := range r.Params {
			if p.Number != nil {
				rec = append(rec, formatNumber(*p.Number))
			} else {
				rec = append(rec, p.Value)
			}
		}
		rec = append(rec, strconv.Itoa(r.Repeat), strconv.FormatUint(r.Seed, 10), r.Topology)
		for _, m := range SweepMetrics {
			v, ok := r.Metrics[m.Name]
			if !ok {
				rec = append(rec, "")
				continue
			}
			rec = append(rec, formatNumber(v))
		}
		return rec
	})
}

// axisColumn names an axis's column: its path, with the unit of its
// numbers after it (_ms for a duration).
func axisColumn(a sweeps.Axis) string {
	if u := sweeps.Unit(a.Kind); u != "" {
		return a.Path + "_" + u
	}
	return a.Path
}

// WriteFitsCSV writes the sweep's fitted power laws, a row each:
//
//	topology,metric,axis,at,points,zeros,exponent,coefficient,r2,note
//	two-level,peak_contenders_region,workload.bursts[0].requests,,9,0,0,20,,the same at every point
//
// at holds the other axes' values ("path=value; path=value"); exponent,
// coefficient and r2 are empty where there was no fit (see Fit).
func WriteFitsCSV(w io.Writer, s *SweepResults) error {
	header := []string{"topology", "metric", "axis", "at", "points", "zeros", "exponent", "coefficient", "r2", "note"}
	opt := func(x *float64) string {
		if x == nil {
			return ""
		}
		return formatNumber(*x)
	}
	return writeCSV(w, header, len(s.Fits), func(i int) []string {
		f := s.Fits[i]
		return []string{f.Topology, f.Metric, f.Axis, strings.Join(paramTexts(f.At), "; "), strconv.Itoa(f.Points), strconv.Itoa(f.Zeros),
			opt(f.Exponent), opt(f.Coefficient), opt(f.R2), f.Note}
	})
}

// writeCSV writes header and n records.
func writeCSV(w io.Writer, header []string, n int, record func(i int) []string) error {
	bw := bufio.NewWriter(w)
	cw := csv.NewWriter(bw)
	if err := cw.Write(header); err != nil {
		return err
	}
	for i := range n {
		if err := cw.Write(record(i)); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// formatNumber writes a number in full and never in exponent form:
// 1000000, 3.512, 0.0021.
func formatNumber(x float64) string {
	return strconv.FormatFloat(x, 'f', -1, 64)
}
