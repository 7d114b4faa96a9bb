package locks_test

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
)

// FuzzMachines feeds random interleavings of inputs to several machines
// sharing the reference stores, and checks the protocol's invariants after
// every step:
//
//   - every request gets at most one reply, and none after it was
//     cancelled; once the run is drained (faults off, time past every
//     deadline), every request that was not cancelled has exactly one, no
//     flight is left and no contender is counted;
//   - a value replied was produced by a finished upstream call for that key;
//     an error replied is a wait timeout that had passed, an abort, or an
//     upstream error that had happened;
//   - a store's accepted fence never goes down and is the fence of the value
//     it holds;
//   - an upstream call goes out as Fetch.Background exactly when nobody
//     waits in its flight, and a request that joins a flight whose call went
//     out so gets EffectExpediteFetch, once per call
//     (harness_background_test.go);
//   - in a clean run (no pauses, no store faults, no aborts, timeouts and
//     cache TTLs longer than the run): at most one upstream call per key for
//     each instance of the outermost scope (per region for two-level and
//     one-level, per node for node-only, one in all for global and
//     fanout-tree), not counting calls that failed or were cancelled, and at
//     most one contender per node at a shared level below a node level.
//
// The first bytes choose the world (see newFuzzWorld); each further byte
// is a step: deliver one of the pending deliveries (any one that is first on
// its connection: store requests and replies keep their order per
// connection, everything else may overtake), make a request, cancel one,
// pause a node, fail or heal a store, make the next upstream call fail, jump
// the clock, abort a node.
func FuzzMachines(f *testing.F) {
	for _, seed := range fuzzSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fz := newFuzzWorld(t, data)
		fz.run()
	})
}

// fuzzSeeds are inputs that reach each topology, in clean and faulty runs.
func fuzzSeeds() [][]byte {
	var seeds [][]byte
	steps := []byte{
		7, 0, 0, 7, 1, 0, 7, 2, 0, 0, 0, 1, 0, 2, 9, 0, 3, 0, 15, 15, 12, 7, 0, 1, 15, 15, 15, 0, 1, 2,
		13, 3, 7, 1, 1, 8, 2, 0, 15, 15, 10, 0, 11, 0, 15, 15, 15, 15, 11, 0, 15, 14, 1, 15, 15, 15,
	}
	for topo := range len(locks.Builtins) {
		for _, mode := range []byte{0, 1, 2, 3, 0x1d, 0x41, 0x7d, 0xe1} {
			seeds = append(seeds, append([]byte{byte(topo), mode, 0x1b, 0x24, 0x35, 0x46, 0}, steps...))
		}
		// The cache policies, each alone and all together, in faulty runs.
		for _, pol := range []byte{1, 2, 4, 8, 16, 0x32, 0x3f} {
			seeds = append(seeds, append([]byte{byte(topo), 0x21, 0x1b, 0x24, 0x35, 0x46, pol}, steps...))
		}
	}
	// Requests that join a background refresh's call on its way.
	seeds = append(seeds, fuzzJoinSeeds...)
	return seeds
}

// byteSource hands out the fuzz input a byte at a time, then zeros.
type byteSource struct {
	b []byte
	i int
}

func (s *byteSource) next() byte {
	if s.i >= len(s.b) {
		return 0
	}
	c := s.b[s.i]
	s.i++
	return c
}

func (s *byteSource) done() bool { return s.i >= len(s.b) }

// pick returns a number in [0, n).
func (s *byteSource) pick(n int) int { return int(s.next()) % n }

// maxFuzzSteps bounds a run, so that every execution stays fast.
const maxFuzzSteps = 400

type fuzzWorld struct {
	*world
	src   byteSource
	clean bool
	keys  []string
	// failNext makes that many of the next upstream calls fail.
	failNext int
	hadFault bool // a store answered StatusError or dropped an operation
	// outer is the index of the outermost level, and nodeLevel whether the
	// topology starts with one.
	outer     int
	nodeLevel bool
}

