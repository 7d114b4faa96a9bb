package scenarios

import (
	"fmt"
	"strings"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/topology"
)

// Shape returns the fleet's shape.
func (s *Scenario) Shape() topology.Shape {
	return topology.Shape{
		Regions:        s.Topology.Regions,
		ZonesPerRegion: s.Topology.ZonesPerRegion,
		NodesPerZone:   s.Topology.NodesPerZone,
	}
}

// Resolve returns the lock topology called name: a built-in (see
// locks.Builtins) with the scenario's locks block applied to every level, or
// one of the scenario's custom topologies, each level's own settings over
// the locks block's. The topology it returns has passed Validate.
func (s *Scenario) Resolve(name string) (locks.Topology, error) {
	if isBuiltinTopology(name) {
		def, err := s.resolveLevel(LockLevel{})
		if err != nil {
			return locks.Topology{}, fmt.Errorf("topology %q: %w", name, err)
		}
		return locks.Builtin(name, def)
	}
	for _, ct := range s.CustomTopologies {
		if ct.Name != name {
			continue
		}
		t := locks.Topology{Name: name}
		for i, l := range ct.Levels {
			lvl, err := s.resolveLevel(l)
			if err != nil {
				return locks.Topology{}, fmt.Errorf("topology %q: level %d: %w", name, i, err)
			}
			t.Levels = append(t.Levels, lvl)
		}
		return t, t.Validate()
	}
	if sug := suggest(name, s.TopologyNames()); sug != "" {
		return locks.Topology{}, fmt.Errorf("unknown topology %q (did you mean %q?)", name, sug)
	}
	custom := "the scenario defines no custom topologies"
	if names := s.customNames(); len(names) > 0 {
		custom = "custom: " + strings.Join(names, ", ")
	}
	return locks.Topology{}, fmt.Errorf("unknown topology %q (built-in: %s; %s)",
		name, strings.Join(BuiltinTopologies(), ", "), custom)
}

// CachePolicies returns the TTL jitter and the XFetch beta that the
// topology called name runs with: its own, for a custom topology that sets
// them, else the cache block's.
func (s *Scenario) CachePolicies(name string) (ttlJitter, xfetchBeta float64) {
	ttlJitter, xfetchBeta = s.Cache.TTLJitter, s.Cache.XFetchBeta
	for _, ct := range s.CustomTopologies {
		if ct.Name != name {
			continue
		}
		if ct.TTLJitter != nil {
			ttlJitter = *ct.TTLJitter
		}
		if ct.XFetchBeta != nil {
			xfetchBeta = *ct.XFetchBeta
		}
	}
	return ttlJitter, xfetchBeta
}

// TopologyNames returns every topology name the scenario can run: the
// built-ins, then its custom topologies in file order.
func (s *Scenario) TopologyNames() []string {
	return append(BuiltinTopologies(), s.customNames()...)
}

func (s *Scenario) customNames() []string {
	var names []string
	for _, ct := range s.CustomTopologies {
		names = append(names, ct.Name)
	}
	return names
}

// resolveLevel turns l, with the locks block's settings where l has none,
// into a locks.Level. An empty scope gives a node level (the caller sets the
// scope).
func (s *Scenario) resolveLevel(l LockLevel) (locks.Level, error) {
	d := s.Locks
	pick := func(v, def Duration) Duration {
		if v != 0 {
			return v
		}
		return def
	}
	pickS := func(v, def string) string {
		if v != "" {
			return v
		}
		return def
	}
	var out locks.Level
	var err error
	if l.Scope != "" {
		if out.Scope, err = locks.ParseScope(l.Scope); err != nil {
			return out, err
		}
	}
	out.Name = l.Name
	out.LeaseTTL = pick(l.LeaseTTL, d.LeaseTTL).D()
	out.WaitTimeout = pick(l.WaitTimeout, d.WaitTimeout).D()
	out.PollInterval = pick(l.PollInterval, d.PollInterval).D()
	if out.OnTimeout, err = locks.ParsePolicy(pickS(l.OnTimeout, pickS(d.OnTimeout, DefaultOnTimeout))); err != nil {
		return out, err
	}
	if out.Wake, err = locks.ParseWake(pickS(l.Wake, pickS(d.Wake, DefaultWake))); err != nil {
		return out, err
	}
	renew := d.Renew
	if l.Renew != nil {
		renew = l.Renew
	}
	out.NoRenew = renew != nil && !*renew
	out.HardTTL = pick(l.HardTTL, d.HardTTL).D()
	aw := d.AdaptiveWait
	if l.AdaptiveWait != nil {
		aw = l.AdaptiveWait
	}
	if aw != nil {
		out.AdaptiveQuantile, out.AdaptiveFloor, out.AdaptiveCeiling = aw.Quantile, aw.Floor.D(), aw.Ceiling.D()
	}
	return out, nil
}
