package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/reports/plot"
	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/sweeps"
)

// law gives a topology's metrics at a value x of the axis, in a fleet of
// the given shape.
type law func(topo string, x float64, f fleet) map[string]float64

// makeDoc makes a complete sweep document over one log axis at path with
// values xs, three repeats of each, on a base fleet of 3 regions of 2
// zones of 10 nodes, with rows that follow l and the fits of those rows.
func makeDoc(name, path string, xs []float64, l law) *reports.SweepResults {
	var values []string
	for _, x := range xs {
		values = append(values, strconv.FormatFloat(x, 'f', -1, 64))
	}
	spec := &sweeps.Sweep{
		Name: name, Seed: 1, Size: sweeps.SizeDefault, Repeats: 3,
		Topologies: []string{"node-only", "one-level", "two-level", "fanout-tree"},
		Base:       &scenarios.Scenario{Topology: scenarios.World{Regions: 3, ZonesPerRegion: 2, NodesPerZone: 10}},
		Axes:       []sweeps.Axis{{Path: path, Kind: scenarios.FieldInt, Scale: sweeps.Log, Values: values}},
	}
	doc := &reports.SweepResults{Schema: reports.SweepSchema, Sweep: name, Size: sweeps.SizeDefault, Seed: 1, Complete: true, Spec: spec}
	for i, x := range xs {
		x := x
		params := []reports.Param{{Path: path, Value: values[i], Number: &x}}
		for r := range 3 {
			for _, topo := range spec.Topologies {
				doc.Rows = append(doc.Rows, reports.Row{Point: i, Params: params, Repeat: r, Topology: topo, Metrics: l(topo, x, fleetAt(doc, params))})
			}
		}
	}
	doc.Fits = reports.FitPowerLaws(spec, doc.Rows)
	return doc
}

// theLaws are the write-up's laws as made-up rows of each sweep the
// claims check.
func theLaws() map[string]*reports.SweepResults {
	nodeLevel := func(topo string) bool { return topo != "one-level" }
	requests := func(topo string, x float64, f fleet) map[string]float64 {
		nodes := float64(f.regions * f.zonesPerRegion * f.nodesPerZone)
		m := map[string]float64{"upstream_calls": float64(f.regions), "peak_contenders_shared": float64(f.zonesPerRegion * f.nodesPerZone)}
		if nodeLevel(topo) {
			m["peak_contenders_node"] = x / nodes
		} else {
			m["peak_contenders_region"], m["peak_contenders_shared"] = x/float64(f.regions), x/float64(f.regions)
			if x >= 1e6 {
				m["upstream_calls"] = x // the herd
			}
		}
		return m
	}
	fleetLaw := func(topo string, x float64, f fleet) map[string]float64 {
		return map[string]float64{"upstream_calls": float64(f.regions), "peak_contenders_region": float64(f.zonesPerRegion * f.nodesPerZone),
			"peak_contenders_shared": float64(f.zonesPerRegion * f.nodesPerZone)}
	}
	service := func(topo string, x float64, f fleet) map[string]float64 {
		calls := float64(f.regions)
		if !nodeLevel(topo) && x >= 20 {
			calls = 100000
		}
		return map[string]float64{"upstream_calls": calls}
	}
	return map[string]*reports.SweepResults{
		"requests":           makeDoc("requests", "workload.bursts[0].requests", []float64{100, 1000, 1e4, 1e5, 1e6}, requests),
		"nodes-per-region":   makeDoc("nodes-per-region", "topology.nodes_per_zone", []float64{5, 20, 80}, fleetLaw),
		"regions":            makeDoc("regions", "topology.regions", []float64{1, 4, 16}, fleetLaw),
		"store-service-time": makeDoc("store-service-time", "store.service_time", []float64{1, 10, 100}, service),
	}
}

func TestJudge(t *testing.T) {
	tests := []struct {
		name string
		edit func(docs map[string]*reports.SweepResults)
		// want is each claim's verdict; evidence a phrase the first
		// verdict that did not hold must say.
		want     []string
		evidence string
	}{
		{"the laws hold", func(map[string]*reports.SweepResults) {}, []string{"held", "held", "held", "held"}, ""},
		{"two-level calls the upstream twice in a region at one point", func(docs map[string]*reports.SweepResults) {
			d := docs["regions"]
			for i, r := range d.Rows {
				if r.Topology == "two-level" && r.Point == 1 {
					d.Rows[i].Metrics["upstream_calls"]++
				}
			}
			d.Fits = reports.FitPowerLaws(d.Spec, d.Rows)
		}, []string{"held", "held", "did not hold", "held"}, "not equal to the regions at topology.regions = 4: 5, the regions 4"},
		{"no herd without the node level", func(docs map[string]*reports.SweepResults) {
			d := docs["store-service-time"]
			for i := range d.Rows {
				d.Rows[i].Metrics["upstream_calls"] = 3
			}
		}, []string{"held", "held", "held", "did not hold"}, "less than 100 times the 3 regions"},
		{"a sweep not run", func(docs map[string]*reports.SweepResults) { delete(docs, "nodes-per-region") },
			[]string{"held", "not checked", "not checked", "held"}, "sweep nodes-per-region: not run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs := theLaws()
			tt.edit(docs)
			vs := judge(docs)
			var got []string
			for _, v := range vs {
				got = append(got, heldText(v))
			}
			if strings.Join(got, ", ") != strings.Join(tt.want, ", ") {
				t.Fatalf("verdicts %q, want %q", got, tt.want)
			}
			for _, v := range vs {
				if v.held {
					continue
				}
				if all := strings.Join(v.evidence, "\n"); !strings.Contains(all, tt.evidence) {
					t.Errorf("evidence\n%s\ndoes not say %q", all, tt.evidence)
				}
				break
			}
		})
	}
}

// The page names every claim with its verdict and evidence, and each
// figure with its image, caption and exponents.
func TestWritePage(t *testing.T) {
	docs := theLaws()
	doc := docs["regions"]
	s := section{doc: doc, imgDir: "img/scaling/regions", figures: nil}
	s.figures = append(s.figures, figureOf("scaling-upstream-calls", "Upstream calls against regions", "Two-level: upstream calls grow as regions^1.00."))
	var b strings.Builder
	if err := writePage(&b, []section{s}, judge(docs), "on a test"); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{
		"# Scaling: how each cost grows\n",
		"Generated on a test.",
		"| Upstream work is O(1) per region per miss",
		"3. **held** Upstream work is O(1) per region per miss",
		"   * regions, upstream_calls on two-level against topology.regions: exponent 1.00 (want 1 ± 0.05: yes); equal to the regions at every point (1 to 16)",
		"### regions\n",
		"`stampsim sweep regions --out DIR`: `topology.regions` 1, 4, 16 (log); 3 points, 3 repeats each, on node-only, one-level, two-level, fanout-tree: 36 runs (seed 1).",
		"![Upstream calls against regions](img/scaling/regions/scaling-upstream-calls.png)\n\nTwo-level: upstream calls grow as regions^1.00.\n",
		"| two-level | 1.00 (r² 1.00, 3 points) |",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

func figureOf(name, title, caption string) plot.Figure {
	return plot.Figure{Name: name, Title: title, Caption: caption, Files: []string{name + ".png"}}
}
