package reports

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/sweeps"
)

// sampleSweep is a made-up sweep of two axes (requests, log; wake, text)
// and two topologies, with rows that follow known laws: on two-level the
// region's contenders stay at 20 and its upstream calls at 3, on one-level
// the contenders are a third of the requests; one-level has no node level.
func sampleSweep() *SweepResults {
	spec := &sweeps.Sweep{
		Name: "sample", Seed: 1, Size: sweeps.SizeDefault, Repeats: 3, Topologies: []string{"two-level", "one-level"},
		Axes: []sweeps.Axis{
			{Path: "workload.bursts[0].requests", Kind: scenarios.FieldInt, Scale: sweeps.Log, Values: []string{"300", "3000", "30000"}},
			{Path: "locks.wake", Kind: scenarios.FieldString, Scale: sweeps.Linear, Values: []string{"notify", "poll"}},
		},
	}
	doc := &SweepResults{Schema: SweepSchema, Sweep: "sample", Size: sweeps.SizeDefault, Seed: 1, Complete: true, Spec: spec, Metrics: SweepMetrics}
	point := 0
	for _, req := range []float64{300, 3000, 30000} {
		for _, wake := range []string{"notify", "poll"} {
			x := req
			params := []Param{{Path: "workload.bursts[0].requests", Value: spec.Axes[0].Values[point/2], Number: &x},
				{Path: "locks.wake", Value: wake}}
			for r := range 3 {
				noise := 1 + 0.01*float64(r-1) // the median is the middle repeat
				for _, topo := range spec.Topologies {
					m := map[string]float64{"requests": req, "upstream_calls": 3, "errors": 0, "latency_p99_ms": 250 * noise}
					if topo == "two-level" {
						m["peak_contenders_node"] = req / 60 * noise
						m["peak_contenders_region"] = 20
					} else {
						m["peak_contenders_region"] = req / 3 * noise
					}
					doc.Rows = append(doc.Rows, Row{Point: point, Params: params, Repeat: r, Seed: uint64(100*point + r), Topology: topo, Metrics: m})
				}
			}
			point++
		}
	}
	doc.Fits = FitPowerLaws(spec, doc.Rows)
	return doc
}

func fitOf(t *testing.T, fits []Fit, topo, metric, wake string) Fit {
	t.Helper()
	for _, f := range fits {
		if f.Topology == topo && f.Metric == metric && len(f.At) == 1 && f.At[0].Value == wake {
			return f
		}
	}
	t.Fatalf("no fit of %s on %s at wake=%s", metric, topo, wake)
	return Fit{}
}

func TestFitPowerLaws(t *testing.T) {
	doc := sampleSweep()
	for _, tc := range []struct {
		topo, metric string
		exponent     float64
		coefficient  float64
		note         string
	}{
		{"two-level", "peak_contenders_region", 0, 20, "the same at every point"},
		{"two-level", "peak_contenders_node", 1, 1.0 / 60, ""},
		{"one-level", "peak_contenders_region", 1, 1.0 / 3, ""},
		{"one-level", "requests", 1, 1, ""},
		{"two-level", "upstream_calls", 0, 3, "the same at every point"},
	} {
		for _, wake := range []string{"notify", "poll"} {
			f := fitOf(t, doc.Fits, tc.topo, tc.metric, wake)
			if f.Exponent == nil || math.Abs(*f.Exponent-tc.exponent) > 1e-6 || math.Abs(*f.Coefficient-tc.coefficient) > 1e-5*tc.coefficient ||
				f.Points != 3 || f.Zeros != 0 || f.Note != tc.note || f.Axis != "workload.bursts[0].requests" {
				t.Errorf("%s %s at %s: %+v (exponent %v, coefficient %v)", tc.topo, tc.metric, wake, f, deref(f.Exponent), deref(f.Coefficient))
			}
			if tc.note == "" && (f.R2 == nil || *f.R2 != 1) {
				t.Errorf("%s %s: r2 %v, want 1", tc.topo, tc.metric, deref(f.R2))
			}
		}
	}
	// Zeros are left out and said so: with every median zero, no fit.
	f := fitOf(t, doc.Fits, "one-level", "errors", "poll")
	if f.Exponent != nil || f.Points != 0 || f.Zeros != 3 || !strings.Contains(f.Note, "3 of 3 points left out") || !strings.Contains(f.Note, "no fit") {
		t.Errorf("errors: %+v", f)
	}
	// A metric a topology lacks is not fitted; a text axis is not fitted
	// against.
	for _, f := range doc.Fits {
		if f.Topology == "one-level" && f.Metric == "peak_contenders_node" || f.Axis == "locks.wake" || f.Metric == "store_ops" {
			t.Errorf("unexpected fit %+v", f)
		}
	}
}

