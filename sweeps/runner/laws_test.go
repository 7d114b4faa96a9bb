package runner

import (
	"context"
	"math"
	"testing"

	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/sweeps"
	"github.com/stampsim/stampsim/world"
)

// runBuiltin runs a built-in sweep at its small size on the topologies
// given, in the simulator, and returns its document.
func runBuiltin(t *testing.T, name string, topologies ...string) *reports.SweepResults {
	t.Helper()
	sw, err := sweeps.Builtin(name, sweeps.SizeSmall)
	if err != nil {
		t.Fatal(err)
	}
	if sw, err = sw.WithTopologies(topologies); err != nil {
		t.Fatal(err)
	}
	plan, err := NewPlan(sw, nil)
	if err != nil {
		t.Fatal(err)
	}
	var rows []reports.Row
	err = plan.Execute(context.Background(), Options{Simulate: world.Run, Jobs: 2}, func(reports.Key) bool { return false },
		func(r reports.Row) error { rows = append(rows, r); return nil })
	if err != nil {
		t.Fatal(err)
	}
	doc := plan.Document(rows, Build{})
	if !doc.Complete || len(doc.Fits) == 0 {
		t.Fatalf("%s: complete %v, %d rows, %d fits", name, doc.Complete, len(doc.Rows), len(doc.Fits))
	}
	return doc
}

// exponent returns the fitted exponent of metric against axis on topo.
func exponent(t *testing.T, doc *reports.SweepResults, topo, metric, axis string) float64 {
	t.Helper()
	for _, f := range doc.Fits {
		if f.Topology == topo && f.Metric == metric && f.Axis == axis {
			if f.Exponent == nil {
				t.Fatalf("%s %s against %s: no fit (%s)", topo, metric, axis, f.Note)
			}
			return *f.Exponent
		}
	}
	t.Fatalf("no fit of %s against %s on %s", metric, axis, topo)
	return 0
}

// The two-level lock's laws, measured as exponents at a small size: the
// contenders at its shared (region) lock do not grow with the requests,
// while without a node level they grow with them one for one; and it
// calls the upstream once per region, at every point.
func TestLawsOfRequests(t *testing.T) {
	doc := runBuiltin(t, "requests", "two-level", "one-level")
	const axis = "workload.bursts[0].requests"
	if e := exponent(t, doc, "two-level", "peak_contenders_shared", axis); math.Abs(e) > 0.05 {
		t.Errorf("two-level: shared-level contenders grow as requests^%.3f, want within 0.05 of 0", e)
	}
	if e := exponent(t, doc, "one-level", "peak_contenders_shared", axis); math.Abs(e-1) > 0.1 {
		t.Errorf("one-level: shared-level contenders grow as requests^%.3f, want within 0.1 of 1", e)
	}
	regions := doc.Spec.Base.Topology.Regions
	for _, r := range doc.Rows {
		if r.Topology == "two-level" && r.Metrics["upstream_calls"] != float64(regions) {
			t.Errorf("two-level at %s, repeat %d: %v upstream calls, want one per region, %d", r.Params[0].Value, r.Repeat, r.Metrics["upstream_calls"], regions)
		}
	}
	t.Logf("exponents against requests: two-level %.3f, one-level %.3f",
		exponent(t, doc, "two-level", "peak_contenders_shared", axis), exponent(t, doc, "one-level", "peak_contenders_shared", axis))
}

// Against the regions, two-level's upstream calls are the regions, and
// the global lock's one.
func TestLawsOfRegions(t *testing.T) {
	doc := runBuiltin(t, "regions", "two-level", "global")
	for _, r := range doc.Rows {
		want := *r.Params[0].Number
		if r.Topology == "global" {
			want = 1
		}
		if r.Metrics["upstream_calls"] != want {
			t.Errorf("%s at %s regions: %v upstream calls, want %v", r.Topology, r.Params[0].Value, r.Metrics["upstream_calls"], want)
		}
	}
	if e := exponent(t, doc, "two-level", "upstream_calls", "topology.regions"); e != 1 {
		t.Errorf("two-level: upstream calls grow as regions^%v, want exactly 1", e)
	}
}
