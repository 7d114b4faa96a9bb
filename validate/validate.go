// Package validate runs one scenario both ways — in the simulator (package
// world) and for real, with one production driver (package real) per
// simulated node against Redis — and compares what they count, so that the
// simulator earns trust.
//
// It scales a scenario down to what goroutines and wall-clock time carry,
// measures the real store's round trip and gives the simulator that latency,
// replays the simulated run's exact arrivals against the real drivers, and
// reports, per topology, both sets of counts and where they differ. It must
// not change how either side works: it only configures, runs and counts.
package validate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/workloads"
	"github.com/stampsim/stampsim/world"
)

// Schema names the version of the validation document.
const Schema = "stampsim/validate/v1"

// RoundTripTolerance is how far apart (as a fraction of the larger) the two
// sides' store round trips may be before validation fails.
const RoundTripTolerance = 0.10

// Options adjusts a validation.
type Options struct {
	// MaxNodes and MaxRequests bound the scaled scenario; defaults 20 and
	// 10,000.
	MaxNodes, MaxRequests int
	// Redis is the URL of a server to run against (redis://host:port/db);
	// empty means an embedded miniredis.
	Redis string
	// Cluster lists the addresses of a Redis Cluster to run against.
	Cluster []string
	// Topologies limits the run to these names; empty means the scenario's.
	Topologies []string
	// CalibrationSamples is the number of PINGs (and probe scripts) that
	// measure the store; default 300.
	CalibrationSamples int
	// StoreLoad bounds the traffic: one store operation per request at the
	// scenario's peak rate may keep the measured store at most this busy;
	// default DefaultStoreLoad. Above 1 it does not bind.
	StoreLoad float64
	// SkipNodeLevel makes the real drivers skip the node level: a fault
	// injected on the real side only, to show that validation notices.
	SkipNodeLevel bool
	// RealIgnoresFaults makes the real side inject none of the scenario's
	// faults while the simulator runs them all: a fault injected into the
	// real side only, to show that validation notices.
	RealIgnoresFaults bool
	// Log, if set, is told what validate is doing.
	Log func(format string, args ...any)
}

// Pair is one topology run both ways.
type Pair struct {
	Topology string      `json:"topology"`
	Sim      reports.Run `json:"sim"`
	Real     reports.Run `json:"real"`
	// Differences names every comparison that failed, with both values.
	Differences []string `json:"differences,omitempty"`
	// UpstreamCompared says whether upstream calls had to be equal (a
	// locking topology, wait timeouts longer than the upstream, slowed by
	// any upstream-slowdown, and no value expiring while its key is still
	// asked for).
	UpstreamCompared bool `json:"upstream_compared"`
	// Retimed is the simulator run again at the real run's timing, which the
	// real counts are judged against.
	Retimed Retimed `json:"retimed"`
}

// Report is the validation document.
type Report struct {
	Schema      string              `json:"schema"`
	Scenario    string              `json:"scenario"`
	Seed        uint64              `json:"seed"`
	Store       string              `json:"store"`
	Notes       []string            `json:"notes,omitempty"`
	Calibration Calibration         `json:"calibration"`
	Spec        *scenarios.Scenario `json:"scenario_spec"`
	Runs        []Pair              `json:"runs"`
	// Agree is false when any run has a difference.
	Agree bool `json:"agree"`
}

