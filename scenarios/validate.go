package scenarios

import (
	"strings"
	"time"

	"github.com/stampsim/stampsim/locks"
)

// Limits on the size of a simulated world, so that a typo cannot ask for
// more memory than a machine has.
const (
	// MaxNodes is the most nodes a fleet may have.
	MaxNodes = 1_000_000
	// MaxKeys is the most keys a workload may have.
	MaxKeys = 10_000_000
)

// The defaults, applied to fields absent from a file.
const (
	DefaultSeed           = 1
	DefaultServiceTime    = Duration(2 * time.Microsecond)
	DefaultOpOverhead     = Duration(5 * time.Microsecond)
	DefaultConnectTimeout = Duration(time.Second)
	DefaultNodeTTL        = Duration(10 * time.Second)
	DefaultSharedTTL      = Duration(10 * time.Second)
	DefaultLeaseTTL       = Duration(5 * time.Second)
	DefaultWaitTimeout    = Duration(3 * time.Second)
	DefaultOnTimeout      = "invoke"
	DefaultWake           = "notify"
	DefaultPollInterval   = Duration(20 * time.Millisecond)
)

// Default network latencies, one way, applied per scope when absent.
var (
	DefaultNodeToZoneStore   = Dist{Dist: "lognormal", Median: Duration(300 * time.Microsecond), P99: Duration(2 * time.Millisecond)}
	DefaultNodeToRegionStore = Dist{Dist: "lognormal", Median: Duration(500 * time.Microsecond), P99: Duration(3 * time.Millisecond)}
	DefaultNodeToGlobalStore = Dist{Dist: "lognormal", Median: Duration(40 * time.Millisecond), P99: Duration(120 * time.Millisecond)}
)

// BuiltinTopologies returns the names of the built-in lock topologies, in
// the order package locks lists them; they are the default of
// Scenario.Topologies.
func BuiltinTopologies() []string {
	names := make([]string, len(locks.Builtins))
	for i, b := range locks.Builtins {
		names[i] = b.Name
	}
	return names
}

func isBuiltinTopology(name string) bool {
	for _, b := range locks.Builtins {
		if b.Name == name {
			return true
		}
	}
	return false
}

// checker fills in defaults and validates a decoded scenario, using the
// positions the decoder recorded to say where each mistake is. It reports
// every mistake it finds (errs), but none that follows from another: a
// unit of checks (check) is skipped when a field it reads already has a
// mistake (bad).
type checker struct {
	pos   *Positions
	nulls map[string]bool
	errs  []*Error
	bad   []string // fields with a mistake, found by the decoder or a check
}

// has reports whether the file sets the field at path (to something other
// than null).
func (c *checker) has(path string) bool {
	_, ok := c.pos.lines[path]
	return ok && !c.nulls[path]
}

func (c *checker) errf(path, format string, args ...any) *Error {
	return c.pos.Errorf(path, format, args...)
}

// check runs one unit of checks, which stops at its first mistake, unless
// a field it reads (or one inside it, or one it is inside) already has a
// mistake: then what it would find is, at best, a consequence.
func (c *checker) check(reads []string, unit func() *Error) {
	for _, r := range reads {
		if !c.clean(r) {
			return
		}
	}
	if e := unit(); e != nil {
		c.errs = append(c.errs, e)
		c.bad = append(c.bad, e.Field)
	}
}

// clean reports whether no mistake has been found in path, inside it, or
// in a field that contains it.
func (c *checker) clean(path string) bool {
	for _, b := range c.bad {
		if within(path, b) || within(b, path) {
			return false
		}
	}
	return true
}

// within reports whether path is field or a field inside it.
func within(path, field string) bool {
	if field == "" || path == field {
		return true
	}
	rest, ok := strings.CutPrefix(path, field)
	return ok && (rest[0] == '.' || rest[0] == '[')
}

