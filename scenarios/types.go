package scenarios

import (
	"time"
)

// Duration is a time.Duration written in scenario files as Go duration text
// ("300us", "5s", "1m30s").
type Duration time.Duration

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Scenario is one scenario file, with every default filled in once it has
// been loaded: a results file embeds it, so that a run can be replayed.
type Scenario struct {
	Name        string   `yaml:"name" json:"name"`
	Description string   `yaml:"description,omitempty" json:"description,omitempty"`
	Seed        uint64   `yaml:"seed" json:"seed"`
	Duration    Duration `yaml:"duration" json:"duration"`

	Topology World     `yaml:"topology" json:"topology"`
	Network  Network   `yaml:"network" json:"network"`
	Store    Store     `yaml:"store" json:"store"`
	Upstream Upstream  `yaml:"upstream" json:"upstream"`
	Cache    Cache     `yaml:"cache" json:"cache"`
	Workload Workload  `yaml:"workload" json:"workload"`
	Faults   []Fault   `yaml:"faults,omitempty" json:"faults,omitempty"`
	Locks    LockLevel `yaml:"locks" json:"locks"`

	// Topologies names the lock topologies to compare: built-in names or
	// names from CustomTopologies.
	Topologies       []string         `yaml:"topologies" json:"topologies"`
	CustomTopologies []CustomTopology `yaml:"custom_topologies,omitempty" json:"custom_topologies,omitempty"`
}

// World is the shape of the simulated fleet.
type World struct {
	Regions        int `yaml:"regions" json:"regions"`
	ZonesPerRegion int `yaml:"zones_per_region" json:"zones_per_region"`
	NodesPerZone   int `yaml:"nodes_per_zone" json:"nodes_per_zone"`
}

// Dist is a latency distribution: "fixed" (Value), "exponential" (Mean), or
// "lognormal" (Median and P99).
type Dist struct {
	Dist   string   `yaml:"dist" json:"dist"`
	Value  Duration `yaml:"value,omitempty" json:"value,omitempty"`
	Mean   Duration `yaml:"mean,omitempty" json:"mean,omitempty"`
	Median Duration `yaml:"median,omitempty" json:"median,omitempty"`
	P99    Duration `yaml:"p99,omitempty" json:"p99,omitempty"`
}

// Network gives the one-way latency of a message between a node and the
// store of each scope, drawn per message.
type Network struct {
	NodeToZoneStore   Dist `yaml:"node_to_zone_store" json:"node_to_zone_store"`
	NodeToRegionStore Dist `yaml:"node_to_region_store" json:"node_to_region_store"`
	NodeToGlobalStore Dist `yaml:"node_to_global_store" json:"node_to_global_store"`
}

// Store models each store server: one operation at a time.
type Store struct {
	// ServiceTime is what one command costs the server.
	ServiceTime Duration `yaml:"service_time" json:"service_time"`
	// OpOverhead is what one operation (one round trip) costs the server on
	// top of its commands: parsing, the script call, the reply.
	OpOverhead Duration `yaml:"op_overhead" json:"op_overhead"`
	// ConnectTimeout is how long an operation takes to fail when the store
	// is down or cut off.
	ConnectTimeout Duration `yaml:"connect_timeout" json:"connect_timeout"`
}

// Upstream models the expensive origin.
type Upstream struct {
	Latency Dist `yaml:"latency" json:"latency"`
	// Capacity is how many calls run at full speed at once; beyond it each
	// call's latency is multiplied by (in flight / capacity). Zero: no limit.
	Capacity int `yaml:"capacity" json:"capacity"`
	// FailAbove makes calls fail at once while more than this many are in
	// flight. Zero: never.
	FailAbove int `yaml:"fail_above,omitempty" json:"fail_above,omitempty"`
}

// Cache gives the TTLs of the node caches and of the shared caches.
type Cache struct {
	NodeTTL   Duration `yaml:"node_ttl" json:"node_ttl"`
	SharedTTL Duration `yaml:"shared_ttl" json:"shared_ttl"`
	// StaleFor is how long past its TTL a node keeps a value for the stale
	// policy.
	StaleFor Duration `yaml:"stale_for,omitempty" json:"stale_for,omitempty"`
}

// Workload is the traffic.
type Workload struct {
	Keys  int     `yaml:"keys" json:"keys"`
	ZipfS float64 `yaml:"zipf_s" json:"zipf_s"`
	// Rate is the steady Poisson arrival rate, requests per second, over all
	// nodes together. Zero: bursts only.
	Rate   float64 `yaml:"rate" json:"rate"`
	Bursts []Burst `yaml:"bursts,omitempty" json:"bursts,omitempty"`
}

// Burst is N requests for one key spread evenly at random over a window,
// across all nodes or the listed ones.
type Burst struct {
	At       Duration `yaml:"at" json:"at"`
	Key      int      `yaml:"key" json:"key"`
	Requests int      `yaml:"requests" json:"requests"`
	Over     Duration `yaml:"over" json:"over"`
	Nodes    []string `yaml:"nodes,omitempty" json:"nodes,omitempty"`
}

// Fault is one fault with a start and a duration. Which fields apply
// depends on Kind:
//
//	node-crash, node-pause:     Node
//	store-outage, store-slowdown: Scope and Region/Zone (Factor for slowdown)
//	partition:                  Node, Scope (the store it cannot reach)
//	upstream-slowdown:          Factor
//	upstream-errors:            Rate (fraction of calls that fail, 0..1)
type Fault struct {
	Kind   string   `yaml:"kind" json:"kind"`
	Node   string   `yaml:"node,omitempty" json:"node,omitempty"`
	Scope  string   `yaml:"scope,omitempty" json:"scope,omitempty"`
	Region int      `yaml:"region,omitempty" json:"region,omitempty"`
	Zone   int      `yaml:"zone,omitempty" json:"zone,omitempty"`
	Factor float64  `yaml:"factor,omitempty" json:"factor,omitempty"`
	Rate   float64  `yaml:"rate,omitempty" json:"rate,omitempty"`
	At     Duration `yaml:"at" json:"at"`
	For    Duration `yaml:"for" json:"for"`
}

// LockLevel holds the per-level lock settings. The scenario's `locks` block
// gives the defaults; a custom level overrides any of them.
type LockLevel struct {
	Scope        string   `yaml:"scope,omitempty" json:"scope,omitempty"`
	Name         string   `yaml:"name,omitempty" json:"name,omitempty"`
	LeaseTTL     Duration `yaml:"lease_ttl,omitempty" json:"lease_ttl,omitempty"`
	WaitTimeout  Duration `yaml:"wait_timeout,omitempty" json:"wait_timeout,omitempty"`
	OnTimeout    string   `yaml:"on_timeout,omitempty" json:"on_timeout,omitempty"`
	Wake         string   `yaml:"wake,omitempty" json:"wake,omitempty"`
	PollInterval Duration `yaml:"poll_interval,omitempty" json:"poll_interval,omitempty"`
	// Renew switches lease renewal; nil means on.
	Renew *bool `yaml:"renew,omitempty" json:"renew,omitempty"`
}

// CustomTopology is a named list of levels written in the scenario.
type CustomTopology struct {
	Name   string      `yaml:"name" json:"name"`
	Levels []LockLevel `yaml:"levels" json:"levels"`
}
