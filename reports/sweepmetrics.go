package reports

import (
	"strings"

	"github.com/stampsim/stampsim/locks"
)

// Metric is one number a sweep's row holds of a run: a headline count of
// the results document, by name.
type Metric struct {
	// Name is the metric's name in the rows: "upstream_calls",
	// "peak_contenders_region", "latency_p99_ms".
	Name string `json:"name"`
	// Unit is what it counts or measures: "requests", "ms", "ops/s".
	Unit string `json:"unit"`
	// Doc says what it is, in a phrase, for legends and tables.
	Doc string `json:"doc"`

	of func(Run) (float64, bool) // the metric of a run, and whether it has one
}

// count is a metric that every run has.
func count(f func(Run) uint64) func(Run) (float64, bool) {
	return func(r Run) (float64, bool) { return float64(f(r)), true }
}

// latency is a latency metric, which a run has when some request
// finished.
func latency(f func(Latency) float64) func(Run) (float64, bool) {
	return func(r Run) (float64, bool) {
		return f(r.LatencyMs), r.Requests > r.Unfinished
	}
}

// SweepMetrics lists the metrics of a sweep's rows, in the order of the
// columns of rows.csv: the headline counts of every run, then per lock
// scope those of the level a topology has at that scope (absent for a
// topology without one), then the latencies and the simulator's own.
var SweepMetrics = sweepMetrics()

func sweepMetrics() []Metric {
	list := []Metric{
		{"requests", "requests", "requests that arrived", count(func(r Run) uint64 { return r.Requests })},
		{"upstream_calls", "calls", "upstream calls", count(func(r Run) uint64 { return r.UpstreamCalls })},
		{"duplicate_upstream_calls", "calls", "upstream calls for a key already being fetched or fresh in the region", count(func(r Run) uint64 { return r.DuplicateUpstreamCalls })},
		{"upstream_errors", "calls", "upstream calls that failed", count(func(r Run) uint64 { return r.UpstreamErrors })},
		{"store_ops", "round trips", "store round trips", count(func(r Run) uint64 { return r.StoreOps })},
		{"store_commands", "commands", "store commands", count(func(r Run) uint64 { return r.StoreCommands })},
		{"peak_store_ops_per_sec", "ops/s", "store round trips in the busiest second", count(func(r Run) uint64 { return r.PeakStoreOpsPerSec })},
		{"store_errors", "ops", "store operations that failed", count(func(r Run) uint64 { return r.StoreErrors })},
		{"leases_lost", "leases", "leases lost under a live holder", count(func(r Run) uint64 { return r.LeasesLost })},
		{"writes_refused", "writes", "writes the fences refused", count(func(r Run) uint64 { return r.WritesRefused })},
		{"unfinished", "requests", "requests still waiting when the run stopped", count(func(r Run) uint64 { return r.Unfinished })},
		{"errors", "requests", "requests answered with an error", count(func(r Run) uint64 { return r.Served.Error })},
		{"served_hit", "requests", "requests served from a cache", count(func(r Run) uint64 { return r.Served.Hit })},
		{"served_collapsed", "requests", "requests served by another request's fetch", count(func(r Run) uint64 { return r.Served.Collapsed })},
		{"served_fetched", "requests", "requests served by their own upstream call", count(func(r Run) uint64 { return r.Served.Fetched })},
		{"served_hedged", "requests", "requests served by a call made when a wait timed out", count(func(r Run) uint64 { return r.Served.Hedged })},
		{"served_stale", "requests", "requests served a stale value", count(func(r Run) uint64 { return r.Served.Stale })},
	}
	for c := range locks.NumCauses {
		cause := c.String()
		list = append(list, Metric{"upstream_calls_" + strings.ReplaceAll(cause, "-", "_"), "calls", "upstream calls made for cause " + cause,
			count(func(r Run) uint64 { return r.UpstreamCallsByCause[cause] })})
	}
	list = append(list, Metric{"peak_contenders_shared", "contenders", "most flights on one key at any shared lock level", sharedPeak})
	for s := locks.ScopeNode; s <= locks.ScopeGlobal; s++ {
		scope := s.String()
		what := "flights"
		if s == locks.ScopeNode {
			what = "requests"
		}
		list = append(list,
			Metric{"peak_contenders_" + scope, "contenders", "most " + what + " on one key at the " + scope + " lock", level(scope, func(l Level) float64 { return float64(l.PeakContenders) })},
			Metric{"acquisitions_" + scope, "locks", "locks taken at the " + scope + " level", level(scope, func(l Level) float64 { return float64(l.Acquisitions) })},
			Metric{"waits_" + scope, "waits", "waits at the " + scope + " level", level(scope, func(l Level) float64 { return float64(l.Waits) })},
			Metric{"timeouts_" + scope, "waits", "waits that timed out at the " + scope + " level", level(scope, func(l Level) float64 { return float64(l.Timeouts) })},
		)
	}
	lat := []struct {
		name string
		of   func(Latency) float64
	}{
		{"p50", func(l Latency) float64 { return l.P50 }}, {"p90", func(l Latency) float64 { return l.P90 }},
		{"p99", func(l Latency) float64 { return l.P99 }}, {"p999", func(l Latency) float64 { return l.P999 }},
		{"max", func(l Latency) float64 { return l.Max }}, {"mean", func(l Latency) float64 { return l.Mean }},
	}
	for _, l := range lat {
		list = append(list, Metric{"latency_" + l.name + "_ms", "ms", l.name + " latency of the requests that finished", latency(l.of)})
	}
	return append(list,
		Metric{"store_utilisation_max", "fraction", "the busiest store's share of the run spent serving", func(r Run) (float64, bool) {
			u := 0.0
			for _, s := range r.Stores {
				u = max(u, s.Utilisation)
			}
			return u, len(r.Stores) > 0
		}},
		Metric{"events", "events", "simulator events", count(func(r Run) uint64 { return r.Events })},
		Metric{"sim_seconds", "s", "simulated time, the drain included", func(r Run) (float64, bool) { return r.SimSeconds, true }},
	)
}

// level is a metric of the level at scope, which a run has when its
// topology has such a level.
func level(scope string, f func(Level) float64) func(Run) (float64, bool) {
	return func(r Run) (float64, bool) {
		for _, l := range r.Levels {
			if l.Scope == scope {
				return f(l), true
			}
		}
		return 0, false
	}
}

// sharedPeak is the most contenders at any shared level of the run.
func sharedPeak(r Run) (float64, bool) {
	peak, ok := 0, false
	for _, l := range r.Levels {
		if l.Scope != locks.ScopeNode.String() {
			peak, ok = max(peak, l.PeakContenders), true
		}
	}
	return float64(peak), ok
}

// RowMetrics returns run's value of each of SweepMetrics that it has.
func RowMetrics(run Run) map[string]float64 {
	m := make(map[string]float64, len(SweepMetrics))
	for _, metric := range SweepMetrics {
		if v, ok := metric.of(run); ok {
			m[metric.Name] = v
		}
	}
	return m
}
