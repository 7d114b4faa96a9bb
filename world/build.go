package world

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/memstore"
	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/sim"
	"github.com/stampsim/stampsim/topology"
	"github.com/stampsim/stampsim/workloads"
)

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
		upErrorFn:   opt.UpstreamErrorDraw,
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

	w.dups = make([]byKey[dupState], w.shape.Regions)
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
		return w.shape.StoreOf(w.shape.ID(topology.Node{Region: f.Region, Zone: f.Zone}), topology.ScopeZone), nil
	case locks.ScopeRegion:
		if f.Region < 0 || f.Region >= w.shape.Regions {
			return 0, fmt.Errorf("no region store r%d", f.Region)
		}
		return w.shape.StoreOf(w.shape.ID(topology.Node{Region: f.Region}), topology.ScopeRegion), nil
	case locks.ScopeGlobal:
		return w.shape.StoreOf(0, topology.ScopeGlobal), nil
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
