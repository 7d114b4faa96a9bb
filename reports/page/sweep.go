package page

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/stampsim/stampsim/reports"
)

// SweepPage is what a sweep's index.html shows.
type SweepPage struct {
	// Doc is the sweep document. Required.
	Doc *reports.SweepResults
	// Figures are shown in order.
	Figures []Figure
	// NoFigures says why there are no figures, when Figures is empty;
	// the page shows it in their place.
	NoFigures string
	// Files are the data files beside the page that it links to
	// ("sweep.json", "rows.csv", "fits.csv").
	Files []string
	// Resume is the command that finishes an incomplete sweep, for its
	// status line; empty to say only that --resume does.
	Resume string
}

//go:embed sweep.html.tmpl
var sweepTemplate string

var sweepTmpl = parse("sweep", sweepTemplate)

// sweepView is what the sweep's template is given: everything computed
// here, so that the template only lays it out.
type sweepView struct {
	Title, Description  string
	Status, StatusClass string
	Seed                uint64
	Size                string
	Repeats             string
	Topologies          string
	Version, Commit, Go string
	Axes                []axisView
	Fits                []fitView
	FitsNote            string
	YAML                string
	Figures             []figureView
	NoFigures           string
	Files               []string
}

type axisView struct {
	Path, Scale, Values string
	Drawn               bool
}

type fitView struct {
	Metric, Topology, At, Exponent, Coefficient, R2, Points, Note string
}

// RenderSweep writes a sweep's page as HTML to w. It refuses a figure
// without files, or whose files are not relative paths inside the page's
// directory, as Render does; the error names the figure and the file.
func RenderSweep(w io.Writer, p SweepPage) error {
	v, err := newSweepView(p)
	if err != nil {
		return err
	}
	if err := sweepTmpl.Execute(w, v); err != nil {
		return fmt.Errorf("writing the page of sweep %q: %w", p.Doc.Sweep, err)
	}
	return nil
}

func newSweepView(p SweepPage) (*sweepView, error) {
	doc := p.Doc
	if doc == nil || doc.Spec == nil {
		return nil, fmt.Errorf("sweep page: no sweep document")
	}
	spec := doc.Spec
	v := &sweepView{
		Title: "stampsim sweep: " + doc.Sweep, Description: spec.Description,
		Seed: doc.Seed, Size: doc.Size, Repeats: plural(spec.Repeats, "repeat"), Topologies: strings.Join(spec.Topologies, ", "),
		Version: orUnknown(doc.Version), Commit: orUnknown(doc.Commit), Go: orUnknown(doc.GoVersion),
		NoFigures: p.NoFigures,
	}
	v.Status, v.StatusClass = sweepStatus(p)
	drawn, _ := spec.FigureAxis()
	for k, a := range spec.Axes {
		v.Axes = append(v.Axes, axisView{Path: a.Path, Scale: string(a.Scale), Values: strings.Join(a.Values, ", "), Drawn: k == drawn})
	}
	v.Fits, v.FitsNote = fits(doc)
	y, err := specYAML(doc)
	if err != nil {
		return nil, err
	}
	v.YAML = y
	if v.Files, v.Figures, err = filesAndFigures("sweep page", p.Files, p.Figures); err != nil {
		return nil, err
	}
	return v, nil
}

// sweepStatus says whether every run finished, and what to do if not.
func sweepStatus(p SweepPage) (text, class string) {
	doc := p.Doc
	switch {
	case doc.Shard != nil:
		return fmt.Sprintf("Shard %d of %d (counted from 0): %d runs. The fits and figures need every point: merge the shards' directories with stampsim sweep merge.",
			doc.Shard.Index, doc.Shard.Count, len(doc.Rows)), "incomplete"
	case !doc.Complete:
		resume := "--resume runs the rest"
		if p.Resume != "" {
			resume = p.Resume + " runs the rest"
		}
		return fmt.Sprintf("Incomplete: the sweep was stopped with %d runs finished; no power law is fitted until every run has. %s.", len(doc.Rows), resume), "incomplete"
	}
	return fmt.Sprintf("Complete: all %d runs finished.", len(doc.Rows)), "complete"
}

// fits are the fits of the metrics the figures draw, in the document's
// order; the note says where the rest are.
func fits(doc *reports.SweepResults) ([]fitView, string) {
	if len(doc.Fits) == 0 {
		return nil, ""
	}
	metrics := reports.FigureMetrics(doc.Spec)
	var out []fitView
	for _, m := range metrics {
		for _, f := range doc.Fits {
			if f.Metric == m {
				out = append(out, newFitView(f))
			}
		}
	}
	return out, fmt.Sprintf("The fits of the %d metrics drawn, of %d in all: fits.csv has every metric against every log axis.", len(metrics), len(doc.Metrics))
}

// newFitView writes the numbers of a fit for the table.
func newFitView(f reports.Fit) fitView {
	fv := fitView{Metric: f.Metric, Topology: f.Topology, Exponent: "–", Coefficient: "–", R2: "–",
		Points: fmt.Sprint(f.Points), Note: f.Note}
	var at []string
	for _, p := range f.At {
		at = append(at, p.Path+"="+p.Value)
	}
	fv.At = strings.Join(at, ", ")
	if f.Exponent != nil {
		fv.Exponent = fmt.Sprintf("%.3f", *f.Exponent)
	}
	if f.Coefficient != nil {
		fv.Coefficient = fmt.Sprintf("%.4g", *f.Coefficient)
	}
	if f.R2 != nil {
		fv.R2 = fmt.Sprintf("%.3f", *f.R2)
	}
	if f.Zeros > 0 {
		fv.Points = fmt.Sprintf("%d of %d", f.Points, f.Points+f.Zeros)
	}
	return fv
}

// specYAML writes the sweep as it ran (its base scenario whole) as YAML,
// in the order and with the names of the document's sweep_spec.
func specYAML(doc *reports.SweepResults) (string, error) {
	data, err := json.Marshal(doc.Spec)
	if err != nil {
		return "", fmt.Errorf("sweep page: the sweep %q as JSON: %w", doc.Sweep, err)
	}
	// JSON is YAML: decoding it as a node keeps the fields' order; the
	// styles are cleared so that it is written in block style, unquoted
	// where it can be.
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return "", fmt.Errorf("sweep page: the sweep %q as YAML: %w", doc.Sweep, err)
	}
	plain(&n)
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return "", fmt.Errorf("sweep page: the sweep %q as YAML: %w", doc.Sweep, err)
	}
	if err := enc.Close(); err != nil {
		return "", fmt.Errorf("sweep page: the sweep %q as YAML: %w", doc.Sweep, err)
	}
	return b.String(), nil
}

// plain clears the styles of n and the nodes under it.
func plain(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		plain(c)
	}
}

// plural writes n things: "1 repeat", "3 repeats".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
