package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/real"
)

// policyFlags are the flags that set the cache policies held in the
// topology's levels: stale-while-revalidate's hard TTLs and adaptive wait
// timeouts.
type policyFlags struct {
	nodeHardTTL, sharedHardTTL time.Duration
	adaptive                   float64
	adaptiveFloor              time.Duration
	adaptiveCeiling            time.Duration
}

func (p *policyFlags) register(fs *flag.FlagSet) {
	fs.DurationVar(&p.nodeHardTTL, "node-hard-ttl", 0, "stale-while-revalidate in the instance's own cache: serve a value past -node-ttl until this age while one background refresh runs (0: off; needs a topology with a node level)")
	fs.DurationVar(&p.sharedHardTTL, "shared-hard-ttl", 0, "stale-while-revalidate in Redis: serve a value past -shared-ttl until this age while one background refresh per path runs across the instances (0: off; needs a shared level)")
	fs.Float64Var(&p.adaptive, "adaptive-wait", 0, "make every level's wait timeout follow this `quantile` of the origin's call durations, within -adaptive-floor and -adaptive-ceiling (0: the fixed 5s)")
	fs.DurationVar(&p.adaptiveFloor, "adaptive-floor", 100*time.Millisecond, "the shortest an adaptive wait timeout gets")
	fs.DurationVar(&p.adaptiveCeiling, "adaptive-ceiling", 30*time.Second, "the longest an adaptive wait timeout gets")
}

// apply sets the policies on c's topology, which the flags have chosen, and
// checks them against it and the TTLs, naming the flag that is wrong.
func (p *policyFlags) apply(c *config) error {
	levels := c.topology.Levels
	nodeTTL, sharedTTL := c.nodeTTL, c.sharedTTL // as the driver takes them
	if nodeTTL == 0 {
		nodeTTL = real.DefaultNodeCacheTTL
	}
	if sharedTTL == 0 {
		sharedTTL = real.DefaultSharedCacheTTL
	}
	nodeLevel := len(levels) > 0 && levels[0].Scope == locks.ScopeNode
	shared := len(levels) > 0 && levels[len(levels)-1].Scope.Shared()
	switch {
	case p.nodeHardTTL < 0:
		return fmt.Errorf("-node-hard-ttl must not be negative, got %v", p.nodeHardTTL)
	case p.nodeHardTTL > 0 && !nodeLevel:
		return fmt.Errorf("-node-hard-ttl %v: topology %q has no node level", p.nodeHardTTL, c.topology.Name)
	case p.nodeHardTTL > 0 && nodeTTL < 0:
		return fmt.Errorf("-node-hard-ttl %v needs the node cache, which -node-ttl %v switches off", p.nodeHardTTL, c.nodeTTL)
	case p.nodeHardTTL > 0 && p.nodeHardTTL <= nodeTTL:
		return fmt.Errorf("-node-hard-ttl %v must be longer than -node-ttl %v", p.nodeHardTTL, nodeTTL)
	case p.sharedHardTTL < 0:
		return fmt.Errorf("-shared-hard-ttl must not be negative, got %v", p.sharedHardTTL)
	case p.sharedHardTTL > 0 && !shared:
		return fmt.Errorf("-shared-hard-ttl %v: topology %q has no shared level", p.sharedHardTTL, c.topology.Name)
	case p.sharedHardTTL > 0 && p.sharedHardTTL <= sharedTTL:
		return fmt.Errorf("-shared-hard-ttl %v must be longer than -shared-ttl %v", p.sharedHardTTL, sharedTTL)
	case p.adaptive != 0 && !(p.adaptive > 0 && p.adaptive < 1):
		return fmt.Errorf("-adaptive-wait must be a quantile in (0, 1), got %v", p.adaptive)
	case p.adaptive != 0 && p.adaptiveFloor <= 0:
		return fmt.Errorf("-adaptive-floor must be positive, got %v", p.adaptiveFloor)
	case p.adaptive != 0 && p.adaptiveCeiling < p.adaptiveFloor:
		return fmt.Errorf("-adaptive-ceiling %v is below -adaptive-floor %v", p.adaptiveCeiling, p.adaptiveFloor)
	}
	for i := range levels {
		l := &levels[i]
		if l.Scope.Shared() {
			l.HardTTL = p.sharedHardTTL
		} else {
			l.HardTTL = p.nodeHardTTL
		}
		if p.adaptive > 0 {
			l.AdaptiveQuantile, l.AdaptiveFloor, l.AdaptiveCeiling = p.adaptive, p.adaptiveFloor, p.adaptiveCeiling
		}
	}
	return nil
}
