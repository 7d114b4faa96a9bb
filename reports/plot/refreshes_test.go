package plot

import (
	"slices"
	"strings"
	"testing"

	"github.com/stampsim/stampsim/reports"
)

func TestRefreshesFigure(t *testing.T) {
	swr := func(edit func(rf *reports.Refreshes)) *reports.Results {
		res := loadFixture(t, "swr-steady-day.json.gz")
		if edit != nil {
			edit(res.Runs[1].Refreshes)
		}
		return res
	}
	for _, tt := range []struct {
		name    string
		res     *reports.Results
		legend  []string
		caption []string
	}{
		{"stale-while-revalidate", swr(nil), []string{"refreshed", "superseded", "failed"}, []string{
			"Background refreshes started per topology and how they ended: two-level started none; " +
				"two-level-swr started 6,658: 498 called the upstream (refreshed, 7.5%), 6,160 found a shared cache already fresh (superseded, 93%) and none failed.",
		}},
		{"some still running at the end, some failed", swr(func(rf *reports.Refreshes) { rf.Refreshed, rf.Failed = 400, 8 }),
			[]string{"refreshed", "superseded", "failed", "still running at the end"}, []string{
				"two-level-swr started 6,658: 400 called the upstream (refreshed, 6.0%), 6,160 found a shared cache already fresh (superseded, 93%), 8 failed (failed, 0.1%) and 90 still running at the end (1.4%).",
			}},
		{"XFetch's early refreshes", swr(func(rf *reports.Refreshes) { rf.Early, rf.EarlyReads = 618, 64 }),
			[]string{"refreshed", "superseded", "failed"}, []string{
				"two-level-swr started 6,658 (618 by an XFetch draw at a node cache; 64 shared reads found their value due early): 498 called",
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := newInput(tt.res)
			f, err := refreshesFigure(in)
			if err != nil || f == nil {
				t.Fatalf("figure %v, error %v", f, err)
			}
			var labels []string
			for _, e := range f.legend {
				labels = append(labels, e.label)
			}
			if !slices.Equal(labels, tt.legend) {
				t.Errorf("legend %q, want %q", labels, tt.legend)
			}
			for _, w := range tt.caption {
				if !strings.Contains(f.caption, w) {
					t.Errorf("caption %q does not say %q", f.caption, w)
				}
			}
			// A bar per topology, the first on top.
			y := f.rows[0][0].Y
			var rows []string
			for _, tk := range y.Tick.Marker.Ticks(y.Min, y.Max) {
				rows = append(rows, tk.Label)
			}
			if want := []string{"two-level-swr", "two-level"}; !slices.Equal(rows, want) {
				t.Errorf("bars %q from the bottom, want %q", rows, want)
			}
			checkSVG(t, writeSVG(t, t.TempDir(), f), figureWidth.Points(), f.height.Points())
		})
	}
}

// TestRefreshesNone checks that a document without background refreshes
// gets no refreshes figure: none is better than an empty one.
func TestRefreshesNone(t *testing.T) {
	zeroed := loadFixture(t, "swr-steady-day.json.gz")
	for i := range zeroed.Runs {
		zeroed.Runs[i].Refreshes = &reports.Refreshes{}
	}
	for name, res := range map[string]*reports.Results{
		"flash-crowd": loadFixture(t, "flash-crowd.json.gz"),
		"v1":          loadFixture(t, "flash-crowd.v1.json"),
		"all zero":    zeroed,
		"no runs":     {},
	} {
		if f, err := refreshesFigure(newInput(res)); f != nil || err != nil {
			t.Errorf("%s: figure %v, error %v; want none", name, f, err)
		}
	}
}

func TestRunning(t *testing.T) {
	for _, tt := range []struct {
		rf   reports.Refreshes
		want uint64
	}{
		{reports.Refreshes{Started: 10, Refreshed: 4, Superseded: 3, Failed: 1}, 2},
		{reports.Refreshes{Started: 10, Refreshed: 10}, 0},
		// More ended than started (a document that does not add up): none
		// is running, rather than an underflow.
		{reports.Refreshes{Started: 1, Refreshed: 2}, 0},
	} {
		if got := running(&tt.rf); got != tt.want {
			t.Errorf("running(%+v) = %d, want %d", tt.rf, got, tt.want)
		}
	}
}
