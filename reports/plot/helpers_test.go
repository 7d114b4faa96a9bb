package plot

import (
	"math"
	"slices"
	"strings"
	"testing"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/scenarios"
)

func TestDecimate(t *testing.T) {
	spike := make([]float64, 10000)
	spike[4321] = 99
	dip := make([]float64, 10000)
	for i := range dip {
		dip[i] = 5
	}
	dip[77] = -1
	xs := make([]float64, 10000)
	for i := range xs {
		xs[i] = float64(i)
	}
	tests := []struct {
		name     string
		ys       []float64
		cols     int
		maxLen   int
		min, max float64
	}{
		{"short series kept whole", spike[:50], 100, 50, 0, 0},
		{"one-sample spike survives", spike, 100, 200, 0, 99},
		{"one-sample dip survives", dip, 100, 200, -1, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := decimate(xs[:len(tt.ys)], tt.ys, tt.cols)
			if len(out) > tt.maxLen {
				t.Errorf("%d points, want at most %d", len(out), tt.maxLen)
			}
			lo, hi := math.Inf(1), math.Inf(-1)
			for i, p := range out {
				lo, hi = math.Min(lo, p.Y), math.Max(hi, p.Y)
				if i > 0 && p.X <= out[i-1].X {
					t.Fatalf("x goes back at point %d: %v after %v", i, p.X, out[i-1].X)
				}
			}
			if lo != tt.min || hi != tt.max {
				t.Errorf("range [%v, %v], want [%v, %v]", lo, hi, tt.min, tt.max)
			}
		})
	}
}