func deref(x *float64) any {
	if x == nil {
		return nil
	}
	return *x
}

func TestFitLeavesOutZeros(t *testing.T) {
	spec := &sweeps.Sweep{Topologies: []string{"t"}, Axes: []sweeps.Axis{{Path: "topology.regions", Kind: scenarios.FieldInt, Scale: sweeps.Log}}}
	var rows []Row
	for i, y := range []float64{0, 2, 4, 8} {
		x := float64(i + 1)
		rows = append(rows, Row{Point: i, Params: []Param{{Path: "topology.regions", Value: "x", Number: &x}}, Topology: "t", Metrics: map[string]float64{"upstream_calls": y}})
	}
	fits := FitPowerLaws(spec, rows)
	f := fits[indexOfMetric(fits, "upstream_calls")]
	if f.Points != 3 || f.Zeros != 1 || f.Exponent == nil || !strings.HasPrefix(f.Note, "1 of 4 points left out: the median is zero there") {
		t.Errorf("%+v", f)
	}
}

func indexOfMetric(fits []Fit, metric string) int {
	for i, f := range fits {
		if f.Metric == metric {
			return i
		}
	}
	return -1
}

func TestSweepCSV(t *testing.T) {
	doc := sampleSweep()
	var rows, fits bytes.Buffer
	if err := WriteRowsCSV(&rows, doc); err != nil {
		t.Fatal(err)
	}
	if err := WriteFitsCSV(&fits, doc); err != nil {
		t.Fatal(err)
	}
	golden(t, "sweep-rows.golden.csv", rows.Bytes())
	golden(t, "sweep-fits.golden.csv", fits.Bytes())
}

