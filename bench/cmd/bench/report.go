package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/stampsim/stampsim/bench/internal/report"
)

// runReport writes BENCHMARKS.md and its figures from the raw files.
func runReport(args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	results := fs.String("results", "results", "the directory of the raw files")
	doc := fs.String("doc", "../BENCHMARKS.md", "the document written")
	figures := fs.String("figures", "figures", "the directory of its figures")
	ref := fs.String("figures-ref", "bench/figures", "the figures' directory as the document links it")
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return usageError{fmt.Errorf("report: %w", err)}
	}
	if err := report.Write(report.Options{Results: *results, Doc: *doc, Figures: *figures, FiguresRef: *ref}); err != nil {
		return usageError{err}
	}
	return nil
}