func TestLogTicks(t *testing.T) {
	labels := func(ticks []gplot.Tick) []string {
		var out []string
		for _, tk := range ticks {
			if tk.Label != "" {
				out = append(out, tk.Label)
			}
		}
		return out
	}
	tests := []struct {
		name   string
		scale  scale
		lo, hi float64
		want   []string
	}{
		{"counts over five decades", logScale(1), 0.25, 100000, []string{"0", "1", "10", "100", "1k", "10k", "100k"}},
		{"a narrow range gets 2s and 5s", logScale(3), 0.75, 60, []string{"0", "2", "5", "10", "20", "50"}},
		{"no zero floor for latencies", scale{log: true, floor: 0.1}, 0.1, 1000, []string{"0.1", "1", "10", "100", "1k"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ticks := logTicks{scale: tt.scale, label: shortNum}.Ticks(math.Log10(tt.lo), math.Log10(tt.hi))
			if got := labels(ticks); !slices.Equal(got, tt.want) {
				t.Errorf("labels %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLinearTicks(t *testing.T) {
	tests := []struct {
		lo, hi float64
		n      int
		want   []string
	}{
		{0, 5, 10, []string{"0", "0.5", "1", "1.5", "2", "2.5", "3", "3.5", "4", "4.5", "5"}},
		{0, 1754, 5, []string{"0", "500", "1k", "1.5k"}},
		{900, 1300, 5, []string{"900", "1k", "1.1k", "1.2k", "1.3k"}},
		{0, 10, 5, []string{"0", "2", "4", "6", "8", "10"}},
	}
	for _, tt := range tests {
		var got []string
		for _, tk := range (linearTicks{n: tt.n, label: shortNum}).Ticks(tt.lo, tt.hi) {
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("ticks of [%v, %v]: %v, want %v", tt.lo, tt.hi, got, tt.want)
		}
	}
}

func TestScale(t *testing.T) {
	s := logScale(3)
	for _, tt := range []struct{ in, want float64 }{
		{0, math.Log10(0.75)},
		{-5, math.Log10(0.75)},
		{math.NaN(), math.Log10(0.75)},
		{3, math.Log10(3)},
		{1000, 3},
	} {
		if got := s.at(tt.in); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("log scale at %v: %v, want %v", tt.in, got, tt.want)
		}
	}
	if linear.at(-2) != -2 {
		t.Error("linear scale changes values")
	}
}

func TestWantLog(t *testing.T) {
	for _, tt := range []struct {
		peaks []float64
		want  bool
	}{
		{[]float64{97101, 60, 3, 1}, true},
		{[]float64{1754, 1754, 1754}, false},
		{[]float64{0, 0, 0}, false},
		{[]float64{0, 20, 900}, false},
		{[]float64{0, 2, 900}, true},
	} {
		if got := wantLog(tt.peaks); got != tt.want {
			t.Errorf("wantLog(%v) = %v, want %v", tt.peaks, got, tt.want)
		}
	}
}

func TestWords(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{count(uint64(0)), "0"},
		{count(uint64(999)), "999"},
		{count(uint64(100000)), "100,000"},
		{count(-1234567), "-1,234,567"},
		{shortNum(97101), "97.1k"},
		{shortNum(1.5e6), "1.5M"},
		{shortNum(0.25), "0.25"},
		{barLabel(97101), "97k"},
		{barLabel(100000), "100k"},
		{barLabel(264887), "260k"},
		{barLabel(60), "60"},
		{ms(0.4), "0.4 ms"},
		{ms(170.3), "170 ms"},
		{ms(2222), "2.2 s"},
		{ms(63242), "63 s"},
		{at(1005), "1,005 ms"},
		{at(65000), "65.0 s"},
		{span(0, 9990), "0 to 9,990 ms"},
		{span(40, 10200), "0.0 to 10.2 s"},
		{percentLabel(0.001), "0.1%"},
		{msLabel(2000), "2 s"},
		{join([]string{"a", "b", "c"}), "a, b and c"},
	} {
		if tt.got != tt.want {
			t.Errorf("%q, want %q", tt.got, tt.want)
		}
	}
}

func TestFleet(t *testing.T) {
	res := &reports.Results{Spec: &scenarios.Scenario{Topology: scenarios.World{Regions: 3, ZonesPerRegion: 2, NodesPerZone: 10}}}
	f := newFleet(res)
	for _, tt := range []struct {
		inner, outer string
		want         int
	}{
		{"node", "zone", 10},
		{"node", "region", 20},
		{"node", "global", 60},
		{"zone", "region", 2},
		{"region", "global", 3},
		{"region", "node", 0},
	} {
		if got := f.within(tt.inner, tt.outer); got != tt.want {
			t.Errorf("%ss per %s: %d, want %d", tt.inner, tt.outer, got, tt.want)
		}
	}
	if got := newFleet(&reports.Results{}).within("node", "region"); got != 0 {
		t.Errorf("unknown fleet: %d nodes per region, want 0", got)
	}
	if got := perUnit(3, f, "region"); got != " (one per region)" {
		t.Errorf("perUnit(3, region) = %q", got)
	}
	if got := perUnit(4, f, "region"); got != "" {
		t.Errorf("perUnit(4, region) = %q", got)
	}
}

func TestTimeAxis(t *testing.T) {
	spec := &scenarios.Scenario{Duration: scenarios.Duration(5e9)}
	series := func(active ...int) *reports.Series {
		s := &reports.Series{StepMs: 5, Requests: make([]uint64, 1000)}
		for _, i := range active {
			s.Requests[i] = 1
		}
		return s
	}
	tests := []struct {
		name             string
		runs             []reports.Run
		start, end, unit float64
	}{
		{"a burst at 1 s is shown from shortly before it", []reports.Run{{Series: series(200, 219)}}, 990, 1110, 1},
		{"activity over the whole run keeps it all", []reports.Run{{Series: series(10, 990)}}, 0, 5000, 1e-3},
		{"nothing at all: the whole run", []reports.Run{{Series: series()}}, 0, 5000, 1e-3},
		{"no series", []reports.Run{{}}, 0, 5000, 1e-3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ta := newTimeAxis(&reports.Results{Spec: spec, Runs: tt.runs})
			if ta.startMs != tt.start || ta.endMs != tt.end || ta.perMs != tt.unit {
				t.Errorf("span [%v, %v] ms in units of %v ms, want [%v, %v] in %v", ta.startMs, ta.endMs, 1/ta.perMs, tt.start, tt.end, 1/tt.unit)
			}
		})
	}
}

func TestFaults(t *testing.T) {
	for _, tt := range []struct {
		f    scenarios.Fault
		want string
	}{
		{scenarios.Fault{Kind: "store-outage", Scope: "region", Region: 1}, "store-outage of region r1's store"},
		{scenarios.Fault{Kind: "store-slowdown", Scope: "zone", Region: 2, Zone: 1}, "store-slowdown of zone r2/z1's store"},
		{scenarios.Fault{Kind: "store-outage", Scope: "global"}, "store-outage of the global store"},
		{scenarios.Fault{Kind: "node-pause", Node: "r0/z0/n0"}, "node-pause of r0/z0/n0"},
		{scenarios.Fault{Kind: "partition", Node: "r0/z1/n2", Scope: "region"}, "partition of r0/z1/n2 from its region store"},
		{scenarios.Fault{Kind: "upstream-errors"}, "upstream-errors"},
	} {
		if got := describeFault(tt.f); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.f, got, tt.want)
		}
	}

	// A fault is shaded in every time series, named in the notes, and its
	// span is shown even where nothing else happened.
	res := loadFixture(t, "flash-crowd.json.gz")
	res.Spec.Faults = []scenarios.Fault{{Kind: "store-outage", Scope: "region", Region: 1, At: scenarios.Duration(3e9), For: scenarios.Duration(1e9)}}
	in := newInput(res)
	if in.time.endMs < 4000 {
		t.Errorf("time axis ends at %v ms, before the fault does (4,000 ms)", in.time.endMs)
	}
	for _, b := range []builder{upstreamFigure, contendersFigure, storeLoadFigure} {
		f, err := b(in)
		if err != nil {
			t.Fatal(err)
		}
		if want := "Shaded: store-outage of region r1's store from 3,000 ms to 4,000 ms."; !strings.Contains(f.note, want) {
			t.Errorf("%s: note %q does not say %q", f.name, f.note, want)
		}
		if last := f.legend[len(f.legend)-1]; last.fill != faultShade {
			t.Errorf("%s: the legend's last entry is %q, not the shading", f.name, last.label)
		}
	}
}

