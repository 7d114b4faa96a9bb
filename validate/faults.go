package validate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/stampsim/stampsim/internal/realhooks"
	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/real/faultproxy"
	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/topology"
)

// faultStep is the start or the end of one of the scenario's faults, at its
// time on the scaled timeline.
type faultStep struct {
	at    time.Duration
	fault int // index in the scenario's Faults
	end   bool
}

// needsProxy says whether a fault kind is injected through the proxies
// between the drivers and the stores: to cut a store off (an outage, a
// partition), to slow it, or to cut a crashed node off from everything at
// once.
func needsProxy(kind scenarios.FaultKind) bool {
	switch kind {
	case scenarios.FaultStoreOutage, scenarios.FaultStoreSlowdown, scenarios.FaultPartition, scenarios.FaultNodeCrash:
		return true
	}
	return false
}

// realFaults injects a scenario's faults into the real side, at the times
// the replay's pacer reaches them, so that a stall of the replay moves them
// with the traffic:
//
//   - store-outage: every proxy to the store hangs (operations fail after
//     the client's timeouts, the scenario's connect_timeout, as in the
//     simulator), and heals at the end;
//   - store-slowdown: every proxy to the store adds half of (factor-1)
//     service times each way, so that an operation takes factor service
//     times more; the store's throughput is not lowered, only its latency;
//   - partition: the node's proxy to the store of that scope hangs;
//   - node-crash: the node's proxies refuse and its driver is closed behind
//     them, so that nothing it does reaches the store (its leases stay
//     until their TTL); requests to it fail at once until it restarts,
//     with a new driver and an empty cache;
//   - node-pause: the node's driver is frozen (realhooks.FreezeDriver) and
//     thawed at the end, when it handles everything that waited;
//   - upstream-slowdown and upstream-errors: the fetch functions multiply
//     their latencies, or fail the calls whose identity draws below the
//     rate, while the fault is on (see fetcher).
type realFaults struct {
	w      *realWorld
	faults []scenarios.ResolvedFault
	steps  []faultStep
	next   int
	// applied holds when each fault started and ended on the real side, as
	// offsets from the run's start: the retimed runs put them there.
	applied [][2]time.Duration
	ignore  bool // inject nothing: a real side that ignores faults

	proxies map[proxyKey]*faultproxy.Proxy
	clients map[proxyKey]redis.UniversalClient

	mu        sync.Mutex
	crashed   []bool
	closing   []chan struct{} // closed when a crashed node's driver has closed
	thaw      []func()
	cuts      spans   // when each node was cut off from a store (an outage, a partition, a crash)
	frozen    spans   // when each node was paused
	upFactor  float64 // the upstream-slowdown in force, 1 for none
	upErrRate float64 // the upstream-errors rate in force
}

type proxyKey struct {
	node  int
	scope locks.Scope
}

// newRealFaults prepares w's faults (w.rs.Faults). When they need proxies,
// it starts one in front of addr for each link that a fault strikes
// (struckLinks) and a client for each, with the scenario's connect timeout
// as its dial, read and write timeout.
func newRealFaults(w *realWorld, addr string, ignore bool) (*realFaults, error) {
	n := w.shape.Nodes()
	faults := w.rs.Faults
	f := &realFaults{w: w, faults: faults, ignore: ignore, applied: make([][2]time.Duration, len(faults)),
		crashed: make([]bool, n), closing: make([]chan struct{}, n), thaw: make([]func(), n), upFactor: 1}
	proxied := false
	for i, ft := range faults {
		f.steps = append(f.steps, faultStep{ft.From, i, false}, faultStep{ft.To, i, true})
		f.applied[i] = [2]time.Duration{ft.From, ft.To}
		proxied = proxied || needsProxy(ft.Kind)
	}
	slices.SortStableFunc(f.steps, func(a, b faultStep) int { return cmp.Compare(a.at, b.at) })
	if !proxied || ignore {
		return f, nil
	}
	if addr == "" {
		return nil, errors.New("the scenario's network faults need one server to put proxies in front of, not a Cluster")
	}
	f.proxies, f.clients = map[proxyKey]*faultproxy.Proxy{}, map[proxyKey]redis.UniversalClient{}
	timeout := w.sc.Store.ConnectTimeout.D()
	for _, k := range struckLinks(w.shape, w.realTopo, faults) {
		p, err := faultproxy.New(addr)
		if err != nil {
			f.close()
			return nil, err
		}
		f.proxies[k] = p
		f.clients[k] = redis.NewClient(&redis.Options{
			Addr: p.Addr(), MaxRetries: -1, ContextTimeoutEnabled: true, PoolSize: poolSize, PoolTimeout: time.Minute,
			DialTimeout: timeout, ReadTimeout: timeout, WriteTimeout: timeout,
		})
	}
	return f, nil
}