// Run validates sc. A report whose Agree is false is not an error: the
// caller decides (the CLI exits 3). Every key it creates in the store starts
// with a prefix of the run's own, and is deleted before it returns, also
// when it fails or ctx is cancelled.
func Run(ctx context.Context, sc *scenarios.Scenario, opt Options) (rep *Report, err error) {
	if opt.MaxNodes == 0 {
		opt.MaxNodes = 20
	}
	if opt.MaxRequests == 0 {
		opt.MaxRequests = 10_000
	}
	if opt.CalibrationSamples == 0 {
		opt.CalibrationSamples = 300
	}
	if opt.StoreLoad == 0 {
		opt.StoreLoad = DefaultStoreLoad
	}
	logf := opt.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	client, store, closeStore, err := connect(opt)
	if err != nil {
		return nil, err
	}
	defer closeStore()
	prefix := fmt.Sprintf("stampsim:validate:%d-%d:", os.Getpid(), time.Now().UnixNano())
	watch := &storeWatch{}
	client.AddHook(watch)
	defer func() {
		if !watch.answered.Load() {
			return // a store that never answered holds nothing of ours
		}
		if cerr := cleanup(ctx, client, prefix, logf); cerr != nil {
			err = errors.Join(err, fmt.Errorf("%s: %w", store, cerr))
		}
	}()
	logf("calibrating against %s (%d round trips)", store, opt.CalibrationSamples)
	cal, err := Calibrate(ctx, client, opt.CalibrationSamples, prefix)
	if err != nil {
		return nil, fmt.Errorf("calibrating %s: %w", store, err)
	}
	maxRequests, note := carried(sc, cal, opt.MaxRequests, opt.StoreLoad)
	scaled, notes, err := Scale(sc, opt.MaxNodes, maxRequests)
	if err != nil {
		return nil, err
	}
	if note != "" {
		notes = append([]string{note}, notes...)
	}
	addr := ""
	if c, ok := client.(*redis.Client); ok {
		addr = c.Options().Addr
	} else {
		// A Cluster redirects its clients to its masters' own addresses, past
		// any proxy: faults that need one are left out on both sides.
		var kept []scenarios.Fault
		for _, f := range scaled.Faults {
			if kind, _ := scenarios.ParseFaultKind(f.Kind); needsProxy(kind) {
				notes = append(notes, fmt.Sprintf("fault %s at %v left out on both sides: it needs a proxy in front of the store, which a Cluster's redirections go around", f.Kind, f.At.D()))
				continue
			}
			kept = append(kept, f)
		}
		scaled.Faults = kept
	}
	cal.Apply(scaled)
	resolved, err := scaled.Resolved()
	if err != nil {
		return nil, fmt.Errorf("the scaled scenario: %w", err)
	}

	names := opt.Topologies
	if len(names) == 0 {
		names = scaled.Topologies
	}
	rep = &Report{
		Schema: Schema, Scenario: sc.Name, Seed: sc.Seed, Store: store,
		Notes: notes, Calibration: cal, Spec: scaled, Agree: true,
	}
	for i, name := range names {
		topo, err := scaled.Resolve(name)
		if err != nil {
			return nil, err
		}
		logf("%s: simulating", name)
		var arrivals []arrival
		latency, err := callLatency(scaled)
		if err != nil {
			return nil, err
		}
		errorDraw := callErrorDraw(scaled)
		simRun, err := world.Run(ctx, resolved, topo, world.Options{
			OnRequest:         func(at time.Duration, node, key int) { arrivals = append(arrivals, arrival{at, node, key}) },
			UpstreamLatency:   latency,
			UpstreamErrorDraw: errorDraw,
			XFetchDraw:        xfetchDraw(scaled),
		})
		if err != nil {
			return nil, fmt.Errorf("simulating %s: %w", name, err)
		}
		logf("%s: %d requests against real drivers", name, len(arrivals))
		rw := &realWorld{
			sc: scaled, rs: resolved, topo: topo, realTopo: topo, shape: scaled.Shape(), client: client, latency: latency,
			prefix:    prefix + strconv.Itoa(i) + ":",
			storeAddr: addr, ignoreFaults: opt.RealIgnoresFaults, errorDraw: errorDraw,
		}
		if opt.SkipNodeLevel {
			rw.realTopo = withoutNodeLevel(topo)
		}
		realRun, err := rw.run(ctx, arrivals)
		if err == nil {
			// Drivers cancelled part way return what they counted so far,
			// which compares to nothing: the run was interrupted.
			err = context.Cause(ctx)
		}
		if err != nil {
			return nil, fmt.Errorf("running %s for real: %w", name, err)
		}
		// The drivers are closed: nothing writes under the topology's
		// prefix any more, and what it left would only slow the next
		// topology's store (miniredis walks every key as time moves).
		if err := cleanup(ctx, client, rw.prefix, logf); err != nil {
			return nil, fmt.Errorf("%s: %w", store, err)
		}
		logf("%s: simulating again at the real run's timing", name)
		rt, err := retime(ctx, rw.faults.retimed(resolved), topo, latency, errorDraw, rw.sent, rw.lags, rw.hits, rw.timed, scaled.Store.OpOverhead.D(), rw.pace)
		if err != nil {
			return nil, err
		}
		p := compare(resolved, topo, simRun, realRun, rt, expiresWhileAsked(scaled, arrivals))
		if len(p.Differences) > 0 {
			rep.Agree = false
		}
		rep.Runs = append(rep.Runs, p)
	}
	return rep, nil
}

