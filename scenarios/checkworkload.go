package scenarios

import (
	"fmt"
	"math"
	"strings"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/topology"
)

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// checkWorkload checks the traffic: the keys, the rate and the Zipf
// exponent each on their own, then each burst, against the keys, the
// run's duration and the fleet's shape.
func (c *checker) checkWorkload(s *Scenario) {
	w := s.Workload
	c.check([]string{"workload"}, func() *Error {
		return c.need("workload", "the traffic, e.g. workload: {keys: 1000, zipf_s: 1.1, rate: 5000}")
	})
	c.check([]string{"workload.keys"}, func() *Error {
		if err := c.need("workload.keys", "how many keys there are; at least 1"); err != nil {
			return err
		}
		if w.Keys < 1 {
			return c.errf("workload.keys", "must be at least 1, got %d", w.Keys)
		}
		if w.Keys > MaxKeys {
			return c.errf("workload.keys", "%d is more than the %d keys a workload may have", w.Keys, MaxKeys)
		}
		return nil
	})
	for _, f := range []struct {
		path string
		v    float64
	}{{"workload.rate", w.Rate}, {"workload.zipf_s", w.ZipfS}} {
		c.check([]string{f.path}, func() *Error {
			if !finite(f.v) {
				return c.errf(f.path, "must be a finite number, got %v", f.v)
			}
			if f.v < 0 {
				return c.errf(f.path, "must not be negative, got %v", f.v)
			}
			return nil
		})
	}
	c.check([]string{"workload.rate", "workload.bursts"}, func() *Error {
		if w.Rate == 0 && len(w.Bursts) == 0 {
			return c.errf("workload", "no traffic: set rate (requests per second) or bursts")
		}
		return nil
	})
	c.check([]string{"workload.keys", "workload.zipf_s"}, func() *Error {
		if w.Keys > 1 && w.ZipfS <= 1 {
			if !c.has("workload.zipf_s") {
				return c.errf("workload.zipf_s", "missing: the Zipf exponent of key popularity over %d keys, greater than 1 (e.g. 1.1)", w.Keys)
			}
			return c.errf("workload.zipf_s", "must be greater than 1 (math/rand/v2's Zipf generator needs s > 1), got %v", w.ZipfS)
		}
		return nil
	})
	shape := s.Shape()
	for i, b := range w.Bursts {
		p := fmt.Sprintf("workload.bursts[%d]", i)
		c.check([]string{p, "workload.keys", "duration", "topology"}, func() *Error { return c.burst(s, shape, p, b) })
	}
}

// start checks the start time at of a burst or fault, at path p: given
// (hint says what it is), not negative, and before the end of the run.
func (c *checker) start(s *Scenario, p string, at Duration, hint string) *Error {
	if err := c.need(p, hint); err != nil {
		return err
	}
	if err := c.nonNegative(p, at); err != nil {
		return err
	}
	if at >= s.Duration {
		return c.errf(p, "%v is not before the end of the run (duration %v)", at, s.Duration)
	}
	return nil
}

// burst checks the burst b, at path p.
func (c *checker) burst(s *Scenario, shape topology.Shape, p string, b Burst) *Error {
	w := s.Workload
	if err := c.start(s, p+".at", b.At, "when the burst starts, e.g. at: 5s"); err != nil {
		return err
	}
	if err := c.nonNegative(p+".over", b.Over); err != nil {
		return err
	}
	if end := b.At + b.Over; end > s.Duration {
		return c.errf(p+".over", "the burst would end at %v, after the run ends (duration %v)", end, s.Duration)
	}
	if err := burstKey(b.Key, w.Keys); err != nil {
		return c.errf(p+".key", "%v", err)
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
	seen := map[int]int{}
	for j, name := range b.Nodes {
		np := fmt.Sprintf("%s.nodes[%d]", p, j)
		n, err := nodeID(shape, name)
		if err != nil {
			return c.errf(np, "%v", err)
		}
		if k, dup := seen[n]; dup {
			return c.errf(np, "%q is listed twice (also nodes[%d])", name, k)
		}
		seen[n] = j
	}
	return nil
}

// faultFields says which optional fields each fault kind takes.
var faultFields = [numFaultKinds][]string{
	FaultNodeCrash:        {"node"},
	FaultNodePause:        {"node"},
	FaultStoreOutage:      {"scope", "region", "zone"},
	FaultStoreSlowdown:    {"scope", "region", "zone", "factor"},
	FaultPartition:        {"node", "scope"},
	FaultUpstreamSlowdown: {"factor"},
	FaultUpstreamErrors:   {"rate"},
}

// storeScope checks that the scope of a store, at path, is given and is
// zone, region or global.
func (c *checker) storeScope(path, scope string) (locks.Scope, *Error) {
	if err := c.need(path, "which store: zone, region or global"); err != nil {
		return 0, err
	}
	sc, err := parseStoreScope(scope)
	if err != nil {
		return 0, c.errf(path, "%v", err)
	}
	return sc, nil
}

// checkFaults checks each fault on its own. A fault is checked against
// the run's duration and the fleet's shape, so it is not checked while
// either has a mistake.
func (c *checker) checkFaults(s *Scenario) {
	for i, f := range s.Faults {
		p := fmt.Sprintf("faults[%d]", i)
		c.check([]string{p, "duration", "topology"}, func() *Error { return c.fault(s, p, f) })
	}
}

// fault checks the fault f, at path p.
func (c *checker) fault(s *Scenario, p string, f Fault) *Error {
	shape := s.Shape()
	if err := c.need(p+".kind", "one of "+strings.Join(FaultKinds, ", ")); err != nil {
		return err
	}
	kind, ok := ParseFaultKind(f.Kind)
	if !ok {
		if sug := suggest(f.Kind, FaultKinds); sug != "" {
			return c.errf(p+".kind", "unknown fault kind %q (did you mean %q?)", f.Kind, sug)
		}
		return c.errf(p+".kind", "unknown fault kind %q (want one of %s)", f.Kind, strings.Join(FaultKinds, ", "))
	}
	takes := faultFields[kind]
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
	if err := c.start(s, p+".at", f.At, "when the fault starts, e.g. at: 5s"); err != nil {
		return err
	}
	if err := c.need(p+".for", "how long the fault lasts, e.g. for: 2s"); err != nil {
		return err
	}
	if err := c.positive(p+".for", f.For); err != nil {
		return err
	}
	switch kind {
	case FaultNodeCrash, FaultNodePause, FaultPartition:
		if err := c.need(p+".node", "which node, e.g. node: r0/z0/n3"); err != nil {
			return err
		}
		if _, err := nodeID(shape, f.Node); err != nil {
			return c.errf(p+".node", "%v", err)
		}
		if kind == FaultPartition {
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
		if _, field, err := storeNumber(shape, sc, f.Region, f.Zone); err != nil {
			return c.errf(p+"."+field, "%v", err)
		}
	}
	switch kind {
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
	return nil
}
