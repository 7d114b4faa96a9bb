package plot

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stampsim/stampsim/reports"
)

// kindsNamed are the served kinds of the names given, in stacking order.
func kindsNamed(t *testing.T, names ...string) []servedKind {
	t.Helper()
	var out []servedKind
	for _, k := range servedKinds {
		if slices.Contains(names, k.name) {
			out = append(out, k)
		}
	}
	if len(out) != len(names) {
		t.Fatalf("kinds %v: found %d", names, len(out))
	}
	return out
}

func TestStacked(t *testing.T) {
	tests := []struct {
		name   string
		served reports.ServedSeries
		kinds  []string
		k      int
		want   [][]float64 // bottom layer first, replies per second
	}{
		{"a step a bin", reports.ServedSeries{Hit: []uint64{1, 2, 3, 4}, Fetched: []uint64{1, 0, 0, 1}}, []string{"hit", "fetched"}, 1,
			[][]float64{{100, 0, 0, 100}, {200, 200, 300, 500}}},
		{"two steps a bin", reports.ServedSeries{Hit: []uint64{1, 2, 3, 4}, Fetched: []uint64{1, 0, 0, 1}}, []string{"hit", "fetched"}, 2,
			[][]float64{{50, 50}, {200, 400}}},
		{"a last bin of fewer steps is a rate over those", reports.ServedSeries{Hit: []uint64{1, 2, 3, 4}, Fetched: []uint64{1, 0, 0, 1}}, []string{"hit", "fetched"}, 3,
			[][]float64{{1000.0 / 30, 100}, {7000.0 / 30, 500}}},
		{"a shorter kind counts nothing where it has no steps", reports.ServedSeries{Hit: []uint64{1, 1, 1}, Collapsed: []uint64{2}}, []string{"hit", "collapsed"}, 1,
			[][]float64{{200, 0, 0}, {300, 100, 100}}},
		{"revalidating sits between hits and waits", reports.ServedSeries{Hit: []uint64{1}, Revalidating: []uint64{2}, Collapsed: []uint64{3}}, []string{"hit", "revalidating", "collapsed"}, 1,
			[][]float64{{300}, {500}, {600}}},
		{"one kind, one step", reports.ServedSeries{Error: []uint64{7}}, []string{"error"}, 4, [][]float64{{700}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &reports.Run{Series: &reports.Series{StepMs: 10, Requests: []uint64{0}, Served: tt.served}}
			got := stacked(r, kindsNamed(t, tt.kinds...), tt.k)
			if len(got) != len(tt.want) {
				t.Fatalf("%d layers, want %d", len(got), len(tt.want))
			}
			for j := range got {
				if len(got[j]) != len(tt.want[j]) {
					t.Fatalf("layer %d: %v, want %v", j, got[j], tt.want[j])
				}
				for i := range got[j] {
					if math.Abs(got[j][i]-tt.want[j][i]) > 1e-9 {
						t.Errorf("layer %d: %v, want %v", j, got[j], tt.want[j])
						break
					}
				}
			}
		})
	}
}

// TestStackedKeepsEveryReply bins a real run's series every way and wants
// the top of the stack, integrated over time, to be every reply counted,
// and each layer to lie on or above the one below.
func TestStackedKeepsEveryReply(t *testing.T) {
	res := loadFixture(t, "swr-steady-day.json.gz")
	for _, r := range res.Runs {
		s := r.Series
		kinds, _ := drawnKinds([]*reports.Run{&r})
		var replies uint64
		for _, k := range kinds {
			replies += sum(k.series(&s.Served))
		}
		if replies != totalServed(&r) {
			t.Fatalf("%s: the series count %d replies, the run %d", r.Topology, replies, totalServed(&r))
		}
		n := len(s.Served.Hit)
		for _, k := range []int{1, 2, 3, 4, 7, 250, n} {
			tops := stacked(&r, kinds, k)
			area := 0.0
			for b, v := range tops[len(tops)-1] {
				steps := min(n, (b+1)*k) - b*k
				area += v * float64(steps) * stepMs(s) / 1000
			}
			if math.Abs(area-float64(replies)) > 1e-6*float64(replies) {
				t.Errorf("%s in bins of %d steps: the stack holds %.1f replies, want %d", r.Topology, k, area, replies)
			}
			for j := 1; j < len(tops); j++ {
				for b := range tops[j] {
					if tops[j][b] < tops[j-1][b] {
						t.Fatalf("%s, %d steps a bin: layer %d under layer %d in bin %d", r.Topology, k, j, j-1, b)
					}
				}
			}
		}
	}
}

