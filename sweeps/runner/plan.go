// Package runner runs a sweep: every run of every point, on as many cores
// as it is given and within a memory budget, into an output directory
// that keeps every finished row through an interruption, so that a sweep
// can be resumed, and sharded across machines and merged back into what
// one machine would have written, byte for byte.
//
// It must not decide what a sweep is (package sweeps), how a run is
// simulated (it calls the function it is given, world.Run in the CLI) or
// how the results are written (package reports).
package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"

	"github.com/stampsim/stampsim/budget"
	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/sweeps"
	"github.com/stampsim/stampsim/world"
)

// Simulate runs one topology of a resolved scenario: world.Run, or a
// stand-in in tests, or world.Run watched for memory (the CLI's).
type Simulate func(ctx context.Context, rs *scenarios.Resolved, topo locks.Topology, opt world.Options) (reports.Run, error)

// Plan is what a sweep, or one shard of it, runs: a task for each repeat
// of each point on each of its topologies, in canonical order (by point,
// repeat, then topology as the sweep lists them).
type Plan struct {
	Sweep *sweeps.Sweep
	// Shard is the shard the plan runs, or nil for the whole sweep.
	Shard  *reports.Shard
	Points []sweeps.Point
	// Costs holds each point's estimate, per topology of the point, as
	// package budget makes it (the same for every repeat).
	Costs []budget.Cost
	Tasks []Task
}

// Task is one run: a repeat of a point on one topology.
type Task struct {
	Point    *sweeps.Point
	Repeat   int
	Topology locks.Topology
	// Scenario is the point's, with the repeat's seed, and Resolved the
	// same resolved, as the simulator takes it.
	Scenario *scenarios.Scenario
	Resolved *scenarios.Resolved
	// Cost is the run's estimate.
	Cost budget.RunCost
}

// Key is the task's row's key.
func (t Task) Key() reports.Key {
	return reports.Key{Point: t.Point.Index, Repeat: t.Repeat, Topology: t.Topology.Name}
}

// NewPlan expands the sweep into its tasks, those of shard only when it is
// not nil (the points whose sweeps.Shard is shard.Index of shard.Count),
// and estimates what each costs.
func NewPlan(sw *sweeps.Sweep, shard *reports.Shard) (*Plan, error) {
	points, err := sw.Points()
	if err != nil {
		return nil, err
	}
	if err := reports.CheckFigures(sw); err != nil {
		return nil, err
	}
	p := &Plan{Sweep: sw, Shard: shard, Points: points, Costs: make([]budget.Cost, len(points))}
	for i := range points {
		pt := &points[i]
		names := sw.TopologiesOf(*pt)
		topos := make([]locks.Topology, len(names))
		for j, n := range names {
			if topos[j], err = pt.Scenario.Resolve(n); err != nil {
				return nil, sw.PointError(*pt, "topologies", "%v", err) // Points has resolved them all
			}
		}
		p.Costs[i] = budget.Estimate(pt.Scenario, topos, budget.Options{})
		if shard != nil && sweeps.Shard(*pt, shard.Count) != shard.Index {
			continue
		}
		for r := range sw.Repeats {
			sc := sw.Run(*pt, r)
			rs, err := sc.Resolved()
			if err != nil {
				// A checked scenario always resolves: a bug, not the file's.
				return nil, fmt.Errorf("resolving point %d (%s): %w", pt.Index+1, pt.Label(), err)
			}
			for j, t := range topos {
				p.Tasks = append(p.Tasks, Task{Point: pt, Repeat: r, Topology: t, Scenario: sc, Resolved: rs, Cost: p.Costs[i].Runs[j]})
			}
		}
	}
	return p, nil
}

// Check returns, as mistakes of the sweep file naming each point, every
// limit that a point's runs exceed: nothing runs unless every point can.
// flags names the command-line flags of the limits, for the messages (see
// budget.Cost.Check).
func (p *Plan) Check(lim budget.Limits, flags map[string]string) error {
	var errs []*scenarios.Error
	for i, c := range p.Costs {
		for _, v := range c.Check(lim, flags) {
			errs = append(errs, p.Sweep.PointError(p.Points[i], v.Field, "%s", v.Msg))
		}
	}
	return scenarios.JoinErrors(errs)
}

// weight is a task's share of the work, for the progress of the whole
// sweep: its estimated events, which follow its cost better than its
// requests do (a request waiting on a lock polls).
func (t Task) weight() float64 { return math.Max(t.Cost.Events, 1) }

// Row returns the sweep's row for task t's run.
func (t Task) Row(sw *sweeps.Sweep, run reports.Run) reports.Row {
	params := make([]reports.Param, len(t.Point.Params))
	for i, pr := range t.Point.Params {
		params[i] = reports.Param{Path: pr.Path, Value: pr.Value}
		if x, ok := sweeps.Number(sw.Axes[i].Kind, pr.Value); ok {
			params[i].Number, params[i].Unit = &x, sweeps.Unit(sw.Axes[i].Kind)
		}
	}
	return reports.Row{Point: t.Point.Index, Params: params, Repeat: t.Repeat, Seed: t.Scenario.Seed,
		Topology: t.Topology.Name, Metrics: reports.RowMetrics(run)}
}

// Build says what made the rows: the stampsim version and commit, and the
// Go version, which the document records; rows from another build are
// not mixed with them.
type Build struct {
	Version, Commit, GoVersion string
}

// Document returns the sweep document of the rows, which must be rows of
// the plan's tasks: sorted canonically, complete when every task has its
// row, and then, for the whole sweep (not a shard), with the fitted power
// laws.
func (p *Plan) Document(rows []reports.Row, b Build) *reports.SweepResults {
	rows = append([]reports.Row(nil), rows...)
	reports.SortRows(rows, p.Sweep.Topologies)
	doc := &reports.SweepResults{
		Schema: reports.SweepSchema, Sweep: p.Sweep.Name, Size: p.Sweep.Size, Seed: p.Sweep.Seed,
		Complete: len(rows) == len(p.Tasks), Shard: p.Shard, Spec: p.Sweep,
		Version: b.Version, Commit: b.Commit, GoVersion: b.GoVersion,
		Metrics: reports.SweepMetrics, Rows: rows,
	}
	if doc.Complete && p.Shard == nil {
		doc.Fits = reports.FitPowerLaws(p.Sweep, rows)
	}
	return doc
}

// specDigest is a digest of the sweep as it runs, to tell whether rows
// written earlier are of the same sweep.
func specDigest(sw *sweeps.Sweep) (string, error) {
	data, err := json.Marshal(sw)
	if err != nil {
		return "", fmt.Errorf("sweep %s as JSON: %w", sw.Name, err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}