// cleanup deletes the keys under prefix, under a context of its own that
// outlives ctx by cleanupTimeout: an interrupted run cleans up too.
func cleanup(ctx context.Context, c redis.UniversalClient, prefix string, logf func(string, ...any)) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	n, err := deleteKeys(ctx, c, prefix)
	if err != nil {
		return fmt.Errorf("deleting validate's keys %s*: %w", prefix, err)
	}
	logf("deleted the %d keys under %s", n, prefix)
	return nil
}

// poolSize bounds the connections of the client all drivers share. The
// simulator lets a node send any number of operations at once; a pool this
// large keeps the client from queueing them where the simulator does not
// (redis-server accepts 10,000 clients by default).
const poolSize = 4000

// DefaultStoreLoad is how busy the real store may be kept by one store
// operation per request at the scenario's peak arrival rate.
const DefaultStoreLoad = 0.1

// carried returns how many requests the real store can carry. A topology
// with no node level makes every request a store contender, and a store
// slower than the simulator's default (an embedded miniredis runs Lua
// scripts at a few thousand a second, on the same two cores as every
// driver) would queue the real side into timeouts that depend on the
// machine's load, not on the protocol: chaos on both sides, not a
// comparison. So the traffic is scaled until one operation per request, at
// the scenario's peak rate (its densest burst, or its steady rate), keeps
// the store at most load busy (DefaultStoreLoad: 10%, which leaves the
// drivers' own CPU, on the same machine, room to keep time). limit caps it
// in any case.
func carried(sc *scenarios.Scenario, cal Calibration, limit int, load float64) (int, string) {
	if cal.Throughput <= 0 {
		return limit, ""
	}
	peak := sc.Workload.Rate // requests per second
	for _, b := range sc.Workload.Bursts {
		if w := b.Over.D().Seconds(); w > 0 {
			peak = max(peak, sc.Workload.Rate+float64(b.Requests)/w)
		}
	}
	if peak <= 0 {
		return limit, ""
	}
	f := load * cal.Throughput / peak
	if f >= 1 {
		return limit, ""
	}
	total := sc.Workload.Rate * sc.Duration.D().Seconds()
	for _, b := range sc.Workload.Bursts {
		total += float64(b.Requests)
	}
	n := max(1, int(total*f))
	if n >= limit {
		return limit, ""
	}
	return n, fmt.Sprintf("the store serves %.0f scripts/s: traffic held to %d requests, so that its peak (%.0f/s) keeps the store at most %.0f%% busy",
		cal.Throughput, n, peak*f, 100*load)
}

// connect returns a client for the store the options name, a description of
// it, and what to call when done.
func connect(opt Options) (redis.UniversalClient, string, func(), error) {
	switch {
	case len(opt.Cluster) > 0:
		c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: opt.Cluster, MaxRetries: -1, ContextTimeoutEnabled: true, PoolSize: poolSize, PoolTimeout: time.Minute})
		return c, "redis cluster " + strings.Join(opt.Cluster, ","), func() { c.Close() }, nil
	case opt.Redis != "":
		o, err := redis.ParseURL(opt.Redis)
		if err != nil {
			return nil, "", nil, fmt.Errorf("--redis %q: %w", opt.Redis, err)
		}
		o.MaxRetries, o.ContextTimeoutEnabled, o.PoolSize, o.PoolTimeout = -1, true, poolSize, time.Minute
		c := redis.NewClient(o)
		return c, "redis " + o.Addr, func() { c.Close() }, nil
	}
	m := miniredis.NewMiniRedis()
	if err := m.Start(); err != nil {
		return nil, "", nil, fmt.Errorf("starting the embedded miniredis: %w", err)
	}
	stop, stopped := make(chan struct{}), make(chan struct{})
	go runClock(m, stop, stopped)
	c := redis.NewClient(&redis.Options{Addr: m.Addr(), MaxRetries: -1, ContextTimeoutEnabled: true, PoolSize: poolSize, PoolTimeout: time.Minute})
	return c, "miniredis (embedded)", func() { c.Close(); close(stop); <-stopped; m.Close() }, nil
}

