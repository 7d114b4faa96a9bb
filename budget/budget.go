// Package budget estimates what a run of a scenario will cost before it
// runs: how many requests it makes, how many simulator events it handles
// and how much memory it holds at its peak, per lock topology. Limits
// (Limits.Check) turn an input that would exhaust the machine's memory or
// run for days into an error naming the field to change, before anything
// runs; Watch stops a run that outgrows its memory anyway with an error,
// not a runtime crash.
//
// The estimate is a function of the scenario alone (Estimate), so that a
// command running many scenarios, such as a parameter sweep, can call it
// for each one. It is an upper bound for the inputs that exhaust memory,
// stampedes, and generous elsewhere: each constant below says what it was
// measured on.
package budget

import (
	"fmt"
	"math"
	"time"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/workloads"
)

// What the simulator holds, in bytes of heap, measured with the live heap
// of GODEBUG=gctrace=1 and the peak RSS of /usr/bin/time -v (go1.26,
// amd64) on scenarios made to isolate each term.
const (
	// baseBytes is a run of one request on one node: the runtime, the
	// histograms, the engine at rest (12 MB of RSS).
	baseBytes = 32 << 20
	// nodeBytes is one node at rest: its machine, key table and timers
	// (1,000,000 nodes: 2.6 GB of live heap, 1.7 GB of RSS).
	nodeBytes = 2800
	// storeBytes is one store, of every zone and region and the global
	// one, whatever the topology: mostly its histogram of queue waits
	// (hdrhistogram, 3 significant digits up to an hour: 23,552
	// counters).
	storeBytes = 200_000
	// keyBytes is one key of the workload: its name and its entry in the
	// key tables (10,000,000 keys: 228 MB).
	keyBytes = 32
	// flightBytes is one flight in flight without a shared level: the
	// flight, its upstream call, its events (a stampede of 1,000,000
	// requests on none: 305 MB live, 439 MB RSS; 2,000,000 requests of
	// steady traffic over 1,000,000 keys on node-only: 787 MB live).
	flightBytes = 400
	// levelFlightBytes is what each shared level adds to a flight: its
	// operation in flight, deadline timer and subscription (the
	// one-level and global stampedes of 1,000,000 requests: 628 MB live,
	// 1.0 GB RSS).
	levelFlightBytes = 250
	// waiterBytes is one request waiting on a node-level flight: its
	// entry in the flight's waiter list, with the slack of the list's
	// growth (the two-level stampede of 10,000,000 requests: 318 MB).
	waiterBytes = 32
	// entryBytes is one key held by a node cache or a store.
	entryBytes = 100
	// seriesValueBytes is one sample of one series of one run, kept for
	// --out and written as JSON and CSV: 8 bytes held, and what encoding
	// the whole results document takes at once (900s of 10ms samples,
	// 90,000 of each series: 120 MB of RSS on two-level's 18 series, 665
	// MB for the 105 of the six built-in topologies, 74 and 70 B a
	// value).
	seriesValueBytes = 80
	// seriesFixed is how many series every run has, whatever its levels
	// (reports.Series): requests, upstream calls and calls in flight,
	// store operations, waiting, errors, six by how requests were served,
	// latency p50 and p99.
	seriesFixed = 14
)

// drain bounds how long a run goes on past the scenario's duration so that
// requests in flight finish (world.Options.DrainLimit's default).
const drain = time.Minute

// Cost is what running a scenario costs, for each topology it runs.
type Cost struct {
	Scenario string  `json:"scenario"`
	Duration string  `json:"duration"`
	Nodes    int     `json:"nodes"`
	Keys     int     `json:"keys"`
	Requests float64 `json:"requests"` // per topology
	// Runs has one estimate per topology, in the order given.
	Runs []RunCost `json:"runs"`

	sc     *scenarios.Scenario
	series bool
}

// RunCost is what running one topology costs.
type RunCost struct {
	Topology string `json:"topology"`
	// Events is the simulator events the run handles, at most: every
	// request arriving, and every flight waiting at every shared level
	// for as long as its wait timeout lets it, polling.
	Events float64 `json:"events"`
	// MemoryBytes is the heap the run holds at its peak, at most: every
	// flight in flight at once, as in a stampede the upstream cannot keep
	// up with, where a topology without a node level keeps every request
	// in flight.
	MemoryBytes float64 `json:"memory_bytes"`
	// InFlight is the requests in flight at once, at most: every burst,
	// and the steady traffic for as long as a request lives, or all of it
	// when the upstream or a store cannot keep up.
	InFlight float64 `json:"in_flight"`

	inFlightField string // the field that makes most of InFlight

	pollEvents  float64 // of Events, those of waiters' polls
	pollField   string  // the poll_interval setting that makes them
	flightBytes float64 // of MemoryBytes, that of flights and waiters
	entryBytes  float64 // of MemoryBytes, that of keys held by caches and stores
	seriesBytes float64 // of MemoryBytes, that of the series, this run's and those before
	ownSeries   float64 // of seriesBytes, this run's
	nodeLevel   bool
}

