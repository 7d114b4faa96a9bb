package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/stampsim/stampsim/internal/atomicfile"
	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/sweeps/runner"
)

type reportFlags struct {
	out     string
	noPlots bool
}

func (a *app) reportCommand() *cobra.Command {
	var f reportFlags
	cmd := &cobra.Command{
		Use:   "report DIR|RESULTS.json|SWEEP.json",
		Short: "Draw the report page and figures again from a results or sweep document, without running anything",
		Long: `Read a results document (DIR/results.json, or the .json file given) and
write its report page (index.html), its figures, series.csv and summary.csv
again, without running anything: after a run with --no-plots, after an
interrupted run, or with a newer stampsim's figures.

A sweep's directory (DIR/sweep.json) or document gets its page, its scaling
figures, rows.csv and fits.csv again ('stampsim sweep report' does the
same).

They are written beside the document, or into the directory --out names
(with a copy of the document, so that the directory has everything the page
links to). The same document gives the same files.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("want one argument, a directory holding results.json or a results document (.json)")
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error {
			return a.report(args[0], f)
		},
	}
	cmd.Flags().StringVar(&f.out, "out", "", "write into this directory (default: the document's own)")
	cmd.Flags().BoolVar(&f.noPlots, "no-plots", false, "draw no figures (the page says they were skipped)")
	_ = cmd.MarkFlagDirname("out")
	return cmd
}

// report writes the report of the results document at arg (a directory
// holding results.json, or the document itself). A path that does not
// lead to a readable results document is bad input (exit status 2).
func (a *app) report(arg string, f reportFlags) error {
	path := arg
	if st, err := os.Stat(arg); err == nil && st.IsDir() {
		path = filepath.Join(arg, "results.json")
		// A sweep's directory holds sweep.json and no results.json.
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			if _, err := os.Stat(filepath.Join(arg, runner.DocumentFile)); err == nil {
				return a.sweepReport(arg, f.out, f.noPlots)
			}
		}
	}
	data, err := os.ReadFile(path)
	if err == nil && isSweepDocument(data) {
		return a.sweepReport(path, f.out, f.noPlots)
	}
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist) && path != arg:
		return usagef("%s holds no results.json (stampsim run --out %s writes one) and no sweep.json (stampsim sweep SWEEP --out %s writes one)", arg, arg, arg)
	case errors.Is(err, fs.ErrNotExist):
		return usagef("no results file or directory %s", arg)
	case errors.As(err, &pe):
		return usagef("cannot read results file %s: %v", path, pe.Err)
	case err != nil:
		return err
	}
	res, err := reports.ReadJSON(bytes.NewReader(data))
	if err != nil {
		return usagef("%s: %v", path, err)
	}
	dir := f.out
	if dir == "" {
		dir = filepath.Dir(path)
	}
	if err := makeOutDir(dir); err != nil {
		return err
	}
	// The page links the document by its name when it is already in the
	// directory, and a copy of it, byte for byte, otherwise.
	doc := filepath.Base(path)
	if !sameDir(filepath.Dir(path), dir) {
		doc = "results.json"
		if err := atomicfile.Write(filepath.Join(dir, doc), func(w io.Writer) error {
			_, err := w.Write(data)
			return err
		}); err != nil {
			return err
		}
	}
	if err := writeDerived(dir, res); err != nil {
		return err
	}
	return a.writeReport(dir, doc, res, whichFigures(f.noPlots))
}

// sameDir reports whether a and b name one directory.
func sameDir(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// isSweepDocument reports whether data is a JSON document of the sweep
// schema, which report writes a sweep's page for.
func isSweepDocument(data []byte) bool {
	var head struct {
		Schema string `json:"schema"`
	}
	return json.Unmarshal(data, &head) == nil && head.Schema == reports.SweepSchema
}