// TestPointsDecimated checks that a long series is drawn from at most two
// points a column, its one-sample peak kept, and a short one as a level
// per step.
func TestPointsDecimated(t *testing.T) {
	ta := timeAxis{startMs: 0, endMs: 100000, durationMs: 100000, perMs: 1e-3}
	long := make([]float64, 100000)
	long[54321] = 7
	pts := ta.points(long, 1, columns, linear.at)
	if len(pts) > 2*columns {
		t.Errorf("100,000 samples drawn as %d points, want at most %d", len(pts), 2*columns)
	}
	top := 0.0
	for _, p := range pts {
		top = math.Max(top, p.Y)
	}
	if top != 7 {
		t.Errorf("the one-sample peak of 7 is drawn as %v", top)
	}
	short := ta.points([]float64{3}, 1000, columns, linear.at)
	if len(short) != 2 || short[0].X != 0 || short[1].X != 1 || short[0].Y != 3 || short[1].Y != 3 {
		t.Errorf("one sample of a 1 s step drawn as %v, want a level from 0 to 1 s", short)
	}
}

func TestWrap(t *testing.T) {
	sty := textStyle(noteSize, ink)
	text := "Not shown: node-only (to 11.0 s), one-level (to 10.4 s), two-level (to 10.4 s) and fanout-tree (to 10.7 s)."
	for w := 60.0; w < 400; w += 7 {
		lines := wrap(sty, text, vg.Points(w))
		if got := strings.Join(lines, " "); got != text {
			t.Fatalf("width %v: lines %q do not rejoin into the text", w, lines)
		}
		for _, l := range lines {
			if strings.HasPrefix(l, "s") && !strings.HasPrefix(l, "shown") {
				t.Errorf("width %v: a line starts with a unit: %q", w, l)
			}
		}
	}
}

func TestSpanNoteCoarsened(t *testing.T) {
	res := loadFixture(t, "flash-crowd.json.gz")
	res.Runs[0].Series.Coarsened = 2
	res.Runs[0].Series.StepMs = 20
	in := newInput(res)
	want := "Series longer than 100,000 samples were coarsened to wider steps (none to 20 ms)"
	if got := in.spanNote(in.runs); !strings.Contains(got, want) {
		t.Errorf("note %q does not say %q", got, want)
	}
}
