package validate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/redis/go-redis/v9"

	"github.com/stampsim/stampsim/internal/counting"
	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/real"
	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/topology"
	"github.com/stampsim/stampsim/world"
)

// arrival is one request of the workload: when, at which node, which key.
type arrival struct {
	at        time.Duration
	node, key int
}

// realWorld runs one topology for real: one driver per node, every request
// of the simulated run replayed at its time, and everything the simulator
// counts counted again through the drivers' Observer.
type realWorld struct {
	sc *scenarios.Scenario
	// rs is sc resolved, whose faults the real side injects.
	rs *scenarios.Resolved
	// topo is the topology the simulator ran, which decides the upstream
	// latency of each call (world.LockInstance); realTopo the one the
	// drivers run, which their level numbers index: the same, unless
	// validation injects a fault into the real side (withoutNodeLevel).
	topo, realTopo locks.Topology
	shape          topology.Shape
	client         redis.UniversalClient
	prefix         string

	// storeAddr is the server's address, for the fault proxies ("" for a
	// Cluster); ignoreFaults makes the real side inject no fault.
	storeAddr    string
	ignoreFaults bool
	faults       *realFaults
	errorDraw    func(lock, key, n int) float64
	// drivers holds each node's driver, replaced when a crashed node
	// restarts (under faults.mu); retired the crashed ones, for their
	// counts.
	drivers []*real.Driver
	retired []*real.Driver

	start time.Time
	// pace is the replay's pacer, sent the requests at the times it sent
	// them, and timed each node's script operations (under mu), for the
	// retimed simulation.
	pace  *pacer
	sent  []world.Arrival
	timed [][]roundTrip
	// lags are how long each request's goroutine took to start once sent:
	// the measure of the waits for the CPU that the driver's own steps
	// (its mutex, the goroutines that hand a reply on) meet unmeasured.
	lags []time.Duration
	// hits are how long requests served from a cache took in Do.
	hitMu sync.Mutex
	hits  []time.Duration

	mu          sync.Mutex
	contenders  map[contKey]int
	levelPeak   [locks.MaxLevels]int
	opsByKind   [locks.NumOpKinds]uint64
	perSecond   []uint64
	served      [locks.NumServed]uint64
	causes      [locks.NumCauses]uint64
	replyLat    *hdrhistogram.Histogram
	commands    atomic.Uint64
	dups        *counting.Duplicates
	duplicates  uint64
	latency     func(lock, key, n int) time.Duration
	upCalls     map[int64]int
	upInflight  int
	fetchSerial atomic.Uint64

	// draws are the arrivals' XFetch draws (policies.go), by arrival.
	draws []float64
}

// scopePrefix is the key prefix of the store instance of scope that node
// uses: one server holds every zone's, region's and the global store apart.
func (w *realWorld) scopePrefix(node int, scope locks.Scope) string {
	return w.prefix + "s" + strconv.Itoa(w.shape.StoreOf(node, topology.Scope(scope))) + ":"
}

