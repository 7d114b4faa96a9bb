package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteJSON writes the results document as indented JSON followed by a
// newline. The output is deterministic: fields in declaration order, map
// keys sorted, no HTML escaping.
func WriteJSON(w io.Writer, r *Results) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("writing results of %q: %w", r.Scenario, err)
	}
	return nil
}

// ReadJSON reads a results document written by WriteJSON, and checks its
// schema. A v1 document (SchemaV1) is read as v2: its series had one
// sample a second, so they get StepMs 1000 and keep the fields v1 had
// (requests, upstream calls, store operations, errors, p99 latency, peak
// contenders), the others left empty; the document's Schema then says v2.
//
// A document written before the complete field existed is read as complete
// when it holds a run for every topology of its scenario_spec: such
// documents held finished runs only (an interrupted run left out the
// topology it stopped in), so that count is exactly what complete means.
func ReadJSON(r io.Reader) (*Results, error) {
	var doc struct {
		*Results
		// Complete shadows Results.Complete, to tell a document without
		// the field from one that says false.
		Complete *bool `json:"complete"`
	}
	doc.Results = new(Results)
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("reading results: %w", err)
	}
	res := doc.Results
	switch res.Schema {
	case Schema:
	case SchemaV1:
		upgradeV1(res)
	default:
		return nil, fmt.Errorf("reading results: schema %q, want %q (or %q)", res.Schema, Schema, SchemaV1)
	}
	if doc.Complete != nil {
		res.Complete = *doc.Complete
	} else {
		res.Complete = res.Spec != nil && len(res.Runs) == len(res.Spec.Topologies)
	}
	return res, nil
}

// tableHeader names the columns of WriteTable.
var tableHeader = []string{
	"TOPOLOGY", "REQUESTS", "UPSTREAM", "DUPLICATES", "STORE OPS",
	"PEAK OPS/S", "PEAK CONTENDERS", "P50 MS", "P99 MS", "ERRORS", "UNFINISHED",
}

// numeric marks the columns of WriteTable that hold numbers and are
// aligned right.
var numeric = []bool{false, true, true, true, true, true, false, true, true, true, true}

// WriteTable writes one row per run: the topology, requests, upstream calls,
// duplicate upstream calls, store round trips, peak store operations per
// second, each level's peak contenders ("node:240 region:20"), the p50 and
// p99 request latency in milliseconds, the requests that failed, and those
// still waiting when the run stopped (their latency is not in the
// percentiles, which therefore flatter a run that leaves many).
// Numbers are aligned right. An interrupted run's topology reads
// "two-level (interrupted at 1.25s)": its counts stop there.
func WriteTable(w io.Writer, runs []Run) error {
	rows := [][]string{tableHeader}
	for _, r := range runs {
		name := r.Topology
		if r.Interrupted {
			at := time.Duration(r.SimSeconds * float64(time.Second)).Round(time.Millisecond)
			name += " (interrupted at " + at.String() + ")"
		}
		rows = append(rows, []string{
			name,
			strconv.FormatUint(r.Requests, 10),
			strconv.FormatUint(r.UpstreamCalls, 10),
			strconv.FormatUint(r.DuplicateUpstreamCalls, 10),
			strconv.FormatUint(r.StoreOps, 10),
			strconv.FormatUint(r.PeakStoreOpsPerSec, 10),
			Contenders(r.Levels),
			FormatMs(r.LatencyMs.P50),
			FormatMs(r.LatencyMs.P99),
			strconv.FormatUint(r.Served.Error, 10),
			strconv.FormatUint(r.Unfinished, 10),
		})
	}
	// tabwriter aligns every cell the same way; pad the numbers to their
	// column's width first so that they line up on the right.
	for col := range tableHeader {
		if !numeric[col] {
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
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, row := range rows {
		if _, err := fmt.Fprintln(tw, strings.Join(row, "\t")); err != nil {
			return err
		}
	}
	return tw.Flush()
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
