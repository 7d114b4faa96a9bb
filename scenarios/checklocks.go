package scenarios

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/stampsim/stampsim/locks"
)

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
	if c.has(path+".adaptive_wait") && l.AdaptiveWait != nil {
		for _, f := range []string{"quantile", "floor", "ceiling"} {
			if err := c.need(path+".adaptive_wait."+f, "an adaptive wait timeout needs quantile, floor and ceiling"); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkHardTTL checks a level's hard TTL (the locks block's when path is
// "locks", which then applies to every level) against the soft TTL of the
// level's cache: the node TTL for a node level, the shared TTL otherwise.
func (c *checker) checkHardTTL(s *Scenario, path string, hard Duration, scope string) *Error {
	if hard == 0 || !c.has(path+".hard_ttl") {
		return nil
	}
	if hard < 0 {
		return c.errf(path+".hard_ttl", "must not be negative (0: off), got %v", hard)
	}
	check := func(soft Duration, what string) *Error {
		if hard <= soft {
			return c.errf(path+".hard_ttl", "%v must be longer than the soft TTL (%s, %v)", hard, what, soft)
		}
		return nil
	}
	if scope == "" || scope == "node" {
		if s.Cache.NodeTTL <= 0 && scope == "node" {
			return c.errf(path+".hard_ttl", "a node level's hard TTL needs a node cache (cache.node_ttl is 0)")
		}
		if s.Cache.NodeTTL > 0 {
			if err := check(s.Cache.NodeTTL, "cache.node_ttl"); err != nil {
				return err
			}
		}
	}
	if scope != "node" {
		return check(s.Cache.SharedTTL, "cache.shared_ttl")
	}
	return nil
}

func (c *checker) checkLocks(s *Scenario) {
	c.check([]string{"locks"}, func() *Error { return c.locksBlock(s) })
}

// locksBlock checks the locks block, which gives every level's defaults.
func (c *checker) locksBlock(s *Scenario) *Error {
	for _, f := range []string{"scope", "name"} {
		if c.has("locks." + f) {
			return c.errf("locks."+f, "belongs in a level of custom_topologies; the locks block gives the defaults of every level")
		}
	}
	if err := c.checkLevelSettings("locks", s.Locks); err != nil {
		return err
	}
	if err := c.checkHardTTL(s, "locks", s.Locks.HardTTL, ""); err != nil {
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

// checkCustom checks each custom topology on its own. Its levels take the
// locks block's settings, so none is checked while that has a mistake.
func (c *checker) checkCustom(s *Scenario) {
	seen := map[string]int{}
	for i, ct := range s.CustomTopologies {
		p := fmt.Sprintf("custom_topologies[%d]", i)
		c.check([]string{p, "locks"}, func() *Error { return c.custom(s, seen, i, p, ct) })
	}
}

// custom checks the custom topology ct, number i at path p; seen maps the
// names of those checked before it to their numbers.
func (c *checker) custom(s *Scenario, seen map[string]int, i int, p string, ct CustomTopology) *Error {
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
	if j := ct.TTLJitter; j != nil && !(*j >= 0 && *j < 1) {
		return c.errf(p+".ttl_jitter", "must be a fraction in [0, 1), got %v", *j)
	}
	if b := ct.XFetchBeta; b != nil && !(*b >= 0 && *b <= math.MaxFloat64) {
		return c.errf(p+".xfetch_beta", "must be a finite number at least 0 (0: off), got %v", *b)
	}
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
		if err := c.checkHardTTL(s, lp, l.HardTTL, l.Scope); err != nil {
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

// checkTopologies checks the list of topologies to run, each name on its
// own; a custom one is not checked while its definition has a mistake, nor
// an unknown name while any definition has one (it may be the one meant).
func (c *checker) checkTopologies(s *Scenario) {
	c.check([]string{"topologies"}, func() *Error {
		if len(s.Topologies) == 0 {
			return c.errf("topologies", "must list at least one topology (leave it out for the six built-ins)")
		}
		return nil
	})
	seen := map[string]int{}
	for i, name := range s.Topologies {
		p := fmt.Sprintf("topologies[%d]", i)
		reads := []string{p, "locks"}
		if j := slices.Index(s.customNames(), name); j >= 0 {
			reads = append(reads, fmt.Sprintf("custom_topologies[%d]", j))
		} else if !isBuiltinTopology(name) {
			reads = append(reads, "custom_topologies")
		}
		c.check(reads, func() *Error {
			if j, dup := seen[name]; dup {
				return c.errf(p, "%q is listed twice (also topologies[%d])", name, j)
			}
			seen[name] = i
			if _, err := s.Resolve(name); err != nil {
				return c.errf(p, "%v", err)
			}
			return nil
		})
	}
}