func (w *realWorld) run(ctx context.Context, arrivals []arrival) (reports.Run, error) {
	wallStart := time.Now()
	w.contenders = make(map[contKey]int)
	w.timed = make([][]roundTrip, w.shape.Nodes())
	jitter, _ := w.sc.CachePolicies(w.topo.Name)
	w.dups = counting.NewDuplicates(w.shape.Regions, counting.DuplicateWindow(w.sc.Cache.SharedTTL.D(), jitter))
	w.upCalls = make(map[int64]int)
	w.replyLat = hdrhistogram.New(0, 3_600_000_000, 3)
	var err error

	if w.faults, err = newRealFaults(w, w.storeAddr, w.ignoreFaults); err != nil {
		return reports.Run{}, err
	}
	defer w.faults.close()
	w.drivers = make([]*real.Driver, w.shape.Nodes())
	defer func() {
		for _, d := range append(w.drivers, w.retired...) {
			if d != nil {
				d.Close()
			}
		}
	}()
	for i := range w.drivers {
		if w.drivers[i], err = w.newDriver(ctx, i); err != nil {
			return reports.Run{}, err
		}
	}

	keys := map[int]string{}
	for _, a := range arrivals {
		if _, ok := keys[a.key]; !ok {
			keys[a.key] = "k" + strconv.Itoa(a.key)
		}
	}
	w.draws = arrivalDraws(arrivals, xfetchDraw(w.sc))
	w.start = time.Now()
	w.pace = newPacer(w.start)
	w.sent = make([]world.Arrival, len(arrivals))
	var wg sync.WaitGroup
	w.lags = make([]time.Duration, len(arrivals))
	for i, a := range arrivals {
		err := w.faults.until(ctx, a.at)
		var sent time.Duration
		if err == nil {
			sent, err = w.pace.wait(ctx, a.at)
		}
		if err != nil {
			w.faults.thawAll()
			wg.Wait()
			return reports.Run{}, err
		}
		wg.Add(1)
		go func(i int, a arrival) {
			defer wg.Done()
			// The request reaches its driver when this goroutine runs,
			// which on a busy machine can be some time after it was sent.
			at := time.Since(w.start)
			w.sent[i], w.lags[i] = world.Arrival{At: at, Node: a.node, Key: a.key}, at-sent
			d, crashed := w.driver(a.node)
			if crashed {
				w.failCrashed() // as the simulator fails a request to a crashed node
				return
			}
			res, err := d.DoDrawn(ctx, keys[a.key], w.draws[i], w.fetcher(a.node, a.key))
			if errors.Is(err, real.ErrClosed) {
				w.failCrashed() // it crashed as the request came
				return
			}
			if err == nil && res.Served == locks.ServedHit {
				// A hit goes through the driver's mutex and the machine
				// and back: how long that takes is the wait that every
				// request meets between its goroutine starting and the
				// machine taking it.
				w.hitMu.Lock()
				w.hits = append(w.hits, time.Since(w.start)-at)
				w.hitMu.Unlock()
			}
		}(i, a)
	}
	// Faults that end after the last arrival end too: a paused node wakes,
	// a crashed one restarts.
	if err := w.faults.until(ctx, time.Duration(math.MaxInt64)); err != nil {
		w.faults.thawAll()
		wg.Wait()
		return reports.Run{}, err
	}
	wg.Wait()
	slices.SortStableFunc(w.sent, func(a, b world.Arrival) int { return cmp.Compare(a.At, b.At) })
	simEnd := time.Since(w.start)
	// Publishes run after their replies: closing the drivers waits for
	// every operation, so that nothing is counted after the counts are read.
	all := append(slices.Clone(w.drivers), w.retired...)
	for _, d := range all {
		if err := d.Close(); err != nil {
			return reports.Run{}, fmt.Errorf("closing a driver: %w", err)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()

	// The same builder as the simulator's assembles the run, from what the
	// drivers and their observers counted.
	c := counting.Counts{
		Topology: w.drivers[0].Topology(), Requests: uint64(len(arrivals)), Served: w.served, Upstream: w.causes,
		UncausedDuplicates: w.duplicates, StoreOps: w.opsByKind, StoreCommands: w.commands.Load(),
		Contenders: w.levelPeak, Latency: w.replyLat, SimSeconds: simEnd.Seconds(),
	}
	for _, d := range all {
		st := d.Stats()
		for i, l := range st.Levels {
			lv := &c.Levels[i]
			lv.Acquisitions += l.Acquisitions
			lv.Waits += l.Waits
			lv.Timeouts += l.Timeouts
			lv.PeakContenders = max(lv.PeakContenders, l.PeakContenders)
		}
		c.LeasesLost += st.LeasesLost
		c.WritesRefused += st.WritesRefused
		c.StoreErrors += st.StoreErrors
		c.Refreshes += st.Refreshes
		c.EarlyRefreshes += st.EarlyRefreshes
		c.EarlyReads += st.EarlyReads
		for o, n := range st.RefreshOutcomes {
			c.RefreshOutcomes[o] += n
		}
	}
	for _, n := range w.perSecond {
		c.PeakStoreOpsPerSec = max(c.PeakStoreOpsPerSec, n)
	}
	run := c.Run()
	run.WallSeconds = time.Since(wallStart).Seconds()
	return run, nil
}

// newDriver makes and readies node's driver, on the clients of its proxies
// when the faults need them.
func (w *realWorld) newDriver(ctx context.Context, node int) (*real.Driver, error) {
	nodeTTL := w.sc.Cache.NodeTTL.D()
	if nodeTTL == 0 {
		nodeTTL = -1 // real: negative switches the node cache off
	}
	jitter, beta := w.sc.CachePolicies(w.topo.Name)
	prefixes := map[locks.Scope]string{}
	clients := map[locks.Scope]redis.UniversalClient{}
	for _, s := range []locks.Scope{locks.ScopeZone, locks.ScopeRegion, locks.ScopeGlobal} {
		prefixes[s] = w.scopePrefix(node, s)
		clients[s] = w.faults.client(node, s)
	}
	d, err := real.New(real.Options{
		Topology:       w.realTopo,
		Clients:        clients,
		ScopePrefixes:  prefixes,
		NodeCacheTTL:   nodeTTL,
		SharedCacheTTL: w.sc.Cache.SharedTTL.D(),
		StaleFor:       w.sc.Cache.StaleFor.D(),
		TTLJitter:      jitter,
		XFetchBeta:     beta,
		MaxRefreshes:   maxRefreshes,
		FetchTimeout:   time.Minute,
		Observer:       nodeObserver{w, node},
	})
	if err != nil {
		return nil, fmt.Errorf("driver for node %d: %w", node, err)
	}
	if err := d.LoadScripts(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("loading scripts: %w", err)
	}
	return d, nil
}

// withoutNodeLevel returns t without its node level, if it has one: the
// fault that Options.SkipNodeLevel injects into the real side only, so that
// validation shows it notices a real side that does not run the protocol it
// was given. It keeps t's name, as the real side reports the topology it was
// asked for.
func withoutNodeLevel(t locks.Topology) locks.Topology {
	out := locks.Topology{Name: t.Name}
	for _, l := range t.Levels {
		if l.Scope != locks.ScopeNode {
			out.Levels = append(out.Levels, l)
		}
	}
	return out
}

// driver returns node's driver, and whether the node is down (crashed).
func (w *realWorld) driver(node int) (*real.Driver, bool) {
	w.faults.mu.Lock()
	defer w.faults.mu.Unlock()
	return w.drivers[node], w.faults.crashed[node]
}

// failCrashed counts a request that reached a crashed node: it fails at
// once.
func (w *realWorld) failCrashed() {
	w.mu.Lock()
	w.served[locks.ServedError]++
	w.mu.Unlock()
}
