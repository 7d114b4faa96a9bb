// Package page writes a run's report page: one index.html that shows what
// ran (the scenario as YAML, its seed, the stampsim version, whether every
// topology finished), the summary table with a legend of every column, and
// each figure with its title and caption; and a sweep's (RenderSweep):
// what was swept, whether every run finished, the axes, the scaling
// figures and the fitted power laws of the metrics they draw.
//
// The page works offline and can be moved with its directory: its CSS is
// inline, it loads nothing from the network and refers to its figures and
// data files by paths relative to itself. It must not draw figures or
// compute results or fit anything: it lays out a results or sweep document
// and figures that others made (the figures come from package
// reports/plot, glued on by the CLI).
package page

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"path"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/stampsim/stampsim/reports"
)

// Figure is one figure on the page, as package reports/plot describes the
// figures it drew: its name (an anchor on the page), its title, its caption,
// and its files, relative to the page's directory ("funnel.png",
// "funnel.svg"). The page shows the first PNG (or, without one, the first
// SVG) and links every file.
type Figure struct {
	Name, Title, Caption string
	Files                []string
}

// Page is what index.html shows.
type Page struct {
	// Results is the results document of the run. Required.
	Results *reports.Results
	// Figures are shown in order.
	Figures []Figure
	// NoFigures says why there are no figures, when Figures is empty
	// ("figures were skipped (--no-plots)"); the page shows it in their
	// place.
	NoFigures string
	// Files are the data files beside the page that it links to, relative
	// to its directory ("results.json", "series.csv", "summary.csv").
	Files []string
}

//go:embed page.html.tmpl
var pageTemplate string

//go:embed style.html.tmpl
var styleTemplate string

var tmpl = parse("page", pageTemplate)

// parse parses a page's template with the style the pages share.
func parse(name, text string) *template.Template {
	return template.Must(template.Must(template.New(name).Parse(styleTemplate)).Parse(text))
}

// view is what the template is given: everything computed here, so that
// the template only lays it out.
type view struct {
	Title       string
	Description string
	Complete    bool
	Incomplete  string
	Seed        uint64
	Version     string
	Commit      string
	GoVersion   string
	Summary     *reports.Summary
	Numeric     []bool
	YAML        string
	Figures     []figureView
	NoFigures   string
	Files       []string
}

type figureView struct {
	Name, Title, Caption string
	Image                string
	Links                []string
}

// Render writes the page as HTML to w. It refuses a figure without files,
// or whose files are not relative paths inside the page's directory (an
// absolute path, "..", a URL), since such a page would not work offline or
// once moved; the error names the figure and the file.
func Render(w io.Writer, p Page) error {
	v, err := newView(p)
	if err != nil {
		return err
	}
	if err := tmpl.Execute(w, v); err != nil {
		return fmt.Errorf("writing the report page of %q: %w", p.Results.Scenario, err)
	}
	return nil
}

func newView(p Page) (*view, error) {
	res := p.Results
	if res == nil {
		return nil, fmt.Errorf("report page: no results document")
	}
	v := &view{
		Title:     "stampsim: " + res.Scenario,
		Complete:  res.Complete,
		Seed:      res.Seed,
		Version:   orUnknown(res.Version),
		Commit:    orUnknown(res.Commit),
		GoVersion: orUnknown(res.GoVersion),
		Summary:   reports.NewSummary(res),
		NoFigures: p.NoFigures,
	}
	if !res.Complete {
		v.Incomplete = incomplete(res)
	}
	for _, c := range v.Summary.Columns {
		v.Numeric = append(v.Numeric, c.Numeric)
	}
	if res.Spec != nil {
		v.Description = res.Spec.Description
		var b strings.Builder
		enc := yaml.NewEncoder(&b)
		enc.SetIndent(2)
		if err := enc.Encode(res.Spec); err != nil {
			return nil, fmt.Errorf("report page: the scenario %q as YAML: %w", res.Scenario, err)
		}
		if err := enc.Close(); err != nil {
			return nil, fmt.Errorf("report page: the scenario %q as YAML: %w", res.Scenario, err)
		}
		v.YAML = b.String()
	}
	var err error
	if v.Files, v.Figures, err = filesAndFigures("report page", p.Files, p.Figures); err != nil {
		return nil, err
	}
	return v, nil
}

// filesAndFigures checks a page's data files and figures and returns what
// the template shows of them; page names the page in errors.
func filesAndFigures(page string, files []string, figs []Figure) ([]string, []figureView, error) {
	for _, f := range files {
		if err := checkLocal(f); err != nil {
			return nil, nil, fmt.Errorf("%s: data file: %w", page, err)
		}
	}
	var views []figureView
	for _, f := range figs {
		fv, err := newFigureView(f)
		if err != nil {
			return nil, nil, err
		}
		views = append(views, fv)
	}
	return files, views, nil
}

func newFigureView(f Figure) (figureView, error) {
	fv := figureView{Name: f.Name, Title: f.Title, Caption: f.Caption}
	if len(f.Files) == 0 {
		return fv, fmt.Errorf("report page: figure %q has no files", f.Name)
	}
	for _, file := range f.Files {
		if err := checkLocal(file); err != nil {
			return fv, fmt.Errorf("report page: figure %q: %w", f.Name, err)
		}
	}
	// The PNG shows at once in every browser; the SVG is the one to zoom.
	for _, ext := range []string{".png", ".svg"} {
		for _, file := range f.Files {
			if fv.Image == "" && strings.EqualFold(path.Ext(file), ext) {
				fv.Image = file
			}
		}
	}
	if fv.Image == "" {
		return fv, fmt.Errorf("report page: figure %q has no PNG or SVG among %q", f.Name, f.Files)
	}
	fv.Links = f.Files
	return fv, nil
}

// checkLocal refuses a file the page could not find beside itself once
// moved or read offline: a URL, an absolute path, or one that leaves the
// page's directory.
func checkLocal(file string) error {
	if strings.Contains(file, ":") || strings.Contains(file, `\`) || !filepath.IsLocal(file) {
		return fmt.Errorf("file %q: want a path relative to the page's directory, inside it", file)
	}
	return nil
}

// incomplete says what an interrupted document holds: how many
// topologies finished, and where the interrupted one stopped.
func incomplete(res *reports.Results) string {
	finished := 0
	s := ""
	for _, r := range res.Runs {
		if r.Interrupted {
			at := time.Duration(r.SimSeconds * float64(time.Second)).Round(time.Millisecond)
			s = fmt.Sprintf("; %s was stopped at %s of simulated time, and its counts stop there", r.Topology, reports.FormatDuration(at))
			continue
		}
		finished++
	}
	of := ""
	if res.Spec != nil {
		of = fmt.Sprintf(" of %d", len(res.Spec.Topologies))
	}
	return fmt.Sprintf("The run was interrupted: %d%s topologies finished%s.", finished, of, s)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