// struckLinks returns, in order, the links between a node and the store of
// one of topo's shared scopes that a fault of faults strikes, and so need a
// proxy: every node's link to a store that is down or slowed, a partitioned
// node's to the store of its scope, and a crashed node's to every store.
// The others go straight to the server, as they would with no fault: a
// proxy costs every round trip through it some CPU (global under
// region-store-outage, whose outage strikes no store of global's, ran with
// a proxy per node at a script round trip of 38ms and made a tenth fewer
// round trips than its retimed runs).
func struckLinks(shape topology.Shape, topo locks.Topology, faults []scenarios.ResolvedFault) []proxyKey {
	struck := map[proxyKey]bool{}
	var out []proxyKey
	for node := range shape.Nodes() {
		for _, l := range topo.Levels {
			k := proxyKey{node, l.Scope}
			if !l.Scope.Shared() || struck[k] {
				continue
			}
			for _, ft := range faults {
				switch ft.Kind {
				case scenarios.FaultStoreOutage, scenarios.FaultStoreSlowdown:
					struck[k] = struck[k] || shape.StoreOf(node, topology.Scope(l.Scope)) == ft.Store
				case scenarios.FaultPartition:
					struck[k] = struck[k] || (ft.Node == node && ft.Scope == l.Scope)
				case scenarios.FaultNodeCrash:
					struck[k] = struck[k] || ft.Node == node
				}
			}
			if struck[k] {
				out = append(out, k)
			}
		}
	}
	return out
}

// client returns the client node's driver uses for scope.
func (f *realFaults) client(node int, scope locks.Scope) redis.UniversalClient {
	if c := f.clients[proxyKey{node, scope}]; c != nil {
		return c
	}
	return f.w.client
}

// close closes the clients and the proxies.
func (f *realFaults) close() {
	for _, c := range f.clients {
		c.Close()
	}
	for _, p := range f.proxies {
		p.Close()
	}
}

// until applies, in order, every fault step due at or before at, each when
// the pacer says its time has come.
func (f *realFaults) until(ctx context.Context, at time.Duration) error {
	for f.next < len(f.steps) && f.steps[f.next].at <= at {
		s := f.steps[f.next]
		f.next++
		if _, err := f.w.pace.wait(ctx, s.at); err != nil {
			return err
		}
		if err := f.apply(ctx, s); err != nil {
			return fmt.Errorf("faults[%d] (%s) %s: %w", s.fault, f.faults[s.fault].Kind, map[bool]string{false: "start", true: "end"}[s.end], err)
		}
		edge := 0
		if s.end {
			edge = 1
		}
		f.applied[s.fault][edge] = time.Since(f.w.start)
	}
	return nil
}