func TestServedFigure(t *testing.T) {
	in := newInput(loadFixture(t, "swr-steady-day.json.gz"))
	f, err := servedFigure(in)
	if err != nil || f == nil {
		t.Fatalf("figure %v, error %v", f, err)
	}
	var labels []string
	for _, e := range f.legend {
		labels = append(labels, e.label)
	}
	// The kinds served, in stacking order; no fault, no shading.
	if want := []string{"hit", "stale while revalidating", "collapsed", "fetched"}; !slices.Equal(labels, want) {
		t.Errorf("legend %q, want %q", labels, want)
	}
	for _, want := range []string{
		"Replies per second in 40 ms bins (4 steps of the series), stacked from the top in the legend's order",
		"stale while revalidating: served at once past its soft TTL while a background refresh ran",
		"Every panel has the same scale.",
		"Not drawn, since no run served any: stale after a timeout, hedged and error.",
	} {
		if !strings.Contains(f.note, want) {
			t.Errorf("note %q does not say %q", f.note, want)
		}
	}
	// A panel per topology, one above the other, each named with its
	// line, on one scale.
	if len(f.rows) != 2 || len(f.rows[0]) != 1 {
		t.Fatalf("panels laid out %d×%d, want 2×1", len(f.rows), len(f.rows[0]))
	}
	for i, r := range in.runs {
		entry := f.panelLegends[i][0][0]
		if want := r.Topology + ": 59,913 replies"; entry.label != want || entry.line == nil || entry.line.Color != in.pal.colours[r.Topology] {
			t.Errorf("panel %d's legend %q (line %v), want %q in the topology's colour", i, entry.label, entry.line, want)
		}
		if top, first := f.rows[i][0].Y.Max, f.rows[0][0].Y.Max; top != first || top <= 0 {
			t.Errorf("panel %d's scale ends at %v, the first's at %v", i, top, first)
		}
	}
}

// TestServedLayout checks the panels' layout: one column for up to three
// topologies, two abreast beyond, an empty cell last when odd.
func TestServedLayout(t *testing.T) {
	for _, tt := range []struct {
		fixture    string
		runs       int
		rows, cols int
	}{
		{"swr-steady-day.json.gz", 1, 1, 1},
		{"flash-crowd.json.gz", 3, 3, 1},
		{"flash-crowd.json.gz", 6, 3, 2},
		{"holder-pause.json.gz", 7, 4, 2},
	} {
		res := loadFixture(t, tt.fixture)
		res.Runs = res.Runs[:tt.runs]
		f, err := servedFigure(newInput(res))
		if err != nil {
			t.Fatal(err)
		}
		if len(f.rows) != tt.rows || len(f.rows[0]) != tt.cols {
			t.Errorf("%s, %d runs: %d×%d panels, want %d×%d", tt.fixture, tt.runs, len(f.rows), len(f.rows[0]), tt.rows, tt.cols)
		}
		last := f.rows[len(f.rows)-1]
		if empty := last[len(last)-1] == nil; empty != (tt.runs%tt.cols != 0) {
			t.Errorf("%s, %d runs: the last cell is empty: %v", tt.fixture, tt.runs, empty)
		}
	}
}

func TestServedCaption(t *testing.T) {
	swr := loadFixture(t, "swr-steady-day.json.gz")
	noWaits := loadFixture(t, "swr-steady-day.json.gz")
	for i := range noWaits.Runs {
		s := &noWaits.Runs[i].Served
		s.Hit += s.Collapsed + s.Fetched
		s.Collapsed, s.Fetched = 0, 0
	}
	for _, tt := range []struct {
		name   string
		res    *reports.Results
		want   []string
		absent []string
	}{
		{"stale-while-revalidate", swr, []string{
			"a panel per topology: two-level 57,665 hits (96%), 1,250 collapsed (2.1%) and 998 fetched (1.7%); " +
				"two-level-swr 51,796 hits (86%), 6,722 stale while revalidating (11%), 895 collapsed (1.5%) and 500 fetched (0.8%).",
			"Served stale while a background refresh ran: two-level-swr 6,722 (11% of its replies) from 2,070 ms on.",
			"Replies that waited for an upstream call (collapsed, fetched or hedged): two-level 2,248 (3.8%) and two-level-swr 1,395 (2.3%)",
			"from 2,070 ms on, once stale-while-revalidate had begun to serve: two-level 860 and two-level-swr 8.",
		}, nil},
		{"no stale-while-revalidate", loadFixture(t, "flash-crowd.json.gz"), []string{
			"none 2,899 hits (10%) and 25,069 fetched (90%), and 72,032 requests never answered; node-only",
			"Replies that waited for an upstream call (collapsed, fetched or hedged): none 25,069 (90%), node-only 97,221 (97%)",
		}, []string{"revalidat", "once stale"}},
		{"nothing waited", noWaits, []string{"No reply waited for an upstream call."}, []string{"collapsed (", "fetched ("}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := newInput(tt.res)
			got := servedCaption(in, in.servedRuns())
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("caption %q does not say %q", got, w)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(got, a) {
					t.Errorf("caption %q says %q", got, a)
				}
			}
		})
	}
}

