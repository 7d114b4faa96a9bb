package validate

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"
)

// WriteTable prints the report side by side, one block per topology.
func WriteTable(w io.Writer, rep *Report) error {
	fmt.Fprintf(w, "scenario %s (seed %d) against %s\n", rep.Scenario, rep.Seed, rep.Store)
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	c := rep.Calibration
	fmt.Fprintf(w, "  store round trip: PING median %.0fus p99 %.0fus, script median %.0fus (%d samples); %.0f scripts/s at most (%.0fus each)\n\n",
		c.PingMedianUs, c.PingP99Us, c.ScriptMedianUs, c.Samples, c.Throughput, c.ServiceUs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "TOPOLOGY\tMETRIC\tSIM\tREAL\tDIFF\t")
	for _, p := range rep.Runs {
		type row struct{ name, sim, real, diff string }
		count := func(name string, s, r float64) row { return row{name, num(s), num(r), diff(s, r)} }
		// A retimed row shows the range of the retimed runs, and how far
		// the real count is from its nearest end.
		retimed := func(name string, rg Range, r uint64) row {
			d := "="
			if dist := rg.distance(r); dist > 0 {
				d = fmt.Sprintf("%+.0f%%", 100*dist)
				if r < rg.Min {
					d = fmt.Sprintf("%+.0f%%", -100*dist)
				}
			}
			return row{name, rg.String(), fmt.Sprint(r), d}
		}
		rt := p.Retimed
		rows := []row{
			count("upstream calls", float64(p.Sim.UpstreamCalls), float64(p.Real.UpstreamCalls)),
			retimed("  retimed", rt.UpstreamCalls, p.Real.UpstreamCalls),
			count("duplicates", float64(p.Sim.DuplicateUpstreamCalls), float64(p.Real.DuplicateUpstreamCalls)),
			count("store round trips", float64(p.Sim.StoreOps), float64(p.Real.StoreOps)),
			retimed("  retimed", rt.StoreOps, p.Real.StoreOps),
			count("store commands", float64(p.Sim.StoreCommands), float64(p.Real.StoreCommands)),
			count("writes refused", float64(p.Sim.WritesRefused), float64(p.Real.WritesRefused)),
			retimed("  retimed", rt.WritesRefused, p.Real.WritesRefused),
			count("leases lost", float64(p.Sim.LeasesLost), float64(p.Real.LeasesLost)),
		}
		for i, l := range p.Sim.Levels {
			rl := 0.0
			if i < len(p.Real.Levels) {
				rl = float64(p.Real.Levels[i].PeakContenders)
			}
			rows = append(rows, count("peak contenders "+l.Name, float64(l.PeakContenders), rl))
		}
		rows = append(rows,
			count("served hit", float64(p.Sim.Served.Hit), float64(p.Real.Served.Hit)),
			count("served collapsed", float64(p.Sim.Served.Collapsed), float64(p.Real.Served.Collapsed)),
			count("served fetched", float64(p.Sim.Served.Fetched), float64(p.Real.Served.Fetched)),
			count("served hedged", float64(p.Sim.Served.Hedged), float64(p.Real.Served.Hedged)),
			count("served error", float64(p.Sim.Served.Error), float64(p.Real.Served.Error)),
			count("served revalidating", float64(p.Sim.Served.Revalidating), float64(p.Real.Served.Revalidating)),
			retimed("  retimed", rt.Revalidating, p.Real.Served.Revalidating),
			count("refreshes", float64(refreshes(p.Sim)), float64(refreshes(p.Real))),
			retimed("  retimed", rt.Refreshes, refreshes(p.Real)),
			count("latency p50 ms", p.Sim.LatencyMs.P50, p.Real.LatencyMs.P50),
			count("latency p99 ms", p.Sim.LatencyMs.P99, p.Real.LatencyMs.P99),
		)
		// What the retimed runs took from the real run: how its store
		// round trips compare with what the simulator was given, and how
		// well the replay kept time.
		if rt.RoundTrips > 0 {
			c := rep.Calibration
			rows = append(rows,
				count("script round trip p50 us", math.Round(c.ScriptMedianUs), math.Round(rt.RoundTripMedianUs)),
				count("script round trip p99 us", math.Round(c.PingP99Us+c.ServiceUs), math.Round(rt.RoundTripP99Us)),
			)
		}
		rows = append(rows,
			row{"replay stalls", "", fmt.Sprint(rt.Stalls), ""},
			row{"replay behind ms", "", num(math.Round(rt.BehindMs*10) / 10), ""},
		)
		for i, r := range rows {
			name := ""
			if i == 0 {
				name = p.Topology
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", name, r.name, r.sim, r.real, r.diff)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if rep.Agree {
		fmt.Fprintln(w, "simulation and real runs agree")
		return nil
	}
	for _, p := range rep.Runs {
		for _, d := range p.Differences {
			fmt.Fprintf(w, "DIFFERS %s: %s\n", p.Topology, d)
		}
	}
	return nil
}

func num(x float64) string {
	if x == math.Trunc(x) {
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%.1f", x)
}

// diff is the DIFF column: relDiff, signed by which side is larger (+ when
// the real side counted more).
func diff(a, b float64) string {
	if a == b {
		return "="
	}
	d := relDiff(a, b)
	if b < a {
		d = -d
	}
	return fmt.Sprintf("%+.0f%%", 100*d)
}
