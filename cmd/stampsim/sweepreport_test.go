package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stampsim/stampsim/internal/dirtest"
	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/reports/page"
)

// A built-in sweep at its small size writes its rows, its fits, a figure
// of each metric its figures block names (drawn for real, PNG and SVG)
// and a page that shows them; the exponents follow the two-level lock's
// laws.
func TestSweepFigures(t *testing.T) {
	dir := t.TempDir()
	args := slices.DeleteFunc(append([]string(nil), smallSweep...), func(s string) bool { return s == "--no-plots" })
	code, out, errs := exec(t, newApp(nil, nil), context.Background(), append(args, "--out", dir)...)
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if want := "6 runs in " + dir + ": sweep.json, rows.csv, fits.csv; index.html and 5 figures\n"; !strings.Contains(out, want) {
		t.Errorf("printed\n%s\nwant it to say %q", out, want)
	}
	page, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"peak-contenders-node", "peak-contenders-shared", "store-ops", "upstream-calls", "latency-p99-ms"} {
		for _, ext := range []string{".png", ".svg"} {
			st, err := os.Stat(filepath.Join(dir, "scaling-"+m+ext))
			if err != nil || st.Size() < 1000 {
				t.Errorf("scaling-%s%s: %v", m, ext, err)
			}
		}
		if !strings.Contains(string(page), `<img src="scaling-`+m+`.png"`) {
			t.Errorf("the page does not show scaling-%s.png", m)
		}
	}
	for _, want := range []string{"Complete: all 6 runs finished.", "two-level: shared-lock contenders grow as requests^0.00 (flat at 20, the nodes per region)",
		`<tr><td>peak_contenders_shared</td><td>two-level</td>`} {
		if !strings.Contains(strings.ToLower(string(page)), strings.ToLower(want)) {
			t.Errorf("the page does not say %q", want)
		}
	}
	doc := readSweep(t, dir)
	for _, f := range doc.Fits {
		if f.Topology == "two-level" && f.Metric == "peak_contenders_shared" && (f.Exponent == nil || math.Abs(*f.Exponent) > 0.05) {
			t.Errorf("two-level's shared contenders grow as requests^%v, want 0 within 0.05", f.Exponent)
		}
	}
}

func readSweep(t *testing.T, dir string) *reports.SweepResults {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "sweep.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := reports.ReadSweepJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// fakeDraw stands in for the figures: a file per metric the figures
// block names, holding the number of rows, so that a redraw from the
// same document is the same bytes and one from other rows is not.
func fakeDraw(dir string, doc *reports.SweepResults) ([]page.Figure, error) {
	var figs []page.Figure
	for _, m := range reports.FigureMetrics(doc.Spec) {
		name := "scaling-" + m + ".svg"
		data := fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg"><text>%s: %d rows</text></svg>`, m, len(doc.Rows))
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			return nil, err
		}
		figs = append(figs, page.Figure{Name: "scaling-" + m, Title: m, Caption: "drawn", Files: []string{name}})
	}
	return figs, nil
}

// stampsim sweep report draws the figures and page of a sweep's
// directory again, the same bytes; --no-plots leaves them out; what is
// not a sweep's directory or document is bad input.
func TestSweepReport(t *testing.T) {
	dir := t.TempDir()
	a := newApp(nil, nil)
	a.drawSweep = fakeDraw
	args := slices.DeleteFunc(append([]string(nil), smallSweep...), func(s string) bool { return s == "--no-plots" })
	if code, _, errs := exec(t, a, context.Background(), append(args, "--out", dir)...); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	first := dirtest.Files(t, dir)
	if len(first) != 4+5 {
		t.Fatalf("%d files, want the 3 data files, index.html and 5 figures", len(first))
	}
	for _, arg := range []string{dir, filepath.Join(dir, "sweep.json")} {
		for _, name := range []string{"index.html", "scaling-upstream_calls.svg"} {
			os.Remove(filepath.Join(dir, name))
		}
		a := newApp(nil, nil)
		a.drawSweep = fakeDraw
		code, out, errs := exec(t, a, context.Background(), "sweep", "report", arg)
		if code != 0 || out != "sweep requests: index.html and 5 figures in "+dir+"\n" {
			t.Fatalf("report %s: exit %d, printed %q, stderr %s", arg, code, out, errs)
		}
		dirtest.Same(t, "redrawn from "+arg, dirtest.Files(t, dir), first)
	}
	// stampsim report takes a sweep's directory too, and --out writes
	// everything the page links to elsewhere, the same bytes.
	for _, args := range [][]string{{"report", dir}, {"report", filepath.Join(dir, "sweep.json")}} {
		a := newApp(nil, nil)
		a.drawSweep = fakeDraw
		if code, out, errs := exec(t, a, context.Background(), args...); code != 0 || out != "sweep requests: index.html and 5 figures in "+dir+"\n" {
			t.Fatalf("%v: exit %d, printed %q, stderr %s", args, code, out, errs)
		}
		dirtest.Same(t, fmt.Sprint(args), dirtest.Files(t, dir), first)
	}
	elsewhere := filepath.Join(t.TempDir(), "copy")
	b := newApp(nil, nil)
	b.drawSweep = fakeDraw
	if code, _, errs := exec(t, b, context.Background(), "sweep", "report", dir, "--out", elsewhere); code != 0 {
		t.Fatalf("--out: exit %d: %s", code, errs)
	}
	dirtest.Same(t, "written with --out elsewhere", dirtest.Files(t, elsewhere), first)
	if code, out, _ := exec(t, a, context.Background(), "sweep", "report", dir, "--no-plots"); code != 0 || out != "sweep requests: index.html in "+dir+"\n" {
		t.Errorf("--no-plots: exit %d, printed %q", code, out)
	}
	if page, _ := os.ReadFile(filepath.Join(dir, "index.html")); !strings.Contains(string(page), "Figures were skipped (--no-plots)") {
		t.Error("the page of --no-plots does not say the figures were skipped")
	}

	notJSON := filepath.Join(t.TempDir(), "sweep.json")
	os.WriteFile(notJSON, []byte("{"), 0o644)
	empty := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sweep", "report", empty}, "holds no sweep.json (stampsim sweep SWEEP --out " + empty + " writes one)"},
		{[]string{"report", empty}, "holds no results.json (stampsim run --out " + empty + " writes one) and no sweep.json"},
		{[]string{"sweep", "report", filepath.Join(empty, "nope.json")}, "no sweep document or directory"},
		{[]string{"sweep", "report", notJSON}, notJSON + ": reading a sweep document"},
		{[]string{"sweep", "report"}, "want 1 argument"},
	} {
		code, _, errs := exec(t, newApp(nil, nil), context.Background(), tc.args...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2, %q", tc.args, code, errs, tc.want)
		}
	}
}

// A figures block that names no metric is refused before anything runs,
// at its line.
func TestSweepBadFigureMetric(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "bad.yaml")
	os.WriteFile(file, []byte("base: {builtin: flash-crowd}\naxes:\n  - {path: topology.regions, values: [1, 2], scale: log}\nfigures:\n  metrics: [upstream_cals]\n"), 0o644)
	code, _, errs := exec(t, newApp(nil, nil), context.Background(), "sweep", file, "--out", filepath.Join(dir, "out"))
	if want := "stampsim: " + file + ":5: figures.metrics[0]: no metric \"upstream_cals\" (did you mean upstream_calls?)\n"; code != 2 || errs != want {
		t.Errorf("exit %d, stderr %q; want 2, %q", code, errs, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Error("the output directory was made: something ran")
	}
}