// The tables the world's timings are chosen from in a faulty run.
var (
	fuzzLeases   = []time.Duration{10 * ms, 50 * ms, 300 * ms, 2 * time.Second}
	fuzzWaits    = []time.Duration{5 * ms, 30 * ms, 100 * ms, 500 * ms}
	fuzzPolls    = []time.Duration{5 * ms, 20 * ms, 50 * ms, 100 * ms}
	fuzzUpstream = []time.Duration{ms, 30 * ms, 200 * ms, time.Second}
	fuzzLatency  = []time.Duration{0, ms / 2, ms, 5 * ms}
	fuzzPauses   = []time.Duration{10 * ms, 100 * ms, time.Second, 5 * time.Second}
	fuzzJumps    = []time.Duration{ms, 10 * ms, 100 * ms, time.Second}
)

// fuzzKeyNumber numbers two of the fuzzer's three keys.
func fuzzKeyNumber(key string) int {
	switch key {
	case "a":
		return 0
	case "b":
		return 1
	}
	return -1
}

// newFuzzWorld builds the world the first six bytes describe:
//
//	0: the topology (one of locks.Builtins)
//	1: bit 0 set: a faulty run (pauses, store faults, aborts, short
//	   timeouts); bit 1: poll instead of notify; bit 2: no lease renewal;
//	   bit 3: no node cache; bit 4: a stale window; bit 5: keys "a" and
//	   "b" numbered (SimHooks.NumberKeys), so kept in the slice, "c" not;
//	   bit 6: every machine shares node 0's effect buffers (ShareEffects);
//	   bit 7, with bit 5: requests come with their numbers (RequestNumbered)
//	2: nodes (1 to 5), regions (1 or 2), zones per region (1 or 2)
//	3: the on-timeout policy of each level, two bits each
//	4: lease TTL and wait timeout (faulty runs)
//	5: poll interval, upstream latency, store latency, number of keys
//	6: the cache policies: bit 0: TTL jitter 0.5; bit 1: XFetch (beta 1,
//	   every request with a draw); bit 2: a hard TTL at the node level (3
//	   node TTLs); bit 3: a hard TTL at every shared level (3 shared TTLs);
//	   bit 4: adaptive wait timeouts at every level (90th percentile, from
//	   a quarter to twice the wait timeout; in a clean run from the wait
//	   timeout up); bit 5: upstream calls reported with FetchedIn, at half
//	   the time since they were asked for
func newFuzzWorld(t *testing.T, data []byte) *fuzzWorld {
	fz := &fuzzWorld{src: byteSource{b: data}}
	s := &fz.src
	name := locks.Builtins[s.pick(len(locks.Builtins))].Name
	mode := s.next()
	fz.clean = mode&1 == 0
	shape := s.next()
	nodes, regions, zones := 1+int(shape)%5, 1+int(shape>>3)%2, 1+int(shape>>4)%2
	policies := s.next()
	timing := s.next()
	speeds := s.next()
	pol := s.next()
	fz.keys = []string{"a", "b", "c"}[:1+int(speeds>>6)%3]

	lease, wait := fuzzLeases[timing&3], fuzzWaits[timing>>2&3]
	poll := fuzzPolls[speeds&3]
	noRenew := mode&4 != 0
	if fz.clean {
		// Timeouts and leases longer than any run (a run advances the clock
		// by at most about a second per step), and no renewal, whose timer
		// would jump the clock by a third of the lease.
		lease, wait, poll, noRenew = time.Hour, time.Hour, time.Second, true
	}
	topo, err := locks.Builtin(name, locks.Level{LeaseTTL: lease, WaitTimeout: wait, PollInterval: poll})
	if err != nil {
		t.Fatal(err)
	}
	for i := range topo.Levels {
		l := &topo.Levels[i]
		l.OnTimeout = locks.Policy(int(policies>>(2*i)&3) % 3)
		l.NoRenew = noRenew
		if mode&2 != 0 {
			l.Wake = locks.WakePoll
		}
		if pol&16 != 0 {
			l.AdaptiveQuantile, l.AdaptiveFloor, l.AdaptiveCeiling = 0.9, wait/4, 2*wait
			if fz.clean {
				l.AdaptiveFloor = wait
			}
		}
	}
	cfg := worldConfig{
		Topology:       topo,
		Nodes:          nodesIn(nodes, regions, zones),
		NodeCacheTTL:   100 * ms,
		SharedCacheTTL: 200 * ms,
		Upstream:       fuzzUpstream[speeds>>2&3],
	}
	if fz.clean {
		cfg.NodeCacheTTL, cfg.SharedCacheTTL = 10*time.Hour, 10*time.Hour
	}
	if mode&8 != 0 && !(fz.clean && name == "node-only") {
		cfg.NodeCacheTTL = 0 // node-only's only cache is the node's: a clean run keeps it
	}
	if mode&16 != 0 {
		cfg.StaleFor = time.Second
	}
	if mode&32 != 0 {
		cfg.KeyNumbers = fuzzKeyNumber
		cfg.RequestNumbers = mode&128 != 0
	}
	cfg.ShareEffects = mode&64 != 0
	if pol&32 != 0 {
		// A driver that measures its calls itself, and started them late.
		cfg.FetchTook = func(elapsed time.Duration) time.Duration { return elapsed / 2 }
	}
	if pol&1 != 0 {
		cfg.TTLJitter = 0.5
	}
	if pol&2 != 0 {
		cfg.XFetchBeta = 1
		// A draw in (0, 1] that each request's number decides.
		cfg.Draw = func(id locks.ReqID) float64 { return float64(uint64(id)*2654435761%1000+1) / 1000 }
	}
	for i := range topo.Levels {
		l := &topo.Levels[i]
		switch {
		case l.Scope.Shared() && pol&8 != 0:
			l.HardTTL = 3 * cfg.SharedCacheTTL
		case !l.Scope.Shared() && pol&4 != 0 && cfg.NodeCacheTTL > 0:
			l.HardTTL = 3 * cfg.NodeCacheTTL
		}
	}
	lat := fuzzLatency[speeds>>4&3]
	cfg.Latency = [locks.MaxLevels]time.Duration{locks.ScopeZone: lat / 2, locks.ScopeRegion: lat, locks.ScopeGlobal: 4 * lat}
	cfg.UpstreamFn = func(n int, key string) (time.Duration, error) {
		if fz.failNext > 0 {
			fz.failNext--
			return cfg.Upstream, fmt.Errorf("upstream call %d for %q failed", n, key)
		}
		return cfg.Upstream, nil
	}
	fz.world = newWorld(t, cfg)
	fz.maxDeliveries = 200_000
	fz.outer = len(topo.Levels) - 1
	fz.nodeLevel = len(topo.Levels) > 0 && topo.Levels[0].Scope == locks.ScopeNode
	return fz
}