func (c *checker) fillDefaults(s *Scenario) {
	if s.Name == "" {
		s.Name = defaultName(c.pos.File())
	}
	if !c.has("seed") {
		s.Seed = DefaultSeed
	}
	dur := func(path string, p *Duration, def Duration) {
		if !c.has(path) {
			*p = def
		}
	}
	dist := func(path string, p *Dist, def Dist) {
		if !c.has(path) {
			*p = def
		}
	}
	dist("network.node_to_zone_store", &s.Network.NodeToZoneStore, DefaultNodeToZoneStore)
	dist("network.node_to_region_store", &s.Network.NodeToRegionStore, DefaultNodeToRegionStore)
	dist("network.node_to_global_store", &s.Network.NodeToGlobalStore, DefaultNodeToGlobalStore)
	dur("store.service_time", &s.Store.ServiceTime, DefaultServiceTime)
	dur("store.op_overhead", &s.Store.OpOverhead, DefaultOpOverhead)
	dur("store.connect_timeout", &s.Store.ConnectTimeout, DefaultConnectTimeout)
	dur("cache.node_ttl", &s.Cache.NodeTTL, DefaultNodeTTL)
	dur("cache.shared_ttl", &s.Cache.SharedTTL, DefaultSharedTTL)
	dur("locks.lease_ttl", &s.Locks.LeaseTTL, DefaultLeaseTTL)
	dur("locks.wait_timeout", &s.Locks.WaitTimeout, DefaultWaitTimeout)
	dur("locks.poll_interval", &s.Locks.PollInterval, DefaultPollInterval)
	if !c.has("locks.on_timeout") {
		s.Locks.OnTimeout = DefaultOnTimeout
	}
	if !c.has("locks.wake") {
		s.Locks.Wake = DefaultWake
	}
	if s.Locks.Renew == nil {
		on := true
		s.Locks.Renew = &on
	}
	if !c.has("topologies") {
		s.Topologies = BuiltinTopologies()
	}
}

// validate checks the scenario, in the order of the file's sections, and
// records every mistake in c.errs.
func (c *checker) validate(s *Scenario) {
	for _, check := range []func(*Scenario){
		c.checkRun, c.checkWorld, c.checkNetwork, c.checkStore, c.checkUpstream,
		c.checkCache, c.checkWorkload, c.checkFaults, c.checkLocks,
		c.checkCustom, c.checkTopologies,
	} {
		check(s)
	}
}

// need reports a required field that is absent.
func (c *checker) need(path, what string) *Error {
	if !c.has(path) {
		return c.errf(path, "missing: %s", what)
	}
	return nil
}

func (c *checker) positive(path string, d Duration) *Error {
	if d <= 0 {
		return c.errf(path, "must be positive, got %v", d)
	}
	return nil
}

func (c *checker) nonNegative(path string, d Duration) *Error {
	if d < 0 {
		return c.errf(path, "must not be negative, got %v", d)
	}
	return nil
}

func (c *checker) checkRun(s *Scenario) {
	c.check([]string{"duration"}, func() *Error {
		if err := c.need("duration", "how much simulated time to run, e.g. duration: 20s"); err != nil {
			return err
		}
		return c.positive("duration", s.Duration)
	})
	c.check([]string{"series_step", "duration"}, func() *Error {
		if !c.has("series_step") {
			return nil // Step gives the default
		}
		if err := CheckSeriesStep(s.SeriesStep, s.Duration); err != nil {
			return c.errf("series_step", "%v", err)
		}
		return nil
	})
}

func (c *checker) checkWorld(s *Scenario) {
	c.check([]string{"topology"}, func() *Error { return c.world(s) })
}

func (c *checker) world(s *Scenario) *Error {
	if err := c.need("topology", "the fleet's shape, e.g. topology: {regions: 3, zones_per_region: 2, nodes_per_zone: 20}"); err != nil {
		return err
	}
	w := s.Topology
	for _, f := range []struct {
		name string
		v    int
	}{{"regions", w.Regions}, {"zones_per_region", w.ZonesPerRegion}, {"nodes_per_zone", w.NodesPerZone}} {
		p := "topology." + f.name
		if err := c.need(p, "how many; at least 1"); err != nil {
			return err
		}
		if f.v < 1 {
			return c.errf(p, "must be at least 1, got %d", f.v)
		}
		if f.v > MaxNodes {
			return c.errf(p, "%d is more than the %d nodes a fleet may have", f.v, MaxNodes)
		}
	}
	if n := w.Regions * w.ZonesPerRegion; n > MaxNodes || n*w.NodesPerZone > MaxNodes {
		return c.errf("topology", "%d x %d x %d nodes is more than the %d a fleet may have", w.Regions, w.ZonesPerRegion, w.NodesPerZone, MaxNodes)
	}
	return nil
}

