package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/sweeps"
	"github.com/stampsim/stampsim/sweeps/runner"
)

type sweepFlags struct {
	out        string
	jobs       int
	size       string
	resume     bool
	shard      string
	shards     int
	topologies []string
	seed       uint64
	quiet      bool
	noPlots    bool
	limits     limitFlags
}

func (a *app) sweepCommand() *cobra.Command {
	var f sweepFlags
	cmd := &cobra.Command{
		Use:   "sweep SWEEP --out DIR",
		Short: "Run a sweep: a scenario over a grid of values, with power laws fitted to each cost",
		Long: `Run a sweep (a YAML file, or the name of a built-in sweep: see 'stampsim
sweeps'): every repeat of every point of its grid on each of its topologies,
up to -j at once, and write into DIR

  rows.csv    a row per run: the point's values, the repeat, its seed, the
              topology and every headline count of the results
  fits.csv    a power law fitted to each count against each log axis, per
              topology: the exponent, the coefficient and r2
  sweep.json  the sweep as it ran, the rows and the fits (schema
              stampsim/sweep/v1)
  index.html  the sweep's page: what ran, the fits of the metrics drawn
              and each scaling figure (scaling-METRIC.png and .svg: the
              metric against the swept axis on log-log axes, a line per
              topology, the fitted exponent in the legend) with a caption
              computed from the numbers; --no-plots draws no figures, and
              'stampsim report DIR' draws them again

The files are the same bytes whatever -j: rows are sorted, and nothing in
them depends on the wall clock. Every point must pass the scenario checks
and the cost limits (see 'stampsim run --help') before anything runs; a
run's estimated memory counts against --max-memory while it runs, so that
runs that do not fit together wait.

Each row is kept in DIR/rows.jsonl as it finishes. SIGINT or SIGTERM stops
the runs in progress and writes sweep.json and rows.csv of the finished
rows with "complete": false (exit status 130 or 143); --resume runs only the
missing rows and ends with the same bytes as an uninterrupted sweep.

Beyond one machine: --shard i/n runs the points whose hash falls in shard i
of n (from 0); with --shards n the index comes from JOB_COMPLETION_INDEX
(Kubernetes Indexed Jobs) or SLURM_ARRAY_TASK_ID (Slurm job arrays, less
SLURM_ARRAY_TASK_MIN). 'stampsim sweep merge DIR... --out DIR' then writes
what the whole sweep would have, byte for byte.`,
		Args:              exactArgs(1, "a sweep file or built-in sweep name"),
		ValidArgsFunction: completeSweep,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runSweep(cmd.Context(), args[0], f, cmd.Flags().Changed("seed"))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.out, "out", "", "the directory to write rows.csv, fits.csv and sweep.json into (required)")
	fl.IntVarP(&f.jobs, "jobs", "j", runtime.GOMAXPROCS(0), "runs at once, at most")
	fl.StringVar(&f.size, "size", sweeps.SizeDefault, "the sweep's size: default, or small (its small block: a quick look, or a test)")
	fl.BoolVar(&f.resume, "resume", false, "take the rows DIR holds from an earlier run of this sweep, and run only the missing ones")
	fl.StringVar(&f.shard, "shard", "", "run only shard i of n (i/n, from 0): the points whose hash falls in it")
	fl.IntVar(&f.shards, "shards", 0, "run one shard of n, its index from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID")
	fl.StringSliceVarP(&f.topologies, "topology", "t", nil, "run only this topology (repeatable, or comma-separated)")
	fl.Uint64Var(&f.seed, "seed", 0, "override the sweep's seed")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress bar")
	fl.BoolVar(&f.noPlots, "no-plots", false, "draw no figures (index.html says they were skipped; 'stampsim report DIR' draws them)")
	addLimitFlags(cmd, &f.limits)
	_ = cmd.RegisterFlagCompletionFunc("size", cobra.FixedCompletions([]string{sweeps.SizeDefault, sweeps.SizeSmall}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.MarkFlagDirname("out")
	cmd.AddCommand(a.mergeCommand(), a.sweepReportCommand())
	return cmd
}

// exactArgs is cobra.ExactArgs with a message that says what the argument
// is.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("want %d argument (%s), got %d", n, what, len(args))
		}
		return nil
	}
}

// completeSweep offers the built-in sweeps; the shell adds file names.
func completeSweep(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return sweeps.BuiltinNames(), cobra.ShellCompDirectiveDefault
}