func TestSweepJSONRoundTrip(t *testing.T) {
	doc := sampleSweep()
	var a, b bytes.Buffer
	if err := WriteSweepJSON(&a, doc); err != nil {
		t.Fatal(err)
	}
	back, err := ReadSweepJSON(bytes.NewReader(a.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteSweepJSON(&b, back); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("read back and written again, the document differs")
	}
	if !reflect.DeepEqual(back.Spec.Axes, doc.Spec.Axes) {
		t.Errorf("axes read back %+v, want %+v", back.Spec.Axes, doc.Spec.Axes)
	}
	for _, bad := range []struct{ doc, want string }{
		{`{"schema": "stampsim/sweep/v0", "sweep_spec": {}}`, `schema "stampsim/sweep/v0", want "stampsim/sweep/v1"`},
		{`{"schema": "stampsim/sweep/v1"}`, "holds no sweep_spec"},
		{`{"schema": "stampsim/sweep/v1", "extra": 1}`, `unknown field "extra"`},
		{`{"schema": "stampsim/sweep/v1", "sweep_spec": {"axes": [{"path": "topology.regoins"}]}}`, "did you mean topology.regions?"},
	} {
		if _, err := ReadSweepJSON(strings.NewReader(bad.doc)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: %v, want %q", bad.doc, err, bad.want)
		}
	}
}

// Every metric is named once, and RowMetrics gives a run's levels by
// scope.
func TestRowMetrics(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range SweepMetrics {
		if seen[m.Name] || m.Unit == "" || m.Doc == "" {
			t.Errorf("metric %+v: named twice, or without unit or doc", m)
		}
		seen[m.Name] = true
	}
	runs := sampleRuns()
	m := RowMetrics(runs[1])
	if m["requests"] != float64(runs[1].Requests) || m["upstream_calls_holder"] != float64(runs[1].UpstreamCallsByCause["holder"]) {
		t.Errorf("metrics %v of %+v", m, runs[1])
	}
	for _, l := range runs[1].Levels {
		if m["peak_contenders_"+l.Scope] != float64(l.PeakContenders) || m["acquisitions_"+l.Scope] != float64(l.Acquisitions) {
			t.Errorf("level %+v: metrics %v", l, m)
		}
	}
	if _, ok := RowMetrics(runs[0])["peak_contenders_shared"]; ok {
		t.Errorf("a run without levels has a shared peak: %v", RowMetrics(runs[0]))
	}
}

// The metrics a figures block names must be metrics of the rows: a
// mistake names the file, the line and the entry, with the closest name.
func TestCheckFigures(t *testing.T) {
	tests := []struct {
		name, figures, want string
	}{
		{"known metrics", "  metrics: [upstream_calls, peak_contenders_region]\n", ""},
		{"none named: the defaults", "  against: topology.regions\n", ""},
		{"a typo", "  against: topology.regions\n  metrics:\n    - upstream_calls\n    - store_opps\n",
			`x.yaml:8: figures.metrics[1]: no metric "store_opps" (did you mean store_ops?)`},
		{"nothing like a metric", "  metrics: [happiness]\n", `x.yaml:5: figures.metrics[0]: no metric "happiness": want a column of rows.csv`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := "base: {builtin: flash-crowd}\naxes:\n  - {path: topology.regions, values: [1, 2], scale: log}\nfigures:\n" + tt.figures
			sw, err := sweeps.Parse("x.yaml", []byte(data), sweeps.Options{})
			if err != nil {
				t.Fatal(err)
			}
			err = CheckFigures(sw)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
				t.Errorf("error %v, want %s", err, tt.want)
			}
		})
	}
	for _, name := range sweeps.BuiltinNames() {
		sw, err := sweeps.Builtin(name, sweeps.SizeDefault)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckFigures(sw); err != nil {
			t.Errorf("built-in %s: %v", name, err)
		}
	}
}

// A point's fleet is the base's topology with the point's values of the
// axes that shape it; other axes, and axes without a number, leave it be.
func TestWorldAt(t *testing.T) {
	num := func(v float64) *float64 { return &v }
	base := &scenarios.Scenario{Topology: scenarios.World{Regions: 3, ZonesPerRegion: 2, NodesPerZone: 10}}
	doc := &SweepResults{Spec: &sweeps.Sweep{Base: base}}
	for _, tc := range []struct {
		name   string
		params []Param
		want   scenarios.World
	}{
		{"no axes", nil, scenarios.World{Regions: 3, ZonesPerRegion: 2, NodesPerZone: 10}},
		{"every shaping axis", []Param{
			{Path: "topology.regions", Number: num(5)},
			{Path: "topology.zones_per_region", Number: num(4)},
			{Path: "topology.nodes_per_zone", Number: num(100)},
		}, scenarios.World{Regions: 5, ZonesPerRegion: 4, NodesPerZone: 100}},
		{"other axes and no number", []Param{
			{Path: "workload.rate", Number: num(1e6)},
			{Path: "topology.regions", Value: "three"},
		}, scenarios.World{Regions: 3, ZonesPerRegion: 2, NodesPerZone: 10}},
	} {
		if got := doc.WorldAt(tc.params); got != tc.want {
			t.Errorf("%s: WorldAt = %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if got := (&SweepResults{}).WorldAt(nil); got != (scenarios.World{}) {
		t.Errorf("without a spec: WorldAt = %+v, want the zero World", got)
	}
}
