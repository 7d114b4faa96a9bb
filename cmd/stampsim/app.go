package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/sweeps/runner"
	"github.com/stampsim/stampsim/world"
)

// version is stampsim's version; release builds set it with
// -ldflags "-X main.version=v1.2.3".
var version = "dev"

// simulateFunc runs one topology of a resolved scenario: world.Run, or a
// stand-in in tests; run and sweep call it alike.
type simulateFunc = runner.Simulate

// app is one execution of the command line.
type app struct {
	stdout, stderr io.Writer
	simulate       simulateFunc
	// draw draws a results document's figures for the report page
	// (plotFigures; nil in tests that want none).
	draw drawFunc
	// started is set once a command's own code runs: errors before that
	// are cobra's (unknown commands and flags, bad argument counts).
	started bool
	// afterRun, if set, is called after each topology's run has been
	// recorded (tests use it to interrupt a run part way).
	afterRun func(done int)
	// terminal reports whether stderr is a terminal (for the progress bar).
	terminal func(w io.Writer) bool
	// drawSweep draws a sweep's scaling figures (plotSweep; nil draws
	// none).
	drawSweep sweepDrawFunc
}

func newApp(stdout, stderr io.Writer) *app {
	return &app{stdout: stdout, stderr: stderr, simulate: world.Run, draw: plotFigures, drawSweep: plotSweep, terminal: isTerminal}
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "stampsim",
		Short: "Simulate cache stampedes and compare the lock topologies that prevent them",
		Long: `stampsim simulates a fleet of cache nodes, shared stores and an expensive
upstream in virtual time, puts a scenario's traffic and faults through it, and
reports what each lock topology (none, node-only, one-level, two-level, global,
fanout-tree, or your own) did: upstream calls, duplicates, store load,
contention per level, latency.

  stampsim run                      the default scenario (flash-crowd)
  stampsim scenarios                the built-in scenarios
  stampsim scenarios show NAME      one of them as YAML, to copy and edit
  stampsim run my.yaml --out out/   your own, with a report page (out/index.html),
                                    figures, results.json and CSV files
  stampsim report out/              the page and figures again, from out/results.json
  stampsim sweeps                   the built-in sweeps
  stampsim sweep requests --out s/  one of them: each cost against the burst's
                                    size, with the power laws fitted`,
		SilenceErrors:     true,
		SilenceUsage:      true,
		Version:           versionLine(),
		PersistentPreRunE: func(*cobra.Command, []string) error { a.started = true; return nil },
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.SetVersionTemplate("{{.Version}}\n")
	root.AddCommand(a.runCommand(), a.reportCommand(), a.scenariosCommand(), a.sweepCommand(), a.sweepsCommand(), a.validateCommand(), a.versionCommand())
	return root
}

// completeScenario offers the built-in names; the shell adds file names.
func completeScenario(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return scenarios.BuiltinNames(), cobra.ShellCompDirectiveDefault
}

// maxArgs is cobra.MaximumNArgs with a message that says what the argument is.
func maxArgs(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) > n {
			return usagef("want at most %d argument (%s), got %d: %s", n, what, len(args), strings.Join(args, " "))
		}
		return nil
	}
}

type runFlags struct {
	topologies []string
	output     string
	seed       uint64
	out        string
	noPlots    bool
	seriesStep string
	quiet      bool
	cpuprofile string
	limits     limitFlags
}

