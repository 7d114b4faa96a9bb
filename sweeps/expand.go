package sweeps

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/stampsim/stampsim/scenarios"
)

// Points returns every point of the sweep, in grid order (the first axis
// changes slowest), each with its scenario: the base with the point's
// values set, decoded and checked as a file holding it would be, with
// every topology of the sweep resolved. A point whose scenario has a
// mistake is an *scenarios.Error naming the sweep file, the line of the
// axis that the mistake is about (or of the axes, for one that two axes
// make together) and the point; every such point is reported (up to
// scenarios.MaxErrors). The points are made once and shared by every
// call: callers must not change them.
func (s *Sweep) Points() ([]Point, error) {
	if s.points != nil {
		return s.points, nil
	}
	tmpl, err := scenarios.NewTemplate(s.Base)
	if err != nil {
		return nil, err
	}
	total := 1
	for _, a := range s.Axes {
		total *= len(a.Values)
	}
	points := make([]Point, 0, total)
	var errs []*scenarios.Error
	idx := make([]int, len(s.Axes))
	for i := range total {
		p := Point{Index: i, Params: make([]Param, len(s.Axes))}
		overrides := make([]scenarios.Override, len(s.Axes))
		for k, a := range s.Axes {
			p.Params[k] = Param{Path: a.Path, Value: a.Values[idx[k]]}
			overrides[k] = scenarios.Override{Path: a.Path, Value: valueNode(a.Kind, a.Values[idx[k]])}
		}
		sc, err := tmpl.Apply(fmt.Sprintf("%s point %d", s.Name, i), overrides...)
		if err == nil {
			err = s.resolveAll(sc)
		}
		if err != nil {
			errs = append(errs, s.pointErrors(p, err)...)
			if len(errs) > scenarios.MaxErrors {
				break
			}
		}
		p.Scenario = sc
		points = append(points, p)
		// The next combination: the last axis changes fastest.
		for k := len(idx) - 1; k >= 0; k-- {
			if idx[k]++; idx[k] < len(s.Axes[k].Values) {
				break
			}
			idx[k] = 0
		}
	}
	if err := scenarios.JoinErrors(errs); err != nil {
		return nil, err
	}
	s.points = points
	return points, nil
}

// resolveAll checks that every topology of the sweep resolves in sc: a
// custom topology's levels take their defaults from the locks block, which
// an axis may change.
func (s *Sweep) resolveAll(sc *scenarios.Scenario) error {
	for _, name := range s.Topologies {
		if _, err := sc.Resolve(name); err != nil {
			return &scenarios.Error{Field: "topologies", Msg: err.Error()}
		}
	}
	return nil
}

// pointErrors turns the mistakes of point p's scenario into mistakes of
// the sweep file (PointError).
func (s *Sweep) pointErrors(p Point, err error) []*scenarios.Error {
	es := scenarioErrors(err)
	if len(es) == 0 {
		es = []*scenarios.Error{{Msg: err.Error()}}
	}
	out := make([]*scenarios.Error, len(es))
	for i, e := range es {
		out[i] = s.PointError(p, e.Field, "%s", e.Msg)
	}
	return out
}

// PointError returns a mistake that point p makes in field of its
// scenario (the cost limits it exceeds, say) as a mistake of the sweep
// file: at the axis that field is, or is in, or else at the axes, naming
// the point: "sweep.yaml:5: axes[0]: point 9 of 9
// (workload.bursts[0].requests=1000000): workload.bursts[0].requests: ...".
func (s *Sweep) PointError(p Point, field, format string, args ...any) *scenarios.Error {
	at := "axes"
	for k, a := range s.Axes {
		if within(field, a.Path) || within(a.Path, field) {
			at = fmt.Sprintf("axes[%d]", k)
			break
		}
	}
	msg := fmt.Sprintf(format, args...)
	if field != "" {
		msg = field + ": " + msg
	}
	total := 1
	for _, a := range s.Axes {
		total *= len(a.Values)
	}
	return &scenarios.Error{File: s.file, Line: s.pos.Line(at), Field: at,
		Msg: fmt.Sprintf("point %d of %d (%s): %s", p.Index+1, total, p.Label(), msg)}
}

// within reports whether path is field or a field inside it.
func within(path, field string) bool {
	rest, ok := strings.CutPrefix(path, field)
	return ok && field != "" && (rest == "" || rest[0] == '.' || rest[0] == '[')
}

