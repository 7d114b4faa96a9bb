package world

import (
	"context"
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/scenarios"
)

// cdnDay is CDN-scale steady traffic: Zipf keys whose caches expire and
// refill all the time, over a fleet of 270 nodes.
func cdnDay() *scenarios.Scenario {
	sc := flashCrowd(0)
	sc.Name = "cdn-steady-day-bench"
	sc.Duration = dur(10 * time.Second)
	sc.Topology = scenarios.World{Regions: 3, ZonesPerRegion: 3, NodesPerZone: 30}
	sc.Workload = scenarios.Workload{Keys: 10000, ZipfS: 1.1, Rate: 200000}
	sc.Cache.NodeTTL = dur(5 * time.Second)
	return sc
}

func benchRun(b *testing.B, sc *scenarios.Scenario, topology string) {
	topo, err := locks.Builtin(topology, defaults(sc))
	if err != nil {
		b.Fatal(err)
	}
	var requests, events uint64
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		out, err := Run(context.Background(), sc, topo, Options{Series: true})
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
}

// BenchmarkCDNSteadyDay measures simulated requests per wall second on
// CDN-scale steady traffic (2 million requests a run).
func BenchmarkCDNSteadyDay(b *testing.B) {
	for _, topology := range []string{"two-level", "one-level", "fanout-tree"} {
		b.Run(topology, func(b *testing.B) { benchRun(b, cdnDay(), topology) })
	}
}

// BenchmarkStampede measures a one-key stampede of a million requests.
func BenchmarkStampede(b *testing.B) {
	for _, topology := range []string{"two-level", "node-only"} {
		b.Run(topology, func(b *testing.B) { benchRun(b, flashCrowd(1_000_000), topology) })
	}
}
