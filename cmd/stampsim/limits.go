package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stampsim/stampsim/budget"
	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/world"
)

// limitFlags are what `run` lets a run cost (package budget), and
// --dry-run.
type limitFlags struct {
	requests, events float64
	nodes            int
	duration         time.Duration
	memory           memoryFlag
	dryRun           bool
}

// The flags that set each of budget.Limits, for its messages.
var limitFlagNames = map[string]string{
	"Requests": "--max-requests", "Events": "--max-events", "Nodes": "--max-nodes",
	"Duration": "--max-duration", "Memory": "--max-memory",
}

// addLimitFlags adds the limit flags and --dry-run to cmd.
func addLimitFlags(cmd *cobra.Command, l *limitFlags) {
	fl := cmd.Flags()
	fl.Float64Var(&l.requests, "max-requests", budget.DefaultRequests, "refuse a scenario that makes more requests than this per topology (0: no limit)")
	fl.Float64Var(&l.events, "max-events", budget.DefaultEvents, "refuse a scenario whose run of a topology may take more simulator events than this (0: no limit)")
	fl.IntVar(&l.nodes, "max-nodes", budget.DefaultNodes, "refuse a fleet of more nodes than this (0: no limit)")
	fl.DurationVar(&l.duration, "max-duration", budget.DefaultDuration, "refuse a scenario that simulates more time than this (0: no limit)")
	l.memory = memoryFlag{text: "auto"}
	fl.Var(&l.memory, "max-memory", "refuse a scenario whose run may hold more memory than this, and stop a run that does: a size (8GB, 512MiB), auto (90% of the memory available when the run starts) or none")
	fl.BoolVar(&l.dryRun, "dry-run", false, "print what each topology's run would cost and check it against the limits, but run nothing")
}

// limits returns the limits the flags set.
func (l *limitFlags) limits() (budget.Limits, error) {
	switch {
	case !(l.requests >= 0):
		return budget.Limits{}, usagef("--max-requests %v: want a number of requests, 0 for no limit", l.requests)
	case !(l.events >= 0):
		return budget.Limits{}, usagef("--max-events %v: want a number of events, 0 for no limit", l.events)
	case l.nodes < 0:
		return budget.Limits{}, usagef("--max-nodes %d: want a number of nodes, 0 for no limit", l.nodes)
	case l.duration < 0:
		return budget.Limits{}, usagef("--max-duration %v: want a duration, 0 for no limit", l.duration)
	}
	lim := budget.Limits{Requests: l.requests, Events: l.events, Nodes: l.nodes, Duration: l.duration}
	switch l.memory.text {
	case "auto":
		d := budget.DefaultLimits()
		lim.Memory, lim.MemoryFrom = d.Memory, d.MemoryFrom
	case "none":
	default:
		lim.Memory, lim.MemoryFrom = l.memory.bytes, "--max-memory"
	}
	return lim, nil
}

// checkCost estimates what running topos of sc costs and refuses, as bad
// input naming the scenario's fields, what exceeds the limits. With
// --dry-run it prints the estimate first. It returns the limits, for
// guardMemory.
func (a *app) checkCost(sc *scenarios.Scenario, pos *scenarios.Positions, topos []locks.Topology, f runFlags) (budget.Limits, error) {
	lim, err := f.limits.limits()
	if err != nil {
		return lim, err
	}
	cost := budget.Estimate(sc, topos, budget.Options{Series: f.out != ""})
	if f.limits.dryRun {
		if err := writeCost(a, cost, lim, f.output); err != nil {
			return lim, err
		}
	}
	var errs []*scenarios.Error
	for _, v := range cost.Check(lim, limitFlagNames) {
		errs = append(errs, pos.Errorf(v.Field, "%s", v.Msg))
	}
	return lim, scenarios.JoinErrors(errs)
}

// writeCost prints the estimate: a table, or with -o json a document.
func writeCost(a *app, c budget.Cost, lim budget.Limits, output string) error {
	if output == "json" {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Cost   budget.Cost `json:"estimate"`
			Limits any         `json:"limits"`
		}{c, map[string]any{
			"requests": lim.Requests, "events": lim.Events, "nodes": lim.Nodes,
			"duration": budget.Duration(lim.Duration), "memory_bytes": lim.Memory, "memory_from": lim.MemoryFrom,
		}})
	}
	fmt.Fprintf(a.stdout, "%s: %s simulated, %s, %s, %s requests per topology\n",
		c.Scenario, c.Duration, plural(c.Nodes, "node"), plural(c.Keys, "key"), budget.Number(c.Requests))
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TOPOLOGY\tIN FLIGHT\tEVENTS\tMEMORY")
	for _, r := range c.Runs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Topology, budget.Number(r.InFlight), budget.Number(r.Events), budget.Bytes(r.MemoryBytes))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	mem := "none"
	if lim.Memory > 0 {
		mem = budget.Bytes(lim.Memory) + " (" + lim.MemoryFrom + ")"
	}
	_, err := fmt.Fprintf(a.stdout, "Upper bounds: requests in flight at once, events and memory at the peak.\n"+
		"Limits: --max-requests %s, --max-events %s, --max-nodes %d, --max-duration %s, --max-memory %s.\n",
		budget.Number(lim.Requests), budget.Number(lim.Events), lim.Nodes, budget.Duration(lim.Duration), mem)
	return err
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// guardMemory makes the runs that follow hold at most the memory limit:
// the garbage collector works to stay under it (debug.SetMemoryLimit),
// and a run that holds more all the same is stopped with a
// *budget.MemoryError instead of being killed by the kernel or dying in
// the runtime. The function it returns undoes both.
func (a *app) guardMemory(lim budget.Limits) (undo func()) {
	if lim.Memory <= 0 {
		return func() {}
	}
	prev := debug.SetMemoryLimit(int64(min(lim.Memory, math.MaxInt64)))
	simulate := a.simulate
	a.simulate = func(ctx context.Context, rs *scenarios.Resolved, topo locks.Topology, opt world.Options) (reports.Run, error) {
		watched, stop := budget.Watch(ctx, lim.Memory, lim.MemoryFrom)
		defer stop()
		run, err := simulate(watched, rs, topo, opt)
		var me *budget.MemoryError
		if err != nil && ctx.Err() == nil && errors.As(context.Cause(watched), &me) {
			return run, fmt.Errorf("%w; estimate what it needs with --dry-run, and see --max-memory", me)
		}
		return run, err
	}
	return func() {
		debug.SetMemoryLimit(prev)
		a.simulate = simulate
	}
}

// memoryFlag is --max-memory: "auto", "none", or a size.
type memoryFlag struct {
	text  string
	bytes float64
}

func (m *memoryFlag) String() string { return m.text }
func (m *memoryFlag) Type() string   { return "size" }

// Set accepts auto, none, or a number of bytes with a unit: B, kB, MB, GB,
// TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024); a unit is
// required, as in scenario durations, so that 8 cannot mean 8 bytes by
// mistake.
func (m *memoryFlag) Set(s string) error {
	if s == "auto" || s == "none" {
		*m = memoryFlag{text: s}
		return nil
	}
	units := []struct {
		suffix string
		size   float64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
	}
	for _, u := range units {
		num, ok := strings.CutSuffix(s, u.suffix)
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("want a positive size such as 8GB or 512MiB, auto or none")
		}
		*m = memoryFlag{text: s, bytes: v * u.size}
		return nil
	}
	return fmt.Errorf("want a size with a unit (8GB, 512MiB), auto or none")
}
