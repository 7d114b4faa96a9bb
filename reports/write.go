package reports

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// WriteJSON writes the results document as indented JSON followed by a
// newline. The output is deterministic: fields in declaration order, map
// keys sorted, no HTML escaping.
func WriteJSON(w io.Writer, r *Results) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("writing results of %q: %w", r.Scenario, err)
	}
	return nil
}

// ReadJSON reads a results document written by WriteJSON, and checks its
// schema.
//
// A document written before the complete field existed is read as complete
// when it holds a run for every topology of its scenario_spec: such
// documents held finished runs only (an interrupted run left out the
// topology it stopped in), so that count is exactly what complete means.
func ReadJSON(r io.Reader) (*Results, error) {
	var doc struct {
		*Results
		// Complete shadows Results.Complete, to tell a document without
		// the field from one that says false.
		Complete *bool `json:"complete"`
	}
	doc.Results = new(Results)
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("reading results: %w", err)
	}
	res := doc.Results
	if res.Schema != Schema {
		return nil, fmt.Errorf("reading results: schema %q, want %q", res.Schema, Schema)
	}
	if doc.Complete != nil {
		res.Complete = *doc.Complete
	} else {
		res.Complete = res.Spec != nil && len(res.Runs) == len(res.Spec.Topologies)
	}
	return res, nil
}

// The metrics of WriteSeriesCSV, besides one peak_contenders_LEVEL per
// level.
var seriesMetrics = []string{"requests", "upstream_calls", "store_ops", "errors", "latency_p99_ms"}

// WriteSeriesCSV writes the runs' per-second time series in long ("tidy")
// form, the shape that pandas, R, gnuplot and spreadsheets' pivot tables
// read without reshaping:
//
//	topology,second,metric,value
//	two-level,0,requests,51234
//
// second is the start of the one-second window of simulated time; the
// metrics are requests, upstream_calls, store_ops, errors, latency_p99_ms
// and, per level, peak_contenders_LEVEL (the level's name). Rows go run by
// run, metric by metric, second by second. Runs without a series are left
// out.
func WriteSeriesCSV(w io.Writer, runs []Run) error {
	bw := bufio.NewWriter(w)
	cw := csv.NewWriter(bw)
	if err := cw.Write([]string{"topology", "second", "metric", "value"}); err != nil {
		return err
	}
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	for _, r := range runs {
		s := r.Series
		if s == nil {
			continue
		}
		write := func(metric string, n int, value func(i int) string) error {
			for i := range n {
				if err := cw.Write([]string{r.Topology, strconv.Itoa(i), metric, value(i)}); err != nil {
					return err
				}
			}
			return nil
		}
		cols := []struct {
			n     int
			value func(int) string
		}{
			{len(s.Requests), func(i int) string { return u(s.Requests[i]) }},
			{len(s.UpstreamCalls), func(i int) string { return u(s.UpstreamCalls[i]) }},
			{len(s.StoreOps), func(i int) string { return u(s.StoreOps[i]) }},
			{len(s.Errors), func(i int) string { return u(s.Errors[i]) }},
			{len(s.LatencyP99Ms), func(i int) string { return strconv.FormatFloat(s.LatencyP99Ms[i], 'g', -1, 64) }},
		}
		for m, c := range cols {
			if err := write(seriesMetrics[m], c.n, c.value); err != nil {
				return err
			}
		}
		for l, peaks := range s.PeakContenders {
			name := fmt.Sprintf("level%d", l)
			if l < len(r.Levels) {
				name = r.Levels[l].Name
			}
			if err := write("peak_contenders_"+name, len(peaks), func(i int) string { return strconv.Itoa(peaks[i]) }); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}
