package reports

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Column is one column of the summary table. The terminal table
// (WriteTable), the summary CSV (WriteSummaryCSV) and the report page all
// take their columns from here, so that what a column is called and what
// its legend says cannot differ between them.
type Column struct {
	// Name heads the column in the table, with its unit: "P99 MS".
	Name string
	// Legend says what the column holds, in a sentence.
	Legend string
	// Numeric columns hold numbers and are aligned right.
	Numeric bool
	// Subtle marks a column whose meaning a reader cannot guess from its
	// name: the terminal table prints its legend under the rows (the report
	// page explains every column).
	Subtle bool

	// csv heads the column in the summary CSV, with its unit.
	csv string
	// optional columns are shown in the table only when some run's value is
	// not zero; the summary CSV always has them.
	optional bool
	// perLevel marks the peak contenders, which the CSV splits into one
	// column per lock level.
	perLevel bool
	// value is a count's value; text, when set, is the cell instead, and
	// csvText the CSV's cell when it differs from the table's.
	value   func(r *Run) uint64
	text    func(r *Run) string
	csvText func(r *Run) string
}

// columns are every column of the summary, in order.
var columns = []Column{
	{Name: "TOPOLOGY", csv: "topology",
		Legend: "The lock topology, whose lock levels, innermost first, are those that PEAK CONTENDERS names. A run stopped by a signal is marked with the simulated time it reached; its counts stop there.",
		text:   topologyCell},
	{Name: "REQUESTS", csv: "requests", Numeric: true,
		Legend: "Requests that arrived at the nodes during the run.",
		value:  func(r *Run) uint64 { return r.Requests }},
	{Name: "UPSTREAM CALLS", csv: "upstream_calls", Numeric: true,
		Legend: "Calls to the expensive upstream (the origin), for every cause.",
		value:  func(r *Run) uint64 { return r.UpstreamCalls }},
	{Name: "DUPLICATES", csv: "duplicate_upstream_calls", Numeric: true, Subtle: true,
		Legend: "Upstream calls for a key in a region while another call for it there was in flight or had succeeded less than shared_ttl ago (less its largest ttl_jitter share, with jitter): the calls that the locks are there to prevent.",
		value:  func(r *Run) uint64 { return r.DuplicateUpstreamCalls }},
	{Name: "STORE OPS", csv: "store_ops", Numeric: true,
		Legend: "Round trips to the shared stores (each one script of a few commands), over all stores.",
		value:  func(r *Run) uint64 { return r.StoreOps }},
	{Name: "PEAK STORE OPS/S", csv: "peak_store_ops_per_s", Numeric: true,
		Legend: "The most store round trips started in one second of simulated time, over all stores.",
		value:  func(r *Run) uint64 { return r.PeakStoreOpsPerSec }},
	{Name: "PEAK CONTENDERS", csv: "peak_contenders", Subtle: true, perLevel: true,
		Legend: "Per lock level, the most contenders for one key's lock at one time: at the node level the requests of one node waiting for its flight, at a shared level the flights of all nodes holding or waiting for the lock in one store.",
		text:   func(r *Run) string { return Contenders(r.Levels) }},
	{Name: "P50 MS", csv: "p50_latency_ms", Numeric: true,
		Legend:  "The median latency of the requests that finished, in milliseconds.",
		text:    func(r *Run) string { return FormatMs(r.LatencyMs.P50) },
		csvText: func(r *Run) string { return exactMs(r.LatencyMs.P50) }},
	{Name: "P99 MS", csv: "p99_latency_ms", Numeric: true,
		Legend:  "The 99th percentile latency of the requests that finished, in milliseconds.",
		text:    func(r *Run) string { return FormatMs(r.LatencyMs.P99) },
		csvText: func(r *Run) string { return exactMs(r.LatencyMs.P99) }},
	{Name: "ERRORS", csv: "errors", Numeric: true,
		Legend: "Requests answered with an error.",
		value:  func(r *Run) uint64 { return r.Served.Error }},
	{Name: "UNFINISHED", csv: "unfinished", Numeric: true, Subtle: true,
		Legend: "Requests still waiting for an answer when the run stopped (it stops at most a minute after the scenario's traffic ends); their latency is not in P50 and P99.",
		value:  func(r *Run) uint64 { return r.Unfinished }},
	{Name: "WRITES REFUSED", csv: "writes_refused", Numeric: true, Subtle: true, optional: true,
		Legend: "Values a lock holder wrote that the store refused because their fence was older than the last one accepted: a holder whose lease had run out wrote too late, and fencing kept its value out.",
		value:  func(r *Run) uint64 { return r.WritesRefused }},
	{Name: "LEASES LOST", csv: "leases_lost", Numeric: true, Subtle: true, optional: true,
		Legend: "Lease renewals that found the lock held by another token: a lease ran out while its holder was still fetching.",
		value:  func(r *Run) uint64 { return r.LeasesLost }},
	{Name: "HEDGED", csv: "served_hedged", Numeric: true, Subtle: true, optional: true,
		Legend: "Requests served by a hedge: a flight of their own that called the upstream after their wait for the lock timed out (on_timeout: invoke).",
		value:  func(r *Run) uint64 { return r.Served.Hedged }},
	{Name: "STALE", csv: "served_stale", Numeric: true, Subtle: true, optional: true,
		Legend: "Requests served the node cache's expired value after their wait timed out (on_timeout: stale).",
		value:  func(r *Run) uint64 { return r.Served.Stale }},
	{Name: "REVALIDATING", csv: "served_revalidating", Numeric: true, Subtle: true, optional: true,
		Legend: "Requests served a value past its soft TTL while a background refresh fetched the next one (stale-while-revalidate).",
		value:  func(r *Run) uint64 { return r.Served.Revalidating }},
}