// The embedded miniredis's clock moves in ticks of at least minTick, and at
// least clockShare times as long as the last tick took.
const (
	minTick    = 2 * time.Millisecond
	clockShare = 4
)

// runClock makes the keys of m expire with the wall clock, until stop is
// closed. miniredis left to follow the wall clock (ClockTTL) walks and sorts
// its whole key space on every command a script runs, whenever time has
// moved since the last: with the thousands of keys of cdn-steady-day it fell
// to a few scripts a second and queued the real side into timeouts. Moving
// its clock in ticks pays for that walk once a tick, and the ticks are made
// long enough that the walks take at most a fifth of a core. Leases and
// cached values then end up to a tick early or late.
func runClock(m *miniredis.Miniredis, stop <-chan struct{}, stopped chan<- struct{}) {
	defer close(stopped)
	m.SetTime(time.Now())
	m.ClockTTL(true)
	tick := minTick
	for {
		t := time.NewTimer(tick)
		select {
		case <-stop:
			t.Stop()
			return
		case <-t.C:
		}
		start := time.Now()
		m.SetTime(start)
		m.DB(0) // the walk, now rather than in the next command
		tick = max(minTick, clockShare*time.Since(start))
	}
}

// compare lists where the two runs of one topology differ by more than the
// protocol allows: the real counts are judged against the retimed
// simulation rt, which ran the same requests at the real run's timing.
// expiries says that a value expires while its key is still asked for.
func compare(rs *scenarios.Resolved, topo locks.Topology, s, r reports.Run, rt Retimed, expiries bool) Pair {
	p := Pair{Topology: topo.Name, Sim: s, Real: r, Retimed: rt}
	p.UpstreamCompared = upstreamIsDeterministic(rs, topo) && !expiries
	if p.UpstreamCompared && rt.UpstreamCalls.distance(r.UpstreamCalls) > 0 {
		p.Differences = append(p.Differences, fmt.Sprintf("upstream_calls: sim %d, real %d; retimed sim %s",
			s.UpstreamCalls, r.UpstreamCalls, rt.UpstreamCalls))
	}
	p.Differences = append(p.Differences, policyDifferences(s, r, rt)...)
	if d := rt.StoreOps.distance(r.StoreOps); d > RoundTripTolerance {
		p.Differences = append(p.Differences, fmt.Sprintf("store_ops (round trips): sim %d, real %d, %.0f%% apart; retimed sim %s, %.0f%% from real (tolerance %.0f%%)",
			s.StoreOps, r.StoreOps, 100*relDiff(float64(s.StoreOps), float64(r.StoreOps)), rt.StoreOps, 100*d, 100*RoundTripTolerance))
	}
	if s.Requests != r.Requests {
		p.Differences = append(p.Differences, fmt.Sprintf("requests: sim %d, real %d", s.Requests, r.Requests))
	}
	if retimedFaultCounts(rs.Faults) && rt.WritesRefused.distance(r.WritesRefused) > 0 {
		p.Differences = append(p.Differences, fmt.Sprintf("writes_refused: sim %d, real %d; retimed sim %s",
			s.WritesRefused, r.WritesRefused, rt.WritesRefused))
	}
	return p
}

// expiresWhileAsked says whether a cached value can expire while requests
// for its key still come: when the requests span more than a cache's TTL
// (the node cache's, when it is on, or the shared caches'). Whether a
// request near an expiry comes before or after it on the real side is then a
// matter of milliseconds, and so is whether it makes an upstream call.
func expiresWhileAsked(sc *scenarios.Scenario, arrivals []arrival) bool {
	if len(arrivals) < 2 {
		return false
	}
	ttl := sc.Cache.SharedTTL.D()
	if n := sc.Cache.NodeTTL.D(); n > 0 {
		ttl = min(ttl, n)
	}
	return arrivals[len(arrivals)-1].at-arrivals[0].at >= ttl
}

