// Package reports holds what a run produces and how it is written out: the
// results document (JSON, schema stampsim/results/v2; v1 documents still
// load), the time series (CSV, one row per sample), and the summary table
// the CLI prints.
//
// It must not run simulations or talk to stores: it only holds and formats
// numbers that others measured.
//
// A sweep's runs have their own document (SweepResults, schema
// stampsim/sweep/v1): a row per run with its headline counts, the rows as a
// tidy CSV, and the power laws fitted to them (arithmetic on the numbers,
// not a measurement).
package reports

import "github.com/stampsim/stampsim/scenarios"

// Schema names the version of the results document. v2 gave the series a
// step of their own (Series.StepMs, where v1 had one sample a second), the
// series v1 lacked, and the latency histogram.
const Schema = "stampsim/results/v2"

// SchemaV1 names the first version of the results document, which ReadJSON
// still reads (see there).
const SchemaV1 = "stampsim/results/v1"

// MaxSeriesSamples is the most samples a series holds: past it the step
// doubles and pairs of samples merge (Series.Coarsened), so that a series
// takes at most a few megabytes however long the run and fine the step.
const MaxSeriesSamples = 100_000

// Results is the results document: every run of one scenario.
type Results struct {
	Schema   string `json:"schema"`
	Scenario string `json:"scenario"`
	Seed     uint64 `json:"seed"`
	// Complete says that every topology of the scenario ran to its end.
	// An interrupted command writes the document with Complete false: Runs
	// then holds the topologies that finished, followed by the one that was
	// interrupted (marked [Run.Interrupted]) if it had started.
	Complete bool `json:"complete"`
	// Spec is the scenario as it ran, every default filled in, so the file
	// can be replayed.
	Spec      *scenarios.Scenario `json:"scenario_spec,omitempty"`
	Version   string              `json:"stampsim_version,omitempty"`
	Commit    string              `json:"commit,omitempty"`
	GoVersion string              `json:"go_version,omitempty"`
	Runs      []Run               `json:"runs"`
}

// Served counts replies by how they were served.
type Served struct {
	Hit       uint64 `json:"hit"`
	Collapsed uint64 `json:"collapsed"`
	Fetched   uint64 `json:"fetched"`
	Hedged    uint64 `json:"hedged"`
	Stale     uint64 `json:"stale"`
	Error     uint64 `json:"error"`
	// Revalidating counts the values served past their soft TTL while a
	// background refresh ran (stale-while-revalidate); absent when none.
	Revalidating uint64 `json:"revalidating,omitempty"`
}

// Refreshes counts the background refreshes of a run (stale-while-revalidate
// and XFetch): those started, of which Early were started by an XFetch draw
// at a node cache and EarlyReads by a store that found a shared value due
// for an early refresh, and how they ended: Refreshed (the refresh called
// the upstream), Superseded (a shared cache already had a fresh value),
// Failed (the call failed, the wait timed out, or the run was aborted).
type Refreshes struct {
	Started    uint64 `json:"started"`
	Early      uint64 `json:"early,omitempty"`
	EarlyReads uint64 `json:"early_reads,omitempty"`
	Refreshed  uint64 `json:"refreshed"`
	Superseded uint64 `json:"superseded"`
	Failed     uint64 `json:"failed"`
}

// Level is what happened at one level of the topology, over all nodes.
type Level struct {
	Name         string `json:"name"`
	Scope        string `json:"scope"`
	Acquisitions uint64 `json:"acquisitions"`
	Waits        uint64 `json:"waits"`
	Timeouts     uint64 `json:"timeouts"`
	// PeakContenders is the most flights (node level: requests) that held or
	// waited for this level's lock on one key at one time.
	PeakContenders int `json:"peak_contenders"`
}

// Latency holds request latency percentiles in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// Store is what one simulated store server did.
type Store struct {
	Name     string `json:"name"`
	Scope    string `json:"scope"`
	Ops      uint64 `json:"ops"`
	Commands uint64 `json:"commands"`
	// Utilisation is the fraction of the run the server was busy.
	Utilisation float64 `json:"utilisation"`
	// QueueWaitMs is the time operations waited before service.
	QueueWaitMs QueueWait `json:"queue_wait_ms"`
	PeakQueue   int       `json:"peak_queue"`
}

// QueueWait holds queueing-delay figures in milliseconds.
type QueueWait struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

