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

// networkFault says whether a fault kind is injected through the proxies
// between the drivers and the store.
func networkFault(kind string) bool {
	return kind == scenarios.FaultStoreOutage || kind == scenarios.FaultStoreSlowdown || kind == scenarios.FaultPartition
}

// needsProxies says whether sc's faults need a proxy between each driver
// and each store: to cut one off (an outage, a partition), to slow it, or
// to cut a crashed node off from everything at once.
func needsProxies(sc *scenarios.Scenario) bool {
	for _, f := range sc.Faults {
		if networkFault(f.Kind) || f.Kind == scenarios.FaultNodeCrash {
			return true
		}
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
//   - node-pause: the node's driver is frozen (real.Driver.Freeze) and
//     thawed at the end, when it handles everything that waited;
//   - upstream-slowdown and upstream-errors: the fetch functions multiply
//     their latencies, or fail the calls whose identity draws below the
//     rate, while the fault is on (see fetcher).
type realFaults struct {
	w     *realWorld
	steps []faultStep
	next  int
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
	cuts      [][][2]time.Duration // per node, when it was cut off from a store (an outage, a partition, a crash)
	upFactor  float64              // the upstream-slowdown in force, 1 for none
	upErrRate float64              // the upstream-errors rate in force
}

type proxyKey struct {
	node  int
	scope locks.Scope
}

// newRealFaults prepares sc's faults for w. When they need proxies, it
// starts one per node and shared scope of w's topology in front of addr and
// a client for each, with the scenario's connect timeout as its dial, read
// and write timeout.
func newRealFaults(w *realWorld, sc *scenarios.Scenario, addr string, ignore bool) (*realFaults, error) {
	n := w.shape.Nodes()
	f := &realFaults{w: w, ignore: ignore, applied: make([][2]time.Duration, len(sc.Faults)),
		crashed: make([]bool, n), closing: make([]chan struct{}, n), thaw: make([]func(), n), upFactor: 1}
	for i, ft := range sc.Faults {
		f.steps = append(f.steps, faultStep{ft.At.D(), i, false}, faultStep{ft.At.D() + ft.For.D(), i, true})
		f.applied[i] = [2]time.Duration{ft.At.D(), ft.At.D() + ft.For.D()}
	}
	slices.SortStableFunc(f.steps, func(a, b faultStep) int { return cmp.Compare(a.at, b.at) })
	if !needsProxies(sc) || ignore {
		return f, nil
	}
	if addr == "" {
		return nil, errors.New("the scenario's network faults need one server to put proxies in front of, not a Cluster")
	}
	f.proxies, f.clients = map[proxyKey]*faultproxy.Proxy{}, map[proxyKey]redis.UniversalClient{}
	timeout := sc.Store.ConnectTimeout.D()
	for node := range n {
		for _, l := range w.topo.Levels {
			k := proxyKey{node, l.Scope}
			if !l.Scope.Shared() || f.proxies[k] != nil {
				continue
			}
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
	}
	return f, nil
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
			return fmt.Errorf("faults[%d] (%s) %s: %w", s.fault, f.w.sc.Faults[s.fault].Kind, map[bool]string{false: "start", true: "end"}[s.end], err)
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
	ft := f.w.sc.Faults[s.fault]
	switch ft.Kind {
	case scenarios.FaultStoreOutage, scenarios.FaultStoreSlowdown:
		store, err := storeOfFault(f.w.shape, ft)
		if err != nil {
			return err
		}
		for k, p := range f.proxies {
			if f.w.shape.StoreOf(k.node, topology.Scope(k.scope)) != store {
				continue
			}
			if ft.Kind == scenarios.FaultStoreOutage {
				f.cut(k.node, s.end)
			}
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
		node, err := f.node(ft)
		if err != nil {
			return err
		}
		scope, err := locks.ParseScope(ft.Scope)
		if err != nil {
			return err
		}
		if p := f.proxies[proxyKey{node, scope}]; p != nil {
			f.cut(node, s.end)
			if s.end {
				return p.Heal()
			}
			return p.Hang()
		}
	case scenarios.FaultNodeCrash:
		node, err := f.node(ft)
		if err != nil {
			return err
		}
		f.cut(node, s.end)
		if s.end {
			return f.restart(ctx, node)
		}
		f.crash(node)
	case scenarios.FaultNodePause:
		node, err := f.node(ft)
		if err != nil {
			return err
		}
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
			thaw := d.Freeze()
			f.mu.Lock()
			f.thaw[node] = thaw
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

// cut notes that node was cut off from a store (or is no longer, at end).
func (f *realFaults) cut(node int, end bool) {
	now := time.Since(f.w.start)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cuts == nil {
		f.cuts = make([][][2]time.Duration, len(f.crashed))
	}
	c := f.cuts[node]
	if !end {
		f.cuts[node] = append(c, [2]time.Duration{now, time.Duration(math.MaxInt64)})
	} else if len(c) > 0 {
		c[len(c)-1][1] = now
	}
}

// wasCut says whether node was cut off from a store at some moment between
// from and to: a round trip then took what the fault made it take, which
// the retimed runs model themselves (an operation to a store that is down
// fails after the connect timeout), and must not take as a network delay.
func (f *realFaults) wasCut(node int, from, to time.Duration) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cuts == nil {
		return false
	}
	for _, c := range f.cuts[node] {
		if from <= c[1] && c[0] <= to {
			return true
		}
	}
	return false
}

func (f *realFaults) node(ft scenarios.Fault) (int, error) {
	n, err := f.w.shape.ParseNode(ft.Node)
	if err != nil {
		return 0, err
	}
	return f.w.shape.ID(n), nil
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

// retimed returns a copy of sc with each fault where it happened on the
// real side, for the runs that simulate it again at the real run's timing.
func (f *realFaults) retimed(sc *scenarios.Scenario) *scenarios.Scenario {
	c := clone(sc)
	for i, a := range f.applied {
		c.Faults[i].At = scenarios.Duration(a[0])
		c.Faults[i].For = scenarios.Duration(max(a[1]-a[0], time.Microsecond))
	}
	return c
}

// storeOfFault numbers the store a store-outage or store-slowdown names, as
// topology.Shape.StoreOf does.
func storeOfFault(s topology.Shape, f scenarios.Fault) (int, error) {
	scope, err := locks.ParseScope(f.Scope)
	if err != nil {
		return 0, err
	}
	switch scope {
	case locks.ScopeZone:
		return s.StoreOf(s.ID(topology.Node{Region: f.Region, Zone: f.Zone}), topology.ScopeZone), nil
	case locks.ScopeRegion:
		return s.StoreOf(s.ID(topology.Node{Region: f.Region}), topology.ScopeRegion), nil
	case locks.ScopeGlobal:
		return s.StoreOf(0, topology.ScopeGlobal), nil
	}
	return 0, fmt.Errorf("scope %q has no store", f.Scope)
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
func retimedFaultCounts(sc *scenarios.Scenario) bool {
	for _, f := range sc.Faults {
		if f.Kind == scenarios.FaultNodePause || f.Kind == scenarios.FaultPartition {
			return true
		}
	}
	return false
}

// slowestUpstream is the upstream latency that bounds whether anyone
// hedges: its 99.9th percentile, times the largest upstream-slowdown.
func slowestUpstream(sc *scenarios.Scenario, p999 time.Duration) time.Duration {
	factor := 1.0
	for _, f := range sc.Faults {
		if f.Kind == scenarios.FaultUpstreamSlowdown {
			factor = math.Max(factor, f.Factor)
		}
	}
	return time.Duration(float64(p999) * factor)
}