func (a *app) runCommand() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [SCENARIO]",
		Short: "Run a scenario for each of its topologies and print what happened",
		Long: `Run a scenario (a YAML file, or the name of a built-in scenario; default
flash-crowd) once for each lock topology it lists, or for those given with
--topology, and print a table with one row per topology: above it the
scenario, seed, duration and fleet, under it what the subtle columns mean
and notes on what the numbers leave out. With -o csv the same table is
printed as CSV (units in the header), with -o json the results document
(schema ` + reports.Schema + `), which names the seed and holds the whole
scenario as it ran. Given a results document (a .json file), run replays the
scenario it holds and gives the same numbers again.

With --out DIR, run also writes into DIR:

  index.html    the report page: the scenario, the table with a legend of
                every column, and every figure with its caption; it works
                offline, and the directory can be moved
  *.png, *.svg  the figures (--no-plots skips them, for a faster run)
  results.json  the results document
  series.csv    the time series (columns topology,time_ms,metric,value),
                one sample per step: --series-step, else the scenario's
                series_step, else a 1-2-5 step that gives about 1,000
                samples
  summary.csv   the table, one row per topology

results.json, series.csv and summary.csv are rewritten after each topology,
so that an interrupted run keeps the topologies it finished; the figures
and the page are drawn once the run ends. An interrupted run writes the
page without figures (it says the results are incomplete), so as to stop
at once; stampsim report DIR draws them, and draws them again any time.

SIGINT (Ctrl-C) or SIGTERM stops the topology in progress within a second;
the results document then says "complete": false, holds the topologies
that finished and the one interrupted, marked "interrupted": true, and is
written to --out and printed as usual. The exit status is 130
(SIGINT) or 143 (SIGTERM). A second signal exits at once.`,
		Args:              maxArgs(1, "a scenario file or built-in name"),
		ValidArgsFunction: completeScenario,
		RunE: func(cmd *cobra.Command, args []string) error {
			arg := ""
			if len(args) == 1 {
				arg = args[0]
			}
			return a.runScenario(cmd.Context(), arg, f, cmd.Flags().Changed("seed"))
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVarP(&f.topologies, "topology", "t", nil, "run only this topology (repeatable, or comma-separated)")
	fl.StringVarP(&f.output, "output", "o", "table", "what to print: table, csv (the table as CSV) or json (the results document)")
	fl.Uint64Var(&f.seed, "seed", 0, "override the scenario's seed")
	fl.StringVar(&f.out, "out", "", "also write the report page, figures, results.json, series.csv and summary.csv into this directory")
	fl.BoolVar(&f.noPlots, "no-plots", false, "with --out, draw no figures (the page says they were skipped)")
	fl.StringVar(&f.seriesStep, "series-step", "", "with --out, the width of a series sample, at least 1ms (default: the scenario's series_step, else about 1,000 samples)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress bar")
	fl.StringVar(&f.cpuprofile, "cpuprofile", "", "write a CPU profile of the simulation to this file (for go tool pprof)")
	addLimitFlags(cmd, &f.limits)
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(outputFormats, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("topology", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return scenarios.BuiltinTopologies(), cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.MarkFlagDirname("out")
	return cmd
}

func (a *app) runScenario(ctx context.Context, arg string, f runFlags, seedSet bool) error {
	if !slices.Contains(outputFormats, f.output) {
		return usagef("-o %s: want %s", f.output, strings.Join(outputFormats, ", "))
	}
	sc, pos, err := loadScenarioPositions(arg)
	if err != nil {
		return err
	}
	if seedSet {
		sc.Seed = f.seed
	}
	if err := applySeriesStep(sc, f.seriesStep, f.out); err != nil {
		return err
	}
	names := topologyNames(f.topologies, sc.Topologies)
	topos := make([]locks.Topology, len(names))
	for i, n := range names {
		if topos[i], err = sc.Resolve(n); err != nil {
			return usagef("--topology %s: %v", n, err)
		}
	}
	lim, err := a.checkCost(sc, pos, topos, f)
	if err != nil || f.limits.dryRun {
		return err
	}
	rs, err := sc.Resolved()
	if err != nil {
		// A loaded scenario always resolves: this is a bug, not the file's
		// mistake.
		return fmt.Errorf("resolving %s: %w", sc.Name, err)
	}
	defer a.guardMemory(lim)()
	// The document records the scenario as it runs: seed and topologies
	// included, so that its spec replays this run.
	sc.Topologies = names
	res := &reports.Results{
		Schema: reports.Schema, Scenario: sc.Name, Seed: sc.Seed, Spec: sc,
		Version: version, Commit: commit(), GoVersion: runtime.Version(),
		Runs: []reports.Run{},
	}
	if f.out != "" {
		if err := makeOutDir(f.out); err != nil {
			return err
		}
	}
	if f.cpuprofile != "" {
		pf, err := os.Create(f.cpuprofile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	progress := a.terminal(a.stderr) && !f.quiet
	for i, topo := range topos {
		bar := newProgress(a.stderr, progress, fmt.Sprintf("%s [%d/%d]", topo.Name, i+1, len(topos)))
		run, err := a.simulate(ctx, rs, topo, world.Options{Progress: bar.update, Series: f.out != ""})
		bar.finish()
		if err != nil {
			if ctx.Err() != nil {
				return a.interrupted(ctx, topos, i, res, run, f)
			}
			return fmt.Errorf("running %s on topology %s: %w", sc.Name, topo.Name, err)
		}
		res.Runs = append(res.Runs, run)
		res.Complete = len(res.Runs) == len(topos)
		if f.out != "" {
			if err := writeOut(f.out, res); err != nil {
				return err
			}
		}
		if a.afterRun != nil {
			a.afterRun(i + 1)
		}
	}
	if f.out != "" {
		if err := a.writeReport(f.out, "results.json", res, whichFigures(f.noPlots)); err != nil {
			return err
		}
	}
	return a.print(res, f.output)
}

func (a *app) scenariosCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scenarios",
		Short: "List the built-in scenarios",
		Args:  maxArgs(0, "none; did you mean 'scenarios show NAME'?"),
		RunE: func(*cobra.Command, []string) error {
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			for _, name := range scenarios.BuiltinNames() {
				sc, err := scenarios.Builtin(name)
				if err != nil {
					return err
				}
				mark := ""
				if name == scenarios.DefaultBuiltin {
					mark = " (default)"
				}
				fmt.Fprintf(tw, "%s\t%s%s\n", name, sc.Description, mark)
			}
			return tw.Flush()
		},
	}
	var source bool
	show := &cobra.Command{
		Use:   "show NAME|FILE",
		Short: "Print a scenario as YAML, every default filled in, ready to copy and edit",
		Long: `Print a built-in scenario (or a scenario file) as YAML with every default
filled in, after the comment that explains it, so that every setting can be
seen and changed. With --source, print the file exactly as written.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("want one argument, a built-in name or a file (built-in: %s)", strings.Join(scenarios.BuiltinNames(), ", "))
			}
			return nil
		},
		ValidArgsFunction: completeScenario,
		RunE: func(_ *cobra.Command, args []string) error {
			return a.showScenario(args[0], source)
		},
	}
	show.Flags().BoolVar(&source, "source", false, "print the file as written, comments and all, without defaults")
	cmd.AddCommand(show)
	return cmd
}

func (a *app) showScenario(arg string, source bool) error {
	sc, err := loadScenario(arg)
	if err != nil {
		return err
	}
	var text []byte
	if data, err := scenarios.BuiltinSource(arg); err == nil && !looksLikeFile(arg) {
		text = data
	} else if text, err = os.ReadFile(arg); err != nil {
		return err
	}
	if source {
		_, err := a.stdout.Write(text)
		return err
	}
	// The leading comment explains the scenario; keep it.
	for _, line := range strings.SplitAfter(string(text), "\n") {
		if !strings.HasPrefix(line, "#") {
			break
		}
		if _, err := io.WriteString(a.stdout, line); err != nil {
			return err
		}
	}
	enc := yaml.NewEncoder(a.stdout)
	enc.SetIndent(2)
	if err := enc.Encode(sc); err != nil {
		return err
	}
	return enc.Close()
}

// looksLikeFile reports whether arg names an existing file.
func looksLikeFile(arg string) bool {
	st, err := os.Stat(arg)
	return err == nil && !st.IsDir()
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print stampsim's version, commit and Go version",
		Args:  maxArgs(0, "none"),
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(a.stdout, versionLine())
			return err
		},
	}
}

// versionLine is "stampsim VERSION (commit C, GOVERSION)".
func versionLine() string {
	c := commit()
	if c == "" {
		c = "unknown"
	}
	return fmt.Sprintf("stampsim %s (commit %s, %s)", moduleVersion(), c, runtime.Version())
}

// moduleVersion is version, or the module version `go install` recorded.
func moduleVersion() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return version
}

// commit is the VCS revision the binary was built from, with "-dirty" if
// the tree had changes, or "" when the build did not record it.
func commit() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var rev string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev != "" && dirty {
		rev += "-dirty"
	}
	return rev
}

// wallNow is the wall clock, for the progress bar only.
var wallNow = time.Now