// cell is the column's value for r as the table shows it.
func (c *Column) cell(r *Run) string {
	if c.text != nil {
		return c.text(r)
	}
	return strconv.FormatUint(c.value(r), 10)
}

// topologyCell names the run's topology, and how far an interrupted run
// got: "two-level (interrupted at 1.25s)".
func topologyCell(r *Run) string {
	if !r.Interrupted {
		return r.Topology
	}
	at := time.Duration(r.SimSeconds * float64(time.Second)).Round(time.Millisecond)
	return r.Topology + " (interrupted at " + at.String() + ")"
}

// Summary is the summary table of a results document, laid out once for
// every place it is shown: the terminal (WriteTable) and the report page.
type Summary struct {
	// Title says what ran: the scenario, its seed, duration and fleet.
	Title string
	// Columns are the columns shown: every column, less the optional
	// counts (fencing, leases, hedged, stale, revalidating) that are zero
	// in every run.
	Columns []Column
	// Rows hold one row per run, a cell per column, not padded.
	Rows [][]string
	// Notes say what the numbers cannot say alone, in sentences: which
	// runs' latency covers only part of their requests, and why.
	Notes []string
}

// NewSummary lays out the summary table of res.
func NewSummary(res *Results) *Summary {
	s := &Summary{Title: Title(res), Notes: Notes(res)}
	for _, c := range columns {
		if c.optional && !anyNonZero(c, res.Runs) {
			continue
		}
		s.Columns = append(s.Columns, c)
	}
	for i := range res.Runs {
		row := make([]string, len(s.Columns))
		for j := range s.Columns {
			row[j] = s.Columns[j].cell(&res.Runs[i])
		}
		s.Rows = append(s.Rows, row)
	}
	return s
}

func anyNonZero(c Column, runs []Run) bool {
	for i := range runs {
		if c.value(&runs[i]) != 0 {
			return true
		}
	}
	return false
}

// Title is the line above the summary table: "flash-crowd, seed 1: 5s of
// traffic on 60 nodes (3 regions of 2 zones of 10 nodes)", followed by
// "; incomplete: interrupted" when not every topology ran to its end.
func Title(res *Results) string {
	t := fmt.Sprintf("%s, seed %d", res.Scenario, res.Seed)
	if sc := res.Spec; sc != nil {
		w := sc.Topology
		t += fmt.Sprintf(": %s of traffic on %s (%s of %s of %s)", FormatDuration(sc.Duration.D()),
			plural(w.Regions*w.ZonesPerRegion*w.NodesPerZone, "node"),
			plural(w.Regions, "region"), plural(w.ZonesPerRegion, "zone"), plural(w.NodesPerZone, "node"))
	}
	if !res.Complete {
		t += "; incomplete: interrupted"
	}
	return t
}

