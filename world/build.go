package world

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/stampsim/stampsim/internal/counting"
	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/memstore"
	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/sim"
	"github.com/stampsim/stampsim/topology"
	"github.com/stampsim/stampsim/workloads"
)

// build makes the world for one run. A fleet of a million nodes takes
// seconds to build, so ctx is checked between nodes too. What rs resolved
// (the shape, burst nodes and keys, fault kinds, nodes and stores) it takes
// as it is; the errors it returns are about topo, opt, and the
// distributions and rates that only package workloads can build.
func build(ctx context.Context, rs *scenarios.Resolved, topo locks.Topology, opt Options) (*world, error) {
	if err := topo.Validate(); err != nil {
		return nil, err
	}
	sc := rs.Scenario
	w := &world{
		sc:          sc,
		topo:        topo,
		end:         sim.FromDuration(sc.Duration.D()),
		latency:     newHistogram(3),
		onRequest:   opt.OnRequest,
		upLatencyFn: opt.UpstreamLatency,
		upErrorFn:   opt.UpstreamErrorDraw,
		upCalls:     make(map[int64]int),
		serviceTime: sc.Store.ServiceTime.D(),
		opOverhead:  sc.Store.OpOverhead.D(),
	}
	w.shape = rs.Shape
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
	ttlJitter, xfetchBeta := sc.CachePolicies(topo.Name)
	if xfetchBeta > 0 {
		// Its own stream, so that switching XFetch on changes no other
		// component's draws.
		w.rXFetch = streams.Stream("xfetch")
		if opt.XFetchDraw != nil {
			w.xfetchDrawFn, w.xfetchReqs = opt.XFetchDraw, make(map[int64]int)
		}
	}
	w.connectTimeout = sim.FromDuration(sc.Store.ConnectTimeout.D())

	var err error
	if w.zipf, err = workloads.NewZipf(streams.Stream("arrivals/key"), sc.Workload.ZipfS, sc.Workload.Keys); err != nil {
		return nil, fmt.Errorf("workload: %w", err)
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
		TTLJitter:      ttlJitter,
		XFetchBeta:     xfetchBeta,
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

	// Stores: one per zone, one per region, one global, in the order
	// topology.Shape.StoreOf numbers them.
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
	if opt.Series {
		limit := opt.seriesLimit
		if limit == 0 {
			limit = reports.MaxSeriesSamples
		}
		w.rec = w.newSeries(sim.FromDuration(sc.Step()), limit)
	}

	w.dups = counting.NewDuplicates(w.shape.Regions, counting.DuplicateWindow(sc.Cache.SharedTTL.D(), ttlJitter))
	w.nodes = make([]node, w.shape.Nodes())
	for id := range w.nodes {
		if id%sim.InterruptEvery == 0 && ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		n := &w.nodes[id]
		n.region = int32(w.shape.RegionID(id))
		for _, scope := range [...]locks.Scope{locks.ScopeZone, locks.ScopeRegion, locks.ScopeGlobal} {
			n.stores[scope] = int32(w.shape.StoreOf(id, topology.Scope(scope)))
		}
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
	for i, b := range rs.Bursts {
		if w.replay != nil {
			break
		}
		bs := burst{start: sim.FromDuration(b.At), key: b.Key, spread: workloads.NewSpread(b.Requests, b.Over)}
		for _, id := range b.Nodes {
			bs.nodes = append(bs.nodes, int32(id))
		}
		w.bursts = append(w.bursts, bs)
		w.nextBurst(i)
	}
	w.addFaults(rs.Faults)
	return w, nil
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
	hooks := m.SimHooks()
	// Every key of a world is "k<n>", which keyNumber numbers n, so every
	// operation and upstream call carries its key's number (Op.KeyNum) and
	// the world reads that, never the name.
	hooks.NumberKeys(keyNumber)
	// The world takes each input's effects before the next input, so its
	// machines can share one batch, which then stays in cache.
	if w.effectsOf == nil {
		w.effectsOf = m
	} else {
		hooks.ShareEffects(w.effectsOf)
	}
	return m, nil
}
