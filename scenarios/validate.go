package scenarios

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/topology"
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
// lines the decoder recorded to say where each mistake is.
type checker struct {
	file  string
	lines map[string]int
	nulls map[string]bool
}

// has reports whether the file sets the field at path (to something other
// than null).
func (c *checker) has(path string) bool {
	_, ok := c.lines[path]
	return ok && !c.nulls[path]
}

// line returns the line of path, or of its closest parent present in the
// file.
func (c *checker) line(path string) int {
	for {
		if l, ok := c.lines[path]; ok {
			return l
		}
		if path == "" {
			return 0
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			path = ""
		} else {
			path = path[:i]
		}
	}
}

func (c *checker) errf(path, format string, args ...any) *Error {
	return &Error{File: c.file, Line: c.line(path), Field: path, Msg: fmt.Sprintf(format, args...)}
}

func (c *checker) fillDefaults(s *Scenario) {
	if s.Name == "" {
		s.Name = defaultName(c.file)
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
// returns the first mistake.
func (c *checker) validate(s *Scenario) *Error {
	for _, check := range []func(*Scenario) *Error{
		c.checkRun, c.checkWorld, c.checkNetwork, c.checkStore, c.checkUpstream,
		c.checkCache, c.checkWorkload, c.checkFaults, c.checkLocks,
		c.checkCustom, c.checkTopologies,
	} {
		if err := check(s); err != nil {
			return err
		}
	}
	return nil
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

func (c *checker) checkRun(s *Scenario) *Error {
	if err := c.need("duration", "how much simulated time to run, e.g. duration: 20s"); err != nil {
		return err
	}
	return c.positive("duration", s.Duration)
}

func (c *checker) checkWorld(s *Scenario) *Error {
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

func (c *checker) checkNetwork(s *Scenario) *Error {
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
		if err := c.checkDist(d.path, d.d); err != nil {
			return err
		}
	}
	return nil
}

func (c *checker) checkStore(s *Scenario) *Error {
	if err := c.nonNegative("store.service_time", s.Store.ServiceTime); err != nil {
		return err
	}
	if err := c.nonNegative("store.op_overhead", s.Store.OpOverhead); err != nil {
		return err
	}
	return c.positive("store.connect_timeout", s.Store.ConnectTimeout)
}

func (c *checker) checkUpstream(s *Scenario) *Error {
	if err := c.need("upstream.latency", "the upstream's latency, e.g. latency: {dist: lognormal, median: 200ms, p99: 900ms}"); err != nil {
		return err
	}
	if err := c.checkDist("upstream.latency", s.Upstream.Latency); err != nil {
		return err
	}
	if s.Upstream.Capacity < 0 {
		return c.errf("upstream.capacity", "must not be negative (0: unlimited), got %d", s.Upstream.Capacity)
	}
	if s.Upstream.FailAbove < 0 {
		return c.errf("upstream.fail_above", "must not be negative (0: never), got %d", s.Upstream.FailAbove)
	}
	return nil
}

func (c *checker) checkCache(s *Scenario) *Error {
	if err := c.nonNegative("cache.node_ttl", s.Cache.NodeTTL); err != nil {
		return err
	}
	if err := c.positive("cache.shared_ttl", s.Cache.SharedTTL); err != nil {
		return err
	}
	return c.nonNegative("cache.stale_for", s.Cache.StaleFor)
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func (c *checker) checkWorkload(s *Scenario) *Error {
	w := s.Workload
	if err := c.need("workload", "the traffic, e.g. workload: {keys: 1000, zipf_s: 1.1, rate: 5000}"); err != nil {
		return err
	}
	if err := c.need("workload.keys", "how many keys there are; at least 1"); err != nil {
		return err
	}
	if w.Keys < 1 {
		return c.errf("workload.keys", "must be at least 1, got %d", w.Keys)
	}
	if w.Keys > MaxKeys {
		return c.errf("workload.keys", "%d is more than the %d keys a workload may have", w.Keys, MaxKeys)
	}
	for _, f := range []struct {
		path string
		v    float64
	}{{"workload.rate", w.Rate}, {"workload.zipf_s", w.ZipfS}} {
		if !finite(f.v) {
			return c.errf(f.path, "must be a finite number, got %v", f.v)
		}
		if f.v < 0 {
			return c.errf(f.path, "must not be negative, got %v", f.v)
		}
	}
	if w.Rate == 0 && len(w.Bursts) == 0 {
		return c.errf("workload", "no traffic: set rate (requests per second) or bursts")
	}
	if w.Keys > 1 && w.ZipfS <= 1 {
		if !c.has("workload.zipf_s") {
			return c.errf("workload.zipf_s", "missing: the Zipf exponent of key popularity over %d keys, greater than 1 (e.g. 1.1)", w.Keys)
		}
		return c.errf("workload.zipf_s", "must be greater than 1 (math/rand/v2's Zipf generator needs s > 1), got %v", w.ZipfS)
	}
	shape := s.Shape()
	for i, b := range w.Bursts {
		p := fmt.Sprintf("workload.bursts[%d]", i)
		if err := c.need(p+".at", "when the burst starts, e.g. at: 5s"); err != nil {
			return err
		}
		if err := c.nonNegative(p+".at", b.At); err != nil {
			return err
		}
		if b.At >= s.Duration {
			return c.errf(p+".at", "%v is not before the end of the run (duration %v)", b.At, s.Duration)
		}
		if err := c.nonNegative(p+".over", b.Over); err != nil {
			return err
		}
		if end := b.At + b.Over; end > s.Duration {
			return c.errf(p+".over", "the burst would end at %v, after the run ends (duration %v)", end, s.Duration)
		}
		if b.Key < 0 || b.Key >= w.Keys {
			return c.errf(p+".key", "must be a key from 0 to %d (workload.keys is %d), got %d", w.Keys-1, w.Keys, b.Key)
		}
		if err := c.need(p+".requests", "how many requests, e.g. requests: 100000"); err != nil {
			return err
		}
		if b.Requests < 0 {
			return c.errf(p+".requests", "must not be negative, got %d", b.Requests)
		}
		if b.Requests == 0 {
			return c.errf(p+".requests", "must be at least 1, got 0")
		}
		seen := map[topology.Node]int{}
		for j, name := range b.Nodes {
			np := fmt.Sprintf("%s.nodes[%d]", p, j)
			n, err := shape.ParseNode(name)
			if err != nil {
				return c.errf(np, "%v", err)
			}
			if k, dup := seen[n]; dup {
				return c.errf(np, "%q is listed twice (also nodes[%d])", name, k)
			}
			seen[n] = j
		}
	}
	return nil
}

// faultFields says which optional fields each fault kind takes.
var faultFields = map[string][]string{
	FaultNodeCrash:        {"node"},
	FaultNodePause:        {"node"},
	FaultStoreOutage:      {"scope", "region", "zone"},
	FaultStoreSlowdown:    {"scope", "region", "zone", "factor"},
	FaultPartition:        {"node", "scope"},
	FaultUpstreamSlowdown: {"factor"},
	FaultUpstreamErrors:   {"rate"},
}

// storeScope parses the scope of a store: zone, region or global.
func (c *checker) storeScope(path, scope string) (locks.Scope, *Error) {
	if err := c.need(path, "which store: zone, region or global"); err != nil {
		return 0, err
	}
	sc, err := locks.ParseScope(scope)
	if err != nil {
		return 0, c.errf(path, "unknown scope %q (want zone, region or global)", scope)
	}
	if !sc.Shared() {
		return 0, c.errf(path, "node has no store (want zone, region or global)")
	}
	return sc, nil
}

func (c *checker) checkFaults(s *Scenario) *Error {
	shape := s.Shape()
	for i, f := range s.Faults {
		p := fmt.Sprintf("faults[%d]", i)
		if err := c.need(p+".kind", "one of "+strings.Join(FaultKinds, ", ")); err != nil {
			return err
		}
		takes, ok := faultFields[f.Kind]
		if !ok {
			if sug := suggest(f.Kind, FaultKinds); sug != "" {
				return c.errf(p+".kind", "unknown fault kind %q (did you mean %q?)", f.Kind, sug)
			}
			return c.errf(p+".kind", "unknown fault kind %q (want one of %s)", f.Kind, strings.Join(FaultKinds, ", "))
		}
		for _, field := range []string{"node", "scope", "region", "zone", "factor", "rate"} {
			if !c.has(p + "." + field) {
				continue
			}
			applies := false
			for _, t := range takes {
				applies = applies || t == field
			}
			if !applies {
				return c.errf(p+"."+field, "does not apply to a %s fault (it takes %s)", f.Kind, strings.Join(takes, ", "))
			}
		}
		if err := c.need(p+".at", "when the fault starts, e.g. at: 5s"); err != nil {
			return err
		}
		if err := c.nonNegative(p+".at", f.At); err != nil {
			return err
		}
		if f.At >= s.Duration {
			return c.errf(p+".at", "%v is not before the end of the run (duration %v)", f.At, s.Duration)
		}
		if err := c.need(p+".for", "how long the fault lasts, e.g. for: 2s"); err != nil {
			return err
		}
		if err := c.positive(p+".for", f.For); err != nil {
			return err
		}
		switch f.Kind {
		case FaultNodeCrash, FaultNodePause, FaultPartition:
			if err := c.need(p+".node", "which node, e.g. node: r0/z0/n3"); err != nil {
				return err
			}
			if _, err := shape.ParseNode(f.Node); err != nil {
				return c.errf(p+".node", "%v", err)
			}
			if f.Kind == FaultPartition {
				if _, err := c.storeScope(p+".scope", f.Scope); err != nil {
					return err
				}
			}
		case FaultStoreOutage, FaultStoreSlowdown:
			sc, err := c.storeScope(p+".scope", f.Scope)
			if err != nil {
				return err
			}
			if sc == locks.ScopeGlobal && c.has(p+".region") {
				return c.errf(p+".region", "does not apply to the global store")
			}
			if sc != locks.ScopeZone && c.has(p+".zone") {
				return c.errf(p+".zone", "does not apply to a %s store", sc)
			}
			if sc != locks.ScopeGlobal && (f.Region < 0 || f.Region >= shape.Regions) {
				return c.errf(p+".region", "region %d does not exist: there are %d regions (0 to %d)", f.Region, shape.Regions, shape.Regions-1)
			}
			if sc == locks.ScopeZone && (f.Zone < 0 || f.Zone >= shape.ZonesPerRegion) {
				return c.errf(p+".zone", "zone %d does not exist: there are %d zones per region (0 to %d)", f.Zone, shape.ZonesPerRegion, shape.ZonesPerRegion-1)
			}
		}
		switch f.Kind {
		case FaultStoreSlowdown, FaultUpstreamSlowdown:
			if err := c.need(p+".factor", "what latencies are multiplied by, e.g. factor: 10"); err != nil {
				return err
			}
			if !finite(f.Factor) || f.Factor < 1 {
				return c.errf(p+".factor", "must be at least 1 (latencies are multiplied by it), got %v", f.Factor)
			}
		case FaultUpstreamErrors:
			if err := c.need(p+".rate", "the fraction of calls that fail, e.g. rate: 0.5"); err != nil {
				return err
			}
			if !finite(f.Rate) || f.Rate <= 0 || f.Rate > 1 {
				return c.errf(p+".rate", "must be a fraction above 0 and at most 1, got %v", f.Rate)
			}
		}
	}
	return nil
}

// checkLevelSettings checks the settings a level (or the locks block) sets
// itself; durations are left to locks.Topology.Validate, which knows which
// apply to which scope.
func (c *checker) checkLevelSettings(path string, l LockLevel) *Error {
	for _, d := range []struct {
		field string
		v     Duration
	}{{"lease_ttl", l.LeaseTTL}, {"wait_timeout", l.WaitTimeout}, {"poll_interval", l.PollInterval}} {
		if c.has(path+"."+d.field) && d.v <= 0 {
			return c.errf(path+"."+d.field, "must be positive, got %v", d.v)
		}
	}
	if c.has(path + ".on_timeout") {
		if _, err := locks.ParsePolicy(l.OnTimeout); err != nil {
			return c.errf(path+".on_timeout", "%v", err)
		}
	}
	if c.has(path + ".wake") {
		if _, err := locks.ParseWake(l.Wake); err != nil {
			return c.errf(path+".wake", "%v", err)
		}
	}
	return nil
}

func (c *checker) checkLocks(s *Scenario) *Error {
	for _, f := range []string{"scope", "name"} {
		if c.has("locks." + f) {
			return c.errf("locks."+f, "belongs in a level of custom_topologies; the locks block gives the defaults of every level")
		}
	}
	if err := c.checkLevelSettings("locks", s.Locks); err != nil {
		return err
	}
	// Check the defaults as a shared level would use them, so that a bad
	// default is reported at the locks block even when no topology listed
	// uses it.
	l, err := s.resolveLevel(LockLevel{Scope: "region"})
	if err != nil {
		return c.errf("locks", "%v", err)
	}
	return c.levelErr("locks", -1, locks.Topology{Name: "locks", Levels: []locks.Level{l}}.Validate())
}

func (c *checker) checkCustom(s *Scenario) *Error {
	seen := map[string]int{}
	for i, ct := range s.CustomTopologies {
		p := fmt.Sprintf("custom_topologies[%d]", i)
		if err := c.need(p+".name", "the topology's name, used in topologies"); err != nil {
			return err
		}
		if ct.Name == "" {
			return c.errf(p+".name", "must not be empty")
		}
		if isBuiltinTopology(ct.Name) {
			return c.errf(p+".name", "%q is a built-in topology's name; pick another", ct.Name)
		}
		if j, dup := seen[ct.Name]; dup {
			return c.errf(p+".name", "%q is already the name of custom_topologies[%d]", ct.Name, j)
		}
		seen[ct.Name] = i
		if len(ct.Levels) == 0 {
			return c.errf(p+".levels", "must list at least one level (the built-in \"none\" has none)")
		}
		for j, l := range ct.Levels {
			lp := fmt.Sprintf("%s.levels[%d]", p, j)
			if err := c.need(lp+".scope", "node, zone, region or global"); err != nil {
				return err
			}
			if _, err := locks.ParseScope(l.Scope); err != nil {
				return c.errf(lp+".scope", "%v", err)
			}
			if err := c.checkLevelSettings(lp, l); err != nil {
				return err
			}
		}
		t, err := s.Resolve(ct.Name)
		if err == nil {
			err = t.Validate()
		}
		if err != nil {
			return c.levelErr(p+".levels", i, err)
		}
		names := map[string]int{}
		for j, l := range t.Levels {
			name := l.LevelName()
			if k, dup := names[name]; dup {
				return c.errf(fmt.Sprintf("%s.levels[%d].name", p, j), "%q also names levels[%d]; level names must differ", name, k)
			}
			names[name] = j
		}
	}
	return nil
}

// levelErr places an error from package locks about custom topology ct (-1:
// the locks block) at the line of the field it names: the level's own
// setting if it has one, else the locks block's.
func (c *checker) levelErr(levelsPath string, ct int, err error) *Error {
	if err == nil {
		return nil
	}
	var fe *locks.FieldError
	if !errors.As(err, &fe) {
		return c.errf(levelsPath, "%v", err)
	}
	if ct < 0 {
		return c.errf("locks."+fe.Field, "%s", fe.Reason)
	}
	if fe.Level < 0 {
		return c.errf(levelsPath, "%s", fe.Reason)
	}
	path := fmt.Sprintf("%s[%d].%s", levelsPath, fe.Level, fe.Field)
	if !c.has(path) && fe.Field != "scope" && c.has("locks."+fe.Field) {
		path = "locks." + fe.Field
	}
	return c.errf(path, "%s", fe.Reason)
}

func (c *checker) checkTopologies(s *Scenario) *Error {
	if len(s.Topologies) == 0 {
		return c.errf("topologies", "must list at least one topology (leave it out for the six built-ins)")
	}
	seen := map[string]int{}
	for i, name := range s.Topologies {
		p := fmt.Sprintf("topologies[%d]", i)
		if j, dup := seen[name]; dup {
			return c.errf(p, "%q is listed twice (also topologies[%d])", name, j)
		}
		seen[name] = i
		if _, err := s.Resolve(name); err != nil {
			if isBuiltinTopology(name) || slices.Contains(s.customNames(), name) {
				return c.errf(p, "%v", err)
			}
			return c.errf(p, "%v", err)
		}
	}
	return nil
}
