package reports

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
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
//	served_KIND                replies by kind: hit, collapsed, fetched, hedged, stale, error
//	errors                     requests answered with an error
//	latency_p50_ms             median latency of the requests answered in the step
//	latency_p99_ms             99th percentile of the same
//
// Rows go run by run, metric by metric, sample by sample. A metric whose
// series is empty (a v1 document read by ReadJSON has only some) has no
// rows, and runs without a series are left out.
func WriteSeriesCSV(w io.Writer, runs []Run) error {
	bw := bufio.NewWriter(w)
	cw := csv.NewWriter(bw)
	if err := cw.Write([]string{"topology", "time_ms", "metric", "value"}); err != nil {
		return err
	}
	for _, r := range runs {
		if r.Series == nil {
			continue
		}
		for _, m := range seriesMetrics(&r) {
			for i := range m.n {
				at := strconv.FormatFloat(float64(i)*r.Series.StepMs, 'f', -1, 64)
				if err := cw.Write([]string{r.Topology, at, m.name, m.value(i)}); err != nil {
					return err
				}
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// seriesMetric is one metric of WriteSeriesCSV: its name, how many samples
// it has, and sample i as text.
type seriesMetric struct {
	name  string
	n     int
	value func(i int) string
}

// seriesMetrics lists run r's series in the order WriteSeriesCSV writes
// them.
func seriesMetrics(r *Run) []seriesMetric {
	s := r.Series
	counts := func(name string, v []uint64) seriesMetric {
		return seriesMetric{name, len(v), func(i int) string { return strconv.FormatUint(v[i], 10) }}
	}
	floats := func(name string, v []float64) seriesMetric {
		return seriesMetric{name, len(v), func(i int) string { return strconv.FormatFloat(v[i], 'g', -1, 64) }}
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
		ms = append(ms, seriesMetric{"peak_contenders_" + name, len(peaks), func(i int) string { return strconv.Itoa(peaks[i]) }})
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
		counts("errors", s.Errors),
		floats("latency_p50_ms", s.LatencyP50Ms),
		floats("latency_p99_ms", s.LatencyP99Ms),
	)
}
