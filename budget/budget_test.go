package budget

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/scenarios"
)

var flags = map[string]string{
	"Requests": "--max-requests", "Events": "--max-events", "Nodes": "--max-nodes",
	"Duration": "--max-duration", "Memory": "--max-memory",
}

// fixedLimits are the default limits with the memory of a small machine,
// so that the tests do not depend on this one's.
var fixedLimits = Limits{
	Requests: DefaultRequests, Events: DefaultEvents, Nodes: DefaultNodes, Duration: DefaultDuration,
	Memory: 2e9, MemoryFrom: "a 2 GB test machine",
}

func estimate(t *testing.T, sc *scenarios.Scenario, series bool) Cost {
	t.Helper()
	var topos []locks.Topology
	for _, n := range sc.Topologies {
		topo, err := sc.Resolve(n)
		if err != nil {
			t.Fatal(err)
		}
		topos = append(topos, topo)
	}
	return Estimate(sc, topos, Options{Series: series})
}

func parse(t *testing.T, yaml string) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Parse("t.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// Every built-in runs under the default limits, with or without the
// series, on a machine with 2 GB to spare.
func TestBuiltinsWithinDefaults(t *testing.T) {
	for _, name := range scenarios.BuiltinNames() {
		sc, err := scenarios.Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, series := range []bool{false, true} {
			c := estimate(t, sc, series)
			if vs := c.Check(fixedLimits, flags); len(vs) > 0 {
				t.Errorf("%s (series %v) refused: %+v", name, series, vs)
			}
			if len(c.Runs) != len(sc.Topologies) {
				t.Errorf("%s: %d estimates for %d topologies", name, len(c.Runs), len(sc.Topologies))
			}
		}
	}
}

// The sweeps the defaults were chosen for: ten million requests in a burst
// on the topologies with a node level, 160 nodes per region in 32 regions.
func TestSweepsWithinDefaults(t *testing.T) {
	sc := parse(t, `
duration: 5s
topology: {regions: 32, zones_per_region: 2, nodes_per_zone: 80}
upstream: {latency: {dist: lognormal, median: 200ms, p99: 900ms}, capacity: 64}
workload: {keys: 1, bursts: [{at: 1s, key: 0, requests: 10000000, over: 100ms}]}
topologies: [node-only, two-level, fanout-tree]
`)
	c := estimate(t, sc, true)
	if vs := c.Check(fixedLimits, flags); len(vs) > 0 {
		t.Errorf("refused: %+v", vs)
	}
	for _, r := range c.Runs {
		// Measured: two-level on 60 nodes, 318 MB.
		if r.MemoryBytes > 1e9 {
			t.Errorf("%s: %s estimated, want under 1 GB", r.Topology, Bytes(r.MemoryBytes))
		}
	}
}

// The estimate bounds what the built-ins were measured to take: the events
// counted in world's event handler, the peak live heap of
// GODEBUG=gctrace=1 (go1.26, amd64), which the estimate must bound without
// its allowance for the runtime at rest (baseBytes).
func TestEstimateBoundsMeasured(t *testing.T) {
	measured := map[string]map[string]struct {
		events float64
		heapMB float64
	}{
		"flash-crowd": {
			"none": {125069, 30}, "node-only": {100060, 3}, "one-level": {780281, 62},
			"two-level": {101155, 4}, "global": {501950, 59}, "fanout-tree": {101320, 3},
		},
		"region-store-outage": {"one-level": {1026181, 62}, "global": {501950, 59}},
		"cdn-steady-day": {
			"none": {743462, 11}, "one-level": {1177057, 14}, "two-level": {1162051, 12},
			"global": {1143610, 19}, "fanout-tree": {1630560, 27},
		},
		"holder-pause": {"one-level": {44184, 0}, "global": {42431, 0}}, // a heap too small to tell
	}
	for name, runs := range measured {
		sc, err := scenarios.Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range estimate(t, sc, false).Runs {
			m, ok := runs[r.Topology]
			if !ok {
				continue
			}
			if r.Events < m.events || r.MemoryBytes-baseBytes < m.heapMB*1e6 {
				t.Errorf("%s %s: estimated %s events and %s, measured %s and %.0f MB",
					name, r.Topology, Number(r.Events), Bytes(r.MemoryBytes), Number(m.events), m.heapMB)
			}
		}
	}
}

func TestRefusals(t *testing.T) {
	const base = `
duration: 5s
topology: {regions: 3, zones_per_region: 2, nodes_per_zone: 10}
upstream: {latency: {dist: lognormal, median: 200ms, p99: 900ms}, capacity: 64}
`
	for _, c := range []struct {
		name, yaml, field string
		want              []string
	}{
		{"rate 1e300", base + "workload: {keys: 1, rate: 1e300}\n", "workload.rate",
			[]string{"1e300 requests/s over 5s is 5e300 requests; at most 1e9 per run (--max-requests raises it)"}},
		{"rate 1e10", base + "workload: {keys: 1, rate: 1e10}\n", "workload.rate",
			[]string{"5e10 requests", "--max-requests"}},
		{"a million nodes", strings.Replace(base, "{regions: 3, zones_per_region: 2, nodes_per_zone: 10}", "{regions: 100, zones_per_region: 100, nodes_per_zone: 100}", 1) +
			"workload: {keys: 1, bursts: [{at: 1s, key: 0, requests: 468}]}\n", "topology",
			[]string{"100 x 100 x 100 is 1000000 nodes; at most 100000 (--max-nodes raises it)"}},
		{"1000h", strings.Replace(base, "duration: 5s", "duration: 1000h", 1) + "workload: {keys: 1, rate: 0.001}\n", "duration",
			[]string{"1000h of simulated time; at most 24h (--max-duration raises it)"}},
		{"polls", base + "store: {service_time: 0s, op_overhead: 0s}\nlocks: {poll_interval: 1ns, wake: poll}\n" +
			"workload: {keys: 1, bursts: [{at: 1s, key: 0, requests: 10000}]}\ntopologies: [two-level, one-level]\n", "locks.poll_interval",
			[]string{"poll the store", "events on one-level, two-level", "at most 1e10 per run (--max-events raises it)"}},
		{"custom polls", base + "store: {service_time: 0s, op_overhead: 0s}\nlocks: {wake: poll}\n" +
			"custom_topologies: [{name: fast, levels: [{scope: global, poll_interval: 1ns}]}]\n" +
			"workload: {keys: 1, bursts: [{at: 1s, key: 0, requests: 10000}]}\ntopologies: [two-level, fast]\n", "custom_topologies[0].levels[0].poll_interval",
			[]string{"events on fast;"}},
		{"stampede without a node level", base + "workload: {keys: 1, bursts: [{at: 1s, key: 0, requests: 10000000, over: 100ms}]}\n", "workload.bursts[0].requests",
			[]string{"up to 10000000 requests in flight at once, each on its own", "GB of memory on one-level, global, none; at most 2 GB, a 2 GB test machine (--max-memory raises it, or leave out one-level, global, none)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			vs := estimate(t, parse(t, c.yaml), false).Check(fixedLimits, flags)
			if len(vs) != 1 {
				t.Fatalf("%d violations, want 1: %+v", len(vs), vs)
			}
			if vs[0].Field != c.field {
				t.Errorf("field %q, want %q (%s)", vs[0].Field, c.field, vs[0].Msg)
			}
			for _, w := range c.want {
				if !strings.Contains(vs[0].Msg, w) {
					t.Errorf("message %q lacks %q", vs[0].Msg, w)
				}
			}
		})
	}
}

// A zero limit sets no bound.
func TestZeroLimitsBoundNothing(t *testing.T) {
	sc := parse(t, "duration: 1000h\ntopology: {regions: 1, zones_per_region: 1, nodes_per_zone: 1}\n"+
		"upstream: {latency: {dist: fixed, value: 1ms}}\nworkload: {keys: 1, rate: 1e300}\n")
	if vs := estimate(t, sc, true).Check(Limits{}, nil); len(vs) != 0 {
		t.Errorf("violations without limits: %+v", vs)
	}
}

func TestNumberAndBytes(t *testing.T) {
	for x, want := range map[float64]string{0: "0", 100000: "100000", 5e300: "5e300", 1e9: "1e9", 3.61e8: "3.61e8", 1e7: "10000000", 1.5: "1.5", 2.5e-5: "2.5e-5"} {
		if got := Number(x); got != want {
			t.Errorf("Number(%v) = %q, want %q", x, got, want)
		}
	}
	for b, want := range map[float64]string{512: "512 B", 36967764: "37 MB", 6.5e9: "6.5 GB", 2.2e13: "22 TB"} {
		if got := Bytes(b); got != want {
			t.Errorf("Bytes(%v) = %q, want %q", b, got, want)
		}
	}
	for d, want := range map[time.Duration]string{24 * time.Hour: "24h", 90 * time.Second: "1m30s", 5 * time.Second: "5s", 61 * time.Minute: "1h1m"} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestAvailable(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	defer func(a, b, c string, as func() (float64, bool)) {
		meminfoPath, cgroupMaxPath, cgroupCurPath, addressSpaceLimit = a, b, c, as
	}(meminfoPath, cgroupMaxPath, cgroupCurPath, addressSpaceLimit)
	var ulimit float64 // 0: none
	addressSpaceLimit = func() (float64, bool) { return ulimit, ulimit > 0 }
	meminfo := write("meminfo", "MemTotal:       24683584 kB\nMemFree:        23415124 kB\nMemAvailable:   4000000 kB\n")
	for _, c := range []struct {
		name                  string
		meminfo, cgMax, cgCur string
		want                  float64
		from                  string
		ok                    bool
	}{
		{"meminfo", meminfo, "/nonexistent", "/nonexistent", 4000000 * 1024, "MemAvailable", true},
		{"cgroup lower", meminfo, write("max", "2000000000\n"), write("cur", "500000000\n"), 1.5e9, "cgroup", true},
		{"cgroup without a limit", meminfo, write("maxnone", "max\n"), "/nonexistent", 4000000 * 1024, "MemAvailable", true},
		{"nothing to read", "/nonexistent", "/nonexistent", "/nonexistent", 0, "", false},
		{"no MemAvailable", write("old", "MemTotal: 1000 kB\n"), "/nonexistent", "/nonexistent", 0, "", false},
		{"ulimit -v", meminfo, "/nonexistent", "/nonexistent", 1e9, "a third of ulimit -v, 3 GB", true},
	} {
		meminfoPath, cgroupMaxPath, cgroupCurPath = c.meminfo, c.cgMax, c.cgCur
		ulimit = 0
		if c.name == "ulimit -v" {
			ulimit = 3e9
		}
		got, from, ok := Available()
		if ok != c.ok || (ok && (got != c.want || !strings.Contains(from, c.from))) {
			t.Errorf("%s: Available() = %v, %q, %v; want %v, %q, %v", c.name, got, from, ok, c.want, c.from, c.ok)
		}
	}
	meminfoPath, cgroupMaxPath, ulimit = "/nonexistent", "/nonexistent", 0
	if l := DefaultLimits(); l.Memory != 0 || l.Requests != DefaultRequests {
		t.Errorf("without /proc/meminfo: %+v, want no memory bound and the other defaults", l)
	}
}

// Watch cancels its context, with a *MemoryError as the cause, once the
// process holds more than the limit, and not before.
func TestWatch(t *testing.T) {
	ctx, stop := Watch(context.Background(), 1, "a limit of one byte")
	defer stop()
	select {
	case <-ctx.Done():
	case <-time.After(20 * WatchEvery):
		t.Fatal("not stopped")
	}
	var me *MemoryError
	if !errors.As(context.Cause(ctx), &me) || me.Held <= 1 || !strings.Contains(me.Error(), "more than its limit of 1 B, a limit of one byte") {
		t.Errorf("cause %v", context.Cause(ctx))
	}

	ctx, stop = Watch(context.Background(), 1e15, "")
	time.Sleep(3 * WatchEvery)
	if ctx.Err() != nil {
		t.Errorf("stopped under the limit: %v", context.Cause(ctx))
	}
	stop()
	if !errors.Is(context.Cause(ctx), context.Canceled) {
		t.Errorf("after stop: cause %v, want context.Canceled", context.Cause(ctx))
	}
}

// Held costs about a microsecond: checked every WatchEvery, it costs the
// simulation nothing it could measure.
func BenchmarkHeld(b *testing.B) {
	for b.Loop() {
		if Held() <= 0 {
			b.Fatal("no memory held")
		}
	}
}

func ExampleCost_Check() {
	sc, _ := scenarios.Parse("hot.yaml", []byte(`
duration: 5s
topology: {regions: 1, zones_per_region: 1, nodes_per_zone: 4}
upstream: {latency: {dist: fixed, value: 100ms}}
workload: {keys: 1, rate: 1e300}
`))
	topo, _ := sc.Resolve("two-level")
	for _, v := range Estimate(sc, []locks.Topology{topo}, Options{}).Check(Limits{Requests: DefaultRequests}, map[string]string{"Requests": "--max-requests"}) {
		fmt.Printf("%s: %s\n", v.Field, v.Msg)
	}
	// Output: workload.rate: 1e300 requests/s over 5s is 5e300 requests; at most 1e9 per run (--max-requests raises it)
}