// upstreamIsDeterministic says whether the protocol fixes the number of
// upstream calls, timing aside: a topology with locks, and every wait
// timeout longer than the upstream's 99.9th percentile (times the largest
// upstream-slowdown), so that nobody hedges for a slow upstream. Faults do
// not unfix it: the hedges a store outage or a partition forces, the second
// holder a pause lets in, the calls a crash abandons are the protocol's,
// made the same on both sides, whose faults happen at the same moments of
// the traffic (see docs/VALIDATION.md). A shared level that does not renew
// a lease shorter than the upstream does unfix it: whether a waiter takes
// the lock after the lease ends and before the holder's value comes is a
// race of milliseconds (holder-pause's short-lease-no-renew made 4 calls on
// redis-server where the simulator made 5).
func upstreamIsDeterministic(rs *scenarios.Resolved, topo locks.Topology) bool {
	if len(topo.Levels) == 0 {
		return false
	}
	up, err := workloads.FromSpec(rs.Scenario.Upstream.Latency)
	if err != nil {
		return false
	}
	slowest := slowestUpstream(rs.Faults, up.Quantile(0.999))
	for _, l := range topo.Levels {
		if l.WaitTimeout <= slowest || (l.Scope.Shared() && l.NoRenew && l.LeaseTTL <= slowest) {
			return false
		}
	}
	return true
}

// callLatency returns the upstream latency of the n-th call for key under
// lock instance lock (see world.LockInstance): a quantile of the scenario's distribution at a point drawn from
// the seed and the call's identity alone, so that both sides give the same
// call the same latency, in whatever order the calls come.
func callLatency(sc *scenarios.Scenario) (func(lock, key, n int) time.Duration, error) {
	d, err := workloads.FromSpec(sc.Upstream.Latency)
	if err != nil {
		return nil, fmt.Errorf("upstream.latency: %w", err)
	}
	seed := sc.Seed
	return func(lock, key, n int) time.Duration {
		h := mix(seed ^ mix(uint64(int64(lock))<<40^uint64(key)<<16^uint64(n)))
		u := (float64(h>>11) + 0.5) / (1 << 53) // in (0, 1)
		return d.Quantile(u)
	}, nil
}

// mix is splitmix64's finaliser.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// relDiff is how far apart a and b are, as a fraction of the larger: the
// one measure that both the table's DIFF column and the differences that
// fail a validation give, so that a gap reads the same in both.
func relDiff(a, b float64) float64 {
	if a == b {
		return 0
	}
	return math.Abs(a-b) / math.Max(math.Abs(a), math.Abs(b))
}

