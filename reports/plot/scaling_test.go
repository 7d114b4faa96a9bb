package plot

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/sweeps"
)

// requestsFigures are the figures of the requests sweep, in the order its
// figures block names their metrics.
var requestsFigures = []string{"scaling-peak-contenders-node", "scaling-peak-contenders-shared", "scaling-store-ops", "scaling-upstream-calls", "scaling-latency-p99-ms"}

// TestWriteSweep draws a real sweep's figures as WriteSweep writes them,
// PNG and SVG, and checks every file. It draws two of them: rasterising
// takes seconds a figure under the race detector, and TestSweepFigures
// draws every case as SVG.
func TestWriteSweep(t *testing.T) {
	doc := loadSweepFixture(t, "requests-small.sweep.json.gz")
	doc.Spec.Figures.Metrics = []string{"peak_contenders_shared", "store_ops"}
	dir := lookAt(t, "sweep requests-small")
	figs, err := WriteSweep(dir, doc)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(figs), []string{"scaling-peak-contenders-shared", "scaling-store-ops"}; !slices.Equal(got, want) {
		t.Fatalf("figures %v, want %v", got, want)
	}
	built, err := sweepFigures(doc)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range figs {
		if want := []string{f.Name + ".png", f.Name + ".svg"}; !slices.Equal(f.Files, want) {
			t.Errorf("%s: files %v, want %v", f.Name, f.Files, want)
		}
		if f.Title == "" || f.Caption == "" {
			t.Errorf("%s: title %q, caption %q: want both", f.Name, f.Title, f.Caption)
		}
		h := built[i].height.Points()
		checkPNG(t, filepath.Join(dir, f.Name+".png"), int(math.Round(figureWidth.Points()/72*dpi)), int(math.Round(h/72*dpi)))
		checkSVG(t, filepath.Join(dir, f.Name+".svg"), figureWidth.Points(), h)
	}
}

// TestSweepFigures builds the figures of sweeps a figure must survive and
// draws each as SVG (quick under the race detector; TestWriteSweep
// rasterises).
func TestSweepFigures(t *testing.T) {
	grid := func(t *testing.T) *reports.SweepResults { return loadSweepFixture(t, "grid.sweep.json.gz") }
	small := func(t *testing.T) *reports.SweepResults { return loadSweepFixture(t, "requests-small.sweep.json.gz") }
	tests := []struct {
		name string
		doc  func(t *testing.T) *reports.SweepResults
		want []string
		// legend, when set, is a label the first figure's legend must
		// have; note a phrase its note must say.
		legend, note string
	}{
		{"requests-small: six topologies, lines on one another", small, requestsFigures, "two-level ~ requests^0.89", "Lines that lie on one another: node-only, two-level and fanout-tree."},
		{"grid: a panel per upstream latency, bands", grid,
			[]string{"scaling-duplicate-upstream-calls", "scaling-latency-p99-ms", "scaling-peak-contenders-node"},
			"band: least to most of the repeats", "the median of 3 repeats"},
		{"incomplete: no fits", func(t *testing.T) *reports.SweepResults {
			doc := grid(t)
			doc.Complete, doc.Fits, doc.Rows = false, nil, doc.Rows[:20]
			return doc
		}, []string{"scaling-duplicate-upstream-calls", "scaling-latency-p99-ms", "scaling-peak-contenders-node"},
			"band: least to most of the repeats", "The sweep is incomplete (20 runs finished)"},
		{"no figures block: the headline metrics", func(t *testing.T) *reports.SweepResults {
			doc := small(t)
			doc.Spec.Figures = nil
			return doc
		}, []string{"scaling-upstream-calls", "scaling-store-ops", "scaling-peak-contenders-shared", "scaling-latency-p99-ms"}, "none ~ requests^1.00", ""},
		{"a metric no topology has is left out", func(t *testing.T) *reports.SweepResults {
			doc := small(t)
			doc.Spec.Figures = &sweeps.Figures{Metrics: []string{"peak_contenders_zone", "upstream_calls"}}
			doc.Rows = slices.DeleteFunc(doc.Rows, func(r reports.Row) bool { return r.Topology == "fanout-tree" })
			return doc
		}, []string{"scaling-upstream-calls"}, "", ""},
		{"a linear axis: no fits, a linear x axis", func(t *testing.T) *reports.SweepResults {
			doc := small(t)
			doc.Spec.Axes[0].Scale, doc.Fits = sweeps.Linear, nil
			return doc
		}, requestsFigures, "two-level", "the requests axis linear"},
		{"one point", func(t *testing.T) *reports.SweepResults {
			doc := small(t)
			doc.Rows = slices.DeleteFunc(doc.Rows, func(r reports.Row) bool { return r.Point > 0 })
			doc.Fits = nil
			return doc
		}, requestsFigures, "", ""},
		{"no rows", func(t *testing.T) *reports.SweepResults {
			doc := small(t)
			doc.Rows = nil
			return doc
		}, nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			figs, err := sweepFigures(tt.doc(t))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range figs {
				got = append(got, f.name)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("figures %v, want %v", got, tt.want)
			}
			dir := lookAt(t, tt.name)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for _, f := range figs {
				data, err := f.renderSVG()
				if err != nil {
					t.Fatal(err)
				}
				file := filepath.Join(dir, f.name+".svg")
				if err := os.WriteFile(file, data, 0o644); err != nil {
					t.Fatal(err)
				}
				checkSVG(t, file, figureWidth.Points(), f.height.Points())
				if f.title == "" || f.caption == "" || f.note == "" {
					t.Errorf("%s: title %q, caption %q, note %q: want all three", f.name, f.title, f.caption, f.note)
				}
			}
			if len(figs) == 0 {
				return
			}
			if tt.legend != "" && !slices.ContainsFunc(allLegends(figs[0]), func(l string) bool { return l == tt.legend }) {
				t.Errorf("%s: legend %q has no %q", figs[0].name, allLegends(figs[0]), tt.legend)
			}
			if !strings.Contains(figs[0].note, tt.note) {
				t.Errorf("%s: note %q does not say %q", figs[0].name, figs[0].note, tt.note)
			}
		})
	}
}

