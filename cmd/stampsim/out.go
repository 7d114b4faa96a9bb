package main

import (
	"fmt"
	"github.com/stampsim/stampsim/internal/atomicfile"
	"io"
	"path/filepath"

	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/reports/page"
	"github.com/stampsim/stampsim/reports/plot"
)

// drawFunc draws the figures of a results document into dir and says what
// it drew: plot.WriteAll glued to the page's figures, or a stand-in in
// tests.
type drawFunc func(dir string, res *reports.Results) ([]page.Figure, error)

// plotFigures draws every figure of res into dir with reports/plot, and
// describes them for the page: the two packages know nothing of each
// other, so that the page can show figures from anywhere and the figures
// can be drawn without a page.
func plotFigures(dir string, res *reports.Results) ([]page.Figure, error) {
	figs, err := plot.WriteAll(dir, res)
	if err != nil {
		return nil, err
	}
	return pageFigures(figs), nil
}

// pageFigures describes figures drawn by reports/plot for the page.
func pageFigures(figs []plot.Figure) []page.Figure {
	out := make([]page.Figure, len(figs))
	for i, f := range figs {
		out[i] = page.Figure{Name: f.Name, Title: f.Title, Caption: f.Caption, Files: f.Files}
	}
	return out
}

// outputFormats are what -o takes.
var outputFormats = []string{"table", "csv", "json"}

// print writes res to stdout as -o asks: the table, the table as CSV, or
// the results document.
func (a *app) print(res *reports.Results, output string) error {
	switch output {
	case "json":
		return reports.WriteJSON(a.stdout, res)
	case "csv":
		return reports.WriteSummaryCSV(a.stdout, res.Runs)
	}
	return reports.WriteTable(a.stdout, res)
}

// writeOut writes DIR/results.json, DIR/series.csv and DIR/summary.csv,
// each atomically, so that an interruption leaves the previous complete
// versions.
func writeOut(dir string, res *reports.Results) error {
	if err := atomicfile.Write(filepath.Join(dir, "results.json"), func(w io.Writer) error {
		return reports.WriteJSON(w, res)
	}); err != nil {
		return err
	}
	return writeDerived(dir, res)
}

// writeDerived writes what is computed from the results document alone:
// DIR/series.csv and DIR/summary.csv.
func writeDerived(dir string, res *reports.Results) error {
	if err := atomicfile.Write(filepath.Join(dir, "series.csv"), func(w io.Writer) error {
		return reports.WriteSeriesCSV(w, res.Runs)
	}); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, "summary.csv"), func(w io.Writer) error {
		return reports.WriteSummaryCSV(w, res.Runs)
	})
}

// figures says whether writeReport draws the figures, and if not, why.
type figures int

const (
	drawFigures figures = iota
	// noPlots: --no-plots asked for none.
	noPlots
	// interruptedRun: a signal stopped the run, which must end within a
	// second; drawing takes longer than that on a large document.
	interruptedRun
)

// whichFigures is drawFigures, or noPlots if --no-plots says so.
func whichFigures(noPlotsFlag bool) figures {
	if noPlotsFlag {
		return noPlots
	}
	return drawFigures
}

// writeReport draws the figures of res into dir as figs says, and writes
// DIR/index.html, which shows them with the summary table and the
// scenario, and links doc (the results document's name in dir), series.csv
// and summary.csv. A page without figures says why and how to draw them.
func (a *app) writeReport(dir, doc string, res *reports.Results, figs figures) error {
	p := page.Page{Results: res, Files: []string{doc, "series.csv", "summary.csv"}}
	later := fmt.Sprintf("stampsim report %s draws them from %s.", dir, doc)
	switch {
	case figs == noPlots:
		p.NoFigures = "Figures were skipped (--no-plots): " + later
	case figs == interruptedRun:
		p.NoFigures = "Figures were not drawn, so that the interrupted run could stop at once: " + later
	case a.draw == nil:
		p.NoFigures = "No figures were drawn."
	default:
		drawn, err := a.draw(dir, res)
		if err != nil {
			return fmt.Errorf("drawing the figures of %s into %s: %w", res.Scenario, dir, err)
		}
		p.Figures = drawn
	}
	return atomicfile.Write(filepath.Join(dir, "index.html"), func(w io.Writer) error {
		return page.Render(w, p)
	})
}
