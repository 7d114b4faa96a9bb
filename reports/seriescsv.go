package reports

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// WriteSeriesCSV writes the runs' time series in long ("tidy") form, the
// shape that pandas, R, gnuplot and spreadsheets' pivot tables read without
// reshaping:
//
//	topology,time_ms,metric,value
//	two-level,1005,upstream_in_flight,3
//
// time_ms is the start of the sample's step in simulated milliseconds
// (sample i starts at i*StepMs). The metrics, in the order written, are
// those of Series:
//
//	requests                   requests that arrived in the step
//	upstream_calls             upstream calls started in the step
//	upstream_in_flight         most upstream calls in flight at once
//	store_ops                  store round trips, all stores
//	store_ops_SCOPE            the same, for the stores of one scope (zone, region, global)
//	store_utilisation_SCOPE    busiest store of the scope: busy time / step
//	peak_contenders_LEVEL      most contenders on one key at the level (named as in levels)
//	waiting                    most requests waiting for a reply at once
//	served_KIND                replies by kind: hit, collapsed, fetched, hedged, stale, error,
//	                           revalidating (only with stale-while-revalidate)
//	errors                     requests answered with an error
//	latency_p50_ms             median latency of the requests answered in the step
//	latency_p99_ms             99th percentile of the same
//
// Rows go run by run, metric by metric, sample by sample. A metric whose
// series is empty (a v1 document read by ReadJSON has only some) has no
// rows, and runs without a series are left out.
func WriteSeriesCSV(w io.Writer, runs []Run) error {
	bw := bufio.NewWriter(w)
	if _, err := bw.WriteString("topology,time_ms,metric,value\n"); err != nil {
		return err
	}
	// A series of 100,000 samples is millions of rows: each is written
	// with appends into one buffer, the two text fields quoted (as
	// encoding/csv would) once per metric rather than once per row.
	var line []byte
	for _, r := range runs {
		if r.Series == nil {
			continue
		}
		topo, err := csvField(r.Topology)
		if err != nil {
			return err
		}
		for _, m := range seriesMetrics(&r) {
			metric, err := csvField(m.name)
			if err != nil {
				return err
			}
			for i := range m.n {
				line = append(line[:0], topo...)
				line = append(line, ',')
				line = strconv.AppendFloat(line, float64(i)*r.Series.StepMs, 'f', -1, 64)
				line = append(line, ',')
				line = append(line, metric...)
				line = append(line, ',')
				line = m.value(line, i)
				line = append(line, '\n')
				if _, err := bw.Write(line); err != nil {
					return err
				}
			}
		}
	}
	return bw.Flush()
}

// csvField returns s as encoding/csv writes it as one field of a record:
// quoted when it holds a comma, a quote or a line break.
func csvField(s string) (string, error) {
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	if err := cw.Write([]string{s}); err != nil {
		return "", err
	}
	cw.Flush()
	return strings.TrimSuffix(b.String(), "\n"), cw.Error()
}

// seriesMetric is one metric of WriteSeriesCSV: its name, how many samples
// it has, and a function that appends sample i to a line as text.
type seriesMetric struct {
	name  string
	n     int
	value func(line []byte, i int) []byte
}

// seriesMetrics lists run r's series in the order WriteSeriesCSV writes
// them.
func seriesMetrics(r *Run) []seriesMetric {
	s := r.Series
	counts := func(name string, v []uint64) seriesMetric {
		return seriesMetric{name, len(v), func(b []byte, i int) []byte { return strconv.AppendUint(b, v[i], 10) }}
	}
	floats := func(name string, v []float64) seriesMetric {
		return seriesMetric{name, len(v), func(b []byte, i int) []byte { return strconv.AppendFloat(b, v[i], 'g', -1, 64) }}
	}
	ms := []seriesMetric{
		counts("requests", s.Requests),
		counts("upstream_calls", s.UpstreamCalls),
		counts("upstream_in_flight", s.UpstreamInFlight),
		counts("store_ops", s.StoreOps),
	}
	for _, st := range s.Stores {
		ms = append(ms, counts("store_ops_"+st.Scope, st.Ops), floats("store_utilisation_"+st.Scope, st.Utilisation))
	}
	for l, peaks := range s.PeakContenders {
		name := fmt.Sprintf("level%d", l)
		if l < len(r.Levels) {
			name = r.Levels[l].Name
		}
		ms = append(ms, seriesMetric{"peak_contenders_" + name, len(peaks), func(b []byte, i int) []byte { return strconv.AppendInt(b, int64(peaks[i]), 10) }})
	}
	sv := s.Served
	return append(ms,
		counts("waiting", s.Waiting),
		counts("served_hit", sv.Hit),
		counts("served_collapsed", sv.Collapsed),
		counts("served_fetched", sv.Fetched),
		counts("served_hedged", sv.Hedged),
		counts("served_stale", sv.Stale),
		counts("served_error", sv.Error),
		counts("served_revalidating", sv.Revalidating),
		counts("errors", s.Errors),
		floats("latency_p50_ms", s.LatencyP50Ms),
		floats("latency_p99_ms", s.LatencyP99Ms),
	)
}
