// Command scalingdoc writes docs/SCALING.md from the output directories of
// the built-in sweeps run at their default size (make scaling-doc runs
// them, then this): each sweep's scaling figures, drawn again from its
// sweep.json with reports/plot and copied as PNG under docs/img/scaling/,
// each with its caption and a table of its fitted exponents, and the
// two-level lock write-up's claims about growth, each checked against
// those exponents and said to hold or not.
//
// It must not run sweeps or fit anything: every number it writes comes
// from the sweep documents it reads, so that the page cannot drift from
// them.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/stampsim/stampsim/internal/atomicfile"
	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/reports/plot"
	"github.com/stampsim/stampsim/sweeps"
)

// order is the order the sweeps are told in: the growth laws first, then
// where the lock without a node level breaks, then the knobs. Built-in
// sweeps not listed come after, by name.
var order = []string{"requests", "nodes-per-region", "regions", "store-service-time", "wait-timeout", "poll"}

func main() {
	in := flag.String("in", "", "the directory holding one output directory per built-in sweep, by its name (required)")
	out := flag.String("out", "docs/SCALING.md", "the page to write")
	img := flag.String("img", "docs/img/scaling", "the directory for the figures, one directory per sweep; the page links them relative to itself")
	generated := flag.String("generated", "", "what the page says made it (the date, the machine)")
	flag.Parse()
	if *in == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: scalingdoc -in DIR [-out docs/SCALING.md] [-img docs/img/scaling] [-generated TEXT]")
		os.Exit(2)
	}
	if err := run(*in, *out, *img, *generated); err != nil {
		fmt.Fprintln(os.Stderr, "scalingdoc:", err)
		os.Exit(1)
	}
}

// run reads every built-in sweep's document under in, draws its figures
// into img and writes the page to out.
func run(in, out, img, generated string) error {
	docs := map[string]*reports.SweepResults{}
	var sections []section
	for _, name := range sweepOrder() {
		doc, err := readDoc(filepath.Join(in, name, "sweep.json"))
		if err != nil {
			return err
		}
		if !doc.Complete || doc.Size != sweeps.SizeDefault || doc.Shard != nil {
			return fmt.Errorf("%s: want the whole sweep %s, complete, at its default size (got size %s, complete %v)", filepath.Join(in, name), name, doc.Size, doc.Complete)
		}
		docs[name] = doc
		rel, err := filepath.Rel(filepath.Dir(out), filepath.Join(img, name))
		if err != nil {
			return err
		}
		figs, err := drawPNGs(doc, filepath.Join(img, name))
		if err != nil {
			return err
		}
		sections = append(sections, section{doc: doc, figures: figs, imgDir: filepath.ToSlash(rel)})
	}
	return atomicfile.Write(out, func(w io.Writer) error {
		return writePage(w, sections, judge(docs), generated)
	})
}

// sweepOrder lists the built-in sweeps in the page's order.
func sweepOrder() []string {
	names := slices.Clone(order)
	for _, n := range sweeps.BuiltinNames() {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return slices.DeleteFunc(names, func(n string) bool { return !slices.Contains(sweeps.BuiltinNames(), n) })
}

func readDoc(path string) (*reports.SweepResults, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	doc, err := reports.ReadSweepJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return doc, nil
}

// drawPNGs draws doc's figures and copies their PNGs into dir, which it
// empties first so that no figure of an earlier page is left behind.
func drawPNGs(doc *reports.SweepResults, dir string) ([]plot.Figure, error) {
	tmp, err := os.MkdirTemp("", "scalingdoc-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	figs, err := plot.WriteSweep(tmp, doc)
	if err != nil {
		return nil, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	for i, f := range figs {
		var kept []string
		for _, file := range f.Files {
			if !strings.HasSuffix(file, ".png") {
				continue
			}
			data, err := os.ReadFile(filepath.Join(tmp, file))
			if err != nil {
				return nil, err
			}
			if err := os.WriteFile(filepath.Join(dir, file), data, 0o644); err != nil {
				return nil, err
			}
			kept = append(kept, file)
		}
		figs[i].Files = kept
	}
	return figs, nil
}