// Run is one topology's run of the scenario.
type Run struct {
	Topology string `json:"topology"`
	// Interrupted marks a run that was stopped part way, by a signal: its
	// counts cover the simulated time up to SimSeconds only, and it is
	// left out of the document (omitempty) when the run finished.
	Interrupted bool   `json:"interrupted,omitempty"`
	Requests    uint64 `json:"requests"`
	// Unfinished counts requests still waiting when the run stopped (the
	// drain after the scenario's duration has a limit).
	Unfinished             uint64            `json:"unfinished"`
	UpstreamCalls          uint64            `json:"upstream_calls"`
	UpstreamCallsByCause   map[string]uint64 `json:"upstream_calls_by_cause"`
	DuplicateUpstreamCalls uint64            `json:"duplicate_upstream_calls"`
	DuplicatesByCause      map[string]uint64 `json:"duplicates_by_cause"`
	UpstreamErrors         uint64            `json:"upstream_errors"`
	StoreOps               uint64            `json:"store_ops"`
	StoreCommands          uint64            `json:"store_commands"`
	StoreOpsByKind         map[string]uint64 `json:"store_ops_by_kind"`
	PeakStoreOpsPerSec     uint64            `json:"peak_store_ops_per_sec"`
	StoreErrors            uint64            `json:"store_errors"`
	LeasesLost             uint64            `json:"leases_lost"`
	WritesRefused          uint64            `json:"writes_refused"`
	Served                 Served            `json:"served"`
	// Refreshes is absent for a run without background refreshes.
	Refreshes *Refreshes `json:"refreshes,omitempty"`
	Levels    []Level    `json:"levels"`
	LatencyMs Latency    `json:"latency_ms"`
	// LatencyHistogramMs is the distribution of the finished requests'
	// latency in milliseconds, for CDF and CCDF figures. A run that keeps
	// its series (Series) has it, unless no request finished; others,
	// and v1 documents, do not.
	LatencyHistogramMs *Histogram `json:"latency_histogram_ms,omitempty"`
	Stores             []Store    `json:"stores,omitempty"`
	Events             uint64     `json:"events"`
	SimSeconds         float64    `json:"sim_seconds"`
	WallSeconds        float64    `json:"wall_seconds"`
	Series             *Series    `json:"series,omitempty"`
}

// Series holds a run's time series. Sample i covers simulated time
// [i*StepMs, (i+1)*StepMs) milliseconds; every slice has the same length.
type Series struct {
	// StepMs is the width of one sample in milliseconds.
	StepMs float64 `json:"step_ms"`
	// Coarsened says how many times the step was doubled during the run to
	// keep the series under its cap of samples, MaxSeriesSamples (0: never,
	// and StepMs is the step asked for; n: StepMs is 2^n times that).
	// Counts of merged samples are summed, peaks are the larger of the two,
	// and latency percentiles are the larger of the two (an upper bound,
	// not the merged samples' percentile). A store scope's utilisation is
	// the mean of the two: exact when the same store was the busiest in
	// both, an upper bound otherwise.
	Coarsened int `json:"coarsened,omitempty"`
	// Requests counts the requests that arrived in the step.
	Requests []uint64 `json:"requests"`
	// UpstreamCalls counts the upstream calls started in the step.
	UpstreamCalls []uint64 `json:"upstream_calls"`
	// UpstreamInFlight is the most upstream calls in flight at one time
	// during the step.
	UpstreamInFlight []uint64 `json:"upstream_in_flight"`
	// StoreOps counts the store round trips that reached a store in the
	// step, over all stores: the run's StoreOps, by when they arrived.
	StoreOps []uint64 `json:"store_ops"`
	// Stores holds the store series per store scope: one for each scope
	// of the topology's shared levels, inner scope first (the order of the
	// run's Stores).
	Stores []StoreSeries `json:"stores,omitempty"`
	// PeakContenders[l][i] is the most contenders on one key at level l in
	// step i (the node level: requests waiting for one node's flight).
	PeakContenders [][]int `json:"peak_contenders"`
	// Waiting is the most requests waiting for a reply at one time during
	// the step. A request that arrives at a paused node counts from when
	// the node resumes and handles it, as its latency does.
	Waiting []uint64 `json:"waiting"`
	// Served counts the replies of the step by how they were served.
	Served ServedSeries `json:"served"`
	// Errors counts the requests answered with an error in the step: the
	// same numbers as Served.Error, which v1 documents do not have.
	Errors []uint64 `json:"errors"`
	// LatencyP50Ms and LatencyP99Ms are the percentiles of the latency of
	// the requests answered in the step (0 when none was), to two
	// significant digits.
	LatencyP50Ms []float64 `json:"latency_p50_ms"`
	LatencyP99Ms []float64 `json:"latency_p99_ms"`
}

// StoreSeries is the load on the stores of one scope over time.
type StoreSeries struct {
	Scope string `json:"scope"`
	// Stores is how many store servers the scope has.
	Stores int `json:"stores"`
	// Ops counts the round trips that reached the scope's stores in the
	// step.
	Ops []uint64 `json:"ops"`
	// Utilisation is the busiest of the scope's stores in the step: the
	// fraction of the step it spent serving.
	Utilisation []float64 `json:"utilisation"`
}

// ServedSeries counts replies per step by how they were served.
type ServedSeries struct {
	Hit       []uint64 `json:"hit"`
	Collapsed []uint64 `json:"collapsed"`
	Fetched   []uint64 `json:"fetched"`
	Hedged    []uint64 `json:"hedged"`
	Stale     []uint64 `json:"stale"`
	Error     []uint64 `json:"error"`
	// Revalidating counts the replies served past their soft TTL while a
	// background refresh ran (stale-while-revalidate); absent for a run
	// whose topology has no hard TTL.
	Revalidating []uint64 `json:"revalidating,omitempty"`
}

// Histogram is a distribution in buckets: Counts[i] values fell in
// [Bounds[i], Bounds[i+1]); len(Bounds) is len(Counts)+1. The bounds grow
// geometrically, so the histogram covers microseconds to hours with a
// bounded relative error: for latencies in milliseconds they are the R20
// preferred numbers (1, 1.12, 1.25, 1.4, 1.6, 1.8, 2, ... 9 times a power of
// ten from 0.001 ms up, 12% apart), after a first bound of 0 for the
// latencies below a microsecond (a node-cache hit takes no simulated time).
// Empty buckets before the first value and after the last are left out.
type Histogram struct {
	Bounds []float64 `json:"bounds"`
	Counts []uint64  `json:"counts"`
}