// Key is the point's canonical parameters: "path=value" for each axis,
// sorted by path, a line each. It is what the point's seeds and shard are
// made of, so that neither depends on the order of the axes, the other
// points, or how a value was written ("1e3" or "1000").
func (p Point) Key() string {
	lines := make([]string, len(p.Params))
	for i, pr := range p.Params {
		lines[i] = pr.Path + "=" + pr.Value + "\n"
	}
	sort.Strings(lines)
	return strings.Join(lines, "")
}

// hash64 is the first eight bytes of the SHA-256 of the parts, each
// followed by a newline.
func hash64(parts ...string) uint64 {
	h := sha256.New()
	for _, part := range parts {
		h.Write([]byte(part))
		h.Write([]byte{'\n'})
	}
	return binary.BigEndian.Uint64(h.Sum(nil))
}

// RunSeed returns the seed of repeat r (from 0) of point p: a hash of the
// sweep's seed, the point's key and r, and nothing else.
func (s *Sweep) RunSeed(p Point, r int) uint64 {
	return hash64("stampsim sweep seed", fmt.Sprint(s.Seed), p.Key(), fmt.Sprint(r))
}

// Run returns the scenario that repeat r of point p runs: the point's,
// with the repeat's seed.
func (s *Sweep) Run(p Point, r int) *scenarios.Scenario {
	sc := *p.Scenario
	sc.Seed = s.RunSeed(p, r)
	return &sc
}

// Shard returns the shard, from 0 to n-1, that point p belongs to when
// the sweep is split into n: a hash of the point's key alone, so that
// adding points to a sweep or running a shard again moves no other point.
func Shard(p Point, n int) int {
	return int(hash64("stampsim sweep shard", p.Key()) % uint64(n))
}

// Excluded reports whether the sweep leaves topology out of point p.
func (s *Sweep) Excluded(p Point, topology string) bool {
	for _, e := range s.Exclude {
		if !slices.Contains(e.Topologies, topology) {
			continue
		}
		k := slices.IndexFunc(s.Axes, func(a Axis) bool { return a.Path == e.Path })
		if k < 0 {
			continue
		}
		kind, x := s.Axes[k].Kind, magnitude(s.Axes[k].Kind, p.Params[k].Value)
		if e.Above != "" && x > magnitude(kind, e.Above) || e.Below != "" && x < magnitude(kind, e.Below) {
			return true
		}
	}
	return false
}

// TopologiesOf returns the topologies that point p runs: the sweep's,
// less those excluded from it.
func (s *Sweep) TopologiesOf(p Point) []string {
	var names []string
	for _, t := range s.Topologies {
		if !s.Excluded(p, t) {
			names = append(names, t)
		}
	}
	return names
}

// AxisOf returns the axis at path, and whether there is one.
func (s *Sweep) AxisOf(path string) (Axis, bool) {
	k := slices.IndexFunc(s.Axes, func(a Axis) bool { return a.Path == path })
	if k < 0 {
		return Axis{}, false
	}
	return s.Axes[k], true
}

// Errorf returns a mistake in field of the sweep file, at its line; for a
// sweep read back from a document, without one.
func (s *Sweep) Errorf(field, format string, args ...any) *scenarios.Error {
	e := s.pos.Errorf(field, format, args...)
	e.File = s.file
	return e
}

// WithTopologies returns the sweep with only the topologies names (the
// base scenario's built-in or custom ones, each once), and the exclusions
// that still apply to them.
func (s *Sweep) WithTopologies(names []string) (*Sweep, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("no topologies named")
	}
	for i, n := range names {
		if slices.Contains(names[:i], n) {
			return nil, fmt.Errorf("topology %s is named twice", n)
		}
		if _, err := s.Base.Resolve(n); err != nil {
			return nil, err
		}
	}
	c := *s
	c.points = nil // each point's topologies resolve again
	c.Topologies = slices.Clone(names)
	c.Exclude = nil
	for _, e := range s.Exclude {
		var keep []string
		for _, t := range e.Topologies {
			if slices.Contains(names, t) {
				keep = append(keep, t)
			}
		}
		if len(keep) > 0 {
			e.Topologies = keep
			c.Exclude = append(c.Exclude, e)
		}
	}
	return &c, nil
}