// Options says how the scenario is run.
type Options struct {
	// Series is whether the time series are kept (stampsim run --out),
	// at the scenario's step (scenarios.Scenario.Step).
	Series bool
}

// Estimate returns what running sc on each of topos costs. sc must have
// been loaded by package scenarios (defaults filled in, validated), and
// each topology resolved from it.
func Estimate(sc *scenarios.Scenario, topos []locks.Topology, opt Options) Cost {
	c := Cost{
		Scenario: sc.Name, Duration: Duration(sc.Duration.D()), Nodes: sc.Shape().Nodes(), Keys: sc.Workload.Keys,
		Requests: math.Ceil(requests(sc)), sc: sc, series: opt.Series,
	}
	for _, t := range topos {
		c.Runs = append(c.Runs, c.run(t))
	}
	return c
}

// requests is the scenario's requests: the steady rate over the duration
// (the mean of its Poisson count) and every burst.
func requests(sc *scenarios.Scenario) float64 {
	n := sc.Workload.Rate * sc.Duration.D().Seconds()
	for _, b := range sc.Workload.Bursts {
		n += float64(b.Requests)
	}
	return n
}

func (c Cost) run(t locks.Topology) RunCost {
	sc := c.sc
	r := RunCost{Topology: t.Name, nodeLevel: len(t.Levels) > 0 && t.Levels[0].Scope == locks.ScopeNode}
	reqs := c.Requests
	pairs := float64(c.Nodes) * float64(c.Keys) // (node, key): what a node level collapses requests onto
	r.InFlight, r.inFlightField = c.inFlight(t, r.nodeLevel, pairs)
	r.InFlight = math.Ceil(r.InFlight)

	// Flights: without a node level each request is one; with one, a
	// node's requests for a key share one.
	peak, total := r.InFlight, reqs
	if r.nodeLevel {
		peak = math.Min(peak, pairs)
		if ttl := sc.Cache.NodeTTL.D(); ttl > 0 {
			// A key's flight on a node comes back once its value has
			// expired from the node's cache.
			total = math.Min(reqs, pairs*(1+math.Ceil(sc.Duration.D().Seconds()/ttl.Seconds())))
		}
	}

	perFlight := 1.0 // the upstream call's end
	var pollsPerFlight, mostPolls float64
	shared := 0.0
	upstream := upstreamP99(sc)
	entries := math.Min(pairs, reqs) // node caches
	for i, l := range t.Levels {
		if !l.Scope.Shared() {
			continue
		}
		shared++
		polls := polls(l)
		pollsPerFlight += 2 * polls // to the store and back
		if polls > mostPolls {
			mostPolls, r.pollField = polls, pollField(sc, t.Name, i)
		}
		// A read-or-acquire and a publish (an event to reach the store
		// and one for the reply each), a notification, and the lease's
		// renewals while the upstream call runs.
		perFlight += 2*2 + 1
		if !l.NoRenew {
			perFlight += 2 * math.Ceil(upstream.Seconds()/(l.LeaseTTL.Seconds()/3))
		}
		entries += float64(stores(sc, l.Scope)) * math.Min(float64(c.Keys), reqs)
	}
	// Polls wait for their reply before polling again, so the stores'
	// speed bounds them too (a poll costs at least the two commands of a
	// read).
	r.pollEvents = total * pollsPerFlight
	if op := sc.Store.OpOverhead.D() + 2*sc.Store.ServiceTime.D(); op > 0 && shared > 0 {
		served := 0.0
		for _, l := range t.Levels {
			if l.Scope.Shared() {
				served += float64(stores(sc, l.Scope)) * (sc.Duration.D() + drain).Seconds() / op.Seconds()
			}
		}
		r.pollEvents = math.Min(r.pollEvents, 2*served)
	}
	r.Events = math.Ceil(reqs + total*perFlight + r.pollEvents)

	r.flightBytes = peak * (flightBytes + shared*levelFlightBytes)
	if r.nodeLevel {
		r.flightBytes += r.InFlight * waiterBytes
	}
	if c.series {
		// The results document holds the series of every run so far.
		r.ownSeries = seriesSamples(sc) * float64(seriesCount(t)) * seriesValueBytes
		r.seriesBytes = r.ownSeries
		for _, before := range c.Runs {
			r.seriesBytes += before.ownSeries
		}
	}
	r.entryBytes = entries * entryBytes
	allStores := stores(sc, locks.ScopeZone) + stores(sc, locks.ScopeRegion) + 1
	r.MemoryBytes = baseBytes + float64(c.Nodes)*nodeBytes + float64(allStores)*storeBytes + float64(c.Keys)*keyBytes +
		r.entryBytes + r.flightBytes + r.seriesBytes
	return r
}

