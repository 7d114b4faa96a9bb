// Package world is the simulated world: it runs one lock machine (package
// locks) per node on the virtual-clock engine (package sim), with simulated
// stores (one server each, FIFO queue, service time, key TTLs, release
// notifications), network latency, an upstream with limited capacity, a
// workload, and faults; and it counts what happened into a reports.Run.
//
// It is the simulator's driver of the lock protocol: it decides nothing about
// locking itself. It never reads the wall clock for anything but the run's
// wall_seconds, and it draws every random number from a stream of the run's
// seed, so a scenario and a seed give the same results every time.
package world

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/stampsim/stampsim/internal/counting"
	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/sim"
	"github.com/stampsim/stampsim/topology"
	"github.com/stampsim/stampsim/workloads"
)

// V is the simulated cache value: the serial number of the upstream call
// that produced it, so that tests can tell whose value was served.
type V = uint64

// Options adjusts a run.
type Options struct {
	// Progress, if set, is called from time to time with simulated time done
	// and the total.
	Progress func(done, total time.Duration)
	// Series turns on the time series in the Run (reports.Series), with
	// samples of the scenario's series step (scenarios.Scenario.Step), and
	// the latency histogram (reports.Run.LatencyHistogramMs).
	Series bool
	// OnRequest, if set, is told of every request as it arrives: when, at
	// which node (dense number, see topology.Shape) and for which key
	// (number). stampsim validate replays these against real drivers.
	OnRequest func(at time.Duration, node, key int)
	// UpstreamLatency, if set, replaces the draw of an upstream call's
	// latency (before slowdowns and the capacity penalty): the n-th call
	// (from 0) for key under lock instance lock takes
	// UpstreamLatency(lock, key, n). lock is LockInstance of the calling
	// node. Validation uses it to give the simulated and the real run the
	// same latency for the same call, whatever order calls come in and
	// whichever node of a region wins the lock.
	UpstreamLatency func(lock, key, n int) time.Duration
	// UpstreamErrorDraw, if set, replaces the draw that decides whether a
	// call during an upstream-errors fault fails: the n-th call for key
	// under lock instance lock (numbered as for UpstreamLatency) fails when
	// UpstreamErrorDraw(lock, key, n), in [0, 1), is below the fault's
	// rate. Validation uses it so that both sides fail the same calls.
	UpstreamErrorDraw func(lock, key, n int) float64
	// DrainLimit is how long past the scenario's duration the run goes on,
	// with no new arrivals, so that requests in flight finish. Zero means
	// one minute.
	DrainLimit time.Duration
	// Arrivals, if set, replaces the scenario's workload: exactly these
	// requests arrive, and no others. Their times must not decrease.
	// Validation uses it to simulate a run again with the requests at the
	// times the real side sent them.
	Arrivals []Arrival
	// NetworkSeed, if not zero, seeds the network latency draws in place of
	// the scenario's seed, so that one set of arrivals can be simulated
	// under several sets of delays.
	NetworkSeed uint64
	// NetworkDelay, if set, replaces the scenario's network latencies: it
	// returns the delay of a message between node (dense number) and a
	// store that leaves at simulated time at, drawing from r (the network
	// stream). Validation uses it to give a run the store round trips the
	// real side measured, node by node, at about the same moment of its
	// run.
	NetworkDelay func(at time.Duration, node int, r *rand.Rand) time.Duration
	// XFetchDraw, if set, replaces the draw of XFetch's uniform for each
	// request (cache.xfetch_beta): the n-th request (from 0) at node (dense
	// number) for key gets XFetchDraw(node, key, n), in (0, 1]. Validation
	// uses it to give a request the same draw on both sides, as
	// UpstreamLatency gives a call the same latency.
	XFetchDraw func(node, key, n int) float64

	// seriesLimit, if not zero, replaces reports.MaxSeriesSamples, so
	// that a test can see the series coarsen without a run of 100,000
	// samples. It must be even.
	seriesLimit int
}

// Arrival is one request of a workload given in full: when, at which node
// (dense number, see topology.Shape) and for which key (number).
type Arrival struct {
	At        time.Duration
	Node, Key int
}

type node struct {
	m           *locks.Machine[V]
	inc         uint32
	crashed     bool
	paused      bool
	held        []sim.Event
	timers      []sim.EventID // by locks.Timer.Slot()
	region      int32
	stores      [locks.MaxLevels]int32 // store index per scope
	outstanding int64
	retired     locks.Stats // stats of machines lost in crashes
	partitions  [locks.MaxLevels][]window
}