// WriteTable prints the report side by side, one block per topology.
func WriteTable(w io.Writer, rep *Report) error {
	fmt.Fprintf(w, "scenario %s (seed %d) against %s\n", rep.Scenario, rep.Seed, rep.Store)
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	c := rep.Calibration
	fmt.Fprintf(w, "  store round trip: PING median %.0fus p99 %.0fus, script median %.0fus (%d samples); %.0f scripts/s at most (%.0fus each)\n\n",
		c.PingMedianUs, c.PingP99Us, c.ScriptMedianUs, c.Samples, c.Throughput, c.ServiceUs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "TOPOLOGY\tMETRIC\tSIM\tREAL\tDIFF\t")
	for _, p := range rep.Runs {
		type row struct{ name, sim, real, diff string }
		count := func(name string, s, r float64) row { return row{name, num(s), num(r), diff(s, r)} }
		// A retimed row shows the range of the retimed runs, and how far
		// the real count is from its nearest end.
		retimed := func(name string, rg Range, r uint64) row {
			d := "="
			if dist := rg.distance(r); dist > 0 {
				d = fmt.Sprintf("%+.0f%%", 100*dist)
				if r < rg.Min {
					d = fmt.Sprintf("%+.0f%%", -100*dist)
				}
			}
			return row{name, rg.String(), fmt.Sprint(r), d}
		}
		rt := p.Retimed
		rows := []row{
			count("upstream calls", float64(p.Sim.UpstreamCalls), float64(p.Real.UpstreamCalls)),
			retimed("  retimed", rt.UpstreamCalls, p.Real.UpstreamCalls),
			count("duplicates", float64(p.Sim.DuplicateUpstreamCalls), float64(p.Real.DuplicateUpstreamCalls)),
			count("store round trips", float64(p.Sim.StoreOps), float64(p.Real.StoreOps)),
			retimed("  retimed", rt.StoreOps, p.Real.StoreOps),
			count("store commands", float64(p.Sim.StoreCommands), float64(p.Real.StoreCommands)),
			count("writes refused", float64(p.Sim.WritesRefused), float64(p.Real.WritesRefused)),
			retimed("  retimed", rt.WritesRefused, p.Real.WritesRefused),
			count("leases lost", float64(p.Sim.LeasesLost), float64(p.Real.LeasesLost)),
		}
		for i, l := range p.Sim.Levels {
			rl := 0.0
			if i < len(p.Real.Levels) {
				rl = float64(p.Real.Levels[i].PeakContenders)
			}
			rows = append(rows, count("peak contenders "+l.Name, float64(l.PeakContenders), rl))
		}
		rows = append(rows,
			count("served hit", float64(p.Sim.Served.Hit), float64(p.Real.Served.Hit)),
			count("served collapsed", float64(p.Sim.Served.Collapsed), float64(p.Real.Served.Collapsed)),
			count("served fetched", float64(p.Sim.Served.Fetched), float64(p.Real.Served.Fetched)),
			count("served hedged", float64(p.Sim.Served.Hedged), float64(p.Real.Served.Hedged)),
			count("served error", float64(p.Sim.Served.Error), float64(p.Real.Served.Error)),
			count("served revalidating", float64(p.Sim.Served.Revalidating), float64(p.Real.Served.Revalidating)),
			retimed("  retimed", rt.Revalidating, p.Real.Served.Revalidating),
			count("refreshes", float64(refreshes(p.Sim)), float64(refreshes(p.Real))),
			retimed("  retimed", rt.Refreshes, refreshes(p.Real)),
			count("latency p50 ms", p.Sim.LatencyMs.P50, p.Real.LatencyMs.P50),
			count("latency p99 ms", p.Sim.LatencyMs.P99, p.Real.LatencyMs.P99),
		)
		// What the retimed runs took from the real run: how its store
		// round trips compare with what the simulator was given, and how
		// well the replay kept time.
		if rt.RoundTrips > 0 {
			c := rep.Calibration
			rows = append(rows,
				count("script round trip p50 us", math.Round(c.ScriptMedianUs), math.Round(rt.RoundTripMedianUs)),
				count("script round trip p99 us", math.Round(c.PingP99Us+c.ServiceUs), math.Round(rt.RoundTripP99Us)),
			)
		}
		rows = append(rows,
			row{"replay stalls", "", fmt.Sprint(rt.Stalls), ""},
			row{"replay behind ms", "", num(math.Round(rt.BehindMs*10) / 10), ""},
		)
		for i, r := range rows {
			name := ""
			if i == 0 {
				name = p.Topology
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", name, r.name, r.sim, r.real, r.diff)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if rep.Agree {
		fmt.Fprintln(w, "simulation and real runs agree")
		return nil
	}
	for _, p := range rep.Runs {
		for _, d := range p.Differences {
			fmt.Fprintf(w, "DIFFERS %s: %s\n", p.Topology, d)
		}
	}
	return nil
}

func num(x float64) string {
	if x == math.Trunc(x) {
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%.1f", x)
}

// diff is the DIFF column: relDiff, signed by which side is larger (+ when
// the real side counted more).
func diff(a, b float64) string {
	if a == b {
		return "="
	}
	d := relDiff(a, b)
	if b < a {
		d = -d
	}
	return fmt.Sprintf("%+.0f%%", 100*d)
}
