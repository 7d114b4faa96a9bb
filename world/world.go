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
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/stampsim/stampsim/internal/prefetch"
	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/memstore"
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
	// Series turns on the per-second time series in the Run.
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
}

// Arrival is one request of a workload given in full: when, at which node
// (dense number, see topology.Shape) and for which key (number).
type Arrival struct {
	At        time.Duration
	Node, Key int
}

// Event kinds.
const (
	evArrival     uint16 = iota // steady Poisson arrival
	evBurst                     // the next request of burst A
	evStoreArrive               // op A reaches its store
	evReply                     // op A's reply reaches its node (Target)
	evNotify                    // a release notification for key A, scope B>>32, reaches node Target (incarnation B&mask)
	evTimer                     // a machine timer of node Target
	evFetchDone                 // upstream call A finishes at node Target
	evFault                     // fault A starts (B=0) or ends (B=1)
	evReplay                    // Options.Arrivals[A] arrives
)

// arrivalLane is the engine lane of arrivals (steady and burst): each
// source schedules its next request later than the one it is handling, so
// they come in time order and cost no heap operation; none is ever
// cancelled, so they take no slot either (sim.Engine.AtLaneFixed). The
// lanes below it are the timer lanes (world.laneDelays).
const arrivalLane = sim.MaxLanes - 1

var errUpstream = errors.New("upstream error")
var errUpstreamOverload = errors.New("upstream over its limit")

type window struct {
	from, to sim.Time
	factor   float64
}

