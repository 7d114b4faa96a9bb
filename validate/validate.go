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
	"os"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/world"
)

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

// DefaultStoreLoad is how busy the real store may be kept by one store
// operation per request at the scenario's peak arrival rate.
const DefaultStoreLoad = 0.1

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
