package world

import (
	"context"
	"testing"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/scenarios"
)

// benchRun runs topo of sc b.N times and reports simulated requests and
// events per wall second. The allocation figures are per run: divide by
// the run's requests (reported as req/run) to see what a request costs.
func benchRun(b *testing.B, sc *scenarios.Scenario, topo locks.Topology, opt Options) {
	var requests, events uint64
	b.ReportAllocs()
	for b.Loop() {
		out, err := Run(context.Background(), resolve(b, sc), topo, opt)
		if err != nil {
			b.Fatal(err)
		}
		requests += out.Requests
		events += out.Events
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(requests)/sec, "req/s")
	b.ReportMetric(float64(events)/sec, "events/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(requests), "ns/req")
	b.ReportMetric(float64(requests)/float64(b.N), "req/run")
}

// BenchmarkCDNSteadyDay measures simulated requests per wall second on the
// cdn-steady-day built-in (half a million requests over 270 nodes), for each
// topology it lists, as `stampsim run cdn-steady-day` runs it (no per-second
// series). The target is 2 million requests per second on one core.
func BenchmarkCDNSteadyDay(b *testing.B) {
	sc, err := scenarios.Builtin("cdn-steady-day")
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range sc.Topologies {
		topo, err := sc.Resolve(name)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) { benchRun(b, sc, topo, Options{}) })
	}
}

// BenchmarkCDNSteadyDaySeries is BenchmarkCDNSteadyDay two-level with the
// series on (the default step, 10ms), as `stampsim run --out` runs it.
func BenchmarkCDNSteadyDaySeries(b *testing.B) {
	sc, err := scenarios.Builtin("cdn-steady-day")
	if err != nil {
		b.Fatal(err)
	}
	topo, err := sc.Resolve("two-level")
	if err != nil {
		b.Fatal(err)
	}
	benchRun(b, sc, topo, Options{Series: true})
}

// BenchmarkStampede measures a one-key stampede of a million requests on
// the topologies with a node level, and of 200,000 on one-level, which
// makes every request a flight of its own: it keeps a hundred thousand
// events and more pending, so it measures the engine's radix heap
// (sim.Engine's big queue), and a million would take a gigabyte.
func BenchmarkStampede(b *testing.B) {
	for _, c := range []struct {
		name     string
		requests int
	}{{"two-level", 1_000_000}, {"node-only", 1_000_000}, {"one-level", 200_000}} {
		sc := flashCrowd(c.requests)
		topo, err := locks.Builtin(c.name, defaults(sc))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) { benchRun(b, sc, topo, Options{Series: true}) })
	}
}