// allLegends are the labels of f's legend and of its panels' legends.
func allLegends(f *figure) []string {
	var out []string
	for _, e := range f.legend {
		out = append(out, e.label)
	}
	for _, row := range f.panelLegends {
		for _, es := range row {
			for _, e := range es {
				out = append(out, e.label)
			}
		}
	}
	return out
}

// figureNamed builds doc's figures and returns the one called name.
func figureNamed(t *testing.T, doc *reports.SweepResults, name string) *figure {
	t.Helper()
	figs, err := sweepFigures(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range figs {
		if f.name == name {
			return f
		}
	}
	t.Fatalf("no figure %s", name)
	return nil
}

// TestSweepCaptions checks that the captions and notes say what the
// numbers and the fits say.
func TestSweepCaptions(t *testing.T) {
	small := loadSweepFixture(t, "requests-small.sweep.json.gz")
	grid := loadSweepFixture(t, "grid.sweep.json.gz")
	for _, tt := range []struct {
		doc          *reports.SweepResults
		figure, want string
	}{
		{small, "scaling-peak-contenders-shared", "One-level and global: shared-lock contenders grow as requests^1.00; two-level as requests^0.00 (flat at 20, the nodes per region); fanout-tree as requests^0.00 (flat at 10, the nodes per zone)."},
		{small, "scaling-peak-contenders-shared", "At requests 10,000, global has the most, 10,000, and fanout-tree the least, 10: a factor of 1,000."},
		{small, "scaling-upstream-calls", "node-only as requests^0.00 (flat at 60, the nodes); one-level and two-level as requests^0.00 (flat at 3, the regions)"},
		{small, "scaling-store-ops", "; none and node-only: zero at every point."},
		{small, "scaling-store-ops", "while none has 0."},
		{grid, "scaling-duplicate-upstream-calls", "At upstream latency 50 ms and 400 ms, duplicate upstream calls go as wait timeout^k with k: one-level no fit and 0.00 (on 2 of 3 points)"},
		{grid, "scaling-duplicate-upstream-calls", "One-level's largest change between neighbouring values of the wait timeout comes between 20 ms and 200 ms (663 to 0) at upstream latency 50 ms; between 200 ms and 2 s (1,997 to 0) at upstream latency 400 ms."},
		{grid, "scaling-latency-p99-ms", "p99 latency goes as"},
	} {
		if f := figureNamed(t, tt.doc, tt.figure); !strings.Contains(f.caption, tt.want) {
			t.Errorf("%s caption %q does not say %q", tt.figure, f.caption, tt.want)
		}
	}
	for _, tt := range []struct{ figure, want string }{
		{"scaling-upstream-calls", "Lines that lie on one another: one-level and two-level; global and fanout-tree."},
		{"scaling-upstream-calls", "The sweep does not run none, one-level and global at requests above 1,000,000."},
		{"scaling-store-ops", "left out of the fits (of none and node-only)"},
	} {
		if f := figureNamed(t, small, tt.figure); !strings.Contains(f.note, tt.want) {
			t.Errorf("%s note %q does not say %q", tt.figure, f.note, tt.want)
		}
	}
}

// The exponents in the legend are the document's fits, not fitted again:
// a changed fit changes the legend, a missing one says so.
func TestSweepLegendFromFits(t *testing.T) {
	doc := loadSweepFixture(t, "requests-small.sweep.json.gz")
	for i := range doc.Fits {
		f := &doc.Fits[i]
		if f.Metric != "peak_contenders_shared" {
			continue
		}
		switch f.Topology {
		case "two-level":
			e := 0.42
			f.Exponent = &e
		case "one-level":
			f.Metric = "moved away"
		}
	}
	legend := allLegends(figureNamed(t, doc, "scaling-peak-contenders-shared"))
	for _, want := range []string{"two-level ~ requests^0.42", "one-level (no fit)", "global ~ requests^1.00"} {
		if !slices.Contains(legend, want) {
			t.Errorf("legend %q has no %q", legend, want)
		}
	}
}

// TestCurves checks the medians and bands of repeats, and the fleet
// count a metric is named after, on a made-up sweep over the regions.
func TestCurves(t *testing.T) {
	num := func(v float64) *float64 { return &v }
	spec := &sweeps.Sweep{
		Name: "made-up", Repeats: 3, Topologies: []string{"two-level"},
		Base: &scenarios.Scenario{Topology: scenarios.World{Regions: 3, ZonesPerRegion: 2, NodesPerZone: 10}},
		Axes: []sweeps.Axis{{Path: "topology.regions", Kind: scenarios.FieldInt, Scale: sweeps.Log, Values: []string{"1", "4"}}},
	}
	doc := &reports.SweepResults{Spec: spec, Complete: true}
	for i, regions := range []float64{1, 4} {
		for r, extra := range []float64{2, 0, 1} {
			doc.Rows = append(doc.Rows, reports.Row{Point: i, Repeat: r, Topology: "two-level",
				Params:  []reports.Param{{Path: "topology.regions", Value: trimFloat(regions), Number: num(regions)}},
				Metrics: map[string]float64{"upstream_calls": regions, "store_ops": 10 * regions * (1 + extra)}})
		}
	}
	doc.Fits = reports.FitPowerLaws(spec, doc.Rows)
	in, ok := newSweepInput(doc)
	if !ok {
		t.Fatal("no input")
	}
	c := in.curves("store_ops", in.panels[0])[0]
	if !slices.Equal(c.xs, []float64{1, 4}) || !slices.Equal(c.med, []float64{20, 80}) || !slices.Equal(c.lo, []float64{10, 40}) || !slices.Equal(c.hi, []float64{30, 120}) {
		t.Errorf("store_ops: xs %v, medians %v, least %v, most %v", c.xs, c.med, c.lo, c.hi)
	}
	calls := in.curves("upstream_calls", in.panels[0])[0]
	if noun, constant := in.fleetRelation(calls); noun != "regions" || constant {
		t.Errorf("upstream calls equal to the %q (constant %v), want the regions, changing", noun, constant)
	}
	m, _ := reports.MetricOf("upstream_calls")
	caption := figureNamed(t, doc, "scaling-upstream-calls").caption
	if want := "Two-level: upstream calls grow as regions^1.00 (the number of regions at every point)."; !strings.HasPrefix(caption, want) {
		t.Errorf("%s caption %q, want it to start %q", m.Name, caption, want)
	}
}

func TestSweepErrors(t *testing.T) {
	if _, err := WriteSweep(t.TempDir(), nil); err == nil {
		t.Error("no document: no error")
	}
	doc := loadSweepFixture(t, "requests-small.sweep.json.gz")
	doc.Spec.Figures = &sweeps.Figures{Metrics: []string{"happiness"}}
	if _, err := WriteSweep(t.TempDir(), doc); err == nil || !strings.Contains(err.Error(), `no metric "happiness"`) {
		t.Errorf("an unknown metric: error %v", err)
	}
}

// The same document draws the same figures, byte for byte: a sweep
// merged from shards must write what the whole sweep does.
func TestSweepDeterministic(t *testing.T) {
	svgs := func() [][]byte {
		figs, err := sweepFigures(loadSweepFixture(t, "grid.sweep.json.gz"))
		if err != nil {
			t.Fatal(err)
		}
		var out [][]byte
		for _, f := range figs {
			data, err := f.renderSVG()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, data)
		}
		return out
	}
	a, b := svgs(), svgs()
	if !slices.EqualFunc(a, b, func(x, y []byte) bool { return string(x) == string(y) }) {
		t.Error("two drawings of one sweep document differ")
	}
}