// run plays the steps, then drains.
func (fz *fuzzWorld) run() {
	for steps := 0; steps < maxFuzzSteps && !fz.src.done(); steps++ {
		fz.step()
		fz.check()
		if fz.tb.Failed() {
			fz.tb.Fatalf("after step %d:\n%s", steps, fz.describe())
		}
	}
	// Drain: no more faults; deliveries in time order until none is left,
	// which takes the clock past every deadline.
	for _, st := range fz.stores {
		st.down = false
	}
	fz.failNext = 0
	for len(fz.q) > 0 {
		fz.world.step()
		fz.check()
		if fz.tb.Failed() {
			fz.tb.Fatalf("while draining:\n%s", fz.describe())
		}
	}
	for _, st := range fz.stores {
		fz.hadFault = fz.hadFault || st.errors > 0 || st.dropped > 0
	}
	fz.settled(fz.hadFault)
}

func (fz *fuzzWorld) step() {
	s := &fz.src
	switch op := s.next() % 16; {
	case op <= 6:
		if c := fz.candidates(); len(c) > 0 {
			fz.deliver(c[s.pick(len(c))])
		}
	case op <= 8:
		n, key := s.pick(len(fz.nodes)), fz.keys[s.pick(len(fz.keys))]
		fz.request(fz.now, n, key)
	case op == 9:
		var open []*reqRec
		for _, r := range fz.reqs {
			if r.started && r.replies == 0 && !r.cancelled && !fz.cancelPending(r) {
				open = append(open, r)
			}
		}
		if len(open) > 0 {
			fz.cancel(fz.now, open[s.pick(len(open))].id)
		}
	case op == 10:
		n, d := s.pick(len(fz.nodes)), fuzzPauses[s.pick(len(fuzzPauses))]
		if !fz.clean {
			nd := fz.nodes[n]
			nd.pausedUntil = max(nd.pausedUntil, fz.now.Add(d))
		}
	case op == 11:
		if len(fz.stores) > 0 {
			st := fz.stores[s.pick(len(fz.stores))]
			st.down = st.down != !fz.clean // a clean run never fails a store
		}
	case op == 12:
		fz.failNext++
	case op == 13:
		jumps := fuzzJumps
		if fz.clean {
			jumps = jumps[:3]
		}
		fz.now = fz.now.Add(jumps[s.pick(len(jumps))])
	case op == 14 && !fz.clean:
		nd := fz.nodes[s.pick(len(fz.nodes))]
		nd.aborted = true
		nd.m.Abort(fz.now)
		fz.flush(nd)
	default:
		if len(fz.q) > 0 {
			fz.world.step()
		}
	}
}

