package reports

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
)

func TestWriteSummaryCSV(t *testing.T) {
	runs := sampleRuns()
	runs[1].WritesRefused = 1
	// fanout-tree's levels, to show the columns in scope order whichever
	// run names a level first.
	runs = append(runs, Run{Topology: "fanout-tree", Interrupted: true, Levels: []Level{
		{Name: "node", Scope: "node", PeakContenders: 4}, {Name: "zone", Scope: "zone", PeakContenders: 3},
		{Name: "region", Scope: "region", PeakContenders: 2}, {Name: "global", Scope: "global", PeakContenders: 1},
	}})
	var b bytes.Buffer
	if err := WriteSummaryCSV(&b, runs); err != nil {
		t.Fatal(err)
	}
	golden(t, "summary.golden.csv", b.Bytes())

	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+len(runs) {
		t.Fatalf("%d rows for %d runs and a header", len(rows), len(runs))
	}
	header := strings.Join(rows[0], ",")
	for _, want := range []string{
		"topology,interrupted,requests,upstream_calls,",
		",peak_contenders_node,peak_contenders_zone,peak_contenders_region,peak_contenders_global,p50_latency_ms,p99_latency_ms,",
		",writes_refused,leases_lost,served_hedged,served_stale,served_revalidating",
	} {
		if !strings.Contains(header, want) {
			t.Errorf("header %q lacks %q", header, want)
		}
	}
	cell := func(row int, col string) string {
		for i, h := range rows[0] {
			if h == col {
				return rows[row][i]
			}
		}
		t.Fatalf("no column %s", col)
		return ""
	}
	for _, c := range []struct {
		row       int
		col, want string
	}{
		{1, "topology", "none"},
		{1, "peak_contenders_node", ""}, // none has no node level
		{2, "peak_contenders_node", "1712"},
		{2, "p50_latency_ms", "0.0042"}, // every digit, not the table's rounding
		{1, "p50_latency_ms", "1843.2"},
		{2, "writes_refused", "1"},
		{1, "writes_refused", "0"},
		{3, "interrupted", "true"},
		{3, "peak_contenders_global", "1"},
	} {
		if got := cell(c.row, c.col); got != c.want {
			t.Errorf("row %d %s = %q, want %q", c.row, c.col, got, c.want)
		}
	}
}

// Custom level names, and scopes beyond the four, keep their order of
// appearance after the known scopes.
func TestCSVLevels(t *testing.T) {
	runs := []Run{
		{Levels: []Level{{Name: "edge", Scope: "mystery"}, {Name: "region", Scope: "region"}}},
		{Levels: []Level{{Name: "node", Scope: "node"}, {Name: "region", Scope: "region"}}},
	}
	if got := strings.Join(csvLevels(runs), ","); got != "node,region,edge" {
		t.Errorf("csvLevels = %s", got)
	}
}