// seriesSamples is how many samples each series of a run of sc holds at
// most: one per step over the duration and the drain, and never more than
// the cap (past which they coarsen, in the same memory).
func seriesSamples(sc *scenarios.Scenario) float64 {
	return math.Min(reports.MaxSeriesSamples, math.Ceil((sc.Duration.D()+drain).Seconds()/sc.Step().Seconds())+1)
}

// seriesCount is how many series a run of t has: the fixed ones, one of
// contenders per level, and the operations and utilisation of each store
// scope of its shared levels.
func seriesCount(t locks.Topology) int {
	n := seriesFixed + len(t.Levels)
	for _, l := range t.Levels {
		if l.Scope.Shared() {
			n += 2
		}
	}
	return n
}

// inFlight bounds the requests in flight at once on topology t, and names
// the field that makes most of them. Every burst may be in flight at once
// (a stampede). The steady traffic is in flight for as long as a request
// lives (Little's law), unless the upstream or a store cannot keep up with
// it: then the requests in flight grow for as long as the traffic lasts,
// and all of them may be in flight at the end.
func (c Cost) inFlight(t locks.Topology, nodeLevel bool, pairs float64) (float64, string) {
	sc := c.sc
	rate := sc.Workload.Rate
	steady := rate * sc.Duration.D().Seconds()
	field, most := "workload.rate", steady
	n := 0.0
	for i, b := range sc.Workload.Bursts {
		n += float64(b.Requests)
		if float64(b.Requests) > most {
			field, most = fmt.Sprintf("workload.bursts[%d].requests", i), float64(b.Requests)
		}
	}
	if rate == 0 {
		return n, field
	}
	// The rate that reaches past the node level: a node's requests for a
	// key stop at its cache for node_ttl after each miss.
	reach := rate
	if ttl := sc.Cache.NodeTTL.D(); nodeLevel && ttl > 0 {
		reach = math.Min(rate, pairs/ttl.Seconds())
	}
	lives := sc.Store.ConnectTimeout.D() // a store that fails takes this long to say so
	up := reach                          // the rate of upstream calls
	melts := false
	for _, l := range t.Levels {
		lives += l.WaitTimeout
		if !l.Scope.Shared() {
			continue
		}
		// Every request that reaches a store reads it at least once.
		perStore := reach / float64(stores(sc, l.Scope))
		busy := perStore * (sc.Store.OpOverhead.D() + 2*sc.Store.ServiceTime.D()).Seconds()
		melts = melts || busy >= 1
		up = math.Min(up, float64(stores(sc, l.Scope))*float64(c.Keys)/sc.Cache.SharedTTL.D().Seconds())
	}
	load := 0.0 // the upstream's load: calls in flight over its capacity
	if capacity := sc.Upstream.Capacity; capacity > 0 {
		d, _ := workloads.FromSpec(sc.Upstream.Latency)
		load = up * d.Mean().Seconds() / float64(capacity)
	}
	if melts || load >= 1 {
		return n + steady, field
	}
	// Beyond its capacity, the upstream's latency grows with its load.
	lives += time.Duration(float64(upstreamP99(sc)) / (1 - load))
	return n + math.Min(steady, rate*lives.Seconds()), field
}

// polls is how many times a flight waiting at level l reads the store
// again before its wait times out: at every poll interval in poll mode,
// at intervals that double in notify mode (see docs/ARCHITECTURE.md,
// Notifications).
func polls(l locks.Level) float64 {
	ratio := l.WaitTimeout.Seconds() / l.PollInterval.Seconds()
	if l.Wake == locks.WakePoll {
		return math.Ceil(ratio) + 1
	}
	return math.Ceil(math.Log2(math.Max(ratio, 1))) + 2
}

// pollField names the setting that gives level i of topology name its
// poll interval: the custom level's own, or the locks block's.
func pollField(sc *scenarios.Scenario, name string, i int) string {
	for j, ct := range sc.CustomTopologies {
		if ct.Name == name && i < len(ct.Levels) && ct.Levels[i].PollInterval != 0 {
			return fmt.Sprintf("custom_topologies[%d].levels[%d].poll_interval", j, i)
		}
	}
	return "locks.poll_interval"
}

// stores is how many stores of scope the fleet has.
func stores(sc *scenarios.Scenario, scope locks.Scope) int {
	switch scope {
	case locks.ScopeZone:
		return sc.Topology.Regions * sc.Topology.ZonesPerRegion
	case locks.ScopeRegion:
		return sc.Topology.Regions
	}
	return 1
}

// upstreamP99 is the upstream's 99th percentile latency, slowed down by the
// worst upstream slowdown fault.
func upstreamP99(sc *scenarios.Scenario) time.Duration {
	d, err := workloads.FromSpec(sc.Upstream.Latency)
	if err != nil {
		return 0 // cannot happen for a loaded scenario
	}
	f := 1.0
	for _, fault := range sc.Faults {
		if fault.Kind == scenarios.FaultUpstreamSlowdown.String() {
			f = math.Max(f, fault.Factor)
		}
	}
	return time.Duration(float64(d.Quantile(0.99)) * f)
}