// apply starts or ends one fault on the real side.
func (f *realFaults) apply(ctx context.Context, s faultStep) error {
	if f.ignore {
		return nil
	}
	ft := f.faults[s.fault]
	switch ft.Kind {
	case scenarios.FaultStoreOutage, scenarios.FaultStoreSlowdown:
		for k, p := range f.proxies {
			if f.w.shape.StoreOf(k.node, topology.Scope(k.scope)) != ft.Store {
				continue
			}
			if ft.Kind == scenarios.FaultStoreOutage {
				f.cut(k.node, s.end)
			}
			var err error
			switch {
			case s.end:
				err = p.Heal()
			case ft.Kind == scenarios.FaultStoreOutage:
				err = p.Hang()
			default:
				extra := time.Duration((ft.Factor - 1) * float64(f.w.sc.Store.OpOverhead.D()))
				err = p.Slow(extra/2, 0)
			}
			if err != nil {
				return err
			}
		}
	case scenarios.FaultPartition:
		node := ft.Node
		if p := f.proxies[proxyKey{node, ft.Scope}]; p != nil {
			f.cut(node, s.end)
			if s.end {
				return p.Heal()
			}
			return p.Hang()
		}
	case scenarios.FaultNodeCrash:
		node := ft.Node
		f.cut(node, s.end)
		if s.end {
			return f.restart(ctx, node)
		}
		f.crash(node)
	case scenarios.FaultNodePause:
		node := ft.Node
		if s.end {
			f.mu.Lock()
			thaw := f.thaw[node]
			f.thaw[node] = nil
			f.mu.Unlock()
			if thaw != nil {
				thaw()
			}
			return nil
		}
		d, crashed := f.w.driver(node)
		if !crashed {
			f.mark(&f.frozen, node, false)
			thaw := realhooks.FreezeDriver(d)
			f.mu.Lock()
			f.thaw[node] = func() { thaw(); f.mark(&f.frozen, node, true) }
			f.mu.Unlock()
		}
	case scenarios.FaultUpstreamSlowdown:
		f.mu.Lock()
		f.upFactor = map[bool]float64{false: ft.Factor, true: 1}[s.end]
		f.mu.Unlock()
	case scenarios.FaultUpstreamErrors:
		f.mu.Lock()
		f.upErrRate = map[bool]float64{false: ft.Rate, true: 0}[s.end]
		f.mu.Unlock()
	default:
		return fmt.Errorf("unknown fault kind %q", ft.Kind)
	}
	return nil
}

// spans holds, per node, the spans of time (offsets from the run's start)
// during which a fault held it; an open span ends at math.MaxInt64.
type spans [][][2]time.Duration

// overlaps says whether one of node's spans meets [from, to].
func (s spans) overlaps(node int, from, to time.Duration) bool {
	if node >= len(s) {
		return false
	}
	for _, c := range s[node] {
		if from <= c[1] && c[0] <= to {
			return true
		}
	}
	return false
}

// mark opens a span of node in s now, or closes its last at end.
func (f *realFaults) mark(s *spans, node int, end bool) {
	now := time.Since(f.w.start)
	f.mu.Lock()
	defer f.mu.Unlock()
	if *s == nil {
		*s = make(spans, len(f.crashed))
	}
	c := (*s)[node]
	if !end {
		(*s)[node] = append(c, [2]time.Duration{now, time.Duration(math.MaxInt64)})
	} else if len(c) > 0 {
		c[len(c)-1][1] = now
	}
}

// cut notes that node was cut off from a store (or is no longer, at end).
func (f *realFaults) cut(node int, end bool) { f.mark(&f.cuts, node, end) }

// wasCut says whether node was cut off from a store at some moment between
// from and to.
func (f *realFaults) wasCut(node int, from, to time.Duration) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cuts.overlaps(node, from, to)
}

// wasHeld says whether a fault held node at some moment between from and
// to: it was cut off from a store, or paused. A round trip then took what
// the fault made it take (an operation to a store that is down fails after
// the connect timeout; a reply that reaches a paused node waits for the
// thaw), which the retimed runs model themselves, and must not take as a
// network delay: a round trip that a pause of 8s held, taken as 4s each
// way, made holder-pause's paused holder reach the store after the next
// holder had published, and fenced no one.
func (f *realFaults) wasHeld(node int, from, to time.Duration) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cuts.overlaps(node, from, to) || f.frozen.overlaps(node, from, to)
}

