package scenarios

import (
	"fmt"
	"time"
)

// Duration is a time.Duration written in scenario files as Go duration text
// ("300us", "5s", "1m30s"). A bare number is rejected: a unit is required.
// It is written back as text, in YAML and in JSON.
type Duration time.Duration

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Scenario is one scenario file, with every default filled in once it has
// been loaded: a results file embeds it, so that a run can be replayed.
//
// Required: duration, topology, upstream.latency, workload.keys,
// workload.zipf_s when there is more than one key, and some traffic
// (workload.rate or workload.bursts). Everything else has a default,
// applied when the field is absent (an explicit zero is taken as written and
// then validated):
//
//	seed                               1
//	series_step                        about 1,000 samples over the duration (DefaultSeriesStep)
//	network.*                          the example's lognormals (see Network)
//	store                              service_time 2us, op_overhead 5us, connect_timeout 1s
//	upstream.capacity                  0 (unlimited)
//	cache                              node_ttl 10s, shared_ttl 10s, stale_for 0,
//	                                   ttl_jitter 0, xfetch_beta 0
//	locks                              lease_ttl 5s, wait_timeout 3s, on_timeout invoke,
//	                                   wake notify, poll_interval 20ms, renew true
//	topologies                         the six built-ins: none, node-only, one-level,
//	                                   two-level, global, fanout-tree
type Scenario struct {
	// Name names the scenario in results. Default: the file name without
	// its extension.
	Name string `yaml:"name" json:"name"`
	// Description is one line saying what the scenario shows.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Seed seeds every random stream of the run. Default 1.
	Seed uint64 `yaml:"seed" json:"seed"`
	// Duration is how much simulated time the run covers. Required.
	Duration Duration `yaml:"duration" json:"duration"`
	// SeriesStep is the width of one sample of the time series that a run
	// keeps when asked to (stampsim run --out): at least MinSeriesStep and
	// at most Duration. Absent, it is left zero and a run that keeps
	// series uses DefaultSeriesStep(Duration), and records the step it
	// used here (Step), so that the results document replays it; a run
	// without series leaves it out.
	SeriesStep Duration `yaml:"series_step,omitempty" json:"series_step,omitempty"`

	Topology World     `yaml:"topology" json:"topology"`
	Network  Network   `yaml:"network" json:"network"`
	Store    Store     `yaml:"store" json:"store"`
	Upstream Upstream  `yaml:"upstream" json:"upstream"`
	Cache    Cache     `yaml:"cache" json:"cache"`
	Workload Workload  `yaml:"workload" json:"workload"`
	Faults   []Fault   `yaml:"faults,omitempty" json:"faults,omitempty"`
	Locks    LockLevel `yaml:"locks" json:"locks"`

	// Topologies names the lock topologies to compare: built-in names or
	// names from CustomTopologies. Default: the six built-ins.
	Topologies       []string         `yaml:"topologies" json:"topologies"`
	CustomTopologies []CustomTopology `yaml:"custom_topologies,omitempty" json:"custom_topologies,omitempty"`
}

// World is the shape of the simulated fleet. All three are required and at
// least 1; the fleet may have at most MaxNodes nodes.
type World struct {
	Regions        int `yaml:"regions" json:"regions"`
	ZonesPerRegion int `yaml:"zones_per_region" json:"zones_per_region"`
	NodesPerZone   int `yaml:"nodes_per_zone" json:"nodes_per_zone"`
}

// Dist is a latency distribution: "fixed" (Value, at least 0),
// "exponential" (Mean, positive), or "lognormal" (Median, positive, and
// P99, at least Median). Fields that do not belong to the named
// distribution are errors.
type Dist struct {
	Dist   string   `yaml:"dist" json:"dist"`
	Value  Duration `yaml:"value,omitempty" json:"value,omitempty"`
	Mean   Duration `yaml:"mean,omitempty" json:"mean,omitempty"`
	Median Duration `yaml:"median,omitempty" json:"median,omitempty"`
	P99    Duration `yaml:"p99,omitempty" json:"p99,omitempty"`
}

// Network gives the one-way latency of a message between a node and the
// store of each scope, drawn per message. Defaults, each applied when its
// field is absent: lognormal median 300us p99 2ms to the zone store, median
// 500us p99 3ms to the region store, median 40ms p99 120ms to the global
// store.
type Network struct {
	NodeToZoneStore   Dist `yaml:"node_to_zone_store" json:"node_to_zone_store"`
	NodeToRegionStore Dist `yaml:"node_to_region_store" json:"node_to_region_store"`
	NodeToGlobalStore Dist `yaml:"node_to_global_store" json:"node_to_global_store"`
}

