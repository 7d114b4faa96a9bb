package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/stampsim/stampsim/internal/atomicfile"
	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/reports/page"
	"github.com/stampsim/stampsim/reports/plot"
	"github.com/stampsim/stampsim/sweeps/runner"
)

// PageFile is the sweep's page in its output directory.
const pageFile = "index.html"

// sweepDrawFunc draws the scaling figures of a sweep document into dir
// and says what it drew: plot.WriteSweep glued to the page's figures, or
// a stand-in in tests.
type sweepDrawFunc func(dir string, doc *reports.SweepResults) ([]page.Figure, error)

// plotSweep draws the scaling figures of doc into dir with reports/plot,
// and describes them for the page: the two packages know nothing of each
// other.
func plotSweep(dir string, doc *reports.SweepResults) ([]page.Figure, error) {
	figs, err := plot.WriteSweep(dir, doc)
	if err != nil {
		return nil, err
	}
	return pageFigures(figs), nil
}

// sweepFigures says whether writeSweepReport draws the figures, and if
// not, why.
type sweepFigures int

const (
	drawSweepFigures sweepFigures = iota
	// noSweepPlots: --no-plots asked for none.
	noSweepPlots
	// interruptedSweep: a signal stopped the sweep, which must end within
	// a second, and its rows are not all in.
	interruptedSweep
)

// writeSweepReport draws the scaling figures of doc into dir as figs says
// (none for one shard's document: they need every point) and writes
// DIR/index.html, which shows them with the sweep, its fits and its data
// files. resume is the command that finishes an incomplete sweep, for its
// page. It returns what it wrote, for the summary: "index.html and 5
// figures".
func (a *app) writeSweepReport(dir string, doc *reports.SweepResults, figs sweepFigures, resume string) (string, error) {
	p := page.SweepPage{Doc: doc, Resume: resume}
	for _, f := range []string{runner.DocumentFile, runner.RowsFile, runner.FitsFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			p.Files = append(p.Files, f)
		}
	}
	// The page names no path: a sweep merged from shards writes the same
	// bytes as one run whole into another directory.
	later := "stampsim report on this directory draws them from " + runner.DocumentFile + "."
	switch {
	case doc.Shard != nil:
		p.NoFigures = "One shard's rows are not the whole sweep: stampsim sweep merge draws the figures of the shards merged."
	case figs == noSweepPlots:
		p.NoFigures = "Figures were skipped (--no-plots): " + later
	case figs == interruptedSweep:
		p.NoFigures = "Figures were not drawn, so that the interrupted sweep could stop at once: --resume draws them once every run is in; " + later
	case a.drawSweep == nil:
		p.NoFigures = "No figures were drawn."
	default:
		drawn, err := a.drawSweep(dir, doc)
		if err != nil {
			return "", fmt.Errorf("drawing the figures of sweep %s into %s: %w", doc.Sweep, dir, err)
		}
		p.Figures = drawn
		if len(drawn) == 0 {
			p.NoFigures = "No figures: the sweep has no numeric axis to draw its metrics against, or no rows."
		}
	}
	if err := atomicfile.Write(filepath.Join(dir, pageFile), func(w io.Writer) error { return page.RenderSweep(w, p) }); err != nil {
		return "", err
	}
	if len(p.Figures) == 0 {
		return pageFile, nil
	}
	return fmt.Sprintf("%s and %s", pageFile, plural(len(p.Figures), "figure")), nil
}

// whichSweepFigures is drawSweepFigures, or noSweepPlots if --no-plots
// says so.
func whichSweepFigures(noPlots bool) sweepFigures {
	if noPlots {
		return noSweepPlots
	}
	return drawSweepFigures
}

func (a *app) sweepReportCommand() *cobra.Command {
	var out string
	var noPlots bool
	cmd := &cobra.Command{
		Use:   "report DIR|SWEEP.json",
		Short: "Draw a sweep's figures and index.html again from its sweep.json, without running anything",
		Long: `Read a sweep document (DIR/sweep.json, or the .json file given) and write
its scaling figures and its page, index.html, again, without running
anything: after a sweep with --no-plots, after an interrupted one (its
figures then have the rows so far, and no fits), or with a newer stampsim's
figures. 'stampsim report DIR' does the same for a sweep's directory.

They are written beside the document, or into the directory --out names
(with a copy of the document, rows.csv and fits.csv, so that the directory
has everything the page links to). The same document gives the same files.`,
		Args: exactArgs(1, "a sweep's output directory or its sweep.json"),
		RunE: func(_ *cobra.Command, args []string) error {
			return a.sweepReport(args[0], out, noPlots)
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "write into this directory (default: the document's own)")
	cmd.Flags().BoolVar(&noPlots, "no-plots", false, "draw no figures (the page says they were skipped)")
	_ = cmd.MarkFlagDirname("out")
	return cmd
}

// sweepReport redraws the report of the sweep document at arg (a
// directory holding sweep.json, or the document itself) into out, or
// beside the document when out is empty. A path that does not lead to a
// readable sweep document is bad input (exit status 2).
func (a *app) sweepReport(arg, out string, noPlots bool) error {
	path := arg
	if st, err := os.Stat(arg); err == nil && st.IsDir() {
		path = filepath.Join(arg, runner.DocumentFile)
	}
	data, err := os.ReadFile(path)
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist) && path != arg:
		return usagef("%s holds no %s (stampsim sweep SWEEP --out %s writes one)", arg, runner.DocumentFile, arg)
	case errors.Is(err, fs.ErrNotExist):
		return usagef("no sweep document or directory %s", arg)
	case errors.As(err, &pe):
		return usagef("cannot read sweep document %s: %v", path, pe.Err)
	case err != nil:
		return err
	}
	doc, err := reports.ReadSweepJSON(bytes.NewReader(data))
	if err != nil {
		return usagef("%s: %v", path, err)
	}
	if err := reports.CheckFigures(doc.Spec); err != nil {
		return usagef("%s: %v", path, err)
	}
	dir := out
	if dir == "" {
		dir = filepath.Dir(path)
	}
	if err := makeOutDir(dir); err != nil {
		return err
	}
	if !sameDir(filepath.Dir(path), dir) {
		// The page links the document and the CSV files beside it: the
		// files of the document, as the sweep wrote them (the document
		// encodes to the bytes it was read from).
		if err := runner.WriteFiles(dir, doc); err != nil {
			return err
		}
	}
	what, err := a.writeSweepReport(dir, doc, whichSweepFigures(noPlots), "")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(a.stdout, "sweep %s: %s in %s\n", doc.Sweep, what, dir)
	return err
}