func (a *app) runSweep(ctx context.Context, arg string, f sweepFlags, seedSet bool) error {
	if f.out == "" && !f.limits.dryRun {
		return usagef("--out DIR is required: the sweep writes rows.csv, fits.csv and sweep.json there")
	}
	if f.jobs < 1 {
		return usagef("-j %d: want at least 1 run at once", f.jobs)
	}
	shard, err := shardFlags(f.shard, f.shards, os.Getenv)
	if err != nil {
		return err
	}
	sw, err := loadSweep(arg, f.size)
	if err != nil {
		return err
	}
	if seedSet {
		sw.Seed = f.seed
	}
	if len(f.topologies) > 0 {
		if sw, err = sw.WithTopologies(topologyNames(f.topologies, nil)); err != nil {
			return usagef("--topology: %v", err)
		}
	}
	plan, err := runner.NewPlan(sw, shard)
	if err != nil {
		return err
	}
	lim, err := f.limits.limits()
	if err != nil {
		return err
	}
	if f.limits.dryRun {
		if err := writeSweepEstimate(a.stdout, plan, lim, f.jobs); err != nil {
			return err
		}
	}
	if err := plan.Check(lim, limitFlagNames); err != nil || f.limits.dryRun {
		return err
	}
	out, err := runner.Open(f.out, plan, a.build(), f.resume)
	if err != nil {
		return err
	}
	defer out.Close()
	defer a.guardMemory(lim)()

	bar := newProgress(a.stderr, a.terminal(a.stderr) && !f.quiet, sweepProgress(sw.Name, out.Len(), len(plan.Tasks)))
	runErr := plan.Execute(ctx, runner.Options{Simulate: a.simulate, Jobs: f.jobs, Memory: lim.Memory, Progress: bar.set},
		out.Done, func(r reports.Row) error {
			err := out.Add(r)
			bar.describe(sweepProgress(sw.Name, out.Len(), len(plan.Tasks)))
			return err
		})
	bar.finish()
	doc, err := out.Write()
	report := ""
	if err == nil {
		figs := whichSweepFigures(f.noPlots)
		if runErr != nil {
			figs = interruptedSweep
		}
		report, err = a.writeSweepReport(f.out, doc, figs, resumeCommand(arg, f, seedSet))
	}
	switch {
	case runErr != nil && ctx.Err() != nil:
		return a.sweepInterrupted(ctx, f.out, out.Len(), len(plan.Tasks), err)
	case runErr != nil:
		return fmt.Errorf("sweep %s: %w (the %d rows that finished are kept in %s: --resume runs the rest)", sw.Name, runErr, out.Len(), f.out)
	case err != nil:
		return err
	}
	return writeSweepSummary(a.stdout, doc, f.out, report)
}

// resumeCommand is the command line that finishes the sweep that arg and
// f describe, for the page of an interrupted one: the flags that decide
// which rows it makes, and --resume.
func resumeCommand(arg string, f sweepFlags, seedSet bool) string {
	cmd := "stampsim sweep " + arg
	if f.size != sweeps.SizeDefault {
		cmd += " --size " + f.size
	}
	if len(f.topologies) > 0 {
		cmd += " -t " + strings.Join(f.topologies, ",")
	}
	if seedSet {
		cmd += fmt.Sprintf(" --seed %d", f.seed)
	}
	if f.shard != "" {
		cmd += " --shard " + f.shard
	}
	return cmd + " --out " + f.out + " --resume"
}

// sweepProgress describes the sweep's progress bar.
func sweepProgress(name string, done, total int) string {
	return fmt.Sprintf("sweep %s [%d/%d runs]", name, done, total)
}

// sweepInterrupted is the error of a sweep a signal cut short: its
// finished rows are in dir.
func (a *app) sweepInterrupted(ctx context.Context, dir string, done, total int, writeErr error) error {
	where := fmt.Sprintf("in a sweep: the rows are incomplete: %d of %d runs finished", done, total)
	if writeErr != nil {
		where += fmt.Sprintf("; they are in %s, but writing sweep.json failed: %v", filepath.Join(dir, runner.JournalFile), writeErr)
	} else {
		where += fmt.Sprintf(", kept in %s with \"complete\": false; --resume runs the rest", dir)
	}
	return &interruptedError{cause: context.Cause(ctx), where: where}
}

// build is what the sweep document records of this binary.
func (a *app) build() runner.Build {
	return runner.Build{Version: moduleVersion(), Commit: commit(), GoVersion: runtime.Version()}
}

