// Package report writes BENCHMARKS.md and its figures from the raw files of
// bench/results/ alone: every number in it is a median over the repeats of
// one run, read from what the benchmarks measured, and every row names the
// machine it was measured on and how many repeats it has.
//
// It must not measure anything, and must not invent a figure that is not in
// the raw files: a unit that was not measured shows as missing.
package report

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/stampsim/stampsim/bench/internal/rawlog"
)

// Suite is one raw file, read.
type Suite struct {
	// Name is the suite ("peers", "sim"), Path the file read.
	Name, Path string
	Plan       rawlog.Plan
	Machines   []rawlog.Machine
	// Units holds the results by unit key.
	Units map[string]*Unit
	// Done counts the units' repeats measured, of Total planned.
	Done, Total int
}

// Unit is every repeat of one unit.
type Unit struct {
	Key    string
	Labels map[string]string
	// Repeats holds the metrics by repeat, Sessions the session (machine
	// record) of each.
	Repeats  map[int]map[string]float64
	Sessions map[int]int
}

// Load reads suite name from dir: the full run's file (dir/name.jsonl)
// when it holds every unit of its plan, else the smoke run's
// (dir/smoke/name.jsonl), else an incomplete full run if that is all there
// is. The suite says which it is (Plan.Smoke, Done and Total).
func Load(dir, name string) (*Suite, error) {
	full, err := read(filepath.Join(dir, name+".jsonl"), name)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if full != nil && full.Done == full.Total {
		return full, nil
	}
	smoke, serr := read(filepath.Join(dir, "smoke", name+".jsonl"), name)
	if serr != nil && !errors.Is(serr, os.ErrNotExist) {
		return nil, serr
	}
	switch {
	case smoke != nil:
		return smoke, nil
	case full != nil:
		return full, nil
	}
	return nil, fmt.Errorf("no raw results for suite %q in %s (neither %s.jsonl nor smoke/%s.jsonl): run make bench-peers", name, dir, name, name)
}

func read(path, name string) (*Suite, error) {
	lines, err := rawlog.Read(path)
	if err != nil {
		return nil, err
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%s: empty", path)
	}
	s := &Suite{Name: name, Path: path, Plan: *lines[0].Plan, Units: map[string]*Unit{}, Total: len(lines[0].Plan.Units)}
	if s.Plan.Suite != name {
		return nil, fmt.Errorf("%s:1: plan.suite is %q, want %q", path, s.Plan.Suite, name)
	}
	planned := map[string]bool{}
	for _, k := range s.Plan.Units {
		planned[k] = true
	}
	for i, l := range lines[1:] {
		switch {
		case l.Machine != nil:
			s.Machines = append(s.Machines, *l.Machine)
		case l.Result != nil:
			r := l.Result
			if !planned[rawlog.Key(r.Unit, r.Repeat)] {
				return nil, fmt.Errorf("%s:%d: result.unit %q repeat %d is not in the plan", path, i+2, r.Unit, r.Repeat)
			}
			if r.Session >= len(s.Machines) {
				return nil, fmt.Errorf("%s:%d: result.session %d has no machine record before it", path, i+2, r.Session)
			}
			u := s.Units[r.Unit]
			if u == nil {
				u = &Unit{Key: r.Unit, Labels: r.Labels, Repeats: map[int]map[string]float64{}, Sessions: map[int]int{}}
				s.Units[r.Unit] = u
			}
			if _, dup := u.Repeats[r.Repeat]; !dup {
				s.Done++
			}
			u.Repeats[r.Repeat] = r.Metrics
			u.Sessions[r.Repeat] = r.Session
		}
	}
	return s, nil
}

// Kind says which run the suite is, for captions.
func (s *Suite) Kind() string {
	switch {
	case s.Plan.Smoke:
		return "smoke run (one repeat, small sizes)"
	case s.Done < s.Total:
		return fmt.Sprintf("full run, incomplete (%d of %d measurements)", s.Done, s.Total)
	}
	return fmt.Sprintf("full run (%d repeats)", s.Plan.Repeats)
}

// Select returns the units whose labels have every key=value of want,
// sorted by key.
func (s *Suite) Select(want map[string]string) []*Unit {
	var out []*Unit
	for _, u := range s.Units {
		ok := true
		for k, v := range want {
			if u.Labels[k] != v {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, u)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Median returns the median over u's repeats of f, which may decline a
// repeat (false): the number of repeats it took is n.
func (u *Unit) Median(f func(m map[string]float64) (float64, bool)) (v float64, n int) {
	var xs []float64
	for _, m := range u.Repeats {
		if x, ok := f(m); ok {
			xs = append(xs, x)
		}
	}
	return median(xs), len(xs)
}

// Metric returns a function reading one metric, for Median.
func Metric(name string) func(map[string]float64) (float64, bool) {
	return func(m map[string]float64) (float64, bool) { v, ok := m[name]; return v, ok }
}

// Ratio returns a function reading num/den of one repeat.
func Ratio(num, den string) func(map[string]float64) (float64, bool) {
	return func(m map[string]float64) (float64, bool) {
		a, ok1 := m[num]
		b, ok2 := m[den]
		return a / b, ok1 && ok2 && b != 0
	}
}

// PairMedian returns the median over the repeats that a and b share of
// f(a's metrics, b's metrics): a ratio between two units of the same
// repeat, so both were measured in the same run and close in time.
func PairMedian(a, b *Unit, f func(ma, mb map[string]float64) (float64, bool)) (float64, int) {
	var xs []float64
	for r, ma := range a.Repeats {
		if mb, ok := b.Repeats[r]; ok {
			if x, ok := f(ma, mb); ok {
				xs = append(xs, x)
			}
		}
	}
	return median(xs), len(xs)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// MachineRefs returns the machines of u's repeats as "M1" or "M1,M2",
// numbered within the suite's prefix (the peers' machines are P1.., the
// simulator's S1..).
func (s *Suite) MachineRefs(u *Unit, prefix string) string {
	seen := map[int]bool{}
	for _, sess := range u.Sessions {
		seen[sess] = true
	}
	var ids []int
	for sess := range seen {
		ids = append(ids, sess)
	}
	slices.Sort(ids)
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprintf("%s%d", prefix, id+1)
	}
	return strings.Join(parts, ",")
}

// MachineLines describes the suite's machines, one line each.
func (s *Suite) MachineLines(prefix string) []string {
	var out []string
	for i, m := range s.Machines {
		line := fmt.Sprintf("**%s%d**: %d cores, %s, %s, %s; started %s with a 1-minute load average of %s", prefix, i+1, m.Cores, m.CPU, m.OS, m.GoVersion, m.Start, m.LoadAvg)
		if m.Redis != "" {
			line += "; " + m.Redis
		}
		if m.Python != "" {
			line += "; " + m.Python
		}
		out = append(out, line)
	}
	return out
}
