package simcmp

import (
	"strconv"
	"time"
)

func itoa(n int) string { return strconv.Itoa(n) }

// Config says which sizes the suite runs.
type Config struct {
	// Smoke marks the one-repeat, small-size run CI makes.
	Smoke bool
	// Repeats is how often every unit runs, interleaved.
	Repeats int
	// Models are the sizes both simulators run; every one is also a check
	// that they count the same.
	Models []Model
	// Validate lists the sizes stampsim validate runs for real.
	Validate []Model
	// HeapBenchtime is -benchtime for the hold benchmarks.
	HeapBenchtime string
}

// long is a regional wait past the upstream (one upstream call); short is
// one before it, so every waiting node calls the upstream itself.
const (
	long  = 3 * time.Second
	short = 110 * time.Millisecond
)

// Full is the configuration of `make bench-peers`: 10^3 to 10^6 requests on
// 10, 100 and 1,000 nodes, three repeats.
func Full() Config {
	c := Config{Repeats: 3, HeapBenchtime: "2000000x"}
	for _, r := range []int{1000, 10000, 100000, 1000000} {
		for _, n := range []int{10, 100, 1000} {
			c.Models = append(c.Models, Model{Nodes: n, Requests: r, RegionWait: long})
		}
	}
	c.Models = append(c.Models, Model{Nodes: 10, Requests: 1000, RegionWait: short}, Model{Nodes: 100, Requests: 100000, RegionWait: short})
	c.Validate = []Model{{Nodes: 10, Requests: 1000, RegionWait: long}, {Nodes: 100, Requests: 10000, RegionWait: long}}
	return c
}

// Smoke is the configuration of `SMOKE=1 make bench-peers`.
func Smoke() Config {
	return Config{
		Smoke: true, Repeats: 1, HeapBenchtime: "200000x",
		Models: []Model{
			{Nodes: 10, Requests: 1000, RegionWait: long}, {Nodes: 100, Requests: 10000, RegionWait: long},
			{Nodes: 10, Requests: 1000, RegionWait: short},
		},
		Validate: []Model{{Nodes: 10, Requests: 1000, RegionWait: long}},
	}
}

// Unit is one measurement of the suite.
type Unit struct {
	// Key names the unit in the raw file.
	Key string
	// Tool is "stampsim", "simpy", "validate" or "heap".
	Tool  string
	Model Model
	// Labels say what was measured.
	Labels map[string]string
}

// Units returns the units of repeat r in the order it runs them: each
// size in both simulators, which one goes first alternating with r, then
// the validate runs, then the hold benchmarks.
func (c Config) Units(r int) []Unit {
	var out []Unit
	for _, m := range c.Models {
		pair := []string{"stampsim", "simpy"}
		if r%2 == 1 {
			pair[0], pair[1] = pair[1], pair[0]
		}
		for _, tool := range pair {
			out = append(out, Unit{Key: "model/" + m.Name() + "/" + tool, Tool: tool, Model: m, Labels: m.labels(tool)})
		}
	}
	for _, m := range c.Validate {
		out = append(out, Unit{Key: "validate/" + m.Name(), Tool: "validate", Model: m, Labels: m.labels("validate")})
	}
	out = append(out, Unit{Key: "heap-hold", Tool: "heap", Labels: map[string]string{"tool": "heap", "benchtime": c.HeapBenchtime}})
	return out
}

func (m Model) labels(tool string) map[string]string {
	return map[string]string{
		"tool": tool, "model": m.Name(), "nodes": itoa(m.Nodes), "requests": itoa(m.Requests),
		"region_wait": m.RegionWait.String(),
	}
}

// AllUnits returns every unit's key over every repeat, in run order.
func (c Config) AllUnits() []string {
	var keys []string
	for r := range c.Repeats {
		for _, u := range c.Units(r) {
			keys = append(keys, u.Key+"#"+itoa(r))
		}
	}
	return keys
}

// Params returns the configuration as the plan records it.
func (c Config) Params() map[string]any {
	return map[string]any{"heap_benchtime": c.HeapBenchtime, "start": start.String(), "gap": gap.String(),
		"network": network.String(), "upstream_ms": upstreamMs, "poll_ms": pollMs, "lease_ms": leaseMs,
		"op_overhead_us": overheadUs, "service_us": serviceUs}
}
