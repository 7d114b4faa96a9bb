package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/stampsim/stampsim/budget"
	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/sweeps"
	"github.com/stampsim/stampsim/sweeps/runner"
)

// summaryMetrics are the fitted exponents that the summary of a sweep
// shows, with their column headings; fits.csv has them all.
var summaryMetrics = []struct{ name, heading string }{
	{"upstream_calls", "UPSTREAM CALLS"},
	{"store_ops", "STORE OPS"},
	{"peak_contenders_shared", "SHARED CONTENDERS"},
	{"latency_p99_ms", "P99"},
}

// writeSweepSummary prints where a sweep's files are (report says what
// page and figures were written besides) and, for the whole sweep, a
// table of the headline exponents: a row per topology (and values of the
// other axes) for each log axis.
func writeSweepSummary(w io.Writer, doc *reports.SweepResults, dir, report string) error {
	files := runner.DocumentFile + ", " + runner.RowsFile
	if len(doc.Fits) > 0 {
		files += ", " + runner.FitsFile
	}
	if report != "" {
		files += "; " + report
	}
	what := "the whole sweep"
	if doc.Shard != nil {
		what = fmt.Sprintf("shard %d/%d", doc.Shard.Index, doc.Shard.Count)
	}
	fmt.Fprintf(w, "sweep %s (%s size, %s): %d runs in %s: %s\n", doc.Sweep, doc.Size, what, len(doc.Rows), dir, files)
	for _, axis := range doc.Spec.Axes {
		if axis.Scale != sweeps.Log || len(doc.Fits) == 0 {
			continue
		}
		fmt.Fprintf(w, "\nFitted exponents against %s (each metric ~ %s^exponent, over the median of %s; fits.csv has every metric):\n",
			axis.Path, axis.Path, plural(doc.Spec.Repeats, "repeat"))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		head := []string{"TOPOLOGY"}
		if len(doc.Spec.Axes) > 1 {
			head = append(head, "AT")
		}
		for _, m := range summaryMetrics {
			head = append(head, m.heading)
		}
		fmt.Fprintln(tw, strings.Join(head, "\t"))
		type rowKey struct{ topo, at string }
		var order []rowKey
		cells := map[rowKey]map[string]string{}
		for _, f := range doc.Fits {
			if f.Axis != axis.Path {
				continue
			}
			k := rowKey{f.Topology, atText(f.At)}
			if cells[k] == nil {
				cells[k] = map[string]string{}
				order = append(order, k)
			}
			if f.Exponent != nil {
				cells[k][f.Metric] = fmt.Sprintf("%.2f", *f.Exponent)
			}
		}
		for _, k := range order {
			row := []string{k.topo}
			if len(doc.Spec.Axes) > 1 {
				row = append(row, k.at)
			}
			for _, m := range summaryMetrics {
				c := cells[k][m.name]
				if c == "" {
					c = "-"
				}
				row = append(row, c)
			}
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// atText writes the other axes' values of a fit.
func atText(at []reports.Param) string {
	parts := make([]string, len(at))
	for i, p := range at {
		parts[i] = p.Path + "=" + p.Value
	}
	return strings.Join(parts, " ")
}

// writeSweepEstimate prints what the plan's runs would cost, point by
// point, against the limits.
func writeSweepEstimate(w io.Writer, plan *runner.Plan, lim budget.Limits, jobs int) error {
	sw := plan.Sweep
	what := ""
	if plan.Shard != nil {
		what = fmt.Sprintf(", shard %d/%d", plan.Shard.Index, plan.Shard.Count)
	}
	fmt.Fprintf(w, "sweep %s (%s size%s): %s, %s of each, %d topologies: %d runs\n",
		sw.Name, sw.Size, what, plural(len(plan.Points), "point"), plural(sw.Repeats, "repeat"), len(sw.Topologies), len(plan.Tasks))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := []string{"POINT"}
	for _, a := range sw.Axes {
		head = append(head, a.Path)
	}
	fmt.Fprintln(tw, strings.Join(append(head, "RUNS", "EVENTS", "MEMORY OF ONE RUN"), "\t"))
	var events, most float64
	for i, p := range plan.Points {
		runs, ev, mem := 0, 0.0, 0.0
		for _, t := range plan.Tasks {
			if t.Point.Index == p.Index {
				runs++
				ev += t.Cost.Events
				mem = max(mem, t.Cost.MemoryBytes)
			}
		}
		if runs == 0 {
			continue
		}
		events, most = events+ev, max(most, mem)
		row := []string{fmt.Sprint(i + 1)}
		for _, pr := range p.Params {
			row = append(row, pr.Value)
		}
		fmt.Fprintln(tw, strings.Join(append(row, fmt.Sprint(runs), budget.Number(ev), budget.Bytes(mem)), "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	mem := "no bound on their memory"
	if lim.Memory > 0 {
		mem = fmt.Sprintf("their estimated memory at most %s (%s)", budget.Bytes(lim.Memory), lim.MemoryFrom)
	}
	_, err := fmt.Fprintf(w, "In all: %s events, at most %s in one run; -j %d runs at once, %s.\n"+
		"Upper bounds: events and memory at the peak, per run (see 'stampsim run --dry-run').\n",
		budget.Number(events), budget.Bytes(most), jobs, mem)
	return err
}

func (a *app) sweepsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sweeps",
		Short: "List the built-in sweeps",
		Args:  maxArgs(0, "none; did you mean 'sweeps show NAME'?"),
		RunE: func(*cobra.Command, []string) error {
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			for _, name := range sweeps.BuiltinNames() {
				sw, err := sweeps.Builtin(name, sweeps.SizeDefault)
				if err != nil {
					return err
				}
				fmt.Fprintf(tw, "%s\t%s\n", name, sw.Description)
			}
			return tw.Flush()
		},
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "show NAME|FILE",
		Short: "Print a sweep file as it is written, to copy and edit",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("want one argument, a built-in sweep's name or a file (built-in: %s)", strings.Join(sweeps.BuiltinNames(), ", "))
			}
			return nil
		},
		ValidArgsFunction: completeSweep,
		RunE: func(_ *cobra.Command, args []string) error {
			if _, err := loadSweep(args[0], sweeps.SizeDefault); err != nil {
				return err
			}
			text, err := sweeps.BuiltinSource(args[0])
			if looksLikeFile(args[0]) || err != nil {
				if text, err = os.ReadFile(args[0]); err != nil {
					return err
				}
			}
			_, err = a.stdout.Write(text)
			return err
		},
	})
	return cmd
}
