package reports

import (
	"fmt"
	"slices"

	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/sweeps"
)

// DefaultFigureMetrics are the metrics a sweep's scaling figures show
// when its file does not choose: the write-up's headline costs, those the
// sweep's printed summary has too.
var DefaultFigureMetrics = []string{"upstream_calls", "store_ops", "peak_contenders_shared", "latency_p99_ms"}

// FigureMetrics returns the metrics the scaling figures of sw show, a
// figure each, in order: those of its figures block, or
// DefaultFigureMetrics.
func FigureMetrics(sw *sweeps.Sweep) []string {
	if sw.Figures != nil && len(sw.Figures.Metrics) > 0 {
		return sw.Figures.Metrics
	}
	return DefaultFigureMetrics
}

// MetricOf returns the metric called name, and whether SweepMetrics has
// one.
func MetricOf(name string) (Metric, bool) {
	k := slices.IndexFunc(SweepMetrics, func(m Metric) bool { return m.Name == name })
	if k < 0 {
		return Metric{}, false
	}
	return SweepMetrics[k], true
}

// CheckFigures returns, as mistakes of the sweep file at the line of each,
// the metrics its figures block names that are not metrics of a sweep's
// rows, with the closest name when one is close. Package sweeps reads the
// block but does not know the metrics, which live here; every way into a
// sweep's runs (runner.NewPlan) checks them before anything runs.
func CheckFigures(sw *sweeps.Sweep) error {
	if sw.Figures == nil {
		return nil
	}
	names := make([]string, len(SweepMetrics))
	for i, m := range SweepMetrics {
		names[i] = m.Name
	}
	var errs []*scenarios.Error
	for i, name := range sw.Figures.Metrics {
		if _, ok := MetricOf(name); ok || name == "" {
			continue
		}
		field := fmt.Sprintf("figures.metrics[%d]", i)
		if s := scenarios.Suggest(name, names); s != "" {
			errs = append(errs, sw.Errorf(field, "no metric %q (did you mean %s?)", name, s))
		} else {
			errs = append(errs, sw.Errorf(field, "no metric %q: want a column of rows.csv after the topology, such as upstream_calls, store_ops, peak_contenders_region or latency_p99_ms (sweeps/README.md lists them)", name))
		}
	}
	return scenarios.JoinErrors(errs)
}