// crash abandons node's driver: its proxies refuse, so that nothing more of
// it reaches the store, and it is closed behind them, its callers failing.
func (f *realFaults) crash(node int) {
	for k, p := range f.proxies {
		if k.node == node {
			_ = p.Refuse() // a closed proxy refuses already
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.crashed[node] {
		return
	}
	f.crashed[node] = true
	d := f.w.drivers[node]
	f.w.retired = append(f.w.retired, d)
	done := make(chan struct{})
	f.closing[node] = done
	go func() { d.Close(); close(done) }()
}

// restart brings a crashed node back with a new driver, once the old one
// has closed and its proxies carry traffic again.
func (f *realFaults) restart(ctx context.Context, node int) error {
	f.mu.Lock()
	done := f.closing[node]
	f.mu.Unlock()
	if done == nil {
		return nil
	}
	<-done
	for k, p := range f.proxies {
		if k.node == node {
			if err := p.Heal(); err != nil {
				return err
			}
		}
	}
	d, err := f.w.newDriver(ctx, node)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.w.drivers[node], f.crashed[node], f.closing[node] = d, false, nil
	f.mu.Unlock()
	return nil
}

// thawAll thaws every paused node, so that a run that stops early does not
// leave its callers blocked.
func (f *realFaults) thawAll() {
	f.mu.Lock()
	thaws := slices.Clone(f.thaw)
	clear(f.thaw)
	f.mu.Unlock()
	for _, t := range thaws {
		if t != nil {
			t()
		}
	}
}

// upstream returns the upstream-slowdown factor and the upstream-errors
// rate in force.
func (f *realFaults) upstream() (factor, errRate float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.upFactor, f.upErrRate
}

// retimed returns a copy of rs with each fault where it happened on the
// real side, for the runs that simulate it again at the real run's timing.
// Only the resolved faults move, which are what the simulator reads.
func (f *realFaults) retimed(rs *scenarios.Resolved) *scenarios.Resolved {
	c := *rs
	c.Faults = slices.Clone(rs.Faults)
	for i, a := range f.applied {
		c.Faults[i].From = a[0]
		c.Faults[i].To = a[0] + max(a[1]-a[0], time.Microsecond)
	}
	return &c
}

// callErrorDraw returns the draw, in [0, 1), that decides whether the n-th
// call for key under lock fails during an upstream-errors fault: from the
// seed and the call's identity alone (as callLatency, with another mix), so
// that both sides fail the same calls.
func callErrorDraw(sc *scenarios.Scenario) func(lock, key, n int) float64 {
	seed := mix(sc.Seed ^ 0xe44042)
	return func(lock, key, n int) float64 {
		h := mix(seed ^ mix(uint64(int64(lock))<<40^uint64(key)<<16^uint64(n)))
		return float64(h>>11) / (1 << 53)
	}
}

// errUpstream is what a fetch function fails with during an upstream-errors
// fault.
var errUpstream = errors.New("upstream error (an upstream-errors fault)")

// retimedFaultCounts says whether the scenario's faults make writes_refused
// a count the protocol fixes, to be judged against the retimed runs: a pause
// or a partition that outlasts a holder's lease makes exactly as many stale
// writes as holders it stopped, and fencing refuses each.
func retimedFaultCounts(faults []scenarios.ResolvedFault) bool {
	for _, f := range faults {
		if f.Kind == scenarios.FaultNodePause || f.Kind == scenarios.FaultPartition {
			return true
		}
	}
	return false
}

// slowestUpstream is the upstream latency that bounds whether anyone
// hedges: its 99.9th percentile, times the largest upstream-slowdown.
func slowestUpstream(faults []scenarios.ResolvedFault, p999 time.Duration) time.Duration {
	factor := 1.0
	for _, f := range faults {
		if f.Kind == scenarios.FaultUpstreamSlowdown {
			factor = math.Max(factor, f.Factor)
		}
	}
	return time.Duration(float64(p999) * factor)
}
