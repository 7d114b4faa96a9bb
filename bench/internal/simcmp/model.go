// Package simcmp runs stampsim's simulator and SimPy 3 on the same
// single-key stampede model (bench/simpy/stampede.py says what the model
// is), at growing sizes, and measures for each the simulated requests per
// wall second and the peak memory, and whether both count the same upstream
// calls, contenders per level and store operations. It also times stampsim
// validate's real run of the model (the other way to answer the question)
// and runs the engine's floor, BenchmarkBareHeapHold.
//
// It is a benchmark harness: it must not be imported by the stampsim module
// and must not change the model on one side without the other.
package simcmp

import (
	"fmt"
	"strings"
	"time"
)

// Model is one size of the stampede model. Its timings are fixed (no
// random draws anywhere), so both simulators must count exactly the same.
type Model struct {
	// Nodes and Requests size it: node i gets Requests/Nodes requests at
	// once, at Start + i*Gap.
	Nodes, Requests int
	// RegionWait is the regional level's wait timeout: longer than the
	// upstream, one upstream call; shorter, every waiting node calls too.
	RegionWait time.Duration
}

// The model's fixed timings, the same on both sides (stampede.py's
// defaults).
const (
	start      = time.Millisecond
	gap        = 7 * time.Microsecond
	network    = 500 * time.Microsecond
	upstreamMs = 200
	pollMs     = 20
	leaseMs    = 5000
	overheadUs = 5
	serviceUs  = 2
)

// Name says the model's size, as the tables show it.
func (m Model) Name() string {
	return fmt.Sprintf("r=%d/n=%d/wait=%v", m.Requests, m.Nodes, m.RegionWait)
}

// Check returns an error when the model cannot be run as given.
func (m Model) Check() error {
	if m.Nodes < 1 || m.Requests < m.Nodes || m.Requests%m.Nodes != 0 {
		return fmt.Errorf("model %s: requests must be a positive multiple of nodes", m.Name())
	}
	if m.RegionWait < time.Millisecond || m.RegionWait%time.Millisecond != 0 {
		return fmt.Errorf("model %s: the regional wait must be whole milliseconds", m.Name())
	}
	return nil
}

// Scenario returns the model as a stampsim scenario file: one region, one
// zone, the nodes; one burst per node with its own node list, so that no
// random draw decides which node a request goes to; fixed network and
// upstream latencies; two-level in poll mode.
func (m Model) Scenario() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# The single-key stampede model of bench/simpy/stampede.py, %s.\n", m.Name())
	b.WriteString("name: simpy-model\nseed: 1\nduration: 2s\n")
	fmt.Fprintf(&b, "topology: {regions: 1, zones_per_region: 1, nodes_per_zone: %d}\n", m.Nodes)
	b.WriteString("network:\n")
	for _, s := range []string{"zone", "region", "global"} {
		fmt.Fprintf(&b, "  node_to_%s_store: {dist: fixed, value: %dus}\n", s, network.Microseconds())
	}
	fmt.Fprintf(&b, "store: {service_time: %dus, op_overhead: %dus}\n", serviceUs, overheadUs)
	fmt.Fprintf(&b, "upstream: {latency: {dist: fixed, value: %dms}}\n", upstreamMs)
	b.WriteString("cache: {node_ttl: 10s, shared_ttl: 10s}\n")
	b.WriteString("workload:\n  keys: 1\n  rate: 0\n  bursts:\n")
	per := m.Requests / m.Nodes
	for i := range m.Nodes {
		at := start + time.Duration(i)*gap
		fmt.Fprintf(&b, "    - {at: %dus, key: 0, requests: %d, over: 0s, nodes: [r0/z0/n%d]}\n", at.Microseconds(), per, i)
	}
	fmt.Fprintf(&b, "locks: {lease_ttl: %dms, wait_timeout: 3s, on_timeout: invoke, wake: poll, poll_interval: %dms}\n", leaseMs, pollMs)
	b.WriteString("topologies: [model]\ncustom_topologies:\n  - name: model\n")
	fmt.Fprintf(&b, "    levels: [{scope: node}, {scope: region, wait_timeout: %dms}]\n", m.RegionWait.Milliseconds())
	return b.String()
}

// SimPyArgs returns stampede.py's arguments for the model.
func (m Model) SimPyArgs() []string {
	return []string{
		"--nodes", fmt.Sprint(m.Nodes), "--requests", fmt.Sprint(m.Requests),
		"--start-us", fmt.Sprint(start.Microseconds()), "--gap-us", fmt.Sprint(gap.Microseconds()),
		"--net-us", fmt.Sprint(network.Microseconds()), "--upstream-ms", fmt.Sprint(upstreamMs),
		"--poll-ms", fmt.Sprint(pollMs), "--lease-ms", fmt.Sprint(leaseMs),
		"--region-wait-ms", fmt.Sprint(m.RegionWait.Milliseconds()),
		"--op-overhead-us", fmt.Sprint(overheadUs), "--service-us", fmt.Sprint(serviceUs),
	}
}