// Notes are the sentences printed under the table: one for each run that
// left requests unfinished, saying that its latency percentiles cover only
// the requests that finished, and, when its median is longer than the
// scenario, that most of those finished after the traffic had ended.
func Notes(res *Results) []string {
	var notes []string
	for _, r := range res.Runs {
		if r.Unfinished == 0 {
			continue
		}
		finished := r.Requests - min(r.Unfinished, r.Requests)
		n := fmt.Sprintf("%s: %d of %d requests had not finished when the run stopped, at %s of simulated time.",
			r.Topology, r.Unfinished, r.Requests, FormatDuration(seconds(r.SimSeconds)))
		var d time.Duration
		if res.Spec != nil {
			d = res.Spec.Duration.D()
			if drain := seconds(r.SimSeconds) - d; drain > 0 && !r.Interrupted {
				n += fmt.Sprintf(" The traffic lasted %s; the run went on %s more for waiting requests to finish.", FormatDuration(d), FormatDuration(drain))
			}
		}
		n += fmt.Sprintf(" P50 and P99 are those of the %d that finished, and leave out the slowest.", finished)
		// A request that took longer than the whole scenario finished
		// after its traffic ended, wherever in it it arrived.
		if d > 0 && r.LatencyMs.P50 > float64(d.Milliseconds()) {
			n += fmt.Sprintf(" Half of those took longer than the whole scenario (P50 %s ms, more than %s): they finished in the drain.", FormatMs(r.LatencyMs.P50), FormatDuration(d))
		}
		notes = append(notes, n)
	}
	return notes
}

// seconds converts a run's float seconds to a duration, to the millisecond.
func seconds(s float64) time.Duration {
	return time.Duration(s * float64(time.Second)).Round(time.Millisecond)
}

// FormatDuration formats d as Go does, without the zero minutes and seconds
// that time.Duration.String leaves on whole hours and minutes: "5s",
// "1m30s", "24h", "1.25s".
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// WriteTable writes the summary table of res for a terminal: the title
// line (scenario, seed, duration, fleet), one row per run with the columns'
// units in their names and numbers aligned right, then the legend of the
// columns whose meaning their name does not give (DUPLICATES, PEAK
// CONTENDERS, UNFINISHED, and the fencing, lease and hedged, stale or
// revalidating counts when they are shown) and the notes (see Notes).
//
// The legend is always printed rather than behind a flag: the table is the
// output meant for people (programs take -o json or -o csv), and a reader
// who needs the legend is the one who would not know to ask for it.
func WriteTable(w io.Writer, res *Results) error {
	s := NewSummary(res)
	rows := make([][]string, 0, len(s.Rows)+1)
	header := make([]string, len(s.Columns))
	for i, c := range s.Columns {
		header[i] = c.Name
	}
	rows = append(rows, header)
	for _, r := range s.Rows {
		rows = append(rows, append([]string(nil), r...))
	}
	// tabwriter aligns every cell the same way; pad the numbers to their
	// column's width first so that they line up on the right.
	for col, c := range s.Columns {
		if !c.Numeric {
			continue
		}
		width := 0
		for _, row := range rows {
			width = max(width, len(row[col]))
		}
		for _, row := range rows {
			row[col] = strings.Repeat(" ", width-len(row[col])) + row[col]
		}
	}
	var b strings.Builder
	b.WriteString(s.Title + "\n\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, row := range rows {
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
	// The legend and the notes are wrapped: the rows are as wide as they
	// must be, but prose reads better in lines a terminal can show.
	indent := 0
	for _, c := range s.Columns {
		if c.Subtle {
			indent = max(indent, len(c.Name)+2)
		}
	}
	b.WriteString("\n")
	for _, c := range s.Columns {
		if c.Subtle {
			lines := wrap(c.Legend, textWidth-indent)
			for i, l := range lines {
				name := ""
				if i == 0 {
					name = c.Name
				}
				fmt.Fprintf(&b, "%-*s%s\n", indent, name, l)
			}
		}
	}
	for _, n := range s.Notes {
		b.WriteString("\n")
		for i, l := range wrap(n, textWidth-len("Note: ")) {
			lead := "      "
			if i == 0 {
				lead = "Note: "
			}
			b.WriteString(lead + l + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// textWidth is the width the terminal table's legend and notes are wrapped
// to.
const textWidth = 100

// wrap breaks text into lines of at most width bytes at spaces (a longer
// word gets a line of its own).
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		switch {
		case line == "":
			line = word
		case len(line)+1+len(word) <= width:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// Contenders formats the levels' peak contenders as "node:240 region:20",
// or "-" for a topology without levels.
func Contenders(levels []Level) string {
	if len(levels) == 0 {
		return "-"
	}
	parts := make([]string, len(levels))
	for i, l := range levels {
		parts[i] = fmt.Sprintf("%s:%d", l.Name, l.PeakContenders)
	}
	return strings.Join(parts, " ")
}

// FormatMs formats milliseconds with about three significant digits, and
// never in exponent form: 0.012, 1.25, 12.5, 125, 1250.
func FormatMs(ms float64) string {
	prec := 0
	switch a := ms; {
	case a < 0.01:
		prec = 4
	case a < 1:
		prec = 3
	case a < 10:
		prec = 2
	case a < 100:
		prec = 1
	}
	if ms == 0 {
		prec = 0
	}
	return strconv.FormatFloat(ms, 'f', prec, 64)
}