var distNames = []string{"fixed", "exponential", "lognormal"}

// checkDist checks a latency distribution: a known name, the parameters it
// needs, and none that belong to another distribution.
func (c *checker) checkDist(path string, d Dist) *Error {
	if err := c.need(path+".dist", "the distribution: fixed, exponential or lognormal"); err != nil {
		return err
	}
	uses := map[string][]string{
		"fixed":       {"value"},
		"exponential": {"mean"},
		"lognormal":   {"median", "p99"},
	}[d.Dist]
	if uses == nil {
		if s := suggest(d.Dist, distNames); s != "" {
			return c.errf(path+".dist", "unknown distribution %q (did you mean %q?)", d.Dist, s)
		}
		return c.errf(path+".dist", "unknown distribution %q (want fixed, exponential or lognormal)", d.Dist)
	}
	for _, f := range []string{"value", "mean", "median", "p99"} {
		used := false
		for _, u := range uses {
			used = used || u == f
		}
		if !used && c.has(path+"."+f) {
			return c.errf(path+"."+f, "does not apply to a %s distribution (it takes %s)", d.Dist, strings.Join(uses, " and "))
		}
	}
	switch d.Dist {
	case "fixed":
		return c.nonNegative(path+".value", d.Value)
	case "exponential":
		if err := c.need(path+".mean", "the mean latency, e.g. mean: 2ms"); err != nil {
			return err
		}
		return c.positive(path+".mean", d.Mean)
	default:
		if err := c.need(path+".median", "the median latency, e.g. median: 300us"); err != nil {
			return err
		}
		if err := c.positive(path+".median", d.Median); err != nil {
			return err
		}
		if err := c.need(path+".p99", "the 99th percentile latency, e.g. p99: 2ms"); err != nil {
			return err
		}
		if d.P99 < d.Median {
			return c.errf(path+".p99", "must be at least the median (%v), got %v", d.Median, d.P99)
		}
	}
	return nil
}

func (c *checker) checkNetwork(s *Scenario) {
	n := s.Network
	for _, d := range []struct {
		path string
		d    Dist
	}{
		{"network.node_to_zone_store", n.NodeToZoneStore},
		{"network.node_to_region_store", n.NodeToRegionStore},
		{"network.node_to_global_store", n.NodeToGlobalStore},
	} {
		if !c.has(d.path) {
			continue // defaulted
		}
		c.check([]string{d.path}, func() *Error { return c.checkDist(d.path, d.d) })
	}
}

func (c *checker) checkStore(s *Scenario) {
	c.check([]string{"store.service_time"}, func() *Error { return c.nonNegative("store.service_time", s.Store.ServiceTime) })
	c.check([]string{"store.op_overhead"}, func() *Error { return c.nonNegative("store.op_overhead", s.Store.OpOverhead) })
	c.check([]string{"store.connect_timeout"}, func() *Error { return c.positive("store.connect_timeout", s.Store.ConnectTimeout) })
}

func (c *checker) checkUpstream(s *Scenario) {
	c.check([]string{"upstream.latency"}, func() *Error {
		if err := c.need("upstream.latency", "the upstream's latency, e.g. latency: {dist: lognormal, median: 200ms, p99: 900ms}"); err != nil {
			return err
		}
		return c.checkDist("upstream.latency", s.Upstream.Latency)
	})
	c.check([]string{"upstream.capacity"}, func() *Error {
		if s.Upstream.Capacity < 0 {
			return c.errf("upstream.capacity", "must not be negative (0: unlimited), got %d", s.Upstream.Capacity)
		}
		return nil
	})
	c.check([]string{"upstream.fail_above"}, func() *Error {
		if s.Upstream.FailAbove < 0 {
			return c.errf("upstream.fail_above", "must not be negative (0: never), got %d", s.Upstream.FailAbove)
		}
		return nil
	})
}

func (c *checker) checkCache(s *Scenario) {
	c.check([]string{"cache.node_ttl"}, func() *Error { return c.nonNegative("cache.node_ttl", s.Cache.NodeTTL) })
	c.check([]string{"cache.shared_ttl"}, func() *Error { return c.positive("cache.shared_ttl", s.Cache.SharedTTL) })
	c.check([]string{"cache.stale_for"}, func() *Error { return c.nonNegative("cache.stale_for", s.Cache.StaleFor) })
}