// TestServedNone checks the documents that get no served figure: no
// served series (v1), no series, nothing served.
func TestServedNone(t *testing.T) {
	noSeries := loadFixture(t, "swr-steady-day.json.gz")
	for i := range noSeries.Runs {
		noSeries.Runs[i].Series = nil
	}
	silent := loadFixture(t, "swr-steady-day.json.gz")
	for i := range silent.Runs {
		zero(&silent.Runs[i])
	}
	for name, res := range map[string]*reports.Results{
		"v1": loadFixture(t, "flash-crowd.v1.json"), "no series": noSeries, "nothing served": silent,
	} {
		if f, err := servedFigure(newInput(res)); f != nil || err != nil {
			t.Errorf("%s: figure %v, error %v; want none", name, f, err)
		}
	}
}

func TestKindColours(t *testing.T) {
	seen := map[string]string{fmt.Sprint(faultShade): "the fault shading"}
	for _, k := range servedKinds {
		c := fmt.Sprint(k.colour)
		if other, ok := seen[c]; ok {
			t.Errorf("served kind %s has the colour of %s", k.name, other)
		}
		seen[c] = k.name
	}
	outcomes := map[string]string{}
	for _, o := range refreshOutcomes {
		c := fmt.Sprint(o.colour)
		if other, ok := outcomes[c]; ok {
			t.Errorf("refresh outcome %s has the colour of %s", o.label, other)
		}
		outcomes[c] = o.label
	}
	if len(servedKinds) != 7 {
		t.Errorf("%d served kinds, want the 7 of reports.ServedSeries", len(servedKinds))
	}
}

func TestShare(t *testing.T) {
	for _, tt := range []struct {
		n, all uint64
		want   string
	}{
		{0, 0, "0%"}, {0, 10, "0%"}, {5, 5, "100%"}, {1999, 2001, "99.9%"}, {57665, 59913, "96%"},
		{6722, 59913, "11%"}, {1250, 59913, "2.1%"}, {500, 59913, "0.8%"}, {1, 3000, "<0.1%"},
	} {
		if got := share(tt.n, tt.all); got != tt.want {
			t.Errorf("share(%d, %d) = %q, want %q", tt.n, tt.all, got, tt.want)
		}
	}
}

// writeSVG draws f as SVG into dir and returns the file, for checkSVG.
func writeSVG(t *testing.T, dir string, f *figure) string {
	t.Helper()
	data, err := f.renderSVG()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, f.name+".svg")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestServedOutside checks that replies sent outside the time shown are
// counted in the note, since the panel cannot show them: flash-crowd's
// none answers most of its requests one upstream call at a time, to 65 s,
// long after the stampede the time axis follows.
func TestServedOutside(t *testing.T) {
	for _, tt := range []struct {
		name, fixture string
		edit          func(res *reports.Results)
		want          string
	}{
		{"after", "flash-crowd.json.gz", nil,
			"Sent outside the time shown, so not drawn: none 23,931 of its 27,968 replies, after it, to 65.0 s."},
		{"before and after", "flash-crowd.json.gz", func(res *reports.Results) { res.Runs[1].Series.Served.Hit[3] = 4 },
			"node-only 4 of its 100,004 replies, before it."},
		{"one in the drain", "swr-steady-day.json.gz", nil,
			"Sent outside the time shown, so not drawn: two-level 1 of its 59,913 replies, after it, to 10.0 s."},
		{"all shown", "holder-pause.json.gz", nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := loadFixture(t, tt.fixture)
			if tt.edit != nil {
				tt.edit(res)
			}
			f, err := servedFigure(newInput(res))
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "" {
				if strings.Contains(f.note, "outside the time shown") {
					t.Errorf("note %q speaks of replies outside the time shown", f.note)
				}
				return
			}
			if !strings.Contains(f.note, tt.want) {
				t.Errorf("note %q does not say %q", f.note, tt.want)
			}
		})
	}
	in := newInput(loadFixture(t, "flash-crowd.json.gz"))
	f, _ := servedFigure(in)
	if got, want := f.panelLegends[0][0][0].label, "none: 27,968 replies, 72,032 requests never answered"; got != want {
		t.Errorf("none's panel is named %q, want %q", got, want)
	}
}