// world is one run of one topology.
type world struct {
	sc    *scenarios.Scenario
	topo  locks.Topology
	shape topology.Shape
	eng   *sim.Engine
	end   sim.Time

	nodes  []node
	stores []store
	keys   []string
	mcfg   locks.Config
	// effectsOf is the first machine built: every machine shares its
	// effect buffers (locks.SimHooks.ShareEffects).
	effectsOf *locks.Machine[V]

	ops   slab[opRec]
	calls slab[callRec]

	rArrive, rNode, rNet, rUp, rBurst, rTokens *rand.Rand
	// rXFetch draws XFetch's uniform per request; nil without XFetch.
	rXFetch *rand.Rand
	// xfetchDrawFn is Options.XFetchDraw, and xfetchReqs counts the
	// requests per (node, key) it numbers.
	xfetchDrawFn            func(node, key, n int) float64
	xfetchReqs              map[int64]int
	poisson                 workloads.Poisson
	laneDelays              []sim.Time // timer delays with an engine lane each (setTimer)
	aheadNode, afterNode    int32      // the next two steady arrivals' nodes and keys (drawAhead)
	aheadKey, afterKey      int
	zipf                    workloads.Zipf
	net                     [locks.MaxLevels]workloads.Dist                    // network delay per store scope
	netAhead                int                                                // the only store scope, or negative (netDelay)
	netNext                 sim.Time                                           // its next delay, drawn ahead
	netFn                   func(time.Duration, int, *rand.Rand) time.Duration // Options.NetworkDelay
	upLatency               workloads.Dist
	upInflight              int
	upSlow, upErrors        []window
	bursts                  []burst
	replay                  []Arrival // Options.Arrivals
	faults                  []fault
	connectTimeout          sim.Time
	serviceTime, opOverhead time.Duration
	nextReq                 locks.ReqID
	fetchSerial             uint64

	// counters
	requests      uint64
	served        [locks.NumServed]uint64
	upstream      [locks.NumCauses]uint64
	upErrorsN     uint64
	duplicates    [locks.NumCauses]uint64
	dups          *counting.Duplicates
	levelPeak     [locks.MaxLevels]int
	opsByKind     [locks.NumOpKinds]uint64
	storeErrors   uint64
	latency       histogram  // µs
	rec           *seriesRec // Options.Series, else nil
	onRequest     func(at time.Duration, node, key int)
	upLatencyFn   func(lock, key, n int) time.Duration
	upErrorFn     func(lock, key, n int) float64
	upCalls       map[int64]int // calls per (lock instance, key), for upLatencyFn
	opsPerSec     []uint64      // store operations per second, for the peak rate
	crashedErrors uint64
}

// Run simulates one topology of a scenario, resolved (Scenario.Resolved)
// from one that package scenarios loaded (defaults filled in and
// validated).
//
// When ctx is done, Run stops within [sim.InterruptEvery] events, even if
// the virtual clock stands still (a stampede whose requests all arrive at
// one instant), and returns what happened until then, marked
// [reports.Run.Interrupted], with context.Cause(ctx): the caller can keep
// the partial counts or drop them. The zero Run comes back if ctx was done
// before the simulation started.
func Run(ctx context.Context, rs *scenarios.Resolved, topo locks.Topology, opt Options) (reports.Run, error) {
	wallStart := time.Now()
	if ctx.Err() != nil {
		return reports.Run{}, context.Cause(ctx)
	}
	sc := rs.Scenario
	w, err := build(ctx, rs, topo, opt)
	if err != nil {
		return reports.Run{}, err
	}
	if ctx.Done() != nil {
		// ctx.Err is an atomic load; the engine asks it every few
		// thousand events, not per event.
		w.eng.SetInterrupt(func() bool { return ctx.Err() != nil })
	}
	drain := opt.DrainLimit
	if drain <= 0 {
		drain = time.Minute
	}
	total := sc.Duration.D()
	step := sim.FromDuration(max(total/200, 10*time.Millisecond))
	limit := w.end + sim.FromDuration(drain)
	for {
		t := min(w.eng.Now()+step, limit)
		reason := w.eng.Run(t, 0)
		if ctx.Err() != nil {
			run := w.results()
			run.Interrupted = true
			run.WallSeconds = time.Since(wallStart).Seconds()
			return run, context.Cause(ctx)
		}
		if opt.Progress != nil {
			opt.Progress(min(w.eng.Now().Duration(), total), total)
		}
		if reason == sim.QueueEmpty && w.eng.Now() >= w.end {
			break
		}
		if t >= limit {
			break
		}
	}
	run := w.results()
	run.WallSeconds = time.Since(wallStart).Seconds()
	return run, nil
}