// Store models each store server: one operation at a time.
type Store struct {
	// ServiceTime is what one command costs the server. Default 2us; zero
	// is allowed.
	ServiceTime Duration `yaml:"service_time" json:"service_time"`
	// OpOverhead is what one operation (one round trip) costs the server on
	// top of its commands: parsing, the script call, the reply. Default
	// 5us; zero is allowed.
	OpOverhead Duration `yaml:"op_overhead" json:"op_overhead"`
	// ConnectTimeout is how long an operation takes to fail when the store
	// is down or cut off. Default 1s; must be positive.
	ConnectTimeout Duration `yaml:"connect_timeout" json:"connect_timeout"`
}

// Upstream models the expensive origin.
type Upstream struct {
	// Latency is the latency of one call at full speed. Required.
	Latency Dist `yaml:"latency" json:"latency"`
	// Capacity is how many calls run at full speed at once; beyond it each
	// call's latency is multiplied by (in flight / capacity). Zero (the
	// default): no limit.
	Capacity int `yaml:"capacity" json:"capacity"`
	// FailAbove makes calls fail at once while more than this many are in
	// flight. Zero: never.
	FailAbove int `yaml:"fail_above,omitempty" json:"fail_above,omitempty"`
}

// Cache gives the TTLs of the node caches and of the shared caches.
type Cache struct {
	// NodeTTL is how long a value stays fresh in a node's cache. Default
	// 10s; zero switches the node caches off.
	NodeTTL Duration `yaml:"node_ttl" json:"node_ttl"`
	// SharedTTL is how long a value stays in a shared (store) cache.
	// Default 10s; must be positive.
	SharedTTL Duration `yaml:"shared_ttl" json:"shared_ttl"`
	// StaleFor is how long past its TTL a node keeps a value for the stale
	// policy. Default 0: no stale values.
	StaleFor Duration `yaml:"stale_for,omitempty" json:"stale_for,omitempty"`
	// TTLJitter spreads every cache TTL: each fill shortens its TTLs by a
	// fraction of themselves drawn in [0, ttl_jitter), so that keys cached
	// together do not expire together. Default 0 (off); below 1.
	TTLJitter float64 `yaml:"ttl_jitter,omitempty" json:"ttl_jitter,omitempty"`
	// XFetchBeta switches XFetch's early probabilistic refresh on at every
	// cache with this beta (1 is the paper's): a request refreshes its key
	// in the background when now - delta·beta·ln(rand) passes the expiry,
	// delta being how long the value took to compute. Default 0 (off).
	XFetchBeta float64 `yaml:"xfetch_beta,omitempty" json:"xfetch_beta,omitempty"`
}

// Workload is the traffic.
type Workload struct {
	// Keys is how many keys there are, numbered 0 to Keys-1, key 0 the most
	// popular. Required, at least 1, at most MaxKeys.
	Keys int `yaml:"keys" json:"keys"`
	// ZipfS is the exponent of the Zipf law keys are drawn from for the
	// steady traffic. It must be greater than 1 (math/rand/v2's Zipf
	// generator needs s > 1) when there is more than one key; with a single
	// key it may be left out.
	ZipfS float64 `yaml:"zipf_s" json:"zipf_s"`
	// Rate is the steady Poisson arrival rate, requests per second, over all
	// nodes together. Zero: bursts only.
	Rate   float64 `yaml:"rate" json:"rate"`
	Bursts []Burst `yaml:"bursts,omitempty" json:"bursts,omitempty"`
}

// Burst is N requests for one key spread evenly at random over a window,
// across all nodes or the listed ones. At must fall inside the run; Key must
// be below workload.keys; Requests must be at least 1; Over may be zero (all
// at once).
type Burst struct {
	At       Duration `yaml:"at" json:"at"`
	Key      int      `yaml:"key" json:"key"`
	Requests int      `yaml:"requests" json:"requests"`
	Over     Duration `yaml:"over" json:"over"`
	// Nodes, if set, names the nodes ("r0/z1/n3") the requests arrive at.
	Nodes []string `yaml:"nodes,omitempty" json:"nodes,omitempty"`
}

// Fault is one fault with a start (At, inside the run) and a duration (For,
// positive). Which fields apply depends on Kind; a field that does not
// apply is an error:
//
//	node-crash, node-pause:        Node
//	store-outage:                  Scope (zone, region or global) and, for
//	                               zone and region scopes, Region (and Zone,
//	                               counted within the region, for zone scope)
//	store-slowdown:                as store-outage, plus Factor (at least 1):
//	                               service times are multiplied by it
//	partition:                     Node, Scope (the store it cannot reach)
//	upstream-slowdown:             Factor (at least 1): latencies multiplied
//	upstream-errors:               Rate (fraction of calls that fail, 0 < rate <= 1)
//
// Kind is one of FaultKinds; Resolved carries it parsed (FaultKind).
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