func (fz *fuzzWorld) cancelPending(r *reqRec) bool {
	for _, e := range fz.q {
		if e.kind == evCancel && e.req == r {
			return true
		}
	}
	return false
}

// cleanHorizon is how far ahead of the clock a clean run may pick a
// delivery: picking a wait deadline an hour ahead would make the clock
// overtake the timeouts that a clean run promises never pass. Deliveries
// beyond it come in time order, as the run drains.
const cleanHorizon = 2 * time.Second

// candidates returns the deliveries that may come next: every pending one
// that is first on its connection, in the order they were scheduled.
func (fz *fuzzWorld) candidates() []*event {
	first := make(map[channel]*event)
	var out []*event
	for _, e := range fz.q {
		if fz.clean && e.at > fz.now.Add(cleanHorizon) {
			continue
		}
		c, ordered := e.channel()
		if !ordered {
			out = append(out, e)
			continue
		}
		if f := first[c]; f == nil || e.seq < f.seq {
			first[c] = e
		}
	}
	for _, e := range first {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b *event) int { return cmp.Compare(a.seq, b.seq) })
	return out
}

// check verifies what must hold after every step of a clean run (the
// harness checks the rest as it goes).
func (fz *fuzzWorld) check() {
	if !fz.clean || len(fz.cfg.Topology.Levels) == 0 {
		return
	}
	type group struct {
		scope int
		key   string
	}
	outer := fz.cfg.Topology.Levels[fz.outer].Scope
	calls := make(map[group]int)
	for _, f := range fz.fetches {
		if f.err != nil || f.cancelled {
			continue
		}
		g := group{key: f.fetch.Key}
		switch outer {
		case locks.ScopeNode:
			g.scope = f.node.id
		case locks.ScopeZone:
			g.scope = f.node.place.Region<<8 | f.node.place.Zone
		case locks.ScopeRegion:
			g.scope = f.node.place.Region
		}
		calls[g]++
		if calls[g] > 1 {
			fz.tb.Errorf("%v: %d upstream calls for %q in %s %d (none failed or cancelled), want at most 1", dur(fz.now), calls[g], g.key, outer, g.scope)
		}
	}
	if !fz.nodeLevel {
		return
	}
	for k, g := range fz.contenders {
		nodes := 0
		for _, n := range fz.nodes {
			if fz.storeFor(n, k.st.scope) == k.st {
				nodes++
			}
		}
		if g.cur > nodes {
			fz.tb.Errorf("%v: %d contenders of level %d at %s for %q, more than its %d nodes", dur(fz.now), g.cur, k.level, k.st.name, k.key, nodes)
		}
	}
}