// loadSweep reads arg as a sweep file if it names one (or looks like a
// path), otherwise as a built-in sweep's name. Whatever makes it unusable
// is bad input.
func loadSweep(arg, size string) (*sweeps.Sweep, error) {
	if size != sweeps.SizeDefault && size != sweeps.SizeSmall {
		return nil, usagef("--size %s: want %s or %s", size, sweeps.SizeDefault, sweeps.SizeSmall)
	}
	looksLikePath := strings.ContainsAny(arg, `/\`) || strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml")
	st, err := os.Stat(arg)
	if err == nil && st.IsDir() {
		return nil, usagef("%s is a directory, not a sweep file", arg)
	}
	if err == nil || looksLikePath {
		sw, err := sweeps.Load(arg, size)
		var pe *fs.PathError
		switch {
		case errors.Is(err, fs.ErrNotExist) && !isScenarioError(err):
			return nil, usagef("no sweep file %s", arg)
		case errors.As(err, &pe) && !isScenarioError(err):
			return nil, usagef("cannot read sweep file %s: %v", arg, pe.Err)
		}
		return sw, err
	}
	sw, err := sweeps.Builtin(arg, size)
	var nf *scenarios.NotFoundError
	if errors.As(err, &nf) && nf.Name == arg {
		return nil, usagef("%q is neither a sweep file nor a built-in sweep (%s)", arg, strings.Join(sweeps.BuiltinNames(), ", "))
	}
	return sw, err
}

func isScenarioError(err error) bool {
	var se *scenarios.Error
	return errors.As(err, &se)
}

// shardFlags returns the shard --shard or --shards asks for (nil for the
// whole sweep); getenv reads the job arrays' index variables.
func shardFlags(shard string, shards int, getenv func(string) string) (*reports.Shard, error) {
	switch {
	case shard != "" && shards != 0:
		return nil, usagef("--shard and --shards: give one; --shards takes the index from the environment")
	case shard != "":
		var s reports.Shard
		if n, err := fmt.Sscanf(shard, "%d/%d", &s.Index, &s.Count); n != 2 || err != nil || fmt.Sprintf("%d/%d", s.Index, s.Count) != shard {
			return nil, usagef("--shard %s: want i/n, shard i of n counted from 0, such as 0/3", shard)
		}
		if s.Count < 1 || s.Index < 0 || s.Index >= s.Count {
			return nil, usagef("--shard %s: want 0 <= i < n", shard)
		}
		return &s, nil
	case shards < 0:
		return nil, usagef("--shards %d: want a number of shards", shards)
	case shards == 0:
		return nil, nil
	}
	for _, v := range []struct{ name, min string }{{"JOB_COMPLETION_INDEX", ""}, {"SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN"}} {
		text := getenv(v.name)
		if text == "" {
			continue
		}
		var i, lo int
		if _, err := fmt.Sscan(text, &i); err != nil {
			return nil, usagef("--shards %d: %s=%q is not a number", shards, v.name, text)
		}
		if m := getenv(v.min); v.min != "" && m != "" {
			if _, err := fmt.Sscan(m, &lo); err != nil {
				return nil, usagef("--shards %d: %s=%q is not a number", shards, v.min, m)
			}
		}
		if i-lo < 0 || i-lo >= shards {
			return nil, usagef("--shards %d: %s=%s gives shard %d, want 0 to %d (a job array of indices %d to %d)", shards, v.name, text, i-lo, shards-1, lo, lo+shards-1)
		}
		return &reports.Shard{Index: i - lo, Count: shards}, nil
	}
	return nil, usagef("--shards %d: the shard's index comes from JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs) or SLURM_ARRAY_TASK_ID (Slurm job arrays), and neither is set; or give --shard i/n", shards)
}

func (a *app) mergeCommand() *cobra.Command {
	var out string
	var noPlots bool
	cmd := &cobra.Command{
		Use:   "merge DIR... --out DIR",
		Short: "Merge the directories of a sweep's shards into what the whole sweep writes",
		Long: `Merge the output directories of the shards of one sweep (each the --out of
'stampsim sweep --shard i/n' or --shards n): check that they are of the same
sweep and the same build of stampsim and hold every row exactly once, and
write into --out the rows.csv, fits.csv, sweep.json, index.html and figures
that the whole sweep run on one machine writes, byte for byte.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("want the directories of the shards to merge")
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error {
			if out == "" {
				return usagef("--out DIR is required: the merged sweep is written there")
			}
			doc, err := runner.Merge(args, out)
			if err != nil {
				return err
			}
			report, err := a.writeSweepReport(out, doc, whichSweepFigures(noPlots), "")
			if err != nil {
				return err
			}
			return writeSweepSummary(a.stdout, doc, out, report)
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "the directory to write the merged rows.csv, fits.csv, sweep.json, index.html and figures into (required)")
	cmd.Flags().BoolVar(&noPlots, "no-plots", false, "draw no figures (index.html says they were skipped)")
	_ = cmd.MarkFlagDirname("out")
	return cmd
}