// FaultKind is a kind of fault, parsed from Fault.Kind (see Resolved).
type FaultKind uint8

// The fault kinds, in the order the documentation gives them.
const (
	FaultNodeCrash FaultKind = iota
	FaultNodePause
	FaultStoreOutage
	FaultStoreSlowdown
	FaultPartition
	FaultUpstreamSlowdown
	FaultUpstreamErrors
	numFaultKinds
)

var faultKindNames = [numFaultKinds]string{
	"node-crash", "node-pause", "store-outage", "store-slowdown",
	"partition", "upstream-slowdown", "upstream-errors",
}

// FaultKinds lists the names of the fault kinds (Fault.Kind), in the order
// the documentation gives them.
var FaultKinds = append([]string(nil), faultKindNames[:]...)

// String returns the kind's name as written in scenario files.
func (k FaultKind) String() string {
	if k < numFaultKinds {
		return faultKindNames[k]
	}
	return fmt.Sprintf("fault-kind(%d)", uint8(k))
}

// ParseFaultKind returns the fault kind named s, or false when there is
// none.
func ParseFaultKind(s string) (FaultKind, bool) {
	for k, name := range faultKindNames {
		if name == s {
			return FaultKind(k), true
		}
	}
	return 0, false
}

// LockLevel holds the per-level lock settings. The scenario's `locks` block
// gives the defaults (lease_ttl 5s, wait_timeout 3s, on_timeout invoke,
// wake notify, poll_interval 20ms, renew true) and may not set scope or
// name; a custom level must set scope and overrides any of the others.
type LockLevel struct {
	// Scope is node, zone, region or global (custom levels only).
	Scope string `yaml:"scope,omitempty" json:"scope,omitempty"`
	// Name labels the level in results (custom levels only); default: the
	// scope's name.
	Name         string   `yaml:"name,omitempty" json:"name,omitempty"`
	LeaseTTL     Duration `yaml:"lease_ttl,omitempty" json:"lease_ttl,omitempty"`
	WaitTimeout  Duration `yaml:"wait_timeout,omitempty" json:"wait_timeout,omitempty"`
	OnTimeout    string   `yaml:"on_timeout,omitempty" json:"on_timeout,omitempty"`
	Wake         string   `yaml:"wake,omitempty" json:"wake,omitempty"`
	PollInterval Duration `yaml:"poll_interval,omitempty" json:"poll_interval,omitempty"`
	// Renew switches lease renewal; nil means on.
	Renew *bool `yaml:"renew,omitempty" json:"renew,omitempty"`
	// HardTTL switches stale-while-revalidate on for the level's cache (the
	// node cache for a node level, the level's shared cache otherwise): the
	// cache block's TTL is the soft TTL, and a value past it but within
	// hard_ttl is served at once while one background refresh per key runs.
	// It must exceed the soft TTL. Default: off.
	HardTTL Duration `yaml:"hard_ttl,omitempty" json:"hard_ttl,omitempty"`
	// AdaptiveWait makes the level's wait timeout follow a quantile of the
	// upstream's call durations. Default: off (wait_timeout, fixed).
	AdaptiveWait *AdaptiveWait `yaml:"adaptive_wait,omitempty" json:"adaptive_wait,omitempty"`
}

// AdaptiveWait is an adaptive wait timeout: the Quantile (in (0, 1)) of the
// upstream call durations each node has seen, within Floor (positive) and
// Ceiling (at least Floor). Until a node's first call ends, wait_timeout.
// All three are required.
type AdaptiveWait struct {
	Quantile float64  `yaml:"quantile" json:"quantile"`
	Floor    Duration `yaml:"floor" json:"floor"`
	Ceiling  Duration `yaml:"ceiling" json:"ceiling"`
}

// CustomTopology is a named list of levels written in the scenario. Its name
// must not be a built-in topology's, nor another custom topology's; its
// levels go from inner to outer scopes, at least one.
//
// TTLJitter and XFetchBeta, when given, replace the cache block's
// ttl_jitter and xfetch_beta for this topology alone (an explicit 0 turns
// them off), so that one scenario compares a topology with and without
// them on the same traffic; they are checked as the cache block's are.
// Absent: the cache block's (see Scenario.CachePolicies).
type CustomTopology struct {
	Name       string      `yaml:"name" json:"name"`
	TTLJitter  *float64    `yaml:"ttl_jitter,omitempty" json:"ttl_jitter,omitempty"`
	XFetchBeta *float64    `yaml:"xfetch_beta,omitempty" json:"xfetch_beta,omitempty"`
	Levels     []LockLevel `yaml:"levels" json:"levels"`
}