func active(ws []window, t sim.Time) (float64, bool) {
	for _, w := range ws {
		if t >= w.from && t < w.to {
			return w.factor, true
		}
	}
	return 0, false
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

type store struct {
	name      string
	scope     locks.Scope
	kv        *memstore.Store[V]
	busyUntil sim.Time
	inSystem  []sim.Time // finish times of ops not yet finished, in order
	head      int
	ops       uint64
	commands  uint64
	busy      time.Duration
	wait      histogram // µs
	waitSum   float64
	peakQueue int
	outages   []window
	slowdowns []window
	// contenders counts, per key, the flights holding or waiting for the
	// key's lock in this store (at the level of the store's scope).
	contenders byKey[int32]
}

type opRec struct {
	node  int32
	inc   uint32
	store int32
	sent  sim.Time
	op    locks.Op[V]
	res   locks.Result[V]
}

type callRec struct {
	node   int32
	inc    uint32
	flight locks.FlightID
	region int32 // the call's (region, key), for duplicate counting
	key    int32
	err    error
}

type dupState struct {
	inProgress int32
	hasOK      bool
	lastOK     sim.Time
}

type burst struct {
	start  sim.Time
	key    int
	nodes  []int32
	spread workloads.Spread
}

type fault struct {
	kind string
	node int32
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
	// effect buffers (locks.Machine.ShareEffects).
	effectsOf *locks.Machine[V]

	ops   slab[opRec]
	calls slab[callRec]

	rArrive, rNode, rNet, rUp, rBurst, rTokens *rand.Rand
	poisson                                    workloads.Poisson
	laneDelays                                 []sim.Time // timer delays with an engine lane each (setTimer)
	aheadNode, afterNode                       int32      // the next two steady arrivals' nodes and keys (drawAhead)
	aheadKey, afterKey                         int
	zipf                                       workloads.Zipf
	net                                        [locks.MaxLevels]workloads.Dist                    // network delay per store scope
	netAhead                                   int                                                // the only store scope, or negative (netDelay)
	netNext                                    sim.Time                                           // its next delay, drawn ahead
	netFn                                      func(time.Duration, int, *rand.Rand) time.Duration // Options.NetworkDelay
	upLatency                                  workloads.Dist
	upInflight                                 int
	upSlow, upErrors                           []window
	bursts                                     []burst
	replay                                     []Arrival // Options.Arrivals
	faults                                     []fault
	connectTimeout                             sim.Time
	serviceTime, opOverhead                    time.Duration
	nextReq                                    locks.ReqID
	fetchSerial                                uint64

	// counters
	requests      uint64
	served        [locks.NumServed]uint64
	upstream      [locks.NumCauses]uint64
	upErrorsN     uint64
	duplicates    [locks.NumCauses]uint64
	dups          []byKey[dupState] // per region
	levelPeak     [locks.MaxLevels]int
	opsByKind     [locks.NumOpKinds]uint64
	storeErrors   uint64
	latency       histogram // µs
	secLatency    histogram
	secLatencyAt  int
	series        bool
	onRequest     func(at time.Duration, node, key int)
	upLatencyFn   func(lock, key, n int) time.Duration
	upCalls       map[int64]int // calls per (lock instance, key), for upLatencyFn
	sRequests     []uint64
	sUpstream     []uint64
	sStoreOps     []uint64
	sErrors       []uint64
	sP99          []float64
	sContenders   [locks.MaxLevels][]int
	crashedErrors uint64
}

// Run simulates one topology of a scenario. The scenario must have been
// loaded (defaults filled in and validated) by package scenarios.
//
// When ctx is done, Run stops within [sim.InterruptEvery] events, even if
// the virtual clock stands still (a stampede whose requests all arrive at
// one instant), and returns what happened until then, marked
// [reports.Run.Interrupted], with context.Cause(ctx): the caller can keep
// the partial counts or drop them. The zero Run comes back if ctx was done
// before the simulation started.
func Run(ctx context.Context, sc *scenarios.Scenario, topo locks.Topology, opt Options) (reports.Run, error) {
	wallStart := time.Now()
	if ctx.Err() != nil {
		return reports.Run{}, context.Cause(ctx)
	}
	w, err := build(ctx, sc, topo, opt)
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

// build makes the world for one run. A fleet of a million nodes takes
// seconds to build, so ctx is checked between nodes too.
func build(ctx context.Context, sc *scenarios.Scenario, topo locks.Topology, opt Options) (*world, error) {
	if err := topo.Validate(); err != nil {
		return nil, err
	}
	w := &world{
		sc:          sc,
		topo:        topo,
		end:         sim.FromDuration(sc.Duration.D()),
		latency:     newHistogram(3),
		secLatency:  newHistogram(2),
		series:      opt.Series,
		onRequest:   opt.OnRequest,
		upLatencyFn: opt.UpstreamLatency,
		upCalls:     make(map[int64]int),
		serviceTime: sc.Store.ServiceTime.D(),
		opOverhead:  sc.Store.OpOverhead.D(),
	}
	w.shape = topology.Shape{Regions: sc.Topology.Regions, ZonesPerRegion: sc.Topology.ZonesPerRegion, NodesPerZone: sc.Topology.NodesPerZone}
	if err := w.shape.Validate(); err != nil {
		return nil, err
	}
	w.eng = sim.New(w.handle)
	streams := sim.NewStreams(sc.Seed)
	w.rArrive = streams.Stream("arrivals")
	w.rNode = streams.Stream("arrivals/node")
	w.rNet = streams.Stream("network")
	if opt.NetworkSeed != 0 {
		w.rNet = sim.NewStreams(opt.NetworkSeed).Stream("network")
	}
	w.rUp = streams.Stream("upstream")
	w.rBurst = streams.Stream("bursts")
	w.rTokens = streams.Stream("tokens")
	w.connectTimeout = sim.FromDuration(sc.Store.ConnectTimeout.D())

	var err error
	if sc.Workload.Keys < 1 {
		return nil, fmt.Errorf("workload.keys must be at least 1, got %d", sc.Workload.Keys)
	}
	if w.zipf, err = workloads.NewZipf(streams.Stream("arrivals/key"), sc.Workload.ZipfS, sc.Workload.Keys); err != nil {
		return nil, fmt.Errorf("workload.zipf_s: %w", err)
	}
	w.keys = keyNames(sc.Workload.Keys)
	for scope, spec := range [...]scenarios.Dist{
		locks.ScopeZone: sc.Network.NodeToZoneStore, locks.ScopeRegion: sc.Network.NodeToRegionStore, locks.ScopeGlobal: sc.Network.NodeToGlobalStore,
	} {
		if scope == int(locks.ScopeNode) {
			continue
		}
		if w.net[scope], err = workloads.FromSpec(spec); err != nil {
			return nil, fmt.Errorf("network to %s store: %w", locks.Scope(scope), err)
		}
	}
	// A topology with stores of one scope only draws delays one message
	// ahead (see netDelay), unless they depend on when they are drawn.
	w.netAhead = -1
	if opt.NetworkDelay != nil {
		w.netAhead, w.netFn = -2, opt.NetworkDelay
	}
	for _, l := range topo.Levels {
		switch {
		case !l.Scope.Shared():
		case w.netAhead == -1:
			w.netAhead = int(l.Scope)
		case w.netAhead != int(l.Scope):
			w.netAhead = -2
		}
	}
	if w.netAhead >= 0 {
		w.netNext = sim.FromDuration(w.net[w.netAhead].Sample(w.rNet))
	}
	if w.upLatency, err = workloads.FromSpec(sc.Upstream.Latency); err != nil {
		return nil, fmt.Errorf("upstream.latency: %w", err)
	}
	w.mcfg = locks.Config{
		Topology:       topo,
		NodeCacheTTL:   sc.Cache.NodeTTL.D(),
		SharedCacheTTL: sc.Cache.SharedTTL.D(),
		StaleFor:       sc.Cache.StaleFor.D(),
		KeyNumber:      keyNumber,
	}

	// Timer lanes: the delays of the timers the machines set most.
	addLane := func(d time.Duration) {
		if t := sim.FromDuration(d); t > 0 && !slices.Contains(w.laneDelays, t) && len(w.laneDelays) < arrivalLane {
			w.laneDelays = append(w.laneDelays, t)
		}
	}
	for _, l := range topo.Levels {
		addLane(l.WaitTimeout)
		if !l.NoRenew && l.Scope.Shared() {
			addLane(l.LeaseTTL / 3)
		}
	}

	// Stores: one per zone, one per region, one global.
	add := func(name string, scope locks.Scope) {
		kv := memstore.NewIndexed[V](keyNumber, min(len(w.keys), denseKeys))
		w.stores = append(w.stores, store{name: name, scope: scope, kv: kv, wait: newHistogram(3)})
	}
	for r := 0; r < w.shape.Regions; r++ {
		for z := 0; z < w.shape.ZonesPerRegion; z++ {
			add(fmt.Sprintf("zone r%d/z%d", r, z), locks.ScopeZone)
		}
	}
	for r := 0; r < w.shape.Regions; r++ {
		add(fmt.Sprintf("region r%d", r), locks.ScopeRegion)
	}
	add("global", locks.ScopeGlobal)

	w.dups = make([]byKey[dupState], w.shape.Regions)
	w.nodes = make([]node, w.shape.Nodes())
	for id := range w.nodes {
		if id%sim.InterruptEvery == 0 && ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		n := &w.nodes[id]
		n.region = int32(w.shape.RegionID(id))
		n.stores[locks.ScopeZone] = int32(w.shape.ZoneID(id))
		n.stores[locks.ScopeRegion] = int32(w.shape.Zones() + int(n.region))
		n.stores[locks.ScopeGlobal] = int32(w.shape.Zones() + w.shape.Regions)
		if n.m, err = w.newMachine(); err != nil {
			return nil, err
		}
	}

	// Arrivals.
	if opt.Arrivals != nil {
		var last time.Duration
		for i, a := range opt.Arrivals {
			switch {
			case a.At < 0:
				return nil, fmt.Errorf("Options.Arrivals[%d]: at %v, before the start", i, a.At)
			case a.At < last:
				return nil, fmt.Errorf("Options.Arrivals[%d]: at %v, before the previous one's %v", i, a.At, last)
			case a.Node < 0 || a.Node >= len(w.nodes):
				return nil, fmt.Errorf("Options.Arrivals[%d]: node %d is not one of the %d nodes", i, a.Node, len(w.nodes))
			case a.Key < 0 || a.Key >= len(w.keys):
				return nil, fmt.Errorf("Options.Arrivals[%d]: key %d is not one of the %d keys", i, a.Key, len(w.keys))
			}
			last = a.At
		}
		w.replay = opt.Arrivals
		if len(w.replay) > 0 {
			w.eng.AtLaneFixed(arrivalLane, sim.FromDuration(w.replay[0].At), sim.Event{Kind: evReplay})
		}
	}
	if sc.Workload.Rate > 0 && w.replay == nil {
		if w.poisson, err = workloads.NewPoisson(sc.Workload.Rate); err != nil {
			return nil, fmt.Errorf("workload.rate: %w", err)
		}
		w.eng.AtLaneFixed(arrivalLane, sim.FromDuration(w.poisson.Next(w.rArrive)), sim.Event{Kind: evArrival})
		w.drawAhead()
		w.drawAhead()
	}
	for i, b := range sc.Workload.Bursts {
		if w.replay != nil {
			break
		}
		bs := burst{start: sim.FromDuration(b.At.D()), key: b.Key, spread: workloads.NewSpread(b.Requests, b.Over.D())}
		if b.Key < 0 || b.Key >= len(w.keys) {
			return nil, fmt.Errorf("workload.bursts[%d].key: %d is not one of the %d keys", i, b.Key, len(w.keys))
		}
		for _, name := range b.Nodes {
			nd, err := w.shape.ParseNode(name)
			if err != nil {
				return nil, fmt.Errorf("workload.bursts[%d].nodes: %w", i, err)
			}
			bs.nodes = append(bs.nodes, int32(w.shape.ID(nd)))
		}
		w.bursts = append(w.bursts, bs)
		w.nextBurst(i)
	}

	// Faults.
	for i, f := range sc.Faults {
		from, to := sim.FromDuration(f.At.D()), sim.FromDuration(f.At.D()+f.For.D())
		switch f.Kind {
		case "node-crash", "node-pause":
			nd, err := w.shape.ParseNode(f.Node)
			if err != nil {
				return nil, fmt.Errorf("faults[%d].node: %w", i, err)
			}
			w.faults = append(w.faults, fault{kind: f.Kind, node: int32(w.shape.ID(nd))})
			idx := int64(len(w.faults) - 1)
			w.eng.At(from, sim.Event{Kind: evFault, A: idx, B: 0})
			w.eng.At(to, sim.Event{Kind: evFault, A: idx, B: 1})
		case "store-outage", "store-slowdown":
			s, err := w.storeFor(f)
			if err != nil {
				return nil, fmt.Errorf("faults[%d]: %w", i, err)
			}
			if f.Kind == "store-outage" {
				w.stores[s].outages = append(w.stores[s].outages, window{from, to, 0})
			} else {
				w.stores[s].slowdowns = append(w.stores[s].slowdowns, window{from, to, f.Factor})
			}
		case "partition":
			nd, err := w.shape.ParseNode(f.Node)
			if err != nil {
				return nil, fmt.Errorf("faults[%d].node: %w", i, err)
			}
			scope, err := locks.ParseScope(f.Scope)
			if err != nil || scope == locks.ScopeNode {
				return nil, fmt.Errorf("faults[%d].scope: a partition cuts a node from a zone, region or global store, got %q", i, f.Scope)
			}
			n := &w.nodes[w.shape.ID(nd)]
			n.partitions[scope] = append(n.partitions[scope], window{from, to, 0})
		case "upstream-slowdown":
			w.upSlow = append(w.upSlow, window{from, to, f.Factor})
		case "upstream-errors":
			w.upErrors = append(w.upErrors, window{from, to, f.Rate})
		default:
			return nil, fmt.Errorf("faults[%d].kind: unknown fault kind %q", i, f.Kind)
		}
	}
	return w, nil
}

func (w *world) storeFor(f scenarios.Fault) (int, error) {
	scope, err := locks.ParseScope(f.Scope)
	if err != nil {
		return 0, err
	}
	switch scope {
	case locks.ScopeZone:
		if f.Region < 0 || f.Region >= w.shape.Regions || f.Zone < 0 || f.Zone >= w.shape.ZonesPerRegion {
			return 0, fmt.Errorf("no zone store r%d/z%d", f.Region, f.Zone)
		}
		return f.Region*w.shape.ZonesPerRegion + f.Zone, nil
	case locks.ScopeRegion:
		if f.Region < 0 || f.Region >= w.shape.Regions {
			return 0, fmt.Errorf("no region store r%d", f.Region)
		}
		return w.shape.Zones() + f.Region, nil
	case locks.ScopeGlobal:
		return w.shape.Zones() + w.shape.Regions, nil
	}
	return 0, fmt.Errorf("scope %q has no store", f.Scope)
}

func (w *world) newMachine() (*locks.Machine[V], error) {
	cfg := w.mcfg
	for i := 0; i < len(cfg.Seed); i += 8 {
		v := w.rTokens.Uint64()
		for j := 0; j < 8; j++ {
			cfg.Seed[i+j] = byte(v >> (8 * j))
		}
	}
	m, err := locks.NewMachine[V](cfg)
	if err != nil {
		return nil, err
	}
	// The world takes each input's effects before the next input, so its
	// machines can share one batch, which then stays in cache.
	if w.effectsOf == nil {
		w.effectsOf = m
	} else {
		m.ShareEffects(w.effectsOf)
	}
	return m, nil
}

// --- the event loop ---------------------------------------------------------------

func (w *world) handle(now sim.Time, ev sim.Event) {
	switch ev.Kind {
	case evArrival:
		id, key := w.aheadNode, w.aheadKey
		if next := now + sim.FromDuration(w.poisson.Next(w.rArrive)); next < w.end {
			w.eng.AtLaneFixed(arrivalLane, next, ev)
			w.drawAhead()
		}
		w.request(now, id, key)
		return
	case evBurst:
		b := &w.bursts[ev.A]
		n := int32(0)
		if len(b.nodes) > 0 {
			n = b.nodes[w.rBurst.IntN(len(b.nodes))]
		} else {
			n = int32(w.rBurst.IntN(len(w.nodes)))
		}
		w.nextBurst(int(ev.A))
		w.request(now, n, b.key)
		return
	case evReplay:
		a := w.replay[ev.A]
		if next := ev.A + 1; next < int64(len(w.replay)) {
			w.eng.AtLaneFixed(arrivalLane, sim.FromDuration(w.replay[next].At), sim.Event{Kind: evReplay, A: next})
		}
		w.request(now, int32(a.Node), a.Key)
		return
	case evStoreArrive:
		if ev.B != 0 {
			prefetch.Object(&w.ops.items[ev.A])
			w.stores[ev.B>>32-1].kv.Prefetch(uint32(ev.B))
		}
		w.storeArrive(now, int32(ev.A))
		return
	case evFault:
		w.fault(now, int(ev.A), ev.B == 1)
		return
	}
	// Everything else is delivered to a node, which may be paused or have
	// crashed since the event was scheduled.
	n := &w.nodes[ev.Target]
	if n.paused {
		n.held = append(n.held, ev)
		return
	}
	w.deliver(now, ev)
}

func (w *world) deliver(now sim.Time, ev sim.Event) {
	n := &w.nodes[ev.Target]
	lnow := locks.Time(now)
	switch ev.Kind {
	case evReply:
		if ev.B != 0 {
			w.prefetchReply(n, ev)
		}
		r := &w.ops.items[ev.A]
		op, res, inc := r.op, r.res, r.inc
		w.ops.free(int32(ev.A))
		if inc != n.inc || n.crashed {
			return
		}
		n.m.StoreDone(lnow, op, res)
	case evNotify:
		if uint32(ev.B) != n.inc || n.crashed {
			return
		}
		n.m.Notified(lnow, locks.Scope(ev.B>>32), w.keys[ev.A])
	case evTimer:
		inc := uint32(ev.B >> 32 & 0xffffff)
		if inc != n.inc&0xffffff || n.crashed {
			return
		}
		t := locks.Timer{
			Flight: locks.FlightID{Slot: uint32(ev.A >> 32), Gen: uint32(ev.A)},
			Kind:   locks.TimerKind(ev.B >> 56),
			Seq:    uint32(ev.B),
		}
		if s := t.Slot(); s < len(n.timers) {
			n.timers[s] = 0
		}
		n.m.Fired(lnow, t)
	case evFetchDone:
		c := &w.calls.items[ev.A]
		flight, inc, region, key, err := c.flight, c.inc, c.region, c.key, c.err
		w.calls.free(int32(ev.A))
		w.upInflight--
		d := w.dups[region].get(int(key))
		d.inProgress--
		if err == nil {
			d.hasOK, d.lastOK = true, now
		}
		w.dups[region].set(int(key), d)
		if inc != n.inc || n.crashed {
			return
		}
		w.fetchSerial++
		n.m.Fetched(lnow, flight, w.fetchSerial, err)
	}
	w.drain(now, ev.Target)
}

// farReply is how long after its operation was sent a reply must come for
// its handling to prefetch (prefetchReply).
var farReply = sim.FromDuration(4 * time.Millisecond)

// replyHint packs what prefetchReply needs to know of a reply to op into
// an event's B: the flight's slot and the key's number.
func replyHint(op *locks.Op[V]) int64 {
	return int64(op.Flight.Slot)<<32 | int64(op.KeyNum)
}

// prefetchReply has the CPU start loading, all at once, what handling the
// reply ev will touch: its record, the flight it answers, the flight's
// timers and the machine's entry for the key. A reply from a store tens of
// milliseconds away finds all of them cold, and loaded one after the other
// as the code reaches them, each miss would wait for the one before.
func (w *world) prefetchReply(n *node, ev sim.Event) {
	prefetch.Object(&w.ops.items[ev.A])
	slot, keyNum := uint32(ev.B>>32), uint32(ev.B)
	if s := int(slot) * int(locks.NumTimerKinds); s < len(n.timers) {
		prefetch.At(&n.timers[s])
	}
	if keyNum > 0 {
		n.m.Prefetch(opKey(keyNum))
	}
	n.m.PrefetchFlight(slot)
}

// drawAhead draws the node and key of a steady arrival two arrivals ahead,
// and has the CPU start loading what the next ones will need, in two
// stages: the machine of the arrival after next, and what the next
// arrival's machine (loaded one arrival ago) knows of its key. By the time
// an arrival is handled, a few events later, its memory is there; a
// machine's own fields must be in cache before it can find the key's
// entry, which is why the stages are an arrival apart. The node and key
// streams serve only the steady arrivals, so drawing them early draws the
// same values.
func (w *world) drawAhead() {
	w.aheadNode, w.aheadKey = w.afterNode, w.afterKey
	w.afterNode, w.afterKey = int32(w.rNode.IntN(len(w.nodes))), w.zipf.Next()
	if m := w.nodes[w.afterNode].m; m != nil {
		prefetch.Object(m)
	}
	if m := w.nodes[w.aheadNode].m; m != nil {
		m.Prefetch(w.aheadKey)
	}
}

func (w *world) nextBurst(i int) {
	b := &w.bursts[i]
	if off, ok := b.spread.Next(w.rBurst); ok {
		w.eng.AtLaneFixed(arrivalLane, b.start+sim.FromDuration(off), sim.Event{Kind: evBurst, A: int64(i)})
	}
}

func (w *world) request(now sim.Time, id int32, key int) {
	n := &w.nodes[id]
	if n.paused {
		// The request waits in the node's backlog like everything else.
		n.held = append(n.held, sim.Event{Kind: evArrival, Target: id, A: int64(key)})
		return
	}
	w.requests++
	if w.series {
		w.sRequests = bump(w.sRequests, now)
	}
	if w.onRequest != nil {
		w.onRequest(now.Duration(), int(id), key)
	}
	if n.crashed {
		w.served[locks.ServedError]++
		w.crashedErrors++
		if w.series {
			w.sErrors = bump(w.sErrors, now)
		}
		return
	}
	w.nextReq++
	n.outstanding++
	n.m.RequestNumbered(locks.Time(now), w.nextReq, w.keys[key], key)
	w.drain(now, id)
}

// drain carries out the effects node id's machine asked for.
func (w *world) drain(now sim.Time, id int32) {
	n := &w.nodes[id]
	effs := n.m.Ready()
	for i := range effs {
		e := &effs[i]
		switch e.Kind {
		case locks.EffStore:
			w.send(now, id, &e.Op)
		case locks.EffSetTimer:
			w.setTimer(now, n, id, e.Timer, sim.Time(e.At))
		case locks.EffCancelTimer:
			if s := e.Timer.Slot(); s < len(n.timers) && n.timers[s] != 0 {
				w.eng.Cancel(n.timers[s])
				n.timers[s] = 0
			}
		case locks.EffFetch:
			w.fetch(now, id, &e.Fetch)
		case locks.EffCancelFetch:
			// The upstream goes on working; the machine drops its answer.
		case locks.EffReply:
			if e.Waiters == nil {
				w.reply(now, n, &e.Reply)
				continue
			}
			r := e.Reply
			for _, wt := range e.Waiters {
				r.ID, r.Since = wt.ID, wt.Since
				w.reply(now, n, &r)
			}
		case locks.EffContend:
			w.contend(now, n, &e.Op, int32(e.Delta))
		}
	}
}

func (w *world) setTimer(now sim.Time, n *node, id int32, t locks.Timer, at sim.Time) {
	s := t.Slot()
	for s >= len(n.timers) {
		n.timers = append(n.timers, 0)
	}
	if n.timers[s] != 0 {
		w.eng.Cancel(n.timers[s])
	}
	ev := sim.Event{
		Kind: evTimer, Target: id,
		A: int64(t.Flight.Slot)<<32 | int64(t.Flight.Gen),
		B: int64(t.Kind)<<56 | int64(n.inc&0xffffff)<<32 | int64(t.Seq),
	}
	// Most timers are a level's wait timeout or the renewal period ahead,
	// and most are cancelled long before they fire: those go to the
	// engine's lane for their delay, in time order, instead of its heap.
	for lane, d := range w.laneDelays {
		if at-now == d {
			n.timers[s] = w.eng.AtLane(lane, at, ev)
			return
		}
	}
	n.timers[s] = w.eng.At(at, ev)
}

func (w *world) reply(now sim.Time, n *node, r *locks.Reply[V]) {
	n.outstanding--
	w.served[r.Served]++
	lat := now - sim.Time(r.Since)
	us := int64(lat) / 1000
	w.latency.record(us)
	if w.series {
		sec := int(now / sim.Time(time.Second))
		if sec != w.secLatencyAt {
			w.closeSecond()
			w.secLatencyAt = sec
		}
		w.secLatency.record(us)
		if r.Served == locks.ServedError {
			w.sErrors = bump(w.sErrors, now)
		}
	}
}

func (w *world) closeSecond() {
	if w.secLatency.all().TotalCount() == 0 {
		return
	}
	for len(w.sP99) <= w.secLatencyAt {
		w.sP99 = append(w.sP99, 0)
	}
	w.sP99[w.secLatencyAt] = float64(w.secLatency.all().ValueAtQuantile(99)) / 1000
	w.secLatency.h.Reset()
}

func (w *world) contend(now sim.Time, n *node, op *locks.Op[V], delta int32) {
	// A store serves one scope, and a topology has at most one level per
	// scope, so the store and the key name the lock.
	s, k := &w.stores[n.stores[op.Scope]], opKey(op.KeyNum)
	c := s.contenders.get(k) + delta
	s.contenders.set(k, c)
	if int(c) > w.levelPeak[op.Level] {
		w.levelPeak[op.Level] = int(c)
	}
	if w.series && delta > 0 {
		s := &w.sContenders[op.Level]
		sec := int(now / sim.Time(time.Second))
		for len(*s) <= sec {
			*s = append(*s, 0)
		}
		if int(c) > (*s)[sec] {
			(*s)[sec] = int(c)
		}
	}
}

// keyNames returns the names of n keys, "k0" to "k<n-1>", as slices of one
// string: one allocation instead of n, and names that sit together in
// memory, since a machine hashes the name on every request.
func keyNames(n int) []string {
	size := 0
	for i := range n {
		size += 2 + digitsAbove(i)
	}
	var b strings.Builder
	b.Grow(size)
	var tmp [24]byte
	for i := range n {
		b.WriteByte('k')
		b.Write(strconv.AppendInt(tmp[:0], int64(i), 10))
	}
	all := b.String()
	names := make([]string, n)
	start := 0
	for i := range names {
		end := start + 2 + digitsAbove(i)
		names[i] = all[start:end]
		start = end
	}
	return names
}

// digitsAbove returns the number of decimal digits of i >= 0, less one.
func digitsAbove(i int) int {
	d := 0
	for ; i >= 10; i /= 10 {
		d++
	}
	return d
}

// byKey holds a T per key number: the numbers below denseKeys in a slice,
// grown as larger numbers come, the others in a map that keeps only non-zero
// values. It saves a hash lookup per use for the keys that matter most.
type byKey[T comparable] struct {
	dense  []T
	sparse map[int]T
}

// get returns key's value.
func (b *byKey[T]) get(key int) T {
	if key < len(b.dense) {
		return b.dense[key]
	}
	return b.sparse[key]
}

// set sets key's value.
func (b *byKey[T]) set(key int, v T) {
	if key < len(b.dense) {
		b.dense[key] = v
		return
	}
	if key < denseKeys {
		dense := make([]T, min(max(2*len(b.dense), key+1, 64), denseKeys))
		copy(dense, b.dense)
		b.dense = dense
		b.dense[key] = v
		return
	}
	var zero T
	if v == zero {
		delete(b.sparse, key)
		return
	}
	if b.sparse == nil {
		b.sparse = make(map[int]T)
	}
	b.sparse[key] = v
}

// denseKeys is how many keys (the most popular, under Zipf) a simulated
// store keeps in a slice by number rather than in a map: 64 bytes each.
const denseKeys = 1 << 16

// keyNumber returns the number of key "k<number>", or -1 for any other
// string (so that memstore keeps it in its map).
func keyNumber(k string) int {
	if len(k) < 2 || len(k) > 19 || k[0] != 'k' || (k[1] == '0' && len(k) > 2) {
		return -1
	}
	n := 0
	for i := 1; i < len(k); i++ {
		c := k[i]
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// opKey returns the key number of an Op or Fetch from its KeyNum: every
// key of a world is numbered (keyNumber), so it is never 0.
func opKey(keyNum uint32) int { return int(keyNum) - 1 }

func bump(s []uint64, now sim.Time) []uint64 {
	sec := int(now / sim.Time(time.Second))
	for len(s) <= sec {
		s = append(s, 0)
	}
	s[sec]++
	return s
}

// --- stores -----------------------------------------------------------------------

func (w *world) send(now sim.Time, id int32, op *locks.Op[V]) {
	n := &w.nodes[id]
	i := w.ops.alloc()
	r := &w.ops.items[i]
	r.node, r.inc, r.store, r.sent, r.op = id, n.inc, n.stores[op.Scope], now, *op
	if _, cut := active(n.partitions[op.Scope], now); cut {
		w.fail(i, now+w.connectTimeout)
		return
	}
	d := w.netDelay(op.Scope, id)
	// The store will need the key's entry: load it now if the operation
	// gets there soon, or have storeArrive load it if it is far.
	var hint int64
	if d > farReply/2 {
		hint = int64(r.store+1)<<32 | int64(op.KeyNum)
	} else {
		w.stores[r.store].kv.Prefetch(op.KeyNum)
	}
	w.eng.At(now+d, sim.Event{Kind: evStoreArrive, A: int64(i), B: hint})
}

// netDelay draws the one-way delay of a message between a node and a store
// of scope. With stores of one scope only (every topology with at most one
// shared level), the delays come from the network stream in the same
// order whatever happens in between, so each is drawn one message ahead:
// a lognormal draw ends in math.Exp, a chain of some twenty dependent
// floating-point operations, and drawn ahead it overlaps with the work on
// the current message instead of holding it up.
func (w *world) netDelay(scope locks.Scope, node int32) sim.Time {
	if int(scope) == w.netAhead {
		d := w.netNext
		w.netNext = sim.FromDuration(w.net[scope].Sample(w.rNet))
		return d
	}
	if w.netFn != nil {
		return sim.FromDuration(w.netFn(w.eng.Now().Duration(), int(node), w.rNet))
	}
	return sim.FromDuration(w.net[scope].Sample(w.rNet))
}

// fail answers op i with a store error at t.
func (w *world) fail(i int32, t sim.Time) {
	r := &w.ops.items[i]
	w.storeErrors++
	r.res = locks.Result[V]{Status: locks.StatusError, Err: errStoreDown}
	w.scheduleReply(i, t)
}

// scheduleReply delivers op i's result to its node at t. A reply that comes
// more than farReply after its operation left carries what prefetchReply
// needs.
func (w *world) scheduleReply(i int32, t sim.Time) {
	r := &w.ops.items[i]
	var hint int64
	if t-r.sent > farReply {
		hint = replyHint(&r.op)
	}
	w.eng.At(t, sim.Event{Kind: evReply, Target: r.node, A: int64(i), B: hint})
}

var errStoreDown = errors.New("store unreachable")

// storeArrive serves op i: the store is one server taking operations in
// arrival order, so an operation starts when it arrives or when the one
// before it finishes, whichever is later, and it sees the key space as it is
// at its start.
func (w *world) storeArrive(now sim.Time, i int32) {
	r := &w.ops.items[i]
	s := &w.stores[r.store]
	if _, down := active(s.outages, now); down {
		w.fail(i, max(now, r.sent+w.connectTimeout))
		return
	}
	for s.head < len(s.inSystem) && s.inSystem[s.head] <= now {
		s.head++
	}
	if s.head > 1024 && s.head*2 > len(s.inSystem) {
		s.inSystem = s.inSystem[:copy(s.inSystem, s.inSystem[s.head:])]
		s.head = 0
	}
	if q := len(s.inSystem) - s.head; q > s.peakQueue {
		s.peakQueue = q
	}
	start := max(now, s.busyUntil)
	a := s.kv.Apply(locks.Time(start), r.node, r.op)
	service := w.opOverhead + time.Duration(a.Commands)*w.serviceTime
	if f, slow := active(s.slowdowns, now); slow {
		service = time.Duration(float64(service) * f)
	}
	finish := start + sim.FromDuration(service)
	s.busyUntil = finish
	s.inSystem = append(s.inSystem, finish)
	s.ops++
	s.commands += uint64(a.Commands)
	s.busy += service
	waitUs := int64(start-now) / 1000
	s.wait.record(waitUs)
	s.waitSum += float64(start - now)
	w.opsByKind[r.op.Kind]++
	w.sStoreOps = bump(w.sStoreOps, now) // always: it gives the peak rate
	r.res = a.Result
	w.scheduleReply(i, finish+w.netDelay(s.scope, r.node))
	if a.Notify {
		for _, sub := range s.kv.Subscribers(r.op.Key) {
			sn := &w.nodes[sub]
			if _, cut := active(sn.partitions[s.scope], finish); cut {
				continue
			}
			w.eng.At(finish+w.netDelay(s.scope, sub), sim.Event{
				Kind: evNotify, Target: sub, A: int64(opKey(r.op.KeyNum)), B: int64(s.scope)<<32 | int64(sn.inc),
			})
		}
	}
}

// --- the upstream -------------------------------------------------------------------

func (w *world) fetch(now sim.Time, id int32, f *locks.Fetch) {
	n := &w.nodes[id]
	w.upstream[f.Cause]++
	if w.series {
		w.sUpstream = bump(w.sUpstream, now)
	}
	key := opKey(f.KeyNum)
	d := w.dups[n.region].get(key)
	if d.inProgress > 0 || (d.hasOK && now-d.lastOK < sim.FromDuration(w.sc.Cache.SharedTTL.D())) {
		w.duplicates[f.Cause]++
	}
	d.inProgress++
	w.dups[n.region].set(key, d)

	w.upInflight++
	i := w.calls.alloc()
	c := &w.calls.items[i]
	c.node, c.inc, c.flight, c.region, c.key = id, n.inc, f.Flight, n.region, int32(key)
	var lat float64
	if w.upLatencyFn != nil {
		lock := LockInstance(w.shape, w.topo, int(id))
		ck := int64(lock)<<32 | int64(key)
		lat = float64(w.upLatencyFn(lock, key, w.upCalls[ck]))
		w.upCalls[ck]++
	} else {
		lat = float64(w.upLatency.Sample(w.rUp))
	}
	if f, ok := active(w.upSlow, now); ok {
		lat *= f
	}
	if capacity := w.sc.Upstream.Capacity; capacity > 0 && w.upInflight > capacity {
		lat *= float64(w.upInflight) / float64(capacity)
	}
	if limit := w.sc.Upstream.FailAbove; limit > 0 && w.upInflight > limit {
		c.err = errUpstreamOverload
		lat = 0
	} else if rate, ok := active(w.upErrors, now); ok && w.rUp.Float64() < rate {
		c.err = errUpstream
	}
	if c.err != nil {
		w.upErrorsN++
	}
	w.eng.At(now+sim.Time(lat), sim.Event{Kind: evFetchDone, Target: id, A: int64(i)})
}

// --- faults ---------------------------------------------------------------------------

func (w *world) fault(now sim.Time, i int, end bool) {
	f := w.faults[i]
	n := &w.nodes[f.node]
	switch f.kind {
	case "node-crash":
		if !end {
			// Everything the node was doing is lost: waiting requests fail,
			// pending events for this incarnation will be dropped, and its
			// leases stay in the stores until their TTL.
			n.crashed = true
			n.inc++
			w.served[locks.ServedError] += uint64(n.outstanding)
			w.crashedErrors += uint64(n.outstanding)
			n.outstanding = 0
			addStats(&n.retired, n.m.Stats())
			n.timers = n.timers[:0]
			n.held = n.held[:0]
			return
		}
		m, err := w.newMachine()
		if err != nil { // cannot happen: the same config built the first one
			panic(err)
		}
		n.m, n.crashed = m, false
	case "node-pause":
		if !end {
			n.paused = true
			return
		}
		n.paused = false
		held := n.held
		n.held = nil
		for _, ev := range held {
			if n.paused || n.crashed {
				break
			}
			if ev.Kind == evArrival {
				w.request(now, ev.Target, int(ev.A))
				continue
			}
			w.deliver(now, ev)
		}
	}
}

func addStats(dst *locks.Stats, s locks.Stats) {
	dst.Requests += s.Requests
	for i := range s.Served {
		dst.Served[i] += s.Served[i]
	}
	for i := range s.Fetches {
		dst.Fetches[i] += s.Fetches[i]
	}
	dst.UpstreamErrors += s.UpstreamErrors
	for i := range s.Levels {
		d, l := &dst.Levels[i], s.Levels[i]
		d.Acquisitions += l.Acquisitions
		d.Waits += l.Waits
		d.Timeouts += l.Timeouts
		d.PeakContenders = max(d.PeakContenders, l.PeakContenders)
	}
	for i := range s.Ops {
		dst.Ops[i] += s.Ops[i]
	}
	dst.StoreErrors += s.StoreErrors
	dst.LeasesLost += s.LeasesLost
	dst.WritesRefused += s.WritesRefused
	dst.LateReplies += s.LateReplies
}

// --- results --------------------------------------------------------------------------

func (w *world) results() reports.Run {
	var st locks.Stats
	var unfinished uint64
	for i := range w.nodes {
		n := &w.nodes[i]
		unfinished += uint64(n.outstanding)
		for _, ev := range n.held {
			if ev.Kind == evArrival {
				unfinished++
			}
		}
		addStats(&st, n.retired)
		if n.m != nil {
			addStats(&st, n.m.Stats())
		}
	}
	run := reports.Run{
		Topology:             w.topo.Name,
		Requests:             w.requests,
		Unfinished:           unfinished,
		UpstreamCallsByCause: map[string]uint64{},
		DuplicatesByCause:    map[string]uint64{},
		UpstreamErrors:       w.upErrorsN,
		StoreOpsByKind:       map[string]uint64{},
		StoreErrors:          w.storeErrors,
		LeasesLost:           st.LeasesLost,
		WritesRefused:        st.WritesRefused,
		Events:               w.eng.Executed(),
		SimSeconds:           w.eng.Now().Duration().Seconds(),
	}
	for c := locks.Cause(0); c < locks.NumCauses; c++ {
		if n := w.upstream[c]; n > 0 {
			run.UpstreamCalls += n
			run.UpstreamCallsByCause[c.String()] = n
		}
		if n := w.duplicates[c]; n > 0 {
			run.DuplicateUpstreamCalls += n
			name := c.String()
			if c == locks.CauseHolder {
				name = "lease-expired" // two holders at once: a lease ran out under a live holder
			}
			run.DuplicatesByCause[name] = n
		}
	}
	for k := locks.OpKind(0); k < locks.NumOpKinds; k++ {
		if n := w.opsByKind[k]; n > 0 {
			run.StoreOps += n
			run.StoreOpsByKind[k.String()] = n
		}
	}
	run.Served = reports.Served{
		Hit: w.served[locks.ServedHit], Collapsed: w.served[locks.ServedCollapsed], Fetched: w.served[locks.ServedFetched],
		Hedged: w.served[locks.ServedHedged], Stale: w.served[locks.ServedStale], Error: w.served[locks.ServedError],
	}
	for i, l := range w.topo.Levels {
		lr := reports.Level{
			Name: l.LevelName(), Scope: l.Scope.String(),
			Acquisitions: st.Levels[i].Acquisitions, Waits: st.Levels[i].Waits, Timeouts: st.Levels[i].Timeouts,
			PeakContenders: w.levelPeak[i],
		}
		if l.Scope == locks.ScopeNode {
			lr.PeakContenders = st.Levels[i].PeakContenders
		}
		run.Levels = append(run.Levels, lr)
	}
	ms := func(us int64) float64 { return float64(us) / 1000 }
	h := w.latency.all()
	run.LatencyMs = reports.Latency{
		P50: ms(h.ValueAtQuantile(50)), P90: ms(h.ValueAtQuantile(90)), P99: ms(h.ValueAtQuantile(99)),
		P999: ms(h.ValueAtQuantile(99.9)), Max: ms(h.Max()), Mean: round3(h.Mean() / 1000),
	}
	simDur := w.eng.Now().Duration()
	for i := range w.stores {
		s := &w.stores[i]
		if s.ops == 0 {
			continue
		}
		run.StoreCommands += s.commands
		wait := s.wait.all()
		sr := reports.Store{
			Name: s.name, Scope: s.scope.String(), Ops: s.ops, Commands: s.commands,
			PeakQueue: s.peakQueue,
			QueueWaitMs: reports.QueueWait{
				Mean: round3(s.waitSum / float64(s.ops) / 1e6),
				P50:  ms(wait.ValueAtQuantile(50)), P99: ms(wait.ValueAtQuantile(99)), Max: ms(wait.Max()),
			},
		}
		if simDur > 0 {
			sr.Utilisation = round3(float64(s.busy) / float64(simDur))
		}
		run.Stores = append(run.Stores, sr)
	}
	// Peak store operations per second, from the per-second counts.
	for _, n := range w.sStoreOps {
		run.PeakStoreOpsPerSec = max(run.PeakStoreOpsPerSec, n)
	}
	if w.series {
		w.closeSecond()
		secs := int(math.Ceil(simDur.Seconds()))
		s := &reports.Series{
			Requests: pad(w.sRequests, secs), UpstreamCalls: pad(w.sUpstream, secs),
			StoreOps: pad(w.sStoreOps, secs), Errors: pad(w.sErrors, secs), LatencyP99Ms: padF(w.sP99, secs),
		}
		for i := range w.topo.Levels {
			// The node level's series stays zero: per-node collapsing is
			// counted by the machines as a whole-run peak.
			s.PeakContenders = append(s.PeakContenders, padI(w.sContenders[i], secs))
		}
		run.Series = s
	}
	return run
}

// histogram is an HDR histogram (microseconds, up to an hour) that counts
// zeros on the side: most latencies and store waits are zero (node-cache
// hits, an idle store), and a count is cheaper than a histogram update.
// all folds them in.
type histogram struct {
	h     *hdrhistogram.Histogram
	zeros int64
}

func newHistogram(significantDigits int) histogram {
	return histogram{h: hdrhistogram.New(0, 3_600_000_000, significantDigits)}
}

// record adds v.
func (h *histogram) record(v int64) {
	if v == 0 {
		h.zeros++
		return
	}
	_ = h.h.RecordValue(v)
}

// all returns the histogram of every value recorded.
func (h *histogram) all() *hdrhistogram.Histogram {
	if h.zeros > 0 {
		_ = h.h.RecordValues(0, h.zeros)
		h.zeros = 0
	}
	return h.h
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

func pad(s []uint64, n int) []uint64 {
	out := make([]uint64, max(n, len(s)))
	copy(out, s)
	return out
}

func padF(s []float64, n int) []float64 {
	out := make([]float64, max(n, len(s)))
	copy(out, s)
	return out
}

func padI(s []int, n int) []int {
	out := make([]int, max(n, len(s)))
	copy(out, s)
	return out
}

// LockInstance numbers the lock that decides node's upstream calls under
// topo: the store instance of the outermost shared level (zones first, then
// regions, then the global store, as the simulator lays stores out), or,
// for a topology without a shared level, -1-node (each node decides alone).
func LockInstance(s topology.Shape, topo locks.Topology, node int) int {
	if len(topo.Levels) == 0 || !topo.Levels[len(topo.Levels)-1].Scope.Shared() {
		return -1 - node
	}
	switch topo.Levels[len(topo.Levels)-1].Scope {
	case locks.ScopeZone:
		return s.ZoneID(node)
	case locks.ScopeRegion:
		return s.Zones() + s.RegionID(node)
	}
	return s.Zones() + s.Regions
}

// slab holds records addressed by index (events carry the index, not a
// pointer), reusing freed ones so that nothing is allocated once warm.
type slab[T any] struct {
	items []T
	freed []int32
}

// alloc returns the index of a zeroed record.
func (s *slab[T]) alloc() int32 {
	if n := len(s.freed); n > 0 {
		i := s.freed[n-1]
		s.freed = s.freed[:n-1]
		return i
	}
	var zero T
	s.items = append(s.items, zero)
	return int32(len(s.items) - 1)
}

// free zeroes record i and makes it available again.
func (s *slab[T]) free(i int32) {
	var zero T
	s.items[i] = zero
	s.freed = append(s.freed, i)
}
