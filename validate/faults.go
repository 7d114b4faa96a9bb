package validate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/stampsim/stampsim/internal/realhooks"
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
